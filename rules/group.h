// Rule groups: rules evaluated in order at one time, each rule's output
// appended and committed before the next rule runs (so a rule can use the
// series an earlier rule of the same group just produced), as Prometheus
// 2.42's rules.Group.Eval does.
//
//   ASSIGN_OR_RETURN(auto g, Group::Create("node", absl::Seconds(30), std::move(rules)));
//   GroupEnv env{EngineQueryFunc(&engine, [&] { return db->Querier(); }),
//                [&] { return db->Appender(); }};
//   g->Eval(eval_time, env);
//
// A failing rule (query error, duplicate series, limit, append error) is
// marked bad with its error and the group goes on with the next rule.
// Series a rule produced in its previous successful evaluation and no
// longer produces get a stale marker at the evaluation time.
//
// Groups are built in code (SLO and anomaly rules compile into them) or
// from rule files with BuildGroups. No scheduling happens here: a caller
// calls Eval at the group's interval.
//
// Thread-safety: Eval must not run concurrently with itself; the status
// accessors and rules' status/alerts may be read from any thread.
#ifndef VIGIL_RULES_GROUP_H_
#define VIGIL_RULES_GROUP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "config/rule_file.h"
#include "model/labels.h"
#include "rules/rule.h"
#include "tsdb/storage.h"

namespace vigil::rules {

// Where a group reads and writes. query and appender are required.
struct GroupEnv {
  QueryFunc query;
  // A new appender for each rule's output.
  std::function<std::unique_ptr<tsdb::Appender>()> appender;
  std::map<std::string, std::string> external_labels;
  std::string external_url;
  // Optional: receives, after each successful evaluation of an alerting
  // rule, the alerts to send to Alertmanagers (AlertingRule::
  // TakeAlertsToSend with `resend_delay` and the group's interval), as
  // Prometheus's notifier gets them: startsAt the time the alert fired,
  // endsAt its resolve time or its valid-until time, generatorURL
  // external_url + "/graph?g0.expr=<expr>&g0.tab=1". Not called with an
  // empty list.
  std::function<void(std::vector<alerting::Alert>)> notify;
  absl::Duration resend_delay = absl::Minutes(1);
};

// The outcome of a group's last evaluation.
struct GroupEvalStatus {
  absl::Time last_eval_time = absl::InfinitePast();  // The evaluation time.
  absl::Duration last_eval_duration = absl::ZeroDuration();  // Wall clock.
  int64_t last_samples = 0;  // Samples the rules produced (not stale markers).
  int failed_rules = 0;      // Rules whose last evaluation failed.
  int64_t evaluations = 0;   // Eval calls so far.
  // Totals over all evaluations so far: rule evaluations and failed ones.
  int64_t rule_evaluations_total = 0;
  int64_t rule_failures_total = 0;
};

class Group {
 public:
  // InvalidArgument for an empty name, an interval <= 0 or a null rule.
  // `limit` <= 0 is no limit.
  static absl::StatusOr<std::unique_ptr<Group>> Create(std::string name, absl::Duration interval,
                                                       std::vector<std::unique_ptr<Rule>> rules,
                                                       int64_t limit = 0);
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // Evaluates every rule at `t` in order and appends their outputs.
  // Outcomes are recorded in each rule's eval_status() and in status().
  void Eval(absl::Time t, const GroupEnv& env);

  const std::string& name() const { return name_; }
  absl::Duration interval() const { return interval_; }
  int64_t limit() const { return limit_; }
  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }
  GroupEvalStatus status() const;
  // Sum of the rules' template_failures().
  int64_t template_failures() const;

  // Takes over the state of `from`, the group this one replaces on reload
  // (same file and name, changed content), as Prometheus's CopyState: the
  // last evaluation's time and duration, and for each rule matched by kind,
  // name and labels (in order, for repeated ones) its series of the last
  // evaluation and (alerting rules) its alerts. Series of `from`'s
  // unmatched rules are not taken: the caller marks them stale.
  // REQUIRES: neither group is evaluating.
  void CopyStateFrom(const Group& from);

 private:
  Group(std::string name, absl::Duration interval, std::vector<std::unique_ptr<Rule>> rules,
        int64_t limit);

  // Evaluates rule `i`, appends its output and stale markers, records and
  // returns its status.
  RuleEvalStatus EvalRule(size_t i, absl::Time t, const GroupEnv& env, const EvalOptions& opts);

  const std::string name_;
  const absl::Duration interval_;
  const std::vector<std::unique_ptr<Rule>> rules_;
  const int64_t limit_;

  // Per rule: the series it appended in its last successful evaluation.
  // Only touched by Eval.
  std::vector<std::set<model::Labels>> previous_series_;

  mutable absl::Mutex mu_;
  GroupEvalStatus status_ ABSL_GUARDED_BY(mu_);
};

// Builds the groups of a rule file: parses each expr (promql::ParseExpr)
// and checks each alerting rule's templates. A group without an interval
// gets `default_interval` (the global evaluation_interval). Errors are
// InvalidArgument "<file>: group "<g>", rule <n>, "<name>": <what>".
absl::StatusOr<std::vector<std::unique_ptr<Group>>> BuildGroups(
    const config::RuleFile& file, absl::Duration default_interval);

// Builds one rule of a rule file.
absl::StatusOr<std::unique_ptr<Rule>> BuildRule(const config::Rule& rule);

}  // namespace vigil::rules

#endif  // VIGIL_RULES_GROUP_H_
