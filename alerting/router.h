// Vigil's built-in Alertmanager core: takes the alerts the rule evaluator
// sends, keeps them in an alert store, routes them through the
// notifications tree into aggregation groups, applies inhibition and
// silences, deduplicates against the notification log and hands
// notifications to the receivers' integrations (webhook, chat, pager).
// Semantics follow Alertmanager (dispatcher, aggregation groups, inhibitor,
// silencer, DedupStage):
//
// - Routing: from the root, a child route matches when all its matchers
//   match; children are tried in order and the first match stops the search
//   unless that child has `continue: true`; a route none of whose children
//   match handles the alert itself.
// - Grouping: one aggregation group per (route, values of its group_by
//   labels; `...`: all labels). Group key `<route key>:<group labels>`,
//   where the route key is `{}` for the root and `<parent>/{m1,m2}` below
//   (matchers sorted), e.g. `{}/{severity="page"}:{alertname="X"}`.
// - Timing: a new group flushes after group_wait (at once if its alert
//   started more than group_wait ago), then every group_interval. Each flush
//   notifies an integration only when the notification log says so: new
//   firing alerts, newly resolved alerts (if it sends resolved ones), all
//   resolved, or repeat_interval since the last delivery. Resolved alerts
//   leave the group once every integration has handled a flush that included
//   them; an empty group is deleted.
// - An alert is resolved when its endsAt is not after now; one that is no
//   longer re-sent resolves when its endsAt passes. An alert without endsAt
//   gets now + resolve_timeout.
//
// Delivery runs on each integration's own worker threads, never on the
// timer thread nor in Receive(), so a hanging receiver delays only itself.
// Integration::Notify gets a deadline group_interval ahead (at least 10s, at
// most retry_give_up) and a cancel flag that Stop() and ApplyConfig() set;
// an undelivered notification is retried at the group's next flush (the
// notification log does not have it). Deliveries of one group to one
// integration never overlap: a flush's job waits for the group's running
// one and replaces the group's job that has not started.
//
// On disk (data_dir): `silences` (silences.h), `nflog` (nflog.h) and
// `alerts` (the alert store, rewritten atomically at most once a second
// while it changes, and on Stop), all reloaded at start.
//
// Thread-safe.
#ifndef VIGIL_ALERTING_ROUTER_H_
#define VIGIL_ALERTING_ROUTER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "alerting/nflog.h"
#include "alerting/notification.h"
#include "alerting/silences.h"
#include "config/alerting_config.h"

namespace vigil::alerting {

// Builds the integrations of one receiver, in the order of its
// webhook_configs, chat_configs, pager_configs (the index in this vector is
// the integration index of the notification log and of DeliveryRecord).
using IntegrationFactory =
    std::function<absl::StatusOr<std::vector<std::unique_ptr<Integration>>>(
        const config::ReceiverConfig&)>;

struct RouterOptions {
  std::string data_dir;        // Required; created if missing.
  std::string external_url;    // Copied into every Notification.
  IntegrationFactory factory;  // Required.
  // "Now" for all timing; default absl::Now. Deadlines passed to
  // Integration::Notify are always real time.
  std::function<absl::Time()> clock;
  // When true no timer thread runs: the caller advances time through the
  // clock and calls Tick() (tests).
  bool manual_tick = false;
  size_t max_recent_deliveries = 1000;
  // Delivery threads per integration (groups delivered in parallel; one
  // delivery per group at a time).
  int delivery_threads = 4;
  absl::Duration resolve_timeout = absl::Minutes(5);  // Alertmanager's default.
  // How long expired silences and notification log entries are kept.
  absl::Duration retention = absl::Hours(120);
};

// One attempt to deliver one notification to one integration.
struct DeliveryRecord {
  absl::Time time;  // Router clock at the start of the delivery.
  std::string receiver;
  std::string integration;  // kind(): "webhook", "chat", "pager".
  int integration_index = 0;
  std::string group_key;
  bool firing = false;  // Status of the notification: firing or resolved.
  int alerts = 0;       // Alerts in the notification.
  bool ok = false;
  std::string error;  // Empty when ok.
  int attempts = 0;
  absl::Duration duration;
};

struct RouterStats {
  uint64_t alerts_received = 0;
  // Alerts left out of a notification because silenced / inhibited
  // (counted at each flush they are left out of).
  uint64_t alerts_silenced = 0;
  uint64_t alerts_inhibited = 0;
  // Per integration kind.
  std::map<std::string, uint64_t> notifications_sent;
  std::map<std::string, uint64_t> notifications_failed;
};

// An aggregation group, for the API and tests.
struct GroupInfo {
  std::string key;
  std::string receiver;
  model::Labels labels;
  std::vector<Alert> alerts;  // Sorted by labels.
  absl::Time next_flush;
};

class Router {
 public:
  // Loads silences, the notification log and the alert store from
  // `options.data_dir`, builds the tree and integrations, and (unless
  // manual_tick) starts the timer thread. InvalidArgument when a route names
  // an unknown receiver; the factory's error for a bad receiver.
  static absl::StatusOr<std::unique_ptr<Router>> Create(
      const config::NotificationsConfig& cfg, RouterOptions options);
  ~Router();  // Stop().
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Merges `alerts` into the store and groups them. Never blocks on
  // delivery. Ignored after Stop().
  void Receive(std::vector<Alert> alerts);

  // Replaces the tree, inhibit rules and receivers; alerts, silences and the
  // notification log stay. Groups are rebuilt from the alert store (what was
  // already delivered is not re-sent, thanks to the notification log). On
  // error nothing changes.
  absl::Status ApplyConfig(const config::NotificationsConfig& cfg);

  // Stops the timer thread, cancels deliveries in flight (their cancel flag
  // is set) and joins the workers, then persists the alert store.
  // Idempotent.
  void Stop();

  // Flushes every group due at clock() and runs maintenance (store garbage
  // collection, persistence). The timer thread calls it; with manual_tick
  // the caller does.
  void Tick();
  // Waits until no delivery is queued or running. False on timeout.
  bool WaitIdle(absl::Duration timeout);

  Silences& silences() { return *silences_; }
  std::vector<DeliveryRecord> RecentDeliveries() const;  // Oldest first.
  RouterStats Stats() const;
  std::vector<GroupInfo> Groups() const;  // Sorted by key.
  std::vector<Alert> Alerts() const;      // Sorted by labels.
  // Whether `labels` are muted at clock() by an inhibit rule.
  bool Inhibited(const model::Labels& labels) const;

 private:
  struct RouteNode;
  struct Group;
  struct StoredAlert;
  struct InhibitRule;
  class Worker;
  struct Job;
  struct Tree;

  explicit Router(RouterOptions options);
  absl::Status Init(const config::NotificationsConfig& cfg);
  // Builds the tree, the inhibit rules and the workers (not started).
  absl::StatusOr<std::unique_ptr<Tree>> BuildTree(
      const config::NotificationsConfig& cfg);
  void InstallTreeLocked(std::unique_ptr<Tree> tree, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RouteAlertLocked(uint64_t fp, StoredAlert& sa, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushLocked(Group& g, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool InhibitedLocked(const model::Labels& labels, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaintainLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveFromGroupLocked(Group& g, uint64_t fp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Snapshot of the store for persisting (encoded under mu_).
  std::string EncodeStoreLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadStore();
  void PersistStore(std::string data);
  // Worker callbacks.
  // Delivers `job` unless the notification log says it is not needed;
  // true when the job needs no retry.
  bool RunJob(Worker& w, Job& job);
  void JobDone(const std::string& group_id, uint64_t flush_seq, bool ok);
  // The group's current flush is complete and succeeded: drops its resolved
  // alerts (unless updated since) and the group when empty.
  void JobDoneLocked(Group& g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TimerLoop();
  absl::Time Now() const { return options_.clock(); }

  const RouterOptions options_;
  std::unique_ptr<Silences> silences_;
  std::unique_ptr<NotificationLog> nflog_;

  mutable absl::Mutex mu_;
  std::unique_ptr<Tree> tree_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, StoredAlert> store_ ABSL_GUARDED_BY(mu_);
  // Key: receiver \0 group key.
  std::map<std::string, std::unique_ptr<Group>> groups_ ABSL_GUARDED_BY(mu_);
  uint64_t next_flush_seq_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool store_dirty_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_persist_ ABSL_GUARDED_BY(mu_) =
      absl::InfinitePast();  // Real time.
  absl::Time last_gc_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  std::thread timer_;

  // Serialises writes of the alert store file.
  absl::Mutex persist_mu_;

  // Deliveries queued or running.
  absl::Mutex idle_mu_;
  int jobs_pending_ ABSL_GUARDED_BY(idle_mu_) = 0;

  mutable absl::Mutex stats_mu_;
  RouterStats stats_ ABSL_GUARDED_BY(stats_mu_);
  std::deque<DeliveryRecord> recent_ ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_ROUTER_H_
