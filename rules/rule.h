// The rule interface and Prometheus 2.42's two rule kinds: recording rules
// (an expression's result stored under a new metric name) and alerting
// rules (an expression's result turned into alerts with a pending/firing
// lifecycle and the ALERTS / ALERTS_FOR_STATE series).
//
// A rule only computes: Eval returns the samples to store and updates the
// rule's own state (alerts). Storing them, stale markers and health
// bookkeeping are the group's job (rules/group.h), which calls Eval and
// then SetEvalResult. Later rule kinds (SLO, anomaly baselines) implement
// Rule and plug into groups the same way.
//
// Thread-safety: Eval must not run concurrently with itself on one rule
// (a group evaluates its rules one at a time); every const accessor is
// safe to call from other threads at any time.
#ifndef VIGIL_RULES_RULE_H_
#define VIGIL_RULES_RULE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model/labels.h"
#include "promql/engine.h"
#include "promql/parser/ast.h"
#include "promql/value.h"
#include "tsdb/storage.h"

namespace vigil::rules {

// Evaluates `expr` as an instant query at `t_ms` and returns an instant
// vector. A scalar result is one sample without labels (as Prometheus's
// EngineQueryFunc converts it); any other type is an error.
using QueryFunc =
    std::function<absl::StatusOr<promql::Vector>(const promql::Expr& expr, int64_t t_ms)>;

// A QueryFunc over `engine` that opens a new querier per query (so each
// query sees everything committed before it starts). `engine` must outlive
// the function.
QueryFunc EngineQueryFunc(const promql::Engine* engine,
                          std::function<std::unique_ptr<tsdb::Querier>()> new_querier);

// What every rule's evaluation may depend on besides the time and queries.
struct EvalOptions {
  // The group's limit: most series (recording) or alerts (alerting) the rule
  // may produce; <= 0 is no limit.
  int64_t limit = 0;
  // For templates ($externalLabels, $externalURL).
  std::map<std::string, std::string> external_labels;
  std::string external_url;
};

enum class RuleHealth { kUnknown, kGood, kBad };
// "unknown", "ok", "err": the strings of Prometheus's rules API.
absl::string_view RuleHealthName(RuleHealth h);

// The outcome of a rule's last evaluation, as a group records it.
struct RuleEvalStatus {
  RuleHealth health = RuleHealth::kUnknown;
  absl::Status last_error;                          // OK unless health is kBad.
  absl::Time last_eval_time = absl::InfinitePast();  // Wall clock at start.
  absl::Duration last_eval_duration = absl::ZeroDuration();
  int64_t last_samples = 0;  // Samples the last evaluation produced.
};

class Rule {
 public:
  Rule() = default;
  virtual ~Rule() = default;
  Rule(const Rule&) = delete;
  Rule& operator=(const Rule&) = delete;

  // The record name or alert name.
  virtual const std::string& name() const = 0;

  // Evaluates the rule at `t` and returns the samples to append (all at
  // t). On error the rule's outputs from earlier evaluations are unchanged
  // (an alerting rule keeps its alerts) and nothing should be appended.
  virtual absl::StatusOr<promql::Vector> Eval(absl::Time t, const QueryFunc& query,
                                              const EvalOptions& options) = 0;

  RuleEvalStatus eval_status() const;
  // Called by the evaluator after each evaluation.
  void SetEvalStatus(RuleEvalStatus status);

  // Label and annotation templates that failed to render so far (their
  // error text went into the label or annotation, as in Prometheus).
  int64_t template_failures() const { return template_failures_.load(std::memory_order_relaxed); }

 protected:
  void CountTemplateFailure() { template_failures_.fetch_add(1, std::memory_order_relaxed); }

 private:
  mutable absl::Mutex mu_;
  RuleEvalStatus status_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> template_failures_{0};
};

// Stores the result of `expr` as series named `record`, with `labels`
// applied (overriding the result's labels of the same name; an empty value
// removes the label).
class RecordingRule final : public Rule {
 public:
  // REQUIRES: expr is non-null. `record` is not validated here (rule files
  // are validated by config/); appending an invalid name fails at the
  // storage.
  RecordingRule(std::string record, promql::ExprPtr expr,
                std::vector<std::pair<std::string, std::string>> labels);

  const std::string& name() const override { return record_; }
  const promql::Expr& expr() const { return *expr_; }
  const std::vector<std::pair<std::string, std::string>>& labels() const { return labels_; }

  // Errors: the query's; "vector contains metrics with the same labelset
  // after applying rule labels"; "exceeded limit of <n> with <m> series".
  absl::StatusOr<promql::Vector> Eval(absl::Time t, const QueryFunc& query,
                                      const EvalOptions& options) override;

 private:
  const std::string record_;
  const promql::ExprPtr expr_;
  const std::vector<std::pair<std::string, std::string>> labels_;
};

enum class AlertState { kInactive, kPending, kFiring };
// "inactive", "pending", "firing".
absl::string_view AlertStateName(AlertState s);

// One alert of an alerting rule.
struct Alert {
  AlertState state = AlertState::kInactive;
  // The series' labels without __name__, the rule's (templated) labels and
  // alertname.
  model::Labels labels;
  // Templated annotations, sorted by name; values may be empty.
  std::vector<std::pair<std::string, std::string>> annotations;
  double value = 0;  // The expression's value at the last evaluation.
  absl::Time active_at = absl::InfinitePast();
  absl::Time fired_at = absl::InfinitePast();
  // Set when the alert became inactive (resolved); InfinitePast while
  // active.
  absl::Time resolved_at = absl::InfinitePast();
  // Set while a firing alert is kept firing by keep_firing_for although
  // the expression no longer returns it.
  absl::Time keep_firing_since = absl::InfinitePast();
  // Sending to Alertmanagers: when the alert was last sent (an evaluation
  // time) and the end time sent with it while firing.
  absl::Time last_sent_at = absl::InfinitePast();
  absl::Time valid_until = absl::InfinitePast();
};

// How long a resolved alert is kept (so that it can be sent as resolved)
// before it is deleted, as Prometheus's resolvedRetention.
inline constexpr absl::Duration kResolvedRetention = absl::Minutes(15);

// Prometheus 2.42's alerting rule. Each series of the expression's result
// is an alert, identified by its labels. A new alert is pending from the
// evaluation that first returns it (active_at) and firing once `hold`
// (the rule's `for`) has passed since active_at (at once for hold 0). When
// the expression stops returning it, a pending alert is deleted and a
// firing one becomes inactive (resolved_at) -- unless keep_firing_for is
// set, which keeps it firing until keep_firing_for has passed since it was
// first missing. Resolved alerts are deleted after kResolvedRetention.
//
// Eval returns, for each pending or firing alert,
//   ALERTS{<alert labels>, alertstate="pending"|"firing"} 1
//   ALERTS_FOR_STATE{<alert labels>} <active_at in whole Unix seconds>
class AlertingRule final : public Rule {
 public:
  // Checks the label and annotation templates (template name
  // "__alert_<name>") and returns InvalidArgument for a syntax error.
  // REQUIRES: expr is non-null.
  static absl::StatusOr<std::unique_ptr<AlertingRule>> Create(
      std::string name, promql::ExprPtr expr, absl::Duration hold,
      absl::Duration keep_firing_for,
      std::vector<std::pair<std::string, std::string>> labels,
      std::vector<std::pair<std::string, std::string>> annotations);

  const std::string& name() const override { return name_; }
  const promql::Expr& expr() const { return *expr_; }
  absl::Duration hold() const { return hold_; }
  absl::Duration keep_firing_for() const { return keep_firing_for_; }

  // Errors: the query's; "vector contains metrics with the same labelset
  // after applying alert labels"; "exceeded limit of <n> with <m> alerts"
  // (which also drops every alert, as Prometheus does).
  absl::StatusOr<promql::Vector> Eval(absl::Time t, const QueryFunc& query,
                                      const EvalOptions& options) override;

  // All alerts the rule holds (pending, firing and resolved ones still
  // retained), sorted by labels.
  std::vector<Alert> Alerts() const;
  // The most severe state of any alert: firing, pending or inactive.
  AlertState State() const;
  // Sets the active-at time of the pending or firing alert with `labels`
  // (as Alert::labels); false if there is none. For restoring the `for`
  // state after a restart; the state follows at the next Eval.
  bool SetActiveAt(const model::Labels& labels, absl::Time active_at);
  // After an evaluation at `t`: the alerts to send to Alertmanagers, as
  // Prometheus's sendAlerts picks them: firing or resolved (pending ones
  // never), either resolved since last sent or last sent more than
  // `resend_delay` before `t`. Marks them sent at `t`, valid until
  // t + 4 * max(resend_delay, interval).
  std::vector<Alert> TakeAlertsToSend(absl::Time t, absl::Duration resend_delay,
                                      absl::Duration interval);
  // Takes over the alerts of `from` (the same rule of a group being
  // replaced on reload), as Prometheus's Group.CopyState.
  void CopyAlertsFrom(const AlertingRule& from);
  // The rule's labels as written (templates), sorted by name.
  const std::vector<std::pair<std::string, std::string>>& labels() const { return labels_; }

 private:
  AlertingRule(std::string name, promql::ExprPtr expr, absl::Duration hold,
               absl::Duration keep_firing_for,
               std::vector<std::pair<std::string, std::string>> labels,
               std::vector<std::pair<std::string, std::string>> annotations);

  const std::string name_;
  const promql::ExprPtr expr_;
  const absl::Duration hold_;
  const absl::Duration keep_firing_for_;
  const std::vector<std::pair<std::string, std::string>> labels_;
  const std::vector<std::pair<std::string, std::string>> annotations_;

  mutable absl::Mutex mu_;
  std::map<model::Labels, Alert> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vigil::rules

#endif  // VIGIL_RULES_RULE_H_
