#pragma once
// Where tests find data: the shared folder (INFER_TEST_DATA, default ../shared beside the
// checkout), the models exported from it by the ctest fixture, and the committed goldens.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace infer::test {

// $INFER_TEST_DATA, or the default compiled in by CMake.
std::string shared_data_dir();
// The folder where the export fixture writes models (e.g. story.bin); $INFER_TEST_MODEL_DIR
// overrides it.
std::string exported_model_dir();
// test/data in the source tree (committed goldens); $INFER_GOLDEN_DIR overrides it.
std::string golden_dir();
bool file_exists(const std::string& path);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
// A unique path for a scratch file in this process's folder under the system temp folder; the
// folder goes when the process exits.
std::string temp_path(const std::string& name);
// A data file named in a golden: "exported:REL" lies in exported_model_dir() (written by the
// ctest fixture), anything else in shared_data_dir().
std::string golden_file_path(const std::string& file);

// gtest parameter names must be alphanumeric: "tiny-llama3" -> "tiny_llama3".
struct ParamName {
  template <typename Info>
  std::string operator()(const Info& info) const {
    std::string name = info.param;
    for (char& ch : name)
      if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return name;
  }
};

}  // namespace infer::test

// Skips the current test, saying what is missing and how to provide it.
#define INFER_SKIP_UNLESS_FILE(path)                                                   \
  do {                                                                                 \
    if (!::infer::test::file_exists(path)) {                                           \
      GTEST_SKIP() << "test data not found: " << (path)                                \
                   << " (set INFER_TEST_DATA to the shared folder and run the export " \
                      "fixture via ctest)";                                            \
    }                                                                                  \
  } while (0)
