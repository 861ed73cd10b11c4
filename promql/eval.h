// The engine's evaluator, shared by engine.cc (selectors, subqueries,
// dispatch), eval_binary.cc, eval_aggregate.cc and eval_call.cc. Internal
// to promql/.
//
// Every scalar or instant-vector expression evaluates to a Matrix whose
// points sit on the evaluator's steps (start, start+interval, ... end): a
// scalar is one series without labels with a point at every step; a vector
// is the series present at some steps. Range vectors (selectors and
// subqueries) evaluate to raw points only where a function or the top
// level asks for them.
#ifndef VIGIL_PROMQL_EVAL_H_
#define VIGIL_PROMQL_EVAL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "promql/engine.h"
#include "promql/parser/ast.h"
#include "promql/value.h"
#include "tsdb/storage.h"

namespace vigil::promql::internal {

struct EvalResult {
  ValueType type = ValueType::kNone;
  Matrix matrix;  // kScalar / kVector: step-aligned. kMatrix: raw points.
  std::string str;
};

// Collects output points per label set, in first-seen order.
class SeriesBuilder {
 public:
  // Adds (t, v) to the series `metric`; false when that series already has
  // a point at t (two outputs with the same labels at one step).
  bool Add(const model::Labels& metric, int64_t t, double v);
  Matrix Take() { return std::move(out_); }
  size_t NumPoints() const { return points_; }

 private:
  absl::flat_hash_map<uint64_t, std::vector<size_t>> index_;
  Matrix out_;
  size_t points_ = 0;
  // The series added to last: callers mostly add a series' points in a
  // row, and comparing labels is cheaper than hashing them.
  size_t last_ = static_cast<size_t>(-1);
};

// Walks a step-aligned Matrix step by step: At(t) lists the series with a
// point at t. Steps must be visited in increasing order.
class StepCursor {
 public:
  explicit StepCursor(const Matrix& m) : m_(&m), pos_(m.size(), 0) {}
  struct Entry {
    const Series* series;
    double v;
  };
  void At(int64_t t, std::vector<Entry>* out);

 private:
  const Matrix* m_;
  std::vector<size_t> pos_;
};

class Evaluator {
 public:
  Evaluator(const EngineOptions& opts, tsdb::Querier* querier, int64_t start, int64_t end,
            int64_t interval, const QueryOptions& qo, absl::Time deadline)
      : opts_(opts), querier_(querier), start_(start), end_(end), interval_(interval), qo_(qo),
        deadline_(deadline), query_start_(start), query_end_(end) {}

  // Evaluates `e`. Samples are counted as Prometheus counts them: what is
  // held while a node is evaluated counts against max_samples, and once it
  // is done only its result stays counted.
  absl::StatusOr<EvalResult> Eval(const Expr& e);

  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t interval() const { return interval_; }
  int64_t NumSteps() const { return (end_ - start_) / interval_ + 1; }
  int64_t StepTime(int64_t i) const { return start_ + i * interval_; }

  // Raw points of a range selector or subquery for every series, covering
  // the windows of all steps; `ranges` then gives each step's window
  // [mint, maxt] (inclusive). Stale markers are removed.
  struct RangeInput {
    Matrix series;
    int64_t range_ms = 0;
    std::vector<int64_t> window_end;  // Per step: maxt of its window.
  };
  absl::StatusOr<RangeInput> EvalRange(const Expr& e);
  // As EvalRange, but hands the series to `fn` one at a time (for range
  // selectors straight from storage, counted only while fn runs); `meta`
  // gets range_ms and window_end.
  absl::Status EvalRangeEach(const Expr& e, RangeInput* meta,
                             const std::function<absl::Status(Series&&)>& fn);

  // Checks the deadline and cancellation; charges `n` samples against
  // max_samples.
  absl::Status Charge(int64_t n);
  // Gives back `n` samples charged before.
  void Release(int64_t n);
  absl::Status CheckAlive();

  absl::StatusOr<EvalResult> EvalBinary(const BinaryExpr& b);
  absl::StatusOr<EvalResult> EvalAggregate(const AggregateExpr& a);
  absl::StatusOr<EvalResult> EvalCall(const Call& c, const Expr& whole);
  // For a call of a function over a range vector (other than
  // absent_over_time): evaluates it one input series at a time and hands
  // `emit` each output series (labels, then its points at the steps),
  // valid until emit returns. Output labels are distinct when
  // DistinctRangeCallLabels(c) holds.
  using EmitSeries =
      std::function<absl::Status(const model::Labels&, std::span<const Point>)>;
  absl::Status RangeCallEach(const Call& c, const EmitSeries& emit);
  // True when RangeCallEach(c) applies and its output series cannot share
  // labels (the function keeps the metric name, or the selector fixes it).
  static bool DistinctRangeCallLabels(const Call& c);

  // The vector at every step of a vector selector; with `timestamps`,
  // values are the samples' timestamps in seconds (for timestamp()).
  absl::StatusOr<EvalResult> EvalVectorSelector(const VectorSelector& vs, bool timestamps);

  const EngineOptions& opts() const { return opts_; }

 private:
  // Reference time of step t for an expression with `at` and `offset`.
  int64_t RefTime(int64_t t, const AtModifier& at, int64_t offset) const;
  // Calls fn with each selected series' samples in [mint, maxt], one at a
  // time (the Series is reused after fn returns).
  absl::Status SelectEach(const VectorSelector& vs, int64_t mint, int64_t maxt,
                          const std::function<absl::Status(Series&&)>& fn);
  absl::StatusOr<RangeInput> EvalSubqueryRange(const SubqueryExpr& sq);
  absl::StatusOr<EvalResult> EvalNode(const Expr& e);
  Evaluator* Root() { return parent_ == nullptr ? this : parent_->Root(); }

  const EngineOptions& opts_;
  tsdb::Querier* querier_;
  int64_t start_, end_, interval_;
  const QueryOptions& qo_;
  absl::Time deadline_;
  int64_t samples_ = 0;
  int64_t checks_ = 0;

 public:
  // The top-level query's start and end, for `@ start()` / `@ end()`.
  int64_t query_start_, query_end_;
  Evaluator* parent_ = nullptr;  // For subqueries: samples are charged up.
};

// "vector cannot contain metrics with the same labelset" (execution error).
absl::Status DuplicateLabelsetError();

// `e` without enclosing parentheses.
const Expr& Unparen(const Expr& e);

// Label helpers shared by the evaluators.
model::Labels DropMetricName(const model::Labels& ls);
// The signature of `ls` restricted to (on) or excluding (!on) `names`; a
// string key for hashing and equality.
std::string GroupingKey(const model::Labels& ls, const std::vector<std::string>& names, bool on);

}  // namespace vigil::promql::internal

#endif  // VIGIL_PROMQL_EVAL_H_
