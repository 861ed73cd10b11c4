// Prometheus 2.42's own PromQL test scripts (../shared/conformance, read
// only), run with Vigil's engine: every eval must pass.
#include <filesystem>
#include <string>

#include "base/file.h"
#include "gtest/gtest.h"
#include "promql/promqltest.h"

namespace vigil::promql {
namespace {

class ConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceTest, AllEvalsPass) {
  const std::string path = std::string(VIGIL_CONFORMANCE_DIR) + "/" + GetParam();
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "conformance data not found at " << path
                 << " (../shared/conformance is read from beside the repository)";
  }
  absl::StatusOr<std::string> content = ReadFile(path);
  ASSERT_TRUE(content.ok()) << content.status();
  absl::StatusOr<ScriptResult> r = RunTestScript(GetParam(), *content);
  ASSERT_TRUE(r.ok()) << r.status();
  for (const std::string& f : r->failures) ADD_FAILURE() << f;
  std::printf("%s: %d passed, %d failed\n", GetParam().c_str(), r->passed, r->failed);
  EXPECT_EQ(r->failed, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Prometheus242, ConformanceTest,
    ::testing::Values("aggregators.test", "at_modifier.test", "collision.test", "functions.test",
                      "histograms.test", "literals.test", "operators.test", "selectors.test",
                      "staleness.test", "subquery.test", "trig_functions.test"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string n = info.param.substr(0, info.param.find('.'));
      return n;
    });

}  // namespace
}  // namespace vigil::promql
