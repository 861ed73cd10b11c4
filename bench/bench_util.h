// Helpers shared by the storage benchmark programs: loading a Dataset into a
// DB scrape by scrape, checking it back, and measuring the process.
#ifndef VIGIL_BENCH_BENCH_UTIL_H_
#define VIGIL_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "bench/dataset.h"
#include "tsdb/db.h"

namespace vigil::bench {

// Appends a Dataset to a DB the way a scraper would: one commit per host
// scrape (all of the host's series at one timestamp); a series' first sample
// goes by labels, later ones by ref (Prometheus's scrape cache).
// Not thread-safe.
class ScrapeLoader {
 public:
  // Allocates one cursor and one ref per series (~64 bytes each) up front,
  // so that memory measurements can exclude them.
  explicit ScrapeLoader(const Dataset* ds);

  // Appends the next `scrapes` scrapes of every host.
  absl::Status Load(tsdb::DB* db, int scrapes);
  uint64_t samples() const { return samples_; }

 private:
  const Dataset* const ds_;
  std::vector<SeriesCursor> cursors_;
  std::vector<tsdb::SeriesRef> refs_;  // 0: not appended yet.
  uint64_t samples_ = 0;
};

// Reads series `series` back from `db` (matching all its labels) and checks
// that it holds exactly the dataset's first `samples` samples.
absl::Status CheckSeries(tsdb::DB* db, const Dataset& ds, int series, int samples);

// Call first in main(). Debian's Abseil is built in debug mode, so Mutex
// deadlock detection is on by default: every Mutex::Lock then updates a
// process-wide lock-order graph under a global spinlock, which halves
// single-threaded append throughput and serialises threads. The benchmarks
// measure the engine, so they turn it off, unless the environment sets
// VIGIL_BENCH_DEADLOCK_DETECTION=1 (to measure a process that keeps it, as
// a binary that never calls absl::SetMutexDeadlockDetectionMode does).
// Also quiets info logging.
void InitBenchmarkProcess();

// A fresh directory under /tmp.
std::string MakeTempDir(absl::string_view prefix);
// Total size of the regular files under `dir`.
int64_t DirBytes(const std::string& dir);
// Resident set size of this process, after returning free heap to the OS.
int64_t ResidentBytes();

// --name=value flags; the default when absent. Exits on a malformed value.
int64_t FlagInt(int argc, char** argv, absl::string_view name, int64_t def);
bool FlagBool(int argc, char** argv, absl::string_view name, bool def);
std::string FlagString(int argc, char** argv, absl::string_view name, absl::string_view def);

// "RESULT key value" lines, for scripts/run-benchmarks.sh.
void PrintResult(absl::string_view key, double value);

}  // namespace vigil::bench

#endif  // VIGIL_BENCH_BENCH_UTIL_H_
