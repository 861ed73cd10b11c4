// Writes the dataset of the PromQL benchmark against Prometheus
// (scripts/bench-promql-vs-prometheus.sh) as Prometheus-format blocks:
//
//   x_total{job="job<0..9>",instance="i<0..999>"}   10,000 counters, 24h
//   h_bucket{job="api",instance="i<0..99>",le=...}  100 classic histograms
//                                                   of 12 buckets, 24h
//   r{id="<0..99999>",job="regex"}                  100,000 gauges, last 1h
//
// one sample per series every 30s, ending at kEnd (2026-01-02T02:00Z, a
// multiple of 2h). Samples go through the storage API in time order, the
// head is cut into a 2h block as each range fills, and the blocks are then
// compacted until the planner has nothing left to do, so that neither
// server starts compacting in the middle of the measurements.
//
//   promql_data --out DIR [--compact=true]
//
// DIR must not exist or be empty. Prints the series and sample counts, the
// time range and the blocks.
#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gflags/gflags.h"
#include "base/status_macros.h"
#include "bench/bench_util.h"
#include "model/labels.h"
#include "tsdb/db.h"

DEFINE_string(out, "", "Directory to write the blocks into (must not exist or be empty).");
DEFINE_bool(compact, true,
            "Compact the 2h blocks until the planner has nothing left to do.");

namespace vigil::bench {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1000;
constexpr int64_t kBlockRange = 2 * kHour;
constexpr int64_t kScrape = 30 * 1000;
// 2026-01-01T00:00Z + 26h: 2h-aligned, with 24h of data before it.
constexpr int64_t kEnd = int64_t{1767225600} * 1000 + 26 * kHour;
constexpr int64_t kStart = kEnd - 24 * kHour;
constexpr int64_t kRegexStart = kEnd - kHour;
static_assert(kEnd % kBlockRange == 0 && kStart % kBlockRange == 0);

constexpr int kJobs = 10;
constexpr int kInstancesPerJob = 1000;
constexpr int kHistogramInstances = 100;
constexpr std::array<const char*, 12> kLe = {"0.005", "0.01", "0.025", "0.05", "0.1",  "0.25",
                                              "0.5",   "1",    "2.5",   "5",    "10",   "+Inf"};
constexpr std::array<double, 11> kLeBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5,   1,    2.5,   5,    10};
constexpr int kRegexSeries = 100000;
// Samples per Commit: keeps the appender's batch to a few MB.
constexpr int kCommitEvery = 250000;
// Compaction rounds before giving up on reaching a fixed point.
constexpr int kMaxCompactRounds = 20;

// One series being written: its labels, its ref in the head (0 until the
// first append, or after it left the head) and its current value.
struct SeriesState {
  model::Labels labels;
  tsdb::SeriesRef ref = 0;
  double value = 0;
};

// Appends the samples of every series in time order, commits in batches,
// and cuts each completed 2h range into a block. Not thread-safe.
class Writer {
 public:
  explicit Writer(tsdb::DB* db) : db_(db), app_(db->Appender()) {}

  // Appends one sample, by ref when the head still has the series.
  absl::Status Add(SeriesState* s, int64_t t, double v) {
    if (s->ref != 0) {
      absl::Status st = app_->Append(s->ref, t, v);
      if (tsdb::GetAppendError(st) != tsdb::AppendError::kNotFound) {
        RETURN_IF_ERROR(st);
        return Counted();
      }
    }
    ASSIGN_OR_RETURN(s->ref, app_->Append(s->labels, t, v));
    return Counted();
  }

  // Commits and writes the head's [mint, maxt) as a block.
  absl::Status CutBlock(int64_t mint, int64_t maxt) {
    RETURN_IF_ERROR(Flush());
    return db_->CompactHead(mint, maxt);
  }

  absl::Status Flush() {
    pending_ = 0;
    return app_->Commit();
  }

  uint64_t samples() const { return samples_; }

 private:
  absl::Status Counted() {
    ++samples_;
    if (++pending_ >= kCommitEvery) return Flush();
    return absl::OkStatus();
  }

  tsdb::DB* const db_;
  std::unique_ptr<tsdb::Appender> app_;
  int pending_ = 0;
  uint64_t samples_ = 0;
};

std::vector<std::string> BlockIds(const tsdb::DB& db) {
  std::vector<std::string> ids;
  for (const tsdb::BlockSummary& b : db.Blocks()) ids.push_back(b.ulid);
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::Status Write(const std::string& dir, bool compact) {
  tsdb::Options options;
  options.dir = dir;
  options.enable_wal = false;
  options.background_compaction = false;
  options.retention_time = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<tsdb::DB> db, tsdb::DB::Open(options));

  std::vector<SeriesState> counters;
  counters.reserve(kJobs * kInstancesPerJob);
  for (int j = 0; j < kJobs; ++j) {
    const std::string job = absl::StrCat("job", j);
    for (int i = 0; i < kInstancesPerJob; ++i) {
      const std::string instance = absl::StrCat("i", i);
      counters.push_back(SeriesState{model::Labels::FromPairs(
          {{"__name__", "x_total"}, {"job", job}, {"instance", instance}})});
    }
  }
  // buckets[instance * kLe.size() + b], cumulative in b.
  std::vector<SeriesState> buckets;
  buckets.reserve(kHistogramInstances * kLe.size());
  for (int i = 0; i < kHistogramInstances; ++i) {
    const std::string instance = absl::StrCat("i", i);
    for (const char* le : kLe) {
      buckets.push_back(SeriesState{model::Labels::FromPairs(
          {{"__name__", "h_bucket"}, {"job", "api"}, {"instance", instance}, {"le", le}})});
    }
  }
  std::vector<SeriesState> gauges;
  gauges.reserve(kRegexSeries);
  for (int id = 0; id < kRegexSeries; ++id) {
    const std::string id_value = absl::StrCat(id);
    gauges.push_back(SeriesState{
        model::Labels::FromPairs({{"__name__", "r"}, {"id", id_value}, {"job", "regex"}})});
  }

  std::mt19937_64 rng(20260101);
  std::uniform_real_distribution<double> unit(0, 1);
  std::exponential_distribution<double> latency(1 / 0.12);  // Mean 120 ms.
  const int64_t steps = (kEnd - kStart) / kScrape;
  Writer w(db.get());
  const absl::Time started = absl::Now();
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t t = kStart + step * kScrape;
    for (size_t c = 0; c < counters.size(); ++c) {
      SeriesState& s = counters[c];
      // 0.1 to 5 increments per second, so rates differ between series.
      const double per_scrape = 3.0 + static_cast<double>(c % 50) * 3.0;
      const double inc = std::floor(unit(rng) * 2 * per_scrape);
      // A quarter of the counters restart once a day (a process restart).
      const bool reset = c % 4 == 0 && step == static_cast<int64_t>((c * 7919) % steps);
      s.value = reset ? inc : s.value + inc;
      RETURN_IF_ERROR(w.Add(&s, t, s.value));
    }
    for (int i = 0; i < kHistogramInstances; ++i) {
      std::array<int, kLe.size()> hits{};
      const int observations = static_cast<int>(unit(rng) * 40);
      for (int o = 0; o < observations; ++o) {
        const double x = latency(rng) * (1 + 0.2 * (i % 5));
        const auto at = std::lower_bound(kLeBounds.begin(), kLeBounds.end(), x);
        ++hits[static_cast<size_t>(at - kLeBounds.begin())];
      }
      int cumulative = 0;
      for (size_t b = 0; b < kLe.size(); ++b) {
        cumulative += hits[b];
        SeriesState& s = buckets[static_cast<size_t>(i) * kLe.size() + b];
        s.value += cumulative;
        RETURN_IF_ERROR(w.Add(&s, t, s.value));
      }
    }
    if (t >= kRegexStart) {
      for (size_t g = 0; g < gauges.size(); ++g) {
        SeriesState& s = gauges[g];
        s.value = static_cast<double>(g % 1000) + std::round(unit(rng) * 1000) / 10;
        RETURN_IF_ERROR(w.Add(&s, t, s.value));
      }
    }
    const int64_t next = t + kScrape;
    if (next % kBlockRange == 0) {
      RETURN_IF_ERROR(w.CutBlock(next - kBlockRange, next));
    }
  }
  RETURN_IF_ERROR(w.Flush());
  std::printf("wrote %" PRIu64 " samples in %.1f s\n", w.samples(),
              absl::ToDoubleSeconds(absl::Now() - started));

  if (compact) {
    // Leave the blocks as both servers' planners would: with nothing due.
    std::vector<std::string> ids = BlockIds(*db);
    for (int round = 0;; ++round) {
      if (round == kMaxCompactRounds) {
        return absl::InternalError("compaction did not reach a fixed point");
      }
      RETURN_IF_ERROR(db->Compact());
      std::vector<std::string> now = BlockIds(*db);
      if (now == ids) break;
      ids = std::move(now);
    }
  }

  uint64_t block_samples = 0;
  for (const tsdb::BlockSummary& b : db->Blocks()) {
    std::printf("block %s [%" PRId64 ", %" PRId64 ") %.1fh series=%" PRIu64 " samples=%" PRIu64
                " level=%d\n",
                b.ulid.c_str(), b.min_time, b.max_time,
                static_cast<double>(b.max_time - b.min_time) / kHour, b.num_series,
                b.num_samples, b.level);
    block_samples += b.num_samples;
  }
  std::printf("series x_total=%zu h_bucket=%zu r=%zu total=%zu\n", counters.size(),
              buckets.size(), gauges.size(), counters.size() + buckets.size() + gauges.size());
  std::printf("samples appended=%" PRIu64 " in_blocks=%" PRIu64 "\n", w.samples(), block_samples);
  // Timestamps of the first and last samples (inclusive), for the queries.
  std::printf("min_time_ms %" PRId64 "\nmax_time_ms %" PRId64 "\n", kStart, kEnd - kScrape);
  if (block_samples != w.samples()) {
    return absl::DataLossError(absl::StrCat("blocks hold ", block_samples, " samples, ",
                                            w.samples(), " were appended"));
  }
  return db->Close();
}

int Run(int argc, char** argv) {
  gflags::SetUsageMessage("promql_data --out=DIR [--compact=true]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  InitBenchmarkProcess();
  const std::string out = FLAGS_out;
  if (out.empty()) {
    std::fprintf(stderr, "usage: promql_data --out=DIR [--compact=true]\n");
    return 2;
  }
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_empty(out, ec)) {
    std::fprintf(stderr, "%s is not empty\n", out.c_str());
    return 2;
  }
  if (absl::Status s = Write(out, FLAGS_compact); !s.ok()) {
    std::fprintf(stderr, "promql_data: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Run(argc, argv); }
