// Head memory per active series. Loads --series x --samples of the dataset
// into a fresh DB (WAL on, interval fsync, unless --wal=false), scrape by
// scrape, and reports the growth of the process's RSS (after malloc_trim)
// divided by the series count. The dataset's cursors and the loader's ref
// table are allocated before the baseline so they are not counted; the
// interned label strings are, as the head needs them. Three series are read
// back and compared with the dataset before the figure is printed.
//
//   memory_bench [--series=1000000] [--samples=120] [--wal=true]
#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "base/file.h"
#include "bench/bench_util.h"
#include "bench/dataset.h"
#include "tsdb/db.h"

namespace vigil::bench {
namespace {

constexpr double kTargetBytesPerSeries = 1024;

int Run(int argc, char** argv) {
  DatasetOptions dopts;
  dopts.num_series = static_cast<int>(FlagInt(argc, argv, "series", 1000000));
  dopts.samples_per_series = static_cast<int>(FlagInt(argc, argv, "samples", 120));
  bool wal = FlagBool(argc, argv, "wal", true);
  Dataset ds(dopts);
  ScrapeLoader loader(&ds);

  std::string dir = MakeTempDir("vigil_memory_bench");
  int64_t rss_before = ResidentBytes();
  tsdb::Options o;
  o.dir = dir;
  o.enable_wal = wal;
  o.wal_fsync = tsdb::WalFsync::kInterval;
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  absl::Time start = absl::Now();
  absl::Status s = loader.Load(db->get(), dopts.samples_per_series);
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!s.ok()) {
    std::fprintf(stderr, "load: %s\n", s.ToString().c_str());
    return 1;
  }
  int64_t rss_after = ResidentBytes();
  size_t series = (*db)->NumSeries();
  size_t chunks = (*db)->NumChunks();
  // Verify a few series before trusting the figure.
  for (int probe : {0, ds.num_series() / 2, ds.num_series() - 1}) {
    if (absl::Status c = CheckSeries(db->get(), ds, probe, dopts.samples_per_series); !c.ok()) {
      std::fprintf(stderr, "check: %s\n", c.ToString().c_str());
      return 1;
    }
  }
  int64_t wal_bytes = wal ? DirBytes(dir + "/wal") : 0;
  (void)(*db)->Close();
  db->reset();
  (void)RemoveAll(dir);

  double per_series = static_cast<double>(rss_after - rss_before) / static_cast<double>(series);
  double samples = static_cast<double>(loader.samples());
  std::printf("memory_bench: %d series x %d samples (%d hosts x %d series), WAL %s\n",
              ds.num_series(), dopts.samples_per_series, ds.num_hosts(), ds.series_per_host(),
              wal ? "on (interval fsync)" : "off");
  std::printf("  load:            %.1f s, %.2f M samples/s (1 thread, one commit per host scrape)\n",
              seconds, samples / seconds / 1e6);
  std::printf("  head:            %zu series, %zu chunks (%.2f per series)\n", series, chunks,
              static_cast<double>(chunks) / static_cast<double>(series));
  std::printf("  RSS:             %.1f MiB before open, %.1f MiB after load\n",
              static_cast<double>(rss_before) / (1 << 20),
              static_cast<double>(rss_after) / (1 << 20));
  if (wal) std::printf("  WAL on disk:     %.1f MiB\n", static_cast<double>(wal_bytes) / (1 << 20));
  std::printf("  bytes per active series: %.0f (target <= %.0f: %s)\n", per_series,
              kTargetBytesPerSeries, per_series <= kTargetBytesPerSeries ? "MET" : "MISSED");
  PrintResult(wal ? "memory_bytes_per_series" : "memory_bytes_per_series_nowal", per_series);
  PrintResult(wal ? "memory_load_samples_per_sec" : "memory_load_samples_per_sec_nowal",
              samples / seconds);
  PrintResult("memory_chunks", static_cast<double>(chunks));
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  vigil::bench::InitBenchmarkProcess();
  return vigil::bench::Run(argc, argv);
}
