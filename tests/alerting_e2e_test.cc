// Alerts from Vigil's rules reach a real Alertmanager (Debian's
// prometheus-alertmanager) as they do from Prometheus 2.42 running the same
// rule file: same labels, annotations and generatorURL, startsAt within an
// evaluation interval (read back through Alertmanager's GET /api/v2/alerts).
// Each server gets its own Alertmanager, so that equal alerts do not merge.
#include <signal.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tests/vigil_process.h"

namespace vigil::testing {
namespace {

constexpr char kAlertmanager[] = "/usr/bin/prometheus-alertmanager";
constexpr char kExternalUrl[] = "http://vigil.example:9090";

constexpr char kRules[] = R"(groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: DiskFull
        expr: label_replace(vector(97.5), "mount", "/var", "", "")
        labels:
          severity: page
          team: "storage-{{ $labels.mount }}"
        annotations:
          summary: "{{ $labels.mount }} is {{ $value | humanize }}% full"
          runbook: "{{ externalURL }}/runbooks/disk"
      - alert: Later
        expr: vector(1) > 0
        for: 2s
        labels:
          severity: warning
      - alert: NeverFires
        expr: vector(0) > 1
)";

// Sorted "k=v,..." of a JSON object, in jq.
constexpr char kJqKv[] = "(to_entries | sort_by(.key) | map(.key + \"=\" + .value) | join(\",\"))";

class AlertingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = MissingBinaries({kCurl, kJq, kPrometheus, kAlertmanager});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/alerting_e2e_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (Proc* p : {&vigil_, &prom_, &am_vigil_, &am_prom_}) {
      if (p->pid > 0) StopProcess(p, SIGTERM, absl::Seconds(20));
    }
    if (!dir_.empty() && !HasFailure()) std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(WriteFileAtomic(path, text).ok());
    return path;
  }
  Proc StartAlertmanager(const std::string& name, int* port) {
    const std::string cfg =
        Write(name + ".yml", "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n");
    *port = FreePort();
    Proc p = StartProcess(kAlertmanager, {"--config.file=" + cfg,
                                          "--storage.path=" + dir_ + "/" + name,
                                          absl::StrCat("--web.listen-address=127.0.0.1:", *port),
                                          "--cluster.listen-address="});
    EXPECT_TRUE(WaitUntil([&] { return HttpGet(*port, "/-/ready").ok(); }, absl::Seconds(30), {&p}))
        << p.log;
    return p;
  }
  // A config sending to the Alertmanager on `am_port`.
  std::string Config(const std::string& name, const std::string& rules, int am_port) {
    return Write(name, absl::StrCat(R"(global:
  evaluation_interval: 1s
  external_labels:
    site: lab
rule_files:
  - )", rules, R"(
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:)", am_port, R"("]
)"));
  }
  // The alerts an Alertmanager holds, one line each: labels|annotations|generatorURL.
  std::string Alerts(int port) {
    return JqGet(dir_, port, "/api/v2/alerts", {},
                 absl::StrCat("[.[] | (.labels | ", kJqKv, ") + \"|\" + (.annotations | ", kJqKv,
                              ") + \"|\" + .generatorURL] | sort | join(\"\\n\")"));
  }
  // startsAt of the alert named `name` in Unix seconds (with fraction).
  double StartsAt(int port, const std::string& name) {
    const std::string s = JqGet(
        dir_, port, "/api/v2/alerts", {},
        absl::StrCat("[.[] | select(.labels.alertname == \"", name,
                     "\") | .startsAt | sub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdate] | first // 0"));
    double v = 0;
    return absl::SimpleAtod(s, &v) ? v : -1;
  }
  int Count(int port) {
    int n = -1;
    return absl::SimpleAtoi(JqGet(dir_, port, "/api/v2/alerts", {}, "length"), &n) ? n : -1;
  }

  std::string dir_;
  Proc vigil_, prom_, am_vigil_, am_prom_;
};

TEST_F(AlertingE2eTest, AlertsReachAlertmanagerAsFromPrometheus) {
  int am_vigil_port = 0, am_prom_port = 0;
  am_vigil_ = StartAlertmanager("am-vigil", &am_vigil_port);
  am_prom_ = StartAlertmanager("am-prom", &am_prom_port);
  ASSERT_GT(am_vigil_.pid, 0);
  ASSERT_GT(am_prom_.pid, 0);
  const std::string rules = Write("rules.yml", kRules);

  const int prom_port = FreePort();
  prom_ = StartPrometheus(Config("prom.yml", rules, am_prom_port), dir_ + "/prom-data", prom_port,
                          {std::string("--web.external-url=") + kExternalUrl,
                           "--web.route-prefix=/",
                           // Prometheus drops what it sends before its
                           // Alertmanager is discovered; resend soon.
                           "--rules.alert.resend-delay=1s"});
  ASSERT_TRUE(PrometheusReady(prom_)) << prom_.log;
  int vigil_port = 0;
  vigil_ = StartVigil(VIGIL_BINARY,
                      {"--config=" + Config("vigil.yml", rules, am_vigil_port),
                       "--data_dir=" + dir_ + "/vigil-data",
                       std::string("--web_external_url=") + kExternalUrl,
                       "--rules_alert_resend_delay=1s"},
                      &vigil_port);
  ASSERT_GT(vigil_port, 0) << vigil_.log;

  // Both alerts arrive (Later after its `for`); NeverFires never does.
  auto both = [&] { return Count(am_vigil_port) == 2 && Count(am_prom_port) == 2; };
  ASSERT_TRUE(WaitUntil(both, absl::Seconds(40), {&vigil_, &prom_, &am_vigil_, &am_prom_},
                        absl::Milliseconds(200)))
      << "vigil: " << Alerts(am_vigil_port) << "\nprometheus: " << Alerts(am_prom_port) << "\n"
      << vigil_.log << "\n" << prom_.log;
  const std::string got = Alerts(am_vigil_port);
  EXPECT_EQ(got, Alerts(am_prom_port));
  EXPECT_EQ(got,
            "alertname=DiskFull,mount=/var,severity=page,site=lab,team=storage-/var|"
            "runbook=http://vigil.example:9090/runbooks/disk,summary=/var is 97.5% full|"
            "http://vigil.example:9090/graph?g0.expr=label_replace%28vector%2897.5%29%2C+"
            "%22mount%22%2C+%22%2Fvar%22%2C+%22%22%2C+%22%22%29&g0.tab=1\n"
            "alertname=Later,severity=warning,site=lab||"
            "http://vigil.example:9090/graph?g0.expr=vector%281%29+%3E+0&g0.tab=1");
  // startsAt is when the alert fired: both servers evaluate every second
  // and started within a few seconds of each other.
  for (const char* name : {"DiskFull", "Later"}) {
    const double v = StartsAt(am_vigil_port, name);
    const double p = StartsAt(am_prom_port, name);
    ASSERT_GT(v, 0) << name;
    ASSERT_GT(p, 0) << name;
    EXPECT_LE(std::abs(v - p), 10) << name << ": vigil " << v << " prometheus " << p;
  }
  // Later fired `for` (2s) after it became active, not at once.
  EXPECT_GE(StartsAt(am_vigil_port, "Later") - StartsAt(am_vigil_port, "DiskFull"), 1);

  // /api/v1/alertmanagers as Prometheus's (its URL differs by port only).
  const std::string jq_ams = "[.data.activeAlertmanagers[].url] | join(\",\")";
  EXPECT_EQ(JqGet(dir_, vigil_port, "/api/v1/alertmanagers", {}, jq_ams),
            absl::StrCat("http://127.0.0.1:", am_vigil_port, "/api/v2/alerts"));
  EXPECT_EQ(JqGet(dir_, prom_port, "/api/v1/alertmanagers", {}, jq_ams),
            absl::StrCat("http://127.0.0.1:", am_prom_port, "/api/v2/alerts"));

  // The notifier's self-metrics.
  absl::StatusOr<std::string> metrics = HttpGet(vigil_port, "/metrics");
  ASSERT_TRUE(metrics.ok());
  const std::string url = absl::StrCat("http://127.0.0.1:", am_vigil_port, "/api/v2/alerts");
  const std::optional<double> sent = MetricValue(
      *metrics, absl::StrCat("vigil_notifications_sent_total{alertmanager=\"", url, "\"}"));
  ASSERT_TRUE(sent.has_value()) << *metrics;
  EXPECT_GE(*sent, 2);
}

}  // namespace
}  // namespace vigil::testing
