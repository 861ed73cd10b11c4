// Built-in notifications (the `notifications` config section,
// docs/notifications.md) end to end: the real `vigil serve` scrapes an
// in-test exporter whose values the test sets, its rules fire and resolve
// alerts, and the router delivers them to local HTTP(S) sinks on 127.0.0.1.
// Checked through what the sinks receive: the webhook, chat and pager
// payloads field by field (over HTTPS with a CA file; a sink whose
// certificate is not trusted is a failed delivery), resolve messages,
// grouping, repeat timing, inhibition, silences (through the HTTP API),
// retries on 500 and 429 (Retry-After) and none on 400 (also as seen in
// GET /api/v1/notifications), and delivery across restarts.
//
// The unit-level versions are alerting/router_test.cc (in-memory
// integrations) and tests/receivers_test.cc (integrations over HTTP).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "api/http_server.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "model/labels.h"
#include "tests/http_test_util.h"
#include "tests/prometheus_api.h"
#include "tests/vigil_process.h"

namespace vigil::testing {
namespace {

constexpr char kExternalUrl[] = "http://vigil.example:9090";
constexpr char kRoutingKey[] = "0123456789abcdef0123456789abcdef";
// What the rules below put in generatorURL: the external URL and the
// query-escaped expression.
constexpr char kWarnGeneratorUrl[] =
    "http://vigil.example:9090/graph?g0.expr=app_errors+%3E+0&g0.tab=1";

// HighErrors fires per instance: severity page above 10 errors, warning
// above 0. The page rule comes first, so that within one evaluation the
// page alert reaches the router before the warning it inhibits.
constexpr char kRules[] = R"(groups:
  - name: notify
    interval: 1s
    rules:
      - alert: HighErrors
        expr: app_errors > 10
        labels:
          severity: page
        annotations:
          summary: "errors on {{ $labels.instance }}"
          value: "{{ $value }}"
          runbook: "{{ externalURL }}/runbooks/errors"
      - alert: HighErrors
        expr: app_errors > 0
        labels:
          severity: warning
        annotations:
          summary: "errors on {{ $labels.instance }}"
          value: "{{ $value }}"
          runbook: "{{ externalURL }}/runbooks/errors"
)";

// Serves /metrics: one app_errors gauge per instance, values set by the
// test (an instance left out has no series).
class Exporter {
 public:
  Exporter() {
    api::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.worker_threads = 2;
    server_ = std::make_unique<api::HttpServer>(o);
    server_->Handle("GET", "/metrics", [this](const api::HttpRequest&, api::HttpResponse* r) {
      absl::MutexLock l(&mu_);
      r->content_type = "text/plain; version=0.0.4; charset=utf-8";
      r->body = "# TYPE app_errors gauge\n";
      for (const auto& [instance, v] : errors_) {
        absl::StrAppend(&r->body, "app_errors{instance=\"", instance, "\"} ", v, "\n");
      }
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Exporter() { server_->Shutdown(absl::Seconds(1)); }

  int port() const { return server_->port(); }
  void Set(std::map<std::string, int> errors) {
    absl::MutexLock l(&mu_);
    errors_ = std::move(errors);
  }

 private:
  std::unique_ptr<api::HttpServer> server_;
  absl::Mutex mu_;
  std::map<std::string, int> errors_ ABSL_GUARDED_BY(mu_);
};

// A local HTTP or HTTPS endpoint taking POSTs on any one-segment path
// (/webhook, /chat, /pager, ...). Each path's requests are numbered from 0
// and answered as the responder says (default: 200); every request is
// recorded with its answer.
class Sink {
 public:
  struct Received {
    std::string path;
    std::string body;
    std::string content_type;
    absl::Time at;  // When the request arrived.
    int status = 0;
  };
  using Responder =
      std::function<void(const std::string& path, int index, api::HttpResponse* resp)>;

  // `tls` null: plain HTTP.
  explicit Sink(const test::CertFiles* tls = nullptr) : tls_(tls != nullptr) {
    api::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.worker_threads = 4;
    if (tls != nullptr) {
      o.tls_cert_file = tls->cert;
      o.tls_key_file = tls->key;
    }
    server_ = std::make_unique<api::HttpServer>(o);
    server_->Handle("POST", "/:name", [this](const api::HttpRequest& req, api::HttpResponse* r) {
      Received rec{req.path, req.body, std::string(req.Header("content-type")), absl::Now(), 0};
      Responder respond;
      int index = 0;
      {
        absl::MutexLock l(&mu_);
        index = per_path_[req.path]++;
        respond = respond_;
      }
      if (respond) respond(req.path, index, r);
      rec.status = r->status;
      absl::MutexLock l(&mu_);
      received_.push_back(std::move(rec));
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Sink() { server_->Shutdown(absl::Seconds(1)); }

  std::string Url(absl::string_view path) const {
    return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", server_->port(), path);
  }
  void SetResponder(Responder r) {
    absl::MutexLock l(&mu_);
    respond_ = std::move(r);
  }
  // The requests to `path` answered so far, in arrival order.
  std::vector<Received> Got(absl::string_view path) {
    absl::MutexLock l(&mu_);
    std::vector<Received> out;
    for (const Received& r : received_) {
      if (r.path == path) out.push_back(r);
    }
    std::sort(out.begin(), out.end(),
              [](const Received& a, const Received& b) { return a.at < b.at; });
    return out;
  }
  // Those of them answered with a 2xx status.
  std::vector<Received> Delivered(absl::string_view path) {
    std::vector<Received> out = Got(path);
    out.erase(std::remove_if(out.begin(), out.end(),
                             [](const Received& r) { return r.status < 200 || r.status > 299; }),
              out.end());
    return out;
  }

 private:
  const bool tls_;
  std::unique_ptr<api::HttpServer> server_;
  absl::Mutex mu_;
  Responder respond_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> per_path_ ABSL_GUARDED_BY(mu_);
  std::vector<Received> received_ ABSL_GUARDED_BY(mu_);
};

// Route timers of a test's config.
struct Timers {
  std::string group_wait = "1s";
  std::string group_interval = "2s";
  std::string repeat_interval = "1h";
};

class NotificationsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = MissingBinaries({kCurl, kJq});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/notifications_e2e_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    rules_ = Write("rules.yml", kRules);
  }
  void TearDown() override {
    if (vigil_.pid > 0) StopProcess(&vigil_, SIGTERM, absl::Seconds(20));
    if (HasFailure()) {
      std::cerr << "vigil log:\n" << earlier_logs_ << vigil_.log << "\nkept " << dir_ << "\n";
    } else if (!dir_.empty()) {
      std::system(absl::StrCat("rm -rf ", dir_).c_str());
    }
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(WriteFileAtomic(path, text).ok());
    return path;
  }

  // A config scraping the exporter every second, with the rule file unless
  // `with_rules` is false, and `notifications` (the section's body, indented
  // by two spaces).
  std::string Config(const std::string& notifications, bool with_rules = true) {
    return Write(absl::StrCat("vigil", configs_++, ".yml"),
                 absl::StrCat("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n",
                              with_rules ? absl::StrCat("rule_files:\n  - ", rules_, "\n") : "",
                              "scrape_configs:\n  - job_name: app\n    honor_labels: true\n",
                              "    static_configs:\n      - targets: ['127.0.0.1:",
                              exporter_.port(), "']\nnotifications:\n", notifications));
  }
  // The route section with `receiver` at the root and `extra` below it.
  static std::string Route(const std::string& receiver, const std::string& group_by,
                           const Timers& t, const std::string& extra = "") {
    return absl::StrCat("  route:\n    receiver: ", receiver, "\n    group_by: ", group_by,
                        "\n    group_wait: ", t.group_wait,
                        "\n    group_interval: ", t.group_interval,
                        "\n    repeat_interval: ", t.repeat_interval, "\n", extra);
  }
  static std::string Webhook(const std::string& url, const std::string& extra = "") {
    return absl::StrCat("        - url: ", url, "\n", extra);
  }

  void Start(const std::string& config) {
    vigil_ = StartVigil(VIGIL_BINARY,
                        {"--config=" + config, "--data_dir=" + dir_ + "/data",
                         std::string("--web_external_url=") + kExternalUrl},
                        &port_);
    ASSERT_GT(port_, 0) << vigil_.log;
  }
  // SIGTERM; true when vigil exited cleanly.
  bool Stop() {
    const int code = StopProcess(&vigil_, SIGTERM, absl::Seconds(20));
    earlier_logs_ += vigil_.log;
    vigil_ = Proc{};
    return code == 0;
  }

  bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(30)) {
    std::vector<Proc*> procs;
    if (vigil_.pid > 0) procs.push_back(&vigil_);
    return WaitUntil(done, timeout, procs, absl::Milliseconds(50));
  }

  // jq `program` over `json`; "ERROR: ..." on failure so that comparisons
  // show it.
  std::string J(const std::string& json, const std::string& program) {
    const std::string file = absl::StrCat(dir_, "/body", bodies_++, ".json");
    if (absl::Status w = WriteFileAtomic(file, json); !w.ok()) {
      return absl::StrCat("ERROR: ", w.ToString());
    }
    absl::StatusOr<std::string> out = Jq(program, file);
    return out.ok() ? *out : absl::StrCat("ERROR: ", out.status().ToString());
  }
  // jq `program` over GET `path` from vigil.
  std::string Api(const std::string& path, const std::string& program) {
    return JqGet(dir_, port_, path, {}, program);
  }
  // `method` `path` on vigil with a JSON `body`; the answer's body, or
  // "ERROR: ..." when the request fails or the status is not 2xx.
  std::string Call(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    std::string cmd = absl::StrCat(kCurl, " -sSf --max-time 10 -X ", method);
    if (!body.empty()) {
      absl::StrAppend(&cmd, " -H 'Content-Type: application/json' --data-binary ",
                      ShellQuote(body));
    }
    absl::StrAppend(&cmd, " ", ShellQuote(absl::StrCat("http://127.0.0.1:", port_, path)));
    absl::StatusOr<std::string> out = RunShell(cmd);
    return out.ok() ? *out : absl::StrCat("ERROR: ", out.status().message());
  }
  std::optional<double> Metric(const std::string& name) {
    absl::StatusOr<std::string> m = HttpGet(port_, "/metrics");
    if (!m.ok()) return std::nullopt;
    return MetricValue(*m, name);
  }
  // The instances of the alerts in a webhook body, comma-separated in the
  // body's order.
  std::string Instances(const std::string& webhook_body) {
    return J(webhook_body, "[.alerts[].labels.instance] | join(\",\")");
  }

  std::string dir_;
  std::string rules_;
  Exporter exporter_;
  Proc vigil_;
  std::string earlier_logs_;  // Of vigil processes stopped before.
  int port_ = 0;
  int configs_ = 0;
  int bodies_ = 0;
};

// The fingerprint Vigil gives the HighErrors alert of `instance`.
std::string Fingerprint(const std::string& instance, const std::string& severity) {
  return alerting::FingerprintHex(model::Labels::FromPairs({{"alertname", "HighErrors"},
                                                            {"instance", instance},
                                                            {"job", "app"},
                                                            {"severity", severity}}));
}

absl::Time ParseGoTime(const std::string& s) {
  absl::Time t = absl::InfinitePast();
  std::string err;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", s, absl::UTCTimeZone(), &t, &err)) {
    return absl::InfinitePast();
  }
  return t;
}

// ---- payloads, HTTPS, resolve messages -------------------------------------

// Webhook and chat (receiver "team") and pager (route severity=page) over
// HTTPS verified against the test's CA; a fourth integration of "team"
// points at the same sink without the CA and must fail. Firing payloads
// field by field, then the resolve messages once the errors stop.
TEST_F(NotificationsE2eTest, PayloadsOverHttpsFiringThenResolved) {
  test::CertFiles certs;
  ASSERT_TRUE(test::MakeServerCert(dir_, &certs)) << "openssl failed, see " << dir_;
  Sink sink(&certs);
  const std::string ca = absl::StrCat("          tls_config: {ca_file: ", certs.ca, "}\n");
  Start(Config(absl::StrCat(
      Route("team", "[alertname]", Timers{},
            "    routes:\n      - matchers: ['severity=\"page\"']\n        receiver: pager\n"),
      "  receivers:\n    - name: team\n      webhook_configs:\n", Webhook(sink.Url("/webhook"), ca),
      // Not told about the CA: the system's CAs do not trust the sink.
      Webhook(sink.Url("/untrusted")), "      chat_configs:\n", Webhook(sink.Url("/chat"), ca),
      "    - name: pager\n      pager_configs:\n        - routing_key: ", kRoutingKey,
      "\n          url: ", sink.Url("/pager"), "\n", ca,
      // The untrusted delivery gives up (and is recorded) after 3s.
      "  retry_initial: 100ms\n  retry_max: 500ms\n  retry_give_up: 3s\n")));
  const absl::Time before_firing = absl::Now();
  exporter_.Set({{"api-1", 3}, {"api-2", 20}});

  ASSERT_TRUE(WaitFor([&] {
    return !sink.Got("/webhook").empty() && !sink.Got("/chat").empty() &&
           !sink.Got("/pager").empty();
  }));

  // Webhook: Alertmanager's message, version 4; the two warnings in one
  // notification, sorted by labels.
  std::vector<Sink::Received> hooks = sink.Got("/webhook");
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].status, 200);
  EXPECT_EQ(hooks[0].content_type, "application/json");
  const std::string w = hooks[0].body;
  EXPECT_EQ(J(w, "keys_unsorted | join(\",\")"),
            "receiver,status,alerts,groupLabels,commonLabels,commonAnnotations,externalURL,"
            "version,groupKey,truncatedAlerts");
  EXPECT_EQ(J(w, ".version"), "4");
  EXPECT_EQ(J(w, ".groupKey"), "{}:{alertname=\"HighErrors\"}");
  EXPECT_EQ(J(w, ".truncatedAlerts"), "0");
  EXPECT_EQ(J(w, ".status"), "firing");
  EXPECT_EQ(J(w, ".receiver"), "team");
  EXPECT_EQ(J(w, ".groupLabels | tojson"), R"({"alertname":"HighErrors"})");
  EXPECT_EQ(J(w, ".commonLabels | tojson"),
            R"({"alertname":"HighErrors","job":"app","severity":"warning"})");
  EXPECT_EQ(J(w, ".commonAnnotations | tojson"),
            R"({"runbook":"http://vigil.example:9090/runbooks/errors"})");
  EXPECT_EQ(J(w, ".externalURL"), kExternalUrl);
  EXPECT_EQ(J(w, ".alerts | length"), "2");
  EXPECT_EQ(Instances(w), "api-1,api-2");
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const std::string instance = i == 0 ? "api-1" : "api-2";
    const std::string a = absl::StrCat(".alerts[", i, "]");
    EXPECT_EQ(J(w, a + " | keys_unsorted | join(\",\")"),
              "status,labels,annotations,startsAt,endsAt,generatorURL,fingerprint");
    EXPECT_EQ(J(w, a + ".status"), "firing");
    EXPECT_EQ(J(w, a + ".labels | tojson"),
              absl::StrCat(R"({"alertname":"HighErrors","instance":")", instance,
                           R"(","job":"app","severity":"warning"})"));
    EXPECT_EQ(J(w, a + ".annotations | tojson"),
              absl::StrCat(R"({"runbook":"http://vigil.example:9090/runbooks/errors",)",
                           R"("summary":"errors on )", instance, R"(","value":")",
                           i == 0 ? "3" : "20", "\"}"));
    // Fired at an evaluation after the errors appeared, and before the
    // notification arrived.
    const absl::Time starts = ParseGoTime(J(w, a + ".startsAt"));
    EXPECT_GE(starts, before_firing - absl::Seconds(1)) << J(w, a + ".startsAt");
    EXPECT_LE(starts, hooks[0].at) << J(w, a + ".startsAt");
    EXPECT_EQ(J(w, a + ".endsAt"), "0001-01-01T00:00:00Z");
    EXPECT_EQ(J(w, a + ".generatorURL"), kWarnGeneratorUrl);
    EXPECT_EQ(J(w, a + ".fingerprint"), Fingerprint(instance, "warning"));
  }

  // Chat: a Slack-compatible message with the same two alerts.
  std::vector<Sink::Received> chats = sink.Got("/chat");
  ASSERT_EQ(chats.size(), 1u);
  EXPECT_EQ(chats[0].content_type, "application/json");
  const std::string c = chats[0].body;
  EXPECT_EQ(J(c, "has(\"channel\")"), "false");
  EXPECT_EQ(J(c, ".text | split(\"\\n\")[0]"), "[FIRING:2] HighErrors");
  EXPECT_EQ(J(c, ".blocks | length"), "2");
  EXPECT_EQ(J(c, ".blocks[0] | tojson"),
            R"({"type":"header","text":{"type":"plain_text","text":"[FIRING:2] HighErrors",)"
            R"("emoji":true}})");
  EXPECT_EQ(J(c, ".blocks[1].type"), "section");
  EXPECT_EQ(J(c, ".blocks[1].text.type"), "mrkdwn");
  EXPECT_EQ(J(c, ".blocks[1].text.text"),
            "*HighErrors* (warning) on api-1\nerrors on api-1\nValue: 3\n"
            "<http://vigil.example:9090/graph?g0.expr=app_errors+%3E+0&amp;g0.tab=1|Source>\n\n"
            "*HighErrors* (warning) on api-2\nerrors on api-2\nValue: 20\n"
            "<http://vigil.example:9090/graph?g0.expr=app_errors+%3E+0&amp;g0.tab=1|Source>");

  // Pager: a PagerDuty v2 trigger for the page alone.
  std::vector<Sink::Received> pages = sink.Got("/pager");
  ASSERT_EQ(pages.size(), 1u);
  const std::string p = pages[0].body;
  EXPECT_EQ(J(p, "keys_unsorted | join(\",\")"),
            "routing_key,event_action,dedup_key,payload,client,client_url");
  EXPECT_EQ(J(p, ".routing_key"), kRoutingKey);
  EXPECT_EQ(J(p, ".event_action"), "trigger");
  const std::string dedup_key = J(p, ".dedup_key");
  EXPECT_EQ(J(p, ".dedup_key | test(\"^[0-9a-f]{32}$\")"), "true") << dedup_key;
  EXPECT_EQ(J(p, ".payload.summary"), "[FIRING:1] HighErrors: errors on api-2");
  EXPECT_EQ(J(p, ".payload.source"), "api-2");
  EXPECT_EQ(J(p, ".payload.severity"), "critical");
  EXPECT_EQ(J(p, ".payload.timestamp"), J(p, ".payload.custom_details.alerts[0].startsAt"));
  EXPECT_EQ(J(p, ".payload.custom_details.num_firing"), "1");
  EXPECT_EQ(J(p, ".payload.custom_details.num_resolved"), "0");
  EXPECT_EQ(J(p, ".payload.custom_details.group_labels | tojson"), R"({"alertname":"HighErrors"})");
  EXPECT_EQ(J(p, ".payload.custom_details.alerts | length"), "1");
  EXPECT_EQ(J(p, ".payload.custom_details.alerts[0].status"), "firing");
  EXPECT_EQ(J(p, ".payload.custom_details.alerts[0].labels | tojson"),
            R"({"alertname":"HighErrors","instance":"api-2","job":"app","severity":"page"})");
  EXPECT_EQ(J(p, ".payload.custom_details.alerts[0].annotations.summary"), "errors on api-2");
  EXPECT_EQ(J(p, ".payload.custom_details.alerts[0].generatorURL"),
            "http://vigil.example:9090/graph?g0.expr=app_errors+%3E+10&g0.tab=1");
  EXPECT_EQ(J(p, ".client"), "Vigil");
  EXPECT_EQ(J(p, ".client_url"), kExternalUrl);

  // The integration without the CA: no request reached the sink (the TLS
  // handshake failed), and the delivery is recorded as failed.
  const std::string untrusted =
      "[.data[] | select(.receiver == \"team\" and .index == 1)] | first // empty";
  ASSERT_TRUE(WaitFor([&] { return !Api("/api/v1/notifications", untrusted).empty(); }))
      << Api("/api/v1/notifications", ".");
  EXPECT_EQ(Api("/api/v1/notifications", untrusted + " | .integration + \" \" + .outcome"),
            "webhook error");
  const std::string err = Api("/api/v1/notifications", untrusted + " | .error");
  EXPECT_TRUE(absl::StrContains(err, "certificate")) << err;
  EXPECT_TRUE(sink.Got("/untrusted").empty());
  EXPECT_GE(Metric("vigil_router_notifications_failed_total{integration=\"webhook\"}").value_or(0),
            1);

  // The errors stop: every receiver gets its resolve message.
  const absl::Time before_resolve = absl::Now();
  exporter_.Set({{"api-1", 0}, {"api-2", 0}});
  ASSERT_TRUE(WaitFor([&] {
    return sink.Got("/webhook").size() >= 2 && sink.Got("/chat").size() >= 2 &&
           sink.Got("/pager").size() >= 2;
  }));
  hooks = sink.Got("/webhook");
  ASSERT_EQ(hooks.size(), 2u);
  const std::string wr = hooks[1].body;
  EXPECT_EQ(J(wr, ".status"), "resolved");
  EXPECT_EQ(J(wr, ".groupKey"), J(w, ".groupKey"));
  EXPECT_EQ(Instances(wr), "api-1,api-2");
  EXPECT_EQ(J(wr, "[.alerts[].status] | join(\",\")"), "resolved,resolved");
  EXPECT_EQ(J(wr, "[.alerts[].startsAt] | join(\",\")"),
            J(w, "[.alerts[].startsAt] | join(\",\")"));
  for (const char* a : {".alerts[0]", ".alerts[1]"}) {
    const absl::Time ends = ParseGoTime(J(wr, absl::StrCat(a, ".endsAt")));
    EXPECT_GE(ends, before_resolve - absl::Seconds(1)) << J(wr, absl::StrCat(a, ".endsAt"));
    EXPECT_LE(ends, hooks[1].at) << J(wr, absl::StrCat(a, ".endsAt"));
  }

  chats = sink.Got("/chat");
  ASSERT_EQ(chats.size(), 2u);
  const std::string cr = chats[1].body;
  EXPECT_EQ(J(cr, ".blocks[0].text.text"), "[RESOLVED] HighErrors");
  EXPECT_EQ(J(cr, ".text | split(\"\\n\")[0]"), "[RESOLVED] HighErrors");
  EXPECT_TRUE(absl::StrContains(J(cr, ".blocks[1].text.text"),
                                "*HighErrors* (warning) on api-1 - resolved\n"))
      << cr;

  pages = sink.Got("/pager");
  ASSERT_EQ(pages.size(), 2u);
  const std::string pr = pages[1].body;
  EXPECT_EQ(J(pr, "keys_unsorted | join(\",\")"), "routing_key,event_action,dedup_key");
  EXPECT_EQ(J(pr, ".routing_key"), kRoutingKey);
  EXPECT_EQ(J(pr, ".event_action"), "resolve");
  EXPECT_EQ(J(pr, ".dedup_key"), dedup_key);
}

// ---- grouping ----------------------------------------------------------------

// group_by [alertname, severity]: the two warnings come in one
// notification, the page in another; a warning that starts later joins its
// group's next notification, which again holds the whole group.
TEST_F(NotificationsE2eTest, GroupsAlertsIntoOneNotification) {
  Sink sink;
  Start(Config(absl::StrCat(Route("team", "[alertname, severity]", Timers{}),
                            "  receivers:\n    - name: team\n      webhook_configs:\n",
                            Webhook(sink.Url("/webhook")))));
  exporter_.Set({{"api-1", 3}, {"api-2", 20}});
  ASSERT_TRUE(WaitFor([&] { return sink.Got("/webhook").size() >= 2; }));
  std::vector<Sink::Received> got = sink.Got("/webhook");
  ASSERT_EQ(got.size(), 2u);
  std::map<std::string, std::string> by_group;  // groupKey -> instances
  for (const Sink::Received& r : got) by_group[J(r.body, ".groupKey")] = Instances(r.body);
  EXPECT_EQ(by_group, (std::map<std::string, std::string>{
                          {"{}:{alertname=\"HighErrors\", severity=\"page\"}", "api-2"},
                          {"{}:{alertname=\"HighErrors\", severity=\"warning\"}", "api-1,api-2"},
                      }));

  exporter_.Set({{"api-1", 3}, {"api-2", 20}, {"api-3", 5}});
  ASSERT_TRUE(WaitFor([&] { return sink.Got("/webhook").size() >= 3; }));
  got = sink.Got("/webhook");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(J(got[2].body, ".groupLabels.severity"), "warning");
  EXPECT_EQ(Instances(got[2].body), "api-1,api-2,api-3");
  EXPECT_EQ(J(got[2].body, "[.alerts[].status] | unique | join(\",\")"), "firing");
}

// ---- repeat ------------------------------------------------------------------

// An unchanged group is notified again after repeat_interval (3s), not at
// every group_interval (1s) flush, to every integration.
TEST_F(NotificationsE2eTest, RepeatsUnchangedGroupAfterRepeatInterval) {
  Sink sink;
  Start(Config(absl::StrCat(Route("team", "[alertname]", Timers{"1s", "1s", "3s"}),
                            "  receivers:\n    - name: team\n      webhook_configs:\n",
                            Webhook(sink.Url("/webhook")), "      chat_configs:\n",
                            Webhook(sink.Url("/chat")))));
  exporter_.Set({{"api-1", 3}});
  ASSERT_TRUE(
      WaitFor([&] { return sink.Got("/webhook").size() >= 3 && sink.Got("/chat").size() >= 3; },
              absl::Seconds(40)));
  for (const char* path : {"/webhook", "/chat"}) {
    SCOPED_TRACE(path);
    std::vector<Sink::Received> got = sink.Got(path);
    for (size_t i = 1; i < 3; ++i) {
      const absl::Duration gap = got[i].at - got[i - 1].at;
      // The router flushes every second and repeats once 3s have passed
      // since the last delivery (both on its own clock). Arrival times add
      // delivery latency, so allow 1s of it below and plenty above: what
      // must not happen is a repeat at every flush.
      EXPECT_GE(gap, absl::Seconds(2)) << "notification " << i;
      EXPECT_LE(gap, absl::Seconds(9)) << "notification " << i;
      // A repeat carries the same alerts.
      EXPECT_EQ(got[i].body, got[0].body);
    }
  }
}

// ---- inhibition --------------------------------------------------------------

// A page mutes the warning of the same alertname and instance (not the
// warning of another instance); once the page resolves, the warning is
// delivered.
TEST_F(NotificationsE2eTest, PageInhibitsWarningUntilResolved) {
  Sink sink;
  Start(Config(absl::StrCat(
      Route("team", "[alertname]", Timers{},
            "    routes:\n      - matchers: ['severity=\"page\"']\n        receiver: pager\n"),
      "  inhibit_rules:\n    - source_matchers: ['severity=\"page\"']\n",
      "      target_matchers: ['severity=\"warning\"']\n      equal: [alertname, instance]\n",
      "  receivers:\n    - name: team\n      webhook_configs:\n", Webhook(sink.Url("/webhook")),
      "    - name: pager\n      pager_configs:\n        - routing_key: ", kRoutingKey,
      "\n          url: ", sink.Url("/pager"), "\n")));
  exporter_.Set({{"api-1", 20}, {"api-2", 3}});
  ASSERT_TRUE(
      WaitFor([&] { return !sink.Got("/webhook").empty() && !sink.Got("/pager").empty(); }));
  std::vector<Sink::Received> hooks = sink.Got("/webhook");
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(Instances(hooks[0].body), "api-2");  // api-1's warning is inhibited.
  EXPECT_GE(Metric("vigil_router_alerts_inhibited_total").value_or(0), 1);
  EXPECT_EQ(J(sink.Got("/pager")[0].body, ".payload.custom_details.alerts[0].labels.instance"),
            "api-1");

  // The page stops (api-1 down to a warning): pager resolves, and the
  // warning of api-1 is now delivered with that of api-2.
  exporter_.Set({{"api-1", 3}, {"api-2", 3}});
  ASSERT_TRUE(WaitFor([&] {
    std::vector<Sink::Received> h = sink.Got("/webhook");
    return sink.Got("/pager").size() >= 2 && !h.empty() &&
           Instances(h.back().body) == "api-1,api-2";
  })) << J(sink.Got("/webhook").back().body, ".");
  EXPECT_EQ(J(sink.Got("/pager")[1].body, ".event_action"), "resolve");
  // Every team notification before that one lacked api-1.
  hooks = sink.Got("/webhook");
  for (size_t i = 0; i + 1 < hooks.size(); ++i) {
    EXPECT_EQ(Instances(hooks[i].body), "api-2") << i;
  }
  EXPECT_EQ(J(hooks.back().body, "[.alerts[].labels.severity] | join(\",\")"), "warning,warning");
}

// ---- silences ----------------------------------------------------------------

// A silence created through the API mutes api-1's alert (api-2's, not
// silenced, is delivered); expired through the API, api-1's alert is
// delivered.
TEST_F(NotificationsE2eTest, SilenceMutesUntilExpired) {
  Sink sink;
  Start(Config(absl::StrCat(Route("team", "[alertname]", Timers{"1s", "1s", "1h"}),
                            "  receivers:\n    - name: team\n      webhook_configs:\n",
                            Webhook(sink.Url("/webhook")))));
  const std::string ends =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(1), absl::UTCTimeZone());
  const std::string created = Call(
      "POST", "/api/v1/silences",
      absl::StrCat(R"({"matchers":[{"name":"alertname","value":"HighErrors","isRegex":false},)",
                   R"({"name":"instance","value":"api-[1]","isRegex":true}],"endsAt":")", ends,
                   R"(","createdBy":"e2e","comment":"maintenance of api-1"})"));
  const std::string id = J(created, ".data.silenceID");
  ASSERT_EQ(J(created, ".status"), "success") << created;
  ASSERT_FALSE(id.empty()) << created;
  EXPECT_EQ(Api("/api/v1/silences", "[.data[] | .id + \" \" + .status.state] | join(\",\")"),
            id + " active");

  exporter_.Set({{"api-1", 3}, {"api-2", 3}});
  ASSERT_TRUE(WaitFor([&] { return !sink.Got("/webhook").empty(); }));
  EXPECT_EQ(Instances(sink.Got("/webhook")[0].body), "api-2");
  // The group is flushed every second; over the next 2.5s (two flushes or
  // more) nothing changes that calls for a notification, and the silenced
  // alert must not bring one.
  EXPECT_FALSE(WaitFor([&] { return sink.Got("/webhook").size() > 1; }, absl::Milliseconds(2500)))
      << J(sink.Got("/webhook").back().body, ".");

  EXPECT_GE(Metric("vigil_router_alerts_silenced_total").value_or(0), 1);
  EXPECT_EQ(J(Call("DELETE", "/api/v1/silence/" + id), ".status"), "success");
  EXPECT_EQ(Api("/api/v1/silence/" + id, ".data.status.state"), "expired");
  ASSERT_TRUE(WaitFor([&] { return sink.Got("/webhook").size() >= 2; }));
  std::vector<Sink::Received> hooks = sink.Got("/webhook");
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(Instances(hooks[1].body), "api-1,api-2");
  EXPECT_EQ(J(hooks[1].body, "[.alerts[].status] | join(\",\")"), "firing,firing");
}

// ---- retries -----------------------------------------------------------------

// Three webhooks of one receiver: one answers 500 once, one 429 with
// Retry-After: 2 once, one 400 always. The first two are delivered on their
// second attempt; the third is tried once. group_interval is long so that
// no second flush retries within the test.
TEST_F(NotificationsE2eTest, RetriesOn500And429ButNotOn400) {
  Sink sink;
  sink.SetResponder([](const std::string& path, int index, api::HttpResponse* r) {
    if (path == "/r500" && index == 0) {
      r->status = 500;
      r->body = "try again";
    } else if (path == "/r429" && index == 0) {
      r->status = 429;
      r->headers.emplace_back("Retry-After", "2");
      r->body = "slow down";
    } else if (path == "/r400") {
      r->status = 400;
      r->body = "bad payload";
    }
  });
  Start(Config(absl::StrCat(Route("team", "[alertname]", Timers{"1s", "1m", "1h"}),
                            "  receivers:\n    - name: team\n      webhook_configs:\n",
                            Webhook(sink.Url("/r500")), Webhook(sink.Url("/r429")),
                            Webhook(sink.Url("/r400")),
                            // Backoff alone would wait at most 200ms.
                            "  retry_initial: 100ms\n  retry_max: 200ms\n")));
  exporter_.Set({{"api-1", 3}});

  const std::string records =
      "[.data[] | select(.receiver == \"team\")] | sort_by(.index) | "
      "map(\"\\(.index) \\(.outcome) \\(.attempts) \\(.status) \\(.alerts)\") | join(\",\")";
  ASSERT_TRUE(WaitFor([&] { return Api("/api/v1/notifications", "[.data[]] | length") == "3"; }))
      << Api("/api/v1/notifications", ".");
  EXPECT_EQ(Api("/api/v1/notifications", records),
            "0 ok 2 firing 1,1 ok 2 firing 1,2 error 1 firing 1");
  const std::string err = Api("/api/v1/notifications", ".data[] | select(.index == 2) | .error");
  EXPECT_TRUE(absl::StrContains(err, "HTTP 400")) << err;
  EXPECT_TRUE(absl::StrContains(err, "bad payload")) << err;

  std::vector<Sink::Received> r500 = sink.Got("/r500");
  ASSERT_EQ(r500.size(), 2u);
  EXPECT_EQ(r500[0].status, 500);
  EXPECT_EQ(r500[1].status, 200);
  EXPECT_EQ(r500[0].body, r500[1].body);
  std::vector<Sink::Received> r429 = sink.Got("/r429");
  ASSERT_EQ(r429.size(), 2u);
  EXPECT_EQ(r429[0].body, r429[1].body);
  EXPECT_GE(r429[1].at - r429[0].at, absl::Milliseconds(1950));
  // The 400 delivery has returned (it is recorded above): no retry follows.
  EXPECT_EQ(sink.Got("/r400").size(), 1u);

  EXPECT_EQ(Metric("vigil_router_notifications_total{integration=\"webhook\"}"), 2);
  EXPECT_EQ(Metric("vigil_router_notifications_failed_total{integration=\"webhook\"}"), 1);
}

// ---- restart -----------------------------------------------------------------

// The sink answers 503 while the alert fires; vigil stops. Restarted on the
// same data directory with no rules (so only the router's alert store can
// bring the alert back) and the sink up, the pending notification is
// delivered, once. Restarted again with the rules (which re-send the alert),
// the delivered notification is not sent again: the next one to arrive is
// the one a new alert causes.
TEST_F(NotificationsE2eTest, DeliversAcrossRestartWithoutResending) {
  Sink sink;
  std::atomic<bool> down{true};
  sink.SetResponder([&down](const std::string&, int, api::HttpResponse* r) {
    if (down) r->status = 503;
  });
  const std::string notifications =
      absl::StrCat(Route("team", "[alertname]", Timers{"1s", "1s", "1h"}),
                   "  receivers:\n    - name: team\n      webhook_configs:\n",
                   Webhook(sink.Url("/webhook")), "  retry_initial: 100ms\n  retry_max: 500ms\n");
  const std::string with_rules = Config(notifications);
  const std::string without_rules = Config(notifications, /*with_rules=*/false);

  Start(with_rules);
  exporter_.Set({{"api-1", 3}});
  ASSERT_TRUE(WaitFor([&] { return !sink.Got("/webhook").empty(); }));
  ASSERT_TRUE(Stop());
  const std::vector<Sink::Received> failed = sink.Got("/webhook");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0].status, 503);
  EXPECT_TRUE(sink.Delivered("/webhook").empty());

  down = false;
  Start(without_rules);
  ASSERT_TRUE(WaitFor([&] { return !sink.Delivered("/webhook").empty(); }));
  ASSERT_TRUE(Stop());
  std::vector<Sink::Received> ok = sink.Delivered("/webhook");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].body, failed[0].body);  // The very notification that failed.
  EXPECT_EQ(Instances(ok[0].body), "api-1");

  const size_t before = sink.Got("/webhook").size();
  Start(with_rules);
  // Once the rules have re-sent the alert to the router, give it two more
  // flushes (group_interval 1s) in which it must not re-notify.
  ASSERT_TRUE(
      WaitFor([&] { return Metric("vigil_router_alerts_received_total").value_or(0) >= 1; }));
  EXPECT_FALSE(
      WaitFor([&] { return sink.Got("/webhook").size() > before; }, absl::Milliseconds(2500)))
      << J(sink.Got("/webhook").back().body, ".");
  // The router is alive: a new alert brings a notification holding both.
  exporter_.Set({{"api-1", 3}, {"api-2", 3}});
  ASSERT_TRUE(WaitFor([&] { return sink.Got("/webhook").size() > before; }));
  std::vector<Sink::Received> after = sink.Got("/webhook");
  ASSERT_EQ(after.size(), before + 1);
  EXPECT_EQ(Instances(after.back().body), "api-1,api-2");
  EXPECT_EQ(J(after.back().body, ".alerts[0].startsAt"), J(ok[0].body, ".alerts[0].startsAt"));
}

}  // namespace
}  // namespace vigil::testing
