#include "base/goformat.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/utf8.h"

namespace vigil {

char* FormatGoFixed(double v, char* out, char* end) {
  // Try k = 0, 1, ... decimals: m = round(v * 10^k) is the answer when
  // m / 10^k (both exact, so the division is correctly rounded, as a parser
  // reading the digits is) gives v back. While |m| < 2^50 a double's
  // rounding interval is under a quarter of 10^-k, so at most one k-decimal
  // number lies in it, and a shorter one would have been found at a
  // smaller k: these are exactly the shortest round-trip digits.
  static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  static constexpr double kLimit = 1125899906842624.0;  // 2^50
  const double a = std::fabs(v);
  if (a < kLimit) {
    for (int k = 0; k <= 8; ++k) {
      const double scaled = a * kPow10[k];
      if (scaled >= kLimit) break;
      // Truncation of scaled + 0.5 (cheaper than nearbyint); a k that can
      // work has scaled within a few ulps of m, so the distance test only
      // skips the exact division where it would fail anyway.
      const auto m = static_cast<double>(static_cast<int64_t>(scaled + 0.5));
      if (std::fabs(scaled - m) > scaled * 1e-15 + 1e-300) continue;
      if (m / kPow10[k] != a) continue;
      const auto im = static_cast<uint64_t>(m);
      char* w = out;
      if (std::signbit(v)) *w++ = '-';
      const auto p10 = static_cast<uint64_t>(kPow10[k]);
      w = std::to_chars(w, end, im / p10).ptr;
      if (k > 0) {
        *w++ = '.';
        uint64_t frac = im % p10;
        for (int i = k - 1; i >= 0; --i) {
          w[i] = static_cast<char>('0' + frac % 10);
          frac /= 10;
        }
        w += k;
      }
      return w;
    }
  }
  // Go's general case: the shortest round-trip digits (as the scientific
  // form gives them), laid out without an exponent. (std::to_chars's fixed
  // form differs for integers past 2^53: it prints their exact digits, Go
  // pads the shortest ones with zeros.)
  char sci[32];
  const auto r = std::to_chars(sci, sci + sizeof(sci), a, std::chars_format::scientific);
  const char* e = std::find(sci, r.ptr, 'e');
  int exp = 0;
  std::from_chars(e + 1 + (e[1] == '+'), r.ptr, exp);
  char digits[32];
  int n = 0;
  for (const char* p = sci; p < e; ++p) {
    if (*p != '.') digits[n++] = *p;
  }
  char* w = out;
  if (std::signbit(v)) *w++ = '-';
  const int point = exp + 1;  // Digits before the decimal point.
  if (point <= 0) {
    *w++ = '0';
    *w++ = '.';
    w = std::fill_n(w, -point, '0');
    return std::copy(digits, digits + n, w);
  }
  if (point >= n) {
    w = std::copy(digits, digits + n, w);
    return std::fill_n(w, point - n, '0');
  }
  w = std::copy(digits, digits + point, w);
  *w++ = '.';
  return std::copy(digits + point, digits + n, w);
}

void AppendGoFloat(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]x.
  char buf[64];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  const char* end = r.ptr;
  const char* e = static_cast<const char*>(std::memchr(buf, 'e', static_cast<size_t>(end - buf)));
  // to_chars does not NUL-terminate: parse the exponent within [e+1, end).
  int exp = 0;
  const char* q = e + 1;
  if (*q == '+') ++q;
  std::from_chars(q, end, exp);
  const char* p = buf;
  if (*p == '-') out->push_back(*p++);
  // Mantissa digits without the point.
  std::string digits;
  for (const char* d = p; d < e; ++d) {
    if (*d != '.') digits.push_back(*d);
  }
  if (exp < -4 || exp >= 6) {
    out->push_back(digits[0]);
    if (digits.size() > 1) {
      out->push_back('.');
      out->append(digits, 1, std::string::npos);
    }
    out->push_back('e');
    out->push_back(exp < 0 ? '-' : '+');
    const int a = std::abs(exp);
    if (a < 10) out->push_back('0');
    out->append(std::to_string(a));
    return;
  }
  if (exp < 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-exp - 1), '0');
    out->append(digits);
    return;
  }
  const size_t int_digits = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_digits) {
    out->append(digits);
    out->append(int_digits - digits.size(), '0');
    return;
  }
  out->append(digits, 0, int_digits);
  out->push_back('.');
  out->append(digits, int_digits, std::string::npos);
}

namespace {

// Go's unicode.IsPrint for the code points that matter in label values:
// not C1 controls, not space separators other than ' ', not format
// characters, not private use or noncharacters.
bool IsPrintRune(uint32_t r) {
  if (r < 0x20 || r == 0x7f) return false;
  if (r < 0x7f) return true;
  if (r <= 0xa0 || r == 0xad) return false;
  if (r == 0x1680 || (r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) ||
      (r >= 0x205f && r <= 0x206f) || r == 0x3000 || r == 0xfeff ||
      (r >= 0xfff9 && r <= 0xfffb)) {
    return false;
  }
  if ((r >= 0xe000 && r <= 0xf8ff) || r >= 0xf0000) return false;  // Private use.
  if ((r & 0xfffe) == 0xfffe) return false;                         // Noncharacters.
  if (r >= 0xfdd0 && r <= 0xfdef) return false;
  return true;
}

constexpr char kHex[] = "0123456789abcdef";

void AppendHex(uint32_t v, int digits, std::string* out) {
  for (int k = digits - 1; k >= 0; --k) out->push_back(kHex[(v >> (4 * k)) & 0xf]);
}

}  // namespace

void AppendGoQuoted(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint32_t r = 0;
    const size_t n = DecodeValidRune(s, i, &r);
    if (n == 0) {  // Go quotes an invalid byte, not a valid U+FFFD, as \xNN.
      out->append("\\x");
      AppendHex(static_cast<uint8_t>(s[i]), 2, out);
      ++i;
      continue;
    }
    switch (r) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\a': out->append("\\a"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\v': out->append("\\v"); break;
      default:
        if (IsPrintRune(r)) {
          out->append(s.data() + i, n);
        } else if (r < 0x20 || r == 0x7f) {
          out->append("\\x");
          AppendHex(r, 2, out);
        } else if (r < 0x10000) {
          out->append("\\u");
          AppendHex(r, 4, out);
        } else {
          out->append("\\U");
          AppendHex(r, 8, out);
        }
    }
    i += n;
  }
  out->push_back('"');
}

}  // namespace vigil
