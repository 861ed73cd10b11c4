#include "promql/functions.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <utility>

namespace vigil::promql {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMsPerSecond = 1000;

// ---------------------------------------------------------------------------
// Per-sample math.
//
// Prometheus 2.42 runs Go's math package. Where Go's result is a documented
// composition of simpler operations (log2, log10, deg, rad, sgn), the same
// composition is evaluated here in the same order (log2 of a power of two is
// exact; 1/ln 10 is one correctly rounded constant). The transcendental
// functions themselves come from libm: Go and glibc agree on every special
// value (±0, ±Inf, NaN, domain errors), but Go's own implementations are not
// always correctly rounded, so an inexact result can differ in the last bit
// (sin(10), tan(10), atan(10) and log2(10) do: 2.42 prints
// -0.5440211108893699 for sin(10), glibc's correctly rounded value prints as
// -0.5440211108893698).

double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }

// Go: frexp, exact for powers of two, else ln(frac)/ln(2) + exponent.
double Log2(double v) {
  int exponent = 0;
  const double frac = std::frexp(v, &exponent);
  // frexp leaves 0, ±Inf and NaN unchanged with exponent 0, which the
  // general formula below maps to log(v) · log2(e): -Inf, +Inf, NaN.
  if (frac == 0.5) return static_cast<double>(exponent - 1);
  return std::log(frac) * std::numbers::log2e + static_cast<double>(exponent);
}

// Go: ln(v) · (1/ln 10), with 1/ln 10 rounded once as a constant.
double Log10(double v) { return std::log(v) * std::numbers::log10e; }

// -1, +1, or the value itself for ±0 and NaN.
double Sgn(double v) {
  if (v < 0) return -1;
  if (v > 0) return 1;
  return v;
}

double Acos(double v) { return std::acos(v); }
double Acosh(double v) { return std::acosh(v); }
double Asin(double v) { return std::asin(v); }
double Asinh(double v) { return std::asinh(v); }
double Atan(double v) { return std::atan(v); }
double Atanh(double v) { return std::atanh(v); }
double Cos(double v) { return std::cos(v); }
double Cosh(double v) { return std::cosh(v); }
double Sin(double v) { return std::sin(v); }
double Sinh(double v) { return std::sinh(v); }
double Tan(double v) { return std::tan(v); }
double Tanh(double v) { return std::tanh(v); }
// Left to right, as PromQL writes them: (v · 180) / π and (v · π) / 180.
double Deg(double v) { return v * 180 / std::numbers::pi; }
double Rad(double v) { return v * std::numbers::pi / 180; }

struct ScalarMathEntry {
  std::string_view name;
  ScalarMath fn;
};

constexpr ScalarMathEntry kScalarMath[] = {
    {"abs", Abs},     {"ceil", Ceil}, {"floor", Floor}, {"exp", Exp},
    {"sqrt", Sqrt},   {"ln", Ln},     {"log2", Log2},   {"log10", Log10},
    {"sgn", Sgn},     {"acos", Acos}, {"acosh", Acosh}, {"asin", Asin},
    {"asinh", Asinh}, {"atan", Atan}, {"atanh", Atanh}, {"cos", Cos},
    {"cosh", Cosh},   {"sin", Sin},   {"sinh", Sinh},   {"tan", Tan},
    {"tanh", Tanh},   {"deg", Deg},   {"rad", Rad},
};

// ---------------------------------------------------------------------------
// Compensated summation.

// A running sum with Neumaier's compensation: `sum` holds the plain sum and
// `c` the accumulated rounding error. Value() adds them, except when the sum
// has overflowed to ±Inf, where the compensation is meaningless (it is NaN
// after Inf - Inf) and the infinite sum is the answer.
struct CompensatedSum {
  double sum = 0;
  double c = 0;

  void Add(double inc) {
    const double t = sum + inc;
    // The smaller operand is the one whose low bits were lost.
    if (std::fabs(sum) >= std::fabs(inc)) {
      c += (sum - t) + inc;
    } else {
      c += (inc - t) + sum;
    }
    sum = t;
  }
  double Compensated() const { return sum + c; }
  double Value() const { return std::isinf(sum) ? sum : sum + c; }
};

// ---------------------------------------------------------------------------
// rate, increase, delta.

// Go's time.Duration.Seconds() for a whole number of milliseconds: whole
// seconds plus the fraction in nanoseconds / 1e9 (not ms / 1000, which can
// round differently).
double DurationSeconds(int64_t ms) {
  const int64_t whole = ms / 1000;
  const int64_t nanos = (ms % 1000) * 1000000;
  return static_cast<double>(whole) + static_cast<double>(nanos) / 1e9;
}

// The increase over the window, or the rate when `is_rate`, extrapolated
// towards the window's edges: all the way to an edge if the first (last)
// point is within 1.1 average sample intervals of it, else by half an
// average interval (the series probably starts or ends inside the window).
// For counters, every decrease is a reset whose pre-reset value is added
// back, and the start is never extrapolated beyond where the counter would
// have been zero. This is 2.42's order: the zero point shortens the
// distance to the start *before* it is compared with the threshold.
std::optional<double> ExtrapolatedRate(std::span<const Point> points,
                                       const RangeContext& ctx, bool is_counter,
                                       bool is_rate) {
  if (points.size() < 2) return std::nullopt;
  const Point& first = points.front();
  const Point& last = points.back();

  double result = last.v - first.v;
  if (is_counter) {
    double prev = first.v;
    for (const Point& p : points.subspan(1)) {
      if (p.v < prev) result += prev;
      prev = p.v;
    }
  }

  double to_start =
      static_cast<double>(first.t - ctx.range_start) / kMsPerSecond;
  const double to_end =
      static_cast<double>(ctx.range_end - last.t) / kMsPerSecond;
  const double sampled = static_cast<double>(last.t - first.t) / kMsPerSecond;
  const double average_interval =
      sampled / static_cast<double>(points.size() - 1);

  if (is_counter && result > 0 && first.v >= 0) {
    const double to_zero = sampled * (first.v / result);
    if (to_zero < to_start) to_start = to_zero;
  }

  constexpr double kThresholdFactor = 1.1;
  const double threshold = average_interval * kThresholdFactor;
  double extrapolated = sampled;
  extrapolated += to_start < threshold ? to_start : average_interval / 2;
  extrapolated += to_end < threshold ? to_end : average_interval / 2;

  double factor = extrapolated / sampled;
  if (is_rate) factor /= DurationSeconds(ctx.range_end - ctx.range_start);
  return result * factor;
}

std::optional<double> Rate(std::span<const Point> points,
                           const RangeContext& ctx) {
  return ExtrapolatedRate(points, ctx, /*is_counter=*/true, /*is_rate=*/true);
}
std::optional<double> Increase(std::span<const Point> points,
                               const RangeContext& ctx) {
  return ExtrapolatedRate(points, ctx, /*is_counter=*/true, /*is_rate=*/false);
}
std::optional<double> Delta(std::span<const Point> points,
                            const RangeContext& ctx) {
  return ExtrapolatedRate(points, ctx, /*is_counter=*/false,
                          /*is_rate=*/false);
}

// ---------------------------------------------------------------------------
// irate, idelta: the last two points only.

std::optional<double> InstantValue(std::span<const Point> points,
                                   bool is_rate) {
  if (points.size() < 2) return std::nullopt;
  const Point& prev = points[points.size() - 2];
  const Point& last = points.back();
  const int64_t interval_ms = last.t - prev.t;
  if (interval_ms == 0) return std::nullopt;
  if (!is_rate) return last.v - prev.v;
  // After a counter reset the counter counted up from zero.
  const double increase = last.v < prev.v ? last.v : last.v - prev.v;
  return increase / (static_cast<double>(interval_ms) / kMsPerSecond);
}

std::optional<double> Irate(std::span<const Point> points,
                            const RangeContext&) {
  return InstantValue(points, /*is_rate=*/true);
}
std::optional<double> Idelta(std::span<const Point> points,
                             const RangeContext&) {
  return InstantValue(points, /*is_rate=*/false);
}

// ---------------------------------------------------------------------------
// deriv, predict_linear.

struct Line {
  double slope;
  double intercept;  // The value at `origin_ms`.
};

// Least-squares fit of the points, with x measured in seconds from
// `origin_ms` (close to the data, so that x² does not swamp the precision)
// and every sum compensated. A constant series has slope 0 exactly (or NaN
// when the constant is infinite, where the fit is undefined).
Line LinearRegression(std::span<const Point> points, int64_t origin_ms) {
  CompensatedSum sum_x, sum_y, sum_xy, sum_x2;
  const double first_y = points.front().v;
  bool constant_y = true;
  for (const Point& p : points) {
    if (p.v != first_y) constant_y = false;
    const double x = static_cast<double>(p.t - origin_ms) / 1e3;
    sum_x.Add(x);
    sum_y.Add(p.v);
    sum_xy.Add(x * p.v);
    sum_x2.Add(x * x);
  }
  if (constant_y) {
    if (std::isinf(first_y)) return {kNaN, kNaN};
    return {0, first_y};
  }
  const double n = static_cast<double>(points.size());
  const double sx = sum_x.Compensated();
  const double sy = sum_y.Compensated();
  const double sxy = sum_xy.Compensated();
  const double sx2 = sum_x2.Compensated();
  const double cov_xy = sxy - sx * sy / n;
  const double var_x = sx2 - sx * sx / n;
  const double slope = cov_xy / var_x;
  return {slope, sy / n - slope * sx / n};
}

std::optional<double> Deriv(std::span<const Point> points,
                            const RangeContext&) {
  if (points.size() < 2) return std::nullopt;
  return LinearRegression(points, points.front().t).slope;
}

// args[0]: how many seconds after eval_t to predict.
std::optional<double> PredictLinear(std::span<const Point> points,
                                    const RangeContext& ctx) {
  if (points.size() < 2 || ctx.args.empty()) return std::nullopt;
  const Line line = LinearRegression(points, ctx.eval_t);
  return line.slope * ctx.args[0] + line.intercept;
}

// ---------------------------------------------------------------------------
// changes, resets.

std::optional<double> Changes(std::span<const Point> points,
                              const RangeContext&) {
  if (points.empty()) return std::nullopt;
  int64_t changes = 0;
  for (size_t i = 1; i < points.size(); ++i) {
    const double prev = points[i - 1].v;
    const double cur = points[i].v;
    // NaN to NaN is no change.
    if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) ++changes;
  }
  return static_cast<double>(changes);
}

std::optional<double> Resets(std::span<const Point> points,
                             const RangeContext&) {
  if (points.empty()) return std::nullopt;
  int64_t resets = 0;
  for (size_t i = 1; i < points.size(); ++i) {
    if (points[i].v < points[i - 1].v) ++resets;
  }
  return static_cast<double>(resets);
}

// ---------------------------------------------------------------------------
// holt_winters: double exponential smoothing.

// args[0] = smoothing factor sf, args[1] = trend factor tf, both in (0, 1)
// (checked by the engine). The level starts at the first value and the
// trend at the first difference; each later point updates the level, and
// from the third point on the trend is updated before it is used.
std::optional<double> HoltWinters(std::span<const Point> points,
                                  const RangeContext& ctx) {
  if (points.size() < 2 || ctx.args.size() < 2) return std::nullopt;
  const double sf = ctx.args[0];
  const double tf = ctx.args[1];
  double prev_level = 0;
  double level = points[0].v;
  double trend = points[1].v - points[0].v;
  for (size_t i = 1; i < points.size(); ++i) {
    if (i > 1) trend = tf * (level - prev_level) + (1 - tf) * trend;
    const double next = sf * points[i].v + (1 - sf) * (level + trend);
    prev_level = level;
    level = next;
  }
  return level;
}

// ---------------------------------------------------------------------------
// <aggregation>_over_time.

// The mean kept incrementally (mean += v/n - mean/n, compensated) so that
// large finite values do not overflow as a plain sum would. Once the mean
// is infinite it stays so unless an opposite infinity or a NaN arrives.
std::optional<double> AvgOverTime(std::span<const Point> points,
                                  const RangeContext&) {
  if (points.empty()) return std::nullopt;
  CompensatedSum mean;
  double count = 0;
  for (const Point& p : points) {
    ++count;
    if (std::isinf(mean.sum)) {
      // Inf - Inf would turn a correct infinite mean into NaN.
      if (std::isinf(p.v) && (mean.sum > 0) == (p.v > 0)) continue;
      if (std::isfinite(p.v)) continue;
    }
    mean.Add(p.v / count - mean.sum / count);
  }
  return mean.Value();
}

// NaN loses to any other value; only NaNs give NaN.
std::optional<double> MinOverTime(std::span<const Point> points,
                                  const RangeContext&) {
  if (points.empty()) return std::nullopt;
  double min = points.front().v;
  for (const Point& p : points) {
    if (p.v < min || std::isnan(min)) min = p.v;
  }
  return min;
}

std::optional<double> MaxOverTime(std::span<const Point> points,
                                  const RangeContext&) {
  if (points.empty()) return std::nullopt;
  double max = points.front().v;
  for (const Point& p : points) {
    if (p.v > max || std::isnan(max)) max = p.v;
  }
  return max;
}

std::optional<double> SumOverTime(std::span<const Point> points,
                                  const RangeContext&) {
  if (points.empty()) return std::nullopt;
  CompensatedSum sum;
  for (const Point& p : points) sum.Add(p.v);
  return sum.Value();
}

std::optional<double> CountOverTime(std::span<const Point> points,
                                    const RangeContext&) {
  if (points.empty()) return std::nullopt;
  return static_cast<double>(points.size());
}

// args[0] = φ.
std::optional<double> QuantileOverTime(std::span<const Point> points,
                                       const RangeContext& ctx) {
  if (points.empty() || ctx.args.empty()) return std::nullopt;
  std::vector<double> values;
  values.reserve(points.size());
  for (const Point& p : points) values.push_back(p.v);
  return Quantile(ctx.args[0], &values);
}

// The population variance by Welford's method with compensated mean and
// sum of squared deviations.
double Variance(std::span<const Point> points) {
  double count = 0;
  CompensatedSum mean;
  CompensatedSum squares;
  for (const Point& p : points) {
    ++count;
    const double delta = p.v - mean.Compensated();
    mean.Add(delta / count);
    squares.Add(delta * (p.v - mean.Compensated()));
  }
  return squares.Compensated() / count;
}

std::optional<double> StdvarOverTime(std::span<const Point> points,
                                     const RangeContext&) {
  if (points.empty()) return std::nullopt;
  return Variance(points);
}

std::optional<double> StddevOverTime(std::span<const Point> points,
                                     const RangeContext&) {
  if (points.empty()) return std::nullopt;
  return std::sqrt(Variance(points));
}

std::optional<double> LastOverTime(std::span<const Point> points,
                                   const RangeContext&) {
  if (points.empty()) return std::nullopt;
  return points.back().v;
}

std::optional<double> PresentOverTime(std::span<const Point> points,
                                      const RangeContext&) {
  if (points.empty()) return std::nullopt;
  return 1;
}

struct RangeFunctionEntry {
  std::string_view name;
  RangeFunction fn;
};

constexpr RangeFunctionEntry kRangeFunctions[] = {
    {"rate", Rate},
    {"increase", Increase},
    {"delta", Delta},
    {"irate", Irate},
    {"idelta", Idelta},
    {"deriv", Deriv},
    {"predict_linear", PredictLinear},
    {"changes", Changes},
    {"resets", Resets},
    {"holt_winters", HoltWinters},
    {"avg_over_time", AvgOverTime},
    {"min_over_time", MinOverTime},
    {"max_over_time", MaxOverTime},
    {"sum_over_time", SumOverTime},
    {"count_over_time", CountOverTime},
    {"quantile_over_time", QuantileOverTime},
    {"stddev_over_time", StddevOverTime},
    {"stdvar_over_time", StdvarOverTime},
    {"last_over_time", LastOverTime},
    {"present_over_time", PresentOverTime},
};

// ---------------------------------------------------------------------------
// histogram_quantile helpers.

// Merges buckets with the same upper bound (e.g. le="0.2" and le="2e-1")
// by adding their counts. REQUIRES: sorted by upper bound, not empty.
void CoalesceBuckets(std::vector<Bucket>* buckets) {
  size_t out = 0;
  for (size_t i = 1; i < buckets->size(); ++i) {
    if ((*buckets)[i].upper_bound == (*buckets)[out].upper_bound) {
      (*buckets)[out].count += (*buckets)[i].count;
    } else {
      (*buckets)[++out] = (*buckets)[i];
    }
  }
  buckets->resize(out + 1);
}

// Cumulative counts can come out non-monotonic when buckets are scraped or
// recorded at slightly different times; raise every count to the largest
// count below it. A NaN count is left alone (and a NaN first count disables
// the raising). REQUIRES: not empty.
void EnsureMonotonic(std::vector<Bucket>* buckets) {
  double max = buckets->front().count;
  for (Bucket& b : *buckets) {
    if (b.count > max) {
      max = b.count;
    } else if (b.count < max) {
      b.count = max;
    }
  }
}

}  // namespace

ScalarMath LookupScalarMath(std::string_view name) {
  for (const ScalarMathEntry& e : kScalarMath) {
    if (e.name == name) return e.fn;
  }
  return nullptr;
}

RangeFunction LookupRangeFunction(std::string_view name) {
  for (const RangeFunctionEntry& e : kRangeFunctions) {
    if (e.name == name) return e.fn;
  }
  return nullptr;
}

double Quantile(double phi, std::vector<double>* values) {
  if (values->empty()) return kNaN;
  if (std::isnan(phi)) return kNaN;
  if (phi < 0) return -kInf;
  if (phi > 1) return kInf;
  // NaN sorts below every number, as in Prometheus.
  std::sort(values->begin(), values->end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  const double n = static_cast<double>(values->size());
  const double rank = phi * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return (*values)[static_cast<size_t>(lower)] * (1 - weight) +
         (*values)[static_cast<size_t>(upper)] * weight;
}

double BucketQuantile(double phi, std::vector<Bucket> buckets) {
  if (std::isnan(phi)) return kNaN;
  if (phi < 0) return -kInf;
  if (phi > 1) return kInf;
  if (buckets.empty()) return kNaN;
  // A NaN bound (le="NaN") sorts first so that the order stays strict.
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) {
              if (std::isnan(a.upper_bound)) return !std::isnan(b.upper_bound);
              return a.upper_bound < b.upper_bound;
            });
  if (!std::isinf(buckets.back().upper_bound) ||
      buckets.back().upper_bound < 0) {
    return kNaN;
  }
  CoalesceBuckets(&buckets);
  EnsureMonotonic(&buckets);
  if (buckets.size() < 2) return kNaN;

  const double observations = buckets.back().count;
  if (observations == 0) return kNaN;
  double rank = phi * observations;
  // The first bucket (the +Inf bucket excluded) whose cumulative count
  // reaches the rank; the +Inf bucket when none does. Written as
  // !(count >= rank) so that a NaN count or rank never reaches it.
  const auto it = std::partition_point(
      buckets.begin(), buckets.end() - 1,
      [rank](const Bucket& b) { return !(b.count >= rank); });
  const size_t b = static_cast<size_t>(it - buckets.begin());

  // In the +Inf bucket the best estimate is its lower bound.
  if (b == buckets.size() - 1) return buckets[b - 1].upper_bound;
  // The lowest bucket reaching only to zero or below has no known start.
  if (b == 0 && buckets[0].upper_bound <= 0) return buckets[0].upper_bound;

  double start = 0;  // The lowest bucket starts at zero.
  const double end = buckets[b].upper_bound;
  double count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

}  // namespace vigil::promql
