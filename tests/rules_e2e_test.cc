// Rule evaluation end to end with the real binary: Vigil and Prometheus 2.42
// scrape the same in-test exporter with the same config and rule file, and
// must agree on the alerts (/api/v1/alerts), the ALERTS series, the
// recording rule's output and /api/v1/rules. Also reload: a new group
// appears, unchanged groups keep their alerts, an invalid rule file is
// refused (500) and the old rules keep running, a removed group's series
// end.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/http_server.h"
#include "api/rules_api.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tests/vigil_process.h"

namespace vigil::testing {
namespace {

// Serves /metrics with a body the test sets.
class MetricsExporter {
 public:
  MetricsExporter() {
    api::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.worker_threads = 2;
    server_ = std::make_unique<api::HttpServer>(o);
    server_->Handle("GET", "/metrics", [this](const api::HttpRequest&, api::HttpResponse* r) {
      absl::MutexLock l(&mu_);
      r->content_type = "text/plain; version=0.0.4; charset=utf-8";
      r->body = body_;
    });
  }
  absl::Status Start() { return server_->Start(); }
  int port() const { return server_->port(); }
  void Set(std::string body) {
    absl::MutexLock l(&mu_);
    body_ = std::move(body);
  }

 private:
  std::unique_ptr<api::HttpServer> server_;
  absl::Mutex mu_;
  std::string body_;
};

// Sorted "k=v,..." of a JSON object, in jq.
constexpr char kJqLabels[] = "(to_entries | sort_by(.key) | map(.key + \"=\" + .value) | join(\",\"))";

// Both servers get this external URL (Prometheus with its API kept at /).
constexpr char kExternalUrl[] = "http://alerts.example:9999/prom";

class RulesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingBinaries({kCurl, kJq});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/rules_e2e_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(exporter_.Start().ok());
  }
  void TearDown() override {
    for (Proc* p : {&vigil_, &prom_}) {
      if (p->pid > 0) StopProcess(p, SIGTERM, absl::Seconds(20));
    }
    if (!dir_.empty() && !HasFailure()) std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(WriteFileAtomic(path, text).ok());
    return path;
  }
  // A config scraping the exporter every 500ms, rules every second.
  std::string WriteConfig(const std::string& rule_file) {
    return Write("config.yml", absl::StrCat(R"(
global:
  scrape_interval: 500ms
  evaluation_interval: 1s
rule_files:
  - )", rule_file, R"(
scrape_configs:
  - job_name: rooms
    static_configs:
      - targets: ["127.0.0.1:)", exporter_.port(), R"("]
)"));
  }
  void StartVigilWith(const std::string& config) {
    vigil_ = StartVigil(VIGIL_BINARY,
                        {"--config=" + config, "--data_dir=" + dir_ + "/vigil-data",
                         "--web_enable_lifecycle", std::string("--web_external_url=") + kExternalUrl},
                        &vigil_port_);
    ASSERT_GT(vigil_port_, 0) << vigil_.log;
  }
  void StartPrometheusWith(const std::string& config) {
    prom_port_ = FreePort();
    prom_ = StartPrometheus(config, dir_ + "/prom-data", prom_port_,
                            {std::string("--web.external-url=") + kExternalUrl,
                             "--web.route-prefix=/"});
    ASSERT_TRUE(PrometheusReady(prom_)) << prom_.log;
  }

  std::string JqGet(int port, const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& params,
                    const std::string& program) {
    return ::vigil::testing::JqGet(dir_, port, path, params, program);
  }
  std::string Instant(int port, const std::string& query) {
    return JqGet(port, "/api/v1/query", {{"query", query}}, ".data.result[0].value[1] // \"\"");
  }
  // Every series of an instant query as "labels value", sorted.
  std::string Vector(int port, const std::string& query) {
    return JqGet(port, "/api/v1/query", {{"query", query}},
                 absl::StrCat("[.data.result[] | (.metric | ", kJqLabels,
                              ") + \" \" + .value[1]] | sort | join(\"\\n\")"));
  }
  // Alerts as "labels|annotations|state|value", sorted.
  std::string Alerts(int port) {
    return JqGet(port, "/api/v1/alerts", {},
                 absl::StrCat("[.data.alerts[] | (.labels | ", kJqLabels, ") + \"|\" + (.annotations | ",
                              kJqLabels, ") + \"|\" + .state + \"|\" + .value] | sort | join(\"\\n\")"));
  }
  // activeAt of the alert named `name` (the first one), as Unix seconds.
  double ActiveAt(int port, const std::string& name) {
    std::string s = JqGet(port, "/api/v1/alerts", {},
                          absl::StrCat("[.data.alerts[] | select(.labels.alertname == \"", name,
                                       "\") | .activeAt | sub(\"\\\\.[0-9]+Z$\"; \"Z\") | "
                                       "fromdateiso8601][0] // 0"));
    double v = 0;
    return absl::SimpleAtod(s, &v) ? v : -1;
  }
  // activeAt as the API prints it.
  std::string ActiveAtText(int port, const std::string& name) {
    return JqGet(port, "/api/v1/alerts", {},
                 absl::StrCat("[.data.alerts[] | select(.labels.alertname == \"", name,
                              "\") | .activeAt][0] // \"\""));
  }
  // Groups and rules as "group|file|rule:type:health:query;...", one group a
  // line.
  std::string RulesSummary(int port, const std::string& type = "") {
    std::vector<std::pair<std::string, std::string>> params;
    if (!type.empty()) params.push_back({"type", type});
    return JqGet(port, "/api/v1/rules", params,
                 "[.data.groups[] | .name + \"|\" + .file + \"|\" + (.interval|tostring)] | join(\"\\n\")") +
           "\n" +
           JqGet(port, "/api/v1/rules", params,
                 "[.data.groups[] | .name + \"|\" + ([.rules[] | .name + \":\" + .type + \":\" + "
                 ".health + \":\" + .query] | join(\";\"))] | join(\"\\n\")");
  }
  int FiringCount(int port) {
    std::string s = JqGet(port, "/api/v1/alerts", {},
                          "[.data.alerts[] | select(.state == \"firing\")] | length");
    int n = 0;
    return absl::SimpleAtoi(s, &n) ? n : -1;
  }
  bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
    std::vector<Proc*> procs;
    for (Proc* p : {&vigil_, &prom_}) {
      if (p->pid > 0) procs.push_back(p);
    }
    return WaitUntil(done, timeout, procs, absl::Milliseconds(100));
  }
  // POST /-/reload to Vigil: the status code; the body goes to reload-body.
  std::string Reload() {
    absl::StatusOr<std::string> r = RunShell(absl::StrCat(
        kCurl, " -s -o ", dir_, "/reload-body -w '%{http_code}' -X POST http://127.0.0.1:",
        vigil_port_, "/-/reload"));
    return r.ok() ? *r : absl::StrCat("ERROR: ", r.status().message());
  }

  std::string dir_;
  MetricsExporter exporter_;
  Proc vigil_, prom_;
  int vigil_port_ = 0;
  int prom_port_ = 0;
};

constexpr char kRoomRules[] = R"(groups:
  - name: rooms
    rules:
      - record: room:temp:max
        expr: max by (room) (temp)
      - alert: Hot
        expr: temp > 25
        for: 2s
        labels:
          severity: "warn-{{ $labels.room }}"
        annotations:
          summary: "room {{ $labels.room }} at {{ $value }}"
          description: "{{ $labels.room | toUpper }} is hot"
          links: "{{ pathPrefix }}|{{ externalURL }}|{{ $externalURL }}|{{ graphLink \"temp\" }}"
      - alert: ManyRooms
        expr: count(temp) > 1
)";

TEST_F(RulesE2eTest, AlertsAndRulesMatchPrometheus) {
  if (!MissingBinaries({kPrometheus}).empty()) GTEST_SKIP() << MissingBinaries({kPrometheus});
  exporter_.Set("temp{room=\"a\"} 10\ntemp{room=\"b\"} 20\n");
  const std::string rule_file = Write("rooms.yml", kRoomRules);
  const std::string config = WriteConfig(rule_file);
  StartPrometheusWith(config);
  StartVigilWith(config);
  // ManyRooms fires at once on both; Hot not yet.
  ASSERT_TRUE(WaitFor([&] { return FiringCount(vigil_port_) == 1 && FiringCount(prom_port_) == 1; },
                      absl::Seconds(30)))
      << vigil_.log;
  EXPECT_EQ(Instant(vigil_port_, "count(ALERTS{alertname=\"Hot\"})"), "");

  // Room b heats up: Hot is pending, then fires 2s later, on both.
  exporter_.Set("temp{room=\"a\"} 10\ntemp{room=\"b\"} 30\n");
  ASSERT_TRUE(WaitFor([&] { return FiringCount(vigil_port_) == 2 && FiringCount(prom_port_) == 2; },
                      absl::Seconds(30)))
      << Alerts(vigil_port_) << "\n---\n" << Alerts(prom_port_);

  const std::string alerts = Alerts(vigil_port_);
  EXPECT_EQ(alerts, Alerts(prom_port_));
  EXPECT_TRUE(absl::StrContains(alerts, "summary=room b at 30")) << alerts;
  EXPECT_TRUE(absl::StrContains(alerts, "severity=warn-b")) << alerts;
  EXPECT_TRUE(absl::StrContains(alerts, "links=/prom|http://alerts.example:9999/prom|"
                                        "http://alerts.example:9999/prom|/graph?g0.expr=temp&g0.tab=0"))
      << alerts;
  EXPECT_TRUE(absl::StrContains(alerts, "|firing|3e+01")) << alerts;
  // Both saw the change within a scrape interval and evaluated it within an
  // evaluation interval.
  const double v_at = ActiveAt(vigil_port_, "Hot");
  const double p_at = ActiveAt(prom_port_, "Hot");
  ASSERT_GT(v_at, 0) << ActiveAtText(vigil_port_, "Hot");
  ASSERT_GT(p_at, 0) << ActiveAtText(prom_port_, "Hot");
  EXPECT_LE(std::fabs(v_at - p_at), 1.5 + 1)  // Whole seconds (fromdate truncates).
      << ActiveAtText(vigil_port_, "Hot") << " vs " << ActiveAtText(prom_port_, "Hot");

  // The ALERTS series: the firing alerts only, value 1.
  const std::string series = Vector(vigil_port_, "ALERTS");
  EXPECT_EQ(series, Vector(prom_port_, "ALERTS"));
  EXPECT_TRUE(absl::StrContains(series, "alertstate=firing")) << series;
  EXPECT_FALSE(absl::StrContains(series, "alertstate=pending")) << series;
  EXPECT_NE(Vector(vigil_port_, "ALERTS_FOR_STATE"), "");
  // The recording rule.
  EXPECT_EQ(Vector(vigil_port_, "room:temp:max"), Vector(prom_port_, "room:temp:max"));

  // /api/v1/rules: groups, files, intervals, rule names, types, health and
  // queries, with and without the type filter.
  EXPECT_EQ(RulesSummary(vigil_port_), RulesSummary(prom_port_));
  EXPECT_EQ(RulesSummary(vigil_port_, "alert"), RulesSummary(prom_port_, "alert"));
  EXPECT_EQ(RulesSummary(vigil_port_, "record"), RulesSummary(prom_port_, "record"));
  EXPECT_EQ(JqGet(vigil_port_, "/api/v1/rules", {},
                  "[.data.groups[].rules[] | select(.type == \"alerting\") | .name + \":\" + .state "
                  "+ \":\" + (.duration|tostring) + \":\" + (.alerts|length|tostring)] | join(\",\")"),
            JqGet(prom_port_, "/api/v1/rules", {},
                  "[.data.groups[].rules[] | select(.type == \"alerting\") | .name + \":\" + .state "
                  "+ \":\" + (.duration|tostring) + \":\" + (.alerts|length|tostring)] | join(\",\")"));
  // An unknown type is refused as Prometheus does.
  std::string out = dir_ + "/bad-type.json";
  EXPECT_FALSE(ApiGet(vigil_port_, "/api/v1/rules", {{"type", "bogus"}}, out).ok());

  // Room b cools down: Hot resolves on both.
  exporter_.Set("temp{room=\"a\"} 10\ntemp{room=\"b\"} 20\n");
  ASSERT_TRUE(WaitFor([&] { return FiringCount(vigil_port_) == 1 && FiringCount(prom_port_) == 1; },
                      absl::Seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return Vector(vigil_port_, "ALERTS") == Vector(prom_port_, "ALERTS"); },
                      absl::Seconds(10)))
      << Vector(vigil_port_, "ALERTS") << "\n---\n" << Vector(prom_port_, "ALERTS");
  std::string metrics = HttpGet(vigil_port_, "/metrics").value_or("");
  EXPECT_TRUE(absl::StrContains(
      metrics, absl::StrCat("vigil_rule_group_iterations_total{rule_group=\"", rule_file, ";rooms\"}")))
      << metrics;
}

constexpr char kGroupA[] = R"(  - name: a
    rules:
      - record: r1
        expr: vector(1)
      - alert: Always
        expr: vector(1)
)";
constexpr char kGroupB[] = R"(  - name: b
    rules:
      - record: r2
        expr: vector(2)
)";

TEST_F(RulesE2eTest, ReloadAddsRulesKeepsStateAndRefusesInvalidFiles) {
  exporter_.Set("temp{room=\"a\"} 10\n");
  const std::string rule_file = Write("rules.yml", absl::StrCat("groups:\n", kGroupA));
  StartVigilWith(WriteConfig(rule_file));
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "r1") == "1" && FiringCount(vigil_port_) == 1; },
                      absl::Seconds(20)))
      << vigil_.log;
  const std::string active_at = ActiveAtText(vigil_port_, "Always");

  // A new group: appears and runs; group a is unchanged and keeps its alert.
  Write("rules.yml", absl::StrCat("groups:\n", kGroupA, kGroupB));
  ASSERT_EQ(Reload(), "200") << ReadFile(dir_ + "/reload-body").value_or("");
  EXPECT_EQ(JqGet(vigil_port_, "/api/v1/rules", {}, "[.data.groups[].rules[].name] | join(\",\")"),
            "r1,Always,r2");
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "r2") == "2"; }, absl::Seconds(10)));
  EXPECT_EQ(ActiveAtText(vigil_port_, "Always"), active_at);

  // An invalid file: 500 naming the file and line; the old rules go on.
  Write("rules.yml", absl::StrCat("groups:\n", kGroupA, kGroupB, "      - record: r3\n        expr: sum(\n"));
  EXPECT_EQ(Reload(), "500");
  const std::string body = ReadFile(dir_ + "/reload-body").value_or("");
  EXPECT_TRUE(absl::StrContains(body, "rules.yml:")) << body;
  EXPECT_EQ(JqGet(vigil_port_, "/api/v1/rules", {}, "[.data.groups[].rules[].name] | join(\",\")"),
            "r1,Always,r2");
  const std::string before = Instant(vigil_port_, "count_over_time(r2[1m])");
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "count_over_time(r2[1m])") != before; },
                      absl::Seconds(10)));
  EXPECT_EQ(ActiveAtText(vigil_port_, "Always"), active_at);

  // Group b removed: its series ends at once (stale marker), not after 5m.
  Write("rules.yml", absl::StrCat("groups:\n", kGroupA));
  ASSERT_EQ(Reload(), "200");
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "r2").empty(); }, absl::Seconds(5)));
  EXPECT_EQ(Instant(vigil_port_, "r1"), "1");

  // Group a changed: its rules that are still there keep their state, as
  // with Prometheus's CopyState (the alert keeps its activeAt).
  Write("rules.yml", absl::StrCat("groups:\n", kGroupA, "      - record: r4\n        expr: vector(4)\n"));
  ASSERT_EQ(Reload(), "200");
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "r4") == "4"; }, absl::Seconds(10)));
  EXPECT_EQ(FiringCount(vigil_port_), 1);
  EXPECT_EQ(ActiveAtText(vigil_port_, "Always"), active_at);
}

// `for` state survives a restart: ALERTS_FOR_STATE history (scraped here,
// as a previous run would have written it) makes an alert with for: 10m
// fire again right after startup, with its old activeAt, on Vigil as on
// Prometheus; an alert without history starts pending.
TEST_F(RulesE2eTest, ForStateRestoredAfterRestart) {
  if (!MissingBinaries({kPrometheus}).empty()) GTEST_SKIP() << MissingBinaries({kPrometheus});
  const int64_t active_at = absl::ToUnixSeconds(absl::Now()) - 20 * 60;
  exporter_.Set(absl::StrCat("ALERTS_FOR_STATE{alertname=\"Long\",severity=\"page\"} ", active_at,
                             "\n"));
  // Run 1: only the history, without job and instance labels.
  const std::string scrape_only = Write("history.yml", absl::StrCat(R"(
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: history
    metric_relabel_configs:
      - action: labeldrop
        regex: job|instance
    static_configs:
      - targets: ["127.0.0.1:)", exporter_.port(), R"("]
)"));
  StartPrometheusWith(scrape_only);
  StartVigilWith(scrape_only);
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "ALERTS_FOR_STATE") == absl::StrCat(active_at) &&
                                   Instant(prom_port_, "ALERTS_FOR_STATE") == absl::StrCat(active_at); },
                      absl::Seconds(20)));
  StopProcess(&vigil_, SIGTERM, absl::Seconds(20));
  StopProcess(&prom_, SIGTERM, absl::Seconds(20));

  // Run 2: the rules, no scraping.
  const std::string rules = Write("long.yml", R"(groups:
  - name: long
    rules:
      - alert: Long
        expr: vector(1)
        for: 10m
        labels:
          severity: page
      - alert: Fresh
        expr: vector(1)
        for: 10m
)");
  const std::string config = Write("config.yml", absl::StrCat(
      "global:\n  evaluation_interval: 1s\nrule_files:\n  - ", rules, "\n"));
  StartPrometheusWith(config);
  StartVigilWith(config);
  ASSERT_TRUE(WaitFor([&] { return FiringCount(vigil_port_) == 1 && FiringCount(prom_port_) == 1; },
                      absl::Seconds(20)))
      << Alerts(vigil_port_) << "\n---\n" << Alerts(prom_port_);
  EXPECT_EQ(Alerts(vigil_port_), Alerts(prom_port_));
  EXPECT_EQ(ActiveAt(vigil_port_, "Long"), static_cast<double>(active_at))
      << ActiveAtText(vigil_port_, "Long");
  EXPECT_EQ(ActiveAtText(vigil_port_, "Long"), ActiveAtText(prom_port_, "Long"));
  EXPECT_TRUE(absl::StrContains(Alerts(vigil_port_), "alertname=Fresh||pending|1e+00"))
      << Alerts(vigil_port_);

  // Run 3: Vigil restarted again, now from the history it wrote itself.
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Vector(vigil_port_, "ALERTS_FOR_STATE"),
                                                     absl::StrCat(" ", active_at)); },
                      absl::Seconds(10)));
  StopProcess(&vigil_, SIGTERM, absl::Seconds(20));
  StartVigilWith(config);
  ASSERT_TRUE(WaitFor([&] { return FiringCount(vigil_port_) == 1; }, absl::Seconds(20)))
      << Alerts(vigil_port_);
  EXPECT_EQ(ActiveAt(vigil_port_, "Long"), static_cast<double>(active_at))
      << ActiveAtText(vigil_port_, "Long");
}

// As Prometheus, Vigil does not start with an invalid rule file.
TEST_F(RulesE2eTest, InvalidRuleFileAtStartupIsRefused) {
  const std::string rules = Write("bad.yml", "groups:\n  - name: g\n    rules:\n"
                                             "      - record: r\n        expr: sum(\n");
  Proc p = StartProcess(VIGIL_BINARY, {"serve", "--config=" + WriteConfig(rules),
                                       "--data_dir=" + dir_ + "/vigil-data",
                                       "--listen=127.0.0.1:0"});
  ASSERT_GT(p.pid, 0);
  EXPECT_EQ(WaitExit(&p), 2) << p.log;
  EXPECT_TRUE(absl::StrContains(p.log, "bad.yml:5:")) << p.log;
}

TEST(FormatAlertValueTest, MatchesGoExponentFormat) {
  EXPECT_EQ(api::FormatAlertValue(1), "1e+00");
  EXPECT_EQ(api::FormatAlertValue(1.5), "1.5e+00");
  EXPECT_EQ(api::FormatAlertValue(30), "3e+01");
  EXPECT_EQ(api::FormatAlertValue(1234.5), "1.2345e+03");
  EXPECT_EQ(api::FormatAlertValue(0.0001), "1e-04");
  EXPECT_EQ(api::FormatAlertValue(-2e100), "-2e+100");
  EXPECT_EQ(api::FormatAlertValue(0), "0e+00");
  EXPECT_EQ(api::FormatAlertValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(api::FormatAlertValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(api::FormatAlertValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

}  // namespace
}  // namespace vigil::testing
