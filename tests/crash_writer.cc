// Writer process for crash_test: appends batches forever with
// --wal_fsync=always, printing "committed N" after each successful Commit
// and "rolledback N" after each Rollback, until killed.
//
// Usage: crash_writer DATA_DIR
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tests/crash_shared.h"
#include "tsdb/db.h"

using namespace vigil;

namespace {
void Say(const std::string& line) {
  std::string l = line + "\n";
  if (write(1, l.data(), l.size()) != static_cast<ssize_t>(l.size())) _exit(3);
}
}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc != 2) {
    std::fprintf(stderr, "usage: crash_writer DATA_DIR\n");
    return 2;
  }
  tsdb::Options opts;
  opts.dir = argv[1];
  opts.wal_fsync = tsdb::WalFsync::kAlways;
  opts.wal_segment_size = 64 << 10;  // Frequent segment cuts.
  auto db = tsdb::DB::Open(opts);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  int64_t max_t = (*db)->MaxTime();
  int64_t i = (*db)->NumSeries() == 0 || max_t < 0 ? 0 : max_t / 1000 + 1;
  Say(absl::StrCat("start ", i));
  auto app = (*db)->Appender();
  for (;; ++i) {
    for (int s = 0; s < crashtest::SeriesInBatch(i); ++s) {
      auto r = app->Append(crashtest::SeriesLabels(s), i * 1000, crashtest::Value(i, s));
      if (!r.ok()) {
        std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
        return 1;
      }
    }
    if (crashtest::IsRolledBack(i)) {
      app->Rollback();
      Say(absl::StrCat("rolledback ", i));
      continue;
    }
    absl::Status s = app->Commit();
    if (!s.ok()) {
      std::fprintf(stderr, "commit: %s\n", s.ToString().c_str());
      return 1;
    }
    Say(absl::StrCat("committed ", i));
  }
}
