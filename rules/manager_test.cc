// RuleManager against a real tsdb::DB: loading (globs, errors), scheduling
// (stable offsets, no overlap, missed iterations) and reload semantics.
#include "rules/manager.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/synchronization/mutex.h"
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

TEST_F(RuleManagerTest, ReloadOfChangedGroupKeepsTheStateOfRulesStillThere) {
  const std::string alert = "  - alert: A\n    expr: vector(1)\n    for: 1m\n";
  const std::string f = Write("g.yml", "groups:\n- name: g\n  interval: 50ms\n  rules:\n" + alert);
  RuleManager m(Options());
  ASSERT_TRUE(m.ApplyConfig({f}, absl::Seconds(1), model::Labels()).ok());
  auto alert_of = [&](size_t rule) -> std::optional<Alert> {
    std::vector<GroupSnapshot> g = m.Groups();
    if (g.empty() || g[0].rules.size() <= rule || g[0].rules[rule].alerts.empty()) {
      return std::nullopt;
    }
    return g[0].rules[rule].alerts[0];
  };
  ASSERT_TRUE(WaitFor([&] { return alert_of(0).has_value(); }, absl::Seconds(10)));
  const absl::Time at = alert_of(0)->active_at;
  const int64_t iterations = Iterations(m, 0);
  // The group changes (a rule is added before A), A itself does not.
  Write("g.yml", "groups:\n- name: g\n  interval: 50ms\n  rules:\n"
                 "  - record: r\n    expr: vector(2)\n" + alert);
  ASSERT_TRUE(m.ApplyConfig({f}, absl::Seconds(1), model::Labels()).ok());
  ASSERT_EQ(m.Groups()[0].rules.size(), 2u);
  std::optional<Alert> a = alert_of(1);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->active_at, at);
  EXPECT_EQ(a->state, AlertState::kPending);
  EXPECT_GE(Iterations(m, 0), iterations);  // Counters carry over.
  ASSERT_TRUE(WaitFor([&] { return Iterations(m, 0) >= iterations + 2; }, absl::Seconds(10)));
  EXPECT_EQ(alert_of(1)->active_at, at);
  m.Stop();
}

TEST_F(RuleManagerTest, FiringAlertsAreSentWithPrometheusFieldsAndResendDelay) {
  absl::Mutex mu;
  std::vector<alerting::Alert> sent;
  RuleManagerOptions o = Options();
  o.external_url = "http://vigil.example:9090";
  o.resend_delay = absl::Milliseconds(300);
  o.notify = [&](std::vector<alerting::Alert> alerts) {
    absl::MutexLock l(&mu);
    for (alerting::Alert& a : alerts) sent.push_back(std::move(a));
  };
  const std::string f = Write("n.yml",
                              "groups:\n- name: n\n  interval: 50ms\n  rules:\n"
                              "  - alert: Hot\n    expr: vector(3)\n    labels: {severity: page}\n"
                              "    annotations: {summary: 'v={{ $value }}', bad: '{{ \"x\" | humanize }}'}\n"
                              "  - alert: Slow\n    expr: vector(1)\n    for: 1h\n");
  RuleManager m(o);
  ASSERT_TRUE(m.ApplyConfig({f}, absl::Seconds(1), model::Labels()).ok());
  auto count = [&] {
    absl::MutexLock l(&mu);
    return sent.size();
  };
  ASSERT_TRUE(WaitFor([&] { return count() >= 2; }, absl::Seconds(20)));
  const int64_t evals = m.Groups()[0].status.evaluations;
  m.Stop();
  absl::MutexLock l(&mu);
  // Only the firing alert is sent (pending ones never), and not at every
  // evaluation: at most one per resend delay.
  for (const alerting::Alert& a : sent) {
    EXPECT_EQ(a.labels.Get("alertname"), "Hot");
  }
  EXPECT_LT(static_cast<int64_t>(sent.size()), evals);
  const alerting::Alert& a = sent[0];
  EXPECT_EQ(a.labels.ToString(), "{alertname=\"Hot\", severity=\"page\"}");
  EXPECT_EQ(a.generator_url, "http://vigil.example:9090/graph?g0.expr=vector%283%29&g0.tab=1");
  ASSERT_EQ(a.annotations.size(), 2u);
  EXPECT_EQ(a.annotations[1].first, "summary");
  EXPECT_EQ(a.annotations[1].second, "v=3");
  // endsAt = send time + 4 * max(resend delay, interval); the first send is
  // at the evaluation that fired it.
  EXPECT_EQ(a.ends_at - a.starts_at, absl::Milliseconds(1200));
  // Later sends are at least the resend delay apart.
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_GT(sent[i].ends_at - sent[i - 1].ends_at, absl::Milliseconds(300));
    EXPECT_EQ(sent[i].starts_at, a.starts_at);
  }
  // The failing annotation template rendered its error and was counted.
  EXPECT_TRUE(absl::StrContains(a.annotations[0].second, "error expanding template"))
      << a.annotations[0].second;
  EXPECT_GE(m.Groups()[0].rules[0].template_failures, 1);
  EXPECT_EQ(m.Groups()[0].rules[1].template_failures, 0);
}

}  // namespace
}  // namespace vigil::rules
