#include "infer/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "infer/base/error.h"

namespace infer::base {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

FileError os_error(const std::string& path, const char* what, const char* action, int err) {
  return FileError(path + ": cannot " + action + " the " + what + ": " + std::strerror(err));
}

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

int open_regular_file(const std::string& path, const char* what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) throw os_error(path, what, "open", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw os_error(path, what, "stat", errno);
  if (!S_ISREG(st.st_mode)) {
    throw FileError(path + ": the " + what + " must be a regular file, and this is " +
                    kind_of(st.st_mode));
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
    throw os_error(path, what, "open", errno);
  return fd.release();
}

std::string read_regular_file(const std::string& path, const char* what, uint64_t max_bytes) {
  Descriptor fd(open_regular_file(path, what));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw os_error(path, what, "stat", errno);
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    throw FileError(path + ": the " + what + " is " + std::to_string(size) +
                    " bytes, more than the " + std::to_string(max_bytes) + " this reader accepts");
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw os_error(path, what, "read", errno);
    if (got == 0) break;  // the file shrank while being read
    done += static_cast<size_t>(got);
  }
  bytes.resize(done);
  return bytes;
}

void write_file_atomically(const std::string& path, std::string_view bytes, const char* what) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw FileError(path + ": will not write the " + what + " there: it is " + kind_of(st.st_mode) +
                    ", not a regular file");
  }
  std::string temp = path + ".partial.XXXXXX";
  Descriptor fd(::mkstemp(temp.data()));
  if (fd.get() < 0) throw os_error(path, what, "write", errno);
  const auto fail = [&](int err) {
    ::unlink(temp.c_str());
    return os_error(path, what, "write", err);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) throw fail(errno);
    done += static_cast<size_t>(put);
  }
  // mkstemp makes the file 0600; a saved file is as readable as any the user writes.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd.get(), 0666 & ~mask) != 0 || ::fsync(fd.get()) != 0) throw fail(errno);
  if (::close(fd.release()) != 0) throw fail(errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) throw fail(errno);
}

}  // namespace infer::base
