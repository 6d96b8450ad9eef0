//===- AtomicFile.cpp - files that are either whole or absent -------------===//

#include "ssprop/Runtime/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace ssprop {
namespace {

/// A name no other process or thread picks: pid, thread and 64 random bits.
std::string getTemporaryPath(const std::string &path) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::ostringstream name;
  name << path << kTemporarySuffix << ::getpid() << "." << std::hex << rng();
  return name.str();
}

std::string describeErrno(const std::string &what, const std::string &path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool writeAll(int fd, const std::string &data) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

/// Flushes the directory holding `path`, so that a rename into it survives a
/// crash. Best effort: some file systems refuse to fsync directories.
void syncParentDirectory(const std::string &path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int fd = ::open(dir.empty() ? "/" : dir.c_str(),
                  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  ::fsync(fd);
  ::close(fd);
}

} // namespace

std::string writeFileAtomically(const std::string &path,
                                const std::string &data, unsigned mode) {
  const std::string temporary = getTemporaryPath(path);
  // O_EXCL | O_NOFOLLOW: never write through a file or link planted there.
  int fd = ::open(temporary.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return describeErrno("cannot create", temporary);
  std::string error;
  if (!writeAll(fd, data))
    error = describeErrno("cannot write", temporary);
  else if (::fsync(fd) != 0)
    error = describeErrno("cannot flush", temporary);
  if (::close(fd) != 0 && error.empty())
    error = describeErrno("cannot close", temporary);
  if (error.empty() && ::rename(temporary.c_str(), path.c_str()) != 0)
    error = describeErrno("cannot rename into", path);
  if (!error.empty()) {
    ::unlink(temporary.c_str());
    return error;
  }
  syncParentDirectory(path);
  return "";
}

} // namespace ssprop
