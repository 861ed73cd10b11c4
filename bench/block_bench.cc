// Blocks on disk: size, write speed, compaction, and queries over them.
//
//   block_bench [--series=100000] [--query_series=10000] [--phase=all|write|compact|query]
//
// write:   --series of the dataset for 2 h (480 scrapes at 15 s) into the
//          head, then one block cut from it: bytes per sample on disk
//          (index, chunks, meta, tombstones) and samples written per second.
// compact: --series for 6 h cut into three 2 h blocks, then those merged
//          into one 6 h block: time and peak RSS growth of the merge.
// query:   --query_series for 24 h in blocks (compacted as the DB would),
//          reopened, then every sample of every series read back: latency
//          and peak RSS growth of the query.
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "base/file.h"
#include "bench/bench_util.h"
#include "bench/dataset.h"
#include "tsdb/db.h"

namespace vigil::bench {
namespace {

constexpr int64_t kRange = 2 * 3600 * 1000;
constexpr int kScrapesPerRange = static_cast<int>(kRange / kScrapeIntervalMs);
constexpr double kTargetBytesPerSample = 1.3;

// Peak RSS since the last ResetPeak (VmHWM), in bytes.
int64_t PeakRss() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}
void ResetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

absl::StatusOr<std::unique_ptr<tsdb::DB>> OpenDb(const std::string& dir) {
  tsdb::Options o;
  o.dir = dir;
  o.enable_wal = false;  // Blocks are measured, not the WAL.
  o.background_compaction = false;
  o.retention_time = 0;
  return tsdb::DB::Open(o);
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "block_bench: %s\n", s.ToString().c_str());
  return 1;
}

int Write(int series) {
  DatasetOptions dopts;
  dopts.num_series = series;
  Dataset ds(dopts);
  ScrapeLoader loader(&ds);
  std::string dir = MakeTempDir("vigil_block_bench");
  auto db = OpenDb(dir);
  if (!db.ok()) return Fail(db.status());
  if (auto s = loader.Load(db->get(), kScrapesPerRange); !s.ok()) return Fail(s);
  absl::Time start = absl::Now();
  if (auto s = (*db)->CompactHead(kDefaultStartMs, kDefaultStartMs + kRange); !s.ok()) {
    return Fail(s);
  }
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  auto blocks = (*db)->Blocks();
  if (blocks.size() != 1) return Fail(absl::InternalError("expected one block"));
  const tsdb::BlockSummary& b = blocks[0];
  int64_t index_bytes = FileSize(b.dir + "/index").value_or(0);
  std::printf("write: %llu series, %llu samples, %llu chunks -> %.1f MiB (index %.1f MiB) in %.2f s\n",
              static_cast<unsigned long long>(b.num_series),
              static_cast<unsigned long long>(b.num_samples),
              static_cast<unsigned long long>(b.num_chunks), b.bytes / 1048576.0,
              index_bytes / 1048576.0, secs);
  double bps = static_cast<double>(b.bytes) / static_cast<double>(b.num_samples);
  std::printf("  bytes per sample on disk, index included: %.3f (target <= %.1f: %s)\n", bps,
              kTargetBytesPerSample, bps <= kTargetBytesPerSample ? "met" : "MISSED");
  std::printf("  block write: %.2f M samples/s\n", b.num_samples / secs / 1e6);
  PrintResult("block_bytes_per_sample", bps);
  PrintResult("block_index_bytes_per_series", static_cast<double>(index_bytes) / b.num_series);
  PrintResult("block_write_samples_per_s", b.num_samples / secs);
  db->reset();
  (void)RemoveAll(dir);
  return 0;
}

int Compact(int series) {
  DatasetOptions dopts;
  dopts.num_series = series;
  Dataset ds(dopts);
  ScrapeLoader loader(&ds);
  std::string dir = MakeTempDir("vigil_block_bench");
  auto db = OpenDb(dir);
  if (!db.ok()) return Fail(db.status());
  for (int r = 0; r < 3; ++r) {
    if (auto s = loader.Load(db->get(), kScrapesPerRange); !s.ok()) return Fail(s);
    int64_t mint = kDefaultStartMs + r * kRange;
    if (auto s = (*db)->CompactHead(mint, mint + kRange); !s.ok()) return Fail(s);
  }
  std::vector<std::string> ids;
  for (const auto& b : (*db)->Blocks()) ids.push_back(b.ulid);
  int64_t rss_before = ResidentBytes();
  ResetPeak();
  absl::Time start = absl::Now();
  if (auto s = (*db)->CompactBlocks(ids); !s.ok()) return Fail(s);
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  int64_t peak = PeakRss();
  auto blocks = (*db)->Blocks();
  const tsdb::BlockSummary& b = blocks.at(0);
  std::printf("compact: 3 x 2h blocks of %d series (%llu samples) -> one 6h block in %.2f s "
              "(%.2f M samples/s); peak RSS +%.0f MiB over %.0f MiB; %.3f bytes/sample\n",
              series, static_cast<unsigned long long>(b.num_samples), secs,
              b.num_samples / secs / 1e6, (peak - rss_before) / 1048576.0,
              rss_before / 1048576.0, static_cast<double>(b.bytes) / b.num_samples);
  PrintResult("compact_seconds", secs);
  PrintResult("compact_peak_rss_growth_mib", (peak - rss_before) / 1048576.0);
  PrintResult("compacted_bytes_per_sample", static_cast<double>(b.bytes) / b.num_samples);
  db->reset();
  (void)RemoveAll(dir);
  return 0;
}

int Query(int series) {
  DatasetOptions dopts;
  dopts.num_series = series;
  Dataset ds(dopts);
  std::string dir = MakeTempDir("vigil_block_bench");
  {
    ScrapeLoader loader(&ds);
    auto db = OpenDb(dir);
    if (!db.ok()) return Fail(db.status());
    for (int r = 0; r < 12; ++r) {
      if (auto s = loader.Load(db->get(), kScrapesPerRange); !s.ok()) return Fail(s);
      int64_t mint = kDefaultStartMs + r * kRange;
      if (auto s = (*db)->CompactHead(mint, mint + kRange); !s.ok()) return Fail(s);
    }
    if (auto s = (*db)->Compact(); !s.ok()) return Fail(s);
  }
  auto db = OpenDb(dir);
  if (!db.ok()) return Fail(db.status());
  int64_t rss_before = ResidentBytes();
  ResetPeak();
  absl::Time start = absl::Now();
  auto q = (*db)->Querier();
  auto m = model::Matcher::Create(model::MatchType::kRegexMatch, "__name__", ".+");
  auto set = q->Select({*m}, kDefaultStartMs, kDefaultStartMs + 12 * kRange);
  uint64_t n = 0, nseries = 0;
  double sum = 0;
  while (set->Next()) {
    ++nseries;
    auto it = set->At().Iterator();
    while (it->Next()) {
      ++n;
      sum += it->AtV();
    }
  }
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  int64_t peak = PeakRss();
  uint64_t bytes = 0;
  for (const auto& b : (*db)->Blocks()) bytes += b.bytes;
  std::printf("query: 24h of %llu series in %zu blocks (%.0f MiB): %llu samples read in %.3f s "
              "(%.1f M samples/s); peak RSS +%.0f MiB  [checksum %g]\n",
              static_cast<unsigned long long>(nseries), (*db)->Blocks().size(),
              bytes / 1048576.0, static_cast<unsigned long long>(n), secs, n / secs / 1e6,
              (peak - rss_before) / 1048576.0, sum);
  PrintResult("query_24h_seconds", secs);
  PrintResult("query_24h_peak_rss_growth_mib", (peak - rss_before) / 1048576.0);
  db->reset();
  (void)RemoveAll(dir);
  return 0;
}

int Run(int argc, char** argv) {
  InitBenchmarkProcess();
  int series = static_cast<int>(FlagInt(argc, argv, "series", 100000));
  int query_series = static_cast<int>(FlagInt(argc, argv, "query_series", 10000));
  std::string phase = FlagString(argc, argv, "phase", "all");
  if ((phase == "all" || phase == "write") && Write(series) != 0) return 1;
  if ((phase == "all" || phase == "compact") && Compact(series) != 0) return 1;
  if ((phase == "all" || phase == "query") && Query(query_series) != 0) return 1;
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Run(argc, argv); }
