// The functions a rule template may call: text/template's builtins and
// Prometheus 2.42's template functions, with their Go signatures (which
// decide how arguments are converted and checked). Internal to rules/.
#ifndef VIGIL_RULES_TEMPLATE_FUNCS_H_
#define VIGIL_RULES_TEMPLATE_FUNCS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rules/template.h"
#include "rules/template_ast.h"
#include "rules/template_value.h"

namespace vigil::rules::tmpl {

// The Go type of a parameter, as far as argument checking cares.
enum class ParamType {
  kString,       // string
  kInterface,    // interface {}
  kReflect,      // reflect.Value (the builtins): any value, never nil
  kSample,       // *template.sample
  kQueryResult,  // template.queryResult
  kStringSlice,  // []string
};

// Go's name of a parameter type, for "wrong type" errors.
absl::string_view ParamTypeName(ParamType t);

// A function's result, or its Go error text (which the caller reports as
// "error calling <name>: <text>").
using FuncImpl = absl::StatusOr<Value> (*)(const TemplateEnv& env, const std::vector<Value>& args);

struct FuncDef {
  absl::string_view name;
  int num_params;
  ParamType params[3];
  bool variadic;  // The last parameter takes any number of arguments.
  bool builtin;   // text/template's own (and, or are evaluated lazily).
  FuncImpl impl;
};

// The function called `name` in `funcs`, or null.
const FuncDef* FindFunction(absl::string_view name, FuncSet funcs);

// The text/template builtins (template_builtins.cc) and Prometheus's
// functions (template_funcs.cc).
const FuncDef* FindBuiltin(absl::string_view name);
const FuncDef* FindPrometheusFunction(absl::string_view name);
// Alertmanager 0.25's notification template functions (template_funcs.cc).
const FuncDef* FindAlertmanagerFunction(absl::string_view name);

}  // namespace vigil::rules::tmpl

#endif  // VIGIL_RULES_TEMPLATE_FUNCS_H_
