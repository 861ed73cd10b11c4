// Self-metrics of the rule evaluator, built from the rule manager's
// snapshots at collection time: Prometheus's prometheus_rule_* metrics
// under Vigil's prefix, per group (label rule_group="<file>;<group>") and,
// for the last evaluation, per rule (labels rule_group, rule (the record or
// alert name) and index (the rule's position in its group, from 0, as
// names repeat)).
//
//   vigil_rule_group_iterations_total            counter  scheduled evaluations (done + missed)
//   vigil_rule_group_iterations_missed_total     counter  skipped because an evaluation overran
//   vigil_rule_evaluations_total                 counter  rule evaluations
//   vigil_rule_evaluation_failures_total         counter  rule evaluations that failed
//   vigil_rule_template_failures_total           counter  label/annotation templates that failed
//   vigil_rule_group_last_duration_seconds       gauge
//   vigil_rule_group_last_evaluation_timestamp_seconds gauge (absent before the first)
//   vigil_rule_group_last_evaluation_samples     gauge
//   vigil_rule_group_interval_seconds            gauge
//   vigil_rule_group_rules                       gauge
//   vigil_rule_last_duration_seconds             gauge    per rule
//   vigil_rule_last_evaluation_samples           gauge    per rule
//   vigil_rule_last_evaluation_failed            gauge    per rule: 1 when the last evaluation failed
//
// The last error text of each rule is in GET /api/v1/rules (lastError).
#ifndef VIGIL_API_RULE_METRICS_H_
#define VIGIL_API_RULE_METRICS_H_

#include <vector>

#include "prometheus/metric_family.h"
#include "rules/manager.h"

namespace vigil::api {

// Helpers for families built at collection time: an empty family, and one
// sample appended (a counter's or a gauge's value, by the family's type).
prometheus::MetricFamily NewMetricFamily(const char* name, const char* help,
                                         prometheus::MetricType type);
void AddMetricSample(prometheus::MetricFamily* f,
                     std::vector<prometheus::ClientMetric::Label> labels, double v);

std::vector<prometheus::MetricFamily> RuleMetricFamilies(
    const std::vector<rules::GroupSnapshot>& groups);

}  // namespace vigil::api

#endif  // VIGIL_API_RULE_METRICS_H_
