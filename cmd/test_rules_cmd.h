// `vigil test rules FILE...`: rule unit tests in promtool's format, with
// promtool's output (stdout: "Unit Testing:  FILE", "  SUCCESS" or one
// blank line per failure; stderr: "  FAILED:" and the failures) and exit
// code.
#ifndef VIGIL_CMD_TEST_RULES_CMD_H_
#define VIGIL_CMD_TEST_RULES_CMD_H_

namespace vigil {

// argv[0] is "rules"; the rest are test files. Returns 0 when every test
// of every file passed, 1 otherwise (also for a missing file, which, as in
// promtool, stops before any test runs), 2 without files.
int RunTestRulesCommand(int argc, char** argv);

}  // namespace vigil

#endif  // VIGIL_CMD_TEST_RULES_CMD_H_
