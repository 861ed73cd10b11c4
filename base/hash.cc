#include "base/hash.h"

#include <cstring>

namespace vigil {
namespace {

constexpr uint64_t kMul1 = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kMul2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kMul3 = 0x165667B19E3779F9ULL;

inline uint64_t Mix(uint64_t a, uint64_t b) {
  // 64x64 -> 128 multiply, folded: cheap and well distributed.
  __uint128_t r = static_cast<__uint128_t>(a ^ kMul1) * (b ^ kMul2);
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

uint64_t StableHash(const void* data, size_t n, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = seed ^ (n * kMul3);
  while (n >= 16) {
    h = Mix(Load64(p) ^ h, Load64(p + 8) ^ kMul3);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = Load64(p);
    b = Load64(p + n - 8);
  } else if (n > 0) {
    uint8_t tmp[8] = {0};
    std::memcpy(tmp, p, n);
    a = Load64(tmp);
    b = n;
  }
  return Mix(Mix(a ^ h, b ^ kMul1), h ^ kMul2);
}

}  // namespace vigil
