// Runs PromQL test scripts in Prometheus 2.42's format (promql/testdata/
// *.test): `load`, `clear`, `eval[_ordered|_fail] instant at <d> <expr>`
// with expected results, against an in-memory database. Each instant eval
// is also checked in range mode (t-1m .. t+1m, step 1m, middle step) and
// with `@` variants, as Prometheus's runner does. See docs/promql.md.
#ifndef VIGIL_PROMQL_PROMQLTEST_H_
#define VIGIL_PROMQL_PROMQLTEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vigil::promql {

struct ScriptResult {
  int passed = 0;
  int failed = 0;
  // One entry per failed eval: "<file>:<line>: <expr>: <what differed>".
  std::vector<std::string> failures;
};

// Runs the script `content` (named `name` in messages). A malformed script
// (bad load line, unknown command) is an error with file and line.
absl::StatusOr<ScriptResult> RunTestScript(absl::string_view name, absl::string_view content);

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_PROMQLTEST_H_
