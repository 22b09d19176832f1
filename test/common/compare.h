#pragma once
// Numeric comparisons shared by the model tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace infer::test {

// Largest |a[i] - b[i]|; a size mismatch is reported as a test failure.
inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

}  // namespace infer::test
