#include "api/rule_metrics.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace vigil::api {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

}  // namespace

MetricFamily NewMetricFamily(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddMetricSample(MetricFamily* f, std::vector<ClientMetric::Label> labels, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f->type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f->metric.push_back(std::move(m));
}


std::vector<MetricFamily> RuleMetricFamilies(const std::vector<rules::GroupSnapshot>& groups) {
  MetricFamily iterations = NewMetricFamily("vigil_rule_group_iterations_total",
                                   "The total number of scheduled rule group evaluations, "
                                   "whether executed or missed.",
                                   MetricType::Counter);
  MetricFamily missed = NewMetricFamily("vigil_rule_group_iterations_missed_total",
                               "The total number of rule group evaluations missed due to slow "
                               "rule group evaluation.",
                               MetricType::Counter);
  MetricFamily evals = NewMetricFamily("vigil_rule_evaluations_total",
                              "The total number of rule evaluations.", MetricType::Counter);
  MetricFamily failures = NewMetricFamily("vigil_rule_evaluation_failures_total",
                                 "The total number of rule evaluation failures.",
                                 MetricType::Counter);
  MetricFamily tmpl = NewMetricFamily("vigil_rule_template_failures_total",
                             "The total number of label and annotation templates that failed "
                             "to render.",
                             MetricType::Counter);
  MetricFamily duration = NewMetricFamily("vigil_rule_group_last_duration_seconds",
                                 "The duration of the last rule group evaluation.",
                                 MetricType::Gauge);
  MetricFamily last_ts = NewMetricFamily("vigil_rule_group_last_evaluation_timestamp_seconds",
                                "The timestamp of the last rule group evaluation in seconds.",
                                MetricType::Gauge);
  MetricFamily samples = NewMetricFamily("vigil_rule_group_last_evaluation_samples",
                                "The number of samples returned during the last rule group "
                                "evaluation.",
                                MetricType::Gauge);
  MetricFamily interval = NewMetricFamily("vigil_rule_group_interval_seconds",
                                 "The interval of a rule group.", MetricType::Gauge);
  MetricFamily nrules = NewMetricFamily("vigil_rule_group_rules", "The number of rules.",
                               MetricType::Gauge);
  MetricFamily rule_duration = NewMetricFamily("vigil_rule_last_duration_seconds",
                                      "The duration of the rule's last evaluation.",
                                      MetricType::Gauge);
  MetricFamily rule_samples = NewMetricFamily("vigil_rule_last_evaluation_samples",
                                     "The number of samples the rule's last evaluation "
                                     "returned.",
                                     MetricType::Gauge);
  MetricFamily rule_failed = NewMetricFamily("vigil_rule_last_evaluation_failed",
                                    "1 when the rule's last evaluation failed (its error is "
                                    "lastError in /api/v1/rules).",
                                    MetricType::Gauge);
  for (const rules::GroupSnapshot& g : groups) {
    const std::string key = absl::StrCat(g.file, ";", g.name);
    const std::vector<ClientMetric::Label> ls = {{"rule_group", key}};
    int64_t tmpl_failures = 0;
    for (const rules::RuleSnapshot& r : g.rules) tmpl_failures += r.template_failures;
    AddMetricSample(&iterations, ls, static_cast<double>(g.iterations + g.missed));
    AddMetricSample(&missed, ls, static_cast<double>(g.missed));
    AddMetricSample(&evals, ls, static_cast<double>(g.status.rule_evaluations_total));
    AddMetricSample(&failures, ls, static_cast<double>(g.status.rule_failures_total));
    AddMetricSample(&tmpl, ls, static_cast<double>(tmpl_failures));
    AddMetricSample(&duration, ls, absl::ToDoubleSeconds(g.status.last_eval_duration));
    if (g.status.last_eval_time != absl::InfinitePast()) {
      AddMetricSample(&last_ts, ls, absl::ToDoubleSeconds(g.status.last_eval_time - absl::UnixEpoch()));
    }
    AddMetricSample(&samples, ls, static_cast<double>(g.status.last_samples));
    AddMetricSample(&interval, ls, absl::ToDoubleSeconds(g.interval));
    AddMetricSample(&nrules, ls, static_cast<double>(g.rules.size()));
    for (size_t i = 0; i < g.rules.size(); ++i) {
      const rules::RuleSnapshot& r = g.rules[i];
      const std::vector<ClientMetric::Label> rl = {
          {"index", absl::StrCat(i)}, {"rule", r.name}, {"rule_group", key}};
      AddMetricSample(&rule_duration, rl, absl::ToDoubleSeconds(r.status.last_eval_duration));
      AddMetricSample(&rule_samples, rl, static_cast<double>(r.status.last_samples));
      AddMetricSample(&rule_failed, rl, r.status.health == rules::RuleHealth::kBad ? 1 : 0);
    }
  }
  std::vector<MetricFamily> out;
  for (MetricFamily* f : {&iterations, &missed, &evals, &failures, &tmpl, &duration, &last_ts,
                          &samples, &interval, &nrules, &rule_duration, &rule_samples,
                          &rule_failed}) {
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace vigil::api
