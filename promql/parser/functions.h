// The signatures of PromQL 2.42's functions: one constexpr table, used by
// the parser for type checking and by the engine to find implementations.
#ifndef VIGIL_PROMQL_PARSER_FUNCTIONS_H_
#define VIGIL_PROMQL_PARSER_FUNCTIONS_H_

#include <span>
#include <string_view>

#include "promql/parser/ast.h"

namespace vigil::promql {

struct FunctionInfo {
  std::string_view name;
  // Argument types in order; with `variadic`, the last ones are optional.
  std::span<const ValueType> arg_types;
  // 0: exactly arg_types; n > 0: the last n may be left out; -1: the last
  // type repeats any number of times (label_join), or may be left out.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
};

// Null when there is no function of that name.
const FunctionInfo* LookupFunction(std::string_view name);
// Every function, in name order.
std::span<const FunctionInfo> AllFunctions();

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_PARSER_FUNCTIONS_H_
