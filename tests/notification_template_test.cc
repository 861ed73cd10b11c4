// Chat templates render as in Alertmanager: the same title and text
// templates go into a real Alertmanager 0.25 (Debian's
// prometheus-alertmanager) as `slack_configs` pointed at a local sink, and
// into Vigil's renderer (rules/notification_template.h) over the same alert
// group; the rendered texts must be equal.
#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "alerting/notification.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "model/labels.h"
#include "rules/notification_template.h"
#include "tests/http_sink.h"
#include "tests/prometheus_api.h"
#include "tests/vigil_process.h"

namespace vigil::testing {
namespace {

constexpr char kAlertmanager[] = "/usr/bin/prometheus-alertmanager";
constexpr char kExternalUrl[] = "http://am.example:9093";

// Each template is the text of one slack_configs entry (its channel is
// "#t<index>"); its title is the title template below.
const std::vector<std::string>& Templates() {
  static const auto* t = new std::vector<std::string>{
      // Top-level fields and the Alerts methods.
      R"({{ .Receiver }}|{{ .Status }}|{{ .ExternalURL }}|{{ len .Alerts }}|{{ len .Alerts.Firing }}|{{ len .Alerts.Resolved }})",
      // Every field of every alert.
      R"({{ range .Alerts }}{{ .Status }} {{ .Labels.instance }} {{ .StartsAt }} {{ .EndsAt }} {{ .Fingerprint }} {{ .GeneratorURL }} {{ .Annotations.summary }}
{{ end }})",
      // Alertmanager's default Slack title (template "__subject").
      R"([{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }})",
      // KV and Pairs, printed and ranged over.
      R"({{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}|{{ .CommonAnnotations.SortedPairs }}|{{ .GroupLabels }}|{{ .CommonLabels.Names }}|{{ .CommonLabels.SortedPairs.Names }})",
      // Functions.
      R"({{ title "disk full" }} {{ toUpper "x" }} {{ toLower "Y" }} {{ match "^Disk" .CommonLabels.alertname }} {{ reReplaceAll ":.*" "" (index .Alerts 0).Labels.instance }} {{ stringSlice "a" "b" | join "+" }} {{ safeHtml "<b>" }} {{ printf "%q %d" .Status (len .Alerts) }})",
      // Structs and slices printed whole; time methods.
      R"({{ .Alerts.Resolved }}|{{ (index .Alerts 0).StartsAt.Unix }}|{{ index .Alerts.Firing 1 }})",
      // Control structures.
      R"({{ define "line" }}- {{ .Labels.instance }}{{ if .Annotations.runbook }} <{{ .Annotations.runbook }}>{{ end }}{{ end }}{{ range $i, $a := .Alerts.Firing }}{{ if $i }}, {{ end }}{{ template "line" $a }}{{ else }}none{{ end }}{{ with .CommonAnnotations.nothing }}x{{ else }} (no common){{ end }})",
  };
  return *t;
}
constexpr char kTitle[] = R"({{ .CommonLabels.alertname }} on {{ .CommonLabels.team | title }})";

std::string Indent(const std::string& s, const std::string& by) {
  return by + absl::StrReplaceAll(s, {{"\n", "\n" + by}});
}

class NotificationTemplateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = MissingBinaries({kCurl, kJq, kAlertmanager});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/notification_template_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (am_.pid > 0) StopProcess(&am_, SIGTERM, absl::Seconds(20));
    if (!dir_.empty() && !HasFailure()) std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(WriteFileAtomic(path, text).ok());
    return path;
  }

  std::string dir_;
  Proc am_;
};

TEST_F(NotificationTemplateTest, RendersAsAlertmanager) {
  Sink sink(Statuses({}));
  std::string cfg = R"(route:
  receiver: chat
  group_by: [alertname, team]
  group_wait: 1s
  group_interval: 10m
  repeat_interval: 10h
receivers:
  - name: chat
    slack_configs:
)";
  for (size_t i = 0; i < Templates().size(); ++i) {
    absl::StrAppend(&cfg, "      - api_url: ", sink.url(), "\n        channel: '#t", i,
                    "'\n        send_resolved: true\n        title: |-\n",
                    Indent(kTitle, "          "), "\n        text: |-\n",
                    Indent(Templates()[i], "          "), "\n");
  }
  const int port = FreePort();
  am_ = StartProcess(kAlertmanager,
                     {"--config.file=" + Write("am.yml", cfg), "--storage.path=" + dir_ + "/am",
                      absl::StrCat("--web.listen-address=127.0.0.1:", port),
                      std::string("--web.external-url=") + kExternalUrl,
                      "--cluster.listen-address="});
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(port, "/-/ready").ok(); }, absl::Seconds(30), {&am_}))
      << am_.log;

  // One group: two firing alerts and one resolved (its end already past).
  const absl::Time now = absl::Now();
  const absl::Time starts = absl::FromUnixMillis(1764896400250);  // .25 s: fraction printed
  struct In {
    std::string instance;
    bool resolved;
  };
  std::vector<alerting::Alert> alerts;
  std::string json = "[";
  for (const In& in : {In{"a:9100", false}, In{"b:9100", true}, In{"c:9100", false}}) {
    alerting::Alert a;
    a.labels = model::Labels::FromPairs({{"alertname", "DiskFull"},
                                         {"instance", in.instance},
                                         {"severity", "page"},
                                         {"team", "storage"}});
    a.annotations = {{"runbook", "http://rb.example/disk"}, {"summary", in.instance + " is full"}};
    if (in.instance == "c:9100") a.annotations.erase(a.annotations.begin());
    a.starts_at = starts;
    // Whole seconds: Alertmanager's JSON and ours then agree exactly.
    a.ends_at = absl::FromUnixSeconds(absl::ToUnixSeconds(in.resolved ? now - absl::Seconds(30)
                                                                      : now + absl::Hours(1)));
    a.generator_url = "http://vigil:9090/graph?g0.expr=disk&g0.tab=1";
    if (json.size() > 1) json += ",";
    absl::StrAppend(&json, R"({"labels":{"alertname":"DiskFull","instance":")", in.instance,
                    R"(","severity":"page","team":"storage"},"annotations":{)");
    for (size_t k = 0; k < a.annotations.size(); ++k) {
      absl::StrAppend(&json, k ? "," : "", "\"", a.annotations[k].first, "\":\"",
                      a.annotations[k].second, "\"");
    }
    absl::StrAppend(&json, R"(},"startsAt":"2025-12-05T01:00:00.25Z","endsAt":")",
                    absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", a.ends_at, absl::UTCTimeZone()),
                    R"(","generatorURL":")", a.generator_url, "\"}");
    alerts.push_back(std::move(a));
  }
  json += "]";
  const std::string body = Write("alerts.json", json);
  absl::StatusOr<std::string> posted =
      RunShell(absl::StrCat(kCurl, " -sf -XPOST -H 'Content-Type: application/json' --data @",
                            body, " http://127.0.0.1:", port, "/api/v2/alerts"));
  ASSERT_TRUE(posted.ok()) << posted.status() << "\n" << json;

  const size_t n = Templates().size();
  ASSERT_TRUE(WaitUntil([&] { return sink.count() >= n; }, absl::Seconds(30), {&am_}))
      << "Alertmanager sent " << sink.count() << " of " << n << " messages\n"
      << am_.log;

  // What Alertmanager rendered, by channel.
  std::map<std::string, std::pair<std::string, std::string>> got;
  int k = 0;
  for (const Sink::Received& r : sink.received()) {
    const std::string file = Write(absl::StrCat("slack", k++, ".json"), r.body);
    absl::StatusOr<std::string> channel = Jq(".channel", file);
    absl::StatusOr<std::string> title = Jq(".attachments[0].title", file);
    absl::StatusOr<std::string> text = Jq(".attachments[0].text", file);
    ASSERT_TRUE(channel.ok() && title.ok() && text.ok()) << r.body;
    got[*channel] = {*title, *text};
  }

  alerting::Notification notification;
  notification.receiver = "chat";
  notification.group_labels =
      model::Labels::FromPairs({{"alertname", "DiskFull"}, {"team", "storage"}});
  notification.alerts = alerts;
  notification.now = absl::Now();
  notification.external_url = kExternalUrl;
  alerting::TemplateRenderer render = rules::NotificationTemplateRenderer();
  for (size_t i = 0; i < n; ++i) {
    const std::string channel = absl::StrCat("#t", i);
    ASSERT_TRUE(got.count(channel)) << channel << " missing";
    absl::StatusOr<std::string> title = render(kTitle, notification);
    absl::StatusOr<std::string> text = render(Templates()[i], notification);
    ASSERT_TRUE(title.ok()) << title.status();
    ASSERT_TRUE(text.ok()) << Templates()[i] << "\n" << text.status();
    EXPECT_EQ(*title, got[channel].first);
    EXPECT_EQ(*text, got[channel].second) << "template: " << Templates()[i];
  }
}

}  // namespace
}  // namespace vigil::testing
