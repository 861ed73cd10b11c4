// The integrations of a receiver: webhook (Alertmanager's webhook payload
// v4), chat (Slack-compatible incoming webhooks) and pager (PagerDuty Events
// API v2), each an alerting::Integration that builds its payload
// (alerting/payloads.h) and delivers it over an HttpSender with retries.
//
//   RetryPolicy retry{cfg.retry_initial, cfg.retry_max};
//   std::vector<std::unique_ptr<Integration>> integrations =
//       BuildIntegrations(receiver_cfg, sender, retry, renderer);
//   int attempts = 0;
//   absl::Status s = integrations[0]->Notify(n, deadline, &cancel, &attempts);
//
// As in Alertmanager, an integration with send_resolved: false drops the
// resolved alerts from what it sends, and sends nothing (OK, 0 attempts)
// when none is left.
//
// Integrations are immutable after construction and thread-safe: Notify may
// run for several groups at once. The sender must outlive them.
#ifndef VIGIL_ALERTING_RECEIVERS_H_
#define VIGIL_ALERTING_RECEIVERS_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerting/http.h"
#include "alerting/notification.h"
#include "alerting/payloads.h"
#include "config/alerting_config.h"

namespace vigil::alerting {

// Backoff between attempts of one delivery (config::NotificationsConfig's
// retry_initial and retry_max): the n-th retry waits a random time in
// [d/2, d] with d = min(max, initial * 2^(n-1)), or the server's
// Retry-After if that is longer.
struct RetryPolicy {
  absl::Duration initial = absl::Seconds(1);
  absl::Duration max = absl::Minutes(1);
};

// Largest part of a response body quoted in errors and logs.
inline constexpr size_t kMaxErrorBodyBytes = 512;

// The delay a Retry-After header value asks for: delay-seconds ("120") or
// an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT", also RFC 850 and asctime
// forms), relative to `now` and at least zero. nullopt when unparsable.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

// POSTs `post` until it is delivered (2xx), retrying on transport errors
// (Unavailable, DeadlineExceeded, DataLoss, ...), 429 and 5xx with
// `policy`'s backoff and Retry-After (on 429 and 503), each attempt limited
// to min(post.timeout, time left). Returns:
//   OK                  delivered;
//   FailedPrecondition  any other non-2xx status (not retried; logged);
//   InvalidArgument     the sender refused the request (bad URL, TLS files);
//   Cancelled           the sender is shutting down (not retried), or
//                       `*cancel` became true (checked at least every 20 ms
//                       while waiting);
//   the last error      when the next attempt would start after `deadline`.
// Error messages name `what` (e.g. "webhook"), the HTTP status and the
// response body cut to kMaxErrorBodyBytes. `attempts` (if non-null) is set
// to the number of requests made. `cancel` may be null.
absl::Status DeliverWithRetry(HttpSender* sender, const HttpPost& post,
                              const RetryPolicy& policy, absl::string_view what,
                              absl::Time deadline, const std::atomic<bool>* cancel,
                              int* attempts);

// Alertmanager's webhook_config.
class WebhookIntegration final : public Integration {
 public:
  WebhookIntegration(config::WebhookReceiverConfig config, HttpSender* sender,
                     RetryPolicy policy);
  const char* kind() const override { return "webhook"; }
  bool send_resolved() const override { return config_.send_resolved; }
  absl::Status Notify(const Notification& n, absl::Time deadline,
                      const std::atomic<bool>* cancel, int* attempts) override;

 private:
  const config::WebhookReceiverConfig config_;
  HttpSender* const sender_;
  const RetryPolicy policy_;
};

// A Slack-compatible incoming webhook. A title or text template that fails
// to render is logged and replaced by the default, so the alert still
// goes out.
class ChatIntegration final : public Integration {
 public:
  ChatIntegration(config::ChatReceiverConfig config, HttpSender* sender, RetryPolicy policy,
                  TemplateRenderer render);
  const char* kind() const override { return "chat"; }
  bool send_resolved() const override { return config_.send_resolved; }
  absl::Status Notify(const Notification& n, absl::Time deadline,
                      const std::atomic<bool>* cancel, int* attempts) override;

 private:
  const config::ChatReceiverConfig config_;
  HttpSender* const sender_;
  const RetryPolicy policy_;
  const TemplateRenderer render_;
};

// PagerDuty Events API v2: a trigger while the group has a firing alert,
// a resolve (same dedup_key) once it has none.
class PagerIntegration final : public Integration {
 public:
  PagerIntegration(config::PagerReceiverConfig config, HttpSender* sender, RetryPolicy policy);
  const char* kind() const override { return "pager"; }
  bool send_resolved() const override { return config_.send_resolved; }
  absl::Status Notify(const Notification& n, absl::Time deadline,
                      const std::atomic<bool>* cancel, int* attempts) override;

 private:
  const config::PagerReceiverConfig config_;
  HttpSender* const sender_;
  const RetryPolicy policy_;
};

// The receiver's integrations: its webhook_configs, then chat_configs, then
// pager_configs, each in config order. `sender` must outlive them.
std::vector<std::unique_ptr<Integration>> BuildIntegrations(const config::ReceiverConfig& r,
                                                            HttpSender* sender,
                                                            RetryPolicy policy,
                                                            TemplateRenderer render);

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_RECEIVERS_H_
