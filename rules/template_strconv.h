// Go's strconv as text/template and Prometheus's template functions use
// it: number and string literal parsing, float parsing with Go's error
// texts, quoting variants, and UTF-8 helpers. Internal to rules/.
#ifndef VIGIL_RULES_TEMPLATE_STRCONV_H_
#define VIGIL_RULES_TEMPLATE_STRCONV_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/utf8.h"

namespace vigil::rules::tmpl {

// strconv.ParseFloat(s, 64). Errors carry Go's message:
// `strconv.ParseFloat: parsing "x": invalid syntax` or `... value out of
// range`.
absl::StatusOr<double> GoParseFloat(absl::string_view s);

// A template number literal classified as text/template does: which Go
// integer and float types can hold it exactly.
struct NumberLiteral {
  bool is_int = false;
  bool is_uint = false;
  bool is_float = false;
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double float_value = 0;
};

// Parses the text of a number token ("010", "0x1F", "1e3", "1_000",
// "-2.5") or, with `is_char`, of a character constant ("'a'"). Errors
// read like Go's ("illegal number syntax: \"0x\"", "integer overflow:
// ...", "malformed character constant: 'ab'").
absl::StatusOr<NumberLiteral> ParseNumberLiteral(absl::string_view text, bool is_char);

// strconv.Unquote for "..." and `...` literals; error "invalid syntax".
absl::StatusOr<std::string> GoUnquote(absl::string_view quoted);

// Go's %.<prec>g: "NaN", "+Inf", "-Inf" for the special values.
std::string GoFormatG(double v, int prec);

// strconv.Quote, or QuoteToASCII when `ascii_only`.
std::string GoQuote(absl::string_view s, bool ascii_only);

// strconv.QuoteRune (QuoteRuneToASCII when `ascii_only`).
std::string GoQuoteRune(uint32_t r, bool ascii_only);

// strconv.CanBackquote.
bool GoCanBackquote(absl::string_view s);

// url.QueryEscape: all but letters, digits and "-_.~" as %XX, ' ' as '+'.
std::string GoQueryEscape(absl::string_view s);

// Go's utf8.DecodeRuneInString and utf8.AppendRune, which the template
// functions share with the rest of Vigil.
using ::vigil::AppendRune;
using ::vigil::DecodeRune;

// Number of runes in `s`, as utf8.RuneCountInString.
size_t RuneCount(absl::string_view s);

// Go's unicode.IsPrint (approximated for rare scripts by the C library's
// Unicode tables).
bool IsPrintRune(uint32_t r);

// '_', or a letter or digit per Go's unicode.IsLetter/IsDigit
// (non-ASCII via the C library's Unicode tables).
bool IsAlphaNumericRune(uint32_t r);

// Go's unicode.ToUpper, ToLower and ToTitle (non-ASCII via the C
// library's Unicode tables).
uint32_t ToUpperRune(uint32_t r);
uint32_t ToLowerRune(uint32_t r);
uint32_t ToTitleRune(uint32_t r);

// Go's unicode.IsSpace.
bool IsSpaceRune(uint32_t r);

// Go's fmt "%#U"-style description of a rune: "U+0040 '@'" when
// printable, "U+0007" otherwise.
std::string DescribeRune(uint32_t r);

}  // namespace vigil::rules::tmpl

#endif  // VIGIL_RULES_TEMPLATE_STRCONV_H_
