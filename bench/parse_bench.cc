// Exposition parser throughput (scrape/): items are samples, so
// items_per_second is samples/s and time_per_sample the cost of one sample
// line; bytes_per_second is the body read.
//
// Bodies (built once, in memory):
//   node: the first 1,000 series of one host of the realistic dataset
//         (bench/dataset.h), as node_exporter would expose them: HELP and
//         TYPE per family, no target labels, values in Go's %g style.
//   app:  10,000 series of a web application: request-duration histograms
//         per handler, method and code (4-5 labels a series).
//   captured: a real node_exporter page read from the file named by
//         $VIGIL_NODE_PAGE (scripts/bench-scrape-parse.sh captures one from
//         Debian's prometheus-node-exporter); skipped when unset.
// Each is parsed in the text format and as OpenMetrics (the same samples,
// ending in "# EOF"). "Next" walks the entries and reads each sample's
// series text and value (a scrape-cache hit); "Labels" also materialises
// the label views (a cache miss). BM_ScrapeLoop runs the whole per-scrape
// path of a target in steady state (scrape/scrape_loop.h: parse, scrape
// cache, target labels, append by ref into a real head, staleness
// tracking, report series, commit) on the text bodies.
//
// allocs_per_sample counts operator new calls (a global counter in this
// binary) per sample over the timed loop.
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <atomic>
#include <cstdlib>
#include <new>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/file.h"
#include "bench/dataset.h"
#include "benchmark/benchmark.h"
#include "scrape/openmetrics_parser.h"
#include "scrape/parser.h"
#include "scrape/scrape_loop.h"
#include "scrape/text_parser.h"
#include "tsdb/db.h"

// Counts every allocation of this process (allocs_per_sample).
static std::atomic<int64_t> g_allocs{0};
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace vigil::bench {
namespace {

constexpr int kNodeSeries = 1000;

// Like Go's strconv.FormatFloat(v, 'g', -1, 64), which client_golang uses:
// shortest digits, exponent form from 1e6 and below 1e-4.
void AppendGoFloat(double v, std::string* out) {
  char buf[64];
  const double a = v < 0 ? -v : v;
  const auto fmt = (a != 0 && (a >= 1e6 || a < 1e-4))
                       ? std::chars_format::scientific
                       : std::chars_format::fixed;
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, fmt);
  out->append(buf, r.ptr);
}

struct Body {
  std::string text;
  std::string openmetrics;
  int samples = 0;
};

void AddFamilyHeader(absl::string_view name, absl::string_view type,
                     std::string* text, std::string* om) {
  const std::string help = absl::StrCat("# HELP ", name, " Help text for ",
                                        name, ".\n# TYPE ", name, " ");
  absl::StrAppend(text, help, type, "\n");
  absl::StrAppend(om, help, type, "\n");
}

Body MakeNodeBody() {
  DatasetOptions o;
  o.num_series = kNodeSeries;
  Dataset ds(o);
  Body b;
  std::string last_name;
  for (int s = 0; s < kNodeSeries; ++s) {
    const std::string name(ds.MetricName(s));
    if (name != last_name) {
      AddFamilyHeader(name,
                      ds.Kind(s) == SeriesKind::kCounter ? "counter" : "gauge",
                      &b.text, &b.openmetrics);
      last_name = name;
    }
    std::string line = name;
    std::string labels;
    for (const auto& [n, v] : ds.SeriesPairs(s)) {
      if (n == model::kMetricName || n == "instance" || n == "job") continue;
      absl::StrAppend(&labels, labels.empty() ? "" : ",", n, "=\"", v, "\"");
    }
    if (!labels.empty()) absl::StrAppend(&line, "{", labels, "}");
    line += " ";
    SeriesCursor c = ds.Cursor(s);
    for (int i = 0; i < 40; ++i) c.Next();  // Ten minutes in.
    AppendGoFloat(c.Next().v, &line);
    line += "\n";
    b.text += line;
    b.openmetrics += line;
    ++b.samples;
  }
  b.openmetrics += "# EOF\n";
  return b;
}

Body MakeAppBody() {
  const char* kHandlers[] = {"/api/v1/query",  "/api/v1/query_range",
                             "/api/v1/series", "/api/v1/labels",
                             "/api/v1/write",  "/metrics",
                             "/-/healthy",     "/api/v1/targets",
                             "/api/v1/rules",  "/api/v1/alerts"};
  const char* kMethods[] = {"GET", "POST"};
  const char* kCodes[] = {"200", "204", "400", "404", "500"};
  const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                       "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  Body b;
  const std::string name = "http_request_duration_seconds";
  AddFamilyHeader(name, "histogram", &b.text, &b.openmetrics);
  uint64_t rng = 42;
  int n = 0;
  auto add = [&](absl::string_view suffix, absl::string_view labels, double v) {
    std::string line = absl::StrCat(name, suffix, "{", labels, "} ");
    AppendGoFloat(v, &line);
    line += "\n";
    b.text += line;
    b.openmetrics += line;
    ++n;
  };
  // 10 handlers x 2 methods x 5 codes x (12 buckets + sum + count) x 7
  // instances of a label "shard" = 9,800 series.
  for (int shard = 0; shard < 7; ++shard) {
    for (const char* h : kHandlers) {
      for (const char* m : kMethods) {
        for (const char* c : kCodes) {
          const std::string base =
              absl::StrCat("handler=\"", h, "\",method=\"", m, "\",code=\"", c,
                           "\",shard=\"", shard, "\"");
          double count = 0;
          for (const char* le : kLe) {
            rng = Mix64(rng);
            count += static_cast<double>(rng % 1000);
            add("_bucket", absl::StrCat(base, ",le=\"", le, "\""), count);
          }
          add("_sum", base, count * 0.0123);
          add("_count", base, count);
        }
      }
    }
  }
  b.openmetrics += "# EOF\n";
  b.samples = n;
  return b;
}

// The page in $VIGIL_NODE_PAGE as a text body (samples counted by parsing
// it); empty when unset or unreadable.
Body LoadCapturedBody() {
  Body b;
  const char* path = std::getenv("VIGIL_NODE_PAGE");
  if (path == nullptr) return b;
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return b;
  b.text = *std::move(text);
  scrape::TextParser p(b.text);
  scrape::Entry e;
  while (true) {
    absl::StatusOr<bool> more = p.Next(&e);
    if (!more.ok() || !*more) break;
    if (e == scrape::Entry::kSeries) ++b.samples;
  }
  // OpenMetrics needs its own spelling of some lines; the captured page is
  // only measured in the text format.
  return b;
}

const Body& GetBody(int which) {
  static const Body* node = new Body(MakeNodeBody());
  static const Body* app = new Body(MakeAppBody());
  static const Body* captured = new Body(LoadCapturedBody());
  return which == 0 ? *node : which == 1 ? *app : *captured;
}

const char* BodyName(int which) {
  return which == 0 ? "node" : which == 1 ? "app" : "captured node_exporter";
}

void Run(benchmark::State& state, bool openmetrics, bool labels) {
  const Body& b = GetBody(static_cast<int>(state.range(0)));
  const std::string& body = openmetrics ? b.openmetrics : b.text;
  if (body.empty() || b.samples == 0) {
    state.SkipWithError("no body (VIGIL_NODE_PAGE unset, or no OpenMetrics form)");
    return;
  }
  std::vector<scrape::LabelPair> pairs;
  pairs.reserve(16);
  const int64_t allocs_before = g_allocs.load();
  for (auto _ : state) {
    std::unique_ptr<scrape::Parser> p;
    if (openmetrics) {
      p = std::make_unique<scrape::OpenMetricsParser>(body);
    } else {
      p = std::make_unique<scrape::TextParser>(body);
    }
    scrape::Entry e;
    int samples = 0;
    double sum = 0;
    while (true) {
      absl::StatusOr<bool> more = p->Next(&e);
      if (!more.ok()) {
        state.SkipWithError(std::string(more.status().message()).c_str());
        return;
      }
      if (!*more) break;
      if (e != scrape::Entry::kSeries) continue;
      ++samples;
      sum += p->Value() + static_cast<double>(p->SeriesText().size());
      if (labels) {
        p->Labels(&pairs);
        sum += static_cast<double>(pairs.back().second.size());
      }
    }
    benchmark::DoNotOptimize(sum);
    if (samples != b.samples) {
      state.SkipWithError("wrong sample count");
      return;
    }
  }
  const double n = static_cast<double>(state.iterations()) * b.samples;
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
  state.counters["time_per_sample"] = benchmark::Counter(
      n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes_per_sample"] =
      static_cast<double>(body.size()) / b.samples;
  state.counters["allocs_per_sample"] =
      static_cast<double>(g_allocs.load() - allocs_before) / n;
  state.SetLabel(BodyName(static_cast<int>(state.range(0))));
}

// One target's scrapes in steady state: the same page every 15 s (values
// unchanged, so every sample is a cache hit) into a head without WAL.
void BM_ScrapeLoop(benchmark::State& state) {
  const Body& b = GetBody(static_cast<int>(state.range(0)));
  if (b.text.empty() || b.samples == 0) {
    state.SkipWithError("no body (VIGIL_NODE_PAGE unset)");
    return;
  }
  char tmpl[] = "/tmp/scrape_bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  tsdb::Options o;
  o.dir = tmpl;
  o.enable_wal = false;
  o.background_compaction = false;
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    state.SkipWithError(std::string(db.status().message()).c_str());
    return;
  }
  auto job = std::make_shared<scrape::JobState>();
  job->config.job_name = "node";
  scrape::TargetSpec spec;
  spec.labels = model::Labels::FromPairs({{"job", "node"}, {"instance", "10.0.0.1:9100"}});
  spec.full = spec.labels;
  spec.url = "http://10.0.0.1:9100/metrics";
  spec.interval = absl::Seconds(15);
  spec.timeout = absl::Seconds(10);
  tsdb::DB* d = db->get();
  scrape::ScrapeLoop loop(job, spec, [d] { return d->Appender(); });
  absl::Time t = absl::FromUnixSeconds(1700000000);
  // The first scrape fills the cache and creates the series.
  if (absl::Status s = loop.ProcessBody("text/plain; version=0.0.4", b.text, t, absl::Milliseconds(1));
      !s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return;
  }
  const int64_t allocs_before = g_allocs.load();
  for (auto _ : state) {
    t += absl::Seconds(15);
    absl::Status s = loop.ProcessBody("text/plain; version=0.0.4", b.text, t, absl::Milliseconds(1));
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
  const double n = static_cast<double>(state.iterations()) * b.samples;
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(b.text.size()));
  state.counters["time_per_sample"] = benchmark::Counter(
      n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs_per_sample"] =
      static_cast<double>(g_allocs.load() - allocs_before) / n;
  state.SetLabel(BodyName(static_cast<int>(state.range(0))));
  (void)(*db)->Close();
  (void)RemoveAll(tmpl);
}

void BM_TextNext(benchmark::State& state) { Run(state, false, false); }
void BM_TextLabels(benchmark::State& state) { Run(state, false, true); }
void BM_OpenMetricsNext(benchmark::State& state) { Run(state, true, false); }
void BM_OpenMetricsLabels(benchmark::State& state) { Run(state, true, true); }

BENCHMARK(BM_TextNext)->Arg(0)->Arg(1)->Arg(2);
BENCHMARK(BM_TextLabels)->Arg(0)->Arg(1)->Arg(2);
BENCHMARK(BM_OpenMetricsNext)->Arg(0)->Arg(1);
BENCHMARK(BM_OpenMetricsLabels)->Arg(0)->Arg(1);
BENCHMARK(BM_ScrapeLoop)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  // As in cmd/main.cc: Debian's Abseil checks lock order on every Mutex
  // operation otherwise, which would dominate the scrape-loop figures.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
