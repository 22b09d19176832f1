// Read bandwidth of this machine with libinfer's thread pool, the reference that decode speed is
// quoted against.
//   build/bench/membw [--threads N] [--mib 1024] [--passes 7]
#include <gflags/gflags.h>

#include <cstdio>

#include "infer/base/threads.h"
#include "membw.h"

DEFINE_int32(threads, 0, "threads (0 = all cores)");
DEFINE_int64(mib, 1024, "array size in MiB");
DEFINE_int32(passes, 7, "passes over the array; the median is reported");

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  infer::base::set_num_threads(FLAGS_threads);
  const auto bw = infer::bench::measure_read_bandwidth(FLAGS_mib << 20, FLAGS_passes);
  std::printf(
      "{\"threads\": %d, \"bytes\": %lld, \"passes\": %d, \"read_gb_per_s_median\": %.2f, "
      "\"read_gb_per_s_best\": %.2f}\n",
      infer::base::num_threads(), static_cast<long long>(bw.bytes), bw.passes, bw.median_gb_per_s,
      bw.best_gb_per_s);
  return 0;
}
