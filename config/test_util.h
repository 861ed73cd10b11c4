// Helpers for config/ tests: temporary files and running Debian's promtool
// (Prometheus 2.42) to compare verdicts with the real thing.
#ifndef VIGIL_CONFIG_TEST_UTIL_H_
#define VIGIL_CONFIG_TEST_UTIL_H_

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/file.h"
#include "gtest/gtest.h"

namespace vigil::config::testutil {

// A new empty directory under /tmp.
inline std::string TempDir() {
  char tmpl[] = "/tmp/config_test.XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d == nullptr ? "/tmp" : d;
}

// Writes `text` to `dir`/`name` and returns the path.
inline std::string WriteTemp(const std::string& dir, const std::string& name,
                             absl::string_view text) {
  std::string path = absl::StrCat(dir, "/", name);
  EXPECT_TRUE(WriteFileAtomic(path, text).ok());
  return path;
}

inline bool HavePromtool() {
  return std::system("command -v promtool >/dev/null 2>&1") == 0;
}

constexpr absl::string_view kNoPromtool =
    "promtool is not on PATH (Debian package prometheus); cannot compare "
    "with Prometheus";

// Runs `promtool <args> '<path>'`; returns its exit code, or -1 if it did not
// run or exit normally. Its output is appended to *out.
inline int RunPromtool(absl::string_view args, const std::string& path,
                       std::string* out) {
  std::string cmd = absl::StrCat("promtool ", args, " '", path, "' 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace vigil::config::testutil

#endif  // VIGIL_CONFIG_TEST_UTIL_H_
