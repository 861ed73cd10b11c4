// Running a command-line tool (vigil, promtool) in a directory and keeping
// its exit code, stdout and stderr apart, for tests that compare the two
// tools' output.
#ifndef VIGIL_TESTS_RUN_IN_DIR_H_
#define VIGIL_TESTS_RUN_IN_DIR_H_

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "tests/prometheus_api.h"

namespace vigil::testing {

struct CommandResult {
  int code = -1;  // Exit code; -1 when it did not run or exit normally.
  std::string out;
  std::string err;
};

// Runs `binary args` with /bin/sh in `dir`. Stderr goes through the file
// `dir`/.stderr, so `dir` must be writable and not hold a file of that name
// the caller needs.
inline CommandResult RunIn(const std::string& dir, const std::string& binary,
                           const std::string& args) {
  CommandResult r;
  const std::string err_file = absl::StrCat(dir, "/.stderr");
  const std::string cmd = absl::StrCat("cd ", ShellQuote(dir), " && ", binary,
                                       " ", args, " 2>", ShellQuote(err_file));
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) r.out.append(buf, n);
  int status = pclose(f);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  absl::StatusOr<std::string> err = ReadFile(err_file);
  if (err.ok()) r.err = *err;
  return r;
}

}  // namespace vigil::testing

#endif  // VIGIL_TESTS_RUN_IN_DIR_H_
