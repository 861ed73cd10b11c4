#include "rules/group.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "model/value.h"
#include "promql/parser/parser.h"
#include "promql/parser/printer.h"
#include "rules/template_strconv.h"

namespace vigil::rules {

absl::StatusOr<std::unique_ptr<Group>> Group::Create(std::string name, absl::Duration interval,
                                                     std::vector<std::unique_ptr<Rule>> rules,
                                                     int64_t limit) {
  if (name.empty()) return absl::InvalidArgumentError("rule group without a name");
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule group \"", name, "\": interval must be positive"));
  }
  for (const std::unique_ptr<Rule>& r : rules) {
    if (r == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("rule group \"", name, "\": null rule"));
    }
  }
  return std::unique_ptr<Group>(new Group(std::move(name), interval, std::move(rules), limit));
}

Group::Group(std::string name, absl::Duration interval, std::vector<std::unique_ptr<Rule>> rules,
             int64_t limit)
    : name_(std::move(name)),
      interval_(interval),
      rules_(std::move(rules)),
      limit_(limit),
      previous_series_(rules_.size()) {}

GroupEvalStatus Group::status() const {
  absl::MutexLock l(&mu_);
  return status_;
}

void Group::Eval(absl::Time t, const GroupEnv& env) {
  const absl::Time start = absl::Now();
  EvalOptions opts;
  opts.limit = limit_;
  opts.external_labels = env.external_labels;
  opts.external_url = env.external_url;
  int64_t samples = 0;
  int failed = 0;
  for (size_t i = 0; i < rules_.size(); ++i) {
    RuleEvalStatus st = EvalRule(i, t, env, opts);
    samples += st.last_samples;
    if (st.health == RuleHealth::kBad) ++failed;
  }
  absl::MutexLock l(&mu_);
  status_.last_eval_time = t;
  status_.last_eval_duration = absl::Now() - start;
  status_.last_samples = samples;
  status_.failed_rules = failed;
  ++status_.evaluations;
  status_.rule_evaluations_total += static_cast<int64_t>(rules_.size());
  status_.rule_failures_total += failed;
}

int64_t Group::template_failures() const {
  int64_t n = 0;
  for (const std::unique_ptr<Rule>& r : rules_) n += r->template_failures();
  return n;
}

namespace {

// What identifies a rule across a reload: its kind, name and labels.
std::string RuleIdentity(const Rule& r) {
  std::string out = absl::StrCat(r.name(), "\xff");
  if (const auto* a = dynamic_cast<const AlertingRule*>(&r)) {
    absl::StrAppend(&out, "alert");
    for (const auto& [k, v] : a->labels()) absl::StrAppend(&out, "\xff", k, "=", v);
  } else if (const auto* rr = dynamic_cast<const RecordingRule*>(&r)) {
    absl::StrAppend(&out, "record");
    for (const auto& [k, v] : rr->labels()) absl::StrAppend(&out, "\xff", k, "=", v);
  }
  return out;
}

}  // namespace

void Group::CopyStateFrom(const Group& from) {
  {
    absl::MutexLock l(&from.mu_);
    const GroupEvalStatus fs = from.status_;
    absl::MutexLock l2(&mu_);
    status_.last_eval_time = fs.last_eval_time;
    status_.last_eval_duration = fs.last_eval_duration;
  }
  std::map<std::string, std::vector<size_t>> by_identity;
  for (size_t i = from.rules_.size(); i-- > 0;) {
    by_identity[RuleIdentity(*from.rules_[i])].push_back(i);
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    auto it = by_identity.find(RuleIdentity(*rules_[i]));
    if (it == by_identity.end() || it->second.empty()) continue;
    const size_t fi = it->second.back();
    it->second.pop_back();
    previous_series_[i] = from.previous_series_[fi];
    auto* to = dynamic_cast<AlertingRule*>(rules_[i].get());
    const auto* fr = dynamic_cast<const AlertingRule*>(from.rules_[fi].get());
    if (to != nullptr && fr != nullptr) to->CopyAlertsFrom(*fr);
  }
}

RuleEvalStatus Group::EvalRule(size_t i, absl::Time t, const GroupEnv& env,
                               const EvalOptions& opts) {
  Rule& rule = *rules_[i];
  RuleEvalStatus st;
  st.last_eval_time = absl::Now();
  auto finish = [&] {
    st.last_eval_duration = absl::Now() - st.last_eval_time;
    rule.SetEvalStatus(st);
    return st;
  };
  auto fail = [&](const absl::Status& s) {
    if (st.health != RuleHealth::kBad) {
      st.health = RuleHealth::kBad;
      st.last_error = s;
    }
    LogWarn("rules", "rule evaluation failed")
        .Kv("group", name_)
        .Kv("rule", rule.name())
        .Kv("err", s);
  };

  absl::StatusOr<promql::Vector> out = rule.Eval(t, env.query, opts);
  if (!out.ok()) {
    // Nothing appended: the rule's previous series keep their last value
    // and get no stale markers, as in Prometheus.
    fail(out.status());
    return finish();
  }
  if (auto* ar = dynamic_cast<AlertingRule*>(&rule); ar != nullptr && env.notify) {
    std::vector<Alert> send = ar->TakeAlertsToSend(t, env.resend_delay, interval_);
    if (!send.empty()) {
      const std::string link = absl::StrCat(env.external_url, "/graph?g0.expr=",
                                            tmpl::GoQueryEscape(promql::Format(ar->expr())),
                                            "&g0.tab=1");
      std::vector<alerting::Alert> alerts;
      alerts.reserve(send.size());
      for (Alert& a : send) {
        alerting::Alert x;
        x.labels = a.labels;
        x.annotations = std::move(a.annotations);
        x.starts_at = a.fired_at;
        x.ends_at = a.resolved_at != absl::InfinitePast() ? a.resolved_at : a.valid_until;
        x.generator_url = link;
        alerts.push_back(std::move(x));
      }
      env.notify(std::move(alerts));
    }
  }
  st.health = RuleHealth::kGood;
  st.last_samples = static_cast<int64_t>(out->size());

  std::unique_ptr<tsdb::Appender> app = env.appender();
  std::set<model::Labels> returned;
  for (const promql::Sample& s : *out) {
    absl::StatusOr<tsdb::SeriesRef> r = app->Append(s.metric, s.point.t, s.point.v);
    if (!r.ok()) {
      fail(r.status());
      continue;
    }
    returned.insert(s.metric);
  }
  const int64_t ts = absl::ToUnixMillis(t);
  for (const model::Labels& ls : previous_series_[i]) {
    if (returned.count(ls) != 0) continue;
    // Out-of-order and duplicate stale markers are expected (the series may
    // have been written since) and ignored.
    (void)app->Append(ls, ts, model::StaleNaN());
  }
  absl::Status c = app->Commit();
  if (!c.ok()) {
    fail(c);
    return finish();
  }
  previous_series_[i] = std::move(returned);
  return finish();
}

absl::StatusOr<std::unique_ptr<Rule>> BuildRule(const config::Rule& rule) {
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(rule.expr);
  if (!expr.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("could not parse expression: ", expr.status().message()));
  }
  if (!rule.is_alert()) {
    return std::make_unique<RecordingRule>(rule.record, *std::move(expr), rule.labels);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<AlertingRule> a,
                   AlertingRule::Create(rule.alert, *std::move(expr), rule.for_,
                                        rule.keep_firing_for, rule.labels, rule.annotations));
  return std::unique_ptr<Rule>(std::move(a));
}

absl::StatusOr<std::vector<std::unique_ptr<Group>>> BuildGroups(
    const config::RuleFile& file, absl::Duration default_interval) {
  std::vector<std::unique_ptr<Group>> groups;
  groups.reserve(file.groups.size());
  for (const config::RuleGroup& g : file.groups) {
    std::vector<std::unique_ptr<Rule>> rules;
    rules.reserve(g.rules.size());
    for (size_t i = 0; i < g.rules.size(); ++i) {
      absl::StatusOr<std::unique_ptr<Rule>> r = BuildRule(g.rules[i]);
      if (!r.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(file.filename, ": group \"", g.name,
                                                       "\", rule ", i + 1, ", \"",
                                                       g.rules[i].name(), "\": ",
                                                       r.status().message()));
      }
      rules.push_back(*std::move(r));
    }
    const absl::Duration interval =
        g.interval > absl::ZeroDuration() ? g.interval : default_interval;
    absl::StatusOr<std::unique_ptr<Group>> group =
        Group::Create(g.name, interval, std::move(rules), g.limit);
    if (!group.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.filename, ": ", group.status().message()));
    }
    groups.push_back(*std::move(group));
  }
  return groups;
}

}  // namespace vigil::rules
