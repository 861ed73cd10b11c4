#include "config/alerting_config.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "config/test_util.h"
#include "config/yaml_util.h"
#include "gtest/gtest.h"

namespace vigil::config {
namespace {

constexpr absl::string_view kFile = "cfg.yml";

// The node of top-level `section` in `yaml` (undefined when absent).
YAML::Node Section(absl::string_view yaml, absl::string_view section) {
  absl::StatusOr<YAML::Node> root = internal::LoadYaml(yaml, kFile);
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& r = *root;
  return r[std::string(section)];
}

absl::StatusOr<AlertingConfig> ParseA(absl::string_view yaml) {
  return ParseAlertingConfig(Section(yaml, "alerting"), kFile);
}

absl::StatusOr<NotificationsConfig> ParseN(absl::string_view yaml) {
  return ParseNotificationsConfig(Section(yaml, "notifications"), kFile);
}

AlertingConfig GoodA(absl::string_view yaml) {
  absl::StatusOr<AlertingConfig> a = ParseA(yaml);
  EXPECT_TRUE(a.ok()) << a.status() << "\n" << yaml;
  return a.ok() ? *std::move(a) : AlertingConfig();
}

NotificationsConfig GoodN(absl::string_view yaml) {
  absl::StatusOr<NotificationsConfig> n = ParseN(yaml);
  EXPECT_TRUE(n.ok()) << n.status() << "\n" << yaml;
  return n.ok() ? *std::move(n) : NotificationsConfig();
}

// The error message, which must be InvalidArgument.
template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& r) {
  EXPECT_FALSE(r.ok()) << "parsed without error";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

// Expects `message` to start with "cfg.yml:<line>: " and contain `part`.
void ExpectError(const std::string& message, int line, absl::string_view part) {
  std::string prefix = absl::StrCat(kFile, ":", line, ": ");
  EXPECT_TRUE(absl::StartsWith(message, prefix))
      << "want prefix " << prefix << " in: " << message;
  EXPECT_TRUE(absl::StrContains(message, part))
      << "want " << part << " in: " << message;
}

// "notifications:" is line 1, "route:" line 2 and "receiver: r" line 3;
// receivers r, p and w exist. `route_rest` continues the root route at
// indent 4 from line 4.
std::string WithRoute(absl::string_view route_rest) {
  return absl::StrCat(
      "notifications:\n"
      "  route:\n"
      "    receiver: r\n",
      route_rest,
      "  receivers:\n"
      "  - name: r\n"
      "  - name: p\n"
      "  - name: w\n");
}

// "notifications:" is line 1 ... "  - name: x" line 5; `fields` continue the
// receiver x at indent 4 from line 6.
std::string WithReceiver(absl::string_view fields) {
  return absl::StrCat(
      "notifications:\n"
      "  route:\n"
      "    receiver: x\n"
      "  receivers:\n"
      "  - name: x\n",
      fields);
}

constexpr absl::string_view kKey = "0123456789abcdefABCDEF0123456789";

// ---------------------------------------------------------------------------
// alerting

TEST(AlertingConfigTest, AbsentOrEmptySectionIsEmpty) {
  AlertingConfig a = GoodA("global: {}\n");
  EXPECT_TRUE(a.alertmanagers.empty());
  EXPECT_TRUE(a.alert_relabel_configs.empty());
  a = GoodA("alerting:\n");
  EXPECT_TRUE(a.alertmanagers.empty());
}

TEST(AlertingConfigTest, AlertmanagerDefaults) {
  AlertingConfig a = GoodA(
      "alerting:\n"
      "  alertmanagers:\n"
      "  - static_configs:\n"
      "    - targets: ['am1:9093', 'am2:9093']\n");
  ASSERT_EQ(a.alertmanagers.size(), 1u);
  const AlertmanagerConfig& am = a.alertmanagers[0];
  EXPECT_EQ(am.line, 3);
  EXPECT_EQ(am.scheme, "http");
  EXPECT_EQ(am.path_prefix, "");
  EXPECT_EQ(am.timeout, absl::Seconds(10));
  EXPECT_EQ(am.api_version, "v2");
  EXPECT_EQ(am.http, HttpClientConfig());
  ASSERT_EQ(am.static_configs.size(), 1u);
  ASSERT_EQ(am.static_configs[0].targets.size(), 2u);
  EXPECT_EQ(am.static_configs[0].targets[1].Get("__address__"), "am2:9093");
  EXPECT_EQ(am.static_configs[0].source, "0");
}

TEST(AlertingConfigTest, AlertmanagerAllFields) {
  AlertingConfig a = GoodA(
      "alerting:\n"
      "  alert_relabel_configs:\n"
      "  - action: labeldrop\n"
      "    regex: replica\n"
      "  alertmanagers:\n"
      "  - scheme: https\n"
      "    path_prefix: /am/\n"
      "    timeout: 5s\n"
      "    api_version: v2\n"
      "    basic_auth: {username: u, password_file: pw}\n"
      "    tls_config: {ca_file: ca.pem, server_name: am.example}\n"
      "    follow_redirects: false\n"
      "    file_sd_configs:\n"
      "    - files: [am/*.json]\n"
      "      refresh_interval: 1m\n"
      "    relabel_configs:\n"
      "    - source_labels: [__meta_x]\n"
      "      target_label: __alerts_path__\n");
  ASSERT_EQ(a.alert_relabel_configs.size(), 1u);
  EXPECT_EQ(a.alert_relabel_configs[0].action, RelabelAction::kLabelDrop);
  EXPECT_EQ(a.alert_relabel_configs[0].line, 3);
  ASSERT_EQ(a.alertmanagers.size(), 1u);
  const AlertmanagerConfig& am = a.alertmanagers[0];
  EXPECT_EQ(am.scheme, "https");
  EXPECT_EQ(am.path_prefix, "/am");
  EXPECT_EQ(am.timeout, absl::Seconds(5));
  ASSERT_TRUE(am.http.basic_auth.has_value());
  EXPECT_EQ(am.http.basic_auth->username, "u");
  EXPECT_EQ(am.http.basic_auth->password_file, "pw");
  EXPECT_EQ(am.http.tls.ca_file, "ca.pem");
  EXPECT_EQ(am.http.tls.server_name, "am.example");
  EXPECT_FALSE(am.http.follow_redirects);
  ASSERT_EQ(am.file_sd_configs.size(), 1u);
  EXPECT_EQ(am.file_sd_configs[0].files, std::vector<std::string>{"am/*.json"});
  EXPECT_EQ(am.file_sd_configs[0].refresh_interval, absl::Minutes(1));
  ASSERT_EQ(am.relabel_configs.size(), 1u);
  EXPECT_EQ(am.relabel_configs[0].target_label, "__alerts_path__");
}

TEST(AlertingConfigTest, BearerTokenBecomesAuthorization) {
  AlertingConfig a = GoodA(
      "alerting:\n"
      "  alertmanagers:\n"
      "  - bearer_token: tok\n");
  ASSERT_EQ(a.alertmanagers.size(), 1u);
  ASSERT_TRUE(a.alertmanagers[0].http.authorization.has_value());
  EXPECT_EQ(a.alertmanagers[0].http.authorization->type, "Bearer");
  EXPECT_EQ(a.alertmanagers[0].http.authorization->credentials, "tok");
}

TEST(AlertingConfigTest, PathPrefixNormalizedLikePrometheus) {
  const std::pair<const char*, const char*> cases[] = {
      {"''", ""},
      {"/", ""},
      {"am", "/am"},
      {"/am/", "/am"},
      {"a//b/./c/../d", "/a/b/d"},
      {"/..", ""},
      {"../x/", "/x"},
  };
  for (const auto& [in, want] : cases) {
    AlertingConfig a = GoodA(absl::StrCat(
        "alerting:\n  alertmanagers:\n  - path_prefix: ", in, "\n"));
    ASSERT_EQ(a.alertmanagers.size(), 1u) << in;
    EXPECT_EQ(a.alertmanagers[0].path_prefix, want) << in;
  }
}

TEST(AlertingConfigTest, ApiVersionV1Refused) {
  std::string e =
      ErrorOf(ParseA("alerting:\n"
                     "  alertmanagers:\n"
                     "  - api_version: v1\n"));
  ExpectError(e, 3, "api_version v1 is not supported by Vigil: only v2");
}

TEST(AlertingConfigTest, ApiVersionUnknownRefused) {
  std::string e =
      ErrorOf(ParseA("alerting:\n"
                     "  alertmanagers:\n"
                     "  - timeout: 1s\n"
                     "    api_version: v3\n"));
  ExpectError(e, 4, "\"v3\": only v2 is supported");
}

TEST(AlertingConfigTest, SchemeMustBeHttpOrHttps) {
  std::string e =
      ErrorOf(ParseA("alerting:\n"
                     "  alertmanagers:\n"
                     "  - scheme: ftp\n"));
  ExpectError(e, 3, "invalid scheme \"ftp\" (want http or https)");
}

TEST(AlertingConfigTest, ZeroTimeoutRefused) {
  std::string e =
      ErrorOf(ParseA("alerting:\n"
                     "  alertmanagers:\n"
                     "  - timeout: 0s\n"));
  ExpectError(e, 3, "timeout must be greater than 0");
}

TEST(AlertingConfigTest, UnknownFieldsRefused) {
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alertmanagers: []\n"
                             "  foo: 1\n")),
              3, "unknown field \"foo\" in alerting");
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alertmanagers:\n"
                             "  - scheme: http\n"
                             "    pathprefix: /x\n")),
              4, "unknown field \"pathprefix\" in alertmanager config");
}

TEST(AlertingConfigTest, UnsupportedDiscoveryRefused) {
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alertmanagers:\n"
                             "  - dns_sd_configs: []\n")),
              3, "dns_sd_configs (in alertmanager config) is not supported");
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alertmanagers:\n"
                             "  - http_sd_configs: []\n")),
              3, "http_sd_configs (in alertmanager config) is not supported");
}

TEST(AlertingConfigTest, NullRelabelRulesRefused) {
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alert_relabel_configs:\n"
                             "  -\n")),
              2, "empty or null alert relabeling rule");
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alertmanagers:\n"
                             "  - relabel_configs:\n"
                             "    -\n")),
              3, "empty or null Alertmanager target relabeling rule");
}

TEST(AlertingConfigTest, RelabelRulesValidated) {
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alert_relabel_configs:\n"
                             "  - action: hashmod\n"
                             "    target_label: x\n")),
              3, "requires non-zero modulus");
}

TEST(AlertingConfigTest, UrlAsStaticTargetRefusedWithoutRelabeling) {
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alertmanagers:\n"
                             "  - static_configs:\n"
                             "    - targets:\n"
                             "      - http://am:9093\n")),
              5, "\"http://am:9093\" is not a valid hostname");
  GoodA(
      "alerting:\n"
      "  alertmanagers:\n"
      "  - static_configs:\n"
      "    - targets: [http://am:9093]\n"
      "    relabel_configs:\n"
      "    - {source_labels: [__address__], target_label: __address__}\n");
}

TEST(AlertingConfigTest, HttpClientConflictsRefused) {
  ExpectError(ErrorOf(ParseA("alerting:\n"
                             "  alertmanagers:\n"
                             "  - basic_auth: {username: u}\n"
                             "    bearer_token: t\n")),
              4, "at most one of basic_auth, oauth2, bearer_token");
}

// Vigil and Prometheus 2.42's promtool agree on which alerting sections
// are valid (where Vigil does not knowingly refuse more: api_version v1,
// zero timeouts, schemes other than http and https).
TEST(AlertingConfigTest, AgreesWithPromtool) {
  if (!testutil::HavePromtool()) GTEST_SKIP() << testutil::kNoPromtool;
  const std::pair<const char*, bool> cases[] = {
      {"alerting:\n"
       "  alert_relabel_configs:\n"
       "  - {action: labeldrop, regex: replica}\n"
       "  alertmanagers:\n"
       "  - scheme: https\n"
       "    path_prefix: /am/\n"
       "    timeout: 5s\n"
       "    api_version: v2\n"
       "    basic_auth: {username: u, password: p}\n"
       "    follow_redirects: false\n"
       "    static_configs: [{targets: ['a:9093'], labels: {dc: x}}]\n"
       "    relabel_configs:\n"
       "    - {source_labels: [dc], target_label: __alerts_path__}\n",
       true},
      {"alerting:\n  alertmanagers:\n  - pathprefix: x\n", false},
      {"alerting:\n  alertmanagers:\n  - api_version: v3\n", false},
      {"alerting:\n  alertmanagers:\n  - static_configs:\n"
       "    - targets: [http://a:1]\n",
       false},
      {"alerting:\n  alert_relabel_configs:\n  -\n", false},
      {"alerting:\n  alert_relabel_configs:\n"
       "  - {action: hashmod, target_label: x}\n",
       false},
      {"alerting:\n  alertmanagers:\n  - basic_auth: {username: u}\n"
       "    bearer_token: t\n",
       false},
  };
  std::string dir = testutil::TempDir();
  for (const auto& [yaml, valid] : cases) {
    std::string path = testutil::WriteTemp(dir, "prometheus.yml", yaml);
    std::string out;
    int rc = testutil::RunPromtool("check config", path, &out);
    ASSERT_GE(rc, 0) << out;
    EXPECT_EQ(rc == 0, valid) << "promtool: " << out << "\n" << yaml;
    EXPECT_EQ(ParseA(yaml).ok(), valid) << ParseA(yaml).status() << "\n"
                                        << yaml;
  }
}

// ---------------------------------------------------------------------------
// ParseAlertMatcher

TEST(AlertMatcherTest, ParsesOperatorsAndQuoting) {
  struct Case {
    const char* text;
    model::MatchType type;
    const char* name;
    const char* value;
  };
  const Case cases[] = {
      {"severity=\"page\"", model::MatchType::kEqual, "severity", "page"},
      {"severity=page", model::MatchType::kEqual, "severity", "page"},
      {"a!=b", model::MatchType::kNotEqual, "a", "b"},
      {"a=~\"x.*\"", model::MatchType::kRegexMatch, "a", "x.*"},
      {"a!~y|z", model::MatchType::kRegexNoMatch, "a", "y|z"},
      {"  a = \"b c\"  ", model::MatchType::kEqual, "a", "b c"},
      {"a=\"say \\\"hi\\\"\"", model::MatchType::kEqual, "a", "say \"hi\""},
      {"a=\"back\\\\slash\"", model::MatchType::kEqual, "a", "back\\slash"},
      {"a=~\"a\\.b\"", model::MatchType::kRegexMatch, "a", "a\\.b"},
      {"a=\"\"", model::MatchType::kEqual, "a", ""},
      {"a=", model::MatchType::kEqual, "a", ""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<model::Matcher> m = ParseAlertMatcher(c.text);
    ASSERT_TRUE(m.ok()) << c.text << ": " << m.status();
    EXPECT_EQ(m->type(), c.type) << c.text;
    EXPECT_EQ(m->name(), c.name) << c.text;
    EXPECT_EQ(m->value(), c.value) << c.text;
  }
}

TEST(AlertMatcherTest, RegexIsAnchored) {
  absl::StatusOr<model::Matcher> m = ParseAlertMatcher("a=~\"b.\"");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->Matches("bc"));
  EXPECT_FALSE(m->Matches("abc"));
  EXPECT_FALSE(m->Matches("bcd"));
}

TEST(AlertMatcherTest, RefusesMalformed) {
  const std::pair<const char*, const char*> cases[] = {
      {"=b", "label name"},
      {"1a=b", "not a valid label name"},
      {"a b", "operator"},
      {"a", "operator"},
      {"a=\"open", "missing closing double quote"},
      {"a=\"x\"y\"", "unescaped double quote"},
      {"a=x\"y", "double quote in an unquoted value"},
      {"a=~\"(\"", "invalid regular expression"},
      {"", "label name"},
  };
  for (const auto& [text, part] : cases) {
    absl::StatusOr<model::Matcher> m = ParseAlertMatcher(text);
    ASSERT_FALSE(m.ok()) << text;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(m.status().message(), part))
        << text << ": " << m.status();
  }
}

// ---------------------------------------------------------------------------
// notifications: routes

TEST(NotificationsConfigTest, AbsentOrEmptySectionIsDisabled) {
  EXPECT_FALSE(GoodN("global: {}\n").enabled);
  EXPECT_FALSE(GoodN("notifications:\n").enabled);
}

TEST(NotificationsConfigTest, HeaderExampleParses) {
  NotificationsConfig n = GoodN(absl::StrCat(
      "notifications:\n"
      "  route:\n"
      "    receiver: chat\n"
      "    group_by: [alertname]\n"
      "    group_wait: 30s\n"
      "    group_interval: 5m\n"
      "    repeat_interval: 4h\n"
      "    routes:\n"
      "      - matchers: ['severity=\"page\"']\n"
      "        receiver: pager\n"
      "        continue: false\n"
      "  inhibit_rules:\n"
      "    - source_matchers: ['severity=\"page\"']\n"
      "      target_matchers: ['severity=\"warning\"']\n"
      "      equal: [alertname, instance]\n"
      "  receivers:\n"
      "    - name: chat\n"
      "      chat_configs: [{url: 'https://hooks.slack.com/services/x', "
      "title: 't', text: 'x'}]\n"
      "    - name: pager\n"
      "      pager_configs: [{routing_key: ",
      kKey,
      "}]\n"
      "    - name: hook\n"
      "      webhook_configs: [{url: 'http://127.0.0.1:1/h', max_alerts: 0, "
      "headers: {X-Token: abc}}]\n"));
  EXPECT_TRUE(n.enabled);
  EXPECT_EQ(n.route.receiver, "chat");
  EXPECT_EQ(n.route.line, 2);
  EXPECT_EQ(n.route.group_by, std::vector<std::string>{"alertname"});
  ASSERT_EQ(n.route.routes.size(), 1u);
  const Route& child = n.route.routes[0];
  EXPECT_EQ(child.line, 9);
  EXPECT_EQ(child.receiver, "pager");
  ASSERT_EQ(child.matchers.size(), 1u);
  EXPECT_EQ(child.matchers[0].ToString(), "severity=\"page\"");
  EXPECT_FALSE(child.continue_matching);
  ASSERT_EQ(n.inhibit_rules.size(), 1u);
  EXPECT_EQ(n.inhibit_rules[0].line, 13);
  EXPECT_EQ(n.inhibit_rules[0].target_matchers[0].value(), "warning");
  EXPECT_EQ(n.inhibit_rules[0].equal,
            (std::vector<std::string>{"alertname", "instance"}));
  ASSERT_EQ(n.receivers.size(), 3u);
  EXPECT_EQ(n.receivers[0].name, "chat");
  EXPECT_EQ(n.receivers[0].line, 17);
  ASSERT_EQ(n.receivers[0].chat_configs.size(), 1u);
  EXPECT_EQ(n.receivers[0].chat_configs[0].title, "t");
  ASSERT_EQ(n.receivers[1].pager_configs.size(), 1u);
  EXPECT_EQ(n.receivers[1].pager_configs[0].routing_key, kKey);
  ASSERT_EQ(n.receivers[2].webhook_configs.size(), 1u);
  EXPECT_EQ(
      n.receivers[2].webhook_configs[0].headers,
      (std::vector<std::pair<std::string, std::string>>{{"X-Token", "abc"}}));
  EXPECT_EQ(n.retry_initial, absl::Seconds(1));
  EXPECT_EQ(n.retry_max, absl::Minutes(1));
  EXPECT_EQ(n.retry_give_up, absl::Hours(1));
}

TEST(NotificationsConfigTest, RootDefaultsAreAlertmanagers) {
  NotificationsConfig n = GoodN(WithRoute(""));
  EXPECT_EQ(n.route.group_wait, absl::Seconds(30));
  EXPECT_EQ(n.route.group_interval, absl::Minutes(5));
  EXPECT_EQ(n.route.repeat_interval, absl::Hours(4));
  EXPECT_TRUE(n.route.group_by.empty());
  EXPECT_FALSE(n.route.group_by_all);
}

TEST(NotificationsConfigTest, ChildrenInheritUnsetFields) {
  NotificationsConfig n =
      GoodN(WithRoute("    group_by: [alertname]\n"
                      "    group_wait: 10s\n"
                      "    group_interval: 1m\n"
                      "    repeat_interval: 1h\n"
                      "    routes:\n"
                      "    - matchers: [team=db]\n"
                      "      group_wait: 0s\n"
                      "      routes:\n"
                      "      - matchers: [severity=page]\n"
                      "        receiver: p\n"
                      "        repeat_interval: 2h\n"
                      "        group_by: [cluster]\n"));
  ASSERT_EQ(n.route.routes.size(), 1u);
  const Route& mid = n.route.routes[0];
  EXPECT_EQ(mid.receiver, "r");
  EXPECT_EQ(mid.group_by, std::vector<std::string>{"alertname"});
  EXPECT_EQ(mid.group_wait, absl::ZeroDuration());
  EXPECT_EQ(mid.group_interval, absl::Minutes(1));
  EXPECT_EQ(mid.repeat_interval, absl::Hours(1));
  ASSERT_EQ(mid.routes.size(), 1u);
  const Route& leaf = mid.routes[0];
  EXPECT_EQ(leaf.receiver, "p");
  EXPECT_EQ(leaf.group_by, std::vector<std::string>{"cluster"});
  EXPECT_EQ(leaf.group_wait, absl::ZeroDuration());  // From mid.
  EXPECT_EQ(leaf.group_interval, absl::Minutes(1));  // From the root.
  EXPECT_EQ(leaf.repeat_interval, absl::Hours(2));
  EXPECT_EQ(leaf.line, 12);
}

TEST(NotificationsConfigTest, GroupByAllInheritedAndOverridden) {
  NotificationsConfig n =
      GoodN(WithRoute("    group_by: ['...']\n"
                      "    routes:\n"
                      "    - receiver: p\n"
                      "    - receiver: w\n"
                      "      group_by: [job]\n"));
  EXPECT_TRUE(n.route.group_by_all);
  EXPECT_TRUE(n.route.group_by.empty());
  ASSERT_EQ(n.route.routes.size(), 2u);
  EXPECT_TRUE(n.route.routes[0].group_by_all);
  EXPECT_FALSE(n.route.routes[1].group_by_all);
  EXPECT_EQ(n.route.routes[1].group_by, std::vector<std::string>{"job"});
}

TEST(NotificationsConfigTest, GroupByAllWithOtherNamesRefused) {
  ExpectError(ErrorOf(ParseN(WithRoute("    group_by: ['...', job]\n"))), 4,
              "cannot have wildcard group_by (`...`) and other labels");
}

TEST(NotificationsConfigTest, GroupByLabelNamesChecked) {
  ExpectError(ErrorOf(ParseN(WithRoute("    group_by:\n"
                                       "    - job\n"
                                       "    - bad-name\n"))),
              6, "invalid label name \"bad-name\" in group_by list");
  ExpectError(ErrorOf(ParseN(WithRoute("    group_by: [job, job]\n"))), 4,
              "duplicated label \"job\" in group_by");
}

TEST(NotificationsConfigTest, RootRouteNeedsReceiver) {
  ExpectError(ErrorOf(ParseN("notifications:\n"
                             "  route:\n"
                             "    group_by: [a]\n"
                             "  receivers: [{name: r}]\n")),
              2, "root route must specify a default receiver");
  ExpectError(ErrorOf(ParseN("notifications:\n"
                             "  route:\n"
                             "  receivers: [{name: r}]\n")),
              2, "root route must specify a default receiver");
}

TEST(NotificationsConfigTest, RootRouteMayNotHaveMatchersOrContinue) {
  ExpectError(ErrorOf(ParseN(WithRoute("    matchers: [a=b]\n"))), 4,
              "root route must not have any matchers");
  ExpectError(ErrorOf(ParseN(WithRoute("    continue: true\n"))), 4,
              "cannot have continue in root route");
}

TEST(NotificationsConfigTest, SectionNeedsRoute) {
  ExpectError(ErrorOf(ParseN("notifications:\n"
                             "  receivers: [{name: r}]\n")),
              2, "notifications needs a route");
}

TEST(NotificationsConfigTest, UndefinedReceiverNamesRouteLine) {
  ExpectError(ErrorOf(ParseN(WithRoute("    routes:\n"
                                       "    - matchers: [a=b]\n"
                                       "      receiver: nope\n"))),
              6, "undefined receiver \"nope\" used in route");
  ExpectError(ErrorOf(ParseN("notifications:\n"
                             "  route:\n"
                             "    receiver: gone\n"
                             "  receivers: [{name: r}]\n")),
              3, "undefined receiver \"gone\" used in route");
}

TEST(NotificationsConfigTest, ContinueParsed) {
  NotificationsConfig n =
      GoodN(WithRoute("    routes:\n"
                      "    - receiver: p\n"
                      "      continue: true\n"
                      "    - receiver: w\n"));
  ASSERT_EQ(n.route.routes.size(), 2u);
  EXPECT_TRUE(n.route.routes[0].continue_matching);
  EXPECT_FALSE(n.route.routes[1].continue_matching);
}

TEST(NotificationsConfigTest, BadMatcherNamesItsLine) {
  ExpectError(ErrorOf(ParseN(WithRoute("    routes:\n"
                                       "    - receiver: p\n"
                                       "      matchers:\n"
                                       "      - a=b\n"
                                       "      - 'c=~\"(\"'\n"))),
              8,
              "invalid matcher \"c=~\\\"(\\\"\" in matchers: invalid "
              "regular expression");
}

TEST(NotificationsConfigTest, DeprecatedMatchRefusedWithHint) {
  ExpectError(ErrorOf(ParseN(WithRoute("    routes:\n"
                                       "    - receiver: p\n"
                                       "      match: {a: b}\n"))),
              6, "match is not supported by Vigil; use matchers");
}

TEST(NotificationsConfigTest, IntervalsMustBeNonZeroAndValid) {
  ExpectError(ErrorOf(ParseN(WithRoute("    group_interval: 0s\n"))), 4,
              "group_interval must be greater than 0");
  ExpectError(ErrorOf(ParseN(WithRoute("    repeat_interval: 0\n"))), 4,
              "repeat_interval must be greater than 0");
  ExpectError(ErrorOf(ParseN(WithRoute("    group_wait: 5 minutes\n"))), 4,
              "invalid duration \"5 minutes\" for group_wait");
  EXPECT_EQ(GoodN(WithRoute("    group_wait: 0s\n")).route.group_wait,
            absl::ZeroDuration());
}

TEST(NotificationsConfigTest, UnknownFieldsRefused) {
  ExpectError(ErrorOf(ParseN(WithRoute("    colour: red\n"))), 4,
              "unknown field \"colour\" in route");
  ExpectError(ErrorOf(ParseN("notifications:\n"
                             "  route: {receiver: r}\n"
                             "  templates: []\n"
                             "  receivers: [{name: r}]\n")),
              3, "unknown field \"templates\" in notifications");
}

TEST(NotificationsConfigTest, InhibitRulesChecked) {
  ExpectError(ErrorOf(ParseN(WithRoute("  inhibit_rules:\n"
                                       "  - source_matchers: [a=b]\n"
                                       "    equal: [ok, 'not ok']\n"))),
              6, "invalid label name \"not ok\" in equal list");
  ExpectError(ErrorOf(ParseN(WithRoute("  inhibit_rules:\n"
                                       "  - source_match: {a: b}\n"))),
              5,
              "source_match is not supported by Vigil; use "
              "source_matchers");
  ExpectError(ErrorOf(ParseN(WithRoute("  inhibit_rules:\n"
                                       "  - target_matchers: ['a=\"b']\n"))),
              5, "missing closing double quote");
}

// ---------------------------------------------------------------------------
// notifications: receivers

TEST(NotificationsConfigTest, ReceiverNamesRequiredAndUnique) {
  ExpectError(ErrorOf(ParseN("notifications:\n"
                             "  route: {receiver: r}\n"
                             "  receivers:\n"
                             "  - name: r\n"
                             "  - webhook_configs: []\n")),
              5, "missing name in receiver");
  ExpectError(ErrorOf(ParseN("notifications:\n"
                             "  route: {receiver: r}\n"
                             "  receivers:\n"
                             "  - name: r\n"
                             "  - name: r\n")),
              5, "receiver name \"r\" is not unique");
}

TEST(NotificationsConfigTest, AlertmanagerReceiverKindsPointToVigils) {
  ExpectError(ErrorOf(ParseN(WithReceiver("    slack_configs: []\n"))), 6,
              "slack_configs is not supported by Vigil; use chat_configs");
  ExpectError(ErrorOf(ParseN(WithReceiver("    email_configs: []\n"))), 6,
              "unknown field \"email_configs\" in receiver \"x\"");
}

TEST(NotificationsConfigTest, WebhookDefaultsAndFields) {
  NotificationsConfig n =
      GoodN(WithReceiver("    webhook_configs:\n"
                         "    - url: http://127.0.0.1:9/hook\n"
                         "    - url: https://hooks.example/x\n"
                         "      max_alerts: 5\n"
                         "      send_resolved: false\n"
                         "      timeout: 3s\n"
                         "      headers: {X-Token: abc, X-Env: prod}\n"
                         "      tls_config: {ca_file: ca.pem}\n"
                         "      authorization: {credentials: secret}\n"));
  ASSERT_EQ(n.receivers.size(), 1u);
  ASSERT_EQ(n.receivers[0].webhook_configs.size(), 2u);
  const WebhookReceiverConfig& d = n.receivers[0].webhook_configs[0];
  EXPECT_EQ(d.line, 7);
  EXPECT_EQ(d.max_alerts, 0);
  EXPECT_TRUE(d.send_resolved);
  EXPECT_EQ(d.timeout, absl::Seconds(10));
  EXPECT_TRUE(d.headers.empty());
  const WebhookReceiverConfig& w = n.receivers[0].webhook_configs[1];
  EXPECT_EQ(w.url, "https://hooks.example/x");
  EXPECT_EQ(w.max_alerts, 5);
  EXPECT_FALSE(w.send_resolved);
  EXPECT_EQ(w.timeout, absl::Seconds(3));
  EXPECT_EQ(w.headers, (std::vector<std::pair<std::string, std::string>>{
                           {"X-Token", "abc"}, {"X-Env", "prod"}}));
  EXPECT_EQ(w.http.tls.ca_file, "ca.pem");
  ASSERT_TRUE(w.http.authorization.has_value());
  EXPECT_EQ(w.http.authorization->credentials, "secret");
}

TEST(NotificationsConfigTest, WebhookUrlRequiredAndHttp) {
  ExpectError(ErrorOf(ParseN(WithReceiver("    webhook_configs:\n"
                                          "    - max_alerts: 1\n"))),
              7, "missing url in webhook config");
  ExpectError(ErrorOf(ParseN(WithReceiver("    webhook_configs:\n"
                                          "    - url: ftp://h/x\n"))),
              7, "URL scheme must be 'http' or 'https'");
  ExpectError(ErrorOf(ParseN(WithReceiver("    webhook_configs:\n"
                                          "    - url: 'http:///x'\n"))),
              7, "host is missing in URL");
}

TEST(NotificationsConfigTest, WebhookMaxAlertsNotNegative) {
  ExpectError(ErrorOf(ParseN(WithReceiver("    webhook_configs:\n"
                                          "    - url: http://h/\n"
                                          "      max_alerts: -1\n"))),
              8, "max_alerts must not be negative");
}

TEST(NotificationsConfigTest, WebhookReservedHeadersRefused) {
  for (const char* h :
       {"Content-Type", "content-length", "AUTHORIZATION", "Host"}) {
    ExpectError(
        ErrorOf(ParseN(WithReceiver(absl::StrCat("    webhook_configs:\n"
                                                 "    - url: http://h/\n"
                                                 "      headers:\n"
                                                 "        ",
                                                 h, ": x\n")))),
        9, "is reserved");
  }
  ExpectError(ErrorOf(ParseN(WithReceiver("    webhook_configs:\n"
                                          "    - url: http://h/\n"
                                          "      headers:\n"
                                          "        X-A: 1\n"
                                          "        x-a: 2\n"))),
              10, "header \"x-a\" repeated");
  ExpectError(ErrorOf(ParseN(WithReceiver("    webhook_configs:\n"
                                          "    - url: http://h/\n"
                                          "      headers:\n"
                                          "        'Bad Name': 1\n"))),
              9, "invalid header name \"Bad Name\"");
}

TEST(NotificationsConfigTest, ReceiverHttpClientValidated) {
  ExpectError(ErrorOf(ParseN(WithReceiver("    webhook_configs:\n"
                                          "    - url: http://h/\n"
                                          "      tls_config:\n"
                                          "        cert_file: c.pem\n"))),
              9, "specified without client key file");
  ExpectError(ErrorOf(ParseN(WithReceiver("    chat_configs:\n"
                                          "    - url: http://h/\n"
                                          "      timeout: 0s\n"))),
              8, "timeout must be greater than 0");
  ExpectError(ErrorOf(ParseN(WithReceiver("    chat_configs:\n"
                                          "    - url: http://h/\n"
                                          "      oauth2: {}\n"))),
              8, "oauth2 (in chat config) is not supported by Vigil");
}

TEST(NotificationsConfigTest, ChatFields) {
  NotificationsConfig n =
      GoodN(WithReceiver("    chat_configs:\n"
                         "    - url: https://chat.example/hook\n"
                         "      title: '{{ .Status }}'\n"
                         "      text: hi\n"
                         "      channel: '#ops'\n"));
  ASSERT_EQ(n.receivers.size(), 1u);
  ASSERT_EQ(n.receivers[0].chat_configs.size(), 1u);
  const ChatReceiverConfig& c = n.receivers[0].chat_configs[0];
  EXPECT_EQ(c.url, "https://chat.example/hook");
  EXPECT_EQ(c.title, "{{ .Status }}");
  EXPECT_EQ(c.text, "hi");
  EXPECT_EQ(c.channel, "#ops");
  EXPECT_TRUE(c.send_resolved);
  ExpectError(ErrorOf(ParseN(WithReceiver("    chat_configs:\n"
                                          "    - title: t\n"))),
              7, "missing url in chat config");
  ExpectError(ErrorOf(ParseN(WithReceiver("    chat_configs:\n"
                                          "    - url: https://c/\n"
                                          "      icon: x\n"))),
              8, "unknown field \"icon\" in chat config");
}

TEST(NotificationsConfigTest, PagerDefaultsAndFields) {
  NotificationsConfig n =
      GoodN(WithReceiver(absl::StrCat("    pager_configs:\n"
                                      "    - routing_key: ",
                                      kKey,
                                      "\n"
                                      "    - routing_key: ",
                                      kKey,
                                      "\n"
                                      "      url: http://127.0.0.1:9/enqueue\n"
                                      "      source: vigil-prod\n"
                                      "      severity: warning\n")));
  ASSERT_EQ(n.receivers.size(), 1u);
  ASSERT_EQ(n.receivers[0].pager_configs.size(), 2u);
  const PagerReceiverConfig& d = n.receivers[0].pager_configs[0];
  EXPECT_EQ(d.url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(d.severity, "");
  EXPECT_TRUE(d.send_resolved);
  const PagerReceiverConfig& p = n.receivers[0].pager_configs[1];
  EXPECT_EQ(p.url, "http://127.0.0.1:9/enqueue");
  EXPECT_EQ(p.source, "vigil-prod");
  EXPECT_EQ(p.severity, "warning");
}

TEST(NotificationsConfigTest, PagerRoutingKeyChecked) {
  ExpectError(ErrorOf(ParseN(WithReceiver("    pager_configs:\n"
                                          "    - severity: info\n"))),
              7, "missing routing_key in pager config");
  ExpectError(ErrorOf(ParseN(WithReceiver("    pager_configs:\n"
                                          "    - routing_key: abc123\n"))),
              7, "routing_key must be 32 characters of [A-Za-z0-9]");
  ExpectError(
      ErrorOf(ParseN(WithReceiver("    pager_configs:\n"
                                  "    - routing_key: "
                                  "0123456789abcdef-123456789abcdef\n"))),
      7, "routing_key must be 32 characters of [A-Za-z0-9]");
}

TEST(NotificationsConfigTest, PagerSeverityChecked) {
  ExpectError(
      ErrorOf(ParseN(WithReceiver(absl::StrCat("    pager_configs:\n"
                                               "    - routing_key: ",
                                               kKey,
                                               "\n"
                                               "      severity: page\n")))),
      8,
      "invalid severity \"page\" (want critical, error, warning "
      "or info)");
}

TEST(NotificationsConfigTest, RetrySettings) {
  NotificationsConfig n =
      GoodN(WithRoute("  retry_initial: 500ms\n"
                      "  retry_max: 30s\n"
                      "  retry_give_up: 2h\n"));
  EXPECT_EQ(n.retry_initial, absl::Milliseconds(500));
  EXPECT_EQ(n.retry_max, absl::Seconds(30));
  EXPECT_EQ(n.retry_give_up, absl::Hours(2));
  ExpectError(ErrorOf(ParseN(WithRoute("  retry_give_up: 0s\n"))), 4,
              "retry_give_up must be greater than 0");
  ExpectError(ErrorOf(ParseN(WithRoute("  retry_initial: 2m\n"
                                       "  retry_max: 1m\n"))),
              5, "retry_max 1m is less than retry_initial 2m");
}

// ---------------------------------------------------------------------------
// ResolveAlertingPaths

TEST(AlertingConfigTest, ResolvePathsAgainstConfigDir) {
  AlertingConfig a = GoodA(
      "alerting:\n"
      "  alertmanagers:\n"
      "  - basic_auth: {username: u, password_file: pw}\n"
      "    tls_config: {ca_file: /abs/ca.pem, cert_file: c.pem, "
      "key_file: k.pem}\n"
      "    file_sd_configs: [{files: [sd/*.yml]}]\n");
  NotificationsConfig n = GoodN(
      WithReceiver("    webhook_configs:\n"
                   "    - url: http://h/\n"
                   "      authorization: {credentials_file: tok}\n"
                   "    chat_configs:\n"
                   "    - url: http://h/\n"
                   "      tls_config: {ca_file: ca.pem}\n"
                   "    pager_configs:\n"
                   "    - routing_key: 0123456789abcdefABCDEF0123456789\n"
                   "      basic_auth: {username: u, password_file: ../pw}\n"));
  ResolveAlertingPaths("/etc/vigil", &a, &n);
  ASSERT_EQ(a.alertmanagers.size(), 1u);
  ASSERT_TRUE(a.alertmanagers[0].http.basic_auth.has_value());
  ASSERT_EQ(n.receivers.size(), 1u);
  ASSERT_EQ(n.receivers[0].webhook_configs.size(), 1u);
  ASSERT_TRUE(n.receivers[0].webhook_configs[0].http.authorization.has_value());
  ASSERT_EQ(n.receivers[0].chat_configs.size(), 1u);
  ASSERT_EQ(n.receivers[0].pager_configs.size(), 1u);
  ASSERT_TRUE(n.receivers[0].pager_configs[0].http.basic_auth.has_value());
  const AlertmanagerConfig& am = a.alertmanagers[0];
  EXPECT_EQ(am.http.basic_auth->password_file, "/etc/vigil/pw");
  EXPECT_EQ(am.http.tls.ca_file, "/abs/ca.pem");
  EXPECT_EQ(am.http.tls.cert_file, "/etc/vigil/c.pem");
  EXPECT_EQ(am.http.tls.key_file, "/etc/vigil/k.pem");
  EXPECT_EQ(am.file_sd_configs[0].files[0], "/etc/vigil/sd/*.yml");
  const ReceiverConfig& r = n.receivers[0];
  EXPECT_EQ(r.webhook_configs[0].http.authorization->credentials_file,
            "/etc/vigil/tok");
  EXPECT_EQ(r.chat_configs[0].http.tls.ca_file, "/etc/vigil/ca.pem");
  EXPECT_EQ(r.pager_configs[0].http.basic_auth->password_file,
            "/etc/vigil/../pw");
  EXPECT_EQ(r.webhook_configs[0].http.tls.ca_file, "");  // Unset stays unset.
}

// ---------------------------------------------------------------------------
// Through config::Config

TEST(ConfigAlertingTest, ParseConfigFillsBothSections) {
  absl::StatusOr<Config> c = ParseConfig(
      "global: {scrape_interval: 15s}\n"
      "alerting:\n"
      "  alertmanagers:\n"
      "  - path_prefix: am/\n"
      "notifications:\n"
      "  route: {receiver: r}\n"
      "  receivers: [{name: r}]\n",
      kFile);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->alerting_config.alertmanagers.size(), 1u);
  EXPECT_EQ(c->alerting_config.alertmanagers[0].path_prefix, "/am");
  EXPECT_TRUE(c->notifications_config.enabled);
  EXPECT_EQ(c->notifications_config.route.receiver, "r");
  EXPECT_TRUE(c->alerting.present());  // Still kept raw for FormatConfig.

  c = ParseConfig("global: {}\n", kFile);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->notifications_config.enabled);
  EXPECT_TRUE(c->alerting_config.alertmanagers.empty());
}

TEST(ConfigAlertingTest, ParseConfigErrorsNameFileAndLine) {
  absl::StatusOr<Config> c = ParseConfig(
      "global: {}\n"
      "notifications:\n"
      "  route:\n"
      "    receiver: r\n"
      "    routes:\n"
      "    - receiver: missing\n"
      "  receivers: [{name: r}]\n",
      kFile);
  ExpectError(ErrorOf(c), 6, "undefined receiver \"missing\" used in route");
  c = ParseConfig(
      "alerting:\n"
      "  alertmanagers:\n"
      "  - api_version: v1\n",
      kFile);
  ExpectError(ErrorOf(c), 3, "only v2 is supported");
}

TEST(ConfigAlertingTest, LoadConfigFileResolvesPaths) {
  std::string dir = testutil::TempDir();
  std::string path =
      testutil::WriteTemp(dir, "vigil.yml",
                          "alerting:\n"
                          "  alertmanagers:\n"
                          "  - tls_config: {ca_file: am-ca.pem}\n"
                          "    file_sd_configs: [{files: [am.json]}]\n"
                          "notifications:\n"
                          "  route: {receiver: r}\n"
                          "  receivers:\n"
                          "  - name: r\n"
                          "    webhook_configs:\n"
                          "    - url: https://h/\n"
                          "      tls_config: {ca_file: hook-ca.pem}\n");
  absl::StatusOr<Config> c = LoadConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->alerting_config.alertmanagers.size(), 1u);
  const AlertmanagerConfig& am = c->alerting_config.alertmanagers[0];
  EXPECT_EQ(am.http.tls.ca_file, dir + "/am-ca.pem");
  ASSERT_EQ(am.file_sd_configs.size(), 1u);
  EXPECT_EQ(am.file_sd_configs[0].files[0], dir + "/am.json");
  ASSERT_EQ(c->notifications_config.receivers.size(), 1u);
  ASSERT_EQ(c->notifications_config.receivers[0].webhook_configs.size(), 1u);
  EXPECT_EQ(
      c->notifications_config.receivers[0].webhook_configs[0].http.tls.ca_file,
      dir + "/hook-ca.pem");
}

}  // namespace
}  // namespace vigil::config
