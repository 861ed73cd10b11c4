// `vigil tsdb ...`: offline tools for data directories.
#ifndef VIGIL_CMD_TSDB_CMD_H_
#define VIGIL_CMD_TSDB_CMD_H_

namespace vigil {

// argv[0] is "tsdb". Returns the process exit code.
int RunTsdbCommand(int argc, char** argv);

}  // namespace vigil

#endif  // VIGIL_CMD_TSDB_CMD_H_
