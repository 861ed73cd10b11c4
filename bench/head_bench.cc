// Head append throughput through tsdb::DB with the WAL on (interval fsync),
// in a fresh directory under /tmp per run. Items are samples, so
// items_per_second is samples/s over wall time (summed over threads).
//
// Each thread owns kHostsPerThread hosts of the dataset (~54k series) and
// creates their series before the timed loop; an iteration is one scrape of
// one host (~1,070 samples at one timestamp) and one Commit, hosts in turn.
// "ByLabels" appends with the labels (hash + lookup per sample), "ByRef"
// with the refs returned by the first scrape (Prometheus's scrape cache).
// BM_GenerateOnly is the same loop without the DB: the dataset's own cost,
// included in the other figures. See InitBenchmarkProcess() about Abseil's
// deadlock detection (off unless VIGIL_BENCH_DEADLOCK_DETECTION=1).
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/file.h"
#include "benchmark/benchmark.h"
#include "bench/bench_util.h"
#include "bench/dataset.h"
#include "tsdb/db.h"

namespace vigil::bench {
namespace {

constexpr int kHostsPerThread = 50;

// The DB shared by the threads of one run, made by Setup, removed by
// Teardown.
struct Fixture {
  std::string dir;
  std::unique_ptr<tsdb::DB> db;
};
Fixture* g_fixture = nullptr;

void OpenDb(const benchmark::State&) {
  g_fixture = new Fixture;
  g_fixture->dir = MakeTempDir("vigil_head_bench");
  tsdb::Options o;
  o.dir = g_fixture->dir;
  o.enable_wal = true;
  o.wal_fsync = tsdb::WalFsync::kInterval;
  o.wal_fsync_interval = absl::Seconds(1);
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    std::abort();
  }
  g_fixture->db = std::move(*db);
}

void CloseDb(const benchmark::State&) {
  (void)g_fixture->db->Close();
  g_fixture->db.reset();
  (void)RemoveAll(g_fixture->dir);
  delete g_fixture;
  g_fixture = nullptr;
}

enum class Mode { kByLabels, kByRef, kGenerateOnly };

// One thread's share of the dataset.
struct ThreadSeries {
  ThreadSeries(const Dataset& ds, int thread) {
    first_host = thread * kHostsPerThread;
    begin = ds.HostBegin(first_host);
    int end = ds.HostEnd(first_host + kHostsPerThread - 1);
    for (int s = begin; s < end; ++s) {
      labels.push_back(ds.SeriesLabels(s));
      cursors.push_back(ds.Cursor(s));
    }
    refs.resize(labels.size());
  }
  int first_host, begin;
  std::vector<model::Labels> labels;
  std::vector<SeriesCursor> cursors;
  std::vector<tsdb::SeriesRef> refs;
};

// Appends the next sample of series [begin, end) of `mine` and commits.
absl::Status AppendScrape(ThreadSeries* mine, int begin, int end, Mode mode,
                          tsdb::Appender* app, double* sink) {
  for (int i = begin; i < end; ++i) {
    model::Sample x = mine->cursors[i].Next();
    switch (mode) {
      case Mode::kByLabels:
        if (auto r = app->Append(mine->labels[i], x.t, x.v); !r.ok()) return r.status();
        break;
      case Mode::kByRef:
        if (auto s = app->Append(mine->refs[i], x.t, x.v); !s.ok()) return s;
        break;
      case Mode::kGenerateOnly:
        *sink += x.v;
        break;
    }
  }
  return mode == Mode::kGenerateOnly ? absl::OkStatus() : app->Commit();
}

// Appends scrape 0 of all of `mine` by labels, keeping the refs.
absl::Status CreateSeries(ThreadSeries* mine, tsdb::Appender* app) {
  for (size_t i = 0; i < mine->labels.size(); ++i) {
    model::Sample x = mine->cursors[i].Next();
    auto ref = app->Append(mine->labels[i], x.t, x.v);
    if (!ref.ok()) return ref.status();
    mine->refs[i] = *ref;
  }
  return app->Commit();
}

void RunAppend(benchmark::State& state, Mode mode) {
  DatasetOptions o;
  o.num_series = state.threads() * kHostsPerThread * Dataset(DatasetOptions{}).series_per_host();
  Dataset ds(o);
  ThreadSeries mine(ds, state.thread_index());
  auto app = g_fixture->db->Appender();
  // Scrape 0 creates the series (untimed) and yields their refs. On error
  // the loop below still runs (and exits at once), as threads meet there.
  if (mode != Mode::kGenerateOnly) {
    if (absl::Status s = CreateSeries(&mine, app.get()); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
    }
  }
  int64_t samples = 0;
  int host = 0;
  double sink = 0;
  for (auto _ : state) {
    int begin = ds.HostBegin(mine.first_host + host) - mine.begin;
    int end = ds.HostEnd(mine.first_host + host) - mine.begin;
    absl::Status s = AppendScrape(&mine, begin, end, mode, app.get(), &sink);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    samples += end - begin;
    if (++host == kHostsPerThread) host = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(samples);
}

void BM_AppendByLabels(benchmark::State& state) { RunAppend(state, Mode::kByLabels); }
void BM_AppendByRef(benchmark::State& state) { RunAppend(state, Mode::kByRef); }
void BM_GenerateOnly(benchmark::State& state) { RunAppend(state, Mode::kGenerateOnly); }

BENCHMARK(BM_AppendByLabels)->Setup(OpenDb)->Teardown(CloseDb)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_AppendByRef)->Setup(OpenDb)->Teardown(CloseDb)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_GenerateOnly)->Setup(OpenDb)->Teardown(CloseDb)->Threads(1)->UseRealTime();

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  vigil::bench::InitBenchmarkProcess();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
