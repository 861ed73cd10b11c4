#include "base/utf8.h"

namespace vigil {
namespace {

constexpr uint32_t kContinuationMask = 0x3F;
constexpr uint32_t kContinuationTag = 0x80;

bool IsContinuation(uint8_t b) { return (b & 0xC0) == kContinuationTag; }

}  // namespace

size_t DecodeValidRune(absl::string_view s, size_t i, uint32_t* rune) {
  *rune = kRuneError;
  if (i >= s.size()) return 0;
  const auto lead = static_cast<uint8_t>(s[i]);
  if (lead < 0x80) {
    *rune = lead;
    return 1;
  }
  // Width, payload bits of the lead byte and the smallest code point that
  // needs this width (anything below is an overlong form).
  size_t width;
  uint32_t r;
  uint32_t min;
  if ((lead & 0xE0) == 0xC0) {
    width = 2, r = lead & 0x1Fu, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    width = 3, r = lead & 0x0Fu, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    width = 4, r = lead & 0x07u, min = 0x10000;
  } else {
    return 0;  // A continuation byte or 0xF8..0xFF.
  }
  if (s.size() - i < width) return 0;
  for (size_t k = 1; k < width; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (!IsContinuation(b)) return 0;
    r = (r << 6) | (b & kContinuationMask);
  }
  if (r < min || !ValidRune(r)) return 0;
  *rune = r;
  return width;
}

size_t DecodeRune(absl::string_view s, size_t i, uint32_t* rune) {
  const size_t width = DecodeValidRune(s, i, rune);
  if (width == 0 && i < s.size()) return 1;  // *rune is kRuneError.
  return width;
}

void AppendRune(uint32_t r, std::string* out) {
  if (!ValidRune(r)) r = kRuneError;
  auto cont = [](uint32_t bits) {
    return static_cast<char>(kContinuationTag | (bits & kContinuationMask));
  };
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    const char bytes[] = {static_cast<char>(0xC0 | (r >> 6)), cont(r)};
    out->append(bytes, sizeof(bytes));
  } else if (r < 0x10000) {
    const char bytes[] = {static_cast<char>(0xE0 | (r >> 12)), cont(r >> 6),
                          cont(r)};
    out->append(bytes, sizeof(bytes));
  } else {
    const char bytes[] = {static_cast<char>(0xF0 | (r >> 18)), cont(r >> 12),
                          cont(r >> 6), cont(r)};
    out->append(bytes, sizeof(bytes));
  }
}

}  // namespace vigil
