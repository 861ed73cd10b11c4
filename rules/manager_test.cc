// RuleManager against a real tsdb::DB: loading (globs, errors), scheduling
// (stable offsets, no overlap, missed iterations) and reload semantics.
#include "rules/manager.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "model/labels.h"
#include "tsdb/db.h"
#include "tsdb/test_util.h"

namespace vigil::rules {
namespace {

class RuleManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(db_.ok()); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = absl::StrCat(db_.dir(), "/", name);
    EXPECT_TRUE(WriteFileAtomic(path, text).ok());
    return path;
  }
  RuleManagerOptions Options() {
    tsdb::DB* d = db_.get();
    RuleManagerOptions o;
    o.appender = [d] { return d->Appender(); };
    o.querier = [d] { return d->Querier(); };
    return o;
  }
  // Waits until `done` holds, for at most `timeout`.
  static bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }
  static int64_t Iterations(const RuleManager& m, size_t i) {
    std::vector<GroupSnapshot> g = m.Groups();
    return i < g.size() ? g[i].iterations : -1;
  }

  tsdb::TempDb db_{"rule_manager_test"};
};

TEST_F(RuleManagerTest, GlobLoadsFilesInOrderAndGroupsRun) {
  Write("b.rules.yml", "groups:\n- name: gb\n  rules:\n  - record: rb\n    expr: vector(2)\n");
  Write("a.rules.yml", "groups:\n- name: ga\n  interval: 100ms\n  rules:\n"
                       "  - record: ra\n    expr: vector(1)\n");
  RuleManager m(Options());
  ASSERT_TRUE(m.ApplyConfig({db_.dir() + "/*.rules.yml", db_.dir() + "/none-*.yml"},
                            absl::Seconds(30), model::Labels())
                  .ok());
  std::vector<GroupSnapshot> g = m.Groups();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].name, "ga");
  EXPECT_EQ(g[0].file, db_.dir() + "/a.rules.yml");
  EXPECT_EQ(g[0].interval, absl::Milliseconds(100));
  EXPECT_EQ(g[1].name, "gb");
  EXPECT_EQ(g[1].interval, absl::Seconds(30));  // The default.
  ASSERT_EQ(g[0].rules.size(), 1u);
  EXPECT_EQ(g[0].rules[0].query, "vector(1)");
  EXPECT_FALSE(g[0].rules[0].alerting);

  ASSERT_TRUE(WaitFor([&] { return Iterations(m, 0) >= 3; }, absl::Seconds(10)));
  // Evaluation times are slots at one stable offset within the interval.
  g = m.Groups();
  const int64_t t = absl::ToUnixMillis(g[0].status.last_eval_time);
  ASSERT_TRUE(WaitFor([&] { return Iterations(m, 0) >= 5; }, absl::Seconds(10)));
  const int64_t t2 = absl::ToUnixMillis(m.Groups()[0].status.last_eval_time);
  EXPECT_GT(t2, t);
  EXPECT_EQ((t2 - t) % 100, 0);
  EXPECT_EQ(m.Groups()[0].rules[0].status.health, RuleHealth::kGood);
  m.Stop();
}

TEST_F(RuleManagerTest, InvalidFileFailsWithFileAndLineAndKeepsGroups) {
  const std::string good = Write("good.yml", "groups:\n- name: g\n  rules:\n"
                                             "  - record: r\n    expr: vector(1)\n");
  RuleManager m(Options());
  ASSERT_TRUE(m.ApplyConfig({good}, absl::Seconds(1), model::Labels()).ok());
  const std::string bad = Write("bad.yml", "groups:\n- name: h\n  rules:\n"
                                           "  - record: r\n    expr: sum(\n");
  absl::Status s = m.ApplyConfig({good, bad}, absl::Seconds(1), model::Labels());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), bad + ":5:")) << s;
  std::vector<GroupSnapshot> g = m.Groups();
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].name, "g");
}

TEST_F(RuleManagerTest, OverrunSkipsSlotsAndNeverOverlaps) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  RuleManagerOptions o = Options();
  o.eval_threads = 4;
  tsdb::DB* d = db_.get();
  o.querier = [d, &in_flight, &max_in_flight] {
    const int n = ++in_flight;
    int m = max_in_flight.load();
    while (n > m && !max_in_flight.compare_exchange_weak(m, n)) {
    }
    absl::SleepFor(absl::Milliseconds(250));  // Longer than the interval.
    --in_flight;
    return d->Querier();
  };
  const std::string f = Write("slow.yml", "groups:\n- name: slow\n  interval: 100ms\n  rules:\n"
                                          "  - record: r\n    expr: vector(1)\n");
  RuleManager m(o);
  ASSERT_TRUE(m.ApplyConfig({f}, absl::Seconds(1), model::Labels()).ok());
  ASSERT_TRUE(WaitFor([&] { return Iterations(m, 0) >= 3; }, absl::Seconds(10)));
  m.Stop();
  EXPECT_EQ(max_in_flight.load(), 1);
  EXPECT_GE(m.Groups()[0].missed, 2);
}

TEST_F(RuleManagerTest, ReloadKeepsUnchangedGroupsAndRestartsChangedOnes) {
  // for: 1m, below the grace period: no restoring of `for` state.
  const std::string alert = "  - alert: A\n    expr: vector(1)\n    for: 1m\n";
  const std::string alert_b = "  - alert: B\n    expr: vector(1)\n    for: 1m\n";
  const std::string f1 = Write("one.yml", "groups:\n- name: g\n  interval: 50ms\n  rules:\n" + alert);
  const std::string f2 = Write("two.yml", "groups:\n- name: h\n  interval: 50ms\n  rules:\n" + alert_b);
  RuleManager m(Options());
  ASSERT_TRUE(m.ApplyConfig({f1, f2}, absl::Seconds(1), model::Labels()).ok());
  auto active_at = [&](size_t i) {
    std::vector<GroupSnapshot> g = m.Groups();
    if (i >= g.size() || g[i].rules.empty() || g[i].rules[0].alerts.empty()) {
      return absl::InfinitePast();
    }
    return g[i].rules[0].alerts[0].active_at;
  };
  ASSERT_TRUE(WaitFor([&] { return active_at(0) != absl::InfinitePast() &&
                                   active_at(1) != absl::InfinitePast(); },
                      absl::Seconds(10)));
  const absl::Time g_at = active_at(0);
  const absl::Time h_at = active_at(1);
  absl::SleepFor(absl::Milliseconds(120));  // Let later slots pass.
  // Same content for g; h gets a label.
  Write("two.yml", "groups:\n- name: h\n  interval: 50ms\n  rules:\n" + alert_b +
                       "    labels: {x: y}\n");
  ASSERT_TRUE(m.ApplyConfig({f1, f2}, absl::Seconds(1), model::Labels()).ok());
  EXPECT_EQ(active_at(0), g_at);
  ASSERT_TRUE(WaitFor([&] { return active_at(1) != absl::InfinitePast(); }, absl::Seconds(10)));
  EXPECT_GT(active_at(1), h_at);
  EXPECT_EQ(active_at(0), g_at);
}

}  // namespace
}  // namespace vigil::rules
