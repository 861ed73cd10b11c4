// What the router (alerting/router.h) hands to a receiver's integrations:
// one aggregation group's alerts at one flush, and the interface each kind
// of integration (webhook, chat, pager: alerting/receivers.h) implements.
#ifndef VIGIL_ALERTING_NOTIFICATION_H_
#define VIGIL_ALERTING_NOTIFICATION_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "model/labels.h"

namespace vigil::alerting {

struct Notification {
  std::string receiver;  // The receiver's name.
  // Alertmanager's group key: the route's matcher path and the group
  // labels, e.g. `{}/{severity="page"}:{alertname="HighLatency"}`.
  std::string group_key;
  model::Labels group_labels;  // The route's group_by labels of this group.
  // Firing and resolved alerts of the group at `now`, sorted by labels.
  std::vector<Alert> alerts;
  absl::Time now;
  std::string external_url;  // Vigil's --web.external-url.

  // "firing" when any alert is firing at `now`, else "resolved".
  bool Firing() const {
    for (const Alert& a : alerts) {
      if (!a.ResolvedAt(now)) return true;
    }
    return false;
  }
};

// One delivery target of a receiver (one entry of its webhook_configs,
// chat_configs or pager_configs).
class Integration {
 public:
  virtual ~Integration() = default;
  // "webhook", "chat" or "pager".
  virtual const char* kind() const = 0;
  // Whether resolved notifications are sent.
  virtual bool send_resolved() const = 0;
  // Builds the payload for `n` and delivers it, retrying with exponential
  // backoff and jitter on network errors, 429 and 5xx (honouring
  // Retry-After) until `deadline` or until `*cancel` becomes true. No retry
  // on other 4xx. OK when delivered; otherwise the last error, whose
  // message includes the HTTP status and (truncated) response body.
  // `attempts` (if non-null) receives the number of requests made.
  virtual absl::Status Notify(const Notification& n, absl::Time deadline,
                              const std::atomic<bool>* cancel, int* attempts) = 0;
};

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_NOTIFICATION_H_
