// XOR chunk encoding: encode and decode speed (items = samples) and size
// (bytes_per_sample, header included) over 10k series x 120 samples of the
// realistic dataset, one chunk per series as in the head.
//
// The `jitter` argument selects the timestamp model (dataset.h): aligned
// (Prometheus's 2 ms snapping; the target's case), raw (every scrape up to
// 50 ms late), none (perfectly regular). Counters per kind say where the
// bytes go; ts_only_bps is the size with all values 0, i.e. what timestamps
// (plus header and 1 bit per value) cost on their own.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/dataset.h"
#include "tsdb/chunkenc/xor.h"

namespace vigil::bench {
namespace {

using tsdb::chunkenc::XorChunk;
using tsdb::chunkenc::XorIterator;

constexpr int kSeries = 10000;
constexpr int kSamples = 120;

struct Corpus {
  std::vector<std::vector<model::Sample>> series;
  std::vector<std::string> chunks;  // Encoded, for decoding.
  // Bytes per sample: all series, each kind, timestamps only.
  double all = 0, counter = 0, gauge = 0, constant = 0, ts_only = 0;
};

std::string Encode(const std::vector<model::Sample>& samples, bool zero_values) {
  XorChunk c;
  for (const model::Sample& s : samples) c.Append(s.t, zero_values ? 0.0 : s.v);
  return std::string(c.Bytes());
}

std::unique_ptr<Corpus> BuildCorpus(Jitter jitter) {
  auto c = std::make_unique<Corpus>();
  DatasetOptions o;
  o.num_series = kSeries;
  o.samples_per_series = kSamples;
  o.jitter = jitter;
  Dataset ds(o);  // Must match Breakdown().
  std::array<double, 3> bytes{}, samples{};
  double total_bytes = 0, ts_bytes = 0;
  for (int s = 0; s < kSeries; ++s) {
    SeriesCursor cur = ds.Cursor(s);
    std::vector<model::Sample> v(kSamples);
    for (auto& x : v) x = cur.Next();
    c->chunks.push_back(Encode(v, false));
    ts_bytes += static_cast<double>(Encode(v, true).size());
    auto k = static_cast<size_t>(ds.Kind(s));
    bytes[k] += static_cast<double>(c->chunks.back().size());
    samples[k] += kSamples;
    total_bytes += static_cast<double>(c->chunks.back().size());
    c->series.push_back(std::move(v));
  }
  double n = double{kSeries} * kSamples;
  c->all = total_bytes / n;
  c->ts_only = ts_bytes / n;
  c->counter = bytes[0] / samples[0];
  c->gauge = bytes[1] / samples[1];
  c->constant = bytes[2] / samples[2];
  return c;
}

const Corpus& GetCorpus(Jitter jitter) {
  static std::array<std::unique_ptr<Corpus>, 3> cache;
  auto& c = cache[static_cast<size_t>(jitter)];
  if (c == nullptr) c = BuildCorpus(jitter);
  return *c;
}

const char* JitterName(Jitter j) {
  switch (j) {
    case Jitter::kAligned: return "jitter=aligned";
    case Jitter::kRaw: return "jitter=raw";
    case Jitter::kNone: return "jitter=none";
  }
  return "";
}

void SetSampleCounters(benchmark::State& state) {
  auto n = static_cast<double>(state.iterations()) * kSamples;
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["time_per_sample"] =
      benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_XorEncode(benchmark::State& state) {
  auto jitter = static_cast<Jitter>(state.range(0));
  const Corpus& c = GetCorpus(jitter);
  size_t i = 0;
  for (auto _ : state) {
    XorChunk chunk;
    for (const model::Sample& s : c.series[i]) chunk.Append(s.t, s.v);
    benchmark::DoNotOptimize(chunk.Bytes().data());
    if (++i == c.series.size()) i = 0;
  }
  SetSampleCounters(state);
  state.counters["bytes_per_sample"] = c.all;
  state.counters["counter_bps"] = c.counter;
  state.counters["gauge_bps"] = c.gauge;
  state.counters["constant_bps"] = c.constant;
  state.counters["ts_only_bps"] = c.ts_only;
  state.SetLabel(JitterName(jitter));
}
BENCHMARK(BM_XorEncode)
    ->Arg(static_cast<int>(Jitter::kAligned))
    ->Arg(static_cast<int>(Jitter::kRaw))
    ->Arg(static_cast<int>(Jitter::kNone));

void BM_XorDecode(benchmark::State& state) {
  auto jitter = static_cast<Jitter>(state.range(0));
  const Corpus& c = GetCorpus(jitter);
  size_t i = 0;
  XorIterator it{absl::string_view()};
  for (auto _ : state) {
    it.Reset(c.chunks[i]);
    double sum = 0;
    while (it.Next()) sum += it.AtV() + static_cast<double>(it.AtT());
    benchmark::DoNotOptimize(sum);
    if (++i == c.chunks.size()) i = 0;
  }
  if (!it.Err().ok()) state.SkipWithError("decode failed");
  SetSampleCounters(state);
  state.SetLabel(JitterName(jitter));
}
BENCHMARK(BM_XorDecode)->Arg(static_cast<int>(Jitter::kAligned));

// Bytes per sample and share of all bytes per metric name (aligned jitter),
// largest share first.
void Breakdown() {
  const Corpus& c = GetCorpus(Jitter::kAligned);
  DatasetOptions o;
  o.num_series = kSeries;
  Dataset ds(o);
  std::map<std::string, std::pair<double, int>> by_name;  // bytes, series
  double total = 0;
  for (int s = 0; s < kSeries; ++s) {
    auto& e = by_name[std::string(ds.MetricName(s))];
    e.first += static_cast<double>(c.chunks[s].size());
    e.second += 1;
    total += static_cast<double>(c.chunks[s].size());
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_name.begin(), by_name.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::printf("%-45s %8s %8s %8s\n", "metric", "series%", "bytes%", "B/sample");
  for (const auto& [name, e] : rows) {
    std::printf("%-45s %7.1f%% %7.1f%% %8.2f\n", name.c_str(), 100.0 * e.second / kSeries,
                100 * e.first / total, e.first / (e.second * double{kSamples}));
  }
  std::printf("%-45s %7.1f%% %7.1f%% %8.2f\n", "all", 100.0, 100.0, c.all);
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--breakdown") == 0) {
      vigil::bench::Breakdown();
      return 0;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
