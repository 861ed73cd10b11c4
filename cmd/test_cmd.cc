#include "cmd/test_cmd.h"

#include <cstdio>
#include <string>

#include "base/file.h"
#include "base/logging.h"
#include "cmd/test_rules_cmd.h"
#include "promql/promqltest.h"

namespace vigil {

int RunTestCommand(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "rules") return RunTestRulesCommand(argc - 1, argv + 1);
  if (argc < 3 || std::string(argv[1]) != "promql") {
    std::fputs("Usage: vigil test promql|rules FILE...\n", stderr);
    return 2;
  }
  // The in-memory databases' open/close lines are noise here.
  SetLogLevel(LogLevel::kWarn);
  int passed = 0, failed = 0;
  bool broken = false;
  for (int i = 2; i < argc; ++i) {
    absl::StatusOr<std::string> content = ReadFile(argv[i]);
    if (!content.ok()) {
      std::fprintf(stderr, "%s: %s\n", argv[i], content.status().ToString().c_str());
      broken = true;
      continue;
    }
    absl::StatusOr<promql::ScriptResult> r = promql::RunTestScript(argv[i], *content);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
      broken = true;
      continue;
    }
    for (const std::string& f : r->failures) std::printf("FAIL %s\n", f.c_str());
    passed += r->passed;
    failed += r->failed;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed > 0 || broken ? 1 : 0;
}

}  // namespace vigil
