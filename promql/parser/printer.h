// Printing an AST back to PromQL text, as Prometheus 2.42's String() and
// Pretty() do (the latter for /api/v1/format_query).
#ifndef VIGIL_PROMQL_PARSER_PRINTER_H_
#define VIGIL_PROMQL_PARSER_PRINTER_H_

#include <string>

#include "promql/parser/ast.h"

namespace vigil::promql {

// One line, Prometheus's Expr.String(): `sum by (job) (rate(x[5m]))`.
std::string Format(const Expr& e);
// Prometheus's Expr.Pretty(0): Format when it fits in 100 characters,
// otherwise split over indented lines.
std::string Pretty(const Expr& e);
// A duration in Prometheus's form ("1h30m", "5m", "0s").
std::string FormatDurationMs(int64_t ms);

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_PARSER_PRINTER_H_
