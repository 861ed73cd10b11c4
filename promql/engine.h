// The PromQL engine: evaluates a parsed query over a tsdb::Querier as
// Prometheus 2.42 does (lookback, staleness, extrapolation, vector
// matching, aggregation), instant or over a range of steps.
//
// Thread-safety: an Engine is safe for concurrent use; each query gets its
// own evaluator.
#ifndef VIGIL_PROMQL_ENGINE_H_
#define VIGIL_PROMQL_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "promql/parser/ast.h"
#include "promql/value.h"
#include "tsdb/storage.h"

namespace vigil::promql {

struct EngineOptions {
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  // Most samples a query may hold in memory at once
  // (--query_max_samples).
  int64_t max_samples = 50'000'000;
  absl::Duration timeout = absl::Minutes(2);
  // Step of subqueries written without one (`x[5m:]`): the rule
  // evaluation interval in Prometheus, 1m by default.
  int64_t default_subquery_step_ms = 60 * 1000;
};

// Errors: kInvalidArgument for bad queries and arguments ("bad_data" in the
// API), kDeadlineExceeded for a timeout, kCancelled when cancelled,
// kResourceExhausted when max_samples is exceeded, and kFailedPrecondition
// for other execution errors (duplicate series, many-to-many matching...;
// "execution" in the API). Messages are Prometheus's.
struct QueryOptions {
  // Set to true from another thread to stop the query (client gone).
  const std::atomic<bool>* cancel = nullptr;
};

class Engine {
 public:
  explicit Engine(const EngineOptions& options) : options_(options) {}

  // Evaluates `expr` at `t` (ms). The result is a scalar, string, vector
  // or (for a bare range selector or subquery) matrix.
  absl::StatusOr<Value> Instant(tsdb::Querier* querier, const Expr& expr, int64_t t,
                                const QueryOptions& qo = {}) const;
  // Evaluates `expr` at start, start+step, ... <= end; the result is always
  // a matrix (a scalar expression gives one series without labels).
  // REQUIRES: step > 0, end >= start. Range-vector expressions are refused
  // (kInvalidArgument, as Prometheus).
  absl::StatusOr<Value> Range(tsdb::Querier* querier, const Expr& expr, int64_t start,
                              int64_t end, int64_t step, const QueryOptions& qo = {}) const;

  const EngineOptions& options() const { return options_; }

 private:
  EngineOptions options_;
};

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_ENGINE_H_
