// UTF-8 decoding and encoding with Go's unicode/utf8 semantics, for code
// whose output must match Prometheus byte for byte (relabeling, templates,
// Go string quoting) and for parsers that emit code points.
#ifndef VIGIL_BASE_UTF8_H_
#define VIGIL_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace vigil {

// Go's utf8.RuneError: what an invalid sequence decodes to.
constexpr uint32_t kRuneError = 0xFFFD;
// Go's utf8.MaxRune: the largest Unicode code point.
constexpr uint32_t kMaxRune = 0x10FFFF;
// Go's utf8.UTFMax: the longest encoding of a code point.
constexpr size_t kUtfMax = 4;

// Go's utf8.ValidRune: true for code points up to kMaxRune other than the
// surrogates U+D800..U+DFFF.
constexpr bool ValidRune(uint32_t r) {
  return r <= kMaxRune && (r < 0xD800 || r > 0xDFFF);
}

// Decodes the code point starting at s[i] as Go's
// utf8.DecodeRuneInString(s[i:]) does. Returns its width in bytes, at
// least 1 when i < s.size(). An invalid sequence (a stray continuation
// byte, a bad lead byte, a truncated sequence, an overlong form, a
// surrogate or a value above kMaxRune) sets *rune to kRuneError and
// returns 1, so that the caller steps over one byte. When i >= s.size(),
// sets *rune to kRuneError and returns 0.
//
// A correctly encoded U+FFFD also yields kRuneError, with width 3; callers
// that must tell it from an error use DecodeValidRune.
size_t DecodeRune(absl::string_view s, size_t i, uint32_t* rune);

// Like DecodeRune, but returns 0 (and sets *rune to kRuneError) when the
// bytes at s[i] are not a valid encoding or i >= s.size(). A nonzero
// result is the same as DecodeRune's.
size_t DecodeValidRune(absl::string_view s, size_t i, uint32_t* rune);

// Appends the UTF-8 encoding of `r`, as Go's utf8.AppendRune: a rune that
// is not ValidRune is written as kRuneError.
void AppendRune(uint32_t r, std::string* out);

}  // namespace vigil

#endif  // VIGIL_BASE_UTF8_H_
