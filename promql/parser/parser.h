// Parsing PromQL text into an AST (Prometheus 2.42's grammar and checks).
#ifndef VIGIL_PROMQL_PARSER_PARSER_H_
#define VIGIL_PROMQL_PARSER_PARSER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "promql/parser/ast.h"

namespace vigil::promql {

// Parses and type-checks `query`. Errors are kInvalidArgument with
// Prometheus's message, e.g. `1:8: parse error: unexpected "}" in label
// matching, expected string` or `parse error: unknown function with name
// "foo"` (the text after the status code is exactly what Prometheus's
// API reports as "error").
absl::StatusOr<ExprPtr> ParseExpr(absl::string_view query);

// A series selector for match[] parameters (`up`, `{job="a"}`, ...): a
// vector selector without offset/@; at least one matcher must not match
// the empty string, as in Prometheus.
absl::StatusOr<std::vector<model::Matcher>> ParseMetricSelector(absl::string_view selector);

// A duration as PromQL writes it ("5m", "1h30m", "1.5" is not one), in ms.
absl::StatusOr<int64_t> ParseDurationMs(absl::string_view d);

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_PARSER_PARSER_H_
