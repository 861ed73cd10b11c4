// `vigil test promql FILE...`: Prometheus-format PromQL test scripts.
#ifndef VIGIL_CMD_TEST_CMD_H_
#define VIGIL_CMD_TEST_CMD_H_

namespace vigil {

// argv[0] is "test". Returns the exit code: 0 when every eval passed, 1 on
// failures or unreadable scripts, 2 on usage errors.
int RunTestCommand(int argc, char** argv);

}  // namespace vigil

#endif  // VIGIL_CMD_TEST_CMD_H_
