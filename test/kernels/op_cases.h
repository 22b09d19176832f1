#pragma once
// Every op at several shapes, runnable on any device through the op layers, with its plain
// reference result. CPU tests compare against the reference; CUDA tests against the CPU.
#include <functional>
#include <string>
#include <vector>

#include "infer/base/device.h"

namespace infer::test {

struct OpCase {
  std::string name;
  std::function<std::vector<float>(base::DeviceType)> run;
  std::function<std::vector<float>()> reference;
  float tolerance;  // max abs difference allowed, relative to max(1, |reference|)
  // What CUDA computes where it rounds differently from the CPU by design (tensor-core GEMMs of
  // half weights take x rounded to the weight's type); when empty, CUDA must match the CPU.
  std::function<std::vector<float>()> cuda_reference = nullptr;
};

const std::vector<OpCase>& all_op_cases();

// Max over i of |a[i] - b[i]| / max(1, |b[i]|); infinity when sizes differ.
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace infer::test
