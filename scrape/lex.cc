#include "scrape/lex.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/labels.h"
#include "model/value.h"

namespace vigil::scrape::lex {

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & 0x8080808080808080ULL) != 0)
      return model::IsValidUtf8(s.substr(i));
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) {
      return model::IsValidUtf8(s.substr(i));
    }
  }
  return true;
}

void AppendUnescaped(absl::string_view raw, bool quote_escape,
                     std::string* out) {
  size_t i = 0;
  while (i < raw.size()) {
    const size_t bs = raw.find('\\', i);
    if (bs == absl::string_view::npos || bs + 1 == raw.size()) {
      out->append(raw.data() + i, raw.size() - i);
      return;
    }
    out->append(raw.data() + i, bs - i);
    const char next = raw[bs + 1];
    if (next == '\\') {
      out->push_back('\\');
    } else if (next == 'n') {
      out->push_back('\n');
    } else if (next == '"' && quote_escape) {
      out->push_back('"');
    } else {
      // An unknown escape stays as written: keep the backslash and read
      // the next character as ordinary text.
      out->push_back('\\');
      i = bs + 1;
      continue;
    }
    i = bs + 2;
  }
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Go's math.NaN().
double GoNaN() { return std::bit_cast<double>(model::kNormalNaNBits); }

// Prometheus refuses these before asking Go: hex floats ('p' exponents)
// and '_' digit separators, which Go 1.13 added.
bool HasGo113Chars(absl::string_view s) {
  return s.find_first_of("pP_") != absl::string_view::npos;
}

NumberError Invalid(absl::string_view s) {
  return HasGo113Chars(s) ? NumberError::kUnsupported : NumberError::kSyntax;
}

// Powers of ten that a double holds exactly.
constexpr double kExactPow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int kMaxExactPow10 = 22;
constexpr uint64_t kMaxExactMantissa = uint64_t{1} << 53;
constexpr int kMaxMantissaDigits = 19;  // Fit in a uint64.

}  // namespace

NumberError ParseFloat(absl::string_view s, double* out) {
  const size_t n = s.size();
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i == n) return Invalid(s);
  const char lower = static_cast<char>(s[i] | 0x20);
  if (lower == 'i') {
    const absl::string_view rest = s.substr(i);
    if (absl::EqualsIgnoreCase(rest, "inf") ||
        absl::EqualsIgnoreCase(rest, "infinity")) {
      *out = neg ? -std::numeric_limits<double>::infinity()
                 : std::numeric_limits<double>::infinity();
      return NumberError::kNone;
    }
    return Invalid(s);
  }
  if (lower == 'n') {
    // Go takes no sign before NaN.
    if (i != 0 || !absl::EqualsIgnoreCase(s, "nan")) return Invalid(s);
    *out = GoNaN();
    return NumberError::kNone;
  }

  // [digits] [. [digits]] with at least one digit, then [e [sign] digits].
  // The significant digits collect in `mantissa` while they fit.
  const size_t start = i;
  size_t int_digits = 0;
  size_t frac_digits = 0;
  uint64_t mantissa = 0;
  int mantissa_digits = 0;
  bool truncated = false;
  auto take = [&](char c) {
    if (mantissa == 0 && c == '0') return;
    if (mantissa_digits < kMaxMantissaDigits) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
      ++mantissa_digits;
    } else {
      truncated = true;
    }
  };
  while (i < n && IsDigit(s[i])) take(s[i++]), ++int_digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && IsDigit(s[i])) take(s[i++]), ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return Invalid(s);
  int64_t exp = 0;
  if (i < n && (s[i] | 0x20) == 'e') {
    ++i;
    bool exp_neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
      exp_neg = s[i] == '-';
      ++i;
    }
    if (i == n || !IsDigit(s[i])) return Invalid(s);
    constexpr int64_t kExpCap = 1000000;  // Far beyond any double.
    while (i < n && IsDigit(s[i])) {
      if (exp < kExpCap) exp = exp * 10 + (s[i] - '0');
      ++i;
    }
    if (exp_neg) exp = -exp;
  }
  if (i != n) return Invalid(s);

  if (mantissa == 0) {
    *out = neg ? -0.0 : 0.0;
    return NumberError::kNone;
  }
  // Clinger's fast path: an exact mantissa times or over an exact power of
  // ten is one correctly rounded operation. Most exposed values take it.
  const int64_t exp10 = exp - static_cast<int64_t>(frac_digits);
  if (!truncated && mantissa <= kMaxExactMantissa && exp10 >= -kMaxExactPow10 &&
      exp10 <= kMaxExactPow10) {
    const double m = static_cast<double>(mantissa);
    const double v =
        exp10 >= 0 ? m * kExactPow10[exp10] : m / kExactPow10[-exp10];
    *out = neg ? -v : v;
    return NumberError::kNone;
  }

  // from_chars takes a '-' but no '+'.
  const char* first = s.data() + (neg ? start - 1 : start);
  const char* last = s.data() + n;
  double v = 0;
  const std::from_chars_result r =
      std::from_chars(first, last, v, std::chars_format::general);
  if (r.ec == std::errc() && r.ptr == last) {
    *out = v;
    return NumberError::kNone;
  }
  if (r.ec != std::errc::result_out_of_range) return NumberError::kSyntax;
  // Out of range is an error for overflow only; Go rounds an underflow to
  // zero. The decimal exponent of the first significant digit tells which.
  int64_t magnitude = 0;
  bool found = false;
  for (size_t k = 0; k < int_digits && !found; ++k) {
    if (s[start + k] != '0') {
      magnitude = static_cast<int64_t>(int_digits - 1 - k);
      found = true;
    }
  }
  for (size_t k = 0; k < frac_digits && !found; ++k) {
    if (s[start + int_digits + 1 + k] != '0') {
      magnitude = -static_cast<int64_t>(k + 1);
      found = true;
    }
  }
  if (found && magnitude + exp >= 0) return NumberError::kRange;
  *out = neg ? -0.0 : 0.0;
  return NumberError::kNone;
}

bool ParseDigits(absl::string_view digits, int64_t* out) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t v = 0;
  for (char c : digits) {
    const int d = c - '0';
    if (v > (kMax - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

int64_t SecondsToMillis(double seconds) {
  const double ms = seconds * 1000.0;
  // 2^63: the first double above the int64 range.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!(ms >= -kTwo63 && ms < kTwo63)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(ms);
}

std::string GoQuote(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    // Keep a whole valid UTF-8 sequence; escape a stray byte.
    const size_t len = (c & 0xE0) == 0xC0   ? 2
                       : (c & 0xF0) == 0xE0 ? 3
                       : (c & 0xF8) == 0xF0 ? 4
                                            : 1;
    if (len > 1 && i + len <= s.size() &&
        model::IsValidUtf8(s.substr(i, len))) {
      out.append(s.data() + i, len);
      i += len - 1;
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  out.push_back('"');
  return out;
}

std::string GotText(absl::string_view body, size_t pos) {
  if (pos >= body.size()) return "end of input";
  constexpr size_t kMaxToken = 40;
  auto delimiter = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '{' || c == '}' ||
           c == ',' || c == '=' || c == '"';
  };
  size_t end = pos + 1;
  if (!delimiter(body[pos])) {
    while (end < body.size() && end - pos < kMaxToken &&
           !delimiter(body[end])) {
      ++end;
    }
  }
  return GoQuote(body.substr(pos, end - pos));
}

absl::Status LineError(int64_t line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", message));
}

}  // namespace vigil::scrape::lex
