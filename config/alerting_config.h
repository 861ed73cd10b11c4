// The `alerting` section (Prometheus 2.42: where alerts are sent) and
// Vigil's own `notifications` section (routing alerts to webhooks, chat and
// pager without an Alertmanager): plain validated structs.
//
// Errors are InvalidArgument "<file>:<line>: <what>", like the rest of
// config/.
//
//   notifications:
//     route:                      # the root route; receiver required
//       receiver: chat
//       group_by: [alertname]     # ['...'] groups by all labels
//       group_wait: 30s           # defaults as Alertmanager's
//       group_interval: 5m
//       repeat_interval: 4h
//       routes:
//         - matchers: ['severity="page"']
//           receiver: pager
//           continue: false
//     inhibit_rules:
//       - source_matchers: ['severity="page"']
//         target_matchers: ['severity="warning"']
//         equal: [alertname, instance]
//     receivers:
//       - name: chat
//         chat_configs: [{url: https://hooks.slack.com/services/..., title: '...', text: '...'}]
//       - name: pager
//         pager_configs: [{routing_key: 0123456789abcdef0123456789abcdef}]
//       - name: hook
//         webhook_configs: [{url: http://..., max_alerts: 0, headers: {X-Token: abc}}]
#ifndef VIGIL_CONFIG_ALERTING_CONFIG_H_
#define VIGIL_CONFIG_ALERTING_CONFIG_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/scrape_config.h"
#include "model/matcher.h"
#include "yaml-cpp/yaml.h"

namespace vigil::config {

// One entry of alerting.alertmanagers.
struct AlertmanagerConfig {
  HttpClientConfig http;  // basic_auth, authorization, tls_config, ...
  std::string scheme = "http";
  std::string path_prefix;  // "" or starting with "/"
  absl::Duration timeout = absl::Seconds(10);
  std::string api_version = "v2";  // Only v2 (as Prometheus 2.42 accepts v1 too, v1 is refused here).
  std::vector<TargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<RelabelConfig> relabel_configs;
  int line = 0;
};

struct AlertingConfig {
  std::vector<RelabelConfig> alert_relabel_configs;
  std::vector<AlertmanagerConfig> alertmanagers;
};

// A route of the notification tree. Durations are resolved: a child
// without one inherits its parent's (the root's defaults are
// Alertmanager's: 30s, 5m, 4h); likewise receiver and group_by.
struct Route {
  std::string receiver;
  std::vector<std::string> group_by;
  bool group_by_all = false;  // group_by: ['...']
  // Alertmanager matcher syntax: name="v", name!="v", name=~"re", name!~"re"
  // (quotes optional for simple values). All must match.
  std::vector<model::Matcher> matchers;
  bool continue_matching = false;  // `continue`
  absl::Duration group_wait = absl::Seconds(30);
  absl::Duration group_interval = absl::Minutes(5);
  absl::Duration repeat_interval = absl::Hours(4);
  std::vector<Route> routes;
  int line = 0;
};

struct InhibitRule {
  std::vector<model::Matcher> source_matchers;
  std::vector<model::Matcher> target_matchers;
  std::vector<std::string> equal;
  int line = 0;
};

// Alertmanager's webhook payload version 4.
struct WebhookReceiverConfig {
  std::string url;  // Required; http or https.
  int max_alerts = 0;  // 0: all.
  std::vector<std::pair<std::string, std::string>> headers;
  absl::Duration timeout = absl::Seconds(10);
  HttpClientConfig http;  // tls_config (ca_file ...), basic_auth, authorization
  bool send_resolved = true;
  int line = 0;
};

// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat).
struct ChatReceiverConfig {
  std::string url;  // Required.
  // Go text/template over Alertmanager's notification data (.Status,
  // .Alerts, .GroupLabels, .CommonLabels, .CommonAnnotations, .ExternalURL,
  // .Receiver); empty: Vigil's defaults.
  std::string title;
  std::string text;
  std::string channel;  // Optional override.
  absl::Duration timeout = absl::Seconds(10);
  HttpClientConfig http;
  bool send_resolved = true;
  int line = 0;
};

// PagerDuty Events API v2.
struct PagerReceiverConfig {
  std::string routing_key;  // Required: 32 characters [a-zA-Z0-9].
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::string source;    // Empty: the first alert's instance label, else "vigil".
  std::string severity;  // Empty: from the alerts' severity label.
  absl::Duration timeout = absl::Seconds(10);
  HttpClientConfig http;
  bool send_resolved = true;
  int line = 0;
};

struct ReceiverConfig {
  std::string name;
  std::vector<WebhookReceiverConfig> webhook_configs;
  std::vector<ChatReceiverConfig> chat_configs;
  std::vector<PagerReceiverConfig> pager_configs;
  int line = 0;
};

struct NotificationsConfig {
  bool enabled = false;  // The section is present.
  Route route;
  std::vector<InhibitRule> inhibit_rules;
  std::vector<ReceiverConfig> receivers;
  // Retries of one notification: exponential backoff with jitter from
  // retry_initial up to retry_max, given up after retry_give_up.
  absl::Duration retry_initial = absl::Seconds(1);
  absl::Duration retry_max = absl::Minutes(1);
  absl::Duration retry_give_up = absl::Hours(1);
};

// Parse the sections (node as kept in Config::alerting / notifications;
// an undefined or null node is an empty section). `file` is for messages;
// relative file paths (tls files, password_file, file_sd files) stay as
// written: ResolveAlertingPaths makes them relative to `dir`.
absl::StatusOr<AlertingConfig> ParseAlertingConfig(const YAML::Node& node,
                                                   absl::string_view file);
absl::StatusOr<NotificationsConfig> ParseNotificationsConfig(const YAML::Node& node,
                                                             absl::string_view file);
void ResolveAlertingPaths(absl::string_view dir, AlertingConfig* a, NotificationsConfig* n);

// Parses an Alertmanager-style matcher: `name="value"`, `name!=value`,
// `name=~"re"`, `name!~"re"`.
absl::StatusOr<model::Matcher> ParseAlertMatcher(absl::string_view s);

}  // namespace vigil::config

#endif  // VIGIL_CONFIG_ALERTING_CONFIG_H_
