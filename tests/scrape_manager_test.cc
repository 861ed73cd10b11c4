// The scrape manager against a real exporter (api::HttpServer on
// 127.0.0.1) and a real database: loops of unchanged jobs survive a
// reload, changed jobs get new loops, removed targets end their series,
// target_limit fails a job's scrapes, dropped targets are listed, file SD
// changes start and stop loops.
#include "scrape/manager.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/http_server.h"
#include "base/file.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "model/value.h"
#include "tsdb/db.h"
#include "tsdb/test_util.h"

namespace vigil::scrape {
namespace {

// Polls `done` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

class ScrapeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());

    api::HttpServerOptions so;
    so.listen = "127.0.0.1:0";
    server_ = std::make_unique<api::HttpServer>(so);
    server_->Handle("GET", "/metrics", [this](const api::HttpRequest&, api::HttpResponse* r) {
      absl::MutexLock l(&mu_);
      r->body = page_;
    });
    ASSERT_TRUE(server_->Start().ok());

    ManagerOptions mo;
    tsdb::DB* d = db_.get();
    mo.appender = [d] { return d->Appender(); };
    manager_ = std::make_unique<Manager>(mo);
  }
  void TearDown() override {
    manager_->Stop();
    server_->Shutdown(absl::ZeroDuration());
  }

  void SetPage(std::string page) {
    absl::MutexLock l(&mu_);
    page_ = std::move(page);
  }
  std::string Target() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  absl::Status Apply(const std::string& yaml) {
    absl::StatusOr<config::Config> c = config::ParseConfig(yaml, "test.yml");
    if (!c.ok()) return c.status();
    return manager_->ApplyConfig(c->scrapes);
  }
  std::string Job(const std::string& name, const std::string& extra = "") {
    return absl::StrCat("  - job_name: ", name, "\n    scrape_interval: 100ms\n",
                        "    scrape_timeout: 100ms\n", extra, "    static_configs:\n",
                        "      - targets: ['", Target(), "']\n");
  }
  std::optional<TargetStatus> Find(const std::string& job) {
    for (TargetStatus& t : manager_->ActiveTargets()) {
      if (t.job == job) return t;
    }
    return std::nullopt;
  }
  bool Scraped(const std::string& job) {
    std::optional<TargetStatus> t = Find(job);
    return t.has_value() && t->health == TargetHealth::kUp;
  }
  tsdb::SeriesSamples Get(absl::string_view name) {
    auto q = db_->Querier();
    return tsdb::SelectAll(q.get(), {tsdb::Eq("__name__", name)});
  }

  tsdb::TempDb db_{"scrape_manager_test"};
  std::unique_ptr<api::HttpServer> server_;
  std::unique_ptr<Manager> manager_;
  absl::Mutex mu_;
  std::string page_ = "a 1\n";
};

TEST_F(ScrapeManagerTest, UnchangedJobKeepsItsLoopAcrossReload) {
  const std::string cfg = "scrape_configs:\n" + Job("keep") + Job("change");
  ASSERT_TRUE(Apply(cfg).ok());
  ASSERT_TRUE(WaitFor([&] { return Find("keep")->scrapes >= 8 && Find("change")->scrapes >= 8; }));
  const int64_t keep_before = Find("keep")->scrapes;
  // Same "keep", different "change": only "change" starts over.
  ASSERT_TRUE(Apply("scrape_configs:\n" + Job("keep") +
                    Job("change", "    honor_labels: true\n"))
                  .ok());
  EXPECT_GE(Find("keep")->scrapes, keep_before);
  EXPECT_LT(Find("change")->scrapes, 4);
  EXPECT_TRUE(WaitFor([&] { return Scraped("change"); }));
}

TEST_F(ScrapeManagerTest, RemovedJobEndsItsSeries) {
  ASSERT_TRUE(Apply("scrape_configs:\n" + Job("one") + Job("two")).ok());
  ASSERT_TRUE(WaitFor([&] { return Scraped("one") && Scraped("two"); }));
  ASSERT_TRUE(Apply("scrape_configs:\n" + Job("one")).ok());
  EXPECT_FALSE(Find("two").has_value());
  // Stale markers are written off the caller's thread.
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& [labels, samples] : Get("up")) {
      if (labels.find("job=\"two\"") != std::string::npos && !samples.empty() &&
          model::IsStaleNaN(samples.back().v)) {
        return true;
      }
    }
    return false;
  }));
}

TEST_F(ScrapeManagerTest, TargetLimitFailsEveryScrapeOfTheJob) {
  ASSERT_TRUE(Apply(absl::StrCat("scrape_configs:\n  - job_name: lim\n    scrape_interval: 100ms\n",
                                 "    scrape_timeout: 100ms\n    target_limit: 1\n",
                                 "    static_configs:\n      - targets: ['", Target(),
                                 "', 'localhost:", server_->port(), "']\n"))
                  .ok());
  ASSERT_TRUE(WaitFor([&] {
    auto ts = manager_->ActiveTargets();
    if (ts.size() != 2) return false;
    for (const TargetStatus& t : ts) {
      if (t.health != TargetHealth::kDown) return false;
    }
    return true;
  }));
  for (const TargetStatus& t : manager_->ActiveTargets()) {
    EXPECT_EQ(t.last_error, "target_limit exceeded (number of targets: 2, limit: 1)");
  }
}

TEST_F(ScrapeManagerTest, DroppedTargetsAreListed) {
  ASSERT_TRUE(Apply("scrape_configs:\n" +
                    Job("drop", "    relabel_configs:\n      - action: drop\n"
                                "        source_labels: [job]\n        regex: drop\n"))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->DroppedTargets().size() == 1; }));
  EXPECT_TRUE(manager_->ActiveTargets().empty());
  EXPECT_EQ(manager_->DroppedTargets()[0].discovered.Get("__address__"), Target());
}

TEST_F(ScrapeManagerTest, FileSdChangesStartAndStopLoops) {
  const std::string sd = db_.dir() + "/targets.json";
  ASSERT_TRUE(WriteFileAtomic(sd, absl::StrCat("[{\"targets\": [\"", Target(),
                                               "\"], \"labels\": {\"team\": \"x\"}}]"))
                  .ok());
  ASSERT_TRUE(Apply(absl::StrCat("scrape_configs:\n  - job_name: fsd\n",
                                 "    scrape_interval: 100ms\n    scrape_timeout: 100ms\n",
                                 "    file_sd_configs:\n      - files: ['", sd, "']\n"))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Scraped("fsd"); }));
  EXPECT_EQ(Find("fsd")->spec.labels.Get("team"), "x");
  EXPECT_EQ(Find("fsd")->spec.discovered.Get("__meta_filepath"), sd);
  ASSERT_TRUE(WriteFileAtomic(sd, "[]").ok());
  ASSERT_TRUE(WaitFor([&] { return !Find("fsd").has_value(); }));
}

TEST_F(ScrapeManagerTest, VanishedSeriesIsMarkedStale) {
  SetPage("a 1\nb 2\n");
  ASSERT_TRUE(Apply("scrape_configs:\n" + Job("app")).ok());
  ASSERT_TRUE(WaitFor([&] { return !Get("b").empty(); }));
  SetPage("a 1\n");
  ASSERT_TRUE(WaitFor([&] {
    auto b = Get("b");
    return !b.empty() && model::IsStaleNaN(b.begin()->second.back().v);
  }));
  EXPECT_FALSE(model::IsStaleNaN(Get("a").begin()->second.back().v));
}

}  // namespace
}  // namespace vigil::scrape
