// Lexical pieces shared by the text-format and OpenMetrics parsers:
// character classes, quoted label values, numbers as Prometheus 2.42 reads
// them (Go's strconv rules), and error text. Internal to scrape/.
#ifndef VIGIL_SCRAPE_LEX_H_
#define VIGIL_SCRAPE_LEX_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vigil::scrape::lex {

inline constexpr uint8_t kNameStart = 1;   // [a-zA-Z_:]
inline constexpr uint8_t kNameChar = 2;    // [a-zA-Z0-9_:]
inline constexpr uint8_t kLabelStart = 4;  // [a-zA-Z_]
inline constexpr uint8_t kLabelChar = 8;   // [a-zA-Z0-9_]
inline constexpr uint8_t kBlank = 16;      // space or tab
// Ends a quoted label value's fast scan: '"', '\\', '\n', or any byte with
// the high bit set (so that the scan notes non-ASCII text).
inline constexpr uint8_t kQuotedStop = 32;
// Ends a text-format value token: '{', blank or newline.
inline constexpr uint8_t kValueStop = 64;

inline constexpr std::array<uint8_t, 256> kCharClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    uint8_t v = 0;
    if (alpha || c == '_' || c == ':') v |= kNameStart | kNameChar;
    if (digit) v |= kNameChar | kLabelChar;
    if (alpha || c == '_') v |= kLabelStart | kLabelChar;
    if (c == ' ' || c == '\t') v |= kBlank;
    if (c == '"' || c == '\\' || c == '\n' || c >= 0x80) v |= kQuotedStop;
    if (c == '{' || c == ' ' || c == '\t' || c == '\n') v |= kValueStop;
    t[c] = v;
  }
  return t;
}();

inline bool Is(char c, uint8_t cls) {
  return (kCharClass[static_cast<unsigned char>(c)] & cls) != 0;
}

// Scans the rest of a quoted label value whose opening quote is at
// s[pos - 1]. Returns the position just past the closing quote, or
// absl::string_view::npos if the value is not terminated on the same
// line (unless newline_ok) or contains a backslash before a newline or the
// end. *escaped is set if the value holds a backslash, *non_ascii if it
// holds a byte >= 0x80.
inline size_t ScanQuoted(absl::string_view s, size_t pos, bool newline_ok,
                         bool* escaped, bool* non_ascii) {
  const char* p = s.data() + pos;
  const char* const end = s.data() + s.size();
  while (p < end) {
    while (p < end && !Is(*p, kQuotedStop)) ++p;
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return static_cast<size_t>(p - s.data()) + 1;
    if (c == '\\') {
      // A backslash escapes any one character but a newline.
      if (p + 1 == end || p[1] == '\n') return absl::string_view::npos;
      *escaped = true;
      if (static_cast<unsigned char>(p[1]) >= 0x80) *non_ascii = true;
      p += 2;
    } else if (c == '\n') {
      if (!newline_ok) return absl::string_view::npos;
      ++p;
    } else {
      *non_ascii = true;
      ++p;
    }
  }
  return absl::string_view::npos;
}

// The first position at or after `p` that is not a blank.
inline const char* SkipBlanks(const char* p, const char* end) {
  while (p < end && Is(*p, kBlank)) ++p;
  return p;
}

// model::IsValidUtf8, with a fast path for ASCII text.
bool IsValidUtf8(absl::string_view s);

// Appends the label value `raw` (the text between the quotes) with \\, \"
// and \n replaced by \, " and a newline. A backslash before any other
// character stays as written, as in Prometheus. If `quote_escape` is
// false, \" stays as written too (the text format's HELP escaping).
void AppendUnescaped(absl::string_view raw, bool quote_escape,
                     std::string* out);

enum class NumberError {
  kNone,
  kSyntax,       // Not a number at all.
  kRange,        // Magnitude too large for a double.
  kUnsupported,  // Hex floats or '_' separators, which Prometheus refuses.
};

// Parses a float64 as Prometheus 2.42 does: Go's strconv.ParseFloat
// (decimal, optional sign and exponent; "NaN", "Inf", "+Inf", "-Infinity"
// in any case; results below the smallest denormal become zero) after
// refusing the characters 'p', 'P' and '_'. NaN comes back with the bits of
// Go's math.NaN(), as Prometheus stores it.
NumberError ParseFloat(absl::string_view s, double* out);

// Parses a non-empty string of ASCII digits as an int64 (Go's ParseInt for
// the text format's timestamps). Returns false on overflow.
bool ParseDigits(absl::string_view digits, int64_t* out);

// Converts an OpenMetrics timestamp in seconds to milliseconds exactly as
// Prometheus 2.42 does: the product seconds * 1000 in double precision,
// truncated toward zero. A product outside the int64 range gives INT64_MIN,
// which is what Go's conversion yields on amd64. REQUIRES: finite input.
int64_t SecondsToMillis(double seconds);

// `s` as Go's %q prints it: double-quoted, with \" \\ \n \t \r and \xNN
// escapes for other control bytes and invalid UTF-8.
std::string GoQuote(absl::string_view s);

// The token at body[pos] for "expected X, got Y" messages, quoted: a
// delimiter (blank, newline, brace, comma, '=', '"') alone, or else the
// bytes up to the next delimiter (at most 40); or `end of input`.
std::string GotText(absl::string_view body, size_t pos);

// An InvalidArgument status "line N: message".
absl::Status LineError(int64_t line, absl::string_view message);

}  // namespace vigil::scrape::lex

#endif  // VIGIL_SCRAPE_LEX_H_
