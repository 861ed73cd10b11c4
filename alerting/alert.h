// An alert as it leaves the rule evaluator: what Prometheus 2.42 sends to
// an Alertmanager (notifier.Alert) and what Vigil's own router groups and
// delivers.
#ifndef VIGIL_ALERTING_ALERT_H_
#define VIGIL_ALERTING_ALERT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "model/labels.h"

namespace vigil::alerting {

struct Alert {
  // Identity: the alert's labels (alertname, the series' labels, the
  // rule's labels; external labels are added by the notifier).
  model::Labels labels;
  // Sorted by name; templated.
  std::vector<std::pair<std::string, std::string>> annotations;
  // InfinitePast means unset (not sent in JSON).
  absl::Time starts_at = absl::InfinitePast();
  // For a firing alert the time it is valid until (Prometheus: now +
  // 4 * max(evaluation interval, resend delay)); for a resolved one the
  // time it resolved.
  absl::Time ends_at = absl::InfinitePast();
  std::string generator_url;

  // Resolved at `now`: ends_at is set and not after `now`.
  bool ResolvedAt(absl::Time now) const {
    return ends_at != absl::InfinitePast() && ends_at <= now;
  }
};

// Alertmanager's fingerprint of a label set (prometheus/common model
// LabelSet.Fingerprint: FNV-1a 64 over the sorted name/value pairs, each
// followed by a 0xff separator byte), as used for the webhook
// `fingerprint` field.
uint64_t Fingerprint(const model::Labels& labels);
// The fingerprint as Alertmanager prints it: 16 lower-case hex digits.
std::string FingerprintHex(const model::Labels& labels);

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_ALERT_H_
