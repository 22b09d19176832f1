#include "test_data.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace infer::test {

namespace {
// The environment's value of `name`, else the build's default: the test binaries also run from
// a bundle on another machine (tools/gpu_bundle.sh), where the build's paths do not exist.
std::string setting(const char* name, const char* build_default) {
  const char* env = std::getenv(name);
  return env && *env ? env : build_default;
}
}  // namespace

std::string shared_data_dir() { return setting("INFER_TEST_DATA", INFER_DEFAULT_TEST_DATA); }

std::string exported_model_dir() { return setting("INFER_TEST_MODEL_DIR", INFER_TEST_MODEL_DIR); }

std::string golden_file_path(const std::string& file) {
  const std::string prefix = "exported:";
  return file.rfind(prefix, 0) == 0 ? exported_model_dir() + "/" + file.substr(prefix.size())
                                    : shared_data_dir() + "/" + file;
}

std::string golden_dir() { return setting("INFER_GOLDEN_DIR", INFER_GOLDEN_DIR); }

bool file_exists(const std::string& path) { return std::filesystem::is_regular_file(path); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

namespace {

// One folder per test process, removed with everything in it when the process exits.
class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("infer_test_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::string temp_path(const std::string& name) {
  static TempDir dir;
  static std::atomic<int> counter{0};
  return (dir.path() / (std::to_string(counter++) + "_" + name)).string();
}

}  // namespace infer::test
