// Query latency over a large head: loads --series x --samples of the dataset
// (WAL off: it does not change what is read), then times Select for a few
// typical matcher shapes over the whole time range, iterating every returned
// sample. Reports the median over repetitions: the time for Select() itself
// (postings and sorting) and the total including reading all samples.
//
//   select_bench [--series=1000000] [--samples=120] [--min_reps=5]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "bench/bench_util.h"
#include "bench/dataset.h"
#include "model/matcher.h"
#include "tsdb/db.h"

namespace vigil::bench {
namespace {

using model::MatchType;

struct Query {
  std::string key;  // For the RESULT lines.
  std::vector<std::pair<MatchType, std::pair<std::string, std::string>>> matchers;
};

// The queries, over `ds` (the instance is one in the middle of it).
std::vector<Query> Queries(const Dataset& ds) {
  std::string instance = Dataset::Instance(ds.num_hosts() / 2);
  return {
      {"eq", {{MatchType::kEqual, {"__name__", "node_cpu_scaling_frequency_hertz"}}}},
      {"eq_eq",
       {{MatchType::kEqual, {"__name__", "node_cpu_seconds_total"}},
        {MatchType::kEqual, {"instance", instance}}}},
      {"re_prefix", {{MatchType::kRegexMatch, {"__name__", "node_cpu.*"}}}},
      {"eq_re_prefix",
       {{MatchType::kEqual, {"__name__", "node_load1"}},
        {MatchType::kRegexMatch, {"instance", "host-1.*"}}}},
      {"re_re",
       {{MatchType::kRegexMatch, {"__name__", "node_network_(receive|transmit)_bytes_total"}},
        {MatchType::kRegexMatch, {"instance", "host-[0-9]*7:9100"}}}},
  };
}

volatile double g_sink;  // Keeps the sample loop from being optimised away.

struct Timing {
  double select_ms, total_ms;
  int64_t series, samples;
};

Timing RunOnce(tsdb::DB* db, const std::vector<model::Matcher>& ms) {
  Timing r{0, 0, 0, 0};
  absl::Time start = absl::Now();
  auto q = db->Querier();
  auto set = q->Select(ms, INT64_MIN, INT64_MAX);
  r.select_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  double sink = 0;
  while (set->Next()) {
    ++r.series;
    auto it = set->At().Iterator();
    while (it->Next()) {
      sink += it->AtV();
      ++r.samples;
    }
    if (!it->Err().ok()) std::fprintf(stderr, "iterator: %s\n", it->Err().ToString().c_str());
  }
  r.total_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  g_sink = sink;
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main(int argc, char** argv) {
  DatasetOptions dopts;
  dopts.num_series = static_cast<int>(FlagInt(argc, argv, "series", 1000000));
  dopts.samples_per_series = static_cast<int>(FlagInt(argc, argv, "samples", 120));
  int min_reps = static_cast<int>(FlagInt(argc, argv, "min_reps", 5));
  Dataset ds(dopts);
  tsdb::Options o;
  o.dir = MakeTempDir("vigil_select_bench");
  o.enable_wal = false;
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  absl::Time start = absl::Now();
  {
    ScrapeLoader loader(&ds);
    if (absl::Status s = loader.Load(db->get(), dopts.samples_per_series); !s.ok()) {
      std::fprintf(stderr, "load: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::printf("select_bench: head of %zu series x %d samples (loaded in %.1f s, WAL off)\n",
              (*db)->NumSeries(), dopts.samples_per_series,
              absl::ToDoubleSeconds(absl::Now() - start));
  std::printf("  %-85s %9s %10s %10s %10s %8s\n", "matchers", "series", "samples", "select ms",
              "total ms", "ns/smpl");
  std::vector<std::pair<std::string, double>> results;
  for (const Query& q : Queries(ds)) {
    std::vector<model::Matcher> ms;
    std::string text;
    for (const auto& [type, nv] : q.matchers) {
      ms.push_back(*model::Matcher::Create(type, nv.first, nv.second));
      absl::StrAppend(&text, text.empty() ? "" : ", ", ms.back().ToString());
    }
    RunOnce(db->get(), ms);  // Warm-up.
    std::vector<double> select_ms, total_ms;
    Timing r{};
    absl::Time begin = absl::Now();
    while (static_cast<int>(total_ms.size()) < min_reps ||
           (absl::Now() - begin < absl::Seconds(1) && total_ms.size() < 100)) {
      r = RunOnce(db->get(), ms);
      select_ms.push_back(r.select_ms);
      total_ms.push_back(r.total_ms);
    }
    double total = Median(total_ms);
    std::printf("  %-85s %9lld %10lld %10.2f %10.2f %8.1f\n", absl::StrCat("{", text, "}").c_str(),
                static_cast<long long>(r.series), static_cast<long long>(r.samples),
                Median(select_ms), total,
                r.samples == 0 ? 0.0 : total * 1e6 / static_cast<double>(r.samples));
    results.emplace_back(absl::StrCat("select_", q.key, "_ms"), total);
    results.emplace_back(absl::StrCat("select_", q.key, "_series"), r.series);
  }
  for (const auto& [key, value] : results) PrintResult(key, value);
  (void)(*db)->Close();
  db->reset();
  (void)RemoveAll(o.dir);
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  vigil::bench::InitBenchmarkProcess();
  return vigil::bench::Main(argc, argv);
}
