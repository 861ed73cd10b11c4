// The request bodies of the three kinds of integration, built from a
// Notification without any I/O so that they can be checked field by field:
//
//   webhook: Alertmanager's webhook payload, version 4, so that existing
//            webhook consumers work unchanged;
//   chat:    a Slack-compatible incoming-webhook message (`text` for
//            Mattermost, Rocket.Chat and notifications, plus Block Kit
//            `blocks` for Slack);
//   pager:   a PagerDuty Events API v2 event (trigger or resolve).
//
// All functions are pure and thread-safe.
#ifndef VIGIL_ALERTING_PAYLOADS_H_
#define VIGIL_ALERTING_PAYLOADS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerting/notification.h"
#include "base/json.h"
#include "config/alerting_config.h"
#include "model/labels.h"

namespace vigil::alerting {

// Renders a chat title or text template (Go text/template over
// Alertmanager's notification data) for `n`. Supplied by the caller (rules/
// owns the template engine); an empty function means "no templating": the
// configured string is used as it is.
using TemplateRenderer =
    std::function<absl::StatusOr<std::string>(const std::string& tmpl, const Notification& n)>;

// ---- Shared pieces -------------------------------------------------------

// "firing" or "resolved" for one alert at `now`.
const char* AlertStatus(const Alert& a, absl::Time now);

// The labels whose name and value are the same in every alert (Alertmanager's
// commonLabels); empty for no alerts.
model::Labels CommonLabels(const std::vector<Alert>& alerts);
// Likewise for annotations; sorted by name.
std::vector<std::pair<std::string, std::string>> CommonAnnotations(
    const std::vector<Alert>& alerts);

// Go's time.Time JSON form (RFC 3339 with nanoseconds, trailing zeros
// dropped), in UTC, without quotes; absl::InfinitePast() is Go's zero time
// "0001-01-01T00:00:00Z".
std::string GoTime(absl::Time t);

using ::vigil::AppendJsonString;  // base/json.h

// `s` cut to at most `max_chars` code points; when cut, the last one kept
// is "…" (U+2026). Never splits a UTF-8 sequence.
std::string TruncateChars(absl::string_view s, size_t max_chars);

// ---- Webhook ---------------------------------------------------------------

// Alertmanager's webhook message version 4, as its Go encoder writes it
// (fields in Alertmanager's order, a trailing newline). With max_alerts > 0
// only the first max_alerts alerts are sent and `truncatedAlerts` counts the
// rest; status, commonLabels and commonAnnotations describe the alerts sent,
// as in Alertmanager. A firing alert's `endsAt` is Go's zero time
// (Alertmanager hides an end time not yet reached); so is an unset
// `startsAt`.
std::string BuildWebhookPayload(const Notification& n, int max_alerts);

// ---- Chat ------------------------------------------------------------------

// Slack's Block Kit limits.
inline constexpr size_t kChatHeaderMaxChars = 150;
inline constexpr size_t kChatSectionMaxChars = 3000;
inline constexpr size_t kChatMaxBlocks = 50;
// Slack truncates a message's top-level `text` past this.
inline constexpr size_t kChatTextMaxChars = 40000;

// `[FIRING:2] HighLatency`, `[RESOLVED] HighLatency`: the status, the number
// of firing alerts, and the group labels' values (in label order), else the
// alerts' common alertname.
std::string DefaultChatTitle(const Notification& n);
// One entry per alert (in the notification's order), in Slack mrkdwn
// (&, <, > escaped): alert name, severity, resolved marker, the `summary`
// annotation (else `description`), the `value` annotation when present,
// and a link to the generator URL. Entries are separated by blank lines.
std::string DefaultChatText(const Notification& n);

struct ChatMessage {
  std::string title;  // Plain text.
  std::string text;   // Slack mrkdwn.
};

// The title and text for `n`: the configured templates rendered with
// `render` (or used as they are when `render` is empty), the defaults where
// the config leaves them empty. Errors: the renderer's error, prefixed with
// which template failed.
absl::StatusOr<ChatMessage> RenderChatMessage(const config::ChatReceiverConfig& c,
                                              const Notification& n,
                                              const TemplateRenderer& render);

// The incoming-webhook JSON: `channel` (when configured), `text` (title and
// text, for clients that ignore blocks), and `blocks`: a header block
// (plain_text title, at most 150 chars) and section blocks (mrkdwn, at most
// 3000 chars each; the text is split at line ends, at most 49 sections).
std::string BuildChatPayload(const config::ChatReceiverConfig& c, const ChatMessage& m);

// ---- Pager -----------------------------------------------------------------

inline constexpr size_t kPagerSummaryMaxChars = 1024;
// At most this many alerts are listed in custom_details (PagerDuty refuses
// events over 512 kB).
inline constexpr size_t kPagerMaxDetailAlerts = 100;

// PagerDuty's severity for an alert `severity` label value:
// critical/page/crit -> critical, error/err -> error, warning/warn ->
// warning, anything else -> info (case-insensitive).
const char* PagerSeverity(absl::string_view label_value);

// A key that is the same for every event of one alert group of one
// receiver, in every process: 32 hex digits of a stable hash of the
// receiver name and the group key.
std::string PagerDedupKey(const Notification& n);

// An Events API v2 event. When the group has a firing alert: a trigger with
// routing_key, event_action, dedup_key, payload (summary ≤ 1024 chars,
// source, severity, timestamp of the earliest firing alert, custom_details
// with num_firing, num_resolved and the alerts' status, labels and
// annotations), client "Vigil" and client_url (the external URL). When the
// group is resolved: only routing_key, event_action "resolve" and
// dedup_key.
std::string BuildPagerPayload(const config::PagerReceiverConfig& c, const Notification& n);

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_PAYLOADS_H_
