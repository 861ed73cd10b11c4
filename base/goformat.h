// Text as Go's fmt and strconv produce it, for output that must match
// Prometheus's tools byte for byte (promtool's dump, later templates).
#ifndef VIGIL_BASE_GOFORMAT_H_
#define VIGIL_BASE_GOFORMAT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vigil {

// Appends `v` as Go's fmt "%g" (strconv.FormatFloat(v, 'g', -1, 64)) does:
// the shortest digits that round-trip, in exponent form ("1e+06",
// "1.5e-05", at least two exponent digits) when the decimal exponent is
// below -4 or at least 6, plain decimal otherwise ("123456", "0.0001");
// "NaN", "+Inf", "-Inf".
void AppendGoFloat(double v, std::string* out);

// Writes finite `v` as strconv.FormatFloat(v, 'f', -1, 64) does (the
// shortest digits that round-trip, never an exponent) into [out, end) and
// returns the end of what it wrote. Meant for 1e-6 <= |v| < 1e21 and 0;
// needs up to 330 bytes for other values, 30 within that range. Values
// with at most 8 decimals and 15 digits (most samples) skip the general
// shortest-digits search.
char* FormatGoFixed(double v, char* out, char* end);

// Appends `s` as Go's strconv.Quote does: in double quotes; '"' and '\\'
// escaped; \a \b \f \n \r \t \v; other ASCII control bytes and invalid
// UTF-8 bytes as \xNN; non-printable code points as \uNNNN or \UNNNNNNNN.
// Printable non-ASCII is kept as is. "Printable" follows Go's
// unicode.IsPrint for the C1 controls, the Unicode space separators other
// than ' ', the format characters and private use; rarer unassigned code
// points are treated as printable (Go escapes them).
void AppendGoQuoted(absl::string_view s, std::string* out);

}  // namespace vigil

#endif  // VIGIL_BASE_GOFORMAT_H_
