#include "config/scrape_config.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "config/config.h"
#include "config/test_util.h"
#include "gtest/gtest.h"

namespace vigil::config {
namespace {

using testutil::TempDir;
using testutil::WriteTemp;

// "scrape_configs:" is line 1 and "- job_name: a" line 2, so the first line
// of `fields` (indented by two spaces) is line 3.
std::string JobA(absl::string_view fields) {
  return absl::StrCat("scrape_configs:\n- job_name: a\n", fields);
}

ScrapeConfig ParseJob(absl::string_view yaml) {
  absl::StatusOr<Config> c = ParseConfig(yaml, "cfg.yml");
  EXPECT_TRUE(c.ok()) << c.status() << "\n" << yaml;
  if (!c.ok() || c->scrapes.empty()) return ScrapeConfig();
  return c->scrapes[0];
}

std::string ErrorOf(absl::string_view yaml) {
  absl::StatusOr<Config> c = ParseConfig(yaml, "cfg.yml");
  EXPECT_FALSE(c.ok()) << "parsed:\n" << yaml;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

TEST(ScrapeConfigTest, Defaults) {
  ScrapeConfig sc = ParseJob(JobA(""));
  EXPECT_EQ(sc.job_name, "a");
  EXPECT_EQ(sc.line, 2);
  EXPECT_EQ(sc.scrape_interval, absl::Minutes(1));
  EXPECT_EQ(sc.scrape_timeout, absl::Seconds(10));
  EXPECT_EQ(sc.metrics_path, "/metrics");
  EXPECT_EQ(sc.scheme, "http");
  EXPECT_TRUE(sc.params.empty());
  EXPECT_FALSE(sc.honor_labels);
  EXPECT_TRUE(sc.honor_timestamps);
  EXPECT_FALSE(sc.http.basic_auth.has_value());
  EXPECT_FALSE(sc.http.authorization.has_value());
  EXPECT_EQ(sc.http.tls, TlsClientConfig());
  EXPECT_TRUE(sc.http.follow_redirects);
  EXPECT_TRUE(sc.http.enable_http2);
  EXPECT_EQ(sc.sample_limit, 0u);
  EXPECT_EQ(sc.label_limit, 0u);
  EXPECT_EQ(sc.label_name_length_limit, 0u);
  EXPECT_EQ(sc.label_value_length_limit, 0u);
  EXPECT_EQ(sc.target_limit, 0u);
  EXPECT_EQ(sc.body_size_limit, 0);
  EXPECT_TRUE(sc.static_configs.empty());
  EXPECT_TRUE(sc.file_sd_configs.empty());
  EXPECT_TRUE(sc.http_sd_configs.empty());
  EXPECT_TRUE(sc.relabel_configs.empty());
  EXPECT_TRUE(sc.metric_relabel_configs.empty());
}

TEST(ScrapeConfigTest, NoSectionNoJobs) {
  absl::StatusOr<Config> c = ParseConfig("global: {}\n", "cfg.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->scrapes.empty());
  c = ParseConfig("scrape_configs:\n", "cfg.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->scrapes.empty());
  EXPECT_TRUE(c->scrape_configs.present());
}

TEST(ScrapeConfigTest, IntervalAndTimeoutComeFromGlobal) {
  // `global` after scrape_configs still applies.
  ScrapeConfig sc = ParseJob(JobA("") +
                             "global: {scrape_interval: 30s, scrape_timeout: "
                             "20s}\n");
  EXPECT_EQ(sc.scrape_interval, absl::Seconds(30));
  EXPECT_EQ(sc.scrape_timeout, absl::Seconds(20));
  // A global timeout above the job's interval shrinks to the interval.
  sc = ParseJob("global: {scrape_timeout: 20s}\n" +
                JobA("  scrape_interval: 5s\n"));
  EXPECT_EQ(sc.scrape_interval, absl::Seconds(5));
  EXPECT_EQ(sc.scrape_timeout, absl::Seconds(5));
  // Null and 0 mean "not set".
  sc = ParseJob(JobA("  scrape_interval: ~\n  scrape_timeout: 0s\n"));
  EXPECT_EQ(sc.scrape_interval, absl::Minutes(1));
  EXPECT_EQ(sc.scrape_timeout, absl::Seconds(10));
}

TEST(ScrapeConfigTest, EveryField) {
  ScrapeConfig sc = ParseJob(R"(scrape_configs:
- job_name: node
  scrape_interval: 15s
  scrape_timeout: 5s
  metrics_path: /probe
  scheme: https
  params:
    module: [http_2xx, tcp]
    empty: ~
  honor_labels: yes
  honor_timestamps: false
  basic_auth: {username: u, password_file: pw.txt}
  tls_config:
    ca_file: ca.pem
    cert_file: c.pem
    key_file: k.pem
    server_name: example.org
    insecure_skip_verify: true
    min_version: TLS12
    max_version: TLS13
  follow_redirects: false
  enable_http2: off
  proxy_url: ""
  sample_limit: 1000
  label_limit: 30
  label_name_length_limit: 0x40
  label_value_length_limit: 1_024
  target_limit: 1e3
  body_size_limit: 10MB
  static_configs:
    - targets: ['a:9100', b]
      labels: {env: prod, __meta_x: y}
    - targets: []
  file_sd_configs:
    - files: [targets/*.json, more.yml]
      refresh_interval: 30s
    - files: [x.yaml]
  http_sd_configs:
    - url: https://sd.example.org/targets
      refresh_interval: 2m
      authorization: {credentials: secret}
  relabel_configs:
    - source_labels: [__address__]
      target_label: instance
  metric_relabel_configs:
    - action: drop
      source_labels: [__name__, job]
      separator: ','
      regex: 'go_.*,node'
)");
  EXPECT_EQ(sc.job_name, "node");
  EXPECT_EQ(sc.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(sc.scrape_timeout, absl::Seconds(5));
  EXPECT_EQ(sc.metrics_path, "/probe");
  EXPECT_EQ(sc.scheme, "https");
  std::map<std::string, std::vector<std::string>> want_params = {
      {"empty", {}}, {"module", {"http_2xx", "tcp"}}};
  EXPECT_EQ(sc.params, want_params);
  EXPECT_TRUE(sc.honor_labels);
  EXPECT_FALSE(sc.honor_timestamps);
  ASSERT_TRUE(sc.http.basic_auth.has_value());
  EXPECT_EQ(sc.http.basic_auth->username, "u");
  EXPECT_EQ(sc.http.basic_auth->password, "");
  EXPECT_EQ(sc.http.basic_auth->password_file, "pw.txt");
  EXPECT_FALSE(sc.http.authorization.has_value());
  const TlsClientConfig& tls = sc.http.tls;
  EXPECT_EQ(tls.ca_file, "ca.pem");
  EXPECT_EQ(tls.cert_file, "c.pem");
  EXPECT_EQ(tls.key_file, "k.pem");
  EXPECT_EQ(tls.server_name, "example.org");
  EXPECT_TRUE(tls.insecure_skip_verify);
  EXPECT_EQ(tls.min_version, "TLS12");
  EXPECT_EQ(tls.max_version, "TLS13");
  EXPECT_FALSE(sc.http.follow_redirects);
  EXPECT_FALSE(sc.http.enable_http2);
  EXPECT_EQ(sc.http.proxy_url, "");
  EXPECT_EQ(sc.sample_limit, 1000u);
  EXPECT_EQ(sc.label_limit, 30u);
  EXPECT_EQ(sc.label_name_length_limit, 64u);
  EXPECT_EQ(sc.label_value_length_limit, 1024u);
  EXPECT_EQ(sc.target_limit, 1000u);
  EXPECT_EQ(sc.body_size_limit, 10 << 20);

  ASSERT_EQ(sc.static_configs.size(), 2u);
  const TargetGroup& g = sc.static_configs[0];
  ASSERT_EQ(g.targets.size(), 2u);
  EXPECT_EQ(g.targets[0],
            model::Labels::FromPairs({{"__address__", "a:9100"}}));
  EXPECT_EQ(g.targets[1], model::Labels::FromPairs({{"__address__", "b"}}));
  EXPECT_EQ(g.labels,
            model::Labels::FromPairs({{"env", "prod"}, {"__meta_x", "y"}}));
  EXPECT_EQ(g.source, "0");
  EXPECT_EQ(sc.static_configs[1].source, "1");
  EXPECT_TRUE(sc.static_configs[1].targets.empty());

  ASSERT_EQ(sc.file_sd_configs.size(), 2u);
  EXPECT_EQ(sc.file_sd_configs[0].files,
            (std::vector<std::string>{"targets/*.json", "more.yml"}));
  EXPECT_EQ(sc.file_sd_configs[0].refresh_interval, absl::Seconds(30));
  EXPECT_EQ(sc.file_sd_configs[0].line, 35);
  EXPECT_EQ(sc.file_sd_configs[1].refresh_interval, absl::Minutes(5));

  ASSERT_EQ(sc.http_sd_configs.size(), 1u);
  const HttpSdConfig& h = sc.http_sd_configs[0];
  EXPECT_EQ(h.url, "https://sd.example.org/targets");
  EXPECT_EQ(h.refresh_interval, absl::Minutes(2));
  ASSERT_TRUE(h.http.authorization.has_value());
  EXPECT_EQ(h.http.authorization->type, "Bearer");
  EXPECT_EQ(h.http.authorization->credentials, "secret");
  EXPECT_EQ(h.line, 39);

  ASSERT_EQ(sc.relabel_configs.size(), 1u);
  const RelabelConfig& r = sc.relabel_configs[0];
  EXPECT_EQ(r.action, RelabelAction::kReplace);
  EXPECT_EQ(r.source_labels, std::vector<std::string>{"__address__"});
  EXPECT_EQ(r.target_label, "instance");
  EXPECT_EQ(r.separator, ";");
  EXPECT_EQ(r.regex, "(.*)");
  EXPECT_EQ(r.replacement, "$1");
  EXPECT_EQ(r.modulus, 0u);
  EXPECT_EQ(r.line, 43);
  ASSERT_EQ(sc.metric_relabel_configs.size(), 1u);
  const RelabelConfig& m = sc.metric_relabel_configs[0];
  EXPECT_EQ(m.action, RelabelAction::kDrop);
  EXPECT_EQ(m.source_labels, (std::vector<std::string>{"__name__", "job"}));
  EXPECT_EQ(m.separator, ",");
  EXPECT_EQ(m.regex, "go_.*,node");
}

TEST(ScrapeConfigTest, BearerTokenBecomesAuthorization) {
  ScrapeConfig sc = ParseJob(JobA("  bearer_token: tok\n"));
  ASSERT_TRUE(sc.http.authorization.has_value());
  EXPECT_EQ(*sc.http.authorization, (Authorization{"Bearer", "tok", ""}));
  sc = ParseJob(JobA("  bearer_token_file: tok.txt\n"));
  ASSERT_TRUE(sc.http.authorization.has_value());
  EXPECT_EQ(*sc.http.authorization, (Authorization{"Bearer", "", "tok.txt"}));
  // An authorization's type is trimmed and defaults to Bearer.
  sc = ParseJob(JobA("  authorization: {type: ' Token ', credentials: c}\n"));
  EXPECT_EQ(*sc.http.authorization, (Authorization{"Token", "c", ""}));
  sc = ParseJob(JobA("  authorization: {credentials_file: f}\n"));
  EXPECT_EQ(*sc.http.authorization, (Authorization{"Bearer", "", "f"}));
  // An empty basic_auth is still a basic_auth.
  sc = ParseJob(JobA("  basic_auth: {}\n"));
  EXPECT_TRUE(sc.http.basic_auth.has_value());
  sc = ParseJob(JobA("  basic_auth: ~\n  authorization: ~\n"));
  EXPECT_FALSE(sc.http.basic_auth.has_value());
  EXPECT_FALSE(sc.http.authorization.has_value());
}

TEST(ScrapeConfigTest, ScalarsAsPrometheusReadsThem) {
  // YAML 1.1 booleans; null zeroes a field, as yaml.v2 does.
  EXPECT_TRUE(ParseJob(JobA("  honor_labels: on\n")).honor_labels);
  EXPECT_TRUE(ParseJob(JobA("  honor_labels: TRUE\n")).honor_labels);
  EXPECT_FALSE(ParseJob(JobA("  honor_timestamps: no\n")).honor_timestamps);
  EXPECT_FALSE(ParseJob(JobA("  honor_timestamps: ~\n")).honor_timestamps);
  EXPECT_EQ(ParseJob(JobA("  metrics_path: ~\n")).metrics_path, "");
  // Integers: octal, binary, floats truncated.
  EXPECT_EQ(ParseJob(JobA("  sample_limit: 010\n")).sample_limit, 8u);
  EXPECT_EQ(ParseJob(JobA("  sample_limit: 0b11\n")).sample_limit, 3u);
  EXPECT_EQ(ParseJob(JobA("  sample_limit: 0o17\n")).sample_limit, 15u);
  EXPECT_EQ(ParseJob(JobA("  sample_limit: 1.9\n")).sample_limit, 1u);
  EXPECT_EQ(
      ParseJob(JobA("  sample_limit: 18446744073709551615\n")).sample_limit,
      18446744073709551615u);
  // Any scalar is a string.
  EXPECT_EQ(ParseJob("scrape_configs:\n- job_name: 5\n").job_name, "5");
}

TEST(ScrapeConfigTest, BadScalars) {
  EXPECT_EQ(ErrorOf(JobA("  honor_labels: 1\n")),
            "cfg.yml:3: honor_labels must be true or false, not \"1\"");
  EXPECT_EQ(ErrorOf(JobA("  honor_labels: 'true'\n")),
            "cfg.yml:3: honor_labels must be true or false, not \"true\"");
  EXPECT_EQ(ErrorOf(JobA("  sample_limit: -1\n")),
            "cfg.yml:3: sample_limit must be a non-negative integer, not "
            "\"-1\"");
  EXPECT_EQ(ErrorOf(JobA("  target_limit: '5'\n")),
            "cfg.yml:3: target_limit must be a non-negative integer, not "
            "\"5\"");
  EXPECT_EQ(ErrorOf(JobA("  label_limit: [1]\n")),
            "cfg.yml:3: label_limit must be a non-negative integer, not \"a "
            "collection\"");
  EXPECT_EQ(ErrorOf(JobA("  label_limit: .inf\n")),
            "cfg.yml:3: label_limit must be a non-negative integer, not "
            "\".inf\"");
  EXPECT_EQ(ErrorOf(JobA("  scrape_interval: 5x\n")),
            "cfg.yml:3: invalid duration \"5x\" for scrape_interval (want e.g. "
            "30s, 1m30s, 2h, 1d, 500ms: units y w d h m s ms, largest first)");
  EXPECT_EQ(ErrorOf("scrape_configs:\n- job_name: [a]\n"),
            "cfg.yml:2: job_name must be a string, not a list");
}

TEST(ScrapeConfigTest, BodySizeLimitIsBase2) {
  const std::pair<absl::string_view, int64_t> cases[] = {
      {"0", 0},
      {"~", 0},
      {"10B", 10},
      {"1KB", 1024},
      {"1KiB", 1024},
      {"10MB", 10 << 20},
      {"10MiB", 10 << 20},
      {"1.5MB", 3 << 19},
      {"1GB512MB", (int64_t{1} << 30) + (512 << 20)},
      {".5KB", 512},
      {"+2KB", 2048},
      {"-1KB", -1024},
      {"1EB", int64_t{1} << 60},
      {"'10MB'", 10 << 20},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(ParseJob(JobA(absl::StrCat("  body_size_limit: ", text, "\n")))
                  .body_size_limit,
              want)
        << text;
  }
}

TEST(ScrapeConfigTest, BadBodySizeLimit) {
  const std::pair<absl::string_view, absl::string_view> cases[] = {
      {"1000", "units: unknown unit  in 1000"},
      {"10mb", "units: unknown unit mb in 10mb"},
      {"1kB", "units: unknown unit kB in 1kB"},
      {"1KiB1KB", "units: unknown unit KiB in 1KiB1KB"},
      {"1e3KB", "units: unknown unit e in 1e3KB"},
      {"16EB", "units: overflow parsing unit"},
      {"''", "units: invalid "},
      {".", "units: invalid ."},
  };
  for (const auto& [text, msg] : cases) {
    EXPECT_EQ(ErrorOf(JobA(absl::StrCat("  body_size_limit: ", text, "\n"))),
              absl::StrCat("cfg.yml:3: invalid body_size_limit: ", msg,
                           " (want e.g. 10MB, 512KiB; 1KB = 1024B)"))
        << text;
  }
}

TEST(ScrapeConfigTest, JobErrors) {
  EXPECT_EQ(ErrorOf("scrape_configs:\n- scrape_interval: 1s\n"),
            "cfg.yml:2: job_name is empty");
  EXPECT_EQ(ErrorOf("scrape_configs:\n- job_name: ''\n"),
            "cfg.yml:2: job_name is empty");
  EXPECT_EQ(ErrorOf(JobA("- job_name: b\n- job_name: a\n")),
            "cfg.yml:4: found multiple scrape configs with job name \"a\"");
  EXPECT_EQ(ErrorOf("scrape_configs:\n- job_name: a\n-\n"),
            "cfg.yml:1: empty or null scrape config section");
  EXPECT_EQ(ErrorOf("scrape_configs: {a: 1}\n"),
            "cfg.yml:1: scrape_configs must be a list");
  EXPECT_EQ(ErrorOf("scrape_configs:\n- job\n"),
            "cfg.yml:2: a scrape config must be a mapping, not a scalar");
  EXPECT_EQ(ErrorOf(JobA("  bogus: 1\n")),
            "cfg.yml:3: unknown field \"bogus\" in scrape config \"a\"");
  EXPECT_EQ(ErrorOf(JobA("  job_name: b\n")),
            "cfg.yml:3: field \"job_name\" repeated in a scrape config");
  EXPECT_EQ(ErrorOf(JobA("  scheme: ftp\n")),
            "cfg.yml:3: invalid scheme \"ftp\" (want http or https)");
}

TEST(ScrapeConfigTest, TimeoutAboveInterval) {
  EXPECT_EQ(ErrorOf(JobA("  scrape_interval: 10s\n  scrape_timeout: 20s\n")),
            "cfg.yml:4: scrape timeout greater than scrape interval for scrape "
            "config with job name \"a\"");
  // Against the global interval when the job sets none.
  EXPECT_EQ(ErrorOf("global: {scrape_interval: 5s}\n" +
                    JobA("  scrape_timeout: 6s\n")),
            "cfg.yml:4: scrape timeout greater than scrape interval for scrape "
            "config with job name \"a\"");
  EXPECT_EQ(ParseJob(JobA("  scrape_interval: 5s\n  scrape_timeout: 5s\n"))
                .scrape_timeout,
            absl::Seconds(5));
}

TEST(ScrapeConfigTest, UnsupportedFields) {
  EXPECT_EQ(ErrorOf(JobA("  kubernetes_sd_configs: [{role: pod}]\n")),
            "cfg.yml:3: kubernetes_sd_configs (in scrape config \"a\") is not "
            "supported by Vigil");
  EXPECT_EQ(ErrorOf(JobA("  oauth2: {client_id: x}\n")),
            "cfg.yml:3: oauth2 (in scrape config \"a\") is not supported by "
            "Vigil");
  EXPECT_EQ(ErrorOf(JobA("  proxy_url: http://proxy:3128\n")),
            "cfg.yml:3: proxy_url is not supported by Vigil yet");
}

TEST(ScrapeConfigTest, HttpClientConflicts) {
  const std::pair<absl::string_view, absl::string_view> cases[] = {
      {"  basic_auth: {username: u, password: p, password_file: f}\n",
       "cfg.yml:3: at most one of basic_auth password & password_file must be "
       "configured"},
      {"  bearer_token: t\n  bearer_token_file: f\n",
       "cfg.yml:4: at most one of bearer_token & bearer_token_file must be "
       "configured"},
      {"  basic_auth: {username: u}\n  bearer_token: t\n",
       "cfg.yml:4: at most one of basic_auth, oauth2, bearer_token & "
       "bearer_token_file must be configured"},
      {"  authorization: {credentials: c}\n  bearer_token_file: f\n",
       "cfg.yml:3: authorization is not compatible with bearer_token & "
       "bearer_token_file"},
      {"  authorization:\n    credentials: c\n    credentials_file: f\n",
       "cfg.yml:5: at most one of authorization credentials & "
       "credentials_file must be configured"},
      {"  authorization: {type: ' basic '}\n",
       "cfg.yml:3: authorization type cannot be set to \"basic\", use "
       "\"basic_auth\" instead"},
      {"  authorization: {}\n  basic_auth: {username: u}\n",
       "cfg.yml:3: at most one of basic_auth, oauth2 & authorization must be "
       "configured"},
      {"  tls_config:\n    cert_file: c.pem\n",
       "cfg.yml:4: client cert file \"c.pem\" specified without client key "
       "file"},
      {"  tls_config:\n    key_file: k.pem\n",
       "cfg.yml:4: client key file \"k.pem\" specified without client cert "
       "file"},
      {"  tls_config: {min_version: TLS14}\n",
       "cfg.yml:3: unknown TLS version: TLS14 (in min_version; want TLS10, "
       "TLS11, TLS12 or TLS13)"},
      {"  tls_config:\n    ca: inline\n",
       "cfg.yml:4: unknown field \"ca\" in tls_config"},
      {"  basic_auth: {username_file: u}\n",
       "cfg.yml:3: unknown field \"username_file\" in basic_auth"},
      {"  authorization: {token: x}\n",
       "cfg.yml:3: unknown field \"token\" in authorization"},
  };
  for (const auto& [fields, msg] : cases) {
    EXPECT_EQ(ErrorOf(JobA(fields)), msg) << fields;
  }
}

TEST(ScrapeConfigTest, StaticConfigs) {
  // A URL is refused as a target unless relabeling may rewrite it.
  EXPECT_EQ(ErrorOf(JobA("  static_configs:\n  - targets:\n    - a:80\n"
                         "    - http://b:80\n")),
            "cfg.yml:6: \"http://b:80\" is not a valid hostname");
  ScrapeConfig sc = ParseJob(
      JobA("  static_configs: [{targets: ['http://b:80']}]\n"
           "  relabel_configs: [{action: keep, source_labels: [x]}]\n"));
  EXPECT_EQ(sc.static_configs[0].targets[0].Get("__address__"), "http://b:80");
  EXPECT_EQ(ErrorOf(JobA("  static_configs:\n  - targets: [a]\n    labels:\n"
                         "      a-b: x\n")),
            "cfg.yml:6: \"a-b\" is not a valid label name");
  EXPECT_EQ(ErrorOf(JobA("  static_configs:\n  - targets: [a]\n"
                         "    source: x\n")),
            "cfg.yml:5: unknown field \"source\" in static_configs");
  EXPECT_EQ(ErrorOf(JobA("  static_configs:\n  -\n")),
            "cfg.yml:3: empty or null section in static_configs");
  EXPECT_EQ(ErrorOf(JobA("  static_configs: {targets: [a]}\n")),
            "cfg.yml:3: static_configs must be a list");
  EXPECT_EQ(ErrorOf(JobA("  static_configs: [{targets: a}]\n")),
            "cfg.yml:3: targets must be a list of strings");
  EXPECT_EQ(ErrorOf(JobA("  static_configs: [{targets: [a], labels: {x: "
                         "[1]}}]\n")),
            "cfg.yml:3: x must be a string, not a list");
}

TEST(ScrapeConfigTest, FileSdConfigs) {
  ScrapeConfig sc =
      ParseJob(JobA("  file_sd_configs:\n  - files: ['*.json', 'a/b*.YML', "
                    "'c.yaml', 'a*b*.yml']\n"
                    "    refresh_interval: 0s\n"));
  EXPECT_EQ(sc.file_sd_configs[0].refresh_interval, absl::ZeroDuration());
  for (absl::string_view bad : {"a.txt", "a*", "*/a.yml", "a.yml.bak", ""}) {
    EXPECT_EQ(ErrorOf(JobA(absl::StrCat("  file_sd_configs:\n  - files: ['",
                                        bad, "']\n"))),
              absl::StrCat("cfg.yml:4: path name \"", bad,
                           "\" is not valid for file discovery"));
  }
  EXPECT_EQ(ErrorOf(JobA("  file_sd_configs:\n  - refresh_interval: 1m\n")),
            "cfg.yml:4: file service discovery config must contain at least "
            "one path name");
  EXPECT_EQ(ErrorOf(JobA("  file_sd_configs:\n  - {files: [a.yml], x: 1}\n")),
            "cfg.yml:4: unknown field \"x\" in file_sd_configs");
  EXPECT_EQ(ErrorOf(JobA("  file_sd_configs:\n  -\n")),
            "cfg.yml:3: empty or null section in file_sd_configs");
}

TEST(ScrapeConfigTest, HttpSdConfigs) {
  ScrapeConfig sc =
      ParseJob(JobA("  http_sd_configs:\n  - url: HTTP://x/sd\n"
                    "    basic_auth: {username: u, password: p}\n"
                    "    tls_config: {insecure_skip_verify: true}\n"
                    "    follow_redirects: false\n"));
  const HttpSdConfig& h = sc.http_sd_configs[0];
  EXPECT_EQ(h.refresh_interval, absl::Minutes(1));
  EXPECT_EQ(h.http.basic_auth->password, "p");
  EXPECT_TRUE(h.http.tls.insecure_skip_verify);
  EXPECT_FALSE(h.http.follow_redirects);
  const std::pair<absl::string_view, absl::string_view> cases[] = {
      {"  - refresh_interval: 1m\n", "cfg.yml:4: URL is missing"},
      {"  - url: ftp://x/sd\n",
       "cfg.yml:4: URL scheme must be 'http' or 'https'"},
      {"  - url: /sd\n", "cfg.yml:4: URL scheme must be 'http' or 'https'"},
      {"  - url: http:///sd\n", "cfg.yml:4: host is missing in URL"},
      {"  - url: ':x'\n", "cfg.yml:4: parse \":x\": missing protocol scheme"},
      {"  - {url: 'http://x', sample_limit: 1}\n",
       "cfg.yml:4: unknown field \"sample_limit\" in http_sd_configs"},
      {"  - {url: 'http://x', bearer_token: a, bearer_token_file: b}\n",
       "cfg.yml:4: at most one of bearer_token & bearer_token_file must be "
       "configured"},
      {"  -\n", "cfg.yml:3: empty or null section in http_sd_configs"},
  };
  for (const auto& [entry, msg] : cases) {
    EXPECT_EQ(ErrorOf(JobA(absl::StrCat("  http_sd_configs:\n", entry))), msg)
        << entry;
  }
}

TEST(ScrapeConfigTest, Params) {
  EXPECT_EQ(ErrorOf(JobA("  params: {a: x}\n")),
            "cfg.yml:3: a must be a list of strings");
  EXPECT_EQ(ErrorOf(JobA("  params: [a]\n")),
            "cfg.yml:3: params must be a mapping, not a list");
  ScrapeConfig sc = ParseJob(JobA("  params: {'': [~], 5: [1]}\n"));
  std::map<std::string, std::vector<std::string>> want = {{"", {""}},
                                                          {"5", {"1"}}};
  EXPECT_EQ(sc.params, want);
}

// Each action with the fields it needs; the name round-trips.
TEST(RelabelConfigTest, Actions) {
  const std::pair<absl::string_view, RelabelAction> cases[] = {
      {"{target_label: x}", RelabelAction::kReplace},
      {"{action: Keep}", RelabelAction::kKeep},
      {"{action: DROP}", RelabelAction::kDrop},
      {"{action: keepequal, source_labels: [a], target_label: b}",
       RelabelAction::kKeepEqual},
      {"{action: dropequal, source_labels: [a], target_label: b, separator: "
       "';'}",
       RelabelAction::kDropEqual},
      {"{action: hashmod, modulus: 4, target_label: b}",
       RelabelAction::kHashMod},
      {"{action: labelmap, regex: 'x_(.+)', replacement: 'y_${1}'}",
       RelabelAction::kLabelMap},
      {"{action: labeldrop, regex: tmp.*, replacement: $1}",
       RelabelAction::kLabelDrop},
      {"{action: labelkeep, source_labels: ~}", RelabelAction::kLabelKeep},
      {"{action: lowercase, target_label: '${1}'}", RelabelAction::kLowercase},
      {"{action: uppercase, source_labels: [a], target_label: b}",
       RelabelAction::kUppercase},
  };
  for (const auto& [entry, action] : cases) {
    ScrapeConfig sc =
        ParseJob(JobA(absl::StrCat("  relabel_configs:\n  - ", entry, "\n")));
    ASSERT_EQ(sc.relabel_configs.size(), 1u) << entry;
    EXPECT_EQ(sc.relabel_configs[0].action, action) << entry;
    EXPECT_EQ(sc.relabel_configs[0].line, 4);
    // The name is what the config spells.
    std::string lower = absl::AsciiStrToLower(entry);
    EXPECT_TRUE(action == RelabelAction::kReplace ||
                absl::StrContains(
                    lower, absl::StrCat("action: ", RelabelActionName(action))))
        << entry;
  }
  EXPECT_STREQ(RelabelActionName(RelabelAction::kKeepEqual), "keepequal");
  EXPECT_STREQ(RelabelActionName(RelabelAction::kLabelMap), "labelmap");
  EXPECT_STREQ(RelabelActionName(RelabelAction::kUppercase), "uppercase");
  ScrapeConfig sc =
      ParseJob(JobA("  metric_relabel_configs:\n  - {action: hashmod, "
                    "modulus: 8, target_label: h, source_labels: [a, b]}\n"));
  EXPECT_EQ(sc.metric_relabel_configs[0].modulus, 8u);
  // A null regex is the empty regex, as in Prometheus.
  sc = ParseJob(JobA("  relabel_configs: [{action: keep, regex: ~}]\n"));
  EXPECT_EQ(sc.relabel_configs[0].regex, "");
}

TEST(RelabelConfigTest, ErrorsAsPrometheus) {
  const std::pair<absl::string_view, absl::string_view> cases[] = {
      {"{}",
       "relabel configuration for replace action requires "
       "'target_label' value"},
      {"{action: foo}", "unknown relabel action \"foo\""},
      {"{action: ''}", "unknown relabel action \"\""},
      {"{action: ~, target_label: a}", "relabel action cannot be empty"},
      {"{action: replace, target_label: 1a}",
       "\"1a\" is invalid 'target_label' for replace action"},
      {"{action: replace, target_label: 'x-${1}'}",
       "\"x-${1}\" is invalid 'target_label' for replace action"},
      {"{action: replace, target_label: '$'}",
       "\"$\" is invalid 'target_label' for replace action"},
      {"{action: lowercase}",
       "relabel configuration for lowercase action requires 'target_label' "
       "value"},
      {"{action: uppercase, target_label: a-b}",
       "\"a-b\" is invalid 'target_label' for uppercase action"},
      {"{action: hashmod, target_label: x}",
       "relabel configuration for hashmod requires non-zero modulus"},
      {"{action: hashmod, modulus: 2}",
       "relabel configuration for hashmod action requires 'target_label' "
       "value"},
      {"{action: hashmod, modulus: 2, target_label: 'a$1'}",
       "\"a$1\" is invalid 'target_label' for hashmod action"},
      {"{action: keepequal, source_labels: [a]}",
       "relabel configuration for keepequal action requires 'target_label' "
       "value"},
      {"{action: keepequal, target_label: a-b}",
       "\"a-b\" is invalid 'target_label' for keepequal action"},
      {"{action: dropequal, target_label: b, replacement: x}",
       "'replacement' can not be set for dropequal action"},
      {"{action: lowercase, target_label: b, replacement: x}",
       "'replacement' can not be set for lowercase action"},
      {"{action: uppercase, target_label: a-b, replacement: x}",
       "\"a-b\" is invalid 'target_label' for uppercase action"},
      {"{action: keepequal, target_label: b, regex: '(.*)'}",
       "keepequal action requires only 'source_labels' and `target_label`, "
       "and no other fields"},
      {"{action: dropequal, target_label: b, modulus: 2}",
       "dropequal action requires only 'source_labels' and `target_label`, "
       "and no other fields"},
      {"{action: labeldrop, source_labels: []}",
       "labeldrop action requires only 'regex', and no other fields"},
      {"{action: labeldrop, target_label: a}",
       "labeldrop action requires only 'regex', and no other fields"},
      {"{action: labelkeep, separator: ~}",
       "labelkeep action requires only 'regex', and no other fields"},
      {"{action: labelkeep, replacement: x}",
       "labelkeep action requires only 'regex', and no other fields"},
      {"{action: labelkeep, modulus: 3}",
       "labelkeep action requires only 'regex', and no other fields"},
      {"{action: labelmap, replacement: 'a-$1'}",
       "\"a-$1\" is invalid 'replacement' for labelmap action"},
      {"{action: keep, regex: '('}",
       "error parsing regexp: missing ): ^(?:()$"},
      {"{action: keep, regex: '\\C'}",
       "error parsing regexp: invalid escape sequence: `\\C`"},
      {"{action: keep, regex: '(?=x)'}",
       "error parsing regexp: invalid perl operator: (?="},
      {"{action: keep, source_labels: [a-b]}",
       "\"a-b\" is not a valid label name"},
      {"{action: keep, source_labels: ['']}", "\"\" is not a valid label name"},
      {"{action: keep, bogus: 1}",
       "unknown field \"bogus\" in relabel_configs"},
      {"{action: hashmod, target_label: a, modulus: -1}",
       "modulus must be a non-negative integer, not \"-1\""},
  };
  for (const auto& [entry, msg] : cases) {
    EXPECT_EQ(
        ErrorOf(JobA(absl::StrCat("  relabel_configs:\n  - ", entry, "\n"))),
        absl::StrCat("cfg.yml:4: ", msg))
        << entry;
  }
  EXPECT_EQ(ErrorOf(JobA("  relabel_configs:\n  -\n")),
            "cfg.yml:3: empty or null target relabeling rule in scrape config");
  EXPECT_EQ(ErrorOf(JobA("  metric_relabel_configs:\n  -\n")),
            "cfg.yml:3: empty or null metric relabeling rule in scrape config");
  EXPECT_EQ(ErrorOf(JobA("  metric_relabel_configs:\n  - {action: drop,\n"
                         "     regex: 'a{1001}'}\n")),
            "cfg.yml:5: error parsing regexp: invalid repetition size: {1001}")
      << "RE2 and Go both cap repeats at 1000";
}

TEST(SameScrapeConfigTest, IgnoresLines) {
  const std::string job =
      "- job_name: a\n"
      "  basic_auth: {username: u}\n"
      "  static_configs: [{targets: [x], labels: {l: v}}]\n"
      "  file_sd_configs: [{files: [a.yml]}]\n"
      "  http_sd_configs: [{url: 'http://sd'}]\n"
      "  relabel_configs: [{target_label: t}]\n"
      "  metric_relabel_configs: [{action: drop, regex: x}]\n";
  ScrapeConfig a = ParseJob("scrape_configs:\n" + job);
  ScrapeConfig b = ParseJob("\n\n\nscrape_configs:\n\n" + job);
  EXPECT_NE(a.line, b.line);
  EXPECT_NE(a.relabel_configs[0].line, b.relabel_configs[0].line);
  EXPECT_TRUE(SameScrapeConfig(a, b));
  EXPECT_TRUE(SameScrapeConfig(a, a));
}

TEST(SameScrapeConfigTest, SeesEveryPart) {
  ScrapeConfig base =
      ParseJob(JobA("  static_configs: [{targets: [x]}]\n"
                    "  file_sd_configs: [{files: [a.yml]}]\n"
                    "  http_sd_configs: [{url: 'http://sd'}]\n"
                    "  relabel_configs: [{target_label: t}]\n"
                    "  metric_relabel_configs: [{action: drop, regex: x}]\n"));
  std::vector<void (*)(ScrapeConfig*)> edits = {
      [](ScrapeConfig* c) { c->job_name = "b"; },
      [](ScrapeConfig* c) { c->scrape_timeout = absl::Seconds(3); },
      [](ScrapeConfig* c) { c->params["x"] = {"1"}; },
      [](ScrapeConfig* c) { c->honor_labels = true; },
      [](ScrapeConfig* c) { c->http.tls.server_name = "s"; },
      [](ScrapeConfig* c) { c->http.authorization.emplace(); },
      [](ScrapeConfig* c) { c->body_size_limit = 1; },
      [](ScrapeConfig* c) { c->target_limit = 1; },
      [](ScrapeConfig* c) {
        c->static_configs[0].labels = model::Labels::FromPairs({{"a", "b"}});
      },
      [](ScrapeConfig* c) { c->file_sd_configs[0].files[0] = "b.yml"; },
      [](ScrapeConfig* c) {
        c->file_sd_configs[0].refresh_interval = absl::Seconds(1);
      },
      [](ScrapeConfig* c) { c->http_sd_configs[0].http.enable_http2 = false; },
      [](ScrapeConfig* c) { c->relabel_configs[0].replacement = "x"; },
      [](ScrapeConfig* c) {
        c->metric_relabel_configs[0].action = RelabelAction::kKeep;
      },
      [](ScrapeConfig* c) { c->metric_relabel_configs.clear(); },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    ScrapeConfig changed = base;
    edits[i](&changed);
    EXPECT_FALSE(SameScrapeConfig(base, changed)) << "edit " << i;
  }
}

TEST(ParseTargetGroupsTest, YamlAndJson) {
  absl::StatusOr<std::vector<TargetGroup>> g = ParseTargetGroups(
      "- targets: [a, b]\n  labels: {env: x}\n- targets: [c]\n", "t.yml",
      /*strict=*/true);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].targets.size(), 2u);
  EXPECT_EQ((*g)[0].labels.Get("env"), "x");
  EXPECT_EQ((*g)[1].source, "1");
  // JSON ignores unknown fields, as Go's encoding/json does.
  g = ParseTargetGroups(R"([{"targets": ["a"], "extra": 1}])", "t.json",
                        /*strict=*/false);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)[0].targets[0].Get("__address__"), "a");
  EXPECT_TRUE(ParseTargetGroups("", "t.yml", true)->empty());

  EXPECT_EQ(ParseTargetGroups("- targets: [a]\n  extra: 1\n", "t.yml", true)
                .status()
                .message(),
            "t.yml:2: unknown field \"extra\" in a target group");
  EXPECT_EQ(
      ParseTargetGroups("- targets: [a]\n  labels: {'a b': x}\n", "t.yml", true)
          .status()
          .message(),
      "t.yml:2: \"a b\" is not a valid label name");
  EXPECT_EQ(
      ParseTargetGroups("{targets: [a]}\n", "t.yml", true).status().message(),
      "t.yml:1: a target group file must be a list of {targets, labels} "
      "groups");
  EXPECT_FALSE(ParseTargetGroups("[", "t.yml", true).ok());
  EXPECT_TRUE(absl::StrContains(
      ParseTargetGroups("- targets: [a]\n- ~\n", "t.yml", true)
          .status()
          .message(),
      "nil target group item found (index 1)"));
}

TEST(LoadConfigFileTest, ResolvesScrapePaths) {
  std::string dir = TempDir();
  std::string path = WriteTemp(dir, "prom.yml", R"(scrape_configs:
- job_name: a
  basic_auth: {username: u, password_file: pw}
  tls_config: {ca_file: ca.pem, cert_file: /abs/c.pem, key_file: k.pem}
  file_sd_configs: [{files: ['sd/*.json']}]
  http_sd_configs:
  - url: http://sd
    authorization: {credentials_file: cred}
- job_name: b
  bearer_token_file: tok
)");
  absl::StatusOr<Config> c = LoadConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->scrapes.size(), 2u);
  const ScrapeConfig& a = c->scrapes[0];
  EXPECT_EQ(a.http.basic_auth->password_file, dir + "/pw");
  EXPECT_EQ(a.http.tls.ca_file, dir + "/ca.pem");
  EXPECT_EQ(a.http.tls.cert_file, "/abs/c.pem");
  EXPECT_EQ(a.http.tls.key_file, dir + "/k.pem");
  EXPECT_EQ(a.file_sd_configs[0].files[0], dir + "/sd/*.json");
  EXPECT_EQ(a.http_sd_configs[0].http.authorization->credentials_file,
            dir + "/cred");
  EXPECT_EQ(c->scrapes[1].http.authorization->credentials_file, dir + "/tok");
  // ParseConfig leaves them as written.
  absl::StatusOr<Config> raw = ParseConfig(*ReadFile(path), path);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->scrapes[0].http.tls.ca_file, "ca.pem");
}

TEST(FormatConfigTest, KeepsScrapeConfigs) {
  absl::StatusOr<Config> c =
      ParseConfig(JobA("  static_configs: [{targets: [x]}]\n"), "cfg.yml");
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::string> text = FormatConfig(*c);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<Config> again = ParseConfig(*text, "again.yml");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << *text;
  ASSERT_EQ(again->scrapes.size(), 1u);
  EXPECT_TRUE(SameScrapeConfig(c->scrapes[0], again->scrapes[0]));
}

}  // namespace
}  // namespace vigil::config
