// A stable 64-bit hash: the same bytes hash to the same value in every
// process and on every run, so hashes may be stored or compared across
// restarts. Not cryptographic.
#ifndef VIGIL_BASE_HASH_H_
#define VIGIL_BASE_HASH_H_

#include <cstddef>
#include <cstdint>
#include "absl/strings/string_view.h"

namespace vigil {

// Hashes `n` bytes, continuing from `seed` (use 0 to start; pass a previous
// result to chain pieces).
uint64_t StableHash(const void* data, size_t n, uint64_t seed);

inline uint64_t StableHash(absl::string_view s, uint64_t seed = 0) {
  return StableHash(s.data(), s.size(), seed);
}

}  // namespace vigil

#endif  // VIGIL_BASE_HASH_H_
