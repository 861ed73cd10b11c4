#include "promql/functions.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace vigil::promql {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;

// Points from values at 0, step, 2·step, ... (a `load <step>` line).
std::vector<Point> Series(int64_t step, std::initializer_list<double> values) {
  std::vector<Point> points;
  int64_t t = 0;
  for (double v : values) {
    points.push_back({t, v});
    t += step;
  }
  return points;
}

// `start+stepxn` from the test scripts: n+1 values.
std::vector<double> Ramp(double start, double step, int n) {
  std::vector<double> values;
  for (int i = 0; i <= n; ++i) values.push_back(start + step * i);
  return values;
}

std::vector<Point> Series(int64_t step, const std::vector<double>& values) {
  std::vector<Point> points;
  for (size_t i = 0; i < values.size(); ++i) {
    points.push_back({static_cast<int64_t>(i) * step, values[i]});
  }
  return points;
}

// The points of `all` inside [start, end].
std::vector<Point> Window(const std::vector<Point>& all, int64_t start,
                          int64_t end) {
  std::vector<Point> out;
  for (const Point& p : all) {
    if (p.t >= start && p.t <= end) out.push_back(p);
  }
  return out;
}

// Evaluates `name` over `range` before eval_t (no offset), as `name(x[range])`
// at eval_t does: the window's points are selected from `all`.
std::optional<double> Eval(std::string_view name, const std::vector<Point>& all,
                           int64_t eval_t, int64_t range,
                           std::vector<double> args = {}) {
  RangeFunction fn = LookupRangeFunction(name);
  EXPECT_NE(fn, nullptr) << name;
  if (fn == nullptr) return std::nullopt;
  RangeContext ctx;
  ctx.eval_t = eval_t;
  ctx.range_start = eval_t - range;
  ctx.range_end = eval_t;
  ctx.args = args;
  const std::vector<Point> window = Window(all, ctx.range_start, ctx.range_end);
  return fn(window, ctx);
}

double Math(std::string_view name, double v) {
  ScalarMath fn = LookupScalarMath(name);
  EXPECT_NE(fn, nullptr) << name;
  return fn == nullptr ? kNaN : fn(v);
}

bool IsNegativeZero(double v) { return v == 0 && std::signbit(v); }

// --- lookup -----------------------------------------------------------------

constexpr std::string_view kRangeFunctionNames[] = {"rate",
                                                    "increase",
                                                    "delta",
                                                    "irate",
                                                    "idelta",
                                                    "deriv",
                                                    "predict_linear",
                                                    "changes",
                                                    "resets",
                                                    "holt_winters",
                                                    "avg_over_time",
                                                    "min_over_time",
                                                    "max_over_time",
                                                    "sum_over_time",
                                                    "count_over_time",
                                                    "quantile_over_time",
                                                    "stddev_over_time",
                                                    "stdvar_over_time",
                                                    "last_over_time",
                                                    "present_over_time"};

TEST(LookupTest, KnowsEveryKernelAndNothingElse) {
  for (std::string_view name :
       {"abs",  "ceil", "floor", "exp",  "sqrt",  "ln",   "log2",  "log10",
        "sgn",  "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos",
        "cosh", "sin",  "sinh",  "tan",  "tanh",  "deg",  "rad"}) {
    EXPECT_NE(LookupScalarMath(name), nullptr) << name;
  }
  for (std::string_view name : kRangeFunctionNames) {
    EXPECT_NE(LookupRangeFunction(name), nullptr) << name;
  }
  EXPECT_EQ(LookupScalarMath("round"), nullptr);
  EXPECT_EQ(LookupScalarMath("rate"), nullptr);
  EXPECT_EQ(LookupScalarMath(""), nullptr);
  EXPECT_EQ(LookupRangeFunction("abs"), nullptr);
  EXPECT_EQ(LookupRangeFunction("absent_over_time"), nullptr);
  EXPECT_EQ(LookupRangeFunction("Rate"), nullptr);
}

TEST(LookupTest, EveryRangeFunctionGivesNothingForAnEmptyWindow) {
  for (std::string_view name : kRangeFunctionNames) {
    EXPECT_EQ(Eval(name, {}, kMinute, kMinute, {0.5, 0.5}), std::nullopt)
        << name;
  }
}

// --- scalar math ------------------------------------------------------------

TEST(ScalarMathTest, ExpLnSqrtFromTheTestScripts) {
  EXPECT_DOUBLE_EQ(Math("exp", 10), 22026.465794806718);
  EXPECT_DOUBLE_EQ(Math("exp", 20), 485165195.4097903);
  EXPECT_DOUBLE_EQ(Math("exp", -10), 4.5399929762484854e-05);
  EXPECT_EQ(Math("exp", 0), 1);
  EXPECT_DOUBLE_EQ(Math("ln", 10), 2.302585092994046);
  EXPECT_DOUBLE_EQ(Math("ln", 20), 2.995732273553991);
  EXPECT_EQ(Math("ln", 0), -kInf);
  EXPECT_TRUE(std::isnan(Math("ln", -10)));
  EXPECT_DOUBLE_EQ(Math("sqrt", 10), 3.1622776601683795);
  EXPECT_DOUBLE_EQ(Math("sqrt", 20), 4.47213595499958);
  EXPECT_TRUE(std::isnan(Math("sqrt", -1)));
  EXPECT_TRUE(IsNegativeZero(Math("sqrt", -0.0)));
}

TEST(ScalarMathTest, Log2IsExactForPowersOfTwo) {
  EXPECT_EQ(Math("log2", 8), 3);
  EXPECT_EQ(Math("log2", 1), 0);
  EXPECT_EQ(Math("log2", 0.25), -2);
  EXPECT_EQ(Math("log2", 1024), 10);
  EXPECT_DOUBLE_EQ(Math("log2", 10), 3.3219280948873626);
  EXPECT_DOUBLE_EQ(Math("log2", 20), 4.321928094887363);
  EXPECT_EQ(Math("log2", 0), -kInf);
  EXPECT_EQ(Math("log2", -0.0), -kInf);
  EXPECT_EQ(Math("log2", kInf), kInf);
  EXPECT_TRUE(std::isnan(Math("log2", -10)));
  EXPECT_TRUE(std::isnan(Math("log2", kNaN)));
}

TEST(ScalarMathTest, Log10RoundsLikeGo) {
  EXPECT_EQ(Math("log10", 10), 1);
  EXPECT_DOUBLE_EQ(Math("log10", 20), 1.301029995663981);
  // Go computes ln(v) · (1/ln 10) with the constant rounded once (exact
  // here); dividing by a rounded ln(10) would give 2.9999999999999996.
  EXPECT_EQ(Math("log10", 1000), 3);
  EXPECT_EQ(Math("log10", 0.001), -3);
  EXPECT_EQ(Math("log10", 0), -kInf);
  EXPECT_EQ(Math("log10", kInf), kInf);
  EXPECT_TRUE(std::isnan(Math("log10", -10)));
}

TEST(ScalarMathTest, AbsCeilFloorKeepSignedZeroAndSpecials) {
  EXPECT_EQ(Math("abs", -3.5), 3.5);
  EXPECT_EQ(Math("abs", -kInf), kInf);
  EXPECT_FALSE(std::signbit(Math("abs", -0.0)));
  EXPECT_TRUE(std::isnan(Math("abs", kNaN)));
  EXPECT_EQ(Math("ceil", 1.2), 2);
  EXPECT_TRUE(IsNegativeZero(Math("ceil", -0.5)));
  EXPECT_EQ(Math("ceil", -kInf), -kInf);
  EXPECT_EQ(Math("floor", -1.2), -2);
  EXPECT_TRUE(IsNegativeZero(Math("floor", -0.0)));
  EXPECT_EQ(Math("floor", kInf), kInf);
  EXPECT_TRUE(std::isnan(Math("floor", kNaN)));
}

TEST(ScalarMathTest, SgnFromTheTestScripts) {
  EXPECT_EQ(Math("sgn", -kInf), -1);
  EXPECT_EQ(Math("sgn", kInf), 1);
  EXPECT_TRUE(std::isnan(Math("sgn", kNaN)));
  EXPECT_EQ(Math("sgn", -50), -1);
  EXPECT_EQ(Math("sgn", 100), 1);
  EXPECT_EQ(Math("sgn", 1e-300), 1);
  // Zero is returned as it is, sign included.
  EXPECT_FALSE(std::signbit(Math("sgn", 0.0)));
  EXPECT_TRUE(IsNegativeZero(Math("sgn", -0.0)));
}

TEST(ScalarMathTest, TrigFromTheTestScripts) {
  EXPECT_DOUBLE_EQ(Math("sin", 10), -0.5440211108893699);
  EXPECT_DOUBLE_EQ(Math("sin", 20), 0.9129452507276277);
  EXPECT_DOUBLE_EQ(Math("cos", 10), -0.8390715290764524);
  EXPECT_DOUBLE_EQ(Math("cos", 20), 0.40808206181339196);
  EXPECT_DOUBLE_EQ(Math("tan", 10), 0.6483608274590867);
  EXPECT_DOUBLE_EQ(Math("tan", 20), 2.2371609442247427);
  EXPECT_DOUBLE_EQ(Math("asin", 10 - 10.1), -0.10016742116155944);
  EXPECT_TRUE(std::isnan(Math("asin", 20 - 10.1)));
  EXPECT_DOUBLE_EQ(Math("acos", 10 - 10.1), 1.670963747956456);
  EXPECT_TRUE(std::isnan(Math("acos", 20 - 10.1)));
  EXPECT_DOUBLE_EQ(Math("atan", 10), 1.4711276743037345);
  EXPECT_DOUBLE_EQ(Math("atan", 20), 1.5208379310729538);
  // The script expects cosh's value for sinh(10) too; it only passes there
  // because the script compares within 1e-6. (e^10 - e^-10) / 2 is this:
  EXPECT_DOUBLE_EQ(Math("sinh", 10), 11013.232874703393);
  EXPECT_NEAR(Math("sinh", 10), 11013.232920103324, 11013.23 * 1e-6);
  EXPECT_DOUBLE_EQ(Math("sinh", 20), 2.4258259770489514e+08);
  EXPECT_DOUBLE_EQ(Math("cosh", 10), 11013.232920103324);
  EXPECT_DOUBLE_EQ(Math("cosh", 20), 2.4258259770489514e+08);
  EXPECT_DOUBLE_EQ(Math("tanh", 10), 0.9999999958776927);
  EXPECT_EQ(Math("tanh", 20), 1);
  EXPECT_DOUBLE_EQ(Math("asinh", 10), 2.99822295029797);
  EXPECT_DOUBLE_EQ(Math("asinh", 20), 3.6895038689889055);
  EXPECT_DOUBLE_EQ(Math("acosh", 10), 2.993222846126381);
  EXPECT_DOUBLE_EQ(Math("acosh", 20), 3.6882538673612966);
  EXPECT_DOUBLE_EQ(Math("atanh", 10 - 10.1), -0.10033534773107522);
  EXPECT_TRUE(std::isnan(Math("atanh", 20 - 10.1)));
  for (std::string_view name :
       {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
        "asinh", "acosh", "atanh", "deg", "rad"}) {
    EXPECT_TRUE(std::isnan(Math(name, kNaN))) << name;
  }
}

TEST(ScalarMathTest, TrigSpecialValuesAsGo) {
  EXPECT_TRUE(std::isnan(Math("sin", kInf)));
  EXPECT_TRUE(std::isnan(Math("cos", -kInf)));
  EXPECT_TRUE(std::isnan(Math("tan", kInf)));
  EXPECT_TRUE(IsNegativeZero(Math("sin", -0.0)));
  EXPECT_TRUE(IsNegativeZero(Math("tan", -0.0)));
  EXPECT_TRUE(IsNegativeZero(Math("atanh", -0.0)));
  EXPECT_EQ(Math("atan", kInf), M_PI_2);
  EXPECT_EQ(Math("atanh", 1), kInf);
  EXPECT_EQ(Math("atanh", -1), -kInf);
  EXPECT_EQ(Math("acosh", 1), 0);
  EXPECT_TRUE(std::isnan(Math("acosh", 0.5)));
  EXPECT_EQ(Math("asinh", -kInf), -kInf);
  EXPECT_EQ(Math("cosh", -kInf), kInf);
  EXPECT_EQ(Math("sinh", -kInf), -kInf);
  EXPECT_EQ(Math("tanh", -kInf), -1);
}

TEST(ScalarMathTest, DegAndRadMultiplyThenDivide) {
  EXPECT_EQ(Math("rad", 10), 0.17453292519943295);
  EXPECT_EQ(Math("rad", 20), 0.3490658503988659);
  EXPECT_EQ(Math("rad", -10), -0.17453292519943295);
  EXPECT_EQ(Math("rad", 180), M_PI);
  EXPECT_EQ(Math("deg", 10), 572.9577951308232);
  EXPECT_EQ(Math("deg", 20), 1145.9155902616465);
  EXPECT_EQ(Math("deg", M_PI), 180);
  EXPECT_EQ(Math("deg", 0), 0);
  EXPECT_TRUE(IsNegativeZero(Math("deg", -0.0)));
  EXPECT_EQ(Math("deg", -kInf), -kInf);
  // (v · 180) overflows before the division, as in Go.
  EXPECT_EQ(Math("deg", 1e307), kInf);
}

// --- rate, increase, delta --------------------------------------------------

TEST(ExtrapolatedRateTest, IncreaseOverWholeSeries) {
  const auto foo = Series(5 * kMinute, Ramp(0, 10, 10));
  std::vector<double> bar = Ramp(0, 10, 5);
  for (double v : Ramp(0, 10, 5)) bar.push_back(v);
  const auto bar_points = Series(5 * kMinute, bar);
  EXPECT_EQ(Eval("increase", foo, 50 * kMinute, 50 * kMinute), 100);
  EXPECT_EQ(Eval("increase", bar_points, 50 * kMinute, 50 * kMinute), 90);
  // The series starts inside the window, 50m before its start: the window
  // start is far away, so only half an interval is added there; the end is
  // on the last point.
  EXPECT_EQ(Eval("increase", foo, 50 * kMinute, 100 * kMinute), 100);
  EXPECT_EQ(Eval("increase", bar_points, 50 * kMinute, 100 * kMinute), 90);
}

TEST(ExtrapolatedRateTest, CounterResetCountsFromZero) {
  // 3 2 is read as 3 0 1 2.
  const auto points = Series(5 * kMinute, {0, 1, 2, 3, 2, 3, 4});
  EXPECT_EQ(Eval("increase", points, 30 * kMinute, 30 * kMinute), 7);
}

TEST(ExtrapolatedRateTest, RateWithResetInTheMiddleAndAtTheEnd) {
  std::vector<double> middle = Ramp(0, 10, 4);
  for (double v : Ramp(0, 10, 5)) middle.push_back(v);
  EXPECT_DOUBLE_EQ(
      *Eval("rate", Series(5 * kMinute, middle), 50 * kMinute, 50 * kMinute),
      0.03);
  std::vector<double> end = Ramp(0, 10, 9);
  end.push_back(0);
  end.push_back(10);
  // 90 then 0: the whole increase is the reset's.
  EXPECT_EQ(Eval("rate", Series(5 * kMinute, end), 50 * kMinute, 5 * kMinute),
            0);
}

TEST(ExtrapolatedRateTest, RateIsPerSecondOfTheRange) {
  EXPECT_DOUBLE_EQ(*Eval("rate", Series(5 * kMinute, Ramp(0, 80, 10)),
                         50 * kMinute, 50 * kMinute),
                   0.26666666666666666);
  // rate(x[10m] offset 5m) at 50m: the window [35m, 45m].
  const auto a = Series(5 * kMinute, Ramp(0, 10, 10));
  RangeContext ctx;
  ctx.eval_t = 50 * kMinute;
  ctx.range_start = 35 * kMinute;
  ctx.range_end = 45 * kMinute;
  const auto window = Window(a, ctx.range_start, ctx.range_end);
  EXPECT_DOUBLE_EQ(*LookupRangeFunction("rate")(window, ctx),
                   0.03333333333333333);
}

TEST(ExtrapolatedRateTest, ZeroPointLimitsExtrapolationToTheStart) {
  // rate(testcounter_zero_cutoff[20m]) at 10m: counters started 0m..5m
  // before the first sample.
  const std::pair<double, double> cases[] = {
      {0, 0.5}, {60, 0.55}, {120, 0.6}, {180, 0.65}, {240, 0.7}, {300, 0.6}};
  for (const auto& [start, want] : cases) {
    const auto points = Series(4 * kMinute, Ramp(start, 240, 10));
    EXPECT_DOUBLE_EQ(*Eval("rate", points, 10 * kMinute, 20 * kMinute), want)
        << start;
    // Later, far from the zero point: normal half-interval cut-off at the
    // end (the series ended at 40m).
    EXPECT_DOUBLE_EQ(*Eval("rate", points, 50 * kMinute, 20 * kMinute), 0.6)
        << start;
  }
}

TEST(ExtrapolatedRateTest, ZeroPointIsAppliedBeforeTheThreshold) {
  // 240 at 0, 480 at 4m, 720 at 8m in [-10m, 10m]: 10m to the start, but
  // the counter was zero 4m before the first sample, which is within the
  // 1.1 × 4m threshold, so the full 4m is added (2.42's order; later
  // versions would add only half an interval).
  const auto points = Series(4 * kMinute, {240, 480, 720});
  EXPECT_DOUBLE_EQ(*Eval("increase", points, 10 * kMinute, 20 * kMinute),
                   480.0 * (480 + 240 + 120) / 480);
}

TEST(ExtrapolatedRateTest, DeltaFromTheTestScripts) {
  EXPECT_EQ(Eval("delta", Series(5 * kMinute, {0, 50, 100, 150, 200}),
                 20 * kMinute, 20 * kMinute),
            200);
  EXPECT_EQ(Eval("delta", Series(5 * kMinute, {200, 150, 100, 50, 0}),
                 20 * kMinute, 20 * kMinute),
            -200);
}

TEST(ExtrapolatedRateTest, ExtrapolatesToEdgesWithinThreshold) {
  // Points 5s from each edge of [0, 60s], 10s apart: extrapolated fully.
  const std::vector<Point> points = {{5 * kSecond, 1},  {15 * kSecond, 2},
                                     {25 * kSecond, 3}, {35 * kSecond, 4},
                                     {45 * kSecond, 5}, {55 * kSecond, 6}};
  EXPECT_DOUBLE_EQ(*Eval("delta", points, kMinute, kMinute), 6);
  EXPECT_DOUBLE_EQ(*Eval("increase", points, kMinute, kMinute), 6);
  EXPECT_DOUBLE_EQ(*Eval("rate", points, kMinute, kMinute), 0.1);
}

TEST(ExtrapolatedRateTest, ExtrapolatesHalfAnIntervalBeyondThreshold) {
  // 20s from the start (> 1.1 × 10s): only 5s there; 10s to the end.
  const std::vector<Point> points = {{20 * kSecond, 0},
                                     {30 * kSecond, 10},
                                     {40 * kSecond, 20},
                                     {50 * kSecond, 30}};
  EXPECT_DOUBLE_EQ(*Eval("delta", points, kMinute, kMinute), 45);
  // 12s is beyond 1.1 × 10s too.
  const std::vector<Point> late = {{12 * kSecond, 0},
                                   {22 * kSecond, 10},
                                   {32 * kSecond, 20},
                                   {42 * kSecond, 30},
                                   {52 * kSecond, 40}};
  EXPECT_DOUBLE_EQ(*Eval("delta", late, kMinute, kMinute),
                   40.0 * (40 + 5 + 8) / 40);
}

TEST(ExtrapolatedRateTest, CounterNotExtrapolatedBelowZero) {
  // 5 at 10s ... 25 at 30s in [0, 40s]: the counter was 0 at 5s, so only
  // 5s are added at the start; a gauge gets the full 10s.
  const std::vector<Point> points = {
      {10 * kSecond, 5}, {20 * kSecond, 15}, {30 * kSecond, 25}};
  EXPECT_DOUBLE_EQ(*Eval("increase", points, 40 * kSecond, 40 * kSecond), 35);
  EXPECT_DOUBLE_EQ(*Eval("delta", points, 40 * kSecond, 40 * kSecond), 40);
  // A negative first value disables the zero-point limit.
  const std::vector<Point> negative = {
      {10 * kSecond, -5}, {20 * kSecond, 5}, {30 * kSecond, 15}};
  EXPECT_DOUBLE_EQ(*Eval("increase", negative, 40 * kSecond, 40 * kSecond), 40);
}

TEST(ExtrapolatedRateTest, PointsOnBothEdgesAreInTheWindow) {
  // The window is closed: points at exactly range_start and range_end.
  const auto points = Series(10 * kSecond, {0, 10, 20, 30, 40, 50, 60});
  EXPECT_EQ(Eval("increase", points, kMinute, kMinute), 60);
  EXPECT_EQ(Eval("rate", points, kMinute, kMinute), 1);
}

TEST(ExtrapolatedRateTest, NeedsTwoPoints) {
  const std::vector<Point> one = {{30 * kSecond, 5}};
  EXPECT_EQ(Eval("rate", one, kMinute, kMinute), std::nullopt);
  EXPECT_EQ(Eval("increase", one, kMinute, kMinute), std::nullopt);
  EXPECT_EQ(Eval("delta", one, kMinute, kMinute), std::nullopt);
}

TEST(ExtrapolatedRateTest, NaNAndInfPropagate) {
  const std::vector<Point> nan = {{0, 1}, {10 * kSecond, kNaN}};
  EXPECT_TRUE(std::isnan(*Eval("delta", nan, 10 * kSecond, 10 * kSecond)));
  EXPECT_TRUE(std::isnan(*Eval("rate", nan, 10 * kSecond, 10 * kSecond)));
  const std::vector<Point> inf = {{0, 1}, {10 * kSecond, kInf}};
  EXPECT_EQ(Eval("increase", inf, 10 * kSecond, 10 * kSecond), kInf);
}

// --- irate, idelta ----------------------------------------------------------

TEST(InstantValueTest, IrateFromTheTestScripts) {
  const auto foo = Series(5 * kMinute, Ramp(0, 10, 10));
  std::vector<double> bar = Ramp(0, 10, 5);
  for (double v : Ramp(0, 10, 5)) bar.push_back(v);
  const auto bar_points = Series(5 * kMinute, bar);
  EXPECT_DOUBLE_EQ(*Eval("irate", foo, 50 * kMinute, 50 * kMinute),
                   0.03333333333333333);
  EXPECT_DOUBLE_EQ(*Eval("irate", bar_points, 50 * kMinute, 50 * kMinute),
                   0.03333333333333333);
  EXPECT_DOUBLE_EQ(*Eval("irate", foo, 30 * kMinute, 50 * kMinute),
                   0.03333333333333333);
  // 50 then 0 at 30m: a reset to 0, so 0 per second.
  EXPECT_EQ(Eval("irate", bar_points, 30 * kMinute, 50 * kMinute), 0);
}

TEST(InstantValueTest, IrateAfterResetUsesTheNewValue) {
  const std::vector<Point> points = {
      {0, 100}, {10 * kSecond, 200}, {12 * kSecond, 30}};
  EXPECT_DOUBLE_EQ(*Eval("irate", points, 20 * kSecond, 20 * kSecond), 15);
  EXPECT_DOUBLE_EQ(*Eval("idelta", points, 20 * kSecond, 20 * kSecond), -170);
}

TEST(InstantValueTest, IdeltaFromTheTestScripts) {
  EXPECT_EQ(Eval("idelta", Series(5 * kMinute, {0, 50, 100, 150}), 20 * kMinute,
                 20 * kMinute),
            50);
  EXPECT_EQ(Eval("idelta", Series(5 * kMinute, {0, 50, 100, 50}), 20 * kMinute,
                 20 * kMinute),
            -50);
}

TEST(InstantValueTest, NeedsTwoPointsAtDifferentTimes) {
  const std::vector<Point> one = {{0, 1}};
  EXPECT_EQ(Eval("irate", one, kMinute, kMinute), std::nullopt);
  EXPECT_EQ(Eval("idelta", one, kMinute, kMinute), std::nullopt);
  const std::vector<Point> same_time = {{0, 1}, {kSecond, 2}, {kSecond, 4}};
  EXPECT_EQ(Eval("irate", same_time, kMinute, kMinute), std::nullopt);
  EXPECT_EQ(Eval("idelta", same_time, kMinute, kMinute), std::nullopt);
}

// --- deriv, predict_linear
// ----------------------------------------------------

std::vector<Point> ResetMiddle() {
  std::vector<double> v = Ramp(0, 10, 4);
  for (double x : Ramp(0, 10, 5)) v.push_back(x);
  return Series(5 * kMinute, v);
}

TEST(LinearRegressionTest, DerivFromTheTestScripts) {
  EXPECT_DOUBLE_EQ(*Eval("deriv", Series(5 * kMinute, Ramp(0, 80, 10)),
                         50 * kMinute, 50 * kMinute),
                   0.26666666666666666);
  EXPECT_DOUBLE_EQ(*Eval("deriv", ResetMiddle(), 50 * kMinute, 100 * kMinute),
                   0.010606060606060607);
}

TEST(LinearRegressionTest, PredictLinearFromTheTestScripts) {
  EXPECT_DOUBLE_EQ(*Eval("predict_linear", ResetMiddle(), 50 * kMinute,
                         100 * kMinute, {3600}),
                   76.81818181818181);
  // predict_linear(x[100m] @ 3000, 3600) evaluated at 10m and 70m: the
  // window ends at 3000s but the line is evaluated from the step's time.
  const auto all = ResetMiddle();
  for (const auto& [eval_t, want] :
       {std::pair<int64_t, double>{10 * kMinute, 51.36363636363637},
        {70 * kMinute, 89.54545454545455}}) {
    RangeContext ctx;
    ctx.eval_t = eval_t;
    ctx.range_start = 3000 * kSecond - 100 * kMinute;
    ctx.range_end = 3000 * kSecond;
    const double args[] = {3600};
    ctx.args = args;
    const auto window = Window(all, ctx.range_start, ctx.range_end);
    EXPECT_DOUBLE_EQ(*LookupRangeFunction("predict_linear")(window, ctx), want);
  }
}

TEST(LinearRegressionTest, ConstantSeriesHasSlopeZero) {
  const auto points = Series(10 * kSecond, {7, 7, 7, 7});
  EXPECT_EQ(Eval("deriv", points, kMinute, kMinute), 0);
  EXPECT_EQ(Eval("predict_linear", points, kMinute, kMinute, {3600}), 7);
  // An infinite constant has no line through it.
  const auto inf = Series(10 * kSecond, {kInf, kInf});
  EXPECT_TRUE(std::isnan(*Eval("deriv", inf, kMinute, kMinute)));
  EXPECT_TRUE(std::isnan(*Eval("predict_linear", inf, kMinute, kMinute, {60})));
}

TEST(LinearRegressionTest, ExactLineAtLargeTimestamps) {
  // 2 per second around 2023: relative x keeps the fit exact.
  const int64_t base = 1'676'000'000'000;
  std::vector<Point> points;
  for (int i = 0; i < 5; ++i) {
    points.push_back({base + i * 15 * kSecond, 1000.0 + 30.0 * i});
  }
  const int64_t eval_t = base + 60 * kSecond;
  EXPECT_DOUBLE_EQ(*Eval("deriv", points, eval_t, 5 * kMinute), 2);
  EXPECT_DOUBLE_EQ(*Eval("predict_linear", points, eval_t, 5 * kMinute, {30}),
                   1180);
}

TEST(LinearRegressionTest, NeedsTwoPoints) {
  const std::vector<Point> one = {{0, 1}};
  EXPECT_EQ(Eval("deriv", one, kMinute, kMinute), std::nullopt);
  EXPECT_EQ(Eval("predict_linear", one, kMinute, kMinute, {60}), std::nullopt);
}

// --- changes, resets
// ----------------------------------------------------------

TEST(ChangesResetsTest, FromTheTestScripts) {
  const auto foo = Series(5 * kMinute, {1, 2, 3, 0, 1, 0, 0, 1, 2, 0});
  const auto bar = Series(5 * kMinute, {1, 2, 3, 4, 5, 1, 2, 3, 4, 5});
  const auto biz = Series(5 * kMinute, {0, 0, 0, 0, 0, 1, 1, 1, 1, 1});
  const struct {
    int64_t range;
    double foo_resets, bar_resets, foo_changes, bar_changes, biz_changes;
  } cases[] = {
      {5 * kMinute, 0, 0, 0, 0, 0},
      {20 * kMinute, 1, 0, 3, 3, 0},
      {30 * kMinute, 2, 1, 4, 5, 1},
      {50 * kMinute, 3, 1, 8, 9, 1},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Eval("resets", foo, 50 * kMinute, c.range), c.foo_resets);
    EXPECT_EQ(Eval("resets", bar, 50 * kMinute, c.range), c.bar_resets);
    EXPECT_EQ(Eval("resets", biz, 50 * kMinute, c.range), 0);
    EXPECT_EQ(Eval("changes", foo, 50 * kMinute, c.range), c.foo_changes);
    EXPECT_EQ(Eval("changes", bar, 50 * kMinute, c.range), c.bar_changes);
    EXPECT_EQ(Eval("changes", biz, 50 * kMinute, c.range), c.biz_changes);
  }
}

TEST(ChangesResetsTest, NaNToNaNIsNoChange) {
  EXPECT_EQ(Eval("changes", Series(5 * kMinute, {kNaN, kNaN, kNaN}),
                 15 * kMinute, 15 * kMinute),
            0);
  EXPECT_EQ(Eval("changes", Series(5 * kMinute, {0, kNaN, 0}), 15 * kMinute,
                 15 * kMinute),
            2);
  // NaN compares false, so it never counts as a reset.
  EXPECT_EQ(Eval("resets", Series(5 * kMinute, {5, kNaN, 1}), 15 * kMinute,
                 15 * kMinute),
            0);
}

TEST(ChangesResetsTest, OnePointHasNone) {
  const std::vector<Point> one = {{0, 3}};
  EXPECT_EQ(Eval("changes", one, kMinute, kMinute), 0);
  EXPECT_EQ(Eval("resets", one, kMinute, kMinute), 0);
}

// --- holt_winters
// -------------------------------------------------------------

TEST(HoltWintersTest, FollowsLinearTrendsFromTheTestScripts) {
  const struct {
    std::vector<double> values;
    double want;
  } cases[] = {
      {Ramp(0, 10, 1000), 8000},
      {Ramp(0, 40, 2000), 32000},
      {Ramp(8000, -10, 1000), 0},
      {Ramp(0, -20, 1000), -16000},
  };
  for (const auto& c : cases) {
    const auto points = Series(10 * kSecond, c.values);
    EXPECT_NEAR(
        *Eval("holt_winters", points, 8000 * kSecond, kMinute, {0.01, 0.1}),
        c.want, 1e-6)
        << c.want;
  }
}

TEST(HoltWintersTest, HandComputedSmoothing) {
  // sf = tf = 0.5 over 1, 3, 2:
  //   level 1, trend 2
  //   i=1: level = 0.5·3 + 0.5·(1 + 2) = 3
  //   i=2: trend = 0.5·(3 - 1) + 0.5·2 = 2; level = 0.5·2 + 0.5·(3 + 2) = 3.5
  const auto points = Series(10 * kSecond, {1, 3, 2});
  EXPECT_EQ(Eval("holt_winters", points, kMinute, kMinute, {0.5, 0.5}), 3.5);
  // Two points: level = sf·x1 + (1 - sf)·(x0 + (x1 - x0)) = x1.
  EXPECT_DOUBLE_EQ(*Eval("holt_winters", Series(10 * kSecond, {1, 3}), kMinute,
                         kMinute, {0.3, 0.7}),
                   3);
}

TEST(HoltWintersTest, NeedsTwoPoints) {
  EXPECT_EQ(Eval("holt_winters", Series(10 * kSecond, {1}), kMinute, kMinute,
                 {0.5, 0.5}),
            std::nullopt);
}

// --- avg/sum/count_over_time
// --------------------------------------------------

double AvgOverTime(std::initializer_list<double> values) {
  return *Eval("avg_over_time", Series(10 * kSecond, values), kMinute, kMinute);
}
double SumOverTime(std::initializer_list<double> values) {
  return *Eval("sum_over_time", Series(10 * kSecond, values), kMinute, kMinute);
}

TEST(OverTimeTest, AvgFromTheTestScripts) {
  EXPECT_EQ(AvgOverTime({1, 2, 3, 4, 5}), 3);
  EXPECT_EQ(AvgOverTime({1, 2, 3, 4, kInf}), kInf);
  EXPECT_EQ(AvgOverTime({1, 2, 3, 4, -kInf}), -kInf);
  EXPECT_TRUE(std::isnan(AvgOverTime({1, 2, 3, kInf, -kInf})));
  EXPECT_EQ(AvgOverTime({kInf, 0, kInf}), kInf);
  EXPECT_TRUE(std::isnan(AvgOverTime({kInf, kInf, kInf, -kInf})));
  EXPECT_EQ(AvgOverTime({1, 2, 3, -kInf, -kInf}), -kInf);
  EXPECT_EQ(AvgOverTime({-kInf, 0, -kInf}), -kInf);
  EXPECT_TRUE(std::isnan(AvgOverTime({-kInf, -kInf, -kInf, kInf})));
  EXPECT_TRUE(std::isnan(AvgOverTime({1, 2, -kInf, -kInf, kInf})));
  // Large values: the incremental mean does not overflow.
  EXPECT_EQ(AvgOverTime({9.988465674311579e+307, 9.988465674311579e+307}),
            9.988465674311579e+307);
  EXPECT_EQ(AvgOverTime({-9.988465674311579e+307, -9.988465674311579e+307,
                         -9.988465674311579e+307}),
            -9.988465674311579e+307);
  EXPECT_EQ(AvgOverTime({-9.988465674311579e+307, 9.988465674311579e+307}), 0);
  EXPECT_TRUE(std::isnan(AvgOverTime({1, kNaN, 3})));
}

TEST(OverTimeTest, SumFromTheTestScripts) {
  EXPECT_EQ(SumOverTime({1, 2, 3, 4, 5}), 15);
  EXPECT_EQ(SumOverTime({1, 2, 3, 4, kInf}), kInf);
  EXPECT_EQ(SumOverTime({kInf, 0, kInf}), kInf);
  EXPECT_TRUE(std::isnan(SumOverTime({1, 2, 3, kInf, -kInf})));
  // A plain sum of large values overflows.
  EXPECT_EQ(SumOverTime({9.988465674311579e+307, 9.988465674311579e+307}),
            kInf);
  EXPECT_EQ(SumOverTime({-9.988465674311579e+307, 9.988465674311579e+307}), 0);
}

TEST(OverTimeTest, SumIsCompensated) {
  // 1 + 1e100 + 1 - 1e100 is 0 plainly, 2 with compensation.
  EXPECT_EQ(SumOverTime({1, 1e100, 1, -1e100}), 2);
  // 0.1 ten times is 0.9999999999999999 plainly; compensated, the exact
  // sum of the ten doubles rounded once.
  const std::vector<double> tenths(10, 0.1);
  EXPECT_EQ(
      Eval("sum_over_time", Series(5 * kSecond, tenths), kMinute, kMinute), 1);
}

TEST(OverTimeTest, CountLastPresent) {
  const auto points = Series(10 * kSecond, {2, kNaN, 1});
  EXPECT_EQ(Eval("count_over_time", points, kMinute, kMinute), 3);
  EXPECT_EQ(Eval("last_over_time", points, kMinute, kMinute), 1);
  EXPECT_EQ(Eval("present_over_time", points, kMinute, kMinute), 1);
  EXPECT_TRUE(std::isnan(*Eval(
      "last_over_time", Series(10 * kSecond, {2, 0, kNaN}), kMinute, kMinute)));
  const std::vector<Point> one = {{0, -4}};
  EXPECT_EQ(Eval("count_over_time", one, kMinute, kMinute), 1);
  EXPECT_EQ(Eval("last_over_time", one, kMinute, kMinute), -4);
  EXPECT_EQ(Eval("present_over_time", one, kMinute, kMinute), 1);
}

// --- min/max_over_time
// --------------------------------------------------------

TEST(OverTimeTest, MinMaxPreferNumbersToNaN) {
  const struct {
    std::vector<double> values;
    double min, max;
  } cases[] = {
      {{2, 0, 3}, 0, 3},
      {{2, 0, kNaN}, 0, 2},
      {{2, kNaN, 1}, 1, 2},
      {{kNaN, 0, 1}, 0, 1},
      {{kNaN, -kInf, kInf}, -kInf, kInf},
      {{5}, 5, 5},
  };
  for (const auto& c : cases) {
    const auto points = Series(10 * kSecond, c.values);
    EXPECT_EQ(Eval("min_over_time", points, kMinute, kMinute), c.min);
    EXPECT_EQ(Eval("max_over_time", points, kMinute, kMinute), c.max);
  }
  const auto only_nan = Series(10 * kSecond, {kNaN, kNaN, kNaN});
  EXPECT_TRUE(std::isnan(*Eval("min_over_time", only_nan, kMinute, kMinute)));
  EXPECT_TRUE(std::isnan(*Eval("max_over_time", only_nan, kMinute, kMinute)));
}

// --- stddev/stdvar_over_time
// --------------------------------------------------

TEST(OverTimeTest, StddevStdvarFromTheTestScripts) {
  const auto points = Series(10 * kSecond, {0, 8, 8, 2, 3});
  EXPECT_DOUBLE_EQ(*Eval("stdvar_over_time", points, kMinute, kMinute), 10.56);
  EXPECT_NEAR(*Eval("stddev_over_time", points, kMinute, kMinute), 3.249615,
              1e-6);
  const auto constant =
      Series(10 * kSecond,
             {1.5990505637277868, 1.5990505637277868, 1.5990505637277868});
  EXPECT_EQ(Eval("stdvar_over_time", constant, kMinute, kMinute), 0);
  EXPECT_EQ(Eval("stddev_over_time", constant, kMinute, kMinute), 0);
}

TEST(OverTimeTest, StddevStdvarEdgeCases) {
  const std::vector<Point> one = {{0, 42}};
  EXPECT_EQ(Eval("stdvar_over_time", one, kMinute, kMinute), 0);
  EXPECT_EQ(Eval("stddev_over_time", one, kMinute, kMinute), 0);
  // Population variance of 1, 2, 3, 4 is 1.25.
  EXPECT_DOUBLE_EQ(*Eval("stdvar_over_time", Series(10 * kSecond, {1, 2, 3, 4}),
                         kMinute, kMinute),
                   1.25);
  // Large offset, small spread: no cancellation.
  EXPECT_DOUBLE_EQ(*Eval("stdvar_over_time",
                         Series(10 * kSecond, {1e9 + 1, 1e9 + 2, 1e9 + 3}),
                         kMinute, kMinute),
                   2.0 / 3);
  EXPECT_TRUE(std::isnan(*Eval(
      "stdvar_over_time", Series(10 * kSecond, {1, kNaN}), kMinute, kMinute)));
  EXPECT_TRUE(std::isnan(*Eval(
      "stddev_over_time", Series(10 * kSecond, {1, kInf}), kMinute, kMinute)));
}

// --- quantile_over_time, Quantile
// ---------------------------------------------

TEST(QuantileTest, QuantileOverTimeFromTheTestScripts) {
  const auto two = Series(10 * kSecond, {0, 1});
  const auto three = Series(10 * kSecond, {0, 1, 2});
  const auto uneven = Series(10 * kSecond, {0, 1, 4});
  const struct {
    double phi, two, three, uneven;
  } cases[] = {
      {0, 0, 0, 0},          {0.5, 0.5, 1, 1}, {0.75, 0.75, 1.5, 2.5},
      {0.8, 0.8, 1.6, 2.8},  {1, 1, 2, 4},     {-1, -kInf, -kInf, -kInf},
      {2, kInf, kInf, kInf},
  };
  for (const auto& c : cases) {
    EXPECT_DOUBLE_EQ(
        *Eval("quantile_over_time", two, kMinute, kMinute, {c.phi}), c.two);
    EXPECT_DOUBLE_EQ(
        *Eval("quantile_over_time", three, kMinute, kMinute, {c.phi}), c.three);
    EXPECT_DOUBLE_EQ(
        *Eval("quantile_over_time", uneven, kMinute, kMinute, {c.phi}),
        c.uneven);
  }
}

TEST(QuantileTest, AggregationCases) {
  std::vector<double> values = {4, 0, 1};
  EXPECT_DOUBLE_EQ(Quantile(0.8, &values), 2.8);
  EXPECT_EQ(values, (std::vector<double>{0, 1, 4}));  // Sorted.
  values = {1, 0};
  EXPECT_TRUE(std::isnan(Quantile(kNaN, &values)));
  EXPECT_EQ(Quantile(-0.1, &values), -kInf);
  EXPECT_EQ(Quantile(1.1, &values), kInf);
  std::vector<double> empty;
  EXPECT_TRUE(std::isnan(Quantile(0.5, &empty)));
  std::vector<double> one = {7};
  EXPECT_EQ(Quantile(0, &one), 7);
  EXPECT_EQ(Quantile(0.3, &one), 7);
  EXPECT_EQ(Quantile(1, &one), 7);
}

TEST(QuantileTest, NaNSortsBelowEverything) {
  std::vector<double> values = {3, kNaN, 1, 2};
  EXPECT_TRUE(std::isnan(Quantile(0, &values)));
  EXPECT_TRUE(std::isnan(values[0]));
  EXPECT_EQ(values[1], 1);
  EXPECT_EQ(Quantile(1, &values), 3);
  // Between the NaN and the smallest number: NaN.
  EXPECT_TRUE(std::isnan(Quantile(0.2, &values)));
  EXPECT_DOUBLE_EQ(Quantile(0.5, &values), 1.5);
}

TEST(QuantileTest, Infinities) {
  std::vector<double> values = {-kInf, 0, kInf};
  EXPECT_EQ(Quantile(0, &values), -kInf);
  EXPECT_EQ(Quantile(0.25, &values), -kInf);
  // Both neighbours are always weighted, and Inf · 0 is NaN (as in Go):
  // φ = 0.5 is 0 · 1 + Inf · 0, φ = 1 is Inf · 1 + Inf · 0.
  EXPECT_TRUE(std::isnan(Quantile(0.5, &values)));
  EXPECT_TRUE(std::isnan(Quantile(1, &values)));
  std::vector<double> zero_inf = {kInf, 0};
  EXPECT_TRUE(std::isnan(Quantile(0, &zero_inf)));
  EXPECT_EQ(Quantile(0.5, &zero_inf), kInf);
}

// --- BucketQuantile
// -----------------------------------------------------------

TEST(BucketQuantileTest, PhiOutOfRange) {
  const std::vector<Bucket> buckets = {{0.1, 50}, {kInf, 120}};
  EXPECT_EQ(BucketQuantile(-0.1, buckets), -kInf);
  EXPECT_EQ(BucketQuantile(1.01, buckets), kInf);
  EXPECT_TRUE(std::isnan(BucketQuantile(kNaN, buckets)));
}

TEST(BucketQuantileTest, PositiveLowestBucketStartsAtZero) {
  // testhistogram{start="positive"} at 50m, in scrambled order.
  const std::vector<Bucket> buckets = {
      {1, 110}, {0.1, 50}, {kInf, 120}, {0.2, 70}};
  EXPECT_EQ(BucketQuantile(0, buckets), 0);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.2, buckets), 0.048);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, buckets), 0.15);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.8, buckets), 0.72);
  EXPECT_EQ(BucketQuantile(1, buckets), 1);
}

TEST(BucketQuantileTest, NegativeLowestBucket) {
  // testhistogram{start="negative"} at 50m.
  const std::vector<Bucket> buckets = {
      {-0.2, 10}, {-0.1, 20}, {0.3, 20}, {kInf, 30}};
  EXPECT_EQ(BucketQuantile(0, buckets), -0.2);
  EXPECT_EQ(BucketQuantile(0.2, buckets), -0.2);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, buckets), -0.15);
  EXPECT_EQ(BucketQuantile(0.8, buckets), 0.3);
  EXPECT_EQ(BucketQuantile(1, buckets), 0.3);
}

TEST(BucketQuantileTest, MiddleOfBuckets) {
  // testhistogram2 at 7m.
  const std::vector<Bucket> buckets = {
      {0, 0}, {2, 1}, {4, 2}, {6, 3}, {kInf, 3}};
  EXPECT_DOUBLE_EQ(BucketQuantile(1. / 6., buckets), 1);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, buckets), 3);
  EXPECT_DOUBLE_EQ(BucketQuantile(5. / 6., buckets), 5);
  EXPECT_EQ(BucketQuantile(0, buckets), 0);
}

TEST(BucketQuantileTest, NonMonotonicCountsAreRaised) {
  const std::vector<Bucket> buckets = {{0.1, 20}, {1, 10},    {10, 50},
                                       {100, 40}, {1000, 90}, {kInf, 80}};
  EXPECT_DOUBLE_EQ(BucketQuantile(0.01, buckets), 0.0045);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, buckets), 8.5);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.99, buckets), 979.75);
}

TEST(BucketQuantileTest, SameBoundsAreCoalesced) {
  // le="0.2", "2e-1" and "2.0e-1" are one bucket.
  const std::vector<Bucket> buckets = {
      {0.1, 1}, {0.2, 1}, {0.2, 1}, {0.2, 1}, {kInf, 4}};
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, buckets), 0.15);
  EXPECT_EQ(BucketQuantile(0.75, buckets), 0.2);
  EXPECT_EQ(BucketQuantile(1, buckets), 0.2);
  // "+inf" and "+Inf": one bucket, fewer than two buckets → NaN.
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {{kInf, 3}, {kInf, 4}})));
}

TEST(BucketQuantileTest, InfBucketGivesHighestFiniteBound) {
  const std::vector<Bucket> buckets = {{1, 1}, {2, 2}, {kInf, 10}};
  EXPECT_EQ(BucketQuantile(0.5, buckets), 2);
  EXPECT_EQ(BucketQuantile(1, buckets), 2);
}

TEST(BucketQuantileTest, NaNResults) {
  // No +Inf bucket.
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {{0.1, 1}, {0.2, 2}})));
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {{0.1, 1}, {-kInf, 2}})));
  // Only the +Inf bucket.
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {{kInf, 10}})));
  // No observations.
  EXPECT_TRUE(std::isnan(BucketQuantile(0.2, {{0.1, 0}, {0.2, 0}, {kInf, 0}})));
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {})));
  // φ = 0 with an empty positive lowest bucket: 0/0 inside the bucket.
  EXPECT_TRUE(std::isnan(BucketQuantile(0, {{1, 0}, {2, 5}, {kInf, 5}})));
}

TEST(BucketQuantileTest, NaNCountsNeverReachTheRank) {
  // A NaN total: the rank is NaN and no bucket reaches it, so the answer is
  // the +Inf bucket's lower bound.
  EXPECT_EQ(BucketQuantile(0.5, {{1, 1}, {2, 2}, {kInf, kNaN}}), 2);
  // A NaN first count is not raised and the search passes over it.
  EXPECT_DOUBLE_EQ(BucketQuantile(0.9, {{1, kNaN}, {2, 5}, {kInf, 10}}), 2);
}

TEST(BucketQuantileTest, RankFallsOnBucketBoundary) {
  // Rank 2 of 4 is reached exactly by the first bucket's count.
  const std::vector<Bucket> buckets = {{1, 2}, {3, 4}, {kInf, 4}};
  EXPECT_EQ(BucketQuantile(0.5, buckets), 1);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.75, buckets), 2);
}

}  // namespace
}  // namespace vigil::promql
