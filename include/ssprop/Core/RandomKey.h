//===- RandomKey.h - the random selection's channel keys --------*- C++ -*-===//
//
// `select = random` keeps the k channels with the largest keys, a
// splitmix64 hash of (seed, channel): the first k entries of a random
// permutation. The CUDA prelude's `random_key` and the CPU emitter compute
// this function (the CPU emitter from these constants).
//
//===----------------------------------------------------------------------===//

#ifndef SSPROP_CORE_RANDOMKEY_H
#define SSPROP_CORE_RANDOMKEY_H

#include <cstdint>

namespace ssprop {

constexpr uint64_t kRandomKeyIncrement = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kRandomKeyMultiplier1 = 0xBF58476D1CE4E5B9ull;
constexpr uint64_t kRandomKeyMultiplier2 = 0x94D049BB133111EBull;

/// The key of `channel` for `seed`: the upper half of splitmix64's finaliser
/// of seed + increment * (channel + 1).
constexpr uint32_t getRandomKey(uint64_t seed, int64_t channel) {
  uint64_t z = seed + kRandomKeyIncrement * static_cast<uint64_t>(channel + 1);
  z = (z ^ (z >> 30)) * kRandomKeyMultiplier1;
  z = (z ^ (z >> 27)) * kRandomKeyMultiplier2;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

} // namespace ssprop

#endif // SSPROP_CORE_RANDOMKEY_H
