//===- TrustedFiles.cpp - the cache's trust model -------------------------===//

#include "ssprop/Runtime/TrustedFiles.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ssprop {
namespace {

std::string describeErrno(const std::string &what, const std::string &path) {
  return what + " " + path + ": " + std::strerror(errno);
}

/// Why `info` (of `path`) is not owned by us alone, or empty.
std::string checkOwnership(const struct stat &info, const std::string &path) {
  if (info.st_uid != ::geteuid())
    return path + " is owned by another user (uid " +
           std::to_string(info.st_uid) + ")";
  if (info.st_mode & (S_IWGRP | S_IWOTH))
    return path + " is writable by other users";
  return "";
}

/// Creates `path`'s missing parents and `path` itself, each with 0700.
bool makeDirectories(const std::string &path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1))
    if (::mkdir(path.substr(0, slash).c_str(), 0700) != 0 && errno != EEXIST)
      return false;
  return ::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST;
}

} // namespace

std::string checkPrivateDirectory(const std::string &path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0)
    return describeErrno("cannot inspect", path);
  if (S_ISLNK(info.st_mode))
    return path + " is a symbolic link";
  if (!S_ISDIR(info.st_mode))
    return path + " is not a directory";
  return checkOwnership(info, path);
}

std::string makePrivateDirectory(const std::string &path) {
  if (!makeDirectories(path))
    return describeErrno("cannot create", path);
  return checkPrivateDirectory(path);
}

std::optional<std::string> choosePrivateDirectory(const std::string &requested,
                                                  std::string *why) {
  std::string problem = makePrivateDirectory(requested);
  if (problem.empty())
    return requested;
  struct stat info;
  const bool shared = ::lstat(requested.c_str(), &info) == 0 &&
                      S_ISDIR(info.st_mode) &&
                      (info.st_mode & (S_IWGRP | S_IWOTH));
  if (shared) {
    const std::string own =
        requested + "/ssprop-" + std::to_string(::geteuid());
    if (::mkdir(own.c_str(), 0700) == 0 || errno == EEXIST) {
      std::string ownProblem = checkPrivateDirectory(own);
      if (ownProblem.empty())
        return own;
      problem += "; " + ownProblem;
    }
  }
  *why = problem;
  return std::nullopt;
}

std::optional<std::string> readTrustedFile(const std::string &path,
                                           int64_t maxBytes, std::string *why) {
  why->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      *why = errno == ELOOP ? path + " is a symbolic link"
                            : describeErrno("cannot open", path);
    return std::nullopt;
  }
  struct stat info;
  std::string content;
  if (::fstat(fd, &info) != 0)
    *why = describeErrno("cannot inspect", path);
  else if (!S_ISREG(info.st_mode))
    *why = path + " is not a regular file";
  else if (info.st_size > maxBytes)
    *why = path + " is larger than " + std::to_string(maxBytes) + " bytes";
  else
    *why = checkOwnership(info, path);
  if (why->empty()) {
    content.resize(static_cast<size_t>(info.st_size));
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::read(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += static_cast<size_t>(n);
    }
    if (done != content.size())
      *why = path + " changed while it was read";
  }
  ::close(fd);
  if (!why->empty())
    return std::nullopt;
  return content;
}

bool isOwnRegularFile(const std::string &path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         info.st_uid == ::geteuid();
}

} // namespace ssprop
