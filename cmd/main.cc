// vigil: a Prometheus-compatible metrics database.
//
//   vigil serve [--flags]   run the server
//   vigil version           print the version
//   vigil --help            list every flag with its default
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "base/logging.h"
#include "cmd/check_cmd.h"
#include "cmd/flags.h"
#include "cmd/serve.h"
#include "cmd/test_cmd.h"
#include "cmd/tsdb_cmd.h"
#include "gflags/gflags.h"

namespace {

constexpr char kUsage[] =
    "Vigil, a Prometheus-compatible metrics database.\n\n"
    "Usage:\n"
    "  vigil serve [flags]   run the database (remote-write receiver and storage)\n"
    "  vigil tsdb list|analyze|check|dump DIR   inspect blocks (vigil tsdb for details)\n"
    "  vigil test promql FILE...   run PromQL test scripts (Prometheus's format)\n"
    "  vigil test rules FILE...    run rule unit tests (as promtool test rules)\n"
    "  vigil check config FILE...  check config files (as promtool check config)\n"
    "  vigil check rules FILE...   check rule files (as promtool check rules)\n"
    "  vigil version         print the version\n"
    "  vigil --help          list every flag with its default\n";

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built with mutex deadlock detection on, which routes
  // every lock through one global graph (~40% of append time, and no
  // scaling across threads). Lock order is by design (docs/storage.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  gflags::SetUsageMessage(kUsage);
  gflags::SetVersionString(VIGIL_VERSION);
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "version") {
    std::printf("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  absl::Status s = vigil::ApplyLogFlags();
  if (!s.ok()) {
    std::fprintf(stderr, "vigil: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (cmd == "tsdb") return vigil::RunTsdbCommand(argc - 1, argv + 1);
  if (cmd == "test") return vigil::RunTestCommand(argc - 1, argv + 1);
  if (cmd == "check") return vigil::RunCheckCommand(argc - 1, argv + 1);
  if (cmd == "serve") {
    if (argc > 2) {
      std::fprintf(stderr, "vigil serve: unexpected argument '%s'\n", argv[2]);
      return 2;
    }
    return vigil::RunServe();
  }
  std::fprintf(stderr, "vigil: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
