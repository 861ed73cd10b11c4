// Notification templates (Alertmanager's data and functions) over a
// Notification as the router builds it. tests/notification_template_test.cc
// compares the same rendering with a real Alertmanager's.
#include "rules/notification_template.h"

#include <string>

#include "absl/time/time.h"
#include "alerting/alert.h"
#include "gtest/gtest.h"
#include "model/labels.h"

namespace vigil::rules {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

alerting::Alert MakeAlert(const std::string& instance, bool resolved) {
  alerting::Alert a;
  a.labels = model::LabelsBuilder()
                 .Set("alertname", "DiskFull")
                 .Set("instance", instance)
                 .Set("severity", "page")
                 .Set("team", "storage")
                 .Build();
  a.annotations = {{"summary", instance + " is full"}, {"runbook", "http://rb/disk"}};
  a.starts_at = kNow - absl::Minutes(10);
  a.ends_at = resolved ? kNow - absl::Seconds(30) : kNow + absl::Minutes(4);
  a.generator_url = "http://vigil:9090/graph?g0.expr=up";
  return a;
}

alerting::Notification MakeNotification() {
  alerting::Notification n;
  n.receiver = "chat";
  n.group_key = R"({}:{alertname="DiskFull", team="storage"})";
  n.group_labels =
      model::LabelsBuilder().Set("alertname", "DiskFull").Set("team", "storage").Build();
  n.alerts = {MakeAlert("a:9100", false), MakeAlert("b:9100", true), MakeAlert("c:9100", false)};
  n.now = kNow;
  n.external_url = "http://vigil:9090";
  return n;
}

std::string Render(const std::string& text) {
  absl::StatusOr<std::string> out = NotificationTemplateRenderer()(text, MakeNotification());
  if (!out.ok()) return "ERROR: " + std::string(out.status().message());
  return *out;
}

TEST(NotificationTemplateTest, TopLevelFields) {
  EXPECT_EQ(Render("{{ .Receiver }} {{ .Status }} {{ .ExternalURL }} {{ len .Alerts }}"),
            "chat firing http://vigil:9090 3");
  EXPECT_EQ(Render("{{ .GroupLabels.alertname }}/{{ .CommonLabels.team }}/"
                   "{{ .CommonAnnotations.runbook }}/{{ .CommonAnnotations.summary }}"),
            "DiskFull/storage/http://rb/disk/");
}

TEST(NotificationTemplateTest, FiringAndResolved) {
  EXPECT_EQ(Render("[{{ .Status | toUpper }}:{{ .Alerts.Firing | len }}] "
                   "{{ range .Alerts.Resolved }}{{ .Labels.instance }}{{ end }}"),
            "[FIRING:2] b:9100");
  EXPECT_EQ(Render("{{ range $i, $a := .Alerts }}{{ $i }}={{ $a.Status }} {{ end }}"),
            "0=firing 1=resolved 2=firing ");
}

TEST(NotificationTemplateTest, KvMethods) {
  EXPECT_EQ(Render("{{ .GroupLabels.SortedPairs.Values | join \" \" }}"), "DiskFull storage");
  EXPECT_EQ(Render("{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}"),
            "alertname=DiskFull;severity=page;team=storage;");
  EXPECT_EQ(Render("{{ .CommonLabels.Names }}"), "[alertname severity team]");
  EXPECT_EQ(Render("{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join \",\" }}"
                   "{{ end }}"),
            "page");
  EXPECT_EQ(Render("{{ (index .Alerts 0).Labels.Remove (stringSlice \"instance\" \"team\") }}"),
            "map[alertname:DiskFull severity:page]");
}

TEST(NotificationTemplateTest, AlertFields) {
  EXPECT_EQ(Render("{{ with index .Alerts 1 }}{{ .StartsAt }}|{{ .EndsAt }}|{{ .Fingerprint }}|"
                   "{{ .GeneratorURL }}{{ end }}"),
            "2023-11-14 22:03:20 +0000 UTC|2023-11-14 22:12:50 +0000 UTC|" +
                alerting::FingerprintHex(MakeAlert("b:9100", true).labels) +
                "|http://vigil:9090/graph?g0.expr=up");
  // A firing alert's end is not shown: Go's zero time.
  EXPECT_EQ(Render("{{ (index .Alerts 0).EndsAt }}"), "0001-01-01 00:00:00 +0000 UTC");
  EXPECT_EQ(Render("{{ (index .Alerts 0).StartsAt.Unix }}"), "1699999400");
}

TEST(NotificationTemplateTest, AlertmanagerFunctions) {
  EXPECT_EQ(Render("{{ title \"disk full\" }} {{ toLower \"ABC\" }} {{ trimSpace \"  x y \\n\" }}"),
            "Disk Full abc x y");
  EXPECT_EQ(Render("{{ if match \"^Disk\" .CommonLabels.alertname }}yes{{ end }}"), "yes");
  EXPECT_EQ(Render("{{ reReplaceAll \":.*\" \"\" (index .Alerts 0).Labels.instance }}"), "a");
  EXPECT_EQ(Render("{{ stringSlice \"a\" \"b\" | join \"+\" }}"), "a+b");
  EXPECT_EQ(Render("{{ define \"x\" }}<{{ . }}>{{ end }}{{ template \"x\" .Status }}"),
            "<firing>");
}

TEST(NotificationTemplateTest, Errors) {
  // Prometheus's rule functions are not Alertmanager's.
  EXPECT_EQ(Render("{{ humanize 1 }}"),
            "ERROR: template: notification:1: function \"humanize\" not defined");
  EXPECT_EQ(Render("{{ .Nope }}"),
            "ERROR: template: notification:1:3: executing \"notification\" at <.Nope>: can't "
            "evaluate field Nope in type *template.Data");
  EXPECT_EQ(Render("{{ .Alerts.Firing 1 }}"),
            "ERROR: template: notification:1:10: executing \"notification\" at <.Alerts.Firing>: "
            "wrong number of args for Firing: want 0 got 1");
  EXPECT_TRUE(CheckNotificationTemplate("t", "{{ join \",\" .CommonLabels.Names }}").ok());
  EXPECT_FALSE(CheckNotificationTemplate("t", "{{ if }}").ok());
}

TEST(NotificationTemplateTest, ResolvedGroup) {
  alerting::Notification n = MakeNotification();
  n.alerts = {MakeAlert("b:9100", true)};
  absl::StatusOr<std::string> out =
      NotificationTemplateRenderer()("{{ .Status }} {{ len .Alerts.Firing }}", n);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "resolved 0");
}

}  // namespace
}  // namespace vigil::rules
