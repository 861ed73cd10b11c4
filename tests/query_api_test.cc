// The query API against Prometheus 2.42 on the same blocks:
//  - `promtool query instant|range|series|labels` print the same against
//    both servers;
//  - bad requests (parse errors, unknown functions, wrong argument types,
//    bad regexes, bad times and steps, the 11,000 points limit, the sample
//    limit, many-to-many matching, duplicate label sets) get the same HTTP
//    status, errorType and error message from both;
//  - a hostile query (count_values over 200k series at a 1s step) is
//    stopped by the sample limit and by the timeout, and the server stays
//    healthy and answers the next query.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tests/sample_dataset.h"
#include "tests/vigil_process.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

using testing::Proc;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kBase = 1700000000000 - 1700000000000 % (2 * kHour);
constexpr int64_t kScrape = 15 * 1000;
constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(30);
// Both servers run with this sample limit, so the limit error is compared.
constexpr int kMaxSamples = 1000;

model::Labels L(const std::vector<std::pair<std::string, std::string>>& pairs) {
  return testing::LabelsOf(pairs);
}

// Two hours of up and a counter for three targets, cut into one block.
absl::Status WriteSmallData(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(testing::ManualOptions(dir));
  if (!db.ok()) return db.status();
  std::unique_ptr<tsdb::Appender> app = (*db)->Appender();
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"api", "10.0.0.1:80"}, {"api", "10.0.0.2:80"}, {"db", "10.0.0.1:9100"}};
  for (int64_t t = kBase; t < kBase + 2 * kHour; t += kScrape) {
    for (size_t i = 0; i < targets.size(); ++i) {
      const auto& [job, instance] = targets[i];
      const double v = static_cast<double>((t - kBase) / kScrape) * static_cast<double>(i + 1);
      for (const auto& [ls, value] :
           std::vector<std::pair<model::Labels, double>>{
               {L({{"__name__", "up"}, {"job", job}, {"instance", instance}}), 1},
               {L({{"__name__", "reqs_total"}, {"job", job}, {"instance", instance}}), v}}) {
        if (absl::Status s = app->Append(ls, t, value).status(); !s.ok()) return s;
      }
    }
  }
  if (absl::Status s = app->Commit(); !s.ok()) return s;
  if (absl::Status s = (*db)->CompactHead(kBase, kBase + 2 * kHour); !s.ok()) return s;
  return (*db)->Close();
}

// What a server answered: HTTP status, errorType and error ("" on success).
struct Reply {
  int code = 0;
  std::string error_type;
  std::string error;
  std::string body;
};

Reply Ask(int port, const std::string& path,
          const std::vector<std::pair<std::string, std::string>>& params,
          const std::string& file, const std::string& extra = "") {
  Reply r;
  std::string cmd = absl::StrCat(testing::kCurl, " -sSG --max-time 120 ", extra, " -o ",
                                 testing::ShellQuote(file), " -w '%{http_code}'");
  for (const auto& [k, v] : params) {
    absl::StrAppend(&cmd, " --data-urlencode ", testing::ShellQuote(absl::StrCat(k, "=", v)));
  }
  absl::StrAppend(&cmd, " ", testing::ShellQuote(absl::StrCat("http://127.0.0.1:", port, path)));
  absl::StatusOr<std::string> out = testing::RunShell(cmd);
  if (!out.ok() || !absl::SimpleAtoi(*out, &r.code)) {
    r.error = absl::StrCat("curl failed: ", out.ok() ? *out : out.status().ToString());
    return r;
  }
  absl::StatusOr<std::string> body = ReadFile(file);
  if (body.ok()) r.body = *body;
  absl::StatusOr<std::string> t = testing::Jq(".errorType // \"\"", file);
  absl::StatusOr<std::string> e = testing::Jq(".error // \"\"", file);
  r.error_type = t.ok() ? *t : "(not JSON)";
  r.error = e.ok() ? *e : r.body;
  return r;
}

class QueryApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    missing_ = testing::MissingBinaries(
        {testing::kPrometheus, testing::kPromtool, testing::kCurl, testing::kJq});
    if (!missing_.empty()) return;
    char tmpl[] = "/tmp/vigil-query-api.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = new std::string(tmpl);
    const std::string vdir = *root_ + "/vigil", pdir = *root_ + "/prometheus";
    ASSERT_TRUE(WriteSmallData(vdir).ok());
    ASSERT_TRUE(testing::CopyAllBlocks(vdir, pdir).ok());
    ASSERT_TRUE(
        WriteFileAtomic(*root_ + "/prometheus.yml", "global:\n  scrape_interval: 1m\n").ok());
    prom_port_ = testing::FreePort();
    prometheus_ = new Proc(testing::StartPrometheus(
        *root_ + "/prometheus.yml", pdir, prom_port_,
        {"--storage.tsdb.retention.time=100y", absl::StrCat("--query.max-samples=", kMaxSamples)},
        kStartTimeout));
    ASSERT_TRUE(testing::PrometheusReady(*prometheus_)) << prometheus_->log;
    vigil_ = new Proc(testing::StartVigil(
        VIGIL_BINARY,
        {"--data_dir=" + vdir, "--retention_time=0",
         absl::StrCat("--query_max_samples=", kMaxSamples)},
        &vigil_port_));
    ASSERT_GT(vigil_port_, 0) << vigil_->log;
  }
  static void TearDownTestSuite() {
    for (Proc* p : {vigil_, prometheus_}) {
      if (p != nullptr && p->pid > 0) (void)testing::StopProcess(p, SIGTERM, kStopTimeout);
      delete p;
    }
    vigil_ = prometheus_ = nullptr;
    if (root_ != nullptr) (void)RemoveAll(*root_);
    delete root_;
    root_ = nullptr;
  }
  void SetUp() override {
    if (!missing_.empty()) GTEST_SKIP() << missing_;
    ASSERT_GT(vigil_port_, 0);
  }

  static std::string Url(int port) { return absl::StrCat("http://127.0.0.1:", port); }

  static inline std::string missing_;
  static inline std::string* root_ = nullptr;
  static inline Proc* vigil_ = nullptr;
  static inline Proc* prometheus_ = nullptr;
  static inline int vigil_port_ = 0;
  static inline int prom_port_ = 0;
};

TEST_F(QueryApiTest, PromtoolQueryPrintsTheSameAsAgainstPrometheus) {
  const std::string at = testing::ApiTime(kBase + kHour);
  const std::string start = testing::ApiTime(kBase + kHour), end = testing::ApiTime(kBase + kHour + 600 * 1000);
  const std::vector<std::pair<std::string, std::string>> commands = {
      // {promtool arguments before the URL, after the URL}
      {"query instant --time=" + at, "up"},
      {"query instant --time=" + at, "sum by (job) (rate(reqs_total[5m]))"},
      {"query instant --time=" + at, "reqs_total[1m]"},
      {"query instant --time=" + at, "scalar(sum(up))"},
      {"query range --start=" + start + " --end=" + end + " --step=60s", "reqs_total"},
      {"query range --start=" + start + " --end=" + end + " --step=2m",
       "rate(reqs_total{job=\"api\"}[5m]) * 60"},
      {"query series --match=up --start=" + start + " --end=" + end, ""},
      {"query series --match='reqs_total{job=\"db\"}' --start=" + start + " --end=" + end, ""},
      {"query labels --start=" + start + " --end=" + end, "job"},
      {"query labels --start=" + start + " --end=" + end, "instance"},
  };
  for (const auto& [before, after] : commands) {
    auto run = [&](int port) {
      return testing::RunShell(absl::StrCat(testing::kPromtool, " ", before, " ", Url(port),
                                            after.empty() ? "" : " " + testing::ShellQuote(after),
                                            " 2>&1"));
    };
    absl::StatusOr<std::string> v = run(vigil_port_), p = run(prom_port_);
    ASSERT_TRUE(p.ok()) << before << " " << after << ": " << p.status();
    ASSERT_TRUE(v.ok()) << before << " " << after << ": " << v.status();
    EXPECT_FALSE(p->empty()) << before << " " << after;
    EXPECT_EQ(*v, *p) << "promtool " << before << " URL " << after;
  }
  // And the data is what was written.
  absl::StatusOr<std::string> up = testing::RunShell(absl::StrCat(
      testing::kPromtool, " query instant --time=", at, " ", Url(vigil_port_), " 'up{job=\"db\"}'"));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(*up, absl::StrCat("up{instance=\"10.0.0.1:9100\", job=\"db\"} => 1 @[",
                              (kBase + kHour) / 1000, "]\n"));
}

TEST_F(QueryApiTest, BadRequestsGetPrometheusErrors) {
  const std::string t = testing::ApiTime(kBase + kHour);
  const std::string s = testing::ApiTime(kBase + kHour), e = testing::ApiTime(kBase + 2 * kHour);
  using Params = std::vector<std::pair<std::string, std::string>>;
  const std::vector<std::pair<std::string, Params>> cases = {
      {"/api/v1/query", {{"query", "sum("}, {"time", t}}},
      {"/api/v1/query", {{"query", ""}, {"time", t}}},
      {"/api/v1/query", {{"query", "up +"}, {"time", t}}},
      {"/api/v1/query", {{"query", "foo(up)"}, {"time", t}}},
      {"/api/v1/query", {{"query", "rate(up)"}, {"time", t}}},
      {"/api/v1/query", {{"query", "sum(up[5m])"}, {"time", t}}},
      {"/api/v1/query", {{"query", "up{job=~\"(\"}"}, {"time", t}}},
      {"/api/v1/query", {{"query", "up{job=\"a\""}, {"time", t}}},
      {"/api/v1/query", {{"query", "label_replace(up, \"x\", \"\", \"job\", \"(\")"}, {"time", t}}},
      {"/api/v1/query", {{"query", "up"}, {"time", "yesterday"}}},
      {"/api/v1/query", {{"query", "up"}, {"time", t}, {"timeout", "soon"}}},
      {"/api/v1/query", {{"query", "up + on(job) up"}, {"time", t}}},
      {"/api/v1/query", {{"query", "reqs_total + on(job) up"}, {"time", t}}},
      {"/api/v1/query", {{"query", "{__name__=~\"up|reqs_total\"} * 2"}, {"time", t}}},
      {"/api/v1/query", {{"query", "count_values(\"a b\", up)"}, {"time", t}}},
      {"/api/v1/query", {{"query", "topk(1e30, up)"}, {"time", t}}},
      // 3 series x 480 samples in 2h: over the limit of 1000 when held at
      // once (a range function holds one series at a time: no error).
      {"/api/v1/query", {{"query", "reqs_total[2h]"}, {"time", e}}},
      {"/api/v1/query_range", {{"query", "reqs_total"}, {"start", testing::ApiTime(kBase)},
                               {"end", e}, {"step", "15"}}},
      {"/api/v1/query_range", {{"query", "reqs_total"}, {"start", s}, {"end", e}, {"step", "1"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", s}, {"end", e}, {"step", "0"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", s}, {"end", e}, {"step", "-15s"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", e}, {"end", s}, {"step", "15"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", s}, {"end", e}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "x"}, {"end", e}, {"step", "15"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "0"}, {"end", "100000"}, {"step", "1"}}},
      {"/api/v1/query_range", {{"query", "up[5m]"}, {"start", s}, {"end", e}, {"step", "60"}}},
      {"/api/v1/series", {}},
      {"/api/v1/series", {{"match[]", "up{"}}},
      {"/api/v1/series", {{"match[]", "{job=~\".*\"}"}}},
      {"/api/v1/series", {{"match[]", "up"}, {"start", "later"}}},
      {"/api/v1/labels", {{"match[]", "up)"}}},
      {"/api/v1/label/1abc/values", {}},
      {"/api/v1/label/job/values", {{"match[]", "{job=\"\"}"}}},
      {"/api/v1/label/job/values", {{"match[]", "up{job=}"}}},
      {"/api/v1/query_exemplars", {{"query", "up{"}}},
      {"/api/v1/label/job/values", {{"end", "never"}}},
      {"/api/v1/format_query", {{"query", "sum(up"}}},
  };
  int n = 0;
  for (const auto& [path, params] : cases) {
    const std::string what = absl::StrCat(path, " ", params.empty() ? "" : params[0].second);
    Reply v = Ask(vigil_port_, path, params, *root_ + "/v.json");
    Reply p = Ask(prom_port_, path, params, *root_ + "/p.json");
    EXPECT_GE(p.code, 400) << what << ": Prometheus answered " << p.body;
    EXPECT_EQ(v.code, p.code) << what << "\n  Vigil: " << v.body << "\n  Prometheus: " << p.body;
    EXPECT_EQ(v.error_type, p.error_type) << what;
    EXPECT_EQ(v.error, p.error) << what;
    ++n;
  }
  EXPECT_EQ(n, static_cast<int>(cases.size()));
  // The server is still healthy and answers.
  Reply ok = Ask(vigil_port_, "/api/v1/query", {{"query", "count(up)"}, {"time", t}},
                 *root_ + "/v.json");
  EXPECT_EQ(ok.code, 200) << ok.body;
  EXPECT_NE(ok.body.find("\"3\""), std::string::npos) << ok.body;
}

TEST_F(QueryApiTest, StatusEndpointsAnswerInPrometheusShape) {
  for (const char* path : {"/api/v1/status/buildinfo", "/api/v1/status/runtimeinfo",
                           "/api/v1/status/flags", "/api/v1/status/config",
                           "/api/v1/status/tsdb", "/api/v1/metadata", "/api/v1/query_exemplars"}) {
    for (int port : {vigil_port_, prom_port_}) {
      const std::string file = *root_ + "/s.json";
      Reply r = Ask(port, path, {{"query", "up"}}, file, "");
      EXPECT_EQ(r.code, 200) << path << " " << r.body;
      absl::StatusOr<std::string> keys = testing::Jq(".status + \" \" + (.data | type)", file);
      ASSERT_TRUE(keys.ok()) << path;
      EXPECT_TRUE(*keys == "success object" || *keys == "success array") << path << ": " << *keys;
    }
  }
  // The same top-level keys in runtimeinfo and tsdb as Prometheus.
  for (const char* path : {"/api/v1/status/runtimeinfo", "/api/v1/status/tsdb"}) {
    std::string keys[2];
    int i = 0;
    for (int port : {vigil_port_, prom_port_}) {
      const std::string file = *root_ + "/s.json";
      Reply r = Ask(port, path, {}, file, "");
      absl::StatusOr<std::string> k = testing::Jq(".data | keys | join(\",\")", file);
      ASSERT_TRUE(k.ok()) << path;
      keys[i++] = *k;
    }
    EXPECT_EQ(keys[0], keys[1]) << path;
  }
}

// A query that would need far more memory than the limits allow is
// stopped by them (not by the OOM killer); the server stays up.
class HostileQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = testing::MissingBinaries({testing::kCurl, testing::kJq});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/vigil-hostile.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    if (vigil_.pid > 0) (void)testing::StopProcess(&vigil_, SIGTERM, kStopTimeout);
    if (!root_.empty()) (void)RemoveAll(root_);
  }
  std::string root_;
  Proc vigil_;
};

int64_t PeakRssKiB(int pid) {
  absl::StatusOr<std::string> st = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  if (!st.ok()) return -1;
  const size_t at = st->find("VmHWM:");
  if (at == std::string::npos) return -1;
  int64_t kib = -1;
  absl::string_view rest = absl::string_view(*st).substr(at + 6);
  rest = rest.substr(0, rest.find('\n'));
  absl::ConsumeSuffix(&rest, "kB");
  (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib);
  return kib;
}

TEST_F(HostileQueryTest, CountValuesOverManySeriesIsStoppedByTheLimits) {
  constexpr int kSeries = 200000;
  {
    absl::StatusOr<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(testing::ManualOptions(root_));
    ASSERT_TRUE(db.ok()) << db.status();
    std::unique_ptr<tsdb::Appender> app = (*db)->Appender();
    for (int i = 0; i < kSeries; ++i) {
      const model::Labels ls = L({{"__name__", "hostile"}, {"id", absl::StrCat(i)}});
      for (int64_t t = kBase; t <= kBase + kHour; t += 20 * 60 * 1000) {
        ASSERT_TRUE(app->Append(ls, t, i % 1000 + t / 1000.0).ok());
      }
      if (i % 50000 == 49999) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE((*db)->CompactHead(kBase, kBase + 2 * kHour).ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  int port = 0;
  vigil_ = testing::StartVigil(VIGIL_BINARY, {"--data_dir=" + root_, "--retention_time=0"}, &port);
  ASSERT_GT(port, 0) << vigil_.log;
  const int64_t before = PeakRssKiB(vigil_.pid);

  // 3601 steps x 200k series of count_values: ~720M samples against the
  // default limit of 50M.
  const std::vector<std::pair<std::string, std::string>> range = {
      {"query", "count_values(\"v\", hostile)"},
      {"start", testing::ApiTime(kBase)},
      {"end", testing::ApiTime(kBase + kHour)},
      {"step", "1"}};
  Reply r = Ask(port, "/api/v1/query_range", range, root_ + "/r.json");
  EXPECT_EQ(r.code, 422) << r.body.substr(0, 300);
  EXPECT_EQ(r.error_type, "execution");
  EXPECT_EQ(r.error, "query processing would load too many samples into memory in query execution");
  const int64_t peak = PeakRssKiB(vigil_.pid);
  std::printf("peak RSS: %lld KiB before the query, %lld KiB after\n",
              static_cast<long long>(before), static_cast<long long>(peak));
  // 50M samples are at most 800 MB of points; far from what 720M would take.
  EXPECT_LT(peak, 2 * 1024 * 1024) << "KiB";

  // The same query with a 50 ms timeout stops on the timeout.
  std::vector<std::pair<std::string, std::string>> timed = range;
  timed.emplace_back("timeout", "50ms");
  r = Ask(port, "/api/v1/query_range", timed, root_ + "/r.json");
  EXPECT_EQ(r.code, 503) << r.body.substr(0, 300);
  EXPECT_EQ(r.error_type, "timeout");
  EXPECT_EQ(r.error, "query timed out in query execution");

  // Still healthy, and the next query is answered.
  absl::StatusOr<std::string> healthy = testing::HttpGet(port, "/-/healthy");
  EXPECT_TRUE(healthy.ok());
  r = Ask(port, "/api/v1/query",
          {{"query", "count(hostile)"}, {"time", testing::ApiTime(kBase + kHour)}},
          root_ + "/r.json");
  EXPECT_EQ(r.code, 200) << r.body;
  EXPECT_NE(r.body.find(absl::StrCat("\"", kSeries, "\"")), std::string::npos) << r.body;
}

}  // namespace
}  // namespace vigil
