// Notification load (issue 8): the real alerting::Router with one webhook
// receiver (alerting::BuildIntegrations over api::HttpSender) delivering to
// a local webhook sink (api::HttpServer on 127.0.0.1) that parses every
// body and records which alert (by its instance label) reached it when.
//
// Phase 1: --alerts firing alerts in --groups groups (route group_by
// [group]) are Received at once, in batches of --batch as the rule
// evaluator sends them. Reported: per group, time from the first Receive of
// its alerts until all of them were delivered (includes group_wait); per
// alert, Receive to first delivery; notifications and alerts delivered;
// process CPU for the phase (router, HTTP client and sink together; the
// sink's own JSON parsing is shown apart); peak RSS.
//
// Phase 2 (outage): the sink answers every POST with 503 for --outage_s
// while all alerts keep being re-sent every --resend_s with a fresh endsAt
// (now + 4 * resend, as Prometheus does); halfway through, --new_alerts new
// firing alerts join the existing groups. Then the sink recovers. Reported:
// time from recovery until every alert has been delivered, notifications
// and alerts delivered after recovery, undelivered alerts (must be 0) and
// duplicates (must be 0): a notification of a group whose firing set is
// the same as in the group's previous delivered notification, less than
// repeat_interval after it. The run goes on for --settle_s after
// everything is delivered so that late duplicates are seen.
//
// Alerts are re-sent every --resend_s from the start, phase 1 included.
//
//   notify_bench [--alerts=10000] [--groups=500] [--batch=1000]
//                [--group_wait_s=1] [--group_interval_s=5]
//                [--repeat_interval_s=3600] [--resend_s=60] [--outage_s=300]
//                [--new_alerts=500] [--settle_s=12] [--timeout_s=600]
//                [--delivery_threads=4] [--log_level=error]
//
// The retries during the outage log a warning each; --log_level=warn shows
// them.
//
// Exit status 1 when an alert was not delivered or a duplicate was seen.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "alerting/receivers.h"
#include "alerting/router.h"
#include "api/http_sender.h"
#include "api/http_server.h"
#include "base/logging.h"
#include "bench/bench_util.h"
#include "config/alerting_config.h"
#include "model/labels.h"
#include "tsdb/block/json.h"

namespace vigil::bench {
namespace {

using tsdb::block::JsonValue;

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double PeakRssMiB() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB.
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The q-quantile (nearest rank) of `v`, sorted in place; 0 when empty.
double Quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// The webhook endpoint. Alerts are identified by their instance label
// "i<index>". While down, every POST gets 503 and is not recorded.
class Sink {
 public:
  Sink(int total_alerts, absl::Duration repeat_interval)
      : repeat_interval_(repeat_interval),
        first_delivery_(total_alerts, absl::InfinitePast()) {}

  absl::Status Start() {
    api::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.worker_threads = 2;
    server_ = std::make_unique<api::HttpServer>(o);
    server_->Handle("POST", "/hook",
                    [this](const api::HttpRequest& req, api::HttpResponse* r) {
                      Handle(req, r);
                    });
    return server_->Start();
  }
  void Shutdown() { server_->Shutdown(absl::Seconds(2)); }
  std::string url() const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), "/hook");
  }
  void SetDown(bool down) { down_.store(down); }

  // Counters since the last call of Mark() (time `since`).
  struct Counts {
    int64_t notifications = 0;
    int64_t alerts = 0;
  };
  void Mark(absl::Time since) {
    absl::MutexLock l(&mu_);
    mark_ = since;
    since_mark_ = Counts{};
  }
  Counts SinceMark() {
    absl::MutexLock l(&mu_);
    return since_mark_;
  }
  // Alerts in [0, n) not delivered yet.
  int Undelivered(int n) {
    absl::MutexLock l(&mu_);
    int missing = 0;
    for (int i = 0; i < n; ++i)
      missing += first_delivery_[i] == absl::InfinitePast();
    return missing;
  }
  std::vector<absl::Time> FirstDelivery() {
    absl::MutexLock l(&mu_);
    return first_delivery_;
  }
  int64_t duplicates() {
    absl::MutexLock l(&mu_);
    return duplicates_;
  }
  int64_t refused() const { return refused_.load(); }
  int64_t bad_bodies() {
    absl::MutexLock l(&mu_);
    return bad_bodies_;
  }
  double parse_cpu_seconds() {
    absl::MutexLock l(&mu_);
    return parse_cpu_;
  }
  size_t group_keys() {
    absl::MutexLock l(&mu_);
    return last_.size();
  }

 private:
  struct LastDelivery {
    absl::Time at;
    std::vector<int> firing;  // Sorted alert indexes.
  };

  void Handle(const api::HttpRequest& req, api::HttpResponse* r) {
    if (down_.load()) {
      refused_.fetch_add(1);
      r->SetError(503, "sink down");
      return;
    }
    absl::Time at = absl::Now();
    double cpu0 = ThreadCpuSeconds();
    absl::StatusOr<JsonValue> doc = tsdb::block::ParseJson(req.body);
    std::string group_key;
    std::vector<int> firing;
    int alerts = 0;
    bool ok = doc.ok() && doc->type == JsonValue::Type::kObject;
    if (ok) {
      const JsonValue* gk = doc->Find("groupKey");
      const JsonValue* list = doc->Find("alerts");
      ok = gk != nullptr && list != nullptr &&
           list->type == JsonValue::Type::kArray;
      if (ok) group_key = gk->text;
      for (size_t i = 0; ok && i < list->items.size(); ++i) {
        const JsonValue& a = list->items[i];
        const JsonValue* status = a.Find("status");
        const JsonValue* labels = a.Find("labels");
        const JsonValue* inst =
            labels == nullptr ? nullptr : labels->Find("instance");
        int index = 0;
        ok =
            status != nullptr && inst != nullptr && inst->text.size() > 1 &&
            absl::SimpleAtoi(absl::string_view(inst->text).substr(1), &index) &&
            index >= 0 && index < static_cast<int>(first_delivery_.size());
        if (!ok) break;
        ++alerts;
        if (status->text == "firing") firing.push_back(index);
      }
    }
    std::sort(firing.begin(), firing.end());
    double cpu = ThreadCpuSeconds() - cpu0;

    absl::MutexLock l(&mu_);
    parse_cpu_ += cpu;
    if (!ok) {
      ++bad_bodies_;
      r->SetError(400, "bad body");
      return;
    }
    if (at >= mark_) {
      ++since_mark_.notifications;
      since_mark_.alerts += alerts;
    }
    for (int i : firing) {
      if (first_delivery_[i] == absl::InfinitePast()) first_delivery_[i] = at;
    }
    auto [it, inserted] = last_.try_emplace(group_key);
    if (!inserted && it->second.firing == firing &&
        firing.size() == static_cast<size_t>(alerts) &&
        at - it->second.at < repeat_interval_) {
      ++duplicates_;
    }
    it->second = LastDelivery{at, std::move(firing)};
    r->body = "ok";
  }

  const absl::Duration repeat_interval_;
  std::unique_ptr<api::HttpServer> server_;
  std::atomic<bool> down_{false};
  std::atomic<int64_t> refused_{0};
  absl::Mutex mu_;
  std::vector<absl::Time> first_delivery_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, LastDelivery> last_ ABSL_GUARDED_BY(mu_);
  absl::Time mark_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  Counts since_mark_ ABSL_GUARDED_BY(mu_);
  int64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bad_bodies_ ABSL_GUARDED_BY(mu_) = 0;
  double parse_cpu_ ABSL_GUARDED_BY(mu_) = 0;
};

// Plays the rule evaluator: the first `active` alerts, re-sent every
// `resend` in batches, each with endsAt = now + 4 * resend.
class Evaluator {
 public:
  Evaluator(alerting::Router* router, int total, int groups, int batch,
            absl::Duration resend)
      : router_(router),
        groups_(groups),
        batch_(batch),
        resend_(resend),
        starts_(total, absl::InfinitePast()),
        first_receive_(total, absl::InfinitePast()) {}

  // Makes alerts [active, n) fire now and sends them.
  void Activate(int n) {
    absl::MutexLock l(&mu_);
    absl::Time now = absl::Now();
    for (int i = active_; i < n; ++i) starts_[i] = now;
    SendLocked(active_, n);
    active_ = n;
  }
  // Re-sends every active alert.
  void ResendAll() {
    absl::MutexLock l(&mu_);
    SendLocked(0, active_);
  }
  std::vector<absl::Time> FirstReceive() {
    absl::MutexLock l(&mu_);
    return first_receive_;
  }

  // Re-sends every `resend` on a thread until Stop().
  void Start() {
    thread_ = std::thread([this] {
      absl::Time next = absl::Now() + resend_;
      while (!stop_.WaitForNotificationWithTimeout(next - absl::Now())) {
        ResendAll();
        next += resend_;
      }
    });
  }
  void Stop() {
    stop_.Notify();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void SendLocked(int from, int to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (int b = from; b < to; b += batch_) {
      std::vector<alerting::Alert> alerts;
      absl::Time now = absl::Now();
      for (int i = b; i < std::min(to, b + batch_); ++i) {
        alerting::Alert a;
        a.labels =
            model::Labels::FromPairs({{"alertname", "InstanceDown"},
                                      {"group", absl::StrCat("g", i % groups_)},
                                      {"instance", absl::StrCat("i", i)},
                                      {"severity", "page"}});
        a.annotations = {
            {"summary", absl::StrCat("instance i", i, " is down")}};
        a.starts_at = starts_[i];
        a.ends_at = now + 4 * resend_;
        a.generator_url =
            "http://vigil:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1";
        alerts.push_back(std::move(a));
        if (first_receive_[i] == absl::InfinitePast()) first_receive_[i] = now;
      }
      router_->Receive(std::move(alerts));
    }
  }

  alerting::Router* const router_;
  const int groups_;
  const int batch_;
  const absl::Duration resend_;
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Time> starts_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> first_receive_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread thread_;
};

// Polls `done` every 10 ms until it holds or `deadline` passes.
template <typename F>
bool WaitFor(F done, absl::Time deadline) {
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

void Row(absl::string_view name, const std::string& value) {
  std::printf("  %-52s %s\n", std::string(name).c_str(), value.c_str());
}
std::string Secs(double s) { return absl::StrFormat("%.3f s", s); }

int Run(int argc, char** argv) {
  const int n_alerts = static_cast<int>(FlagInt(argc, argv, "alerts", 10000));
  const int n_groups = static_cast<int>(FlagInt(argc, argv, "groups", 500));
  const int batch = static_cast<int>(
      std::max<int64_t>(1, FlagInt(argc, argv, "batch", 1000)));
  const absl::Duration group_wait =
      absl::Seconds(FlagInt(argc, argv, "group_wait_s", 1));
  const absl::Duration group_interval =
      absl::Seconds(FlagInt(argc, argv, "group_interval_s", 5));
  const absl::Duration repeat_interval =
      absl::Seconds(FlagInt(argc, argv, "repeat_interval_s", 3600));
  const absl::Duration resend =
      absl::Seconds(std::max<int64_t>(1, FlagInt(argc, argv, "resend_s", 60)));
  const absl::Duration outage =
      absl::Seconds(FlagInt(argc, argv, "outage_s", 300));
  const int n_new = static_cast<int>(FlagInt(argc, argv, "new_alerts", 500));
  const absl::Duration settle = absl::Seconds(FlagInt(
      argc, argv, "settle_s", 2 * absl::ToInt64Seconds(group_interval) + 2));
  const absl::Duration timeout =
      absl::Seconds(FlagInt(argc, argv, "timeout_s", 600));
  const int delivery_threads =
      static_cast<int>(FlagInt(argc, argv, "delivery_threads", 4));
  const int total = n_alerts + n_new;
  if (absl::Status s =
          SetLogLevelByName(FlagString(argc, argv, "log_level", "error"));
      !s.ok()) {
    std::fprintf(stderr, "--log_level: %s\n", s.ToString().c_str());
    return 2;
  }

  Sink sink(total, repeat_interval);
  if (absl::Status s = sink.Start(); !s.ok()) {
    std::fprintf(stderr, "sink: %s\n", s.ToString().c_str());
    return 1;
  }

  config::NotificationsConfig cfg;
  cfg.enabled = true;
  cfg.route.receiver = "bench";
  cfg.route.group_by = {"group"};
  cfg.route.group_wait = group_wait;
  cfg.route.group_interval = group_interval;
  cfg.route.repeat_interval = repeat_interval;
  config::ReceiverConfig rc;
  rc.name = "bench";
  config::WebhookReceiverConfig wh;
  wh.url = sink.url();
  rc.webhook_configs.push_back(wh);
  cfg.receivers.push_back(rc);

  api::HttpSender sender(1);
  alerting::RetryPolicy retry{cfg.retry_initial, cfg.retry_max};
  const std::string dir = MakeTempDir("notify_bench");
  alerting::RouterOptions ro;
  ro.data_dir = dir + "/alerting";
  ro.external_url = "http://vigil:9090";
  ro.delivery_threads = delivery_threads;
  ro.factory = [&sender, retry](const config::ReceiverConfig& r)
      -> absl::StatusOr<std::vector<std::unique_ptr<alerting::Integration>>> {
    return alerting::BuildIntegrations(r, &sender, retry,
                                       alerting::TemplateRenderer());
  };
  absl::StatusOr<std::unique_ptr<alerting::Router>> router =
      alerting::Router::Create(cfg, ro);
  if (!router.ok()) {
    std::fprintf(stderr, "router: %s\n", router.status().ToString().c_str());
    return 1;
  }
  Evaluator eval(router->get(), total, n_groups, batch, resend);

  std::printf(
      "notify_bench: %d alerts in %d groups, batches of %d, group_wait %s, "
      "group_interval %s, repeat_interval %s, resend %s, outage %s, %d new "
      "alerts\n",
      n_alerts, n_groups, batch, absl::FormatDuration(group_wait).c_str(),
      absl::FormatDuration(group_interval).c_str(),
      absl::FormatDuration(repeat_interval).c_str(),
      absl::FormatDuration(resend).c_str(),
      absl::FormatDuration(outage).c_str(), n_new);
  std::fflush(stdout);

  // ---- Phase 1 ----------------------------------------------------------
  const double cpu0 = CpuSeconds();
  const double parse0 = sink.parse_cpu_seconds();
  const absl::Time p1_start = absl::Now();
  sink.Mark(p1_start);
  eval.Activate(n_alerts);
  const double receive_s = absl::ToDoubleSeconds(absl::Now() - p1_start);
  eval.Start();
  const bool p1_done = WaitFor([&] { return sink.Undelivered(n_alerts) == 0; },
                               absl::Now() + timeout);
  const absl::Time p1_end = absl::Now();
  (*router)->WaitIdle(absl::Seconds(10));
  const double p1_cpu = CpuSeconds() - cpu0;
  const double p1_parse = sink.parse_cpu_seconds() - parse0;
  const Sink::Counts p1_counts = sink.SinceMark();
  const double p1_rss = PeakRssMiB();

  std::vector<absl::Time> received = eval.FirstReceive();
  std::vector<absl::Time> delivered = sink.FirstDelivery();
  std::vector<double> alert_lat;
  std::vector<absl::Time> group_first(n_groups, absl::InfiniteFuture());
  std::vector<absl::Time> group_last(n_groups, absl::InfinitePast());
  for (int i = 0; i < n_alerts; ++i) {
    if (delivered[i] == absl::InfinitePast()) continue;
    alert_lat.push_back(absl::ToDoubleSeconds(delivered[i] - received[i]));
    group_first[i % n_groups] =
        std::min(group_first[i % n_groups], received[i]);
    group_last[i % n_groups] = std::max(group_last[i % n_groups], delivered[i]);
  }
  std::vector<double> group_lat;
  for (int g = 0; g < n_groups; ++g) {
    if (group_last[g] != absl::InfinitePast()) {
      group_lat.push_back(
          absl::ToDoubleSeconds(group_last[g] - group_first[g]));
    }
  }

  // ---- Phase 2 ----------------------------------------------------------
  const double cpu2 = CpuSeconds();
  const int64_t dup_before = sink.duplicates();
  const absl::Time down_at = absl::Now();
  sink.SetDown(true);
  std::printf("phase 1 done in %s; sink down for %s\n",
              Secs(absl::ToDoubleSeconds(p1_end - p1_start)).c_str(),
              absl::FormatDuration(outage).c_str());
  std::fflush(stdout);
  absl::SleepFor(outage / 2);
  eval.Activate(total);  // New alerts join the groups during the outage.
  absl::SleepFor(down_at + outage - absl::Now());
  const int64_t refused = sink.refused();
  const absl::Time up_at = absl::Now();
  sink.Mark(up_at);
  sink.SetDown(false);
  const bool p2_done =
      WaitFor([&] { return sink.Undelivered(total) == 0; }, up_at + timeout);
  const absl::Time all_at = absl::Now();
  absl::SleepFor(settle);  // Late duplicates.
  eval.Stop();
  (*router)->WaitIdle(absl::Seconds(10));
  const double p2_cpu = CpuSeconds() - cpu2;
  const Sink::Counts p2_counts = sink.SinceMark();
  const int64_t dups_p1 = dup_before;
  const int64_t dups_p2 = sink.duplicates() - dup_before;
  const int undelivered = sink.Undelivered(total);
  alerting::RouterStats stats = (*router)->Stats();
  (*router)->Stop();
  sink.Shutdown();

  // ---- Report -----------------------------------------------------------
  std::printf("\nPhase 1: %d alerts Received at once (%d groups)\n", n_alerts,
              n_groups);
  Row("Receive calls took", Secs(receive_s));
  Row("all delivered", p1_done ? "yes" : "NO (timeout)");
  Row("group latency p50 / p99 / max (first Receive->all)",
      absl::StrFormat("%.3f / %.3f / %.3f s", Quantile(group_lat, 0.5),
                      Quantile(group_lat, 0.99), Quantile(group_lat, 1)));
  Row("alert latency p50 / p99 / max (Receive->delivery)",
      absl::StrFormat("%.3f / %.3f / %.3f s", Quantile(alert_lat, 0.5),
                      Quantile(alert_lat, 0.99), Quantile(alert_lat, 1)));
  Row("alerts delivered (in notifications)", absl::StrCat(p1_counts.alerts));
  Row("notifications", absl::StrCat(p1_counts.notifications));
  Row("group keys seen", absl::StrCat(sink.group_keys()));
  Row("duplicates", absl::StrCat(dups_p1));
  Row("process CPU (router + client + sink)", Secs(p1_cpu));
  Row("  of which sink JSON parsing", Secs(p1_parse));
  Row("peak RSS", absl::StrFormat("%.1f MiB", p1_rss));

  std::printf(
      "\nPhase 2: sink answers 503 for %s, re-sent every %s, %d new alerts\n",
      absl::FormatDuration(outage).c_str(),
      absl::FormatDuration(resend).c_str(), n_new);
  Row("POSTs refused during outage", absl::StrCat(refused));
  Row("everything delivered after recovery", p2_done ? "yes" : "NO (timeout)");
  Row("time from recovery to all delivered",
      Secs(absl::ToDoubleSeconds(all_at - up_at)));
  Row("notifications after recovery", absl::StrCat(p2_counts.notifications));
  Row("alerts delivered after recovery", absl::StrCat(p2_counts.alerts));
  Row("undelivered alerts (want 0)", absl::StrCat(undelivered));
  Row("duplicates within repeat_interval (want 0)", absl::StrCat(dups_p2));
  Row("process CPU for the phase", Secs(p2_cpu));
  Row("peak RSS", absl::StrFormat("%.1f MiB", PeakRssMiB()));

  std::printf(
      "\nRouter: %llu alerts received, %llu webhook notifications sent, %llu "
      "failed\n",
      static_cast<unsigned long long>(stats.alerts_received),
      static_cast<unsigned long long>(stats.notifications_sent["webhook"]),
      static_cast<unsigned long long>(stats.notifications_failed["webhook"]));
  if (sink.bad_bodies() > 0) {
    std::printf("WARNING: %lld webhook bodies could not be parsed\n",
                static_cast<long long>(sink.bad_bodies()));
  }

  PrintResult("notify_group_latency_p50_s", Quantile(group_lat, 0.5));
  PrintResult("notify_group_latency_p99_s", Quantile(group_lat, 0.99));
  PrintResult("notify_phase1_cpu_s", p1_cpu);
  PrintResult("notify_peak_rss_mib", PeakRssMiB());
  PrintResult("notify_recovery_s", absl::ToDoubleSeconds(all_at - up_at));
  PrintResult("notify_duplicates", static_cast<double>(dups_p1 + dups_p2));
  PrintResult("notify_undelivered", undelivered);

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return (undelivered == 0 && dups_p1 + dups_p2 == 0 && sink.bad_bodies() == 0)
             ? 0
             : 1;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  vigil::bench::InitBenchmarkProcess();
  return vigil::bench::Run(argc, argv);
}
