// Scraping end to end with the real binary: Vigil and Prometheus 2.42 scrape
// the same exporters (Debian's node_exporter and pushgateway, and an
// in-test exporter that misbehaves on purpose) from the same config, and
// must end up with the same series and the same target health. Also
// staleness (a vanished series ends within one scrape interval, seen
// through PromQL) and config reload (SIGHUP and POST /-/reload, a bad new
// config keeps the old one running).
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/http_server.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tests/vigil_process.h"

namespace vigil::testing {
namespace {

constexpr char kNodeExporter[] = "/usr/bin/prometheus-node-exporter";
constexpr char kPushgateway[] = "/usr/bin/prometheus-pushgateway";

// An exporter whose pages the test sets: path -> (content type, body).
// Only the `paths` given at construction are served.
class TestExporter {
 public:
  explicit TestExporter(const std::vector<std::string>& paths) {
    api::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.worker_threads = 4;
    o.gzip_min_bytes = 1 << 30;  // The pages below are sent as set.
    server_ = std::make_unique<api::HttpServer>(o);
    for (const std::string& path : paths) {
      server_->Handle("GET", path, [this](const api::HttpRequest& q, api::HttpResponse* r) {
        absl::MutexLock l(&mu_);
        auto it = pages_.find(q.path);
        if (it == pages_.end()) return r->SetError(404, "404 page not found");
        r->content_type = it->second.first;
        r->body = it->second.second;
      });
    }
  }
  absl::Status Start() { return server_->Start(); }
  int port() const { return server_->port(); }
  void Set(const std::string& path, std::string body,
           std::string content_type = "text/plain; version=0.0.4; charset=utf-8") {
    absl::MutexLock l(&mu_);
    pages_[path] = {std::move(content_type), std::move(body)};
  }

 private:
  std::unique_ptr<api::HttpServer> server_;
  absl::Mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> pages_;
};

class ScrapeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/scrape_e2e_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (Proc* p : {&vigil_, &prom_, &node_, &pushgw_}) {
      if (p->pid > 0) StopProcess(p, SIGTERM, absl::Seconds(20));
    }
    if (!HasFailure()) std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  std::string WriteConfig(const std::string& name, const std::string& yaml) {
    std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(WriteFileAtomic(path, yaml).ok());
    return path;
  }

  void StartVigilWith(const std::string& config, std::vector<std::string> extra = {}) {
    extra.push_back("--config=" + config);
    extra.push_back("--data_dir=" + dir_ + "/vigil-data");
    vigil_ = StartVigil(VIGIL_BINARY, extra, &vigil_port_);
    ASSERT_GT(vigil_port_, 0) << vigil_.log;
  }
  void StartPrometheusWith(const std::string& config) {
    prom_port_ = FreePort();
    prom_ = StartPrometheus(config, dir_ + "/prom-data", prom_port_);
    ASSERT_TRUE(PrometheusReady(prom_)) << prom_.log;
  }

  // jq `program` over GET `path` (with params) from the server on `port`.
  std::string JqGet(int port, const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& params,
                    const std::string& program) {
    return ::vigil::testing::JqGet(dir_, port, path, params, program);
  }
  // The value of a one-element instant vector, or "" when empty.
  std::string Instant(int port, const std::string& query) {
    return JqGet(port, "/api/v1/query", {{"query", query}}, ".data.result[0].value[1] // \"\"");
  }
  std::string InstantAt(int port, const std::string& query, double t) {
    return JqGet(port, "/api/v1/query", {{"query", query}, {"time", absl::StrCat(t)}},
                 ".data.result[0].value[1] // \"\"");
  }
  // Every series over all time, one sorted label set per line.
  std::string AllSeries(int port, const std::string& match) {
    return JqGet(port, "/api/v1/series",
                 {{"match[]", match}, {"start", "0"}, {"end", absl::StrCat(absl::ToUnixSeconds(absl::Now()) + 60)}},
                 "[.data[] | to_entries | sort_by(.key) | map(.key + \"=\" + .value) | "
                 "join(\",\")] | sort | join(\"\\n\")");
  }
  // Each target as "job|instance|health|error?" sorted, from /api/v1/targets.
  std::string TargetHealth(int port) {
    return JqGet(port, "/api/v1/targets", {},
                 "[.data.activeTargets[] | .scrapePool + \"|\" + .labels.instance + \"|\" + "
                 ".health + \"|\" + (if .lastError == \"\" then \"ok\" else \"error\" end)] | "
                 "sort | join(\"\\n\")");
  }
  bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
    std::vector<Proc*> procs;
    for (Proc* p : {&vigil_, &prom_, &node_, &pushgw_}) {
      if (p->pid > 0) procs.push_back(p);
    }
    return WaitUntil(done, timeout, procs, absl::Milliseconds(200));
  }
  // True once every target of the server on `port` has been scraped at
  // least `n` times (count_over_time of up over the last minute).
  bool ScrapedAtLeast(int port, int n, int targets) {
    std::string r = JqGet(port, "/api/v1/query",
                          {{"query", absl::StrCat("count(count_over_time(up[1m]) >= ", n, ")")}},
                          ".data.result[0].value[1] // \"0\"");
    return r == absl::StrCat(targets);
  }

  std::string dir_;
  Proc vigil_, prom_, node_, pushgw_;
  int vigil_port_ = 0;
  int prom_port_ = 0;
};

TEST_F(ScrapeE2eTest, NodeExporterAndPushgatewaySameSeriesAsPrometheus) {
  std::string missing =
      MissingBinaries({kPrometheus, kCurl, kJq, kNodeExporter, kPushgateway});
  if (!missing.empty()) GTEST_SKIP() << missing;
  const int node_port = FreePort();
  node_ = StartProcess(kNodeExporter, {absl::StrCat("--web.listen-address=127.0.0.1:", node_port)});
  const int push_port = FreePort();
  pushgw_ = StartProcess(kPushgateway, {absl::StrCat("--web.listen-address=127.0.0.1:", push_port),
                                        "--persistence.interval=1h"});
  ASSERT_TRUE(WaitFor([&] { return HttpGet(node_port, "/metrics").ok(); }, absl::Seconds(20)))
      << node_.log;
  ASSERT_TRUE(WaitFor([&] { return HttpGet(push_port, "/metrics").ok(); }, absl::Seconds(20)))
      << pushgw_.log;
  // A batch job's results, pushed as a batch job would.
  ASSERT_TRUE(RunShell(absl::StrCat(
                  "printf '# TYPE batch_last_success gauge\\nbatch_last_success 1.7e9\\n"
                  "# TYPE batch_records counter\\nbatch_records{kind=\"a\"} 42\\n"
                  "batch_records{kind=\"b\"} 7\\n' | ",
                  kCurl, " -sSf --data-binary @- http://127.0.0.1:", push_port,
                  "/metrics/job/nightly/instance/runner1"))
                  .ok());

  const std::string config = WriteConfig("scrape.yml", absl::StrCat(R"(
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:)", node_port, R"("]
        labels:
          env: test
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:)", push_port, R"("]
)"));
  StartPrometheusWith(config);
  StartVigilWith(config);
  ASSERT_TRUE(WaitFor([&] { return ScrapedAtLeast(vigil_port_, 3, 2) && ScrapedAtLeast(prom_port_, 3, 2); },
                      absl::Seconds(60)))
      << vigil_.log;

  // Series of both jobs, labels exactly (including up and scrape_*).
  for (const std::string& match :
       {std::string("{job=\"node\"}"), std::string("{job=\"pushgateway\"}"),
        std::string("{job=\"nightly\"}"), std::string("{__name__=~\"up|scrape_.*\"}")}) {
    std::string v = AllSeries(vigil_port_, match);
    std::string p = AllSeries(prom_port_, match);
    EXPECT_FALSE(p.empty()) << match;
    EXPECT_EQ(v, p) << match;
    std::printf("%s: %zu series compared\n", match.c_str(),
                p.empty() ? 0 : static_cast<size_t>(std::count(p.begin(), p.end(), '\n') + 1));
  }
  EXPECT_EQ(TargetHealth(vigil_port_), TargetHealth(prom_port_));
  EXPECT_EQ(Instant(vigil_port_, "batch_records{kind=\"a\"}"), "42");
  EXPECT_EQ(Instant(vigil_port_, "sum(up)"), "2");
  // Targets API: labels, discovered labels, URL and settings as Prometheus.
  const std::string targets_prog =
      "[.data.activeTargets[] | {discoveredLabels, labels, scrapePool, scrapeUrl, health, "
      "scrapeInterval, scrapeTimeout}] | sort_by(.scrapePool) | tostring";
  EXPECT_EQ(JqGet(vigil_port_, "/api/v1/targets", {}, targets_prog),
            JqGet(prom_port_, "/api/v1/targets", {}, targets_prog));
  // Metadata of a node_exporter family.
  const std::string md_prog = ".data | tostring";
  EXPECT_EQ(JqGet(vigil_port_, "/api/v1/metadata", {{"metric", "node_load1"}}, md_prog),
            JqGet(prom_port_, "/api/v1/metadata", {{"metric", "node_load1"}}, md_prog));
  EXPECT_EQ(JqGet(vigil_port_, "/api/v1/targets/metadata",
                  {{"match_target", "{job=\"node\"}"}, {"metric", "node_load1"}}, md_prog),
            JqGet(prom_port_, "/api/v1/targets/metadata",
                  {{"match_target", "{job=\"node\"}"}, {"metric", "node_load1"}}, md_prog));
}

// Every page here is bad in one way; each is a job of its own so that the
// targets' health can be compared one by one with Prometheus's.
TEST_F(ScrapeE2eTest, BadExportersFailLikePrometheus) {
  std::string missing = MissingBinaries({kPrometheus, kCurl, kJq});
  if (!missing.empty()) GTEST_SKIP() << missing;
  TestExporter exp({"/good", "/garbage", "/truncated", "/invalid_name", "/duplicate", "/nan_inf",
                    "/future", "/big_label", "/huge", "/openmetrics_no_eof"});
  ASSERT_TRUE(exp.Start().ok());
  exp.Set("/good", "# TYPE ok gauge\nok 1\n");
  exp.Set("/garbage", "\x01\x02 this is not { a metrics page\n");
  exp.Set("/truncated", "ok 1\nhalf{a=\"b");
  exp.Set("/invalid_name", "0starts_with_digit 1\n");
  exp.Set("/duplicate", "dup 1\ndup 2\n");
  exp.Set("/nan_inf", "v_nan NaN\nv_inf +Inf\nv_ninf -Inf\n");
  exp.Set("/future", "future_ts 1 32503680000000\n");
  exp.Set("/big_label", absl::StrCat("big{v=\"", std::string(100000, 'x'), "\"} 1\n"));
  exp.Set("/huge", absl::StrCat("# TYPE h gauge\n", [] {
            std::string s;
            for (int i = 0; s.size() < (10 << 20); ++i) absl::StrAppend(&s, "h{i=\"", i, "\"} 1\n");
            return s;
          }()));
  exp.Set("/openmetrics_no_eof", "# TYPE om gauge\nom 1\n",
          "application/openmetrics-text; version=1.0.0; charset=utf-8");
  // A listener that never accepts: the scrape hangs until its timeout.
  int hang_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(hang_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(hang_fd, 16), 0);
  socklen_t len = sizeof(addr);
  getsockname(hang_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int hang_port = ntohs(addr.sin_port);

  std::string yaml = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n";
  for (const char* page : {"good", "garbage", "truncated", "invalid_name", "duplicate",
                           "nan_inf", "future", "big_label", "openmetrics_no_eof"}) {
    absl::StrAppend(&yaml, "  - job_name: ", page, "\n    metrics_path: /", page,
                    "\n    static_configs:\n      - targets: ['127.0.0.1:", exp.port(), "']\n");
  }
  absl::StrAppend(&yaml, "  - job_name: huge\n    metrics_path: /huge\n    body_size_limit: 1MB\n",
                  "    static_configs:\n      - targets: ['127.0.0.1:", exp.port(), "']\n");
  absl::StrAppend(&yaml, "  - job_name: big_label_limited\n    metrics_path: /big_label\n",
                  "    label_value_length_limit: 1000\n",
                  "    static_configs:\n      - targets: ['127.0.0.1:", exp.port(), "']\n");
  absl::StrAppend(&yaml, "  - job_name: hang\n    static_configs:\n      - targets: ['127.0.0.1:",
                  hang_port, "']\n");
  const std::string config = WriteConfig("bad.yml", yaml);
  StartPrometheusWith(config);
  StartVigilWith(config);
  constexpr int kJobs = 12;
  ASSERT_TRUE(WaitFor([&] { return ScrapedAtLeast(vigil_port_, 2, kJobs) && ScrapedAtLeast(prom_port_, 2, kJobs); },
                      absl::Seconds(60)))
      << vigil_.log;
  const std::string health_prog =
      "[.data.activeTargets[] | .scrapePool + \" \" + .health + \" \" + "
      "(if .lastError == \"\" then \"-\" else \"error\" end)] | sort | join(\"\\n\")";
  const std::string vigil_health = JqGet(vigil_port_, "/api/v1/targets", {}, health_prog);
  EXPECT_EQ(vigil_health, JqGet(prom_port_, "/api/v1/targets", {}, health_prog));
  std::printf("target health (both):\n%s\n", vigil_health.c_str());
  const std::string up_prog =
      "[.data.result[] | .metric.job + \" \" + .value[1]] | sort | join(\"\\n\")";
  EXPECT_EQ(JqGet(vigil_port_, "/api/v1/query", {{"query", "up"}}, up_prog),
            JqGet(prom_port_, "/api/v1/query", {{"query", "up"}}, up_prog));
  // Errors that say what went wrong.
  const std::string err_prog =
      "[.data.activeTargets[] | .scrapePool + \": \" + .lastError] | sort | join(\"\\n\")";
  const std::string errors = JqGet(vigil_port_, "/api/v1/targets", {}, err_prog);
  std::printf("Vigil's errors:\n%s\nPrometheus's errors:\n%s\n", errors.c_str(),
              JqGet(prom_port_, "/api/v1/targets", {}, err_prog).c_str());
  EXPECT_TRUE(absl::StrContains(errors, "huge: body size limit exceeded")) << errors;
  EXPECT_TRUE(absl::StrContains(errors, absl::StrCat("hang: Get \"http://127.0.0.1:", hang_port,
                                                     "/metrics\": context deadline exceeded")))
      << errors;
  EXPECT_TRUE(absl::StrContains(
      errors, "big_label_limited: label_value_length_limit exceeded (metric: big, label name: v"))
      << errors;
  EXPECT_TRUE(absl::StrContains(errors, "garbage: line 1: ")) << errors;
  EXPECT_TRUE(absl::StrContains(errors, "openmetrics_no_eof: line 3: data does not end with # EOF"))
      << errors;
  // The good target and the accepted values are intact.
  EXPECT_EQ(Instant(vigil_port_, "ok"), "1");
  EXPECT_EQ(Instant(vigil_port_, "v_inf"), "+Inf");
  EXPECT_EQ(Instant(vigil_port_, "v_nan"), "NaN");
  EXPECT_EQ(Instant(vigil_port_, "count(h)"), "");
  // Vigil is still healthy.
  EXPECT_TRUE(HttpGet(vigil_port_, "/-/ready").ok());
  close(hang_fd);
}

TEST_F(ScrapeE2eTest, VanishedSeriesEndsWithinOneInterval) {
  std::string missing = MissingBinaries({kCurl, kJq});
  if (!missing.empty()) GTEST_SKIP() << missing;
  TestExporter exp({"/metrics"});
  ASSERT_TRUE(exp.Start().ok());
  exp.Set("/metrics", "a 1\nb 2\n");
  const std::string config = WriteConfig("stale.yml", absl::StrCat(R"(
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["127.0.0.1:)", exp.port(), R"("]
)"));
  StartVigilWith(config);
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "b") == "2"; }, absl::Seconds(20)))
      << vigil_.log;
  exp.Set("/metrics", "a 1\n");
  // Without staleness b would stay visible for the 5m lookback.
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "b").empty(); }, absl::Seconds(10)))
      << vigil_.log;
  // b's last sample, and the time a query first sees it gone: no more than
  // one interval apart (plus the scrape's own jitter).
  const std::string last_ts = JqGet(vigil_port_, "/api/v1/query", {{"query", "max_over_time(timestamp(b)[1m:100ms])"}},
                                    ".data.result[0].value[1] // \"\"");
  double t_last = 0;
  ASSERT_TRUE(absl::SimpleAtod(last_ts, &t_last)) << last_ts;
  EXPECT_EQ(InstantAt(vigil_port_, "b", t_last + 1.2), "");
  EXPECT_EQ(Instant(vigil_port_, "a"), "1");
}

TEST_F(ScrapeE2eTest, ReloadKeepsOldConfigWhenNewIsInvalid) {
  std::string missing = MissingBinaries({kCurl, kJq});
  if (!missing.empty()) GTEST_SKIP() << missing;
  TestExporter exp({"/one", "/two"});
  ASSERT_TRUE(exp.Start().ok());
  exp.Set("/one", "one 1\n");
  exp.Set("/two", "two 2\n");
  auto job = [&](const std::string& name) {
    return absl::StrCat("  - job_name: ", name, "\n    metrics_path: /", name,
                        "\n    static_configs:\n      - targets: ['127.0.0.1:", exp.port(), "']\n");
  };
  const std::string head = "global:\n  scrape_interval: 1s\nscrape_configs:\n";
  const std::string config = WriteConfig("reload.yml", head + job("one") + job("two"));
  StartVigilWith(config, {"--web_enable_lifecycle"});
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "sum(up)") == "2"; }, absl::Seconds(20)))
      << vigil_.log;

  // A broken config: refused with the reason, the old jobs keep running.
  ASSERT_TRUE(WriteFileAtomic(config, head + job("one") + "  - job_name: one\n").ok());
  absl::StatusOr<std::string> r = RunShell(absl::StrCat(
      kCurl, " -s -o /dev/stderr -w '%{http_code}' -X POST http://127.0.0.1:", vigil_port_,
      "/-/reload 2>", dir_, "/reload-body"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "500");
  absl::StatusOr<std::string> body = ReadFile(dir_ + "/reload-body");
  ASSERT_TRUE(body.ok());
  EXPECT_TRUE(absl::StrContains(*body, "failed to reload config")) << *body;
  EXPECT_TRUE(absl::StrContains(*body, "reload.yml")) << *body;
  absl::StatusOr<std::string> metrics = HttpGet(vigil_port_, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_TRUE(absl::StrContains(*metrics, "vigil_config_last_reload_successful 0")) << *metrics;
  const std::string before = Instant(vigil_port_, "count_over_time(up{job=\"two\"}[1m])");
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "count_over_time(up{job=\"two\"}[1m])") != before; },
                      absl::Seconds(10)));

  // A good config without job two, by SIGHUP: two's series end.
  ASSERT_TRUE(WriteFileAtomic(config, head + job("one")).ok());
  kill(vigil_.pid, SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "sum(up)") == "1"; }, absl::Seconds(10)))
      << vigil_.log;
  EXPECT_EQ(Instant(vigil_port_, "two"), "");
  EXPECT_EQ(Instant(vigil_port_, "up{job=\"two\"}"), "");
  metrics = HttpGet(vigil_port_, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_TRUE(absl::StrContains(*metrics, "vigil_config_last_reload_successful 1"));
  EXPECT_EQ(TargetHealth(vigil_port_), absl::StrCat("one|127.0.0.1:", exp.port(), "|up|ok"));

  // Job two back through POST /-/reload.
  ASSERT_TRUE(WriteFileAtomic(config, head + job("one") + job("two")).ok());
  r = RunShell(absl::StrCat(kCurl, " -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:",
                            vigil_port_, "/-/reload"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "200");
  ASSERT_TRUE(WaitFor([&] { return Instant(vigil_port_, "two") == "2"; }, absl::Seconds(10)));
}

}  // namespace
}  // namespace vigil::testing
