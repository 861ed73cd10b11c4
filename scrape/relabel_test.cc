#include "scrape/relabel.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigil::scrape {
namespace {

using config::RelabelAction;
using config::RelabelConfig;
using model::Labels;

RelabelConfig Rule(RelabelAction action, std::vector<std::string> sources,
                   std::string regex = "(.*)", std::string target = "",
                   std::string replacement = "$1") {
  RelabelConfig c;
  c.action = action;
  c.source_labels = std::move(sources);
  c.regex = std::move(regex);
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  return c;
}

RelabelConfig Replace(std::vector<std::string> sources, std::string regex,
                      std::string target, std::string replacement) {
  return Rule(RelabelAction::kReplace, std::move(sources), std::move(regex),
              std::move(target), std::move(replacement));
}

// Runs `rules` over `in`; "dropped" when a step drops the set.
std::string Relabel(const std::vector<RelabelConfig>& rules, const Labels& in) {
  absl::StatusOr<Relabeler> r = Relabeler::Compile(rules);
  if (!r.ok()) return "compile error: " + std::string(r.status().message());
  std::optional<Labels> out = r->Process(in);
  return out.has_value() ? out->ToString() : "dropped";
}

const Labels kBase = Labels::FromPairs(
    {{"__address__", "127.0.0.1:9090"}, {"job", "node"}, {"env", "Prod"}});

TEST(RelabelTest, NoStepsKeepsEverything) {
  Relabeler r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.Process(kBase), kBase);
}

TEST(RelabelTest, ReplaceDefaultsCopySourceToTarget) {
  EXPECT_EQ(Relabel({Replace({"env"}, "(.*)", "stage", "$1")}, kBase),
            "{__address__=\"127.0.0.1:9090\", env=\"Prod\", job=\"node\", "
            "stage=\"Prod\"}");
}

TEST(RelabelTest, ReplaceExpandsNumberedAndNamedGroups) {
  Labels in = Labels::FromPairs({{"a", "host-7:80"}});
  EXPECT_EQ(Relabel({Replace({"a"}, "(?P<host>[^:]+):(\\d+)", "b",
                         "${host}/$2/${1}/$host")},
                in),
            "{a=\"host-7:80\", b=\"host-7/80/host-7/host-7\"}");
}

TEST(RelabelTest, ReplaceNameTakesLongestWordRun) {
  // "$1x" names group "1x", which does not exist: it expands to nothing,
  // and the empty result deletes the target.
  Labels in = Labels::FromPairs({{"a", "v"}, {"b", "old"}});
  EXPECT_EQ(Relabel({Replace({"a"}, "(.*)", "b", "$1x")}, in), "{a=\"v\"}");
  EXPECT_EQ(Relabel({Replace({"a"}, "(.*)", "b", "${1}x")}, in),
            "{a=\"v\", b=\"vx\"}");
  // A leading zero makes it a name, not a number.
  EXPECT_EQ(Relabel({Replace({"a"}, "(.*)", "b", "<$01>")}, in),
            "{a=\"v\", b=\"<>\"}");
}

TEST(RelabelTest, ReplaceDollarEscapesAndMalformedReferences) {
  Labels in = Labels::FromPairs({{"a", "v"}});
  EXPECT_EQ(Relabel({Replace({"a"}, "(.*)", "b", "$$1 $-x ${1 $")}, in),
            "{a=\"v\", b=\"$1 $-x ${1 $\"}");
}

TEST(RelabelTest, ReplaceUnknownOrUnmatchedGroupIsEmpty) {
  Labels in = Labels::FromPairs({{"a", "x"}});
  EXPECT_EQ(Relabel({Replace({"a"}, "(x)|(y)", "b", "[$2][$9][${nope}]$1")}, in),
            "{a=\"x\", b=\"[][][]x\"}");
}

TEST(RelabelTest, ReplaceNoMatchChangesNothing) {
  EXPECT_EQ(Relabel({Replace({"env"}, "dev", "stage", "x")}, kBase),
            kBase.ToString());
}

TEST(RelabelTest, RegexIsAnchoredAtBothEnds) {
  EXPECT_EQ(Relabel({Replace({"env"}, "ro", "stage", "x")}, kBase),
            kBase.ToString());
  EXPECT_EQ(Relabel({Replace({"env"}, ".ro.", "stage", "x")}, kBase),
            "{__address__=\"127.0.0.1:9090\", env=\"Prod\", job=\"node\", "
            "stage=\"x\"}");
}

TEST(RelabelTest, TopLevelAlternationIsAnchoredAsInPrometheus) {
  // "^(?:a)|(b)$": the second branch is only anchored at the end.
  Labels in = Labels::FromPairs({{"v", "xxb"}});
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeep, {"v"}, "a)|(b")}, in),
            in.ToString());
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeep, {"v"}, "a|b")}, in), "dropped");
}

TEST(RelabelTest, ReplaceEmptyResultDeletesTarget) {
  EXPECT_EQ(Relabel({Replace({"missing"}, "(.*)", "env", "$1")}, kBase),
            "{__address__=\"127.0.0.1:9090\", job=\"node\"}");
}

TEST(RelabelTest, ReplaceSkipsInvalidExpandedTargetName) {
  Labels in = Labels::FromPairs({{"a", "1abc"}, {"b", "x"}});
  EXPECT_EQ(Relabel({Replace({"a"}, "(.*)", "$1", "v")}, in), in.ToString());
  EXPECT_EQ(Relabel({Replace({"a"}, "(.*)", "l_$1", "v")}, in),
            "{a=\"1abc\", b=\"x\", l_1abc=\"v\"}");
}

TEST(RelabelTest, TemplatedTargetWithEmptyResultDeletesNothing) {
  // Prometheus 2.42 deletes target_label as written ("${1}"), not the name
  // it expands to.
  Labels in = Labels::FromPairs({{"src", "foo"}, {"foo", "bar"}});
  EXPECT_EQ(Relabel({Replace({"src"}, "(.*)", "${1}", "$2")}, in),
            in.ToString());
  EXPECT_EQ(Relabel({Replace({"src"}, "(.*)", "${1}", "new")}, in),
            "{foo=\"new\", src=\"foo\"}");
}

TEST(RelabelTest, SourcesJoinWithSeparatorAndMissingAreEmpty) {
  RelabelConfig c = Replace({"job", "missing", "env"}, "(.*)", "all", "$1");
  EXPECT_NE(Relabel({c}, kBase).find("all=\"node;;Prod\""), std::string::npos);
  c.separator = "|";
  EXPECT_NE(Relabel({c}, kBase).find("all=\"node||Prod\""), std::string::npos);
}

TEST(RelabelTest, KeepAndDrop) {
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeep, {"job"}, "no.*")}, kBase),
            kBase.ToString());
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeep, {"job"}, "no")}, kBase),
            "dropped");
  EXPECT_EQ(Relabel({Rule(RelabelAction::kDrop, {"job"}, "no.*")}, kBase),
            "dropped");
  EXPECT_EQ(Relabel({Rule(RelabelAction::kDrop, {"job"}, "no")}, kBase),
            kBase.ToString());
}

TEST(RelabelTest, KeepWithDefaultRegexKeepsAndDropDrops) {
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeep, {"missing"})}, kBase),
            kBase.ToString());
  EXPECT_EQ(Relabel({Rule(RelabelAction::kDrop, {"missing"})}, kBase), "dropped");
}

TEST(RelabelTest, KeepEqualAndDropEqual) {
  Labels in = Labels::FromPairs({{"a", "1"}, {"b", "1"}, {"c", "2"}});
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeepEqual, {"a"}, "(.*)", "b")}, in),
            in.ToString());
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeepEqual, {"a"}, "(.*)", "c")}, in),
            "dropped");
  EXPECT_EQ(Relabel({Rule(RelabelAction::kDropEqual, {"a"}, "(.*)", "b")}, in),
            "dropped");
  EXPECT_EQ(Relabel({Rule(RelabelAction::kDropEqual, {"a"}, "(.*)", "c")}, in),
            in.ToString());
  // A missing target label equals an empty join.
  EXPECT_EQ(Relabel({Rule(RelabelAction::kKeepEqual, {"x"}, "(.*)", "y")}, in),
            in.ToString());
}

TEST(RelabelTest, HashModUsesLastEightBytesOfMd5) {
  // printf '127.0.0.1:9090' | md5sum: ...d19b6586d4822cee; that % 1000 = 318.
  RelabelConfig c = Rule(RelabelAction::kHashMod, {"__address__"}, "(.*)",
                         "shard");
  c.modulus = 1000;
  EXPECT_NE(Relabel({c}, kBase).find("shard=\"318\""), std::string::npos);
  // printf 'a;b' | md5sum: ...21960bf46f2ebd0a; % 10 = 4.
  Labels in = Labels::FromPairs({{"x", "a"}, {"y", "b"}});
  c = Rule(RelabelAction::kHashMod, {"x", "y"}, "(.*)", "shard");
  c.modulus = 10;
  EXPECT_EQ(Relabel({c}, in), "{shard=\"4\", x=\"a\", y=\"b\"}");
  // The full 64-bit value: % (2^64 - 1).
  c.modulus = UINT64_MAX;
  EXPECT_EQ(Relabel({c}, in),
            "{shard=\"2420134994223480074\", x=\"a\", y=\"b\"}");
}

TEST(RelabelTest, LabelMapCopiesMatchingNamesWithGroups) {
  Labels in = Labels::FromPairs({{"__meta_pod_label_app", "web"},
                                 {"__meta_pod_label_tier", "front"},
                                 {"__meta_pod_name", "p1"}});
  EXPECT_EQ(Relabel({Rule(RelabelAction::kLabelMap, {}, "__meta_pod_label_(.+)",
                      "", "$1")},
                in),
            "{__meta_pod_label_app=\"web\", __meta_pod_label_tier=\"front\", "
            "__meta_pod_name=\"p1\", app=\"web\", tier=\"front\"}");
  EXPECT_NE(Relabel({Rule(RelabelAction::kLabelMap, {}, "__meta_(pod)_(name)", "",
                      "${2}_of_$1")},
                in)
                .find("name_of_pod=\"p1\""),
            std::string::npos);
}

TEST(RelabelTest, LabelDropAndLabelKeep) {
  Labels in = Labels::FromPairs({{"tmp_a", "1"}, {"tmp_b", "2"}, {"keep", "3"}});
  EXPECT_EQ(Relabel({Rule(RelabelAction::kLabelDrop, {}, "tmp_.*")}, in),
            "{keep=\"3\"}");
  EXPECT_EQ(Relabel({Rule(RelabelAction::kLabelKeep, {}, "tmp_.*")}, in),
            "{tmp_a=\"1\", tmp_b=\"2\"}");
  // Anchored: "tmp" matches no name.
  EXPECT_EQ(Relabel({Rule(RelabelAction::kLabelDrop, {}, "tmp")}, in),
            in.ToString());
}

TEST(RelabelTest, LowercaseAndUppercaseAscii) {
  EXPECT_NE(Relabel({Rule(RelabelAction::kLowercase, {"env", "job"}, "(.*)",
                      "lc")},
                kBase)
                .find("lc=\"prod;node\""),
            std::string::npos);
  EXPECT_NE(Relabel({Rule(RelabelAction::kUppercase, {"env"}, "(.*)", "uc")},
                kBase)
                .find("uc=\"PROD\""),
            std::string::npos);
}

TEST(RelabelTest, CaseMappingFollowsGoForUnicode) {
  // Values checked against Prometheus 2.42: simple case mappings, so
  // U+0130 lowers to 'i', 'ſ' uppers to 'S' and 'ß' stays.
  Labels in = Labels::FromPairs({{"x", "ÄÖÜ Straße ǅ İ ſ"}});
  EXPECT_EQ(Relabel({Rule(RelabelAction::kLowercase, {"x"}, "(.*)", "y")}, in),
            "{x=\"ÄÖÜ Straße ǅ İ ſ\", y=\"äöü straße ǆ i ſ\"}");
  EXPECT_EQ(Relabel({Rule(RelabelAction::kUppercase, {"x"}, "(.*)", "y")}, in),
            "{x=\"ÄÖÜ Straße ǅ İ ſ\", y=\"ÄÖÜ STRAßE Ǆ İ S\"}");
}

TEST(RelabelTest, CaseMappingReplacesInvalidUtf8) {
  Labels in = Labels::FromPairs({{"x", "Ä\xff"}});
  EXPECT_EQ(Relabel({Rule(RelabelAction::kLowercase, {"x"}, "(.*)", "y")}, in),
            "{x=\"Ä\xff\", y=\"ä\xEF\xBF\xBD\"}");
}

TEST(RelabelTest, LowercaseOfEmptyDeletesTarget) {
  EXPECT_EQ(Relabel({Rule(RelabelAction::kLowercase, {"missing"}, "(.*)", "env")},
                kBase),
            "{__address__=\"127.0.0.1:9090\", job=\"node\"}");
}

TEST(RelabelTest, StepsRunInOrderAndSeeEarlierResults) {
  std::vector<RelabelConfig> rules = {
      Replace({"env"}, "(.*)", "tmp_stage", "${1}-1"),
      Replace({"tmp_stage"}, "(.*)-1", "stage", "$1!"),
      Rule(RelabelAction::kLabelDrop, {}, "tmp_.*"),
      Rule(RelabelAction::kKeep, {"stage"}, "Prod!"),
  };
  EXPECT_EQ(Relabel(rules, kBase),
            "{__address__=\"127.0.0.1:9090\", env=\"Prod\", job=\"node\", "
            "stage=\"Prod!\"}");
  rules.push_back(Rule(RelabelAction::kDrop, {"job"}, "node"));
  EXPECT_EQ(Relabel(rules, kBase), "dropped");
}

TEST(RelabelTest, ProcessOnBuilderReportsDrop) {
  absl::StatusOr<Relabeler> r =
      Relabeler::Compile({Rule(RelabelAction::kDrop, {"job"}, "node")});
  ASSERT_TRUE(r.ok());
  model::LabelsBuilder b(kBase);
  EXPECT_FALSE(r->Process(&b));
  model::LabelsBuilder other(Labels::FromPairs({{"job", "x"}}));
  EXPECT_TRUE(r->Process(&other));
}

TEST(RelabelTest, CompileRejectsBadRegexNamingTheLine) {
  RelabelConfig c = Rule(RelabelAction::kKeep, {"a"}, "(unclosed");
  c.line = 42;
  absl::StatusOr<Relabeler> r = Relabeler::Compile({c});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 42"), std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace vigil::scrape
