// Go's fmt for template values: what print, println, printf and the
// printing of an action's value produce. Internal to rules/.
#ifndef VIGIL_RULES_TEMPLATE_FMT_H_
#define VIGIL_RULES_TEMPLATE_FMT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "rules/template_value.h"

namespace vigil::rules::tmpl {

// fmt.Sprint: operands formatted with %v, a space between two operands
// when neither is a string.
std::string GoSprint(const std::vector<Value>& args);

// fmt.Sprintln: operands with %v separated by spaces, then a newline.
std::string GoSprintln(const std::vector<Value>& args);

// fmt.Sprintf with Go's verbs, flags, width, precision, argument indexes
// and its in-band error notes (%!d(string=x), %!d(MISSING), %!(EXTRA ...),
// %!(NOVERB), %!(BADWIDTH), ...).
std::string GoSprintf(absl::string_view format, const std::vector<Value>& args);

// What text/template writes for an action's value: "<no value>" when
// there is none; pointers print as what they point to.
std::string PrintActionValue(const Value& v);

}  // namespace vigil::rules::tmpl

#endif  // VIGIL_RULES_TEMPLATE_FMT_H_
