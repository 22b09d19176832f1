#pragma once
// A read-only memory map of a whole file, so weights are used in place and start-up is instant.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace infer::base {

class MappedFile {
 public:
  // Maps a regular file (anything else is refused without blocking); throws FileError naming
  // `what` ("model"), the path and the OS error.
  static std::shared_ptr<const MappedFile> open(const std::string& path, const char* what = "file");
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Drops the pages read so far from this process (they are read again from the page cache, or
  // the file, when next touched): for weights that have been copied elsewhere.
  void release_pages() const;

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size);
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace infer::base
