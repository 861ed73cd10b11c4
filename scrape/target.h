// Scrape targets: turning a discovered target (one label set of a
// TargetGroup) into the labels and URL Vigil scrapes, as Prometheus 2.42's
// PopulateLabels does: group labels under target labels, the job's defaults
// (job, __scheme__, __metrics_path__, __scrape_interval__,
// __scrape_timeout__, __param_<name>), relabel_configs, the address check,
// __meta_* removed, instance defaulting to __address__.
#ifndef VIGIL_SCRAPE_TARGET_H_
#define VIGIL_SCRAPE_TARGET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/scrape_config.h"
#include "model/labels.h"
#include "scrape/relabel.h"

namespace vigil::scrape {

// What one discovered target became.
struct TargetSpec {
  // The labels before relabeling (Prometheus's discoveredLabels).
  model::Labels discovered;
  // All labels after relabeling, including the "__" ones that remain
  // (__address__, __scheme__, __metrics_path__, __param_*, ...).
  model::Labels full;
  // `full` without labels starting with "__": what every scraped series
  // gets (Prometheus's Target.Labels()).
  model::Labels labels;
  // scheme://address/metrics_path?params, params sorted by name as Go's
  // url.Values.Encode() writes them.
  std::string url;
  absl::Duration interval;
  absl::Duration timeout;
  // False when relabel_configs dropped the target (it is then listed among
  // the dropped targets of /api/v1/targets).
  bool kept = true;
};

// Builds the spec of `target` in `group` for job `cfg`. A target that
// relabeling drops gives kept = false and no error. Errors (no address,
// invalid address, bad __scrape_interval__, timeout above interval, invalid
// label value) are InvalidArgument with Prometheus's message; Prometheus
// logs such targets and skips them.
absl::StatusOr<TargetSpec> PopulateTarget(const config::ScrapeConfig& cfg,
                                          const Relabeler& relabel,
                                          const model::Labels& group_labels,
                                          const model::Labels& target);

// A stable 64-bit hash of a target (its full label set and the job), used
// to spread the targets' scrape offsets over the interval and to decide
// which targets are unchanged across reloads.
uint64_t TargetHash(const TargetSpec& spec);

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_TARGET_H_
