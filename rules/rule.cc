#include "rules/rule.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "promql/parser/parser.h"
#include "rules/template.h"

namespace vigil::rules {

QueryFunc EngineQueryFunc(const promql::Engine* engine,
                          std::function<std::unique_ptr<tsdb::Querier>()> new_querier) {
  return [engine, new_querier = std::move(new_querier)](
             const promql::Expr& expr, int64_t t) -> absl::StatusOr<promql::Vector> {
    std::unique_ptr<tsdb::Querier> q = new_querier();
    ASSIGN_OR_RETURN(promql::Value v, engine->Instant(q.get(), expr, t));
    switch (v.type) {
      case promql::ValueType::kVector:
        return std::move(v.vector);
      case promql::ValueType::kScalar: {
        promql::Vector out(1);
        out[0].point = v.scalar;
        return out;
      }
      default:
        return absl::FailedPreconditionError("rule result is not a vector or scalar");
    }
  };
}

absl::string_view RuleHealthName(RuleHealth h) {
  switch (h) {
    case RuleHealth::kGood:
      return "ok";
    case RuleHealth::kBad:
      return "err";
    case RuleHealth::kUnknown:
      break;
  }
  return "unknown";
}

absl::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
    case AlertState::kInactive:
      break;
  }
  return "inactive";
}

RuleEvalStatus Rule::eval_status() const {
  absl::MutexLock l(&mu_);
  return status_;
}

void Rule::SetEvalStatus(RuleEvalStatus status) {
  absl::MutexLock l(&mu_);
  status_ = std::move(status);
}

namespace {

// Whether two samples of `v` have the same labels.
bool ContainsSameLabelset(const promql::Vector& v) {
  std::set<model::Labels> seen;
  for (const promql::Sample& s : v) {
    if (!seen.insert(s.metric).second) return true;
  }
  return false;
}

std::map<std::string, std::string> LabelMap(const model::Labels& ls) {
  std::map<std::string, std::string> m;
  for (const model::Label& l : ls) m.emplace(l.name.view(), l.value.view());
  return m;
}

// The path of an absolute URL ("http://h:1/prom?x" -> "/prom"), as Go's
// url.URL.Path that Prometheus's pathPrefix returns.
std::string UrlPath(absl::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return "";
  absl::string_view rest = url.substr(scheme + 3);
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return "";
  rest = rest.substr(slash);
  return std::string(rest.substr(0, rest.find_first_of("?#")));
}

// Renders a rule template; text without actions is its own output, so it
// is not parsed.
// Failures are counted in `*failures`.
std::string Expand(const std::string& tmpl_name, const std::string& text,
                   const TemplateData& data, const TemplateEnv& env, int64_t* failures) {
  if (!absl::StrContains(text, "{{")) return text;
  bool ok = false;
  // On failure the result is Prometheus's "<error expanding template: ...>"
  // text, which is what ends up in the label or annotation.
  std::string out = ExpandRuleTemplate(tmpl_name, text, data, env, &ok);
  if (!ok) ++*failures;
  return out;
}

}  // namespace

RecordingRule::RecordingRule(std::string record, promql::ExprPtr expr,
                             std::vector<std::pair<std::string, std::string>> labels)
    : record_(std::move(record)), expr_(std::move(expr)), labels_(std::move(labels)) {}

absl::StatusOr<promql::Vector> RecordingRule::Eval(absl::Time t, const QueryFunc& query,
                                                   const EvalOptions& options) {
  ASSIGN_OR_RETURN(promql::Vector vec, query(*expr_, absl::ToUnixMillis(t)));
  model::LabelsBuilder b;
  for (promql::Sample& s : vec) {
    b.Reset(s.metric);
    b.Set(model::kMetricName, record_);
    for (const auto& [k, v] : labels_) b.Set(k, v);
    s.metric = b.Build();
  }
  if (ContainsSameLabelset(vec)) {
    return absl::FailedPreconditionError(
        "vector contains metrics with the same labelset after applying rule labels");
  }
  const int64_t n = static_cast<int64_t>(vec.size());
  if (options.limit > 0 && n > options.limit) {
    return absl::FailedPreconditionError(
        absl::StrCat("exceeded limit of ", options.limit, " with ", n, " series"));
  }
  return vec;
}

AlertingRule::AlertingRule(std::string name, promql::ExprPtr expr, absl::Duration hold,
                           absl::Duration keep_firing_for,
                           std::vector<std::pair<std::string, std::string>> labels,
                           std::vector<std::pair<std::string, std::string>> annotations)
    : name_(std::move(name)),
      expr_(std::move(expr)),
      hold_(hold),
      keep_firing_for_(keep_firing_for),
      labels_(std::move(labels)),
      annotations_(std::move(annotations)) {}

absl::StatusOr<std::unique_ptr<AlertingRule>> AlertingRule::Create(
    std::string name, promql::ExprPtr expr, absl::Duration hold,
    absl::Duration keep_firing_for, std::vector<std::pair<std::string, std::string>> labels,
    std::vector<std::pair<std::string, std::string>> annotations) {
  const std::string tmpl_name = "__alert_" + name;
  for (const auto& [k, v] : labels) {
    absl::Status s = CheckRuleTemplate(tmpl_name, v);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("label \"", k, "\": ", s.message()));
    }
  }
  for (const auto& [k, v] : annotations) {
    absl::Status s = CheckRuleTemplate(tmpl_name, v);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("annotation \"", k, "\": ", s.message()));
    }
  }
  std::sort(annotations.begin(), annotations.end());
  return std::unique_ptr<AlertingRule>(new AlertingRule(std::move(name), std::move(expr), hold,
                                                        keep_firing_for, std::move(labels),
                                                        std::move(annotations)));
}

absl::StatusOr<promql::Vector> AlertingRule::Eval(absl::Time t, const QueryFunc& query,
                                                  const EvalOptions& options) {
  const int64_t ts = absl::ToUnixMillis(t);
  ASSIGN_OR_RETURN(promql::Vector res, query(*expr_, ts));

  TemplateEnv env;
  env.eval_time = t;
  env.external_url = options.external_url;
  env.path_prefix = UrlPath(options.external_url);
  env.query = [&query, ts](absl::string_view q) -> absl::StatusOr<std::vector<QuerySample>> {
    ASSIGN_OR_RETURN(promql::ExprPtr e, promql::ParseExpr(q));
    ASSIGN_OR_RETURN(promql::Vector v, query(*e, ts));
    std::vector<QuerySample> out;
    out.reserve(v.size());
    for (const promql::Sample& s : v) out.push_back({LabelMap(s.metric), s.point.v});
    return out;
  };
  const std::string tmpl_name = "__alert_" + name_;

  // The alerts the expression returns now, by labels.
  std::map<model::Labels, Alert> current;
  model::LabelsBuilder b;
  int64_t failures = 0;
  for (const promql::Sample& s : res) {
    TemplateData data;
    data.labels = LabelMap(s.metric);
    data.external_labels = options.external_labels;
    data.external_url = options.external_url;
    data.value = s.point.v;

    b.Reset(s.metric);
    b.Del(model::kMetricName);
    for (const auto& [k, v] : labels_) b.Set(k, Expand(tmpl_name, v, data, env, &failures));
    b.Set("alertname", name_);
    Alert a;
    a.labels = b.Build();
    a.value = s.point.v;
    a.annotations.reserve(annotations_.size());
    for (const auto& [k, v] : annotations_) {
      a.annotations.emplace_back(k, Expand(tmpl_name, v, data, env, &failures));
    }
    model::Labels key = a.labels;
    if (!current.emplace(std::move(key), std::move(a)).second) {
      return absl::FailedPreconditionError(
          "vector contains metrics with the same labelset after applying alert labels");
    }
  }

  for (int64_t i = 0; i < failures; ++i) CountTemplateFailure();

  absl::MutexLock l(&mu_);
  for (auto& [labels, a] : current) {
    auto it = active_.find(labels);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = std::move(a.annotations);
      continue;
    }
    a.state = AlertState::kPending;
    a.active_at = t;
    active_[labels] = std::move(a);
  }

  std::vector<std::pair<absl::string_view, absl::string_view>> raw(labels_.begin(),
                                                                   labels_.end());
  const model::Labels rule_labels = model::Labels::FromPairs(raw);
  promql::Vector out;
  int64_t num_active = 0;
  for (auto it = active_.begin(); it != active_.end();) {
    Alert& a = it->second;
    if (current.count(it->first) == 0) {
      bool keep_firing = false;
      if (a.state == AlertState::kFiring && keep_firing_for_ > absl::ZeroDuration()) {
        if (a.keep_firing_since == absl::InfinitePast()) a.keep_firing_since = t;
        keep_firing = t - a.keep_firing_since < keep_firing_for_;
      }
      if (a.state == AlertState::kPending ||
          (a.resolved_at != absl::InfinitePast() && t - a.resolved_at > kResolvedRetention)) {
        it = active_.erase(it);
        continue;
      }
      if (!keep_firing) {
        if (a.state != AlertState::kInactive) {
          a.state = AlertState::kInactive;
          a.resolved_at = t;
        }
        ++it;
        continue;
      }
    } else {
      a.keep_firing_since = absl::InfinitePast();
    }
    ++num_active;
    if (a.state == AlertState::kPending && t - a.active_at >= hold_) {
      a.state = AlertState::kFiring;
      a.fired_at = t;
    }
    // As Prometheus, the series start from the rule's untemplated labels:
    // they only show where a label's template rendered empty.
    b.Reset(rule_labels);
    for (const model::Label& l : a.labels) b.Set(l.name.view(), l.value.view());
    b.Set(model::kMetricName, "ALERTS_FOR_STATE");
    const model::Labels for_state = b.Build();
    b.Set(model::kMetricName, "ALERTS");
    b.Set("alertstate", AlertStateName(a.state));
    out.push_back({b.Build(), {ts, 1}});
    out.push_back({for_state, {ts, static_cast<double>(absl::ToUnixSeconds(a.active_at))}});
    ++it;
  }
  if (options.limit > 0 && num_active > options.limit) {
    active_.clear();
    return absl::FailedPreconditionError(absl::StrCat("exceeded limit of ", options.limit,
                                                      " with ", num_active, " alerts"));
  }
  return out;
}

std::vector<Alert> AlertingRule::Alerts() const {
  absl::MutexLock l(&mu_);
  std::vector<Alert> out;
  out.reserve(active_.size());
  for (const auto& [labels, a] : active_) out.push_back(a);
  return out;
}

std::vector<Alert> AlertingRule::TakeAlertsToSend(absl::Time t, absl::Duration resend_delay,
                                                  absl::Duration interval) {
  const absl::Duration delta = std::max(resend_delay, interval);
  std::vector<Alert> out;
  absl::MutexLock l(&mu_);
  for (auto& [labels, a] : active_) {
    if (a.state == AlertState::kPending) continue;
    const bool resolved_since_sent =
        a.resolved_at != absl::InfinitePast() && a.resolved_at > a.last_sent_at;
    if (!resolved_since_sent && !(a.last_sent_at + resend_delay < t)) continue;
    a.last_sent_at = t;
    a.valid_until = t + 4 * delta;
    out.push_back(a);
  }
  return out;
}

void AlertingRule::CopyAlertsFrom(const AlertingRule& from) {
  if (&from == this) return;
  std::map<model::Labels, Alert> copy;
  {
    absl::MutexLock l(&from.mu_);
    copy = from.active_;
  }
  absl::MutexLock l(&mu_);
  for (auto& [labels, a] : copy) active_[labels] = std::move(a);
}

bool AlertingRule::SetActiveAt(const model::Labels& labels, absl::Time active_at) {
  absl::MutexLock l(&mu_);
  auto it = active_.find(labels);
  if (it == active_.end() || it->second.state == AlertState::kInactive) return false;
  it->second.active_at = active_at;
  return true;
}

AlertState AlertingRule::State() const {
  absl::MutexLock l(&mu_);
  AlertState max = AlertState::kInactive;
  for (const auto& [labels, a] : active_) {
    if (static_cast<int>(a.state) > static_cast<int>(max)) max = a.state;
  }
  return max;
}

}  // namespace vigil::rules
