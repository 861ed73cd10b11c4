// Rule unit tests in the format of Prometheus 2.42's `promtool test rules`
// (docs/configuration/unit_testing_rules.md): a YAML test file names rule
// files and lists test groups, each with input series in expanding notation,
// alert tests (the firing alerts of an alert name at an eval_time) and PromQL
// expression tests (the samples of a query at an eval_time).
//
//   RuleTestResult r = RunRuleTestFile("tests/alerts_test.yml");
//   for (const std::string& e : r.errors) std::cerr << e << "\n";
//
// Each test group gets a fresh in-memory database and freshly built rule
// groups. Every group is evaluated at 0, evaluation_interval, ... up to the
// largest eval_time of the test group, in group_eval_order when given, each
// rule seeing the output of the rules evaluated before it. An alert test at
// eval_time t is checked after the evaluation at the last step <= t; PromQL
// tests run after the last evaluation. Input samples after the largest
// eval_time are never loaded, as promtool's lazy loader never loads them.
//
// The error texts are promtool's, so that a test runner can print them as
// promtool does; see RuleTestResult. Thread-safe: runs share nothing.
#ifndef VIGIL_RULES_UNITTEST_H_
#define VIGIL_RULES_UNITTEST_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace vigil::rules {

struct RuleTestResult {
  // Rule file patterns that matched no file, as promtool warns about them
  // (the pattern joined to the test file's directory).
  std::vector<std::string> unmatched_patterns;
  // One entry per failure, in promtool's order and text (each may span
  // lines, without a trailing newline), e.g.
  //   "    alertname: X, time: 5m, \n        exp:[...], \n        got:[...]"
  //   "    expr: \"up\", time: 1m,\n        exp: ...\n        got: ..."
  //   "    rule: r, time: 1m0s, err: ..."
  // A file that cannot be read or parsed, or whose rule files do not
  // load, has exactly one entry saying why. Empty when every test passed.
  std::vector<std::string> errors;
};

// Runs every test group of the test file at `path`. Rule files are
// resolved relative to the directory of `path`; glob patterns are expanded.
RuleTestResult RunRuleTestFile(const std::string& path);

// Go's time.Duration String ("0s", "1m0s", "1h2m3.5s", "250ms"), which
// promtool uses for the time of rule evaluation errors.
std::string GoDurationString(absl::Duration d);

// Go's strconv.FormatFloat(v, 'E', -1, 64): "1E+00", "2.5E-07", "NaN",
// "+Inf", "-Inf".
std::string FormatFloatE(double v);

}  // namespace vigil::rules

#endif  // VIGIL_RULES_UNITTEST_H_
