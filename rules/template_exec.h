// Executes parsed text/template trees the way Go 1.19's text/template
// does with Option("missingkey=zero"), including the node its errors
// cite. Internal to rules/.
#ifndef VIGIL_RULES_TEMPLATE_EXEC_H_
#define VIGIL_RULES_TEMPLATE_EXEC_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "rules/template.h"
#include "rules/template_ast.h"
#include "rules/template_value.h"

namespace vigil::rules::tmpl {

// Deepest nesting of {{template}} calls. Go allows 100000; C++ stacks
// are fixed, so this is lower.
inline constexpr int kMaxExecDepth = 1000;

// Runs template `name` of `set` with `dot` as "." and "$", and `vars`
// also in scope, appending the output to *out. Errors read like Go's:
// "template: <name>:<line>:<col>: executing \"<name>\" at <node>: <what>".
// REQUIRES: `name` is a template of `set`.
absl::Status ExecuteTemplate(const TemplateSet& set, const std::string& name, const Value& dot,
                             const std::vector<std::pair<std::string, Value>>& vars,
                             const TemplateEnv& env, std::string* out);

}  // namespace vigil::rules::tmpl

#endif  // VIGIL_RULES_TEMPLATE_EXEC_H_
