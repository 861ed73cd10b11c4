// Child process for compaction_crash_test: opens the database in DIR and
// runs DB::Compact() in a loop until killed. It says "compacting" on
// stderr once the database is open, and "compacted round=N blocks=B" after
// each Compact(); the database's own log lines (block writes, compactions,
// head truncations) go to stderr too, so the parent sees where it was.
//
// Usage: compaction_crash_child DIR
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tests/compaction_crash_shared.h"
#include "tsdb/db.h"

using namespace vigil;

namespace {
// Unbuffered, so that every line is out before a SIGKILL.
void Say(const std::string& line) {
  std::string l = line + "\n";
  if (write(2, l.data(), l.size()) != static_cast<ssize_t>(l.size())) _exit(3);
}
}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc != 2) {
    std::fprintf(stderr, "usage: compaction_crash_child DIR\n");
    return 2;
  }
  auto db = tsdb::DB::Open(compactioncrash::DbOptions(argv[1]));
  if (!db.ok()) {
    Say("open failed: " + db.status().ToString());
    return 1;
  }
  Say(absl::StrCat("opened blocks=", (*db)->Blocks().size()));
  Say("compacting");
  for (int round = 1;; ++round) {
    absl::Status s = (*db)->Compact();
    if (!s.ok()) {
      Say("compact failed: " + s.ToString());
      return 1;
    }
    Say(absl::StrCat("compacted round=", round, " blocks=", (*db)->Blocks().size()));
  }
}
