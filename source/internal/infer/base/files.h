#pragma once
// Reading and writing the files a user names (models, tokenizers, templates, sessions) as if
// someone hostile had chosen them: only regular files are read, and nothing blocks on a FIFO or
// a device before that is known; a file is replaced only through a synced temporary file, and
// only where a regular file (or nothing) was.
#include <cstdint>
#include <string>
#include <string_view>

namespace infer::base {

// An open descriptor of `path` if it is a regular file, checked without blocking (O_NONBLOCK,
// then fstat). Throws FileError naming `what` ("model", "tokenizer", ...), the path and why.
int open_regular_file(const std::string& path, const char* what);

// The whole content of a regular file of at most `max_bytes` bytes; throws FileError otherwise.
std::string read_regular_file(const std::string& path, const char* what,
                              uint64_t max_bytes = uint64_t{1} << 32);

// Writes `bytes` to `path` by way of a temporary file in the same directory, fsync'd and then
// renamed over `path`, so a reader sees the old or the new file, never a part. Refuses (FileError)
// when `path` exists and is not a regular file: a device, FIFO or directory is never replaced.
void write_file_atomically(const std::string& path, std::string_view bytes, const char* what);

}  // namespace infer::base
