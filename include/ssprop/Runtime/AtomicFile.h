//===- AtomicFile.h - files that are either whole or absent -----*- C++ -*-===//
//
// The one way ssprop writes a file it keeps (kernel cache entries, the timing
// cache): a temporary file with a name no other process or thread can choose,
// created exclusively, written, flushed to the disk, renamed over the target
// and the directory flushed too. Readers see the old file, the new file, or
// none, never a part; a crash leaves only a temporary file behind.
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_RUNTIME_ATOMICFILE_H
#define SSPROP_RUNTIME_ATOMICFILE_H

#include <string>

namespace ssprop {

/// The suffix that marks ssprop's temporary files: `<target><suffix>.<random>`.
inline constexpr const char *kTemporarySuffix = ".tmp.";

/// Writes `data` to `path` atomically (see above), with permissions `mode`.
/// Returns an empty string on success, else what failed (the temporary file
/// is removed).
std::string writeFileAtomically(const std::string &path,
                                const std::string &data, unsigned mode = 0644);

} // namespace ssprop

#endif // SSPROP_RUNTIME_ATOMICFILE_H
