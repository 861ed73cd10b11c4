// Restart time: writes --series x --samples of the dataset into a fresh DB
// (WAL on, interval fsync, one commit per host scrape), closes it, and times
// DB::Open on the directory (lock, WAL replay, WAL reopen: restart to
// ready). The WAL's pages are dropped from the page cache first
// (posix_fadvise DONTNEED) so the first open reads from disk; a second open
// shows the warm-cache time. The replayed head is checked: series count and
// three series compared sample by sample with the dataset.
//
//   replay_bench [--series=1000000] [--samples=120]
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "base/file.h"
#include "bench/bench_util.h"
#include "bench/dataset.h"
#include "tsdb/db.h"

namespace vigil::bench {
namespace {

constexpr double kTargetSeconds = 10;

void DropFromPageCache(const std::string& dir) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    int fd = open(e.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    fdatasync(fd);  // Only clean pages can be dropped.
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

// Opens the DB at `o.dir`, returning it and the seconds Open took.
std::unique_ptr<tsdb::DB> TimedOpen(const tsdb::Options& o, double* seconds) {
  absl::Time start = absl::Now();
  auto db = tsdb::DB::Open(o);
  *seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*db);
}

int Run(int argc, char** argv) {
  DatasetOptions dopts;
  dopts.num_series = static_cast<int>(FlagInt(argc, argv, "series", 1000000));
  dopts.samples_per_series = static_cast<int>(FlagInt(argc, argv, "samples", 120));
  Dataset ds(dopts);
  tsdb::Options o;
  // --reuse_dir=PATH: keep the written WAL in PATH and, when it is already
  // there, skip writing (for profiling replay alone).
  std::string reuse_dir = FlagString(argc, argv, "reuse_dir", "");
  bool reuse = !reuse_dir.empty() && std::filesystem::exists(reuse_dir + "/wal");
  o.dir = reuse_dir.empty() ? MakeTempDir("vigil_replay_bench") : reuse_dir;
  o.wal_fsync = tsdb::WalFsync::kInterval;

  double write_seconds = 0, create_seconds;
  if (!reuse) {
    ScrapeLoader loader(&ds);
    auto db = TimedOpen(o, &create_seconds);
    absl::Time start = absl::Now();
    if (absl::Status s = loader.Load(db.get(), dopts.samples_per_series); !s.ok()) {
      std::fprintf(stderr, "load: %s\n", s.ToString().c_str());
      return 1;
    }
    if (absl::Status s = db->Close(); !s.ok()) {
      std::fprintf(stderr, "close: %s\n", s.ToString().c_str());
      return 1;
    }
    write_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  }
  int64_t wal_bytes = DirBytes(o.dir + "/wal");
  double samples = double{1} * dopts.num_series * dopts.samples_per_series;

  DropFromPageCache(o.dir);
  double cold_seconds, warm_seconds;
  auto db = TimedOpen(o, &cold_seconds);
  double replay_only = static_cast<double>(db->head_stats().wal_replay_nanos.load()) * 1e-9;
  bool ok = db->NumSeries() == static_cast<size_t>(ds.num_series());
  if (!ok) std::fprintf(stderr, "replayed %zu series, want %d\n", db->NumSeries(), ds.num_series());
  for (int probe : {0, ds.num_series() / 3, ds.num_series() - 1}) {
    if (absl::Status c = CheckSeries(db.get(), ds, probe, dopts.samples_per_series); !c.ok()) {
      std::fprintf(stderr, "check: %s\n", c.ToString().c_str());
      ok = false;
    }
  }
  size_t series = db->NumSeries();
  (void)db->Close();
  db.reset();
  db = TimedOpen(o, &warm_seconds);
  (void)db->Close();
  db.reset();
  if (reuse_dir.empty()) (void)RemoveAll(o.dir);

  double mib = static_cast<double>(wal_bytes) / (1 << 20);
  std::printf("replay_bench: %d series x %d samples, WAL on (interval fsync)\n", ds.num_series(),
              dopts.samples_per_series);
  if (reuse) {
    std::printf("  write:        skipped (reused %s)\n", o.dir.c_str());
  } else {
    std::printf("  write:        %.1f s, %.2f M samples/s (1 thread, one commit per host scrape)\n",
                write_seconds, samples / write_seconds / 1e6);
  }
  std::printf("  WAL on disk:  %.1f MiB (%.2f bytes/sample)\n", mib,
              static_cast<double>(wal_bytes) / samples);
  std::printf("  open (cold):  %.2f s (replay %.2f s), %.0f MiB/s, %.2f M samples/s\n",
              cold_seconds, replay_only, mib / cold_seconds, samples / cold_seconds / 1e6);
  std::printf("  open (warm):  %.2f s, %.0f MiB/s\n", warm_seconds, mib / warm_seconds);
  std::printf("  check:        %zu series, 3 series compared sample by sample: %s\n", series,
              ok ? "OK" : "FAILED");
  std::printf("  restart to ready: %.2f s (target <= %.0f s: %s)\n", cold_seconds, kTargetSeconds,
              cold_seconds <= kTargetSeconds ? "MET" : "MISSED");
  PrintResult("replay_seconds", cold_seconds);
  PrintResult("replay_seconds_warm", warm_seconds);
  PrintResult("replay_mib_per_sec", mib / cold_seconds);
  PrintResult("wal_mib", mib);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  vigil::bench::InitBenchmarkProcess();
  return vigil::bench::Run(argc, argv);
}
