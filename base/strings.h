// Small string helpers shared across modules.
#ifndef VIGIL_BASE_STRINGS_H_
#define VIGIL_BASE_STRINGS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vigil {

// Appends `v` in double quotes, escaping '"', '\\', newline and tab with a
// backslash (the escaping Prometheus uses for label values in text form).
void AppendQuoted(std::string* out, absl::string_view v);

}  // namespace vigil

#endif  // VIGIL_BASE_STRINGS_H_
