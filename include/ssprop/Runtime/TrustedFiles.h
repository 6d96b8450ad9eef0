//===- TrustedFiles.h - the cache's trust model -------------------*- C++
//-*-===//
//
// ssprop trusts on disk only what it wrote: files and directories owned by
// the current user, writable by no one else, reached without following
// symbolic links, and of the shape its writers give them. Every cache read,
// directory creation and deletion goes through these checks, so that another
// local user can neither plant a kernel that ssprop would load nor make it
// delete or overwrite files it did not create (docs/runtime.md, "Trust").
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_TRUSTEDFILES_H
#define SSPROP_RUNTIME_TRUSTEDFILES_H

#include <cstdint>
#include <optional>
#include <string>

namespace ssprop {

/// Why `path` is not a private directory (empty when it is): it must be a
/// directory itself (not a link to one), owned by the current user and
/// writable by no one else.
std::string checkPrivateDirectory(const std::string &path);

/// Creates `path` (and missing parents) with mode 0700 and checks it with
/// checkPrivateDirectory; returns why it cannot be used, or empty.
std::string makePrivateDirectory(const std::string &path);

/// The cache directory to use for `requested`: itself when it is (or can be
/// made) private; else, where `requested` is a directory others may write
/// (a shared /tmp-like folder), a private `ssprop-<uid>` folder inside it;
/// else std::nullopt, with the reason in `why`.
std::optional<std::string> choosePrivateDirectory(const std::string &requested,
                                                  std::string *why);

/// The content of `path` when it is a regular file owned by the current user,
/// writable by no one else, and at most `maxBytes` long; opened without
/// following links or blocking (a FIFO is refused, not waited on).
/// std::nullopt when it is missing or untrusted, with the reason in `why`
/// (empty when the file simply does not exist).
std::optional<std::string> readTrustedFile(const std::string &path,
                                           int64_t maxBytes, std::string *why);

/// Whether `path` is a regular file (not a link) owned by the current user:
/// the files ssprop may delete (evict, or discard when damaged).
bool isOwnRegularFile(const std::string &path);

} // namespace ssprop

#endif // SSPROP_RUNTIME_TRUSTEDFILES_H
