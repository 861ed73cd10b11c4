// The Alertmanager client: what Prometheus 2.42's notifier package does.
// Rule evaluation hands firing and resolved alerts to Send(); they wait in
// a bounded queue (oldest dropped first) until a sender thread posts them,
// in batches of at most 64, to every discovered Alertmanager as Alertmanager
// API v2 postable alerts (POST <scheme>://<host><path_prefix>/api/v2/alerts).
//
//   NotifierOptions o;
//   o.external_labels = cfg.global.external_labels;
//   o.relabel = [&](const model::Labels& l) { return Relabel(l, rcfgs); };
//   o.sender = &http_sender;
//   Notifier notifier(std::move(o));          // starts the sender thread
//   notifier.SetAlertmanagers(sets);          // whenever discovery changes
//   notifier.Send(alerts);                    // from rule evaluation
//   ...
//   notifier.Stop();                          // drains, then joins
//
// Thread-safe. Send() never waits for the network.
#ifndef VIGIL_ALERTING_NOTIFIER_H_
#define VIGIL_ALERTING_NOTIFIER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "alerting/http.h"
#include "config/scrape_config.h"
#include "model/labels.h"

namespace vigil::alerting {

// At most this many alerts go into one POST (Prometheus's maxBatchSize).
inline constexpr size_t kMaxAlertBatch = 64;

// One `alerting.alertmanagers` entry with the Alertmanagers discovered for
// it (after its relabel_configs).
struct AlertmanagerSet {
  // Full URLs to POST to, e.g. "http://am:9093/prefix/api/v2/alerts".
  // Duplicates within a set are ignored.
  std::vector<std::string> urls;
  // Targets that its relabel_configs dropped, as URLs built from their
  // labels before relabeling (for GET /api/v1/alertmanagers).
  std::vector<std::string> dropped_urls;
  absl::Duration timeout = absl::Seconds(10);
  config::HttpClientConfig http;
};

struct NotifierOptions {
  // Alerts waiting to be sent; past it the oldest are dropped
  // (--alertmanager.notification-queue-capacity).
  size_t queue_capacity = 10000;
  // Added to each alert that has no label of that name.
  model::Labels external_labels;
  // alert_relabel_configs, applied after the external labels: the new
  // labels, or nullopt to drop the alert. Null: no relabeling.
  std::function<std::optional<model::Labels>(const model::Labels&)> relabel;
  // Does the POSTs. Must outlive the Notifier. Null: every batch fails.
  HttpSender* sender = nullptr;
  // The User-Agent request header; empty sends none.
  std::string user_agent = "Vigil";
  // How long Stop() keeps sending what is still queued. What is left after
  // it is dropped (and counted).
  absl::Duration drain_timeout = absl::Seconds(5);
  // Called after each POST with the Alertmanager's URL and the time from
  // the start of the batch to the end of that POST (Prometheus's
  // prometheus_notifications_latency_seconds summary). Runs on a sending
  // thread; may be null.
  std::function<void(const std::string& url, absl::Duration latency)> observe_latency;
};

// Per Alertmanager URL, as Prometheus 2.42 counts them.
struct AlertmanagerStats {
  // Alerts in the POSTs made to it, whether or not they succeeded
  // (prometheus_notifications_sent_total).
  uint64_t sent = 0;
  // POSTs that failed: network error, timeout or non-2xx status
  // (prometheus_notifications_errors_total).
  uint64_t errors = 0;
  // prometheus_notifications_latency_seconds' sum and count.
  double latency_seconds_sum = 0;
  uint64_t latency_count = 0;
};

struct NotifierStats {
  // Every URL ever discovered, by URL (counters are kept when an
  // Alertmanager goes away, as in Prometheus 2.42).
  std::map<std::string, AlertmanagerStats> alertmanagers;
  // Alerts dropped: queue overflow, batches no Alertmanager accepted, and
  // what Stop() could not drain (prometheus_notifications_dropped_total).
  uint64_t dropped_total = 0;
  size_t queue_length = 0;
  size_t queue_capacity = 0;
  // Alertmanagers currently discovered, over all sets
  // (prometheus_notifications_alertmanagers_discovered).
  size_t alertmanagers_discovered = 0;
};

// Encodes `alerts` as an Alertmanager API v2 PostableAlerts array, byte for
// byte as Prometheus 2.42 does: per alert "annotations" (omitted when
// empty), "endsAt", "startsAt" (strfmt date-time: RFC 3339 in UTC with
// milliseconds; an unset time is Go's zero time
// "0001-01-01T00:00:00.000Z"), "generatorURL" (omitted when empty) and
// "labels", map keys sorted, strings escaped as Go's encoding/json does.
std::string EncodeAlertsV2(const std::vector<Alert>& alerts);

class Notifier {
 public:
  // Starts the sender thread.
  explicit Notifier(NotifierOptions options);
  // Stop().
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Adds the external labels, relabels, and queues the alerts that are
  // kept and still have labels. When the queue would exceed its capacity
  // the oldest alerts are dropped. Never blocks on the network. After
  // Stop() the alerts are dropped.
  void Send(std::vector<Alert> alerts);

  // Replaces the Alertmanagers to send to: one entry per
  // alerting.alertmanagers config entry. Batches already being sent go to
  // the previous set.
  void SetAlertmanagers(std::vector<AlertmanagerSet> sets);

  // The URLs of the discovered Alertmanagers, set by set, and of the
  // dropped ones (GET /api/v1/alertmanagers).
  std::vector<std::string> Alertmanagers() const;
  std::vector<std::string> DroppedAlertmanagers() const;

  NotifierStats Stats() const;

  // Stops taking alerts, sends what is queued for up to drain_timeout
  // (each POST's timeout is cut to what is left of it), drops and counts
  // the rest, and joins the sender thread. A POST already in flight is
  // waited for. Idempotent.
  void Stop();
  // Whether Stop() has been called.
  bool Stopping() const;

 private:
  using Sets = std::vector<AlertmanagerSet>;

  void Run();
  // Takes up to kMaxAlertBatch alerts from the head of the queue.
  std::vector<Alert> NextBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // POSTs `batch` to every Alertmanager of every set at once and waits for
  // all. True if at least one accepted it. `deadline` (InfiniteFuture: none)
  // cuts the POSTs' timeouts.
  bool SendAll(const std::vector<Alert>& batch, absl::Time deadline);
  // Sends one batch and counts it as dropped if no Alertmanager took it.
  void SendBatch(const std::vector<Alert>& batch, absl::Time deadline);

  const NotifierOptions options_;

  mutable absl::Mutex mu_;
  std::deque<Alert> queue_ ABSL_GUARDED_BY(mu_);  // Oldest first.
  std::shared_ptr<const Sets> sets_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, AlertmanagerStats> stats_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex join_mu_;  // Serialises Stop() callers around the join.
  std::thread thread_;
};

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_NOTIFIER_H_
