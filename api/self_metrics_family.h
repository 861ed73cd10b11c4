// Small builders for prometheus::MetricFamily values, for collectors that
// read their numbers at scrape time (process and storage metrics) instead of
// keeping prometheus-cpp counter objects.
#ifndef VIGIL_API_SELF_METRICS_FAMILY_H_
#define VIGIL_API_SELF_METRICS_FAMILY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace vigil::api {

// An empty family; fill it with AddSample.
inline prometheus::MetricFamily NewFamily(prometheus::MetricType type,
                                          absl::string_view name,
                                          absl::string_view help) {
  prometheus::MetricFamily family;
  family.name = std::string(name);
  family.help = std::string(help);
  family.type = type;
  return family;
}

// Appends a sample to a counter or gauge family.
// REQUIRES: family->type is kCounter or kGauge.
inline void AddSample(
    prometheus::MetricFamily* family, double value,
    std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric& m = family->metric.emplace_back();
  m.label = std::move(labels);
  if (family->type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
}

// A counter or gauge family with one unlabelled sample.
inline prometheus::MetricFamily SingleValue(prometheus::MetricType type,
                                            absl::string_view name,
                                            absl::string_view help,
                                            double value) {
  prometheus::MetricFamily family = NewFamily(type, name, help);
  AddSample(&family, value);
  return family;
}

}  // namespace vigil::api

#endif  // VIGIL_API_SELF_METRICS_FAMILY_H_
