#include "cmd/test_rules_cmd.h"

#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "base/logging.h"
#include "rules/unittest.h"

namespace vigil {

int RunTestRulesCommand(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("Usage: vigil test rules FILE...\n", stderr);
    return 2;
  }
  // As promtool's argument check: every file must exist before any runs.
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (::stat(argv[i], &st) != 0) {
      std::fprintf(stderr,
                   "vigil: error: path '%s' does not exist, try --help\n",
                   argv[i]);
      return 1;
    }
  }
  // The in-memory databases' open/close lines and the groups' warnings
  // about failing rules (reported as test failures) are noise here.
  SetLogLevel(LogLevel::kError);
  bool failed = false;
  for (int i = 1; i < argc; ++i) {
    std::printf("Unit Testing:  %s\n", argv[i]);
    std::fflush(stdout);
    const rules::RuleTestResult r = rules::RunRuleTestFile(argv[i]);
    for (const std::string& p : r.unmatched_patterns) {
      std::fprintf(stderr, "  WARNING: no file match pattern %s\n", p.c_str());
    }
    if (r.errors.empty()) {
      std::printf("  SUCCESS\n");
    } else {
      failed = true;
      std::fputs("  FAILED:\n", stderr);
      for (const std::string& e : r.errors) {
        std::fprintf(stderr, "%s\n", e.c_str());
        std::printf("\n");
      }
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return failed ? 1 : 0;
}

}  // namespace vigil
