#pragma once
// Shared by the libFuzzer targets: any input must end in a result or an infer::base::Error (or
// the server's ApiError); anything else that escapes (another exception, a crash, a sanitizer
// report) is a finding. Files the loaders read go to a per-process scratch folder.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "infer/base/error.h"

namespace infer::fuzz {

// A folder of this process's own under $TMPDIR (or /tmp), made on first use.
inline std::string scratch_path(const std::string& name) {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp && *tmp ? tmp : "/tmp") + "/infer_fuzz_" +
                    std::to_string(static_cast<long>(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir + "/" + name;
}

inline void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.flush()) std::abort();  // the harness, not the input, is broken
}

// A setting the target needs (a model or tokenizer path), from the environment.
inline std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    std::fprintf(stderr, "fuzz target: set %s (tools/fuzz.sh does)\n", name);
    std::exit(2);
  }
  return value;
}

// Runs `f`; the errors libinfer documents for bad input end the run quietly.
template <typename F>
void expect_only_documented_errors(F&& f) {
  try {
    f();
  } catch (const infer::base::Error&) {
  }
}

}  // namespace infer::fuzz
