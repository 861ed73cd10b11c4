#include "promql/parser/functions.h"

#include <algorithm>
#include <array>

namespace vigil::promql {
namespace {

using VT = ValueType;
constexpr VT kS = VT::kScalar;
constexpr VT kV = VT::kVector;
constexpr VT kM = VT::kMatrix;
constexpr VT kStr = VT::kString;

// Argument type lists shared by the table below.
constexpr VT kNoArgs[] = {kV};  // Only its empty prefix is used.
constexpr VT kVec[] = {kV};
constexpr VT kMat[] = {kM};
constexpr VT kScal[] = {kS};
constexpr VT kVecScal[] = {kV, kS};
constexpr VT kVecScalScal[] = {kV, kS, kS};
constexpr VT kScalVec[] = {kS, kV};
constexpr VT kScalMat[] = {kS, kM};
constexpr VT kMatScal[] = {kM, kS};
constexpr VT kMatScalScal[] = {kM, kS, kS};
constexpr VT kScalScalVec[] = {kS, kS, kV};
constexpr VT kLabelReplace[] = {kV, kStr, kStr, kStr, kStr};
constexpr VT kLabelJoin[] = {kV, kStr, kStr, kStr};

constexpr std::span<const VT> kNone(kNoArgs, 0);

// Prometheus 2.42's promql/parser/functions.go, in name order.
constexpr FunctionInfo kFunctions[] = {
    {"abs", kVec, 0, kV},
    {"absent", kVec, 0, kV},
    {"absent_over_time", kMat, 0, kV},
    {"acos", kVec, 0, kV},
    {"acosh", kVec, 0, kV},
    {"asin", kVec, 0, kV},
    {"asinh", kVec, 0, kV},
    {"atan", kVec, 0, kV},
    {"atanh", kVec, 0, kV},
    {"avg_over_time", kMat, 0, kV},
    {"ceil", kVec, 0, kV},
    {"changes", kMat, 0, kV},
    {"clamp", kVecScalScal, 0, kV},
    {"clamp_max", kVecScal, 0, kV},
    {"clamp_min", kVecScal, 0, kV},
    {"cos", kVec, 0, kV},
    {"cosh", kVec, 0, kV},
    {"count_over_time", kMat, 0, kV},
    {"day_of_month", kVec, 1, kV},
    {"day_of_week", kVec, 1, kV},
    {"day_of_year", kVec, 1, kV},
    {"days_in_month", kVec, 1, kV},
    {"deg", kVec, 0, kV},
    {"delta", kMat, 0, kV},
    {"deriv", kMat, 0, kV},
    {"exp", kVec, 0, kV},
    {"floor", kVec, 0, kV},
    {"histogram_count", kVec, 0, kV},
    {"histogram_fraction", kScalScalVec, 0, kV},
    {"histogram_quantile", kScalVec, 0, kV},
    {"histogram_sum", kVec, 0, kV},
    {"holt_winters", kMatScalScal, 0, kV},
    {"hour", kVec, 1, kV},
    {"idelta", kMat, 0, kV},
    {"increase", kMat, 0, kV},
    {"irate", kMat, 0, kV},
    {"label_join", kLabelJoin, -1, kV},
    {"label_replace", kLabelReplace, 0, kV},
    {"last_over_time", kMat, 0, kV},
    {"ln", kVec, 0, kV},
    {"log10", kVec, 0, kV},
    {"log2", kVec, 0, kV},
    {"max_over_time", kMat, 0, kV},
    {"min_over_time", kMat, 0, kV},
    {"minute", kVec, 1, kV},
    {"month", kVec, 1, kV},
    {"pi", kNone, 0, kS},
    {"predict_linear", kMatScal, 0, kV},
    {"present_over_time", kMat, 0, kV},
    {"quantile_over_time", kScalMat, 0, kV},
    {"rad", kVec, 0, kV},
    {"rate", kMat, 0, kV},
    {"resets", kMat, 0, kV},
    {"round", kVecScal, 1, kV},
    {"scalar", kVec, 0, kS},
    {"sgn", kVec, 0, kV},
    {"sin", kVec, 0, kV},
    {"sinh", kVec, 0, kV},
    {"sort", kVec, 0, kV},
    {"sort_desc", kVec, 0, kV},
    {"sqrt", kVec, 0, kV},
    {"stddev_over_time", kMat, 0, kV},
    {"stdvar_over_time", kMat, 0, kV},
    {"sum_over_time", kMat, 0, kV},
    {"tan", kVec, 0, kV},
    {"tanh", kVec, 0, kV},
    {"time", kNone, 0, kS},
    {"timestamp", kVec, 0, kV},
    {"vector", kScal, 0, kV},
    {"year", kVec, 1, kV},
};

constexpr bool SortedByName() {
  for (size_t i = 1; i < std::size(kFunctions); ++i) {
    if (!(kFunctions[i - 1].name < kFunctions[i].name)) return false;
  }
  return true;
}
static_assert(SortedByName(), "kFunctions must be sorted by name");

}  // namespace

const FunctionInfo* LookupFunction(std::string_view name) {
  const FunctionInfo* begin = std::begin(kFunctions);
  const FunctionInfo* end = std::end(kFunctions);
  const FunctionInfo* it = std::lower_bound(
      begin, end, name,
      [](const FunctionInfo& f, std::string_view n) { return f.name < n; });
  if (it == end || it->name != name) return nullptr;
  return it;
}

std::span<const FunctionInfo> AllFunctions() { return kFunctions; }

}  // namespace vigil::promql
