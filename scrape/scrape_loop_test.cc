#include "scrape/scrape_loop.h"

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/value.h"
#include "tsdb/db.h"
#include "tsdb/test_util.h"

namespace vigil::scrape {
namespace {

using ::testing::HasSubstr;
using tsdb::Eq;

constexpr absl::string_view kText = "text/plain; version=0.0.4";

class ScrapeLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
  }
  void TearDown() override {
    loop_.reset();
  }

  // A loop for target 127.0.0.1:9 of job "j" with `cfg` tweaks applied.
  void MakeLoop(const config::ScrapeConfig& cfg,
                std::vector<config::RelabelConfig> metric_relabel = {}) {
    auto job = std::make_shared<JobState>();
    job->config = cfg;
    job->config.job_name = "j";
    job->config.metric_relabel_configs = metric_relabel;
    auto mr = Relabeler::Compile(metric_relabel);
    ASSERT_TRUE(mr.ok()) << mr.status();
    job->metric_relabel = *std::move(mr);
    TargetSpec spec;
    spec.labels = model::Labels::FromPairs({{"job", "j"}, {"instance", "127.0.0.1:9"}});
    spec.full = spec.labels;
    spec.url = "http://127.0.0.1:9/metrics";
    spec.interval = absl::Seconds(15);
    spec.timeout = absl::Seconds(10);
    tsdb::DB* db = db_.get();
    loop_ = std::make_unique<ScrapeLoop>(std::move(job), spec, [db] { return db->Appender(); });
  }

  // Series text -> samples for metric `name`.
  tsdb::SeriesSamples Get(absl::string_view name) {
    auto q = db_->Querier();
    return tsdb::SelectAll(q.get(), {Eq("__name__", name)});
  }
  double Last(absl::string_view name) {
    auto s = Get(name);
    EXPECT_EQ(s.size(), 1u) << name;
    if (s.empty() || s.begin()->second.empty()) return -1;
    return s.begin()->second.back().v;
  }

  absl::Time T(int sec) { return absl::FromUnixSeconds(1700000000 + sec); }
  int64_t Ms(int sec) { return absl::ToUnixMillis(T(sec)); }

  tsdb::TempDb db_{"scrape_loop_test"};
  std::unique_ptr<ScrapeLoop> loop_;
};

TEST_F(ScrapeLoopTest, AppendsSamplesWithTargetLabelsAndReport) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "# TYPE a counter\na_total 1\nb{x=\"y\"} 2\n", T(0),
                                 absl::Milliseconds(5))
                  .ok());
  auto a = Get("a_total");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a.begin()->first, "{__name__=\"a_total\", instance=\"127.0.0.1:9\", job=\"j\"}");
  EXPECT_EQ(a.begin()->second[0].t, Ms(0));
  EXPECT_EQ(Get("b").begin()->first,
            "{__name__=\"b\", instance=\"127.0.0.1:9\", job=\"j\", x=\"y\"}");
  EXPECT_EQ(Last("up"), 1);
  EXPECT_DOUBLE_EQ(Last("scrape_duration_seconds"), 0.005);
  EXPECT_EQ(Last("scrape_samples_scraped"), 2);
  EXPECT_EQ(Last("scrape_samples_post_metric_relabeling"), 2);
  EXPECT_EQ(Last("scrape_series_added"), 2);
  EXPECT_EQ(loop_->Status().health, TargetHealth::kUp);
}

TEST_F(ScrapeLoopTest, SecondScrapeHitsTheCache) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nb 2\n", T(0), absl::Milliseconds(1)).ok());
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 3\nb 4\n", T(15), absl::Milliseconds(1)).ok());
  EXPECT_EQ(loop_->last_counts().series_added, 0);
  EXPECT_EQ(loop_->cache_size(), 2u);
  auto a = Get("a");
  ASSERT_EQ(a.begin()->second.size(), 2u);
  EXPECT_EQ(a.begin()->second[1].v, 3);
  EXPECT_EQ(Last("scrape_series_added"), 0);
}

TEST_F(ScrapeLoopTest, VanishedSeriesGetsStaleMarker) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nb 2\n", T(0), absl::Milliseconds(1)).ok());
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 3\n", T(15), absl::Milliseconds(1)).ok());
  auto b = Get("b");
  ASSERT_EQ(b.begin()->second.size(), 2u);
  EXPECT_TRUE(model::IsStaleNaN(b.begin()->second[1].v));
  EXPECT_EQ(b.begin()->second[1].t, Ms(15));
  EXPECT_FALSE(model::IsStaleNaN(Get("a").begin()->second[1].v));
  EXPECT_EQ(loop_->cache_size(), 1u);
}

TEST_F(ScrapeLoopTest, PageChangingShapeBetweenScrapes) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nb 2\nc 3\n", T(0), absl::Milliseconds(1)).ok());
  // A series in the middle shifts every later position.
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nx 5\nb 2\nc 3\n", T(15), absl::Milliseconds(1)).ok());
  EXPECT_EQ(loop_->last_counts().series_added, 1);
  for (absl::string_view name : {"a", "b", "c"}) {
    auto s = Get(name);
    ASSERT_EQ(s.begin()->second.size(), 2u) << name;
    EXPECT_FALSE(model::IsStaleNaN(s.begin()->second[1].v)) << name;
  }
  // Same shape again: the fast path.
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nx 6\nb 2\nc 4\n", T(30), absl::Milliseconds(1)).ok());
  EXPECT_EQ(Get("c").begin()->second.back().v, 4);
  EXPECT_EQ(Get("x").begin()->second.back().v, 6);
  // Two series gone, order kept.
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nc 5\n", T(45), absl::Milliseconds(1)).ok());
  EXPECT_TRUE(model::IsStaleNaN(Get("b").begin()->second.back().v));
  EXPECT_TRUE(model::IsStaleNaN(Get("x").begin()->second.back().v));
  EXPECT_EQ(Get("c").begin()->second.back().v, 5);
  EXPECT_EQ(loop_->cache_size(), 2u);
  // Reordered page of the same series: nothing stale, values follow names.
  ASSERT_TRUE(loop_->ProcessBody(kText, "c 6\na 2\n", T(60), absl::Milliseconds(1)).ok());
  EXPECT_EQ(Get("c").begin()->second.back().v, 6);
  EXPECT_EQ(Get("a").begin()->second.back().v, 2);
}

TEST_F(ScrapeLoopTest, ParseErrorFailsWholeScrapeAndEndsSeries) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\n", T(0), absl::Milliseconds(1)).ok());
  absl::Status s = loop_->ProcessBody(kText, "a 2\nc 3\n{garbage\n", T(15), absl::Milliseconds(1));
  EXPECT_FALSE(s.ok());
  auto a = Get("a");
  ASSERT_EQ(a.begin()->second.size(), 2u);
  EXPECT_TRUE(model::IsStaleNaN(a.begin()->second[1].v));
  EXPECT_TRUE(Get("c").empty());  // Rolled back.
  EXPECT_EQ(Last("up"), 0);
  TargetStatus st = loop_->Status();
  EXPECT_EQ(st.health, TargetHealth::kDown);
  EXPECT_EQ(st.last_error, std::string(s.message()));
}

TEST_F(ScrapeLoopTest, HttpErrorStatus) {
  MakeLoop({});
  HttpClient::Response r;
  r.status = 500;
  absl::Status s = loop_->Process(r, T(0), absl::Milliseconds(1));
  EXPECT_EQ(s.message(), "server returned HTTP status 500 Internal Server Error");
  EXPECT_EQ(Last("up"), 0);
  EXPECT_EQ(Last("scrape_samples_scraped"), 0);
}

TEST_F(ScrapeLoopTest, FetchErrorIsTheTargetsLastError) {
  MakeLoop({});
  absl::Status s = loop_->Process(
      absl::DeadlineExceededError("Get \"http://127.0.0.1:9/metrics\": context deadline exceeded"),
      T(0), absl::Seconds(10));
  EXPECT_EQ(loop_->Status().last_error,
            "Get \"http://127.0.0.1:9/metrics\": context deadline exceeded");
  EXPECT_EQ(Last("up"), 0);
}

TEST_F(ScrapeLoopTest, ConflictingLabelsGetExportedPrefix) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "a{job=\"app\",exported_job=\"z\"} 1\n", T(0),
                                 absl::Milliseconds(1))
                  .ok());
  EXPECT_EQ(Get("a").begin()->first,
            "{__name__=\"a\", exported_exported_job=\"app\", exported_job=\"z\", "
            "instance=\"127.0.0.1:9\", job=\"j\"}");
}

TEST_F(ScrapeLoopTest, HonorLabelsKeepsScrapedValues) {
  config::ScrapeConfig cfg;
  cfg.honor_labels = true;
  MakeLoop(cfg);
  ASSERT_TRUE(loop_->ProcessBody(kText, "a{job=\"app\"} 1\n", T(0), absl::Milliseconds(1)).ok());
  EXPECT_EQ(Get("a").begin()->first, "{__name__=\"a\", instance=\"127.0.0.1:9\", job=\"app\"}");
}

TEST_F(ScrapeLoopTest, HonorTimestamps) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, absl::StrCat("a 1 ", Ms(-5), "\n"), T(0),
                                 absl::Milliseconds(1))
                  .ok());
  EXPECT_EQ(Get("a").begin()->second[0].t, Ms(-5));
  config::ScrapeConfig cfg;
  cfg.honor_timestamps = false;
  MakeLoop(cfg);
  ASSERT_TRUE(loop_->ProcessBody(kText, absl::StrCat("b 1 ", Ms(-5), "\n"), T(0),
                                 absl::Milliseconds(1))
                  .ok());
  EXPECT_EQ(Get("b").begin()->second[0].t, Ms(0));
}

TEST_F(ScrapeLoopTest, SampleLimitFailsTheScrape) {
  config::ScrapeConfig cfg;
  cfg.sample_limit = 2;
  MakeLoop(cfg);
  absl::Status s = loop_->ProcessBody(kText, "a 1\nb 1\nc 1\n", T(0), absl::Milliseconds(1));
  EXPECT_EQ(s.message(), "sample limit exceeded");
  EXPECT_TRUE(Get("a").empty());
  EXPECT_EQ(Last("up"), 0);
  EXPECT_EQ(Last("scrape_samples_scraped"), 3);
}

TEST_F(ScrapeLoopTest, LabelLimits) {
  config::ScrapeConfig cfg;
  cfg.label_limit = 3;
  MakeLoop(cfg);
  absl::Status s = loop_->ProcessBody(kText, "a{x=\"1\"} 1\n", T(0), absl::Milliseconds(1));
  EXPECT_EQ(s.message(), "label_limit exceeded (metric: a, number of labels: 4, limit: 3)");
  cfg = {};
  cfg.label_value_length_limit = 4;
  MakeLoop(cfg);
  s = loop_->ProcessBody(kText, "a{x=\"12345\"} 1\n", T(0), absl::Milliseconds(1));
  EXPECT_THAT(s.message(), HasSubstr("label_value_length_limit exceeded"));
  cfg = {};
  cfg.label_name_length_limit = 4;
  MakeLoop(cfg);
  s = loop_->ProcessBody(kText, "a{xxxxx=\"1\"} 1\n", T(0), absl::Milliseconds(1));
  EXPECT_THAT(s.message(), HasSubstr("label_name_length_limit exceeded"));
}

TEST_F(ScrapeLoopTest, MetricRelabelingDrops) {
  config::RelabelConfig drop;
  drop.source_labels = {"__name__"};
  drop.regex = "b.*";
  drop.action = config::RelabelAction::kDrop;
  MakeLoop({}, {drop});
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nbb 2\n", T(0), absl::Milliseconds(1)).ok());
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\nbb 2\n", T(15), absl::Milliseconds(1)).ok());
  EXPECT_TRUE(Get("bb").empty());
  EXPECT_EQ(Get("scrape_samples_scraped").begin()->second.back().v, 2);
  EXPECT_EQ(Get("scrape_samples_post_metric_relabeling").begin()->second.back().v, 1);
}

TEST_F(ScrapeLoopTest, StopEndsEverySeries) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "a 1\n", T(0), absl::Milliseconds(1)).ok());
  loop_->Stop(T(5));
  for (absl::string_view name : {"a", "up", "scrape_duration_seconds", "scrape_series_added"}) {
    auto s = Get(name);
    ASSERT_EQ(s.size(), 1u) << name;
    EXPECT_TRUE(model::IsStaleNaN(s.begin()->second.back().v)) << name;
    EXPECT_EQ(s.begin()->second.back().t, Ms(5)) << name;
  }
}

TEST_F(ScrapeLoopTest, OutOfOrderSamplesAreSkippedNotFatal) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, absl::StrCat("a 1 ", Ms(10), "\n"), T(0),
                                 absl::Milliseconds(1))
                  .ok());
  absl::Status s = loop_->ProcessBody(kText, absl::StrCat("a 2 ", Ms(5), "\nb 1\n"), T(15),
                                      absl::Milliseconds(1));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(loop_->last_counts().out_of_order, 1);
  EXPECT_EQ(Get("b").size(), 1u);
  // Still exposed: no stale marker for a.
  EXPECT_EQ(Get("a").begin()->second.size(), 1u);
}

TEST_F(ScrapeLoopTest, MetadataOfTheLastScrape) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody(kText, "# HELP a Things.\n# TYPE a counter\na 1\n", T(0),
                                 absl::Milliseconds(1))
                  .ok());
  auto md = loop_->Metadata();
  ASSERT_EQ(md.size(), 1u);
  EXPECT_EQ(md[0].metric, "a");
  EXPECT_EQ(md[0].type, MetricType::kCounter);
  EXPECT_EQ(md[0].help, "Things.");
}

TEST_F(ScrapeLoopTest, OpenMetricsBody) {
  MakeLoop({});
  ASSERT_TRUE(loop_->ProcessBody("application/openmetrics-text; version=1.0.0",
                                 "# TYPE a_seconds counter\n# UNIT a_seconds seconds\na_seconds_total 1\n# EOF\n", T(0),
                                 absl::Milliseconds(1))
                  .ok());
  EXPECT_EQ(Last("a_seconds_total"), 1);
  auto md = loop_->Metadata();
  ASSERT_EQ(md.size(), 1u);
  EXPECT_EQ(md[0].unit, "seconds");
}

TEST_F(ScrapeLoopTest, RequestNegotiatesOpenMetrics) {
  MakeLoop({});
  HttpClient::Request r = loop_->MakeRequest();
  EXPECT_EQ(r.url, "http://127.0.0.1:9/metrics");
  ASSERT_GE(r.headers.size(), 2u);
  EXPECT_THAT(r.headers[0].second, HasSubstr("application/openmetrics-text;version=1.0.0"));
  EXPECT_EQ(r.headers[1].first, "X-Prometheus-Scrape-Timeout-Seconds");
  EXPECT_EQ(r.headers[1].second, "10");
}

}  // namespace
}  // namespace vigil::scrape
