// Writing JSON strings exactly as Go's encoding/json does (Prometheus's and
// Alertmanager's APIs and payloads): HTML-safe (<, >, & as \u003c ...),
// control characters as \u00XX (\n, \r, \t short), U+2028/U+2029 escaped,
// invalid UTF-8 bytes as \ufffd.
#ifndef VIGIL_BASE_JSON_H_
#define VIGIL_BASE_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vigil {

// Appends `s` as a quoted JSON string.
void AppendJsonString(absl::string_view s, std::string* out);

}  // namespace vigil

#endif  // VIGIL_BASE_JSON_H_
