// Integration with the real Prometheus: Debian's prometheus-node-exporter
// is scraped every second by Prometheus 2.42, which remote-writes (1.0) to
// `vigil serve`, all on 127.0.0.1. After at least kMinScrapes scrapes, and
// once Prometheus reports everything up to a time t1 as sent, Vigil must
// hold exactly the series Prometheus holds up to t1, with the same
// timestamps and bit-identical values.
//
// Prometheus's side is read with its query API (a range selector returns
// raw samples; stale markers are left out), through curl and jq. Vigil has
// no query API yet, so its side is read by opening its data directory
// after it stops.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tests/sample_dataset.h"
#include "tests/vigil_process.h"

namespace vigil {
namespace {

using testing::Dataset;
using testing::kCurl;
using testing::kJq;
using testing::kPrometheus;
using testing::Proc;
using testing::SeriesKey;
using testing::ShellQuote;

constexpr char kNodeExporter[] = "/usr/bin/prometheus-node-exporter";

constexpr int kMinScrapes = 5;
// Series node_exporter (with the collectors below) and the scrape's own
// series add up to ~215 here; fewer than this means something is off.
constexpr size_t kMinSeries = 100;
constexpr int64_t kRangeMs = 3600 * 1000;  // The [1h] of the queries.
constexpr absl::Duration kStartTimeout = absl::Seconds(20);
// Prometheus waits ~5s for its first service discovery update before the
// first scrape.
constexpr absl::Duration kScrapesTimeout = absl::Seconds(40);
constexpr absl::Duration kSentTimeout = absl::Seconds(20);
constexpr absl::Duration kStopTimeout = absl::Seconds(20);

int StartTimeoutMs() {
  return static_cast<int>(absl::ToInt64Milliseconds(kStartTimeout));
}

// Collectors that work in a container and give a stable set of series.
const char* const kCollectors[] = {"cpu",    "meminfo", "loadavg", "filesystem",
                                   "netdev", "stat",    "time",    "uname"};

// Prometheus's remote-write self-metrics (2.42 names).
constexpr char kHighestSent[] =
    "prometheus_remote_storage_queue_highest_sent_timestamp_seconds";
constexpr char kPending[] = "prometheus_remote_storage_samples_pending";
constexpr char kFailed[] = "prometheus_remote_storage_samples_failed_total";
constexpr char kDropped[] = "prometheus_remote_storage_samples_dropped_total";
constexpr char kRetried[] = "prometheus_remote_storage_samples_retried_total";

// $0: node_exporter's port, $1: Vigil's. One remote-write shard sends
// samples in WAL order, so once a sample newer than t1 has been sent, all
// samples up to t1 have been.
constexpr char kPrometheusConfig[] = R"yaml(
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$0']
remote_write:
  - url: http://127.0.0.1:$1/api/v1/write
    queue_config:
      batch_send_deadline: 200ms
      min_shards: 1
      max_shards: 1
)yaml";

// The result of `up[1h]`: the number of successful scrapes and the newest
// scrape's time in ms, one per line; nothing before the first scrape.
constexpr char kJqUpProgram[] = R"jq(
.data.result[0].values // empty
| (map(select(.[1] == "1")) | length), (.[-1][0] * 1000 | round)
)jq";

int Stop(Proc* p, int sig, absl::Duration timeout = kStopTimeout) {
  return testing::StopProcess(p, sig, timeout);
}

class PrometheusRemoteWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil_promrw_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  // Runs on every path out of the test, failed assertions included.
  void TearDown() override {
    for (Proc* p : {&prometheus_, &node_exporter_, &vigil_}) {
      if (p->pid > 0) (void)Stop(p, SIGKILL);
    }
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }

  std::string Logs() {
    return absl::StrCat("--- node_exporter:\n", node_exporter_.log,
                        "--- vigil:\n", vigil_.log, "--- prometheus:\n",
                        prometheus_.log);
  }

  std::string dir_;
  Proc node_exporter_;
  Proc vigil_;
  Proc prometheus_;
};

TEST_F(PrometheusRemoteWriteTest, VigilHoldsExactlyWhatPrometheusHolds) {
  std::string missing =
      testing::MissingBinaries({kPrometheus, kNodeExporter, kCurl, kJq});
  if (!missing.empty()) {
    std::fprintf(stderr, "%s\n", missing.c_str());
    GTEST_SKIP() << missing;
  }
  const std::vector<Proc*> procs = {&node_exporter_, &vigil_, &prometheus_};

  // node_exporter.
  int ne_port = testing::FreePort();
  ASSERT_GT(ne_port, 0);
  std::vector<std::string> ne_args = {
      absl::StrCat("--web.listen-address=127.0.0.1:", ne_port),
      "--collector.disable-defaults"};
  for (const char* c : kCollectors)
    ne_args.push_back(absl::StrCat("--collector.", c));
  node_exporter_ = testing::StartProcess(kNodeExporter, ne_args);
  ASSERT_TRUE(testing::WaitForLog(&node_exporter_, "msg=\"Listening on\"",
                                  StartTimeoutMs()))
      << Logs();

  // Vigil.
  const std::string vigil_dir = dir_ + "/vigil";
  int vigil_port = 0;
  vigil_ = testing::StartVigil(VIGIL_BINARY, {"--data_dir=" + vigil_dir},
                               &vigil_port);
  ASSERT_GT(vigil_port, 0) << Logs();

  // Prometheus.
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/prometheus.yml",
                      absl::Substitute(kPrometheusConfig, ne_port, vigil_port))
          .ok());
  int prom_port = testing::FreePort();
  ASSERT_GT(prom_port, 0);
  prometheus_ =
      testing::StartPrometheus(dir_ + "/prometheus.yml", dir_ + "/prometheus",
                               prom_port, {}, kStartTimeout);
  ASSERT_TRUE(testing::PrometheusReady(prometheus_)) << Logs();

  // Wait for kMinScrapes successful scrapes; t1 is the newest scrape's time.
  const std::string up_file = dir_ + "/up.json";
  int64_t t1 = 0;
  int scrapes = 0;
  std::string last_error;
  bool scraped = testing::WaitUntil(
      [&] {
        int64_t now_ms = absl::ToUnixMillis(absl::Now());
        absl::Status s = testing::Query(prom_port, "up[1h]", now_ms, up_file);
        absl::StatusOr<std::string> out =
            s.ok() ? testing::RunShell(absl::StrCat(kJq, " -r ",
                                                    ShellQuote(kJqUpProgram),
                                                    " ", ShellQuote(up_file)))
                   : s;
        if (!out.ok()) {
          last_error = out.status().ToString();
          return false;
        }
        std::vector<std::string> lines =
            absl::StrSplit(*out, '\n', absl::SkipEmpty());
        if (lines.size() != 2 || !absl::SimpleAtoi(lines[0], &scrapes) ||
            !absl::SimpleAtoi(lines[1], &t1)) {
          last_error = absl::StrCat("no up series yet: ", *out);
          return false;
        }
        last_error.clear();
        return scrapes >= kMinScrapes;
      },
      kScrapesTimeout, procs);
  ASSERT_TRUE(scraped) << "successful scrapes: " << scrapes << "; "
                       << last_error << "\n"
                       << Logs();

  // Wait until remote write has sent a sample newer than t1 (the metric has
  // whole seconds) and has nothing pending.
  std::string metrics;
  auto metric = [&](absl::string_view name) {
    return testing::MetricValue(metrics, name).value_or(-1);
  };
  const double sent_wanted = static_cast<double>(t1 / 1000 + 1);
  bool sent = testing::WaitUntil(
      [&] {
        absl::StatusOr<std::string> m = testing::HttpGet(prom_port, "/metrics");
        metrics = m.ok() ? *m : "";
        return metric(kHighestSent) >= sent_wanted && metric(kPending) == 0;
      },
      kSentTimeout, procs);
  ASSERT_TRUE(sent) << kHighestSent << " " << metric(kHighestSent)
                    << ", wanted " << sent_wanted << "; " << kPending << " "
                    << metric(kPending) << "\n"
                    << Logs();
  // Vigil accepted every request the first time.
  EXPECT_EQ(metric(kFailed), 0);
  EXPECT_EQ(metric(kDropped), 0);
  EXPECT_EQ(metric(kRetried), 0);

  // Everything Prometheus holds up to t1.
  const std::string all_file = dir_ + "/all.json";
  absl::StatusOr<Dataset> want =
      testing::QueryMatrix(prom_port, "{__name__=~\".+\"}[1h]", t1, all_file);
  ASSERT_TRUE(want.ok()) << want.status();

  EXPECT_EQ(Stop(&prometheus_, SIGTERM), 0) << Logs();
  EXPECT_EQ(Stop(&vigil_, SIGTERM), 0) << Logs();
  EXPECT_NE(vigil_.log.find("shutdown complete"), std::string::npos)
      << vigil_.log;

  absl::StatusOr<Dataset> got =
      testing::ReadVigil(vigil_dir, t1 - kRangeMs, t1);
  ASSERT_TRUE(got.ok()) << got.status();

  std::printf(
      "t1=%lld: Prometheus %zu series / %zu samples, Vigil %zu series / %zu "
      "samples\n",
      static_cast<long long>(t1), want->size(), testing::CountSamples(*want),
      got->size(), testing::CountSamples(*got));
  EXPECT_GE(want->size(), kMinSeries);
  auto up =
      want->find(SeriesKey{{"__name__", "up"},
                           {"instance", absl::StrCat("127.0.0.1:", ne_port)},
                           {"job", "node"}});
  ASSERT_NE(up, want->end());
  EXPECT_GE(up->second.size(), static_cast<size_t>(kMinScrapes));
  std::string diff = testing::Diff(*want, *got);
  EXPECT_TRUE(diff.empty()) << diff;
}

}  // namespace
}  // namespace vigil
