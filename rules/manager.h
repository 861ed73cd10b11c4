// The rule manager: loads the config's rule_files and runs every group on
// its interval, as Prometheus 2.42's rules.Manager does.
//
//   RuleManagerOptions o;
//   o.appender = [db] { return db->Appender(); };
//   o.querier = [db] { return db->Querier(); };
//   RuleManager m(o);
//   ASSIGN_OR_RETURN(auto prepared, m.Prepare(cfg.rule_files, cfg.global.evaluation_interval));
//   m.Apply(std::move(prepared), cfg.global.external_labels);
//
// Scheduling: one scheduler thread; each group is evaluated at the times
// base + k * interval, where the offset of base within the interval is a
// stable hash of the group's file and name (so groups spread over the
// interval and keep their phase across restarts). The evaluation time passed
// to the group is that slot, not the wall clock. Evaluations run on a worker
// pool; a group never runs concurrently with itself. When an evaluation
// overruns, the slots that passed are skipped and counted as missed, and the
// group runs next at the latest slot.
//
// Reload (Prepare then Apply): Prepare loads and checks every file and
// fails without touching the running groups. Apply keeps, with all their
// state (alerts and their active-at times, the series of their last
// evaluation), the groups whose file, name and content are unchanged. A
// changed group waits for its predecessor's running evaluation, then takes
// over its state as Prometheus's CopyState does (Group::CopyStateFrom: the
// alerts and last series of each rule with the same kind, name and labels,
// and the schedule and counters); its first evaluation marks stale what the
// old one wrote and the new one does not. New groups start fresh; removed
// groups' last outputs get stale markers.
//
// Restoring `for` state: the groups of the first Apply are restored after
// their second evaluation, as Prometheus does at startup. For each pending
// or firing alert of a rule whose `for` is at least for_grace_period, the
// last ALERTS_FOR_STATE sample written before this manager's first
// evaluation of the group (within for_outage_tolerance) gives the old
// active-at time: kept when the alert had already fired, moved so that the
// alert fires no sooner than for_grace_period from now when little time was
// left, and otherwise shifted by the downtime.
//
// Thread-safety: all methods are thread-safe. Stop() (or the destructor)
// waits for running evaluations; no evaluation starts afterwards.
#ifndef VIGIL_RULES_MANAGER_H_
#define VIGIL_RULES_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "base/worker_pool.h"
#include "config/rule_file.h"
#include "model/labels.h"
#include "promql/engine.h"
#include "rules/group.h"
#include "rules/rule.h"
#include "tsdb/storage.h"

namespace vigil::rules {

struct RuleManagerOptions {
  // Required: where rule outputs go and what queries read.
  std::function<std::unique_ptr<tsdb::Appender>()> appender;
  std::function<std::unique_ptr<tsdb::Querier>()> querier;
  promql::EngineOptions engine;
  // Threads evaluating groups.
  int eval_threads = 2;
  std::string external_url;
  // Where alerts to send go (GroupEnv::notify), with Prometheus's
  // --rules.alert.resend-delay. Unset: alerts are not sent anywhere.
  std::function<void(std::vector<alerting::Alert>)> notify;
  absl::Duration resend_delay = absl::Minutes(1);
  // Restoring alerts' `for` state at startup (Prometheus's
  // --rules.alert.for-outage-tolerance and --rules.alert.for-grace-period).
  absl::Duration for_outage_tolerance = absl::Hours(1);
  absl::Duration for_grace_period = absl::Minutes(10);
};

// What the rules API shows of one rule.
struct RuleSnapshot {
  bool alerting = false;
  std::string name;
  std::string query;  // The expression as Prometheus prints it.
  absl::Duration hold = absl::ZeroDuration();             // Alerting only.
  absl::Duration keep_firing_for = absl::ZeroDuration();  // Alerting only.
  // The rule's labels and (alerting only) annotations as written.
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  AlertState state = AlertState::kInactive;  // Alerting only.
  // Pending and firing alerts (alerting only), sorted by labels.
  std::vector<Alert> alerts;
  RuleEvalStatus status;
  int64_t template_failures = 0;  // Rule::template_failures()
};

struct GroupSnapshot {
  std::string name;
  std::string file;
  absl::Duration interval;
  int64_t limit = 0;
  GroupEvalStatus status;  // last_eval_time is InfinitePast before the first.
  int64_t iterations = 0;  // Evaluations done.
  int64_t missed = 0;      // Slots skipped because an evaluation overran.
  std::vector<RuleSnapshot> rules;
};

class RuleManager {
 private:
  struct Entry;

 public:
  // The result of Prepare: loaded groups not yet running. Opaque.
  struct Prepared {
    std::vector<std::shared_ptr<Entry>> entries;
  };

  explicit RuleManager(RuleManagerOptions options);
  ~RuleManager();
  RuleManager(const RuleManager&) = delete;
  RuleManager& operator=(const RuleManager&) = delete;

  // Expands the globs (a pattern matching nothing is no error, as in
  // Prometheus), loads each file and builds its groups; `default_interval`
  // is for groups without one. Errors (InvalidArgument, with file and line)
  // leave the manager unchanged. Needs no manager: a caller may check rule
  // files before it has one.
  static absl::StatusOr<std::unique_ptr<Prepared>> Prepare(
      const std::vector<std::string>& rule_files, absl::Duration default_interval);
  // Replaces the running groups with `prepared` as described above.
  // `external_labels` are for templates. No-op after Stop().
  void Apply(std::unique_ptr<Prepared> prepared, const model::Labels& external_labels);
  // Prepare then Apply.
  absl::Status ApplyConfig(const std::vector<std::string>& rule_files,
                           absl::Duration default_interval, const model::Labels& external_labels);

  // The groups in load order (files in glob order, groups in file order).
  std::vector<GroupSnapshot> Groups() const;

  // Stops scheduling and waits for running evaluations. Idempotent.
  void Stop();

 private:
  void SchedulerLoop();
  void RunEval(std::shared_ptr<Entry> e, absl::Time t);
  // Appends stale markers at `t` for `series`.
  void MarkStale(const std::set<model::Labels>& series, absl::Time t);
  // Restores the `for` state of `e`'s alerts as of `ts`.
  void RestoreForState(const Entry& e, absl::Time ts);

  const RuleManagerOptions options_;
  const promql::Engine engine_;
  const QueryFunc query_;

  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> external_labels_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool applied_ ABSL_GUARDED_BY(mu_) = false;  // Apply ran once.
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped on every change the scheduler must look at.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::CondVar changed_;  // Signalled when generation_ changes.

  WorkerPool pool_;
  std::thread scheduler_;
};

}  // namespace vigil::rules

#endif  // VIGIL_RULES_MANAGER_H_
