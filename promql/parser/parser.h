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
// vector selector without offset/@. As Prometheus's, it does not require
// a matcher that does not match the empty string; callers check that.
absl::StatusOr<std::vector<model::Matcher>> ParseMetricSelector(absl::string_view selector);

// One value of a series description: a number, or an omitted sample (`_`).
struct SequenceValue {
  double value = 0;
  bool omitted = false;
};

// A series as Prometheus's test scripts write it: labels and values.
struct SeriesDesc {
  model::Labels labels;
  std::vector<SequenceValue> values;
};

// Parses `metric{a="b"} 1+2x3 _ _x2 stale -1-1x2 Inf NaN` (as Prometheus's
// parser.ParseSeriesDesc): `a+bxN` expands to the N+1 values a, a+b, ...,
// `a-bxN` counts down, `axN` repeats a N+1 times, `_` is one omitted value,
// `_xN` N omitted values, `stale` the stale marker (model::StaleNaN()).
// A labels-only line without values parses too (values empty).
absl::StatusOr<SeriesDesc> ParseSeriesDesc(absl::string_view input);

// A duration as PromQL writes it ("5m", "1h30m", "1.5" is not one), in ms.
absl::StatusOr<int64_t> ParseDurationMs(absl::string_view d);

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_PARSER_PARSER_H_
