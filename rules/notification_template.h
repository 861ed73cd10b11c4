// Chat titles and texts of the built-in receivers (alerting/): Go
// text/template over Alertmanager's notification data with Alertmanager's
// functions, as in an Alertmanager `slack_configs` title or text, so that
// templates move over from Alertmanager unchanged.
//
//   BuildIntegrations(receiver, sender, retry, NotificationTemplateRenderer());
#ifndef VIGIL_RULES_NOTIFICATION_TEMPLATE_H_
#define VIGIL_RULES_NOTIFICATION_TEMPLATE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "alerting/notification.h"
#include "alerting/payloads.h"
#include "config/config.h"
#include "rules/template.h"

namespace vigil::rules {

// What a notification template sees for `n`: status per alert at n.now,
// the end time only for resolved alerts (Go's zero time for firing ones, as
// in the webhook payload), fingerprints as Alertmanager prints them, common
// labels and annotations over all alerts.
NotificationTemplateData NotificationTemplateDataOf(const alerting::Notification& n);

// A renderer that parses each distinct template text once (thread-safe)
// and executes it over NotificationTemplateDataOf(n). Parse and execution
// errors are returned (the receiver then reports the delivery as failed).
alerting::TemplateRenderer NotificationTemplateRenderer();

// Parses `text` as a notification template: what config checks report.
absl::Status CheckNotificationTemplate(absl::string_view name, absl::string_view text);

// Parses every chat title and text template of `c`'s notifications
// section. Error: `<file>:<line>: receiver "chat": chat_configs title
// template: template: notification:1: function "humanize" not defined`.
absl::Status CheckNotificationTemplates(const config::Config& c);

}  // namespace vigil::rules

#endif  // VIGIL_RULES_NOTIFICATION_TEMPLATE_H_
