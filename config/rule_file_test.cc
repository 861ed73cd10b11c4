#include "config/rule_file.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "config/test_util.h"
#include "gtest/gtest.h"

namespace vigil::config {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

RuleFile ParseOk(absl::string_view yaml, const RuleChecks& checks = {}) {
  absl::StatusOr<RuleFile> f = ParseRuleFile(yaml, "r.yml", checks);
  EXPECT_TRUE(f.ok()) << f.status() << "\n" << yaml;
  return f.ok() ? *std::move(f) : RuleFile();
}

// The error lines of a file that must not parse.
std::vector<std::string> Errors(absl::string_view yaml,
                                const RuleChecks& checks = {}) {
  absl::StatusOr<RuleFile> f = ParseRuleFile(yaml, "r.yml", checks);
  EXPECT_FALSE(f.ok()) << "parsed:\n" << yaml;
  if (f.ok()) return {};
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  return absl::StrSplit(f.status().message(), '\n');
}

std::string Error(absl::string_view yaml) {
  std::vector<std::string> errors = Errors(yaml);
  EXPECT_EQ(errors.size(), 1u) << absl::StrJoin(errors, "\n");
  return errors.empty() ? "" : errors[0];
}

constexpr absl::string_view kFull = R"(groups:
- name: node
  interval: 30s
  limit: 10
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels:
      team: b
      env: ""
  - alert: InstanceDown
    expr: |
      up == 0
    for: 5m
    keep_firing_for: 1m
    labels: {severity: page}
    annotations:
      summary: "{{ $labels.instance }} down"
      description: x
- name: other
  rules:
  - alert: 12.0
    expr: 1
)";

TEST(RuleFileTest, ParsesGroupsAndRules) {
  RuleFile f = ParseOk(kFull);
  EXPECT_EQ(f.filename, "r.yml");
  ASSERT_EQ(f.groups.size(), 2u);
  EXPECT_EQ(f.rule_count(), 3u);

  const RuleGroup& g = f.groups[0];
  EXPECT_EQ(g.name, "node");
  EXPECT_EQ(g.interval, absl::Seconds(30));
  EXPECT_EQ(g.limit, 10);
  EXPECT_EQ(g.line, 2);
  ASSERT_EQ(g.rules.size(), 2u);

  const Rule& rec = g.rules[0];
  EXPECT_EQ(rec.record, "job:up:sum");
  EXPECT_FALSE(rec.is_alert());
  EXPECT_EQ(rec.name(), "job:up:sum");
  EXPECT_EQ(rec.expr, "sum by (job) (up)");
  EXPECT_EQ(rec.labels, (Pairs{{"env", ""}, {"team", "b"}}));
  EXPECT_EQ(rec.line, 6);
  EXPECT_EQ(rec.expr_line, 7);

  const Rule& alert = g.rules[1];
  EXPECT_TRUE(alert.is_alert());
  EXPECT_EQ(alert.name(), "InstanceDown");
  EXPECT_EQ(alert.expr, "up == 0\n");
  EXPECT_EQ(alert.for_, absl::Minutes(5));
  EXPECT_EQ(alert.keep_firing_for, absl::Minutes(1));
  EXPECT_EQ(alert.labels, (Pairs{{"severity", "page"}}));
  EXPECT_EQ(alert.annotations,
            (Pairs{{"description", "x"},
                   {"summary", "{{ $labels.instance }} down"}}));
  EXPECT_EQ(alert.line, 11);

  const RuleGroup& other = f.groups[1];
  EXPECT_EQ(other.interval, absl::ZeroDuration());
  EXPECT_EQ(other.limit, 0);
  ASSERT_EQ(other.rules.size(), 1u);
  // Scalars are kept as written, as Prometheus reads them.
  EXPECT_EQ(other.rules[0].alert, "12.0");
  EXPECT_EQ(other.rules[0].expr, "1");
}

TEST(RuleFileTest, EmptyFilesHaveNoGroups) {
  for (absl::string_view yaml :
       {"", "# nothing\n", "groups:\n", "groups: []\n", "groups: [~]\n"}) {
    SCOPED_TRACE(yaml);
    EXPECT_EQ(ParseOk(yaml).groups.size(), 0u);
  }
}

TEST(RuleFileTest, NullEntriesAreSkipped) {
  RuleFile f = ParseOk(
      "groups:\n- ~\n- name: g\n  rules:\n  -\n  - record: a\n    expr: up\n");
  ASSERT_EQ(f.groups.size(), 1u);
  EXPECT_EQ(f.groups[0].rules.size(), 1u);
  // Rules are numbered without the skipped ones, as in Prometheus.
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - ~\n  - record: a-b\n"
                  "    expr: up\n"),
            "r.yml:5: group \"g\", rule 1, \"a-b\": invalid recording rule "
            "name: a-b");
}

TEST(RuleFileTest, GroupsWithoutRules) {
  RuleFile f = ParseOk("groups:\n- name: g\n- name: h\n  rules:\n");
  ASSERT_EQ(f.groups.size(), 2u);
  EXPECT_TRUE(f.groups[0].rules.empty());
}

TEST(RuleFileTest, UnknownFieldsNameFileAndLine) {
  EXPECT_EQ(Error("groups: []\nfoo: 1\n"),
            "r.yml:2: unknown field \"foo\" in the top level of the rule file");
  EXPECT_EQ(Error("groups:\n- bogus: 1\n  name: g\n"),
            "r.yml:2: unknown field \"bogus\" in rule group \"g\"");
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n"
                  "    labelz: {}\n"),
            "r.yml:6: unknown field \"labelz\" in rule 1 of rule group \"g\"");
  // Group labels and query_offset came after Prometheus 2.42.
  EXPECT_EQ(Error("groups:\n- name: g\n  query_offset: 1m\n"),
            "r.yml:3: unknown field \"query_offset\" in rule group \"g\"");
}

TEST(RuleFileTest, RepeatedKeys) {
  EXPECT_EQ(Error("groups:\n- name: g\n  name: h\n"),
            "r.yml:3: field \"name\" repeated in rule group \"g\"");
  EXPECT_TRUE(absl::StartsWith(
      Error("groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
            "    labels:\n      x: 1\n      x: 2\n"),
      "r.yml:8: field \"x\" repeated in labels of rule 1"));
}

TEST(RuleFileTest, GroupNames) {
  EXPECT_EQ(Error("groups:\n- rules: []\n"),
            "r.yml:2: Groupname must not be empty");
  EXPECT_EQ(Error("groups:\n- name: ''\n"),
            "r.yml:2: Groupname must not be empty");
  EXPECT_EQ(Error("groups:\n- name: g\n- name: h\n- name: g\n"),
            "r.yml:4: groupname: \"g\" is repeated in the same file");
  // 1 and "1" are the same name.
  EXPECT_EQ(Error("groups:\n- name: 1\n- name: '1'\n"),
            "r.yml:3: groupname: \"1\" is repeated in the same file");
}

TEST(RuleFileTest, RecordOrAlert) {
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - record: a\n    alert: b\n"
                  "    expr: up\n"),
            "r.yml:4: group \"g\", rule 1, \"b\": only one of 'record' and "
            "'alert' must be set");
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - expr: up\n"),
            "r.yml:4: group \"g\", rule 1, \"\": one of 'record' or 'alert' "
            "must be set");
  // An empty value is not set; Prometheus reads an explicit null as text.
  EXPECT_EQ(ParseOk("groups:\n- name: g\n  rules:\n  - record:\n    alert: b\n"
                    "    expr: up\n")
                .groups[0]
                .rules[0]
                .alert,
            "b");
  RuleFile f = ParseOk(
      "groups:\n- name: g\n  rules:\n  - alert: ~\n    expr: up\n"
      "  - alert: null\n    expr: up\n  - {alert: NULL, expr: up}\n");
  ASSERT_EQ(f.rule_count(), 3u);
  EXPECT_EQ(f.groups[0].rules[0].alert, "~");
  EXPECT_EQ(f.groups[0].rules[1].alert, "null");
  EXPECT_EQ(f.groups[0].rules[2].alert, "NULL");
}

TEST(RuleFileTest, ExprRequired) {
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - record: a\n"),
            "r.yml:4: group \"g\", rule 1, \"a\": field 'expr' must be set in "
            "rule");
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - record: a\n"
                  "    expr: ''\n"),
            "r.yml:5: group \"g\", rule 1, \"a\": field 'expr' must be set in "
            "rule");
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - record: a\n"
                  "    expr: [up]\n"),
            "r.yml:5: expr must be a string, not a list");
}

TEST(RuleFileTest, RecordingRuleFields) {
  std::vector<std::string> errors = Errors(
      "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n"
      "    for: 1m\n    keep_firing_for: 2m\n    annotations: {x: y}\n");
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "r.yml:4: group \"g\", rule 1, \"a\": invalid field "
                "'annotations' in recording rule",
                "r.yml:6: group \"g\", rule 1, \"a\": invalid field 'for' in "
                "recording rule",
                "r.yml:7: group \"g\", rule 1, \"a\": invalid field "
                "'keep_firing_for' in recording rule"}));
  // Zero values and an empty mapping are as good as absent.
  ParseOk(
      "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n"
      "    for: 0s\n    keep_firing_for: 0\n    annotations: {}\n");
}

TEST(RuleFileTest, RecordingRuleNames) {
  ParseOk(
      "groups:\n- name: g\n  rules:\n  - record: 'job:a_b:rate5m'\n"
      "    expr: up\n  - record: _x\n    expr: up\n");
  for (absl::string_view name : {"1a", "a-b", "a{b=\\\"c\\\"}", "a b"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(absl::StrContains(
        Error(absl::StrCat("groups:\n- name: g\n  rules:\n  - record: \"", name,
                           "\"\n    expr: up\n")),
        "r.yml:4: group \"g\", rule 1, "));
  }
  // Alert names may be anything.
  ParseOk(
      "groups:\n- name: g\n  rules:\n  - alert: 'a b {} -'\n    expr: up\n");
}

TEST(RuleFileTest, LabelAndAnnotationNames) {
  std::vector<std::string> errors = Errors(
      "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
      "    labels:\n      a-b: x\n      __name__: y\n"
      "    annotations:\n      __name__: ok\n      c.d: x\n");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "r.yml:8: group \"g\", rule 1, \"a\": invalid label "
                        "name: __name__",
                        "r.yml:7: group \"g\", rule 1, \"a\": invalid label "
                        "name: a-b",
                        "r.yml:11: group \"g\", rule 1, \"a\": invalid "
                        "annotation name: c.d"}));
}

TEST(RuleFileTest, LabelValues) {
  RuleFile f = ParseOk(
      "groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
      "    labels: {n: 1, b: true, e: ~}\n");
  EXPECT_EQ(f.groups[0].rules[0].labels,
            (Pairs{{"b", "true"}, {"e", ""}, {"n", "1"}}));
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
                  "    labels: {a: {b: c}}\n"),
            "r.yml:6: a must be a string, not a mapping");
  EXPECT_TRUE(absl::StartsWith(
      Error("groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
            "    labels: [a]\n"),
      "r.yml:6: labels of rule 1 of rule group \"g\" must be a mapping"));
}

TEST(RuleFileTest, Durations) {
  RuleFile f = ParseOk(
      "groups:\n- name: g\n  interval: 1h30m\n  rules:\n  - alert: a\n"
      "    expr: up\n    for: 1d\n    keep_firing_for:\n");
  EXPECT_EQ(f.groups[0].interval, absl::Minutes(90));
  EXPECT_EQ(f.groups[0].rules[0].for_, absl::Hours(24));
  EXPECT_EQ(f.groups[0].rules[0].keep_firing_for, absl::ZeroDuration());
  for (absl::string_view bad : {"5x", "-1m", "1.5s", "30m1h", "5", "''"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(absl::StartsWith(
        Error(absl::StrCat("groups:\n- name: g\n  rules:\n  - alert: a\n"
                           "    expr: up\n    for: ",
                           bad, "\n")),
        "r.yml:6: invalid duration"));
  }
  EXPECT_TRUE(absl::StartsWith(Error("groups:\n- name: g\n  interval: 1S\n"),
                               "r.yml:3: invalid duration \"1S\""));
}

TEST(RuleFileTest, Limits) {
  const std::pair<absl::string_view, int64_t> kGood[] = {
      {"5", 5},        {"-1", -1},
      {"1_000", 1000}, {"017", 15},
      {"0o17", 15},    {"0x10", 16},
      {"-0x10", -16},  {"0b11", 3},
      {"+5", 5},       {"1e3", 1000},
      {"1.9", 1},      {"08", 8},
      {"~", 0},        {"9223372036854775807", INT64_MAX},
  };
  for (const auto& [text, want] : kGood) {
    SCOPED_TRACE(text);
    RuleFile f =
        ParseOk(absl::StrCat("groups:\n- name: g\n  limit: ", text, "\n"));
    ASSERT_EQ(f.groups.size(), 1u);
    EXPECT_EQ(f.groups[0].limit, want);
  }
  for (absl::string_view bad :
       {"abc", "'5'", "true", "''", ".inf", ".nan", "[1]",
        "9223372036854775808", "99999999999999999999"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(absl::StartsWith(
        Error(absl::StrCat("groups:\n- name: g\n  limit: ", bad, "\n")),
        "r.yml:3: limit must be an integer"));
  }
}

TEST(RuleFileTest, WrongShapes) {
  EXPECT_TRUE(absl::StartsWith(Error("hello\n"), "r.yml:1: a rule file must"));
  EXPECT_TRUE(absl::StartsWith(Error("- a\n"), "r.yml:1: a rule file must"));
  EXPECT_EQ(Error("groups: {a: b}\n"),
            "r.yml:1: groups must be a list of rule groups");
  EXPECT_EQ(Error("groups: [abc]\n"),
            "r.yml:1: each rule group must be a mapping");
  EXPECT_EQ(Error("groups:\n- name: g\n  rules: {a: b}\n"),
            "r.yml:3: rules of rule group \"g\" must be a list");
  EXPECT_EQ(Error("groups:\n- name: g\n  rules:\n  - abc\n"),
            "r.yml:4: rule 1 of rule group \"g\" must be a mapping");
  EXPECT_EQ(Error("groups:\n- name: [a]\n"),
            "r.yml:2: name must be a string, not a list");
  EXPECT_TRUE(absl::StartsWith(Error("groups:\n\t- name: g\n"),
                               "r.yml:2: YAML syntax error"));
}

TEST(RuleFileTest, ListsEveryProblem) {
  std::vector<std::string> errors = Errors(R"(groups:
- name: g
  rules:
  - record: a-b
    expr: up
    for: 1m
  - alert: x
- name: g
  rules:
  - expr: up
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "r.yml:6: group \"g\", rule 1, \"a-b\": invalid field "
                        "'for' in recording rule",
                        "r.yml:4: group \"g\", rule 1, \"a-b\": invalid "
                        "recording rule name: a-b",
                        "r.yml:7: group \"g\", rule 2, \"x\": field 'expr' "
                        "must be set in rule",
                        "r.yml:8: groupname: \"g\" is repeated in the same "
                        "file",
                        "r.yml:10: group \"g\", rule 1, \"\": one of 'record' "
                        "or 'alert' must be set"}));
}

TEST(RuleFileTest, ChecksRunOnExprsAndAlertTemplates) {
  std::vector<std::string> exprs;
  std::vector<std::string> templates;
  RuleChecks checks;
  checks.expr = [&](absl::string_view e) {
    exprs.emplace_back(e);
    return absl::StrContains(e, "(") ? absl::InvalidArgumentError("1:5: bad")
                                     : absl::OkStatus();
  };
  checks.tmpl = [&](absl::string_view name, absl::string_view text) {
    templates.push_back(absl::StrCat(name, "=", text));
    return absl::StrContains(text, "{{")
               ? absl::InvalidArgumentError("template: x:1: unclosed")
               : absl::OkStatus();
  };
  std::vector<std::string> errors = Errors(
      "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n"
      "    labels: {a: '{{'}\n"
      "  - alert: A\n    expr: sum(\n    labels: {l: '{{'}\n"
      "    annotations: {b: ok, a: '{{ x'}\n",
      checks);
  EXPECT_EQ(exprs, (std::vector<std::string>{"up", "sum("}));
  // Recording rules' labels are not templates.
  EXPECT_EQ(templates, (std::vector<std::string>{
                           "__alert_A={{", "__alert_A={{ x", "__alert_A=ok"}));
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "r.yml:8: group \"g\", rule 2, \"A\": could not parse "
                "expression: 1:5: bad",
                "r.yml:9: group \"g\", rule 2, \"A\": label \"l\": template: "
                "x:1: unclosed",
                "r.yml:10: group \"g\", rule 2, \"A\": annotation \"a\": "
                "template: x:1: unclosed"}));
}

TEST(RuleFileTest, MergeKeys) {
  RuleFile f = ParseOk(R"(groups:
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
)");
  ASSERT_EQ(f.groups.size(), 1u);
  ASSERT_EQ(f.rule_count(), 3u);
  const std::vector<Rule>& rules = f.groups[0].rules;
  EXPECT_EQ(rules[0].labels, (Pairs{{"severity", "low"}, {"team", "a"}}));
  EXPECT_EQ(rules[1].alert, "B");
  EXPECT_EQ(rules[1].expr, "up");
  EXPECT_EQ(rules[1].labels, (Pairs{{"severity", "page"}, {"team", "a"}}));
  EXPECT_EQ(rules[2].alert, "C");
  EXPECT_EQ(rules[2].for_, absl::Minutes(1));
  EXPECT_EQ(rules[2].labels, rules[0].labels);
  // Merged fields are checked, at the line they were written.
  EXPECT_EQ(Errors("groups:\n- name: g\n  rules:\n"
                   "  - {alert: a, expr: up, labels: &l {a-b: x}}\n"
                   "  - {alert: b, expr: up, labels: {<<: *l}}\n"),
            (std::vector<std::string>{
                "r.yml:4: group \"g\", rule 1, \"a\": invalid label name: a-b",
                "r.yml:4: group \"g\", rule 2, \"b\": invalid label name: "
                "a-b"}));
  EXPECT_EQ(Error("groups:\n- name: g\n  <<: 5\n"),
            "r.yml:2: a merge key (<<) must refer to a mapping or a list of "
            "mappings");
}

TEST(RuleFileTest, LoadRuleFile) {
  std::string dir = testutil::TempDir();
  std::string path = testutil::WriteTemp(dir, "rules.yml", kFull);
  absl::StatusOr<RuleFile> f = LoadRuleFile(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->filename, path);
  EXPECT_EQ(f->rule_count(), 3u);

  std::string bad = testutil::WriteTemp(dir, "bad.yml", "groups: [{x: 1}]\n");
  absl::StatusOr<RuleFile> b = LoadRuleFile(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(absl::StartsWith(b.status().message(), bad + ":1: "))
      << b.status();

  EXPECT_FALSE(LoadRuleFile(dir + "/missing.yml").ok());
}

}  // namespace
}  // namespace vigil::config
