// Rule evaluation against a real tsdb::DB and the real PromQL engine.
#include <stdlib.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/rule_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/value.h"
#include "promql/engine.h"
#include "promql/parser/parser.h"
#include "rules/group.h"
#include "rules/rule.h"
#include "tsdb/db.h"
#include "tsdb/test_util.h"

namespace vigil::rules {
namespace {

using ::testing::HasSubstr;
using tsdb::Eq;

using Pairs = std::vector<std::pair<std::string, std::string>>;

class RulesEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    tsdb::DB* d = db_.get();
    env_.query = EngineQueryFunc(&engine_, [d] { return d->Querier(); });
    env_.appender = [d] { return d->Appender(); };
  }

  static absl::Time T(int sec) { return absl::FromUnixSeconds(kBase + sec); }
  static int64_t Ms(int sec) { return absl::ToUnixMillis(T(sec)); }

  // Appends `series` (PromQL series syntax, e.g. `up{job="a"}`) = v at T(sec).
  void Add(absl::string_view series, int sec, double v) {
    auto sel = promql::ParseSeriesDesc(series);
    ASSERT_TRUE(sel.ok()) << sel.status();
    auto app = db_->Appender();
    ASSERT_TRUE(app->Append(sel->labels, Ms(sec), v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  static std::unique_ptr<Rule> Recording(const std::string& record, absl::string_view expr,
                                         Pairs labels = {}) {
    auto e = promql::ParseExpr(expr);
    EXPECT_TRUE(e.ok()) << e.status();
    return std::make_unique<RecordingRule>(record, *std::move(e), std::move(labels));
  }
  static std::unique_ptr<Rule> Alerting(const std::string& name, absl::string_view expr,
                                        absl::Duration hold, Pairs labels = {},
                                        Pairs annotations = {},
                                        absl::Duration keep = absl::ZeroDuration()) {
    auto e = promql::ParseExpr(expr);
    EXPECT_TRUE(e.ok()) << e.status();
    auto r = AlertingRule::Create(name, *std::move(e), hold, keep, std::move(labels),
                                  std::move(annotations));
    EXPECT_TRUE(r.ok()) << r.status();
    return *std::move(r);
  }

  std::unique_ptr<Group> MakeGroup(std::vector<std::unique_ptr<Rule>> rules, int64_t limit = 0) {
    auto g = Group::Create("g", absl::Seconds(10), std::move(rules), limit);
    EXPECT_TRUE(g.ok()) << g.status();
    return *std::move(g);
  }
  static AlertingRule* AsAlert(Group* g, size_t i) {
    return static_cast<AlertingRule*>(g->rules()[i].get());
  }

  // Series text -> samples, for every series matching name="value"s.
  tsdb::SeriesSamples Get(absl::string_view name) {
    auto q = db_->Querier();
    return tsdb::SelectAll(q.get(), {Eq("__name__", name)});
  }

  static constexpr int64_t kBase = 1700000000;
  tsdb::TempDb db_{"rules_eval_test"};
  promql::Engine engine_{promql::EngineOptions{}};
  GroupEnv env_;
};

TEST_F(RulesEvalTest, RecordingRuleSetsNameAndLabels) {
  Add(R"(a{x="1", y="old"})", 0, 1);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Recording("rec", "a", {{"y", "new"}, {"z", "z"}}));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  auto s = Get("rec");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.begin()->first, R"({__name__="rec", x="1", y="new", z="z"})");
  ASSERT_EQ(s.begin()->second.size(), 1u);
  EXPECT_EQ(s.begin()->second[0].t, Ms(10));
  EXPECT_EQ(s.begin()->second[0].v, 1);
  RuleEvalStatus st = g->rules()[0]->eval_status();
  EXPECT_EQ(st.health, RuleHealth::kGood);
  EXPECT_EQ(st.last_samples, 1);
  EXPECT_EQ(g->status().last_samples, 1);
  EXPECT_EQ(g->status().last_eval_time, T(10));
}

TEST_F(RulesEvalTest, RecordingChainSeesEarlierRuleOutput) {
  Add(R"(a{x="1"})", 0, 1);
  Add(R"(a{x="2"})", 0, 2);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Recording("job:a:sum", "sum(a)"));
  rules.push_back(Recording("job:a:double", "job:a:sum * 2"));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  auto s = Get("job:a:double");
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s.begin()->second.size(), 1u);
  EXPECT_EQ(s.begin()->second[0].t, Ms(10));
  EXPECT_EQ(s.begin()->second[0].v, 6);
  EXPECT_EQ(g->status().last_samples, 2);
}

TEST_F(RulesEvalTest, ScalarResultIsRecordedWithoutLabels) {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Recording("two", "1 + 1"));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  auto s = Get("two");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.begin()->first, R"({__name__="two"})");
  EXPECT_EQ(s.begin()->second.at(0).v, 2);
}

TEST_F(RulesEvalTest, StringResultIsAnError) {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Recording("s", R"("text")"));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  RuleEvalStatus st = g->rules()[0]->eval_status();
  EXPECT_EQ(st.health, RuleHealth::kBad);
  EXPECT_THAT(st.last_error.message(), HasSubstr("rule result is not a vector or scalar"));
}

TEST_F(RulesEvalTest, VanishedRecordingSeriesGetsStaleMarker) {
  Add(R"(b{i="1"})", 0, 10);
  Add(R"(b{i="2"})", 0, 10);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Recording("rec", "b > 5"));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  Add(R"(b{i="2"})", 15, 1);
  g->Eval(T(20), env_);
  auto s = Get("rec");
  ASSERT_EQ(s.size(), 2u);
  const auto& one = s.at(R"({__name__="rec", i="1"})");
  const auto& two = s.at(R"({__name__="rec", i="2"})");
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[1].v, 10);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].t, Ms(20));
  EXPECT_TRUE(model::IsStaleNaN(two[1].v));
  // Only once: the next evaluation writes nothing more for it.
  g->Eval(T(30), env_);
  EXPECT_EQ(Get("rec").at(R"({__name__="rec", i="2"})").size(), 2u);
}

TEST_F(RulesEvalTest, DuplicateSeriesErrorsAndNextRuleStillRuns) {
  Add(R"(a{x="1"})", 0, 1);
  Add(R"(a{x="2"})", 0, 2);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Recording("dup", "a", {{"x", "same"}}));
  rules.push_back(Recording("fine", "vector(3)"));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  RuleEvalStatus bad = g->rules()[0]->eval_status();
  EXPECT_EQ(bad.health, RuleHealth::kBad);
  EXPECT_EQ(bad.last_error.message(),
            "vector contains metrics with the same labelset after applying rule labels");
  EXPECT_TRUE(Get("dup").empty());
  EXPECT_EQ(g->rules()[1]->eval_status().health, RuleHealth::kGood);
  auto fine = Get("fine");
  ASSERT_EQ(fine.size(), 1u);
  EXPECT_EQ(fine.begin()->second.at(0).v, 3);
  EXPECT_EQ(g->status().failed_rules, 1);
}

TEST_F(RulesEvalTest, RecordingLimitExceeded) {
  Add(R"(a{x="1"})", 0, 1);
  Add(R"(a{x="2"})", 0, 2);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Recording("rec", "a"));
  auto g = MakeGroup(std::move(rules), /*limit=*/1);
  g->Eval(T(10), env_);
  RuleEvalStatus st = g->rules()[0]->eval_status();
  EXPECT_EQ(st.health, RuleHealth::kBad);
  EXPECT_EQ(st.last_error.message(), "exceeded limit of 1 with 2 series");
  EXPECT_TRUE(Get("rec").empty());
}

TEST_F(RulesEvalTest, AlertPendingThenFiringAfterFor) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::Minutes(1)));
  auto g = MakeGroup(std::move(rules));
  AlertingRule* r = AsAlert(g.get(), 0);

  g->Eval(T(0), env_);
  auto alerts = r->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kPending);
  EXPECT_EQ(alerts[0].active_at, T(0));
  EXPECT_EQ(alerts[0].labels.ToString(), R"({alertname="Down", job="a"})");

  g->Eval(T(59), env_);
  EXPECT_EQ(r->Alerts().at(0).state, AlertState::kPending);
  g->Eval(T(60), env_);
  alerts = r->Alerts();
  EXPECT_EQ(alerts.at(0).state, AlertState::kFiring);
  EXPECT_EQ(alerts.at(0).fired_at, T(60));
  EXPECT_EQ(alerts.at(0).active_at, T(0));
  EXPECT_EQ(r->State(), AlertState::kFiring);

  auto s = Get("ALERTS");
  ASSERT_EQ(s.size(), 2u);
  const auto& pending = s.at(R"({__name__="ALERTS", alertname="Down", alertstate="pending", job="a"})");
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].v, 1);
  EXPECT_EQ(pending[1].t, Ms(59));
  EXPECT_EQ(pending[2].t, Ms(60));
  EXPECT_TRUE(model::IsStaleNaN(pending[2].v));
  const auto& firing = s.at(R"({__name__="ALERTS", alertname="Down", alertstate="firing", job="a"})");
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].t, Ms(60));
  EXPECT_EQ(firing[0].v, 1);

  auto fs = Get("ALERTS_FOR_STATE");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs.begin()->first, R"({__name__="ALERTS_FOR_STATE", alertname="Down", job="a"})");
  ASSERT_EQ(fs.begin()->second.size(), 3u);
  for (const auto& smp : fs.begin()->second) EXPECT_EQ(smp.v, static_cast<double>(kBase));
}

TEST_F(RulesEvalTest, AlertWithoutForFiresAtOnce) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::ZeroDuration()));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(5), env_);
  auto alerts = AsAlert(g.get(), 0)->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[0].fired_at, T(5));
  auto s = Get("ALERTS");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.begin()->first,
            R"({__name__="ALERTS", alertname="Down", alertstate="firing", job="a"})");
  EXPECT_EQ(Get("ALERTS_FOR_STATE").begin()->second.at(0).v, static_cast<double>(kBase + 5));
}

TEST_F(RulesEvalTest, PendingAlertThatStopsIsDeleted) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::Minutes(5)));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(0), env_);
  Add(R"(up{job="a"})", 5, 1);
  g->Eval(T(10), env_);
  EXPECT_TRUE(AsAlert(g.get(), 0)->Alerts().empty());
  EXPECT_EQ(AsAlert(g.get(), 0)->State(), AlertState::kInactive);
}

TEST_F(RulesEvalTest, ResolvedAlertKeptFifteenMinutes) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::ZeroDuration()));
  auto g = MakeGroup(std::move(rules));
  AlertingRule* r = AsAlert(g.get(), 0);
  g->Eval(T(0), env_);
  Add(R"(up{job="a"})", 5, 1);
  g->Eval(T(10), env_);
  auto alerts = r->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kInactive);
  EXPECT_EQ(alerts[0].resolved_at, T(10));
  // The firing series ends with a stale marker.
  auto firing = Get("ALERTS").begin()->second;
  ASSERT_EQ(firing.size(), 2u);
  EXPECT_TRUE(model::IsStaleNaN(firing[1].v));
  EXPECT_EQ(firing[1].t, Ms(10));

  g->Eval(T(10 + 15 * 60), env_);  // Exactly 15m: still kept.
  ASSERT_EQ(r->Alerts().size(), 1u);
  EXPECT_EQ(r->Alerts()[0].resolved_at, T(10));
  g->Eval(T(11 + 15 * 60), env_);
  EXPECT_TRUE(r->Alerts().empty());
}

TEST_F(RulesEvalTest, ResolvedAlertThatReturnsStartsPendingAgain) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::Minutes(1)));
  auto g = MakeGroup(std::move(rules));
  AlertingRule* r = AsAlert(g.get(), 0);
  g->Eval(T(0), env_);
  g->Eval(T(60), env_);
  Add(R"(up{job="a"})", 65, 1);
  g->Eval(T(70), env_);
  EXPECT_EQ(r->Alerts().at(0).state, AlertState::kInactive);
  Add(R"(up{job="a"})", 75, 0);
  g->Eval(T(80), env_);
  auto alerts = r->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kPending);
  EXPECT_EQ(alerts[0].active_at, T(80));
}

TEST_F(RulesEvalTest, KeepFiringForHoldsFiringAlert) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(
      Alerting("Down", "up == 0", absl::ZeroDuration(), {}, {}, absl::Minutes(2)));
  auto g = MakeGroup(std::move(rules));
  AlertingRule* r = AsAlert(g.get(), 0);
  g->Eval(T(0), env_);
  Add(R"(up{job="a"})", 5, 1);
  g->Eval(T(10), env_);
  auto alerts = r->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[0].keep_firing_since, T(10));
  g->Eval(T(129), env_);
  EXPECT_EQ(r->Alerts().at(0).state, AlertState::kFiring);
  auto firing = Get("ALERTS").begin()->second;
  ASSERT_EQ(firing.size(), 3u);
  EXPECT_EQ(firing[2].t, Ms(129));
  EXPECT_EQ(firing[2].v, 1);

  g->Eval(T(130), env_);
  alerts = r->Alerts();
  EXPECT_EQ(alerts.at(0).state, AlertState::kInactive);
  EXPECT_EQ(alerts.at(0).resolved_at, T(130));
  firing = Get("ALERTS").begin()->second;
  ASSERT_EQ(firing.size(), 4u);
  EXPECT_TRUE(model::IsStaleNaN(firing[3].v));
}

TEST_F(RulesEvalTest, KeepFiringSinceResetsWhenAlertReturns) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(
      Alerting("Down", "up == 0", absl::ZeroDuration(), {}, {}, absl::Minutes(2)));
  auto g = MakeGroup(std::move(rules));
  AlertingRule* r = AsAlert(g.get(), 0);
  g->Eval(T(0), env_);
  Add(R"(up{job="a"})", 5, 1);
  g->Eval(T(10), env_);
  Add(R"(up{job="a"})", 15, 0);
  g->Eval(T(20), env_);
  EXPECT_EQ(r->Alerts().at(0).keep_firing_since, absl::InfinitePast());
  Add(R"(up{job="a"})", 25, 1);
  g->Eval(T(30), env_);
  g->Eval(T(149), env_);  // 119s since it went missing again.
  EXPECT_EQ(r->Alerts().at(0).state, AlertState::kFiring);
  EXPECT_EQ(r->Alerts().at(0).active_at, T(0));
}

TEST_F(RulesEvalTest, TemplatedLabelsAndAnnotations) {
  Add(R"(errors{instance="host:9100", job="node"})", 0, 7);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting(
      "Errors", "errors > 5", absl::ZeroDuration(),
      {{"severity", "{{ if gt $value 6.0 }}page{{ else }}ticket{{ end }}"}, {"team", "infra"}},
      {{"summary", "{{ $labels.instance }} of {{ $labels.__name__ }} has {{ $value }} errors"},
       {"static", "plain text"}}));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  auto alerts = AsAlert(g.get(), 0)->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels.ToString(),
            R"({alertname="Errors", instance="host:9100", job="node", severity="page", team="infra"})");
  EXPECT_EQ(alerts[0].value, 7);
  ASSERT_EQ(alerts[0].annotations.size(), 2u);
  EXPECT_EQ(alerts[0].annotations[0], std::make_pair(std::string("static"),
                                                     std::string("plain text")));
  EXPECT_EQ(alerts[0].annotations[1].second, "host:9100 of errors has 7 errors");
  auto s = Get("ALERTS");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.begin()->first,
            R"({__name__="ALERTS", alertname="Errors", alertstate="firing", instance="host:9100", job="node", severity="page", team="infra"})");

  // Annotations and value follow the latest evaluation.
  Add(R"(errors{instance="host:9100", job="node"})", 15, 6.5);
  g->Eval(T(20), env_);
  alerts = AsAlert(g.get(), 0)->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].value, 6.5);
  EXPECT_EQ(alerts[0].annotations[1].second, "host:9100 of errors has 6.5 errors");
}

// A label whose template renders empty is dropped from the alert, but
// ALERTS and ALERTS_FOR_STATE start from the rule's raw labels and keep the
// template text (checked against promtool 2.42).
TEST_F(RulesEvalTest, EmptyTemplatedLabelKeepsRawTextInAlertsSeries) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::ZeroDuration(),
                           {{"sev", "{{ if false }}x{{ end }}"}}));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  auto alerts = AsAlert(g.get(), 0)->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels.ToString(), R"({alertname="Down", job="a"})");
  EXPECT_EQ(Get("ALERTS").begin()->first,
            R"({__name__="ALERTS", alertname="Down", alertstate="firing", job="a", sev="{{ if false }}x{{ end }}"})");
  EXPECT_EQ(Get("ALERTS_FOR_STATE").begin()->first,
            R"({__name__="ALERTS_FOR_STATE", alertname="Down", job="a", sev="{{ if false }}x{{ end }}"})");
}

TEST_F(RulesEvalTest, TemplateExecutionErrorEndsUpInAnnotation) {
  Add(R"(up{job="a"})", 0, 0);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::ZeroDuration(), {},
                           {{"summary", "{{ humanize \"x\" }}"}}));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(0), env_);
  auto alerts = AsAlert(g.get(), 0)->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_THAT(alerts[0].annotations[0].second, HasSubstr("<error expanding template: "));
  EXPECT_EQ(g->rules()[0]->eval_status().health, RuleHealth::kGood);
}

TEST_F(RulesEvalTest, TemplateQueryFunction) {
  Add(R"(up{job="a"})", 0, 0);
  Add(R"(total{job="a"})", 0, 42);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Down", "up == 0", absl::ZeroDuration(), {},
                           {{"total", "{{ with query \"total\" }}{{ . | first | value }}{{ end }}"}}));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(0), env_);
  auto alerts = AsAlert(g.get(), 0)->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].annotations[0].second, "42");
}

TEST_F(RulesEvalTest, DuplicateAlertsErrorAndNextRuleRuns) {
  Add(R"(a{x="1"})", 0, 1);
  Add(R"(a{x="2"})", 0, 2);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("Dup", "a", absl::ZeroDuration(), {{"x", "same"}}));
  rules.push_back(Alerting("Fine", "a", absl::ZeroDuration()));
  auto g = MakeGroup(std::move(rules));
  g->Eval(T(10), env_);
  RuleEvalStatus st = g->rules()[0]->eval_status();
  EXPECT_EQ(st.health, RuleHealth::kBad);
  EXPECT_EQ(st.last_error.message(),
            "vector contains metrics with the same labelset after applying alert labels");
  EXPECT_TRUE(AsAlert(g.get(), 0)->Alerts().empty());
  EXPECT_EQ(AsAlert(g.get(), 1)->Alerts().size(), 2u);
  EXPECT_EQ(g->rules()[1]->eval_status().health, RuleHealth::kGood);
}

TEST_F(RulesEvalTest, AlertLimitExceededDropsAlerts) {
  Add(R"(a{x="1"})", 0, 1);
  Add(R"(a{x="2"})", 0, 2);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(Alerting("A", "a", absl::ZeroDuration()));
  auto g = MakeGroup(std::move(rules), /*limit=*/1);
  g->Eval(T(10), env_);
  RuleEvalStatus st = g->rules()[0]->eval_status();
  EXPECT_EQ(st.health, RuleHealth::kBad);
  EXPECT_EQ(st.last_error.message(), "exceeded limit of 1 with 2 alerts");
  EXPECT_TRUE(AsAlert(g.get(), 0)->Alerts().empty());
  EXPECT_TRUE(Get("ALERTS").empty());
}

TEST_F(RulesEvalTest, BuildGroupsFromRuleFile) {
  Add(R"(up{job="a"})", 0, 0);
  auto file = config::ParseRuleFile(R"(groups:
- name: one
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: Down
    expr: job:up:sum == 0
    labels: {severity: page}
    annotations: {summary: "{{ $labels.job }} down"}
- name: two
  interval: 1m
  limit: 5
  rules: []
)",
                                    "r.yml");
  ASSERT_TRUE(file.ok()) << file.status();
  auto groups = BuildGroups(*file, absl::Seconds(15));
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 2u);
  Group* g = (*groups)[0].get();
  EXPECT_EQ(g->name(), "one");
  EXPECT_EQ(g->interval(), absl::Seconds(15));
  EXPECT_EQ((*groups)[1]->interval(), absl::Minutes(1));
  EXPECT_EQ((*groups)[1]->limit(), 5);
  ASSERT_EQ(g->rules().size(), 2u);
  g->Eval(T(10), env_);
  auto alerts = AsAlert(g, 1)->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels.ToString(), R"({alertname="Down", job="a", severity="page"})");
  EXPECT_EQ(alerts[0].annotations.at(0).second, "a down");
}

TEST_F(RulesEvalTest, BuildGroupsReportsBadExprAndTemplate) {
  auto file = config::ParseRuleFile(R"(groups:
- name: one
  rules:
  - record: r
    expr: sum(
)",
                                    "r.yml");
  ASSERT_TRUE(file.ok()) << file.status();
  auto groups = BuildGroups(*file, absl::Seconds(15));
  ASSERT_FALSE(groups.ok());
  EXPECT_THAT(groups.status().message(),
              HasSubstr("r.yml: group \"one\", rule 1, \"r\": could not parse expression: "));

  file = config::ParseRuleFile(R"(groups:
- name: one
  rules:
  - alert: A
    expr: up
    annotations: {summary: "{{ .Broken "}
)",
                               "r.yml");
  ASSERT_TRUE(file.ok()) << file.status();
  groups = BuildGroups(*file, absl::Seconds(15));
  ASSERT_FALSE(groups.ok());
  EXPECT_THAT(groups.status().message(), HasSubstr("annotation \"summary\": "));
}

TEST(GroupTest, CreateValidates) {
  EXPECT_FALSE(Group::Create("", absl::Seconds(1), {}).ok());
  EXPECT_FALSE(Group::Create("g", absl::ZeroDuration(), {}).ok());
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(nullptr);
  EXPECT_FALSE(Group::Create("g", absl::Seconds(1), std::move(rules)).ok());
}

}  // namespace
}  // namespace vigil::rules
