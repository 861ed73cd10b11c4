#include "cmd/alerting_service.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "alerting/receivers.h"
#include "rules/notification_template.h"
#include "api/rule_metrics.h"
#include "base/logging.h"
#include "base/status_macros.h"

namespace vigil {
namespace {

constexpr char kComponent[] = "notifier";

// The job name an alertmanagers entry is discovered under.
std::string SetName(size_t i) { return absl::StrCat("config-", i); }

// Prometheus's path.Join("/", path_prefix, "/api/v2/alerts").
std::string AlertsPath(const std::string& prefix) {
  absl::string_view p = prefix;
  while (absl::ConsumeSuffix(&p, "/")) {
  }
  return absl::StrCat(p.empty() || p[0] == '/' ? "" : "/", p, "/api/v2/alerts");
}

std::string UrlOf(const model::Labels& ls) {
  return absl::StrCat(ls.Get("__scheme__"), "://", ls.Get("__address__"), ls.Get("__alerts_path__"));
}

}  // namespace

AlertingService::AlertingService(AlertingServiceOptions options)
    : options_(std::move(options)), sender_(1), sd_client_(1) {
  alerting::NotifierOptions no;
  no.queue_capacity = options_.queue_capacity;
  no.sender = &sender_;
  notifier_ = std::make_unique<alerting::Notifier>(no);
  discovery_ = std::make_unique<scrape::Discovery>(
      &sd_client_, [this](const std::map<std::string, std::vector<config::TargetGroup>>& g) {
        OnDiscovery(g);
      });
}

AlertingService::~AlertingService() { Stop(); }

absl::Status AlertingService::ApplyConfig(const config::Config& cfg) {
  const config::AlertingConfig& ac = cfg.alerting_config;
  ASSIGN_OR_RETURN(scrape::Relabeler alert_relabel,
                   scrape::Relabeler::Compile(ac.alert_relabel_configs));
  std::vector<scrape::Relabeler> am_relabel;
  std::vector<config::ScrapeConfig> jobs;
  for (size_t i = 0; i < ac.alertmanagers.size(); ++i) {
    const config::AlertmanagerConfig& am = ac.alertmanagers[i];
    ASSIGN_OR_RETURN(scrape::Relabeler r, scrape::Relabeler::Compile(am.relabel_configs));
    am_relabel.push_back(std::move(r));
    config::ScrapeConfig job;
    job.job_name = SetName(i);
    job.static_configs = am.static_configs;
    job.file_sd_configs = am.file_sd_configs;
    jobs.push_back(std::move(job));
  }
  std::unique_ptr<alerting::Router> new_router;
  {
    absl::MutexLock l(&mu_);
    if (stopped_) return absl::OkStatus();
    if (cfg.notifications_config.enabled) {
      if (router_ != nullptr) {
        RETURN_IF_ERROR(router_->ApplyConfig(cfg.notifications_config));
      } else {
        alerting::RouterOptions ro;
        ro.data_dir = options_.data_dir + "/notifications";
        ro.external_url = options_.external_url;
        alerting::RetryPolicy retry;
        retry.initial = cfg.notifications_config.retry_initial;
        retry.max = cfg.notifications_config.retry_max;
        alerting::HttpSender* sender = &sender_;
        alerting::TemplateRenderer render = rules::NotificationTemplateRenderer();
        ro.factory = [sender, retry, render](const config::ReceiverConfig& r)
            -> absl::StatusOr<std::vector<std::unique_ptr<alerting::Integration>>> {
          return alerting::BuildIntegrations(r, sender, retry, render);
        };
        ASSIGN_OR_RETURN(router_, alerting::Router::Create(cfg.notifications_config, ro));
      }
    } else if (router_ != nullptr) {
      new_router = std::move(router_);  // Stopped below, outside the lock.
    }
    external_labels_ = cfg.global.external_labels;
    alert_relabel_ = std::move(alert_relabel);
    alertmanagers_ = ac.alertmanagers;
    am_relabel_ = std::move(am_relabel);
  }
  if (new_router != nullptr) new_router->Stop();
  discovery_->ApplyConfig(jobs);
  if (jobs.empty()) notifier_->SetAlertmanagers({});
  return absl::OkStatus();
}

void AlertingService::OnDiscovery(
    const std::map<std::string, std::vector<config::TargetGroup>>& groups) {
  std::vector<alerting::AlertmanagerSet> sets;
  {
    absl::MutexLock l(&mu_);
    for (size_t i = 0; i < alertmanagers_.size(); ++i) {
      const config::AlertmanagerConfig& am = alertmanagers_[i];
      alerting::AlertmanagerSet set;
      set.timeout = am.timeout;
      set.http = am.http;
      auto it = groups.find(SetName(i));
      if (it != groups.end()) {
        for (const config::TargetGroup& g : it->second) {
          for (const model::Labels& t : g.targets) {
            model::LabelsBuilder b(g.labels);
            for (const model::Label& l : t) b.Set(l.name.view(), l.value.view());
            if (!b.Has("__scheme__")) b.Set("__scheme__", am.scheme);
            if (!b.Has("__alerts_path__")) b.Set("__alerts_path__", AlertsPath(am.path_prefix));
            const model::Labels before = b.Build();
            if (!am_relabel_[i].Process(&b) || b.Get("__address__").empty()) {
              set.dropped_urls.push_back(UrlOf(before));
              continue;
            }
            set.urls.push_back(UrlOf(b.Build()));
          }
        }
      }
      sets.push_back(std::move(set));
    }
  }
  notifier_->SetAlertmanagers(std::move(sets));
}

alerting::Router* AlertingService::router() {
  absl::MutexLock l(&mu_);
  return router_.get();
}

void AlertingService::Send(std::vector<alerting::Alert> alerts) {
  alerting::Router* router = nullptr;
  {
    absl::MutexLock l(&mu_);
    if (stopped_) return;
    model::LabelsBuilder b;
    std::vector<alerting::Alert> kept;
    kept.reserve(alerts.size());
    for (alerting::Alert& a : alerts) {
      b.Reset(a.labels);
      for (const model::Label& l : external_labels_) {
        if (!b.Has(l.name.view())) b.Set(l.name.view(), l.value.view());
      }
      if (!alert_relabel_.Process(&b)) continue;
      a.labels = b.Build();
      if (a.labels.empty()) continue;
      kept.push_back(std::move(a));
    }
    alerts = std::move(kept);
    router = router_.get();
    // The router is only replaced under mu_ and Receive is quick (it only
    // merges into its store), so it is called under the lock.
    if (router != nullptr && !alerts.empty()) router->Receive(alerts);
  }
  if (!alerts.empty()) notifier_->Send(std::move(alerts));
}

std::vector<prometheus::MetricFamily> AlertingService::Metrics() const {
  using prometheus::MetricType;
  const alerting::NotifierStats st = notifier_->Stats();
  auto sent = api::NewMetricFamily("vigil_notifications_sent_total",
                     "Total number of alerts sent to Alertmanagers.", MetricType::Counter);
  auto errors = api::NewMetricFamily("vigil_notifications_errors_total",
                       "Total number of errors sending alert notifications to Alertmanagers.",
                       MetricType::Counter);
  auto latency_sum = api::NewMetricFamily("vigil_notifications_latency_seconds_sum",
                            "Total seconds spent sending alerts to Alertmanagers.",
                            MetricType::Counter);
  auto latency_count = api::NewMetricFamily("vigil_notifications_latency_seconds_count",
                              "Alert batches sent to Alertmanagers.", MetricType::Counter);
  for (const auto& [url, s] : st.alertmanagers) {
    api::AddMetricSample(&sent, {{"alertmanager", url}}, static_cast<double>(s.sent));
    api::AddMetricSample(&errors, {{"alertmanager", url}}, static_cast<double>(s.errors));
    api::AddMetricSample(&latency_sum, {{"alertmanager", url}}, s.latency_seconds_sum);
    api::AddMetricSample(&latency_count, {{"alertmanager", url}}, static_cast<double>(s.latency_count));
  }
  auto dropped = api::NewMetricFamily("vigil_notifications_dropped_total",
                        "Total number of alerts dropped due to errors when sending to "
                        "Alertmanagers or a full queue.",
                        MetricType::Counter);
  api::AddMetricSample(&dropped, {}, static_cast<double>(st.dropped_total));
  auto qlen = api::NewMetricFamily("vigil_notifications_queue_length",
                     "The number of alert notifications in the queue.", MetricType::Gauge);
  api::AddMetricSample(&qlen, {}, static_cast<double>(st.queue_length));
  auto qcap = api::NewMetricFamily("vigil_notifications_queue_capacity", "The capacity of the alert queue.",
                     MetricType::Gauge);
  api::AddMetricSample(&qcap, {}, static_cast<double>(st.queue_capacity));
  auto discovered = api::NewMetricFamily("vigil_notifications_alertmanagers_discovered",
                           "The number of Alertmanagers discovered and active.",
                           MetricType::Gauge);
  api::AddMetricSample(&discovered, {}, static_cast<double>(st.alertmanagers_discovered));
  std::vector<prometheus::MetricFamily> out = {std::move(sent),        std::move(errors),
                                               std::move(latency_sum), std::move(latency_count),
                                               std::move(dropped),     std::move(qlen),
                                               std::move(qcap),        std::move(discovered)};
  absl::MutexLock l(&mu_);
  if (router_ != nullptr) {
    const alerting::RouterStats rs = router_->Stats();
    auto received = api::NewMetricFamily("vigil_router_alerts_received_total",
                           "Alerts received by the built-in router.", MetricType::Counter);
    api::AddMetricSample(&received, {}, static_cast<double>(rs.alerts_received));
    auto delivered = api::NewMetricFamily("vigil_router_notifications_total",
                            "Notifications delivered by the built-in router, per integration.",
                            MetricType::Counter);
    auto failed = api::NewMetricFamily("vigil_router_notifications_failed_total",
                         "Notifications the built-in router failed to deliver, per integration.",
                         MetricType::Counter);
    for (const auto& [kind, n] : rs.notifications_sent) {
      api::AddMetricSample(&delivered, {{"integration", kind}}, static_cast<double>(n));
    }
    for (const auto& [kind, n] : rs.notifications_failed) {
      api::AddMetricSample(&failed, {{"integration", kind}}, static_cast<double>(n));
    }
    // Counted at each flush an alert is left out of.
    auto silenced = api::NewMetricFamily(
        "vigil_router_alerts_silenced_total",
        "Alerts left out of a notification because a silence matched them.",
        MetricType::Counter);
    api::AddMetricSample(&silenced, {}, static_cast<double>(rs.alerts_silenced));
    auto inhibited = api::NewMetricFamily(
        "vigil_router_alerts_inhibited_total",
        "Alerts left out of a notification because an inhibition rule muted them.",
        MetricType::Counter);
    api::AddMetricSample(&inhibited, {}, static_cast<double>(rs.alerts_inhibited));
    out.push_back(std::move(received));
    out.push_back(std::move(delivered));
    out.push_back(std::move(failed));
    out.push_back(std::move(silenced));
    out.push_back(std::move(inhibited));
  }
  return out;
}

void AlertingService::Stop() {
  std::unique_ptr<alerting::Router> router;
  {
    absl::MutexLock l(&mu_);
    if (stopped_) return;
    stopped_ = true;
    router = std::move(router_);
  }
  discovery_->Stop();
  notifier_->Stop();
  if (router != nullptr) router->Stop();
  LogInfo(kComponent, "notifications stopped");
}

}  // namespace vigil
