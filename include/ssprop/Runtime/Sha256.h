//===- Sha256.h - SHA-256 for cache keys and checksums ----------*- C++ -*-===//

#ifndef SSPROP_RUNTIME_SHA256_H
#define SSPROP_RUNTIME_SHA256_H

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ssprop {

/// Incremental SHA-256 (FIPS 180-4).
class Sha256 {
public:
  Sha256();
  Sha256 &update(std::string_view data);
  /// The digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> finish();

  /// The lowercase hex digest of `data`.
  static std::string hex(std::string_view data);
  static std::string toHex(const std::array<uint8_t, 32> &digest);

private:
  void compress(const uint8_t *block);

  std::array<uint32_t, 8> state;
  std::array<uint8_t, 64> buffer{};
  uint64_t length = 0;
  size_t buffered = 0;
};

} // namespace ssprop

#endif // SSPROP_RUNTIME_SHA256_H
