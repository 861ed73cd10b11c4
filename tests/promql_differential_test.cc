// PromQL differential test: the same blocks served by Vigil and by
// Prometheus 2.42, a few hundred generated queries (every function,
// aggregation and operator, with offsets, @ and subqueries) run as range
// queries on both; the answers must match (labels exactly, values to a
// relative 1e-6, NaN equal, errors of the same type).
//
// The data (counters with resets, gauges with NaN, classic histograms,
// series that appear and end with stale markers) is written through Vigil's
// storage API, cut into blocks, and the blocks are copied for Prometheus.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "model/value.h"
#include "tests/prometheus_api.h"
#include "tests/sample_dataset.h"
#include "tests/vigil_process.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

using testing::Dataset;
using testing::Proc;

constexpr int64_t kBase = 1700000000000;  // ms, 2h-aligned below.
constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kScrape = 15 * 1000;
constexpr int64_t kSpan = 6 * kHour;
constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(30);

int64_t Base() { return kBase - kBase % (2 * kHour); }

model::Labels L(const std::vector<std::pair<std::string, std::string>>& pairs) {
  return testing::LabelsOf(pairs);
}

// Writes the dataset through the storage API and cuts it into 2h blocks.
absl::Status WriteData(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(testing::ManualOptions(dir));
  if (!db.ok()) return db.status();
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  std::unique_ptr<tsdb::Appender> app = (*db)->Appender();
  const int64_t base = Base();
  auto add = [&](const model::Labels& ls, int64_t t, double v) -> absl::Status {
    return app->Append(ls, t, v).status();
  };
  double counters[8] = {0};
  double temps[3] = {20, 21, 22};
  const double les[] = {0.1, 0.5, 1, 2.5};
  double buckets[5] = {0}, hsum = 0;
  for (int64_t t = base; t < base + kSpan; t += kScrape) {
    const int64_t step = (t - base) / kScrape;
    int c = 0;
    for (const char* job : {"api", "web"}) {
      for (const char* inst : {"a", "b"}) {
        for (const char* code : {"200", "500"}) {
          double inc = std::floor(u(rng) * (code[0] == '2' ? 20 : 3));
          counters[c] += inc;
          // A counter reset now and then.
          if (step % 397 == 396 && c % 3 == 0) counters[c] = inc;
          absl::Status s = add(L({{"__name__", "http_requests_total"}, {"job", job},
                                  {"instance", inst}, {"code", code}}),
                               t, counters[c]);
          if (!s.ok()) return s;
          ++c;
        }
        absl::Status s = add(L({{"__name__", "up"}, {"job", job}, {"instance", inst}}), t,
                             step % 53 == 7 ? 0 : 1);
        if (!s.ok()) return s;
      }
    }
    for (int r = 0; r < 3; ++r) {
      temps[r] += (u(rng) - 0.5) * 0.8;
      double v = temps[r];
      if (r == 2 && step % 101 == 50) v = std::nan("");
      absl::Status s = add(L({{"__name__", "temp_celsius"}, {"room", std::string(1, "klm"[r])}}), t, v);
      if (!s.ok()) return s;
    }
    // A classic histogram.
    const int n = static_cast<int>(u(rng) * 10);
    for (int i = 0; i < n; ++i) {
      const double obs = -std::log(1 - u(rng)) * 0.6;
      hsum += obs;
      for (int b = 0; b < 4; ++b) {
        if (obs <= les[b]) buckets[b] += 1;
      }
      buckets[4] += 1;
    }
    for (int b = 0; b < 5; ++b) {
      const std::string le = b < 4 ? absl::StrCat(les[b]) : "+Inf";
      absl::Status s = add(
          L({{"__name__", "req_duration_seconds_bucket"}, {"job", "api"}, {"le", le}}), t,
          buckets[b]);
      if (!s.ok()) return s;
    }
    absl::Status s = add(L({{"__name__", "req_duration_seconds_sum"}, {"job", "api"}}), t, hsum);
    if (!s.ok()) return s;
    s = add(L({{"__name__", "req_duration_seconds_count"}, {"job", "api"}}), t, buckets[4]);
    if (!s.ok()) return s;
    // Series that come and go, ending with a stale marker.
    for (int id = 0; id < 4; ++id) {
      const int64_t from = base + id * 80 * 60 * 1000, to = from + 100 * 60 * 1000;
      const model::Labels ls = L({{"__name__", "churn_items"}, {"id", std::to_string(id)}});
      if (t >= from && t < to) {
        s = add(ls, t, static_cast<double>(step % 17) + id);
      } else if (t == to) {
        s = add(ls, t, model::StaleNaN());
      }
      if (!s.ok()) return s;
    }
    if (step % 200 == 199) {
      if (absl::Status cs = app->Commit(); !cs.ok()) return cs;
    }
  }
  if (absl::Status s = app->Commit(); !s.ok()) return s;
  for (int64_t t = base; t < base + kSpan; t += 2 * kHour) {
    if (absl::Status s = (*db)->CompactHead(t, t + 2 * kHour); !s.ok()) return s;
  }
  return (*db)->Close();
}

// Every query of the test: selectors, functions, aggregations, operators,
// offsets, @, subqueries.
std::vector<std::string> Queries(int64_t at_ms) {
  const std::string at = testing::ApiTime(at_ms);
  std::vector<std::string> q;
  const std::vector<std::string> counters = {
      "http_requests_total", "http_requests_total{code=\"500\"}",
      "http_requests_total{job=~\"a.*\",instance!=\"b\"}", "req_duration_seconds_count"};
  const std::vector<std::string> gauges = {"temp_celsius", "temp_celsius{room!~\"k\"}", "up",
                                           "churn_items"};
  for (const std::string& s : counters) {
    q.push_back(s);
    for (const char* f : {"rate", "increase", "irate", "resets", "changes", "delta", "idelta",
                          "deriv"}) {
      for (const char* w : {"1m", "5m", "17m"}) q.push_back(absl::StrCat(f, "(", s, "[", w, "])"));
    }
    q.push_back(absl::StrCat("rate(", s, "[5m] offset 10m)"));
    q.push_back(absl::StrCat("rate(", s, "[5m] offset -3m)"));
    q.push_back(absl::StrCat("rate(", s, "[5m] @ ", at, ")"));
    q.push_back(absl::StrCat("increase(", s, "[10m] @ end())"));
    q.push_back(absl::StrCat("sum by (job) (rate(", s, "[5m]))"));
    q.push_back(absl::StrCat("sum without (instance) (rate(", s, "[5m]))"));
  }
  // Many equal values: which survive depends on Prometheus's heap. (Only
  // over range-vector functions, whose output keeps the selector's order:
  // Prometheus 2.42 assembles other nested results from a Go map, so their
  // order, and the winners among equal values, vary from run to run.)
  q.push_back("topk(2, max_over_time(up[5m]))");
  q.push_back("bottomk(3, max_over_time(up[5m]))");
  q.push_back("topk(3, changes(http_requests_total[2m]))");
  q.push_back("bottomk(2, resets(http_requests_total[30m]))");
  // k from a scalar that changes over time, k overflowing int64, and
  // aggregations straight over range functions of a selector matching
  // several names (folded without holding the call's output when the name
  // is fixed).
  q.push_back("topk(scalar(count(up)) - 1, rate(http_requests_total[5m]))");
  q.push_back("bottomk(1e20, rate(http_requests_total[5m]))");
  q.push_back("max by (job) (rate({__name__=~\"http_requests_total|up\"}[5m]))");
  q.push_back("stddev without (instance) (deriv(up[10m]))");
  for (const std::string& s : gauges) {
    q.push_back(s);
    q.push_back(s + " offset 7m");
    q.push_back(absl::StrCat(s, " @ ", at));
    q.push_back(s + " @ start()");
    for (const char* f : {"avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
                          "count_over_time", "last_over_time", "stddev_over_time",
                          "stdvar_over_time", "present_over_time", "changes", "deriv"}) {
      for (const char* w : {"2m", "10m"}) q.push_back(absl::StrCat(f, "(", s, "[", w, "])"));
    }
    q.push_back(absl::StrCat("quantile_over_time(0.9, ", s, "[10m])"));
    q.push_back(absl::StrCat("quantile_over_time(0.25, ", s, "[3m])"));
    q.push_back(absl::StrCat("predict_linear(", s, "[10m], 600)"));
    q.push_back(absl::StrCat("holt_winters(", s, "[10m], 0.3, 0.6)"));
    for (const char* f : {"abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "sgn",
                          "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
                          "asinh", "acosh", "atanh", "deg", "rad", "timestamp"}) {
      q.push_back(absl::StrCat(f, "(", s, ")"));
    }
    q.push_back(absl::StrCat("round(", s, ")"));
    q.push_back(absl::StrCat("round(", s, ", 0.25)"));
    q.push_back(absl::StrCat("clamp(", s, ", 20, 21)"));
    q.push_back(absl::StrCat("clamp_min(", s, ", 21)"));
    q.push_back(absl::StrCat("clamp_max(", s, ", 21)"));
    for (const char* a : {"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar"}) {
      q.push_back(absl::StrCat(a, "(", s, ")"));
      q.push_back(absl::StrCat(a, " by (job, room) (", s, ")"));
      q.push_back(absl::StrCat(a, "(", s, ") without (id)"));
    }
    q.push_back(absl::StrCat("topk(2, ", s, ")"));
    q.push_back(absl::StrCat("bottomk(1, ", s, ")"));
    q.push_back(absl::StrCat("quantile(0.3, ", s, ")"));
    q.push_back(absl::StrCat("count_values(\"value\", round(", s, "))"));
    q.push_back(absl::StrCat("-", s));
    q.push_back(absl::StrCat(s, " * 2 - 1"));
    q.push_back(absl::StrCat("2 ^ ", s, " / 1e6"));
    q.push_back(absl::StrCat(s, " % 3"));
    q.push_back(absl::StrCat(s, " atan2 10"));
    q.push_back(absl::StrCat(s, " > 21"));
    q.push_back(absl::StrCat(s, " <= bool 21"));
    q.push_back(absl::StrCat("20 < ", s));
    q.push_back(absl::StrCat("max_over_time(", s, "[30m:1m])"));
    q.push_back(absl::StrCat("avg_over_time(deriv(", s, "[5m])[20m:])"));
    q.push_back(absl::StrCat("min_over_time(", s, "[15m:2m] offset 5m)"));
    q.push_back(absl::StrCat("last_over_time(", s, "[10m:30s] @ ", at, ")"));
    q.push_back(absl::StrCat("absent(", s, ")"));
    q.push_back(absl::StrCat("absent_over_time(", s, "[1m])"));
    q.push_back(absl::StrCat("sort(", s, ")"));
    q.push_back(absl::StrCat("sort_desc(", s, ")"));
    q.push_back(absl::StrCat("scalar(max(", s, "))"));
    q.push_back(absl::StrCat("label_replace(", s, ", \"x\", \"v-$1\", \"__name__\", \"(.*)_.*\")"));
    q.push_back(absl::StrCat("label_join(", s, ", \"x\", \"/\", \"room\", \"job\", \"id\")"));
  }
  // Histograms.
  for (const char* phi : {"0.5", "0.9", "0.99", "0", "1", "-1", "2"}) {
    q.push_back(absl::StrCat("histogram_quantile(", phi,
                             ", rate(req_duration_seconds_bucket[5m]))"));
  }
  q.push_back("histogram_quantile(0.9, sum by (le) (rate(req_duration_seconds_bucket[10m])))");
  q.push_back("histogram_quantile(0.9, req_duration_seconds_bucket)");
  q.push_back("rate(req_duration_seconds_sum[5m]) / rate(req_duration_seconds_count[5m])");
  // Vector matching and set operators.
  q.push_back("http_requests_total / on(job, instance) group_left up");
  q.push_back("up * on(job, instance) group_right http_requests_total");
  q.push_back("sum by (job, instance) (rate(http_requests_total[5m])) / on(job, instance) up");
  q.push_back("rate(http_requests_total{code=\"500\"}[5m]) / ignoring(code) "
              "rate(http_requests_total{code=\"200\"}[5m])");
  q.push_back("http_requests_total > on(job, instance, code) group_left http_requests_total offset 1m");
  q.push_back("up == bool on(job, instance) up offset 5m");
  q.push_back("http_requests_total and up");
  q.push_back("http_requests_total and on(job) up == 0");
  q.push_back("up or temp_celsius");
  q.push_back("http_requests_total unless on(code) http_requests_total{code=\"500\"}");
  q.push_back("churn_items or up");
  q.push_back("churn_items unless churn_items{id=\"1\"}");
  q.push_back("up + ignoring(job) up");  // Many-to-many: an error on both.
  q.push_back("http_requests_total + on(job) up");  // Needs group_left: an error.
  q.push_back("sum(http_requests_total) by (job) + on(job) group_left sum(up) by (job)");
  // Scalars and time.
  for (const char* s : {"1 + 2 * 3", "2 ^ 3 ^ 2", "-2 ^ 2", "1 / 0", "-1 / 0", "0 / 0",
                        "10 % 3", "5 > bool 3", "time()", "pi()", "vector(1)",
                        "vector(time()) - 3", "hour()", "minute()", "day_of_week()",
                        "day_of_month()", "day_of_year()", "month()", "year()",
                        "days_in_month()", "hour(timestamp(up))", "minute(up * 1e9)",
                        "scalar(up)", "count(up) > bool 3", "sum(rate(http_requests_total[5m])) * 60"}) {
    q.push_back(s);
  }
  return q;
}

class PromqlDifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = testing::MissingBinaries({testing::kPrometheus, testing::kCurl, testing::kJq});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/vigil-promql-diff.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    for (Proc* p : {&vigil_, &prometheus_}) {
      if (p->pid > 0) (void)testing::StopProcess(p, SIGTERM, kStopTimeout);
    }
    if (!root_.empty()) (void)RemoveAll(root_);
  }
  std::string root_;
  Proc vigil_, prometheus_;
};

// What a query_range answered: the series, or the error type.
struct Answer {
  bool ok = false;
  std::string error;
  Dataset data;
};

Answer Ask(int port, const std::string& query, int64_t start, int64_t end, int64_t step,
           const std::string& file) {
  Answer a;
  std::string cmd = absl::StrCat(testing::kCurl, " -sSG --max-time 120 -o ", testing::ShellQuote(file),
                                 " --data-urlencode ", testing::ShellQuote("query=" + query),
                                 " --data-urlencode ", testing::ShellQuote("start=" + testing::ApiTime(start)),
                                 " --data-urlencode ", testing::ShellQuote("end=" + testing::ApiTime(end)),
                                 " --data-urlencode ", testing::ShellQuote(absl::StrCat("step=", step / 1000)),
                                 " ", testing::ShellQuote(absl::StrCat("http://127.0.0.1:", port, "/api/v1/query_range")));
  absl::StatusOr<std::string> r = testing::RunShell(cmd);
  if (!r.ok()) {
    a.error = "curl: " + std::string(r.status().message());
    return a;
  }
  absl::StatusOr<std::string> status = testing::Jq(".status + \" \" + (.errorType // \"\")", file);
  if (!status.ok()) {
    a.error = "bad json";
    return a;
  }
  if (*status != "success ") {
    a.error = *status;
    return a;
  }
  absl::StatusOr<std::string> out = testing::Jq(testing::kJqMatrixProgram, file);
  if (!out.ok()) {
    a.error = std::string(out.status().message());
    return a;
  }
  absl::StatusOr<Dataset> d = testing::ParseJqOutput(*out);
  if (!d.ok()) {
    a.error = std::string(d.status().message());
    return a;
  }
  a.ok = true;
  a.data = std::move(*d);
  return a;
}

bool Close(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0) return diff < 1e-12;
  return diff / std::max(std::fabs(a), std::fabs(b)) < 1e-6;
}

// "" when equal; otherwise a short diff.
std::string CompareAnswers(const Dataset& vigil, const Dataset& prom) {
  std::string out;
  for (const auto& [key, pts] : prom) {
    auto it = vigil.find(key);
    if (it == vigil.end()) {
      absl::StrAppend(&out, "  missing in Vigil: ", testing::KeyString(key), " (", pts.size(), " points)\n");
      continue;
    }
    const auto& v = it->second;
    if (v.size() != pts.size()) {
      absl::StrAppend(&out, "  ", testing::KeyString(key), ": ", v.size(), " points in Vigil, ",
                      pts.size(), " in Prometheus\n");
    }
    for (size_t i = 0; i < std::min(v.size(), pts.size()); ++i) {
      if (v[i].t != pts[i].t || !Close(v[i].v, pts[i].v)) {
        absl::StrAppend(&out, "  ", testing::KeyString(key), " @", pts[i].t, ": Vigil ",
                        testing::PointString(v[i]), ", Prometheus ", testing::PointString(pts[i]), "\n");
        break;
      }
    }
  }
  for (const auto& [key, pts] : vigil) {
    if (!prom.contains(key)) {
      absl::StrAppend(&out, "  extra in Vigil: ", testing::KeyString(key), " (", pts.size(), " points)\n");
    }
  }
  return out;
}

TEST_F(PromqlDifferentialTest, SameAnswersAsPrometheus) {
  const std::string vdir = root_ + "/vigil", pdir = root_ + "/prometheus";
  ASSERT_TRUE(WriteData(vdir).ok());
  ASSERT_TRUE(testing::CopyAllBlocks(vdir, pdir).ok());
  ASSERT_TRUE(WriteFileAtomic(root_ + "/prometheus.yml", "global:\n  scrape_interval: 1m\n").ok());
  const int pport = testing::FreePort();
  prometheus_ = testing::StartPrometheus(root_ + "/prometheus.yml", pdir, pport,
                                         {"--storage.tsdb.retention.time=100y"}, kStartTimeout);
  ASSERT_TRUE(testing::PrometheusReady(prometheus_)) << prometheus_.log;
  int vport = 0;
  vigil_ = testing::StartVigil(VIGIL_BINARY, {"--data_dir=" + vdir, "--retention_time=0"}, &vport);
  ASSERT_GT(vport, 0) << vigil_.log;

  const int64_t start = Base() + kHour, end = Base() + kSpan - kHour / 2, step = 60 * 1000;
  const std::vector<std::string> queries = Queries(Base() + 3 * kHour + 7 * 60 * 1000);
  int same = 0, failed = 0, with_data = 0, errors = 0;
  for (const std::string& q : queries) {
    Answer v = Ask(vport, q, start, end, step, root_ + "/v.json");
    Answer p = Ask(pport, q, start, end, step, root_ + "/p.json");
    if (p.ok && !p.data.empty()) ++with_data;
    if (!p.ok) ++errors;
    std::string diff;
    if (v.ok != p.ok) {
      diff = absl::StrCat("  Vigil: ", v.ok ? "ok" : v.error, "; Prometheus: ", p.ok ? "ok" : p.error, "\n");
    } else if (!v.ok) {
      if (v.error != p.error) diff = absl::StrCat("  Vigil error ", v.error, ", Prometheus error ", p.error, "\n");
    } else {
      diff = CompareAnswers(v.data, p.data);
    }
    if (diff.empty()) {
      ++same;
    } else {
      ++failed;
      ADD_FAILURE() << q << "\n" << diff;
    }
  }
  std::printf("%zu queries: %d same, %d different; %d with data, %d errors (in Prometheus)\n",
              queries.size(), same, failed, with_data, errors);
  // The comparison must not be vacuous: most queries return series.
  EXPECT_GE(with_data, 300);

  // A large answer, which Vigil formats while sending it (chunked), is the
  // same as Prometheus's byte for byte.
  const std::string all = "{__name__=~\".+\"}";
  Answer v = Ask(vport, all, start, end, 5000, root_ + "/v.json");
  Answer p = Ask(pport, all, start, end, 5000, root_ + "/p.json");
  ASSERT_TRUE(v.ok && p.ok) << "Vigil: " << v.error << "; Prometheus: " << p.error;
  size_t points = 0;
  for (const auto& [series, pts] : p.data) points += pts.size();
  EXPECT_GE(points, 40000u) << "too small to be streamed";
  EXPECT_EQ(CompareAnswers(v.data, p.data), "");
  absl::StatusOr<std::string> vbody = ReadFile(root_ + "/v.json"), pbody = ReadFile(root_ + "/p.json");
  ASSERT_TRUE(vbody.ok() && pbody.ok());
  EXPECT_TRUE(*vbody == *pbody) << "answers differ in bytes: " << vbody->size() << " vs "
                                << pbody->size();
}

}  // namespace
}  // namespace vigil
