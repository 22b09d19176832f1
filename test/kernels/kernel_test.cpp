// Each op on the CPU against its plain reference, and on CUDA against the CPU.
#include <gtest/gtest.h>

#include "infer/base/cpu_isa.h"
#include "infer/base/device.h"
#include "infer/base/error.h"
#include "op_cases.h"

namespace infer::test {
namespace {

class OpTest : public ::testing::TestWithParam<size_t> {
 protected:
  const OpCase& op_case() const { return all_op_cases()[GetParam()]; }
};

TEST_P(OpTest, CpuMatchesReference) {
  // Every instruction-set path this CPU can run (INFER_ISA picks one for whole-model tests).
  const base::CpuIsa chosen = base::cpu_isa();
  const OpCase& c = op_case();
  for (base::CpuIsa isa : base::kAllIsas) {
    if (!base::isa_supported(isa)) continue;
    base::set_cpu_isa(isa);
    EXPECT_LE(max_rel_diff(c.run(base::DeviceType::kCPU), c.reference()), c.tolerance)
        << c.name << " on " << base::isa_name(isa);
  }
  base::set_cpu_isa(chosen);
}

TEST_P(OpTest, CudaMatchesCpu) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const OpCase& c = op_case();
  // Every op has CUDA kernels for every dtype it has on the CPU: a missing one fails here.
  const std::vector<float> on_gpu = c.run(base::DeviceType::kCUDA);
  if (c.cuda_reference) {
    EXPECT_LE(max_rel_diff(on_gpu, c.cuda_reference()), c.tolerance) << c.name;
    return;
  }
  // CUDA accumulates in another order than the CPU, so allow the reference tolerance plus a bit.
  EXPECT_LE(max_rel_diff(on_gpu, c.run(base::DeviceType::kCPU)), c.tolerance + 1e-5) << c.name;
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpTest, ::testing::Range<size_t>(0, all_op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return all_op_cases()[info.param].name;
                         });

}  // namespace
}  // namespace infer::test
