#include "api/self_metrics.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "api/process_metrics.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "model/labels.h"
#include "tsdb/db.h"

namespace vigil::api {
namespace {

using model::Labels;

// Series text as rendered (name{labels}) -> value, for every sample line.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    double v = 0;
    EXPECT_NE(space, absl::string_view::npos) << line;
    if (space == absl::string_view::npos) continue;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &v)) << line;
    out[std::string(line.substr(0, space))] = v;
  }
  return out;
}

bool HasType(const std::string& text, absl::string_view name,
             absl::string_view type) {
  return absl::StrContains(text,
                           absl::StrCat("# TYPE ", name, " ", type, "\n"));
}

// The value of one series, or -1 when absent (no metric here is negative).
double Value(const std::string& text, const std::string& series) {
  std::map<std::string, double> samples = Samples(text);
  auto it = samples.find(series);
  return it == samples.end() ? -1 : it->second;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil_self_metrics_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SelfMetrics, EveryFamilyHasHelpAndType) {
  SelfMetrics m("1.2.3");
  m.ObserveHttpRequest("/metrics", 200, 0.001);
  m.AddRemoteWriteRejected("out_of_order", 1);
  TempDir dir;
  tsdb::Options opts;
  opts.dir = dir.path();
  auto db = tsdb::DB::Open(opts);
  ASSERT_TRUE(db.ok()) << db.status();
  m.AttachDb(db->get());
  const std::string text = m.Render();

  const std::vector<std::pair<absl::string_view, absl::string_view>> want = {
      {"vigil_build_info", "gauge"},
      {"vigil_ready", "gauge"},
      {"vigil_http_requests_total", "counter"},
      {"vigil_http_request_duration_seconds", "histogram"},
      {"vigil_http_requests_in_flight", "gauge"},
      {"vigil_http_connections", "gauge"},
      {"vigil_http_rejected_total", "counter"},
      {"vigil_remote_write_samples_total", "counter"},
      {"vigil_remote_write_samples_rejected_total", "counter"},
      {"vigil_remote_write_ignored_total", "counter"},
      {"vigil_remote_write_metadata_total", "counter"},
      {"process_cpu_seconds_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"process_virtual_memory_bytes", "gauge"},
      {"process_start_time_seconds", "gauge"},
      {"process_open_fds", "gauge"},
      {"process_max_fds", "gauge"},
      {"process_threads", "gauge"},
      {"vigil_tsdb_head_series", "gauge"},
      {"vigil_tsdb_head_series_created_total", "counter"},
      {"vigil_tsdb_head_series_removed_total", "counter"},
      {"vigil_tsdb_head_samples_appended_total", "counter"},
      {"vigil_tsdb_head_chunks", "gauge"},
      {"vigil_tsdb_head_chunks_created_total", "counter"},
      {"vigil_tsdb_head_chunks_removed_total", "counter"},
      {"vigil_tsdb_samples_rejected_total", "counter"},
      {"vigil_tsdb_commits_total", "counter"},
      {"vigil_tsdb_commit_failures_total", "counter"},
      {"vigil_tsdb_wal_records_written_total", "counter"},
      {"vigil_tsdb_wal_bytes_written_total", "counter"},
      {"vigil_tsdb_wal_fsync_duration_seconds", "summary"},
      {"vigil_tsdb_wal_write_errors_total", "counter"},
      {"vigil_tsdb_wal_segments_created_total", "counter"},
      {"vigil_tsdb_wal_corruptions_total", "counter"},
      {"vigil_tsdb_wal_replay_duration_seconds", "gauge"},
      {"vigil_tsdb_wal_replay_unknown_refs_total", "counter"},
      {"vigil_tsdb_checkpoints_total", "counter"},
  };
  for (const auto& [name, type] : want) {
    EXPECT_TRUE(HasType(text, name, type)) << name << " " << type;
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("# HELP ", name, " ")))
        << name;
  }
  // Each family appears once, in name order.
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      names.emplace_back(line.substr(0, line.find(' ')));
    }
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  // Series within a family are in label order.
  EXPECT_LT(text.find("vigil_http_rejected_total{reason=\"bad_request\"}"),
            text.find("vigil_http_rejected_total{reason=\"timeout\"}"));
  m.AttachDb(nullptr);
}

TEST(SelfMetrics, BuildInfoAndReady) {
  SelfMetrics m("1.2.3");
  std::string text = m.Render();
  EXPECT_TRUE(absl::StrContains(text, "vigil_build_info{compiler=\""));
  EXPECT_TRUE(absl::StrContains(text, "version=\"1.2.3\"} 1\n"));
  EXPECT_EQ(Value(text, "vigil_ready"), 0);
  m.SetReady(true);
  EXPECT_EQ(Value(m.Render(), "vigil_ready"), 1);
  m.SetReady(false);
  EXPECT_EQ(Value(m.Render(), "vigil_ready"), 0);
}

TEST(SelfMetrics, RemoteWriteCountersIncrease) {
  SelfMetrics m("test");
  std::string text = m.Render();
  EXPECT_EQ(Value(text, "vigil_remote_write_samples_total"), 0);
  EXPECT_EQ(Value(text, "vigil_remote_write_ignored_total{kind=\"exemplar\"}"),
            0);
  EXPECT_EQ(Value(text, "vigil_remote_write_ignored_total{kind=\"histogram\"}"),
            0);

  m.AddRemoteWriteSamples(5);
  m.AddRemoteWriteSamples(7);
  m.AddRemoteWriteRejected("out_of_order", 2);
  m.AddRemoteWriteRejected("out_of_order", 1);
  m.AddRemoteWriteRejected("invalid_labels", 4);
  m.AddRemoteWriteIgnored("exemplar", 3);
  m.AddRemoteWriteMetadata(9);
  text = m.Render();
  EXPECT_EQ(Value(text, "vigil_remote_write_samples_total"), 12);
  EXPECT_EQ(
      Value(
          text,
          "vigil_remote_write_samples_rejected_total{reason=\"out_of_order\"}"),
      3);
  EXPECT_EQ(Value(text,
                  "vigil_remote_write_samples_rejected_total{reason=\"invalid_"
                  "labels\"}"),
            4);
  EXPECT_EQ(Value(text, "vigil_remote_write_ignored_total{kind=\"exemplar\"}"),
            3);
  EXPECT_EQ(Value(text, "vigil_remote_write_ignored_total{kind=\"histogram\"}"),
            0);
  EXPECT_EQ(Value(text, "vigil_remote_write_metadata_total"), 9);
}

TEST(SelfMetrics, HttpRejectedReasonsStartAtZero) {
  SelfMetrics m("test");
  const char* reasons[] = {"max_connections", "max_requests", "timeout",
                           "body_too_large", "bad_request"};
  std::string text = m.Render();
  for (const char* r : reasons) {
    EXPECT_EQ(Value(text, absl::StrCat("vigil_http_rejected_total{reason=\"", r,
                                       "\"}")),
              0)
        << r;
  }
  m.IncHttpRejected("timeout");
  m.IncHttpRejected("timeout");
  m.IncHttpRejected("bad_request");
  text = m.Render();
  EXPECT_EQ(Value(text, "vigil_http_rejected_total{reason=\"timeout\"}"), 2);
  EXPECT_EQ(Value(text, "vigil_http_rejected_total{reason=\"bad_request\"}"),
            1);
  EXPECT_EQ(
      Value(text, "vigil_http_rejected_total{reason=\"max_connections\"}"), 0);
}

TEST(SelfMetrics, HttpGauges) {
  SelfMetrics m("test");
  m.SetHttpInFlight(3);
  m.SetHttpConnections(17);
  std::string text = m.Render();
  EXPECT_EQ(Value(text, "vigil_http_requests_in_flight"), 3);
  EXPECT_EQ(Value(text, "vigil_http_connections"), 17);
  m.SetHttpInFlight(0);
  EXPECT_EQ(Value(m.Render(), "vigil_http_requests_in_flight"), 0);
}

TEST(SelfMetrics, HttpRequestsByHandlerAndCode) {
  SelfMetrics m("test");
  m.ObserveHttpRequest("/api/v1/write", 204, 0.003);
  m.ObserveHttpRequest("/api/v1/write", 204, 0.02);
  m.ObserveHttpRequest("/api/v1/write", 400, 0.001);
  m.ObserveHttpRequest("/api/v1/query", 200, 2.0);
  const std::string text = m.Render();

  EXPECT_EQ(
      Value(
          text,
          "vigil_http_requests_total{code=\"204\",handler=\"/api/v1/write\"}"),
      2);
  EXPECT_EQ(
      Value(
          text,
          "vigil_http_requests_total{code=\"400\",handler=\"/api/v1/write\"}"),
      1);
  EXPECT_EQ(
      Value(
          text,
          "vigil_http_requests_total{code=\"200\",handler=\"/api/v1/query\"}"),
      1);
  EXPECT_EQ(
      Value(
          text,
          "vigil_http_requests_total{code=\"200\",handler=\"/api/v1/write\"}"),
      -1);

  const std::string write = "vigil_http_request_duration_seconds";
  EXPECT_EQ(Value(text, write + "_count{handler=\"/api/v1/write\"}"), 3);
  EXPECT_NEAR(Value(text, write + "_sum{handler=\"/api/v1/write\"}"), 0.024,
              1e-9);
  EXPECT_EQ(
      Value(text, write + "_bucket{handler=\"/api/v1/write\",le=\"0.005\"}"),
      2);
  EXPECT_EQ(
      Value(text, write + "_bucket{handler=\"/api/v1/write\",le=\"0.025\"}"),
      3);
  EXPECT_EQ(Value(text, write + "_bucket{handler=\"/api/v1/query\",le=\"1\"}"),
            0);
  EXPECT_EQ(
      Value(text, write + "_bucket{handler=\"/api/v1/query\",le=\"2.5\"}"), 1);
  EXPECT_EQ(Value(text, write + "_bucket{handler=\"/api/v1/query\",le=\"60\"}"),
            1);
  EXPECT_EQ(
      Value(text, write + "_bucket{handler=\"/api/v1/query\",le=\"+Inf\"}"), 1);
  // One bucket line per bound plus +Inf, per handler.
  size_t buckets = 0;
  for (const auto& [series, v] : Samples(text)) {
    if (absl::StartsWith(series, write + "_bucket{handler=\"/api/v1/query\""))
      ++buckets;
  }
  EXPECT_EQ(buckets, std::size(kHttpDurationBuckets) + 1);
}

TEST(SelfMetrics, ConcurrentObserveAndRender) {
  SelfMetrics m("test");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&m, i] {
      const std::string handler = absl::StrCat("/h", i % 2);
      for (int j = 0; j < kPerThread; ++j) {
        m.ObserveHttpRequest(handler, 200 + j % 3, 0.001);
        if (j % 500 == 0) (void)m.Render();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  double total = 0;
  for (const auto& [series, v] : Samples(m.Render())) {
    if (absl::StartsWith(series, "vigil_http_requests_total{")) total += v;
  }
  EXPECT_EQ(total, kThreads * kPerThread);
}

TEST(ProcessMetrics, Plausible) {
  ProcessCollector c;
  absl::StatusOr<ProcessSnapshot> s = c.Read();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_GT(s->resident_memory_bytes, 0);
  EXPECT_GE(s->virtual_memory_bytes, s->resident_memory_bytes);
  EXPECT_GE(s->open_fds, 3);
  EXPECT_GE(s->max_fds, static_cast<double>(s->open_fds));
  EXPECT_GE(s->threads, 1);
  EXPECT_GE(s->cpu_seconds, 0);
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_LE(s->start_time_seconds, now + 1);
  EXPECT_GT(s->start_time_seconds, now - 3600);

  // The rendered values are the same readings.
  SelfMetrics m("test");
  const std::string text = m.Render();
  EXPECT_GT(Value(text, "process_resident_memory_bytes"), 0);
  EXPECT_GE(Value(text, "process_open_fds"), 3);
  EXPECT_GE(Value(text, "process_threads"), 1);
  EXPECT_GE(Value(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(Value(text, "process_start_time_seconds"), now - 3600);
}

TEST(ProcessMetrics, ThreadsFollowTheProcess) {
  ProcessCollector c;
  absl::StatusOr<ProcessSnapshot> before = c.Read();
  ASSERT_TRUE(before.ok()) << before.status();
  // The thread is certainly alive while it waits for the reading.
  absl::Notification started, read;
  std::thread t([&] {
    started.Notify();
    read.WaitForNotification();
  });
  started.WaitForNotification();
  absl::StatusOr<ProcessSnapshot> during = c.Read();
  read.Notify();
  t.join();
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(during->threads, before->threads + 1);
}

TEST(ProcessMetrics, ParseProcStatWithAwkwardCommand) {
  // The command name holds spaces and a ')' of its own.
  const std::string stat =
      "4242 (my )proc) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
      "250 130 0 0 20 0 7 0 98765 123456789 2048 18446744073709551615 "
      "1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  absl::StatusOr<ProcStat> st = ParseProcStat(stat);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->utime_ticks, 250u);
  EXPECT_EQ(st->stime_ticks, 130u);
  EXPECT_EQ(st->num_threads, 7);
  EXPECT_EQ(st->starttime_ticks, 98765u);
  EXPECT_EQ(st->vsize_bytes, 123456789u);
  EXPECT_EQ(st->rss_pages, 2048u);

  EXPECT_FALSE(ParseProcStat("4242 (truncated) S 1 2 3").ok());
  EXPECT_FALSE(ParseProcStat("no parenthesis at all").ok());
}

TEST(ProcessMetrics, ParseBootTime) {
  absl::StatusOr<int64_t> bt = ParseBootTime(
      "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\nbtime 1700000000\nprocesses "
      "7\n");
  ASSERT_TRUE(bt.ok()) << bt.status();
  EXPECT_EQ(*bt, 1700000000);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").ok());
  EXPECT_FALSE(ParseBootTime("btime soon\n").ok());
}

class StorageMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.dir = dir_.path();
    auto db = tsdb::DB::Open(opts_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  void TearDown() override {
    metrics_.AttachDb(nullptr);
    if (db_ != nullptr) {
      EXPECT_TRUE(db_->Close().ok());
    }
  }

  TempDir dir_;
  tsdb::Options opts_;
  std::unique_ptr<tsdb::DB> db_;
  SelfMetrics metrics_{"test"};
};

TEST_F(StorageMetricsTest, EmptyHeadOmitsTimeRange) {
  metrics_.AttachDb(db_.get());
  const std::string text = metrics_.Render();
  EXPECT_EQ(Value(text, "vigil_tsdb_head_series"), 0);
  EXPECT_EQ(Value(text, "vigil_tsdb_head_samples_appended_total"), 0);
  EXPECT_FALSE(absl::StrContains(text, "vigil_tsdb_head_min_time"));
  EXPECT_FALSE(absl::StrContains(text, "vigil_tsdb_head_max_time"));
}

TEST_F(StorageMetricsTest, ReflectsAppends) {
  metrics_.AttachDb(db_.get());
  auto app = db_->Appender();
  for (int i = 0; i < 3; ++i) {
    const Labels ls = Labels::FromPairs(
        {{"__name__", "up"}, {"instance", absl::StrCat("h", i)}});
    ASSERT_TRUE(app->Append(ls, 1000, 1).ok());
    ASSERT_TRUE(app->Append(ls, 2000, 1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  // Refused samples, counted by reason.
  const Labels h0 = Labels::FromPairs({{"__name__", "up"}, {"instance", "h0"}});
  EXPECT_FALSE(app->Append(h0, 500, 1).ok());  // Older than 2000: out of order.
  EXPECT_FALSE(app->Append(h0, 2000, 2).ok());  // Same time, new value.
  EXPECT_FALSE(app->Append(Labels::FromPairs({{"job", "x"}}), 3000, 1).ok());
  app->Rollback();

  const std::string text = metrics_.Render();
  EXPECT_EQ(Value(text, "vigil_tsdb_head_series"), 3);
  EXPECT_EQ(Value(text, "vigil_tsdb_head_series_created_total"), 3);
  EXPECT_EQ(Value(text, "vigil_tsdb_head_samples_appended_total"), 6);
  EXPECT_EQ(Value(text, "vigil_tsdb_commits_total"), 1);
  EXPECT_EQ(Value(text, "vigil_tsdb_commit_failures_total"), 0);
  EXPECT_EQ(Value(text, "vigil_tsdb_head_chunks"), 3);
  EXPECT_EQ(Value(text, "vigil_tsdb_head_min_time"), 1000);
  EXPECT_EQ(Value(text, "vigil_tsdb_head_max_time"), 2000);
  const std::pair<const char*, double> rejected[] = {{"out_of_order", 1},
                                                     {"duplicate", 1},
                                                     {"invalid_labels", 1},
                                                     {"out_of_bounds", 0}};
  for (const auto& [reason, want] : rejected) {
    EXPECT_EQ(
        Value(text, absl::StrCat("vigil_tsdb_samples_rejected_total{reason=\"",
                                 reason, "\"}")),
        want)
        << reason;
  }
  EXPECT_GE(Value(text, "vigil_tsdb_wal_records_written_total"), 1);
  EXPECT_GT(Value(text, "vigil_tsdb_wal_bytes_written_total"), 0);
  EXPECT_GE(Value(text, "vigil_tsdb_wal_segments_created_total"), 1);
  EXPECT_GE(Value(text, "vigil_tsdb_wal_fsync_duration_seconds_count"), 0);
  EXPECT_GE(Value(text, "vigil_tsdb_wal_fsync_duration_seconds_sum"), 0);
  EXPECT_GE(Value(text, "vigil_tsdb_wal_replay_duration_seconds"), 0);
}

TEST_F(StorageMetricsTest, DetachDropsStorageMetrics) {
  metrics_.AttachDb(db_.get());
  ASSERT_TRUE(absl::StrContains(metrics_.Render(), "vigil_tsdb_head_series "));
  metrics_.AttachDb(nullptr);
  const std::string text = metrics_.Render();
  EXPECT_FALSE(absl::StrContains(text, "vigil_tsdb_"));
  EXPECT_TRUE(absl::StrContains(text, "process_open_fds"));
  // Detached, the DB may close while the metrics live on.
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  EXPECT_FALSE(absl::StrContains(metrics_.Render(), "vigil_tsdb_"));
}

TEST_F(StorageMetricsTest, WithoutWalNoWalCounters) {
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  TempDir other;
  tsdb::Options opts;
  opts.dir = other.path();
  opts.enable_wal = false;
  auto db = tsdb::DB::Open(opts);
  ASSERT_TRUE(db.ok()) << db.status();
  db_ = std::move(*db);
  metrics_.AttachDb(db_.get());
  const std::string text = metrics_.Render();
  EXPECT_TRUE(absl::StrContains(text, "vigil_tsdb_head_series "));
  EXPECT_FALSE(absl::StrContains(text, "vigil_tsdb_wal_records_written_total"));
  EXPECT_FALSE(
      absl::StrContains(text, "vigil_tsdb_wal_fsync_duration_seconds"));
  // Close before `other` is removed.
  metrics_.AttachDb(nullptr);
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
}

// Runs `promtool check metrics` on `text`; returns its exit status and output.
std::pair<int, std::string> PromtoolCheck(const std::string& text) {
  TempDir dir;
  const std::string in = dir.path() + "/metrics.txt";
  const std::string out = dir.path() + "/promtool.out";
  EXPECT_TRUE(WriteFileAtomic(in, text).ok());
  const std::string cmd = absl::StrCat("/usr/bin/promtool check metrics < ", in,
                                       " > ", out, " 2>&1");
  const int status = std::system(cmd.c_str());
  absl::StatusOr<std::string> output = ReadFile(out);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          output.ok() ? *output : output.status().ToString()};
}

TEST_F(StorageMetricsTest, PromtoolAcceptsTheOutput) {
  if (access("/usr/bin/promtool", X_OK) != 0) {
    GTEST_SKIP()
        << "/usr/bin/promtool not installed (Debian package prometheus)";
  }
  metrics_.AttachDb(db_.get());
  auto app = db_->Appender();
  ASSERT_TRUE(
      app->Append(Labels::FromPairs({{"__name__", "up"}}), 1000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  metrics_.ObserveHttpRequest("/api/v1/write", 204, 0.01);
  metrics_.ObserveHttpRequest("", 404, 0.0001);
  metrics_.AddRemoteWriteRejected("out_of_bounds", 1);
  metrics_.SetReady(true);

  const std::string text = metrics_.Render();
  auto [code, output] = PromtoolCheck(text);
  EXPECT_EQ(code, 0) << output << "\n--- input ---\n" << text;
  // Lint findings do not fail the check, but there should be none.
  EXPECT_EQ(output, "") << output;
}

}  // namespace
}  // namespace vigil::api
