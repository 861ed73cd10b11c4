#ifndef VIGIL_CMD_SERVE_H_
#define VIGIL_CMD_SERVE_H_

namespace vigil {

// `vigil serve`: opens the database and runs until SIGTERM or SIGINT, then
// shuts down cleanly (a second signal exits at once). Returns the exit code.
int RunServe();

}  // namespace vigil

#endif  // VIGIL_CMD_SERVE_H_
