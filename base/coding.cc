#include "base/coding.h"

namespace vigil {

const uint8_t* DecodeUvarint(const uint8_t* p, const uint8_t* end,
                             uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint64_t b = *p++;
    if (shift == 63 && b > 1) return nullptr;  // Overflows 64 bits.
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

uint16_t Decoder::BE16() {
  if (remaining() < 2) {
    Fail();
    return 0;
  }
  uint16_t v = GetBE16(p_);
  p_ += 2;
  return v;
}

uint64_t Decoder::BE64() {
  if (remaining() < 8) {
    Fail();
    return 0;
  }
  uint64_t v = GetBE64(p_);
  p_ += 8;
  return v;
}

uint64_t Decoder::SlowUvarint() {
  uint64_t v = 0;
  const uint8_t* next = DecodeUvarint(p_, end_, &v);
  if (next == nullptr) {
    Fail();
    return 0;
  }
  p_ = next;
  return v;
}

}  // namespace vigil
