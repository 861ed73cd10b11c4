#include "rules/template_strconv.h"

#include <locale.h>
#include <stdlib.h>
#include <wctype.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/goformat.h"

namespace vigil::rules::tmpl {
namespace {

// The "C" locale for strtod, independent of the process's locale.
locale_t CLocale() {
  static const locale_t loc = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return loc;
}

// A UTF-8 locale for the C library's Unicode tables; null when missing.
locale_t Utf8Locale() {
  static const locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (l == nullptr) l = newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(nullptr));
    return l;
  }();
  return loc;
}

char Lower(char c) { return absl::ascii_tolower(static_cast<unsigned char>(c)); }

bool IsDecimal(char c) { return c >= '0' && c <= '9'; }

bool IsHexDigit(char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }

// Go's rule for '_' in number literals: only between digits (a base
// prefix counts as a digit).
bool UnderscoreOk(absl::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if (IsDecimal(s[i]) || (hex && IsHexDigit(s[i]))) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

size_t CommonPrefixIgnoreCase(absl::string_view s, absl::string_view prefix) {
  size_t n = 0;
  while (n < s.size() && n < prefix.size() && Lower(s[n]) == prefix[n]) ++n;
  return n;
}

enum class ParseError { kNone, kSyntax, kRange };

// Go's float syntax check and conversion; `*err` tells syntax and range
// failures apart.
double ParseFloatImpl(absl::string_view s, ParseError* err) {
  *err = ParseError::kSyntax;
  if (s.empty()) return 0;
  // Infinity and NaN, case-insensitive; only infinities take a sign.
  {
    absl::string_view t = s;
    double sign = 1;
    bool signed_ = false;
    if (t[0] == '+' || t[0] == '-') {
      sign = t[0] == '-' ? -1 : 1;
      signed_ = true;
      t.remove_prefix(1);
    }
    size_t n = CommonPrefixIgnoreCase(t, "infinity");
    if ((n == 3 || n == 8) && n == t.size()) {
      *err = ParseError::kNone;
      return sign * std::numeric_limits<double>::infinity();
    }
    if (!signed_ && t.size() == 3 && CommonPrefixIgnoreCase(t, "nan") == 3) {
      *err = ParseError::kNone;
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  bool hex = false;
  if (i + 1 < s.size() && s[i] == '0' && Lower(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  bool digits = false, dot = false, underscores = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (dot) return 0;
      dot = true;
    } else if (IsDecimal(c) || (hex && IsHexDigit(c))) {
      digits = true;
    } else {
      break;
    }
  }
  if (!digits) return 0;
  if (i < s.size() && Lower(s[i]) == (hex ? 'p' : 'e')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    bool exp_digits = false;
    for (; i < s.size() && (IsDecimal(s[i]) || s[i] == '_'); ++i) {
      if (s[i] == '_') {
        underscores = true;
      } else {
        exp_digits = true;
      }
    }
    if (!exp_digits) return 0;
  } else if (hex) {
    return 0;  // A hexadecimal mantissa needs a 'p' exponent.
  }
  if (i != s.size()) return 0;
  if (underscores && !UnderscoreOk(s)) return 0;
  std::string clean;
  for (char c : s) {
    if (c != '_') clean.push_back(c);
  }
  errno = 0;
  char* end = nullptr;
  const double v = strtod_l(clean.c_str(), &end, CLocale());
  *err = ParseError::kNone;
  if (errno == ERANGE && std::isinf(v)) *err = ParseError::kRange;
  return v;
}

// strconv.ParseUint(s, 0, 64).
uint64_t ParseUintBase0(absl::string_view s, ParseError* err) {
  *err = ParseError::kSyntax;
  if (s.empty()) return 0;
  const absl::string_view s0 = s;
  int base = 10;
  if (s[0] == '0') {
    if (s.size() >= 3 && Lower(s[1]) == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && Lower(s[1]) == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && Lower(s[1]) == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  bool underscores = false;
  uint64_t n = 0;
  bool overflow = false;
  for (char c : s) {
    int d;
    if (c == '_') {
      underscores = true;
      continue;
    } else if (IsDecimal(c)) {
      d = c - '0';
    } else if (Lower(c) >= 'a' && Lower(c) <= 'z') {
      d = Lower(c) - 'a' + 10;
    } else {
      return 0;
    }
    if (d >= base) return 0;
    if (n > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) /
                static_cast<uint64_t>(base)) {
      overflow = true;
    }
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (underscores && !UnderscoreOk(s0)) return 0;
  *err = overflow ? ParseError::kRange : ParseError::kNone;
  return n;
}

// strconv.ParseInt(s, 0, 64).
int64_t ParseIntBase0(absl::string_view s, ParseError* err) {
  *err = ParseError::kSyntax;
  if (s.empty()) return 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  const uint64_t u = ParseUintBase0(s, err);
  if (*err != ParseError::kNone) return 0;
  const uint64_t cutoff = uint64_t{1} << 63;
  if ((!neg && u >= cutoff) || (neg && u > cutoff)) {
    *err = ParseError::kRange;
    return 0;
  }
  return neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
}

int HexValue(char c) {
  if (IsDecimal(c)) return c - '0';
  return Lower(c) - 'a' + 10;
}

// strconv.UnquoteChar: decodes one (possibly escaped) character of a
// literal quoted by `quote` at s[*i]; false on a malformed escape.
bool UnquoteOne(absl::string_view s, size_t* i, char quote, std::string* out) {
  const char c = s[*i];
  if (c == quote && (quote == '\'' || quote == '"')) return false;
  if (static_cast<unsigned char>(c) >= 0x80) {
    uint32_t r;
    *i += DecodeRune(s, *i, &r);
    AppendRune(r, out);
    return true;
  }
  if (c != '\\') {
    out->push_back(c);
    ++*i;
    return true;
  }
  if (*i + 1 >= s.size()) return false;
  const char e = s[*i + 1];
  *i += 2;
  switch (e) {
    case 'a':
      out->push_back('\a');
      return true;
    case 'b':
      out->push_back('\b');
      return true;
    case 'f':
      out->push_back('\f');
      return true;
    case 'n':
      out->push_back('\n');
      return true;
    case 'r':
      out->push_back('\r');
      return true;
    case 't':
      out->push_back('\t');
      return true;
    case 'v':
      out->push_back('\v');
      return true;
    case '\\':
      out->push_back('\\');
      return true;
    case '\'':
    case '"':
      if (e != quote) return false;
      out->push_back(e);
      return true;
    case 'x':
    case 'u':
    case 'U': {
      const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (*i + n > s.size()) return false;
      uint32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        if (!IsHexDigit(s[*i + k])) return false;
        v = v * 16 + static_cast<uint32_t>(HexValue(s[*i + k]));
      }
      *i += n;
      if (e == 'x') {
        out->push_back(static_cast<char>(v));
        return true;
      }
      if (!ValidRune(v)) return false;
      AppendRune(v, out);
      return true;
    }
    default:
      if (e >= '0' && e <= '7') {
        if (*i + 2 > s.size()) return false;
        uint32_t v = static_cast<uint32_t>(e - '0');
        for (size_t k = 0; k < 2; ++k) {
          const char d = s[*i + k];
          if (d < '0' || d > '7') return false;
          v = v * 8 + static_cast<uint32_t>(d - '0');
        }
        if (v > 255) return false;
        *i += 2;
        out->push_back(static_cast<char>(v));
        return true;
      }
      return false;
  }
}

}  // namespace

absl::StatusOr<double> GoParseFloat(absl::string_view s) {
  ParseError err;
  const double v = ParseFloatImpl(s, &err);
  if (err == ParseError::kNone) return v;
  std::string msg = "strconv.ParseFloat: parsing ";
  AppendGoQuoted(s, &msg);
  msg += err == ParseError::kRange ? ": value out of range" : ": invalid syntax";
  return absl::InvalidArgumentError(msg);
}

absl::StatusOr<NumberLiteral> ParseNumberLiteral(absl::string_view text, bool is_char) {
  NumberLiteral n;
  if (is_char) {
    std::string decoded;
    size_t i = 1;
    if (text.size() < 2 || !UnquoteOne(text, &i, '\'', &decoded)) {
      return absl::InvalidArgumentError("invalid syntax");
    }
    if (text.substr(i) != "'") {
      return absl::InvalidArgumentError(absl::StrCat("malformed character constant: ", text));
    }
    uint32_t r;
    if (decoded.size() == 1) {
      r = static_cast<unsigned char>(decoded[0]);
    } else {
      DecodeRune(decoded, 0, &r);
    }
    n.is_int = n.is_uint = n.is_float = true;
    n.int_value = r;
    n.uint_value = r;
    n.float_value = r;
    return n;
  }
  if (!text.empty() && text.back() == 'i') {
    return absl::InvalidArgumentError(absl::StrCat("complex constants are not supported: ", text));
  }
  ParseError err;
  const uint64_t u = ParseUintBase0(text, &err);
  if (err == ParseError::kNone) {
    n.is_uint = true;
    n.uint_value = u;
  }
  const int64_t i = ParseIntBase0(text, &err);
  if (err == ParseError::kNone) {
    n.is_int = true;
    n.int_value = i;
    if (i == 0) {  // "-0" is an unsigned zero too.
      n.is_uint = true;
      n.uint_value = 0;
    }
  }
  if (n.is_int) {
    n.is_float = true;
    n.float_value = static_cast<double>(n.int_value);
  } else if (n.is_uint) {
    n.is_float = true;
    n.float_value = static_cast<double>(n.uint_value);
  } else {
    const double f = ParseFloatImpl(text, &err);
    if (err == ParseError::kNone) {
      // An integer-looking literal that only parses as a float is too big.
      if (text.find_first_of(".eEpP") == absl::string_view::npos) {
        std::string msg = "integer overflow: ";
        AppendGoQuoted(text, &msg);
        return absl::InvalidArgumentError(msg);
      }
      n.is_float = true;
      n.float_value = f;
      if (f >= -9.2233720368547758e18 && f < 9.2233720368547758e18 &&
          static_cast<double>(static_cast<int64_t>(f)) == f) {
        n.is_int = true;
        n.int_value = static_cast<int64_t>(f);
      }
      if (f >= 0 && f < 1.8446744073709552e19 &&
          static_cast<double>(static_cast<uint64_t>(f)) == f) {
        n.is_uint = true;
        n.uint_value = static_cast<uint64_t>(f);
      }
    }
  }
  if (!n.is_int && !n.is_uint && !n.is_float) {
    std::string msg = "illegal number syntax: ";
    AppendGoQuoted(text, &msg);
    return absl::InvalidArgumentError(msg);
  }
  return n;
}

absl::StatusOr<std::string> GoUnquote(absl::string_view quoted) {
  const absl::Status bad = absl::InvalidArgumentError("invalid syntax");
  if (quoted.size() < 2 || quoted.front() != quoted.back()) return bad;
  const char q = quoted.front();
  absl::string_view in = quoted.substr(1, quoted.size() - 2);
  std::string out;
  if (q == '`') {
    if (in.find('`') != absl::string_view::npos) return bad;
    for (char c : in) {
      if (c != '\r') out.push_back(c);
    }
    return out;
  }
  if (q != '"') return bad;
  for (size_t i = 0; i < in.size();) {
    if (in[i] == '\n') return bad;
    if (!UnquoteOne(in, &i, '"', &out)) return bad;
  }
  return out;
}

std::string GoFormatG(double v, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%.*g", prec, v);
}

std::string GoQuote(absl::string_view s, bool ascii_only) {
  std::string quoted;
  AppendGoQuoted(s, &quoted);
  if (!ascii_only) return quoted;
  // AppendGoQuoted leaves only printable non-ASCII runes unescaped.
  std::string out;
  for (size_t i = 0; i < quoted.size();) {
    uint32_t r;
    const size_t n = DecodeRune(quoted, i, &r);
    if (r < 0x80) {
      out.push_back(quoted[i]);
    } else if (r < 0x10000) {
      absl::StrAppendFormat(&out, "\\u%04x", r);
    } else {
      absl::StrAppendFormat(&out, "\\U%08x", r);
    }
    i += n;
  }
  return out;
}

std::string GoQuoteRune(uint32_t r, bool ascii_only) {
  if (!ValidRune(r)) r = kRuneError;
  if (r == '\'') return "'\\''";
  if (r == '"') return "'\"'";
  std::string s;
  AppendRune(r, &s);
  const std::string q = GoQuote(s, ascii_only);
  return absl::StrCat("'", absl::string_view(q).substr(1, q.size() - 2), "'");
}

bool GoCanBackquote(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    const size_t n = DecodeRune(s, i, &r);
    if (r == kRuneError && n == 1) return false;
    if (r == '`' || r == 0xfeff) return false;
    if (r < ' ' && r != '\t') return false;
    if (r == 0x7f) return false;
    i += n;
  }
  return true;
}

std::string GoQueryEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

size_t RuneCount(absl::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    uint32_t r;
    i += DecodeRune(s, i, &r);
  }
  return n;
}

bool IsPrintRune(uint32_t r) {
  if (r < 0x20 || (r >= 0x7f && r <= 0xa0)) return false;
  if (r < 0x7f) return true;
  if (r == 0xad || r == 0x1680 || (r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) ||
      (r >= 0x205f && r <= 0x206f) || r == 0x3000 || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb)) {
    return false;
  }
  if ((r >= 0xd800 && r <= 0xf8ff) || r >= 0xf0000 || r > kMaxRune) return false;
  if ((r & 0xfffe) == 0xfffe || (r >= 0xfdd0 && r <= 0xfdef)) return false;
  locale_t loc = Utf8Locale();
  if (loc == nullptr) return true;
  return iswprint_l(static_cast<wint_t>(r), loc) != 0;
}

bool IsAlphaNumericRune(uint32_t r) {
  if (r < 0x80) return r == '_' || absl::ascii_isalnum(static_cast<unsigned char>(r));
  locale_t loc = Utf8Locale();
  if (loc == nullptr) return false;
  return iswalnum_l(static_cast<wint_t>(r), loc) != 0;
}

uint32_t ToUpperRune(uint32_t r) {
  if (r < 0x80) return absl::ascii_toupper(static_cast<unsigned char>(r));
  locale_t loc = Utf8Locale();
  if (loc == nullptr) return r;
  return static_cast<uint32_t>(towupper_l(static_cast<wint_t>(r), loc));
}

uint32_t ToLowerRune(uint32_t r) {
  if (r < 0x80) return absl::ascii_tolower(static_cast<unsigned char>(r));
  locale_t loc = Utf8Locale();
  if (loc == nullptr) return r;
  return static_cast<uint32_t>(towlower_l(static_cast<wint_t>(r), loc));
}

uint32_t ToTitleRune(uint32_t r) {
  // The Latin digraphs are the only letters whose title case is neither
  // their upper nor their lower case: Ǆǅǆ, Ǉǈǉ, Ǌǋǌ, Ǳǲǳ.
  for (uint32_t first : {0x1c4u, 0x1c7u, 0x1cau, 0x1f1u}) {
    if (r >= first && r < first + 3) return first + 1;
  }
  return ToUpperRune(r);
}

bool IsSpaceRune(uint32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xa0:
      return true;
    default:
      break;
  }
  if (r < 0x100) return false;
  locale_t loc = Utf8Locale();
  return loc != nullptr && iswspace_l(static_cast<wint_t>(r), loc) != 0;
}

std::string DescribeRune(uint32_t r) {
  std::string out = absl::StrFormat("U+%04X", r);
  if (IsPrintRune(r)) {
    out += " '";
    AppendRune(r, &out);
    out += "'";
  }
  return out;
}

}  // namespace vigil::rules::tmpl
