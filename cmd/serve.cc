#include "cmd/serve.h"

#include <signal.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "base/logging.h"
#include "cmd/flags.h"
#include "tsdb/db.h"

namespace vigil {

int RunServe() {
  // Block the shutdown signals in every thread; the main thread waits for
  // them with sigwait, so no handler runs in an arbitrary thread.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  auto opts = TsdbOptionsFromFlags();
  if (!opts.ok()) {
    LogError("main", "invalid flags").Kv("err", opts.status());
    return 2;
  }
  absl::Time start = absl::Now();
  auto db = tsdb::DB::Open(*opts);
  if (!db.ok()) {
    LogError("main", "cannot open database").Kv("err", db.status());
    return 1;
  }
  LogInfo("main", "vigil started")
      .Kv("version", VIGIL_VERSION)
      .Kv("data_dir", opts->dir)
      .Kv("wal_fsync", FLAGS_wal_fsync)
      .Kv("series", (*db)->NumSeries())
      .Kv("replay_duration",
          absl::Nanoseconds((*db)->head_stats().wal_replay_nanos.load()))
      .Kv("startup_duration", absl::Now() - start);

  int sig = 0;
  sigwait(&sigs, &sig);
  // A second signal now terminates immediately (default action).
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, &sigs, nullptr);
  LogInfo("main", "shutting down").Kv("signal", strsignal(sig));
  absl::Status s = (*db)->Close();
  if (!s.ok()) {
    LogError("main", "close failed").Kv("err", s);
    return 1;
  }
  LogInfo("main", "shutdown complete");
  return 0;
}

}  // namespace vigil
