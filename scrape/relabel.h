// Relabeling as Prometheus 2.42 does it (relabel_configs for targets,
// metric_relabel_configs for scraped series): every action, regexes
// anchored as ^(?:regex)$ under RE2, `$1`/`${name}` expansion in
// replacement and target_label.
//
//   ASSIGN_OR_RETURN(Relabeler r, Relabeler::Compile(cfg.relabel_configs));
//   model::LabelsBuilder b(labels);
//   if (!r.Process(&b)) { /* dropped */ }
//
// A compiled Relabeler is immutable and thread-safe.
#ifndef VIGIL_SCRAPE_RELABEL_H_
#define VIGIL_SCRAPE_RELABEL_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "config/scrape_config.h"
#include "model/labels.h"

namespace vigil::scrape {

class Relabeler {
 public:
  // Fails (InvalidArgument naming the config's line) only if a regex does
  // not compile, which config/ has already checked.
  static absl::StatusOr<Relabeler> Compile(
      const std::vector<config::RelabelConfig>& configs);

  Relabeler() = default;  // No steps: keeps everything.

  // Applies the steps in order to `labels`. Returns false when a step drops
  // the label set (keep, drop, keepequal, dropequal); `labels` is then in an
  // unspecified state.
  bool Process(model::LabelsBuilder* labels) const;
  // Convenience: the relabeled set, or nullopt when dropped.
  std::optional<model::Labels> Process(const model::Labels& labels) const;

  bool empty() const { return steps_.empty(); }

 private:
  struct Step;
  std::vector<std::shared_ptr<const Step>> steps_;
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_RELABEL_H_
