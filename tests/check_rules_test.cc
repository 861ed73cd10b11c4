// `vigil check rules` against Prometheus 2.42's `promtool check rules` on a
// corpus of valid and invalid rule files written into a temporary
// directory: both must give the same exit code on every file and the same
// stdout ("Checking", "SUCCESS: N rules found") on valid ones; on invalid
// ones every problem Vigil lists must name the file and line. The
// duplicate-rules lint, which fails a file but exits 0, must print what
// promtool prints.
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tests/run_in_dir.h"

namespace vigil {
namespace {

using Output = testing::CommandResult;
using testing::RunIn;

struct Case {
  const char* name;
  bool valid;  // Prometheus's verdict, checked too.
  const char* yaml;
};

// clang-format off
const Case kCases[] = {
    {"empty", true, ""},
    {"comment_only", true, "# nothing here\n"},
    {"null_groups", true, "groups:\n"},
    {"no_groups", true, "groups: []\n"},
    {"full", true, R"(groups:
- name: node
  interval: 30s
  limit: 10
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels: {team: b, env: ""}
  - record: instance:node_cpu:rate5m
    expr: |
      sum without (cpu, mode) (
        rate(node_cpu_seconds_total{mode!="idle"}[5m])
      )
  - alert: InstanceDown
    expr: up == 0
    for: 5m
    keep_firing_for: 1m
    labels:
      severity: page
    annotations:
      summary: "Instance {{ $labels.instance }} down"
      description: "{{ $labels.instance }} of {{ $labels.job }}: {{ $value | humanize }}"
- name: other
  rules:
  - alert: Absent
    expr: absent(up{job="x"})
)"},
    {"group_without_rules", true, "groups:\n- name: g\n- name: h\n  rules: []\n"},
    {"null_entries", true, "groups:\n- ~\n- name: g\n  rules:\n  -\n  - record: a\n    expr: up\n"},
    {"scalar_values", true,
     "groups:\n- name: g\n  rules:\n  - alert: 12.0\n    expr: 1\n    labels: {n: 1, b: true, e: ~}\n"},
    {"alert_name_anything", true,
     "groups:\n- name: g\n  rules:\n  - alert: 'a b {} -'\n    expr: up\n"},
    {"alert_explicit_null", true,
     "groups:\n- name: g\n  rules:\n  - alert: ~\n    expr: up\n  - alert: null\n    expr: up\n"},
    {"record_empty_alert_set", true,
     "groups:\n- name: g\n  rules:\n  - record:\n    alert: x\n    expr: up\n"},
    {"recording_zero_for", true,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    for: 0s\n"
     "    keep_firing_for: 0\n    annotations: {}\n"},
    {"limits", true,
     "groups:\n- {name: a, limit: -1}\n- {name: b, limit: 0x10}\n- {name: c, limit: 1_000}\n"
     "- {name: d, limit: 1.9}\n- {name: e, limit: 1e3}\n- {name: f, limit: 08}\n"},
    {"durations", true,
     "groups:\n- name: g\n  interval: 1h30m\n  rules:\n  - alert: a\n    expr: up\n"
     "    for: 1y2w3d4h5m6s7ms\n  - alert: b\n    expr: up\n    for: '5m'\n    keep_firing_for:\n"},
    {"same_name_other_labels", true,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    labels: {x: '1'}\n"
     "  - record: a\n    expr: up\n    labels: {x: '2'}\n  - record: a\n    expr: up + 0\n"},
    {"flow_style", true,
     "groups: [{name: g, rules: [{record: 'a:b', expr: 'rate(x[5m])'}, {alert: B, expr: 'a:b > 1'}]}]\n"},

    {"merge_keys", true, R"(groups:
- name: g
  rules:
  - &base
    alert: A
    expr: up
    labels: &common {team: a, severity: low}
  - <<: *base
    alert: B
    labels: {<<: *common, severity: page}
  - <<: [{for: 1m}, *base]
    alert: C
  - *base
)"},
    {"merge_bad_label", false,
     "groups:\n- name: g\n  rules:\n  - {alert: a, expr: up, labels: &l {a-b: x}}\n"
     "  - {alert: b, expr: up, labels: {<<: *l}}\n"},
    {"unknown_top_field", false, "groups: []\nfoo: 1\n"},
    {"unknown_group_field", false, "groups:\n- name: g\n  bogus: 1\n  rules: []\n"},
    {"unknown_rule_field", false,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    bogus: x\n"},
    {"group_labels_not_in_2_42", false, "groups:\n- name: g\n  labels: {a: b}\n"},
    {"query_offset_not_in_2_42", false, "groups:\n- name: g\n  query_offset: 1m\n"},
    {"repeated_key", false, "groups:\n- name: g\n  name: h\n"},
    {"no_group_name", false, "groups:\n- rules:\n  - record: a\n    expr: up\n"},
    {"empty_group_name", false, "groups:\n- name: ''\n"},
    {"repeated_group", false, "groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n"},
    {"repeated_group_int", false, "groups:\n- name: 1\n- name: '1'\n"},
    {"record_and_alert", false,
     "groups:\n- name: g\n  rules:\n  - record: a\n    alert: b\n    expr: up\n"},
    {"neither_record_nor_alert", false, "groups:\n- name: g\n  rules:\n  - expr: up\n"},
    {"empty_rule", false, "groups:\n- name: g\n  rules:\n  - {}\n"},
    {"record_explicit_null", false,
     "groups:\n- name: g\n  rules:\n  - record: ~\n    alert: b\n    expr: up\n"},
    {"no_expr", false, "groups:\n- name: g\n  rules:\n  - record: a\n"},
    {"empty_expr", false, "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: ''\n"},
    {"expr_list", false, "groups:\n- name: g\n  rules:\n  - record: a\n    expr: [a]\n"},
    {"expr_null", false, "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: ~\n"},
    {"bad_expr", false, "groups:\n- name: g\n  rules:\n  - record: a\n    expr: sum(\n"},
    {"bad_expr_block", false,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: |\n      sum(up)\n        by (job\n"},
    {"bad_expr_function", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: nosuchfunc(up)\n"},
    {"bad_expr_type", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: rate(up)\n"},
    {"bad_record_name", false, "groups:\n- name: g\n  rules:\n  - record: a-b\n    expr: up\n"},
    {"record_name_digit", false, "groups:\n- name: g\n  rules:\n  - record: 1a\n    expr: up\n"},
    {"record_name_braces", false,
     "groups:\n- name: g\n  rules:\n  - record: 'a{b=\"c\"}'\n    expr: up\n"},
    {"recording_for", false,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    for: 1m\n"},
    {"recording_keep_firing_for", false,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    keep_firing_for: 1m\n"},
    {"recording_annotations", false,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    annotations: {x: y}\n"},
    {"bad_label_name", false,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    labels: {a-b: x}\n"},
    {"label_name_metric_name", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    labels: {__name__: x}\n"},
    {"bad_annotation_name", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    annotations: {a.b: x}\n"},
    {"repeated_label", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    labels:\n      x: 1\n      x: 2\n"},
    {"labels_list", false,
     "groups:\n- name: g\n  rules:\n  - alert: x\n    expr: up\n    labels: [a]\n"},
    {"label_value_map", false,
     "groups:\n- name: g\n  rules:\n  - alert: x\n    expr: up\n    labels: {a: {b: c}}\n"},
    {"bad_for", false, "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    for: 5x\n"},
    {"negative_for", false, "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    for: -1m\n"},
    {"for_without_unit", false, "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    for: 5\n"},
    {"for_units_out_of_order", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    for: 30m1h\n"},
    {"for_empty", false, "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    for: ''\n"},
    {"for_out_of_range", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    for: 300000y\n"},
    {"bad_keep_firing_for", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    keep_firing_for: 1.5s\n"},
    {"bad_interval", false, "groups:\n- name: g\n  interval: 1.5m\n  rules: []\n"},
    {"limit_text", false, "groups:\n- name: g\n  limit: abc\n"},
    {"limit_quoted", false, "groups:\n- name: g\n  limit: '5'\n"},
    {"limit_bool", false, "groups:\n- name: g\n  limit: true\n"},
    {"limit_too_big", false, "groups:\n- name: g\n  limit: 9223372036854775808\n"},
    {"top_level_scalar", false, "hello\n"},
    {"top_level_list", false, "- a\n"},
    {"groups_mapping", false, "groups: {a: b}\n"},
    {"group_scalar", false, "groups: [abc]\n"},
    {"rules_mapping", false, "groups:\n- name: g\n  rules: {a: b}\n"},
    {"rule_scalar", false, "groups:\n- name: g\n  rules: [abc]\n"},
    {"group_name_list", false, "groups:\n- name: [a]\n"},
    {"yaml_tab", false, "groups:\n\t- name: g\n"},
    {"yaml_unclosed", false, "groups: [{name: g\n"},
    {"many_problems", false, R"(groups:
- name: g
  rules:
  - record: a-b
    expr: sum(
    for: 1m
    labels: {__name__: x}
  - alert: x
- name: g
  rules:
  - expr: up
)"},
};

// Template syntax errors in alerting rules (rules::CheckRuleTemplate).
const Case kTemplateCases[] = {
    {"template_ok", true,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
     "    labels: {s: '{{ if gt $value 1.0 }}page{{ else }}ticket{{ end }}'}\n"
     "    annotations: {d: '{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}'}\n"},
    {"recording_label_not_a_template", true,
     "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    labels: {x: '{{ bad'}\n"},
    {"template_unclosed_annotation", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    annotations: {x: '{{ $labels.x '}\n"},
    {"template_unclosed_label", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    labels: {x: '{{'}\n"},
    {"template_unknown_function", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    annotations: {x: '{{ nosuchfunc 1 }}'}\n"},
    {"template_unknown_variable", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    annotations: {x: '{{ $nope }}'}\n"},
    {"template_unmatched_end", false,
     "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n    annotations: {x: '{{ end }}'}\n"},
};

// Duplicate rules: promtool's lint, which fails the file but exits 0.
constexpr char kDuplicates[] = R"(groups:
- name: g
  rules:
  - record: a
    expr: up
    labels: {x: "1", y: "2"}
  - record: a
    expr: sum(up)
    labels: {y: "2", x: "1"}
  - alert: b
    expr: up
  - alert: b
    expr: up
  - alert: b
    expr: up
  - record: c
    expr: up
- name: h
  rules:
  - record: c
    expr: up
)";
// clang-format on

class CheckRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = testing::MissingBinaries({testing::kPromtool});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/check_rules_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty() && getenv("KEEP") == nullptr) (void)RemoveAll(dir_);
  }

  std::string Write(const std::string& name, absl::string_view yaml) {
    EXPECT_TRUE(WriteFileAtomic(absl::StrCat(dir_, "/", name), yaml).ok());
    return name;
  }
  Output Vigil(const std::string& command, const std::string& args) {
    return RunIn(dir_, VIGIL_BINARY,
                 absl::StrCat("check ", command, " ", args));
  }
  Output Promtool(const std::string& command, const std::string& args) {
    return RunIn(dir_, testing::kPromtool,
                 absl::StrCat("check ", command, " ", args));
  }

  // Checks `c` with both tools; returns whether Prometheus found it valid.
  bool Compare(const Case& c) {
    SCOPED_TRACE(c.name);
    const std::string file = Write(absl::StrCat(c.name, ".yml"), c.yaml);
    Output p = Promtool("rules", file);
    Output v = Vigil("rules", file);
    EXPECT_TRUE(p.code == 0 || p.code == 1) << p.out << p.err;
    EXPECT_EQ(p.code == 0, c.valid) << "the corpus is wrong about Prometheus:\n"
                                    << p.out << p.err;
    EXPECT_EQ(v.code, p.code) << "rule file:\n"
                              << c.yaml << "\npromtool:\n"
                              << p.out << p.err << "vigil:\n"
                              << v.out << v.err;
    // Stdout is "Checking FILE", the SUCCESS line with the rule count when
    // valid, and an empty line.
    EXPECT_EQ(v.out, p.out);
    if (p.code == 0) {
      EXPECT_EQ(v.err, p.err);  // Empty, or the same lint report.
      return true;
    }
    // "  FAILED:" and then every problem at "FILE:LINE: ".
    std::vector<std::string> lines =
        absl::StrSplit(v.err, '\n', absl::SkipEmpty());
    EXPECT_GE(lines.size(), 2u) << v.err;
    if (lines.empty()) return false;
    EXPECT_EQ(lines[0], "  FAILED:");
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::string prefix = absl::StrCat(file, ":");
      if (!absl::StartsWith(lines[i], prefix)) {
        ADD_FAILURE() << "does not name the file: " << lines[i];
        continue;
      }
      absl::string_view rest =
          absl::string_view(lines[i]).substr(prefix.size());
      size_t digits = 0;
      while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) {
        ++digits;
      }
      EXPECT_GT(digits, 0u) << "no line number: " << lines[i];
      EXPECT_TRUE(absl::StartsWith(rest.substr(digits), ": ")) << lines[i];
    }
    return false;
  }

  std::string dir_;
};

TEST_F(CheckRulesTest, AgreesWithPromtool) {
  int valid = 0, invalid = 0;
  for (const Case& c : kCases) (Compare(c) ? valid : invalid)++;
  EXPECT_GE(valid, 15);
  EXPECT_GE(invalid, 50);
}

TEST_F(CheckRulesTest, TemplateErrorsAgreeWithPromtool) {
  for (const Case& c : kTemplateCases) Compare(c);
}

TEST_F(CheckRulesTest, ProblemsNameTheLine) {
  const std::string file =
      Write("lines.yml",
            "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n"
            "  - record: b\n    expr: sum(\n  - record: c\n    expr: up\n"
            "    for: 1m\n");
  Output v = Vigil("rules", file);
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.err,
            "  FAILED:\n"
            "lines.yml:7: group \"g\", rule 2, \"b\": could not parse "
            "expression: 1:5: parse error: unclosed left parenthesis\n"
            "lines.yml:10: group \"g\", rule 3, \"c\": invalid field 'for' in "
            "recording rule\n");
}

TEST_F(CheckRulesTest, UnknownFieldNamesFieldAndLine) {
  const std::string file = Write("unknown.yml",
                                 "groups:\n- name: g\n  rules:\n  - record: a\n"
                                 "    expr: up\n    lables: {a: b}\n");
  Output v = Vigil("rules", file);
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.err,
            "  FAILED:\nunknown.yml:6: unknown field \"lables\" in rule 1 of "
            "rule group \"g\"\n");
}

TEST_F(CheckRulesTest, DuplicateRulesLintAsPromtool) {
  const std::string file = Write("dup.yml", kDuplicates);
  for (const char* flags : {"", "--lint=all", "--lint duplicate-rules"}) {
    SCOPED_TRACE(flags);
    const std::string args = absl::StrCat(flags, " ", file);
    Output p = Promtool("rules", args);
    Output v = Vigil("rules", args);
    EXPECT_EQ(p.code, 0);
    EXPECT_EQ(v.code, 0);
    EXPECT_EQ(v.out, p.out);
    EXPECT_EQ(v.err, p.err);
    EXPECT_TRUE(
        absl::StartsWith(v.err,
                         "  FAILED:\nlint error 3 duplicate rule(s) found.\n"
                         "Metric: a\nLabel(s):\n\tx: 1\n\ty: 2\nMetric: b\n"))
        << v.err;
  }

  Output fatal_p = Promtool("rules", absl::StrCat("--lint-fatal ", file));
  Output fatal_v = Vigil("rules", absl::StrCat("--lint-fatal ", file));
  EXPECT_EQ(fatal_p.code, 3);
  EXPECT_EQ(fatal_v.code, 3);

  Output none_p = Promtool("rules", absl::StrCat("--lint=none ", file));
  Output none_v = Vigil("rules", absl::StrCat("--lint=none ", file));
  EXPECT_EQ(none_v.code, 0);
  EXPECT_EQ(none_v.out, none_p.out);
  EXPECT_EQ(none_v.out, "Checking dup.yml\n  SUCCESS: 7 rules found\n\n");
  EXPECT_EQ(none_v.err, "");
}

TEST_F(CheckRulesTest, SeveralFiles) {
  const std::string good =
      Write("good.yml",
            "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n");
  const std::string bad =
      Write("bad.yml",
            "groups:\n- name: g\n  rules:\n  - record: a-b\n    expr: up\n");
  const std::string dup = Write("dup.yml", kDuplicates);
  const std::string args = absl::StrCat(good, " ", dup, " ", bad, " ", good);
  Output p = Promtool("rules", args);
  Output v = Vigil("rules", args);
  EXPECT_EQ(p.code, 1);
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.out, p.out);

  Output fatal_p = Promtool("rules", absl::StrCat("--lint-fatal ", args));
  Output fatal_v = Vigil("rules", absl::StrCat("--lint-fatal ", args));
  EXPECT_EQ(fatal_v.code, fatal_p.code);
  Output lint_only =
      Vigil("rules", absl::StrCat("--lint-fatal ", good, " ", dup));
  EXPECT_EQ(lint_only.code, 3);
  EXPECT_EQ(Vigil("rules", absl::StrCat(good, " ", dup)).code, 0);
}

// `check config` checks the rule files it finds as `check rules` does,
// with each problem indented by five spaces, as promtool does.
TEST_F(CheckRulesTest, CheckConfigChecksRuleFiles) {
  Write("good.yml",
        "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n");
  Write("bad.yml",
        "groups:\n- name: g\n  rules:\n  - record: a\n    for: 1m\n");
  Write("dup.yml", kDuplicates);
  const std::string with_bad =
      Write("with_bad.yml", "rule_files: [good.yml, bad.yml, dup.yml]\n");
  Output p = Promtool("config", with_bad);
  Output v = Vigil("config", with_bad);
  EXPECT_EQ(p.code, 1);
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.out, p.out);
  EXPECT_TRUE(absl::StrContains(
      v.err, "  FAILED:\n     bad.yml:4: group \"g\", rule 1, \"a\": "))
      << v.err;
  EXPECT_TRUE(absl::StrContains(v.err, "\n     bad.yml:5: group \"g\", rule 1"))
      << v.err;

  const std::string lint_only =
      Write("lint_only.yml", "rule_files: [good.yml, dup.yml]\n");
  p = Promtool("config", lint_only);
  v = Vigil("config", lint_only);
  EXPECT_EQ(p.code, 0);
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out, p.out);
  EXPECT_EQ(v.err, p.err);
}

TEST_F(CheckRulesTest, MissingFileFails) {
  Output v = Vigil("rules", "nope.yml");
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.out, "Checking nope.yml\n\n");
  EXPECT_TRUE(absl::StartsWith(v.err, "  FAILED:\n")) << v.err;
  EXPECT_TRUE(absl::StrContains(v.err, "nope.yml")) << v.err;
  EXPECT_EQ(Promtool("rules", "nope.yml").code, 1);
}

TEST_F(CheckRulesTest, UsageErrors) {
  EXPECT_EQ(RunIn(dir_, VIGIL_BINARY, "check rules").code, 2);
  EXPECT_EQ(RunIn(dir_, VIGIL_BINARY, "check rules --lint=none").code, 2);
  Output unknown_lint = Vigil("rules", "--lint=bogus nope.yml");
  EXPECT_TRUE(absl::StartsWith(unknown_lint.out,
                               "WARNING: unknown lint option bogus\n"))
      << unknown_lint.out;
}

}  // namespace
}  // namespace vigil
