// Kernels of PromQL 2.42's functions that work on numbers: per-sample math
// for instant vectors, range-vector functions over one series' window, and
// the quantile helpers that aggregations and histogram_quantile share. The
// engine (engine.cc) does the plumbing (labels, name dropping, selecting
// windows); everything here is pure and unit-tested on its own.
#ifndef VIGIL_PROMQL_FUNCTIONS_H_
#define VIGIL_PROMQL_FUNCTIONS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "promql/value.h"

namespace vigil::promql {

// abs, ceil, floor, exp, sqrt, ln, log2, log10, sgn, the trig functions
// (acos ... tanh, deg, rad): null when `name` is not one of them.
using ScalarMath = double (*)(double);
ScalarMath LookupScalarMath(std::string_view name);

// What a range-vector function sees besides the window's points.
struct RangeContext {
  int64_t eval_t = 0;       // The evaluation timestamp (after @).
  int64_t range_start = 0;  // Window [range_start, range_end], inclusive
  int64_t range_end = 0;    // (eval_t - offset - range, eval_t - offset).
  // Scalar arguments besides the range vector, in call order:
  // quantile_over_time(φ, ...), predict_linear(..., t), holt_winters(...,
  // sf, tf).
  std::span<const double> args;
};

// rate, increase, delta, irate, idelta, deriv, predict_linear, changes,
// resets, holt_winters, avg/min/max/sum/count/quantile/stddev/stdvar/last/
// present_over_time: the value for one series at one step, or nullopt for
// no output (too few points, ...). `points` is the window in time order,
// stale markers already removed. Null when `name` is not one of them.
using RangeFunction = std::optional<double> (*)(std::span<const Point> points,
                                                const RangeContext& ctx);
RangeFunction LookupRangeFunction(std::string_view name);

// The φ-quantile of `values` as the `quantile` aggregation and
// quantile_over_time compute it (linear interpolation between closest
// ranks; φ < 0 → -Inf, φ > 1 → +Inf, NaN φ → NaN). Reorders `values`.
double Quantile(double phi, std::vector<double>* values);

// One classic histogram's buckets: upper bound and cumulative count.
struct Bucket {
  double upper_bound = 0;
  double count = 0;
};
// histogram_quantile's estimate from one series' buckets (any order; the
// +Inf bucket is required or the result is NaN), as Prometheus 2.42.
double BucketQuantile(double phi, std::vector<Bucket> buckets);

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_FUNCTIONS_H_
