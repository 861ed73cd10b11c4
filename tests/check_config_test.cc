// `vigil check config` against Prometheus 2.42's `promtool check config`
// on a corpus of valid and invalid configs written into a temporary
// directory: both must give the same verdict on every config, and the same
// stdout (the "Checking", "SUCCESS" and "WARNING" lines) on valid ones.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tests/run_in_dir.h"

namespace vigil {
namespace {

using Result = testing::CommandResult;
using testing::RunIn;

struct Case {
  const char* name;
  bool valid;  // Prometheus's verdict, checked too.
  const char* yaml;
};

// The files the configs refer to.
const std::pair<const char*, const char*> kSupportFiles[] = {
    {"rules.yml",
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n"
     "  - alert: b\n    expr: up == 0\n"},
    {"rules_more.yml", "groups: []\n"},
    {"sd.json", R"([{"targets": ["a:1", "b:2"], "labels": {"env": "x"}}])"},
    {"sd.yml", "- targets: ['c:3']\n  labels: {__scrape_interval__: 30s}\n"},
    {"bad_sd.yml", "- targets: ['c:3']\n  extra: 1\n"},
    {"noaddr_sd.json", R"([{"targets": ["a:1"]}, {"targets": [""]}])"},
    {"cred.txt", "secret\n"},
    {"cert.pem", "not really a cert\n"},
    {"key.pem", "not really a key\n"},
};

constexpr char kJob[] = "scrape_configs:\n- job_name: a\n";

// clang-format off
const Case kCases[] = {
    {"empty", true, ""},
    {"minimal", true, "scrape_configs:\n- job_name: a\n"},
    {"no_section", true, "global: {scrape_interval: 15s}\n"},
    {"everything", true, R"(global:
  scrape_interval: 30s
  scrape_timeout: 20s
rule_files: [rules.yml, 'rules_*.yml', 'none/*.yml']
scrape_configs:
- job_name: node
  scrape_interval: 15s
  metrics_path: /probe
  scheme: https
  params: {module: [http_2xx]}
  honor_labels: yes
  honor_timestamps: false
  authorization: {credentials_file: cred.txt}
  tls_config:
    ca_file: missing-ca.pem
    cert_file: cert.pem
    key_file: key.pem
    server_name: example.org
    insecure_skip_verify: true
    min_version: TLS12
    max_version: TLS13
  follow_redirects: false
  enable_http2: false
  sample_limit: 1000
  label_limit: 0x20
  label_name_length_limit: 1_000
  label_value_length_limit: 1e3
  target_limit: 10
  body_size_limit: 10MB
  static_configs:
  - targets: ['a:9100', 'b']
    labels: {env: prod}
  file_sd_configs:
  - files: [sd.json, sd.yml, 'missing/*.json', missing.yml]
    refresh_interval: 1m
  http_sd_configs:
  - url: http://127.0.0.1:1/sd
    basic_auth: {username: u, password: p}
  relabel_configs:
  - {source_labels: [__address__], target_label: instance}
  - {action: hashmod, source_labels: [__address__], modulus: 4, target_label: shard}
  - {action: keep, source_labels: [shard], regex: '[0-3]'}
  - {action: labelmap, regex: '__meta_(.+)', replacement: 'meta_$1'}
  - {action: labeldrop, regex: 'tmp_.*'}
  - {action: labelkeep, regex: '.+'}
  - {action: lowercase, source_labels: [env], target_label: env}
  - {action: uppercase, source_labels: [env], target_label: 'env_${1}'}
  - {action: keepequal, source_labels: [a], target_label: b}
  - {action: dropequal, source_labels: [a], target_label: b, separator: ';'}
  - {action: DROP, source_labels: [x], regex: 'y'}
  metric_relabel_configs:
  - {action: drop, source_labels: [__name__], regex: 'go_.*'}
- job_name: other
  basic_auth: {username: u, password_file: missing-password-file}
  static_configs: [{targets: ['c:1']}]
)"},
    {"global_timeout_capped", true,
     "global: {scrape_timeout: 20s}\nscrape_configs:\n- job_name: a\n"
     "  scrape_interval: 5s\n"},
    {"body_units", true, "scrape_configs:\n- job_name: a\n  body_size_limit: 1KiB\n"
     "- job_name: b\n  body_size_limit: 1.5MB\n- job_name: c\n  body_size_limit: 0\n"},
    {"bearer_token", true, "scrape_configs:\n- job_name: a\n  bearer_token: t\n"},
    {"bearer_token_file", true, "scrape_configs:\n- job_name: a\n  bearer_token_file: cred.txt\n"},
    {"url_target_relabeled", true,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: ['http://a/x']}]\n"
     "  relabel_configs: [{target_label: __address__, replacement: 'b:80'}]\n"},
    {"job_name_int", true, "scrape_configs:\n- job_name: 5\n"},
    {"bad_target_dropped", true,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: ['', 'b']}]\n"
     "  relabel_configs: [{action: drop, source_labels: [__address__], regex: ''}]\n"},

    {"timeout_above_interval", false,
     "scrape_configs:\n- job_name: a\n  scrape_interval: 10s\n  scrape_timeout: 20s\n"},
    {"timeout_above_global_interval", false,
     "global: {scrape_interval: 5s}\nscrape_configs:\n- job_name: a\n  scrape_timeout: 6s\n"},
    {"duplicate_job", false, "scrape_configs:\n- job_name: a\n- job_name: a\n"},
    {"no_job_name", false, "scrape_configs:\n- scrape_interval: 1s\n"},
    {"null_job", false, "scrape_configs:\n-\n"},
    {"unknown_field", false, "scrape_configs:\n- job_name: a\n  bogus: 1\n"},
    {"unknown_tls_field", false, "scrape_configs:\n- job_name: a\n  tls_config: {ca: x}\n"},
    {"bad_duration", false, "scrape_configs:\n- job_name: a\n  scrape_interval: 5x\n"},
    {"negative_limit", false, "scrape_configs:\n- job_name: a\n  sample_limit: -1\n"},
    {"int_as_bool", false, "scrape_configs:\n- job_name: a\n  honor_labels: 1\n"},
    {"body_no_unit", false, "scrape_configs:\n- job_name: a\n  body_size_limit: 1000\n"},
    {"body_lower_unit", false, "scrape_configs:\n- job_name: a\n  body_size_limit: 1mb\n"},
    {"password_and_file", false,
     "scrape_configs:\n- job_name: a\n  basic_auth: {username: u, password: p, password_file: f}\n"},
    {"bearer_and_file", false,
     "scrape_configs:\n- job_name: a\n  bearer_token: t\n  bearer_token_file: f\n"},
    {"bearer_and_basic", false,
     "scrape_configs:\n- job_name: a\n  bearer_token: t\n  basic_auth: {username: u}\n"},
    {"authorization_and_bearer", false,
     "scrape_configs:\n- job_name: a\n  bearer_token: t\n  authorization: {credentials: c}\n"},
    {"credentials_and_file", false,
     "scrape_configs:\n- job_name: a\n  authorization: {credentials: c, credentials_file: f}\n"},
    {"authorization_basic", false,
     "scrape_configs:\n- job_name: a\n  authorization: {type: Basic}\n"},
    {"authorization_and_basic_auth", false,
     "scrape_configs:\n- job_name: a\n  authorization: {}\n  basic_auth: {}\n"},
    {"cert_without_key", false,
     "scrape_configs:\n- job_name: a\n  tls_config: {cert_file: cert.pem}\n"},
    {"bad_tls_version", false,
     "scrape_configs:\n- job_name: a\n  tls_config: {min_version: TLS14}\n"},
    {"missing_credentials_file", false,
     "scrape_configs:\n- job_name: a\n  authorization: {credentials_file: nope.txt}\n"},
    {"missing_bearer_token_file", false,
     "scrape_configs:\n- job_name: a\n  bearer_token_file: nope.txt\n"},
    {"missing_cert_file", false,
     "scrape_configs:\n- job_name: a\n  tls_config: {cert_file: nope.pem, key_file: key.pem}\n"},
    {"bad_label_name", false,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: [a], labels: {a-b: x}}]\n"},
    {"url_target", false,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: ['http://a:80']}]\n"},
    {"url_target_kept_by_relabel", false,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: ['http://a:80']}]\n"
     "  relabel_configs: [{action: keep, source_labels: [__address__], regex: '.+'}]\n"},
    {"relabel_empties_address", false,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: ['a']}]\n"
     "  relabel_configs: [{target_label: __address__, replacement: ''}]\n"},
    {"empty_target", false,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: ['a', '']}]\n"},
    {"bad_interval_label", false,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: [a], labels: "
     "{__scrape_interval__: x}}]\n"},
    {"timeout_label_above_interval", false,
     "scrape_configs:\n- job_name: a\n  static_configs: [{targets: [a], labels: "
     "{__scrape_timeout__: 2m}}]\n"},
    {"null_static_config", false, "scrape_configs:\n- job_name: a\n  static_configs: [~]\n"},
    {"file_sd_bad_extension", false,
     "scrape_configs:\n- job_name: a\n  file_sd_configs: [{files: [a.txt]}]\n"},
    {"file_sd_no_files", false,
     "scrape_configs:\n- job_name: a\n  file_sd_configs: [{refresh_interval: 1m}]\n"},
    {"file_sd_bad_file", false,
     "scrape_configs:\n- job_name: a\n  file_sd_configs: [{files: [bad_sd.yml]}]\n"},
    {"file_sd_no_address", false,
     "scrape_configs:\n- job_name: a\n  file_sd_configs: [{files: ['noaddr_*.json']}]\n"},
    {"file_sd_bad_glob", false,
     "scrape_configs:\n- job_name: a\n  file_sd_configs: [{files: ['[a.yml']}]\n"},
    {"http_sd_no_url", false,
     "scrape_configs:\n- job_name: a\n  http_sd_configs: [{refresh_interval: 1m}]\n"},
    {"http_sd_ftp", false,
     "scrape_configs:\n- job_name: a\n  http_sd_configs: [{url: 'ftp://x/sd'}]\n"},
    {"http_sd_no_host", false,
     "scrape_configs:\n- job_name: a\n  http_sd_configs: [{url: 'http:///sd'}]\n"},
    {"relabel_null", false, "scrape_configs:\n- job_name: a\n  relabel_configs: [~]\n"},
    {"relabel_no_target", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{source_labels: [a]}]\n"},
    {"relabel_bad_action", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: foo}]\n"},
    {"relabel_bad_target", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{target_label: 'a-${1}'}]\n"},
    {"relabel_hashmod_no_modulus", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: hashmod, target_label: x}]\n"},
    {"relabel_labeldrop_extra", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: labeldrop, "
     "source_labels: [a]}]\n"},
    {"relabel_keepequal_regex", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: keepequal, "
     "target_label: b, regex: '(.*)'}]\n"},
    {"relabel_dropequal_replacement", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: dropequal, "
     "target_label: b, replacement: x}]\n"},
    {"relabel_labelmap_replacement", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: labelmap, "
     "replacement: 'a-$1'}]\n"},
    {"relabel_bad_regex", false,
     "scrape_configs:\n- job_name: a\n  metric_relabel_configs: [{action: drop, regex: '('}]\n"},
    {"relabel_perl_regex", false,
     "scrape_configs:\n- job_name: a\n  metric_relabel_configs: [{action: drop, regex: '\\C'}]\n"},
    {"relabel_bad_source", false,
     "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: keep, source_labels: [a-b]}]\n"},
    {"missing_rule_file", false, "rule_files: [nope.yml]\n"},
    {"rule_file_directory", false, "rule_files: [rulesdir]\n"},
    {"yaml_syntax", false, "scrape_configs:\n- job_name: a\n   bad: indent\n"},
};
// clang-format on

class CheckConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = testing::MissingBinaries({testing::kPromtool});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/check_config_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (const auto& [name, text] : kSupportFiles) {
      ASSERT_TRUE(WriteFileAtomic(absl::StrCat(dir_, "/", name), text).ok());
    }
    ASSERT_TRUE(CreateDirs(dir_ + "/rulesdir").ok());
  }
  void TearDown() override {
    if (!dir_.empty() && getenv("KEEP") == nullptr) (void)RemoveAll(dir_);
  }

  std::string Write(const std::string& name, absl::string_view yaml) {
    EXPECT_TRUE(WriteFileAtomic(absl::StrCat(dir_, "/", name), yaml).ok());
    return name;
  }
  Result Vigil(const std::string& args) {
    return RunIn(dir_, VIGIL_BINARY, absl::StrCat("check config ", args));
  }
  Result Promtool(const std::string& args) {
    return RunIn(dir_, testing::kPromtool, absl::StrCat("check config ", args));
  }

  std::string dir_;
};

TEST_F(CheckConfigTest, AgreesWithPromtool) {
  int valid = 0, invalid = 0;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    std::string file = Write(absl::StrCat(c.name, ".yml"), c.yaml);
    Result p = Promtool(file);
    Result v = Vigil(file);
    ASSERT_TRUE(p.code == 0 || p.code == 1) << p.out << p.err;
    EXPECT_EQ(p.code == 0, c.valid) << "the corpus is wrong about Prometheus:\n"
                                    << p.out << p.err;
    EXPECT_EQ(v.code, p.code) << "config:\n"
                              << c.yaml << "\npromtool:\n"
                              << p.out << p.err << "vigil:\n"
                              << v.out << v.err;
    if (p.code == 0) {
      ++valid;
      EXPECT_EQ(v.out, p.out);
      EXPECT_EQ(v.err, "");
    } else {
      ++invalid;
      // The reason differs in wording; where it goes does not.
      EXPECT_TRUE(absl::StartsWith(v.err, "  FAILED:")) << v.err;
      EXPECT_EQ(v.out.substr(0, v.out.find('\n')),
                p.out.substr(0, p.out.find('\n')));
    }
  }
  EXPECT_GE(valid, 10);
  EXPECT_GE(invalid, 50);
}

TEST_F(CheckConfigTest, SeveralFiles) {
  std::string good = Write("good.yml", kJob);
  std::string rules = Write("with_rules.yml", "rule_files: ['rules*.yml']\n");
  std::string bad =
      Write("bad.yml", "scrape_configs:\n- job_name: a\n  x: 1\n");
  const std::string args = absl::StrCat(good, " ", bad, " ", rules);
  Result p = Promtool(args);
  Result v = Vigil(args);
  EXPECT_EQ(p.code, 1);
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.out, p.out);
  EXPECT_TRUE(absl::StrContains(v.out, "  SUCCESS: 2 rule files found\n"))
      << v.out;
  EXPECT_TRUE(absl::StrContains(v.out,
                                "Checking rules.yml\n  SUCCESS: 2 "
                                "rules found\n"))
      << v.out;
  EXPECT_TRUE(absl::StartsWith(v.err,
                               "  FAILED: bad.yml:3: unknown field "
                               "\"x\" in scrape config \"a\"\n"))
      << v.err;

  Result all_good = Vigil(absl::StrCat(good, " ", rules));
  EXPECT_EQ(all_good.code, 0) << all_good.err;
}

TEST_F(CheckConfigTest, MissingFileFails) {
  Result v = Vigil("nope.yml");
  EXPECT_EQ(v.code, 1);
  EXPECT_TRUE(absl::StartsWith(v.err, "  FAILED: ")) << v.err;
}

TEST_F(CheckConfigTest, UsageErrors) {
  EXPECT_EQ(RunIn(dir_, VIGIL_BINARY, "check").code, 2);
  EXPECT_EQ(RunIn(dir_, VIGIL_BINARY, "check config").code, 2);
  EXPECT_EQ(RunIn(dir_, VIGIL_BINARY, "check nosuch x.yml").code, 2);
}

// Chat templates of the notifications section are parsed at load; errors
// give the file and the line of the chat config.
TEST_F(CheckConfigTest, ChatTemplateErrors) {
  const std::string good = Write("chat_good.yml", R"(notifications:
  route: {receiver: chat}
  receivers:
    - name: chat
      chat_configs:
        - url: http://127.0.0.1:1/hook
          title: '{{ .Status | toUpper }} {{ .GroupLabels.SortedPairs.Values | join " " }}'
)");
  Result ok = Vigil(good);
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  const std::string bad = Write("chat_bad.yml", R"(notifications:
  route: {receiver: chat}
  receivers:
    - name: chat
      chat_configs:
        - url: http://127.0.0.1:1/hook
          text: '{{ humanize 1 }}'
)");
  Result v = Vigil(bad);
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.err,
            "  FAILED: chat_bad.yml:6: receiver \"chat\": chat_configs text template: "
            "template: notification:1: function \"humanize\" not defined\n")
      << v.err;
}

// Where Vigil is stricter than Prometheus 2.42, on purpose: these load in
// Prometheus but would fail at scrape time or use what Vigil lacks.
TEST_F(CheckConfigTest, KnownStricterThanPrometheus) {
  const char* kStricter[] = {
      "scrape_configs:\n- job_name: a\n  scheme: ftp\n",
      "scrape_configs:\n- job_name: a\n  proxy_url: http://proxy:3128\n",
      "scrape_configs:\n- job_name: a\n  oauth2: {client_id: a, client_secret: "
      "b, token_url: 'http://t'}\n",
      "scrape_configs:\n- job_name: a\n  dns_sd_configs: [{names: [x]}]\n",
  };
  for (const char* yaml : kStricter) {
    SCOPED_TRACE(yaml);
    std::string file = Write("stricter.yml", yaml);
    EXPECT_EQ(Promtool(file).code, 0);
    EXPECT_EQ(Vigil(file).code, 1);
  }
}

}  // namespace
}  // namespace vigil
