#include "config/config.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "config/test_util.h"
#include "gtest/gtest.h"

namespace vigil::config {
namespace {

using testutil::TempDir;
using testutil::WriteTemp;

std::string ErrorOf(absl::string_view yaml) {
  absl::StatusOr<Config> c = ParseConfig(yaml, "cfg.yml");
  EXPECT_FALSE(c.ok()) << "parsed:\n" << yaml;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

// A config that uses every Prometheus 2.42 section Vigil checks, valid for
// promtool too.
constexpr absl::string_view kPrometheusConfig = R"(# A typical config.
global:
  scrape_interval: 15s
  scrape_timeout: 5s
  evaluation_interval: 30s
  external_labels:
    replica: "a"
    cluster: eu-1
  query_log_file: queries.log

rule_files:
  - rules/*.yml
  - alerts.yml

scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["localhost:9100"]

alerting:
  alertmanagers:
    - static_configs:
        - targets: ["localhost:9093"]

remote_write:
  - url: http://localhost:9201/write

storage:
  tsdb:
    out_of_order_time_window: 10m
)";

constexpr absl::string_view kVigilSections = R"(
notifications:
  {route: {receiver: pager}, receivers: [{name: pager}]}
slos:
  - name: api-availability
reports: {title: "~", empty: "", flag: "true", n: 5}
)";

TEST(ParseDurationTest, AcceptsPrometheusSyntax) {
  const std::pair<absl::string_view, absl::Duration> cases[] = {
      {"0", absl::ZeroDuration()},
      {"0s", absl::ZeroDuration()},
      {"15s", absl::Seconds(15)},
      {"1m30s", absl::Seconds(90)},
      {"2h", absl::Hours(2)},
      {"1d", absl::Hours(24)},
      {"500ms", absl::Milliseconds(500)},
      {"1w", absl::Hours(24 * 7)},
      {"1y", absl::Hours(24 * 365)},
      {"1h0m", absl::Hours(1)},
      {"1y2w3d4h5m6s7ms", absl::Hours(24 * (365 + 14 + 3) + 4) +
                              absl::Minutes(5) + absl::Seconds(6) +
                              absl::Milliseconds(7)},
      {"292y", absl::Hours(24 * 365 * int64_t{292})},
  };
  for (const auto& [text, want] : cases) {
    absl::StatusOr<absl::Duration> d = ParseDuration(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status();
    EXPECT_EQ(*d, want) << text;
  }
}

TEST(ParseDurationTest, RejectsWhatPrometheusRejects) {
  for (absl::string_view bad :
       {"", "5x", "5", "00", "1.5h", "-1m", "1M", "1s1m", "1m1m", "1h 30m", "m",
        " 1m", "1m ", "293y", "99999999999999999999s"}) {
    absl::StatusOr<absl::Duration> d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << "\"" << bad << "\" parsed as " << *d;
  }
  EXPECT_EQ(ParseDuration("5x").status().message(),
            "invalid duration \"5x\" (want e.g. 30s, 1m30s, 2h, 1d, 500ms: "
            "units y w d h m s ms, largest first)");
  EXPECT_EQ(ParseDuration("293y").status().message(),
            "invalid duration \"293y\": out of range (at most about 292y)");
}

TEST(FormatPromDurationTest, MatchesPrometheus) {
  EXPECT_EQ(FormatPromDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatPromDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(FormatPromDuration(absl::Hours(2)), "2h");
  EXPECT_EQ(FormatPromDuration(absl::Hours(24 * 90)), "90d");
  EXPECT_EQ(FormatPromDuration(absl::Hours(24 * 14)), "2w");
  EXPECT_EQ(FormatPromDuration(absl::Hours(24 * 365)), "1y");
  EXPECT_EQ(FormatPromDuration(absl::Milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatPromDuration(absl::Microseconds(1500)), "1ms");
}

TEST(ConfigTest, EmptyFileHasDefaults) {
  for (absl::string_view yaml :
       {"", "\n", "# only a comment\n", "~\n", "global:\n", "global: {}\n"}) {
    absl::StatusOr<Config> c = ParseConfig(yaml, "empty.yml");
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->filename, "empty.yml");
    EXPECT_EQ(c->global.scrape_interval, absl::Minutes(1));
    EXPECT_EQ(c->global.scrape_timeout, absl::Seconds(10));
    EXPECT_EQ(c->global.evaluation_interval, absl::Minutes(1));
    EXPECT_TRUE(c->global.external_labels.empty());
    EXPECT_EQ(c->global.query_log_file, "");
    EXPECT_TRUE(c->rule_files.empty());
    EXPECT_FALSE(c->scrape_configs.present());
    EXPECT_FALSE(c->notifications.present());
  }
}

TEST(ConfigTest, EmptyFileOnDisk) {
  std::string path = WriteTemp(TempDir(), "empty.yml", "");
  absl::StatusOr<Config> c = LoadConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->global.scrape_interval, absl::Minutes(1));
}

TEST(ConfigTest, ParsesEverySection) {
  std::string yaml = absl::StrCat(kPrometheusConfig, kVigilSections);
  absl::StatusOr<Config> c = ParseConfig(yaml, "prom.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->global.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(c->global.scrape_timeout, absl::Seconds(5));
  EXPECT_EQ(c->global.evaluation_interval, absl::Seconds(30));
  EXPECT_EQ(c->global.external_labels.ToString(),
            "{cluster=\"eu-1\", replica=\"a\"}");
  EXPECT_EQ(c->global.query_log_file, "queries.log");
  EXPECT_EQ(c->rule_files,
            (std::vector<std::string>{"rules/*.yml", "alerts.yml"}));

  ASSERT_TRUE(c->scrape_configs.present());
  EXPECT_EQ(c->scrape_configs.line, 15);
  ASSERT_TRUE(c->scrape_configs.node.IsSequence());
  EXPECT_EQ(c->scrape_configs.node[0]["job_name"].Scalar(), "node");
  EXPECT_EQ(c->alerting.line, 20);
  EXPECT_EQ(c->remote_write.line, 25);
  EXPECT_EQ(c->storage.line, 28);
  EXPECT_FALSE(c->remote_read.present());
  EXPECT_FALSE(c->tracing.present());
  EXPECT_EQ(c->notifications.line, 32);
  EXPECT_EQ(c->slos.line, 34);
  EXPECT_TRUE(c->reports.present());
}

TEST(ConfigTest, RoundTrip) {
  std::string yaml = absl::StrCat(kPrometheusConfig, kVigilSections);
  absl::StatusOr<Config> a = ParseConfig(yaml, "prom.yml");
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::string> text = FormatConfig(*a);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<Config> b = ParseConfig(*text, "formatted.yml");
  ASSERT_TRUE(b.ok()) << b.status() << "\n" << *text;
  EXPECT_EQ(b->global.scrape_interval, a->global.scrape_interval);
  EXPECT_EQ(b->global.scrape_timeout, a->global.scrape_timeout);
  EXPECT_EQ(b->global.evaluation_interval, a->global.evaluation_interval);
  EXPECT_EQ(b->global.external_labels, a->global.external_labels);
  EXPECT_EQ(b->global.query_log_file, a->global.query_log_file);
  EXPECT_EQ(b->rule_files, a->rule_files);
  EXPECT_TRUE(b->slos.present());
  // Quoted scalars stay strings.
  const YAML::Node& reports = b->reports.node;
  ASSERT_TRUE(reports.IsMap()) << *text;
  EXPECT_TRUE(reports["title"].IsScalar());
  EXPECT_EQ(reports["title"].Scalar(), "~");
  EXPECT_TRUE(reports["empty"].IsScalar());
  EXPECT_EQ(reports["empty"].Scalar(), "");
  EXPECT_EQ(reports["flag"].Tag(), "!");
  EXPECT_EQ(reports["n"].Tag(), "?");
  EXPECT_EQ(
      b->scrape_configs.node[0]["static_configs"][0]["targets"][0].Scalar(),
      "localhost:9100");
  absl::StatusOr<std::string> again = FormatConfig(*b);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *text);
}

TEST(ConfigTest, DefaultsSpelledOutWhenFormatted) {
  absl::StatusOr<Config> c = ParseConfig("", "empty.yml");
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::string> text = FormatConfig(*c);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "global:\n  scrape_interval: 1m\n  scrape_timeout: 10s\n"
            "  evaluation_interval: 1m\n");
}

TEST(ConfigTest, UnknownTopLevelFieldNamesFileAndLine) {
  EXPECT_EQ(ErrorOf("global:\n  scrape_interval: 1m\nfoo: 1\n"),
            "cfg.yml:3: unknown field \"foo\" in the top level of the config");
  // Later Prometheus versions' sections are not 2.42's.
  EXPECT_EQ(ErrorOf("scrape_config_files: []\n"),
            "cfg.yml:1: unknown field \"scrape_config_files\" in the top "
            "level of the config");
}

TEST(ConfigTest, UnknownGlobalFieldNamesFileAndLine) {
  EXPECT_EQ(ErrorOf("global:\n  scrape_interval: 1m\n  foo: bar\n"),
            "cfg.yml:3: unknown field \"foo\" in global");
  // A 2.45 global limit.
  EXPECT_EQ(ErrorOf("global:\n  sample_limit: 5\n"),
            "cfg.yml:2: unknown field \"sample_limit\" in global");
}

TEST(ConfigTest, BadDuration) {
  EXPECT_EQ(ErrorOf("global:\n  scrape_interval: 5x\n"),
            "cfg.yml:2: invalid duration \"5x\" for scrape_interval (want "
            "e.g. 30s, 1m30s, 2h, 1d, 500ms: units y w d h m s ms, largest "
            "first)");
  EXPECT_EQ(ErrorOf("global:\n\n  evaluation_interval: \"\"\n"),
            "cfg.yml:3: invalid duration \"\" for evaluation_interval: empty");
  EXPECT_EQ(ErrorOf("global:\n  scrape_timeout: [1s]\n"),
            "cfg.yml:2: scrape_timeout must be a duration string");
}

TEST(ConfigTest, BadExternalLabelName) {
  EXPECT_EQ(ErrorOf("global:\n  external_labels:\n    ok: x\n    1a: y\n"),
            "cfg.yml:4: \"1a\" is not a valid label name in external_labels");
  EXPECT_EQ(ErrorOf("global:\n  external_labels:\n    a:b: x\n"),
            "cfg.yml:3: \"a:b\" is not a valid label name in external_labels");
  EXPECT_EQ(ErrorOf("global:\n  external_labels: [a]\n"),
            "cfg.yml:2: external_labels must be a mapping, not a list");
}

TEST(ConfigTest, ExternalLabelValues) {
  absl::StatusOr<Config> c = ParseConfig(
      "global:\n  external_labels:\n    n: 5\n    b: true\n    e: \"\"\n"
      "    __name__: x\n",
      "cfg.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  // As in Prometheus, scalars are strings; an empty value is no label.
  EXPECT_EQ(c->global.external_labels.ToString(),
            "{__name__=\"x\", b=\"true\", n=\"5\"}");
}

TEST(ConfigTest, YamlSyntaxErrorLine) {
  EXPECT_EQ(ErrorOf("global:\n  scrape_interval: 1m\n  a: b: c\n"),
            "cfg.yml:3: YAML syntax error: illegal map value");
  EXPECT_EQ(ErrorOf("global:\n\tscrape_interval: 1m\n"),
            "cfg.yml:2: YAML syntax error: illegal map value");
}

TEST(ConfigTest, ScrapeTimeoutAboveIntervalIsAnError) {
  EXPECT_EQ(ErrorOf("global:\n  scrape_interval: 10s\n  scrape_timeout: 11s\n"),
            "cfg.yml:3: scrape_timeout 11s is greater than scrape_interval "
            "10s in global");
  // Against the default interval of 1m.
  EXPECT_EQ(ErrorOf("global:\n  scrape_timeout: 2m\n"),
            "cfg.yml:2: scrape_timeout 2m is greater than scrape_interval 1m "
            "in global");
}

TEST(ConfigTest, ScrapeTimeoutDefaultFollowsShortInterval) {
  absl::StatusOr<Config> c =
      ParseConfig("global:\n  scrape_interval: 5s\n", "cfg.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->global.scrape_timeout, absl::Seconds(5));
  c = ParseConfig("global:\n  scrape_interval: 10s\n  scrape_timeout: 10s\n",
                  "cfg.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  // "0" and null mean "use the default", as in Prometheus.
  c = ParseConfig("global:\n  scrape_interval: 0\n  evaluation_interval:\n",
                  "cfg.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->global.scrape_interval, absl::Minutes(1));
  EXPECT_EQ(c->global.evaluation_interval, absl::Minutes(1));
}

TEST(ConfigTest, RepeatedFieldIsAnError) {
  EXPECT_EQ(ErrorOf("global:\n  scrape_interval: 1m\n  scrape_interval: 2m\n"),
            "cfg.yml:3: field \"scrape_interval\" repeated in global");
  EXPECT_EQ(ErrorOf("global: {}\nrule_files: []\nglobal: {}\n"),
            "cfg.yml:3: field \"global\" repeated in the top level of the "
            "config");
}

TEST(ConfigTest, SectionShapes) {
  EXPECT_EQ(ErrorOf("scrape_configs:\n  job_name: x\n"),
            "cfg.yml:2: scrape_configs must be a list");
  EXPECT_EQ(ErrorOf("alerting: 5\n"), "cfg.yml:1: alerting must be a mapping");
  EXPECT_EQ(ErrorOf("global: 5\n"),
            "cfg.yml:1: global must be a mapping, not a scalar");
  EXPECT_EQ(ErrorOf("\n- global\n"),
            "cfg.yml:2: a config file must be a mapping of sections (global, "
            "scrape_configs, ...)");
  absl::StatusOr<Config> c = ParseConfig("scrape_configs:\n", "cfg.yml");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->scrape_configs.present());
  EXPECT_TRUE(c->scrape_configs.node.IsNull());
}

TEST(ConfigTest, RuleFiles) {
  EXPECT_EQ(ErrorOf("rule_files:\n  - ok.yml\n  - a/*/b.yml\n"),
            "cfg.yml:3: invalid rule file path \"a/*/b.yml\": \"*\" may "
            "appear once, in the last path element only");
  EXPECT_EQ(ErrorOf("rule_files: a.yml\n"),
            "cfg.yml:1: rule_files must be a list of file paths or globs");
  EXPECT_EQ(ErrorOf("rule_files:\n  - [a]\n"),
            "cfg.yml:2: each entry of rule_files must be a non-empty path");
}

TEST(ConfigTest, LoadResolvesPathsAgainstConfigDir) {
  std::string dir = TempDir();
  std::string path =
      WriteTemp(dir, "prometheus.yml",
                "global:\n  query_log_file: q.log\n"
                "rule_files:\n  - rules/*.yml\n  - /etc/abs.yml\n");
  absl::StatusOr<Config> c = LoadConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->filename, path);
  EXPECT_EQ(c->global.query_log_file, dir + "/q.log");
  EXPECT_EQ(c->rule_files,
            (std::vector<std::string>{dir + "/rules/*.yml", "/etc/abs.yml"}));
}

TEST(ConfigTest, LoadErrorsNameThePath) {
  std::string dir = TempDir();
  absl::StatusOr<Config> c = LoadConfigFile(dir + "/missing.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find(dir + "/missing.yml"), std::string::npos)
      << c.status();
  std::string path = WriteTemp(dir, "bad.yml", "global:\n  bogus: 1\n");
  c = LoadConfigFile(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path + ":2: unknown field \"bogus\" in global");
}

// Vigil and Prometheus 2.42 agree on what is a valid config.
TEST(PromtoolTest, AgreesOnValidAndInvalidConfigs) {
  if (!testutil::HavePromtool()) GTEST_SKIP() << testutil::kNoPromtool;
  std::string dir = TempDir();
  absl::StatusOr<Config> full = ParseConfig(kPrometheusConfig, "full.yml");
  ASSERT_TRUE(full.ok()) << full.status();
  absl::StatusOr<std::string> formatted = FormatConfig(*full);
  ASSERT_TRUE(formatted.ok());
  const std::pair<std::string, std::string> valid[] = {
      {"empty.yml", ""},
      {"full.yml", std::string(kPrometheusConfig)},
      {"formatted.yml", *formatted},
      {"short.yml",
       "global:\n  scrape_interval: 5s\n  evaluation_interval: "
       "1m30s\n  external_labels:\n    __name__: x\n"},
  };
  for (const auto& [name, text] : valid) {
    std::string path = WriteTemp(dir, name, text);
    absl::StatusOr<Config> c = LoadConfigFile(path);
    EXPECT_TRUE(c.ok()) << name << ": " << c.status();
    std::string out;
    EXPECT_EQ(testutil::RunPromtool("check config --syntax-only", path, &out),
              0)
        << name << ":\n"
        << out;
  }
  const std::pair<std::string, std::string> invalid[] = {
      {"unknown.yml", "foo: 1\n"},
      {"unknown_global.yml", "global:\n  sample_limit: 5\n"},
      {"duration.yml", "global:\n  scrape_interval: 1s1m\n"},
      {"timeout.yml", "global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n"},
      {"label.yml", "global:\n  external_labels:\n    1a: x\n"},
      {"repeated.yml",
       "global:\n  scrape_interval: 1m\n  scrape_interval: 2m\n"},
      {"glob.yml", "rule_files: [\"a/*/b.yml\"]\n"},
      {"list.yml", "- global\n"},
  };
  for (const auto& [name, text] : invalid) {
    std::string path = WriteTemp(dir, name, text);
    EXPECT_FALSE(LoadConfigFile(path).ok()) << name;
    std::string out;
    EXPECT_EQ(testutil::RunPromtool("check config --syntax-only", path, &out),
              1)
        << name << ":\n"
        << out;
  }
}

}  // namespace
}  // namespace vigil::config
