// Where fired alerts go: builds, from the config's `alerting` and
// `notifications` sections, the Alertmanager notifier (with Alertmanager
// discovery and relabeling) and Vigil's own router, and hands every alert
// the rule evaluator sends to both.
//
//   AlertingService s(options);
//   RETURN_IF_ERROR(s.ApplyConfig(cfg));   // also on reload
//   rule_options.notify = [&s](std::vector<alerting::Alert> a) { s.Send(std::move(a)); };
//
// External labels (added when an alert lacks them) and alert_relabel_configs
// are applied once here, then the alert goes to the notifier and, when a
// `notifications` section exists, to the router.
//
// Thread-safe.
#ifndef VIGIL_CMD_ALERTING_SERVICE_H_
#define VIGIL_CMD_ALERTING_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "alerting/alert.h"
#include "alerting/notifier.h"
#include "alerting/router.h"
#include "api/http_sender.h"
#include "config/config.h"
#include "prometheus/metric_family.h"
#include "scrape/discovery.h"
#include "scrape/http_client.h"
#include "scrape/relabel.h"

namespace vigil {

struct AlertingServiceOptions {
  std::string data_dir;  // The router's files go to <data_dir>/notifications.
  std::string external_url;
  size_t queue_capacity = 10000;  // --alertmanager_notification_queue_capacity
};

class AlertingService {
 public:
  explicit AlertingService(AlertingServiceOptions options);
  ~AlertingService();  // Stop().
  AlertingService(const AlertingService&) = delete;
  AlertingService& operator=(const AlertingService&) = delete;

  // Applies the sections; on error (a relabel regex, the router's data
  // directory) nothing changes.
  absl::Status ApplyConfig(const config::Config& cfg);

  void Send(std::vector<alerting::Alert> alerts);

  alerting::Notifier* notifier() { return notifier_.get(); }
  // Null without a `notifications` section.
  alerting::Router* router();

  // vigil_notifications_* families (Prometheus's prometheus_notifications_*
  // names under Vigil's prefix) and the router's counters.
  std::vector<prometheus::MetricFamily> Metrics() const;

  // Drains the notifier (briefly) and stops the router. Idempotent.
  void Stop();

 private:
  void OnDiscovery(const std::map<std::string, std::vector<config::TargetGroup>>& groups);

  const AlertingServiceOptions options_;
  api::HttpSender sender_;
  std::unique_ptr<alerting::Notifier> notifier_;
  scrape::HttpClient sd_client_;
  std::unique_ptr<scrape::Discovery> discovery_;

  mutable absl::Mutex mu_;
  model::Labels external_labels_ ABSL_GUARDED_BY(mu_);
  scrape::Relabeler alert_relabel_ ABSL_GUARDED_BY(mu_);
  std::vector<config::AlertmanagerConfig> alertmanagers_ ABSL_GUARDED_BY(mu_);
  std::vector<scrape::Relabeler> am_relabel_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<alerting::Router> router_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace vigil

#endif  // VIGIL_CMD_ALERTING_SERVICE_H_
