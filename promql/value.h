// PromQL's value types: scalars, strings, instant vectors and range
// vectors (matrices), as the engine returns them.
#ifndef VIGIL_PROMQL_VALUE_H_
#define VIGIL_PROMQL_VALUE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/labels.h"
#include "model/value.h"
#include "promql/parser/ast.h"

namespace vigil::promql {

// A timestamp (ms since the epoch) and value; the storage's sample type,
// so that series are read into points without conversion.
using Point = model::Sample;

// One element of an instant vector.
struct Sample {
  model::Labels metric;
  Point point;
};
using Vector = std::vector<Sample>;

// One series of a range vector (or of a range query's result).
struct Series {
  model::Labels metric;
  std::vector<Point> points;  // In time order.
};
using Matrix = std::vector<Series>;

// The result of a query: exactly one of the members is meaningful, chosen
// by `type`.
struct Value {
  ValueType type = ValueType::kNone;
  Point scalar;        // kScalar: value at t.
  std::string string;  // kString (evaluated at `scalar.t`).
  Vector vector;       // kVector.
  Matrix matrix;       // kMatrix (also every range query's result).
};

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_VALUE_H_
