#include "cmd/serve.h"

#include <signal.h>
#include <cstdio>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "api/http_server.h"
#include "api/query_api.h"
#include "api/alerting_api.h"
#include "api/rule_metrics.h"
#include "cmd/alerting_service.h"
#include "api/rules_api.h"
#include "api/scrape_api.h"
#include "api/self_metrics.h"
#include "api/web.h"
#include "base/file.h"
#include "base/logging.h"
#include "cmd/flags.h"
#include "config/config.h"
#include "config/web_config.h"
#include "prometheus/gauge.h"
#include "rules/manager.h"
#include "rules/notification_template.h"
#include "scrape/manager.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

// Blocks SIGTERM, SIGINT and SIGHUP in this and every later thread; the
// main thread takes them with sigwait, so no handler runs in an arbitrary
// thread.
sigset_t BlockShutdownSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

}  // namespace

int RunServe() {
  sigset_t sigs = BlockShutdownSignals();
  absl::Time start = absl::Now();

  auto tsdb_opts = TsdbOptionsFromFlags();
  auto http_opts = HttpServerOptionsFromFlags();
  auto rw_opts = RemoteWriteOptionsFromFlags();
  auto shutdown_timeout = ShutdownTimeoutFromFlags();
  for (const absl::Status& s : {tsdb_opts.status(), http_opts.status(), rw_opts.status(),
                                shutdown_timeout.status()}) {
    if (!s.ok()) {
      LogError("main", "invalid flags").Kv("err", s);
      return 2;
    }
  }
  config::Config cfg;
  if (!FLAGS_config.empty()) {
    auto loaded = config::LoadConfigFile(FLAGS_config);
    if (loaded.ok()) {
      if (absl::Status s = rules::CheckNotificationTemplates(*loaded); !s.ok()) loaded = s;
    }
    if (!loaded.ok()) {
      LogError("main", "invalid configuration").Kv("err", loaded.status());
      return 2;
    }
    cfg = *std::move(loaded);
  }
  // Rule files are checked before anything starts (Prometheus refuses to
  // start with a bad one) and applied once the database is open.
  auto startup_rules = rules::RuleManager::Prepare(cfg.rule_files, cfg.global.evaluation_interval);
  if (!startup_rules.ok()) {
    LogError("main", "invalid rule files").Kv("err", startup_rules.status());
    return 2;
  }
  std::unique_ptr<config::BasicAuthenticator> auth;
  if (!FLAGS_web_config_file.empty()) {
    auto wc = config::LoadWebConfigFile(FLAGS_web_config_file);
    if (!wc.ok()) {
      LogError("main", "invalid web config").Kv("err", wc.status());
      return 2;
    }
    if (wc->tls.has_value()) {
      if (wc->tls->client_auth_type != config::ClientAuthType::kNoClientCert) {
        LogError("main", "invalid web config")
            .Kv("err", "tls_server_config.client_auth_type: client certificates are not "
                       "supported yet");
        return 2;
      }
      http_opts->tls_cert_file = wc->tls->cert_file;
      http_opts->tls_key_file = wc->tls->key_file;
    }
    auth = std::make_unique<config::BasicAuthenticator>(wc->basic_auth_users);
    if (auth->enabled()) {
      config::BasicAuthenticator* a = auth.get();
      http_opts->authorize = [a](const api::HttpRequest& req) {
        return a->Check(req.Header("authorization"));
      };
    }
  }

  api::SelfMetrics metrics(VIGIL_VERSION);
  http_opts->observe = [&metrics](absl::string_view route, int code, double secs) {
    metrics.ObserveHttpRequest(route, code, secs);
  };
  http_opts->reject = [&metrics](absl::string_view reason) { metrics.IncHttpRejected(reason); };

  // Config reload (SIGHUP, POST /-/reload): the scrape manager exists once
  // the database is open.
  auto gauge = [&metrics](const char* name, const char* help) -> prometheus::Gauge& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(metrics.registry()).Add({});
  };
  auto& reload_ok = gauge("vigil_config_last_reload_successful",
                          "Whether the last configuration reload attempt was successful.");
  auto& reload_time = gauge("vigil_config_last_reload_success_timestamp_seconds",
                            "Timestamp of the last successful configuration reload.");
  reload_ok.Set(1);
  reload_time.Set(absl::ToDoubleSeconds(start - absl::UnixEpoch()));
  absl::Mutex reload_mu;
  std::unique_ptr<scrape::Manager> scraper;
  api::ScrapeApi scrape_api;
  std::unique_ptr<rules::RuleManager> rule_manager;
  api::RulesApi rules_api;
  // Where fired alerts go (Alertmanagers, the built-in router). Guarded by
  // reload_mu; created once the database is open.
  std::unique_ptr<AlertingService> alerting_service;
  api::AlertingApi alerting_api;
  auto reload = [&]() -> absl::Status {
    absl::MutexLock l(&reload_mu);
    if (FLAGS_config.empty()) {
      return absl::FailedPreconditionError("no configuration file (--config) to reload");
    }
    absl::StatusOr<config::Config> next = config::LoadConfigFile(FLAGS_config);
    absl::Status s = next.status();
    if (s.ok()) s = rules::CheckNotificationTemplates(*next);
    // Rule files are loaded and checked first so that a bad one fails the
    // reload before anything changes.
    std::unique_ptr<rules::RuleManager::Prepared> prepared_rules;
    if (s.ok() && rule_manager != nullptr) {
      auto p = rules::RuleManager::Prepare(next->rule_files, next->global.evaluation_interval);
      if (p.ok()) {
        prepared_rules = *std::move(p);
      } else {
        s = p.status();
      }
    }
    if (s.ok() && scraper != nullptr) s = scraper->ApplyConfig(next->scrapes);
    if (s.ok() && alerting_service != nullptr) {
      // The router may be replaced: the API lets go of it first.
      alerting_api.SetRouter(nullptr);
      s = alerting_service->ApplyConfig(*next);
      alerting_api.SetRouter(alerting_service->router());
    }
    if (s.ok() && rule_manager != nullptr) {
      rule_manager->Apply(std::move(prepared_rules), next->global.external_labels);
    }
    if (!s.ok()) {
      reload_ok.Set(0);
      LogError("main", "reloading the configuration failed, keeping the old one")
          .Kv("file", FLAGS_config)
          .Kv("err", s);
      return s;
    }
    reload_ok.Set(1);
    reload_time.Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
    LogInfo("main", "completed loading of configuration file").Kv("file", FLAGS_config);
    return absl::OkStatus();
  };
  auto& scrape_targets = gauge("vigil_scrape_targets", "Active scrape targets.");
  auto& scrapes_total = gauge("vigil_scrapes", "Scrapes done since start.");
  auto& scrape_failures =
      gauge("vigil_scrape_failures", "Scrapes that failed since start (up was 0).");
  auto& scrape_samples = gauge("vigil_scrape_samples_appended",
                               "Samples appended by scrapes since start, after relabeling.");

  api::WebOptions web_opts;
  web_opts.reload = reload;
  web_opts.before_metrics = [&] {
    absl::MutexLock l(&reload_mu);
    if (scraper == nullptr) return;
    scrape::ScrapeStats st = scraper->Stats();
    scrape_targets.Set(static_cast<double>(st.targets));
    scrapes_total.Set(static_cast<double>(st.scrapes));
    scrape_failures.Set(static_cast<double>(st.failed));
    scrape_samples.Set(static_cast<double>(st.samples));
  };
  web_opts.enable_lifecycle = FLAGS_web_enable_lifecycle;
  // /-/quit takes the same path as SIGTERM: the main thread's sigwait.
  web_opts.quit = [] { kill(getpid(), SIGTERM); };
  web_opts.remote_write = *rw_opts;
  api::Web web(web_opts, &metrics);
  absl::StatusOr<api::QueryApiOptions> query_opts = QueryApiOptionsFromFlags();
  if (!query_opts.ok()) {
    std::fprintf(stderr, "vigil serve: %s\n", std::string(query_opts.status().message()).c_str());
    return 2;
  }
  query_opts->version = VIGIL_VERSION;
  query_opts->start_time = start;
  if (!FLAGS_config.empty()) {
    absl::StatusOr<std::string> yaml = ReadFile(FLAGS_config);
    if (yaml.ok()) query_opts->config_yaml = *std::move(yaml);
  }
  api::QueryApi query_api(*query_opts);
  api::HttpServer server(*http_opts);
  web.RegisterRoutes(&server);
  query_api.RegisterRoutes(&server);
  scrape_api.RegisterRoutes(&server);
  rules_api.RegisterRoutes(&server);
  alerting_api.RegisterRoutes(&server);
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("main", "cannot start the HTTP server").Kv("err", s);
    return 1;
  }
  // Logged now, not only once the WAL is replayed: with --listen=host:0 this
  // is the only way to reach /-/healthy and /-/ready during the replay.
  LogInfo("main", "listening").Kv("listen", FLAGS_listen).Kv("port", server.port());
  absl::StatusOr<RuleFlags> rule_flags = RuleFlagsFromFlags(server.port());
  if (!rule_flags.ok()) {
    std::fprintf(stderr, "vigil serve: %s\n", std::string(rule_flags.status().message()).c_str());
    server.Shutdown(absl::ZeroDuration());
    return 2;
  }
  metrics.AddSource([&reload_mu, &rule_manager] {
    absl::MutexLock l(&reload_mu);
    if (rule_manager == nullptr) return std::vector<prometheus::MetricFamily>();
    return api::RuleMetricFamilies(rule_manager->Groups());
  });
  metrics.AddSource([&reload_mu, &alerting_service] {
    absl::MutexLock l(&reload_mu);
    if (alerting_service == nullptr) return std::vector<prometheus::MetricFamily>();
    return alerting_service->Metrics();
  });

  // Replay runs beside the signal wait, so that /-/healthy answers and a
  // signal stops the process while the WAL is read.
  std::unique_ptr<tsdb::DB> db;
  absl::Status open_status;
  absl::Notification opened;
  std::thread opener([&] {
    auto d = tsdb::DB::Open(*tsdb_opts);
    if (d.ok()) {
      db = std::move(*d);
      web.SetDb(db.get());
      query_api.SetDb(db.get());
      {
        absl::MutexLock l(&reload_mu);
        scrape::ManagerOptions mo;
        tsdb::DB* dbp = db.get();
        mo.appender = [dbp] { return dbp->Appender(); };
        mo.offset_seed = cfg.global.external_labels.Hash();
        scraper = std::make_unique<scrape::Manager>(mo);
        if (absl::Status s = scraper->ApplyConfig(cfg.scrapes); !s.ok()) {
          LogError("main", "cannot apply the scrape configuration").Kv("err", s);
        }
        scrape_api.SetManager(scraper.get());
        rules::RuleManagerOptions ro;
        ro.engine = query_opts->engine;
        ro.appender = [dbp] { return dbp->Appender(); };
        ro.querier = [dbp] { return dbp->Querier(); };
        ro.engine.default_subquery_step_ms =
            absl::ToInt64Milliseconds(cfg.global.evaluation_interval);
        ro.for_outage_tolerance = rule_flags->for_outage_tolerance;
        ro.for_grace_period = rule_flags->for_grace_period;
        ro.resend_delay = rule_flags->resend_delay;
        ro.external_url = rule_flags->external_url;
        AlertingServiceOptions ao;
        ao.data_dir = tsdb_opts->dir;
        ao.external_url = rule_flags->external_url;
        ao.queue_capacity = rule_flags->notification_queue_capacity;
        alerting_service = std::make_unique<AlertingService>(ao);
        if (absl::Status s = alerting_service->ApplyConfig(cfg); !s.ok()) {
          LogError("main", "cannot apply the alerting configuration").Kv("err", s);
        }
        alerting_api.SetNotifier(alerting_service->notifier());
        alerting_api.SetRouter(alerting_service->router());
        AlertingService* as = alerting_service.get();
        ro.notify = [as](std::vector<alerting::Alert> alerts) { as->Send(std::move(alerts)); };
        rule_manager = std::make_unique<rules::RuleManager>(ro);
        rule_manager->Apply(*std::move(startup_rules), cfg.global.external_labels);
        rules_api.SetManager(rule_manager.get());
      }
      LogInfo("main", "vigil started")
          .Kv("version", VIGIL_VERSION)
          .Kv("data_dir", tsdb_opts->dir)
          .Kv("listen", FLAGS_listen)
          .Kv("port", server.port())
          .Kv("wal_fsync", FLAGS_wal_fsync)
          .Kv("series", db->NumSeries())
          .Kv("replay_duration", absl::Nanoseconds(db->head_stats().wal_replay_nanos.load()))
          .Kv("startup_duration", absl::Now() - start);
      opened.Notify();
    } else {
      open_status = d.status();
      LogError("main", "cannot open database").Kv("err", open_status);
      opened.Notify();
      kill(getpid(), SIGTERM);  // Wake the signal wait below.
    }
  });

  int sig = 0;
  while (true) {
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
    if (opened.HasBeenNotified()) (void)reload();
  }
  // A second signal now terminates at once (default action).
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, &sigs, nullptr);
  if (!opened.HasBeenNotified()) {
    // Nothing was accepted yet; the WAL is only being read.
    LogInfo("main", "shutting down during WAL replay").Kv("signal", strsignal(sig));
    std::_Exit(0);
  }
  opener.join();
  if (!open_status.ok()) {
    server.Shutdown(absl::ZeroDuration());
    return 1;
  }
  LogInfo("main", "shutting down").Kv("signal", strsignal(sig));
  server.Shutdown(*shutdown_timeout);
  {
    absl::MutexLock l(&reload_mu);
    scrape_api.SetManager(nullptr);
    if (scraper != nullptr) scraper->Stop();
    scraper.reset();
    rules_api.SetManager(nullptr);
    if (rule_manager != nullptr) rule_manager->Stop();
    rule_manager.reset();
    alerting_api.SetNotifier(nullptr);
    alerting_api.SetRouter(nullptr);
    if (alerting_service != nullptr) alerting_service->Stop();
    alerting_service.reset();
  }
  query_api.SetDb(nullptr);
  web.SetDb(nullptr);
  absl::Status s = db->Close();
  if (!s.ok()) {
    LogError("main", "close failed").Kv("err", s);
    return 1;
  }
  LogInfo("main", "shutdown complete");
  return 0;
}

}  // namespace vigil
