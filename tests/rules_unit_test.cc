// `vigil test rules` against Prometheus 2.42's `promtool test rules` on the
// corpus in tests/rules_unit/ (copied into a temporary directory): for each
// test file both must give the expected exit code, the same stdout, the
// same list of failures (test group name, alert name or expression, eval
// time) and, where the texts are meant to agree, the same stderr. Skipped
// when promtool is missing.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "rules/unittest.h"
#include "tests/prometheus_api.h"
#include "tests/run_in_dir.h"

namespace vigil {
namespace {

constexpr char kPromtool[] = "/usr/bin/promtool";

struct Case {
  const char* file;
  bool passes;
  // False where Vigil's text is knowingly different (rule file errors name
  // "<file>:<line>", promtool "<file>: <line>:<col>").
  bool same_stderr;
};

const Case kCases[] = {
    {"templates_test.yml", true, true},
    {"lifecycle_test.yml", true, true},
    {"external_test.yml", true, true},
    {"nomatch_test.yml", true, true},
    {"fail_alerts_test.yml", false, true},
    {"fail_samples_test.yml", false, true},
    {"fail_eval_test.yml", false, true},
    {"fail_alertname_test.yml", false, true},
    {"fail_field_test.yml", false, true},
    {"fail_rulefile_test.yml", false, false},
};

// The head lines of the failures promtool lists: "name: ...",
// "alertname: X, time: T", "expr: \"...\", time: T", "rule: r, time: T".
std::vector<std::string> FailureHeads(const std::string& err) {
  std::vector<std::string> heads;
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    for (absl::string_view prefix :
         {"    name: ", "    alertname: ", "    expr: ", "    rule: "}) {
      if (!absl::StartsWith(line, prefix)) continue;
      // Up to the time; error texts after it may differ.
      const size_t cut = line.find(", err: ");
      heads.emplace_back(line.substr(0, cut));
    }
  }
  return heads;
}

class RulesUnitTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const std::string missing = testing::MissingBinaries({kPromtool});
    if (!missing.empty()) GTEST_SKIP() << missing;
    char tmpl[] = "/tmp/vigil-rules-unit.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::error_code ec;
    std::filesystem::copy(RULES_UNIT_DIR, dir_, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  void TearDown() override {
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }
  std::string dir_;
};

TEST_P(RulesUnitTest, AgreesWithPromtool) {
  const Case& c = GetParam();
  const testing::CommandResult want =
      testing::RunIn(dir_, kPromtool, absl::StrCat("test rules ", c.file));
  const testing::CommandResult got =
      testing::RunIn(dir_, VIGIL_BINARY, absl::StrCat("test rules ", c.file));
  // The corpus's own verdict, so that a corpus change cannot make the
  // comparison vacuous.
  EXPECT_EQ(want.code, c.passes ? 0 : 1) << want.out << want.err;
  EXPECT_EQ(got.code, want.code) << got.err;
  EXPECT_EQ(got.out, want.out);
  EXPECT_EQ(FailureHeads(got.err), FailureHeads(want.err)) << got.err;
  if (!c.passes) {
    EXPECT_TRUE(absl::StartsWith(got.err, "  FAILED:\n")) << got.err;
  }
  if (c.same_stderr) {
    EXPECT_EQ(got.err, want.err);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, RulesUnitTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string n = info.param.file;
                           n = n.substr(0, n.find('.'));
                           return n;
                         });

TEST(RulesUnitCommand, SeveralFilesFailWhenOneFails) {
  const std::string missing = testing::MissingBinaries({kPromtool});
  if (!missing.empty()) GTEST_SKIP() << missing;
  char tmpl[] = "/tmp/vigil-rules-unit.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::error_code ec;
  std::filesystem::copy(RULES_UNIT_DIR, tmpl, ec);
  ASSERT_FALSE(ec) << ec.message();
  const std::string args =
      "test rules external_test.yml fail_eval_test.yml templates_test.yml";
  const testing::CommandResult want = testing::RunIn(tmpl, kPromtool, args);
  const testing::CommandResult got = testing::RunIn(tmpl, VIGIL_BINARY, args);
  (void)RemoveAll(tmpl);
  EXPECT_EQ(want.code, 1);
  EXPECT_EQ(got.code, 1);
  EXPECT_EQ(got.out, want.out);
  EXPECT_EQ(got.err, want.err);
}

TEST(RulesUnitCommand, MissingFileIsAnError) {
  char tmpl[] = "/tmp/vigil-rules-unit.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const testing::CommandResult got =
      testing::RunIn(tmpl, VIGIL_BINARY, "test rules nope.yml");
  EXPECT_EQ(got.code, 1);
  EXPECT_TRUE(absl::StrContains(got.err, "nope.yml")) << got.err;
  EXPECT_EQ(got.out, "");
  (void)RemoveAll(tmpl);
}

TEST(RulesUnitFormat, GoDurationString) {
  EXPECT_EQ(rules::GoDurationString(absl::ZeroDuration()), "0s");
  EXPECT_EQ(rules::GoDurationString(absl::Minutes(2)), "2m0s");
  EXPECT_EQ(
      rules::GoDurationString(absl::Minutes(61) + absl::Milliseconds(500)),
      "1h1m0.5s");
  EXPECT_EQ(rules::GoDurationString(absl::Milliseconds(250)), "250ms");
  EXPECT_EQ(rules::GoDurationString(absl::Seconds(-3)), "-3s");
}

TEST(RulesUnitFormat, FormatFloatE) {
  EXPECT_EQ(rules::FormatFloatE(1), "1E+00");
  EXPECT_EQ(rules::FormatFloatE(-3.25), "-3.25E+00");
  EXPECT_EQ(rules::FormatFloatE(1e-7), "1E-07");
  EXPECT_EQ(rules::FormatFloatE(1.5e300), "1.5E+300");
  EXPECT_EQ(rules::FormatFloatE(std::nan("")), "NaN");
  EXPECT_EQ(rules::FormatFloatE(-INFINITY), "-Inf");
}

}  // namespace
}  // namespace vigil
