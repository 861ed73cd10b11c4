// Raw samples as plain data, for tests that compare what two stores hold
// (Vigil and Prometheus, Vigil and what a test wrote): series keyed by
// their sorted labels, samples in time order, values compared bit for bit
// (any NaN equals any NaN, as Prometheus's JSON prints every NaN alike).
#ifndef VIGIL_TESTS_SAMPLE_DATASET_H_
#define VIGIL_TESTS_SAMPLE_DATASET_H_

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/value.h"
#include "tsdb/db.h"

namespace vigil::testing {

using SeriesKey = std::vector<std::pair<std::string, std::string>>;  // Sorted.
struct Point {
  int64_t t;
  double v;
};
using Dataset = std::map<SeriesKey, std::vector<Point>>;

// Labels from (name, value) pairs in any order.
inline model::Labels LabelsOf(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<std::pair<absl::string_view, absl::string_view>> views(pairs.begin(), pairs.end());
  return model::Labels::FromPairs(views);
}

inline SeriesKey KeyOf(const model::Labels& labels) {
  SeriesKey key;
  for (const model::Label& l : labels) {
    key.emplace_back(std::string(l.name.view()), std::string(l.value.view()));
  }
  return key;
}

inline std::string KeyString(const SeriesKey& key) {
  return absl::StrCat("{",
                      absl::StrJoin(key, ", ",
                                    [](std::string* out, const auto& kv) {
                                      absl::StrAppend(out, kv.first, "=\"", kv.second, "\"");
                                    }),
                      "}");
}

// "t@v", v in its shortest round-trip form (as Prometheus prints it).
inline std::string PointString(const Point& p) {
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), p.v);
  return absl::StrCat(p.t, "@", absl::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

// Same value: identical bits, or both NaN.
inline bool SameValue(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

inline size_t CountSamples(const Dataset& data) {
  size_t n = 0;
  for (const auto& [key, points] : data) n += points.size();
  return n;
}

// `data` restricted to samples with mint <= t <= maxt (series left empty
// are dropped), optionally without stale markers: what a Prometheus range
// selector over that window returns.
inline Dataset Window(const Dataset& data, int64_t mint, int64_t maxt, bool drop_stale) {
  Dataset out;
  for (const auto& [key, points] : data) {
    std::vector<Point> kept;
    for (const Point& p : points) {
      if (p.t < mint || p.t > maxt) continue;
      if (drop_stale && model::IsStaleNaN(p.v)) continue;
      kept.push_back(p);
    }
    if (!kept.empty()) out[key] = std::move(kept);
  }
  return out;
}

// An empty string when `want` and `got` are the same; otherwise counts and
// the first differences, naming the sides `want_name` and `got_name`.
inline std::string Diff(const Dataset& want, const Dataset& got,
                        absl::string_view want_name = "Prometheus",
                        absl::string_view got_name = "Vigil") {
  constexpr int kMaxShown = 10;
  std::vector<std::string> shown;
  int only_want = 0, only_got = 0, differ = 0;
  auto show = [&](std::string line) {
    if (static_cast<int>(shown.size()) < kMaxShown) shown.push_back(std::move(line));
  };
  for (const auto& [key, points] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      ++only_want;
      show(absl::StrCat("only in ", want_name, ": ", KeyString(key), " (", points.size(),
                        " samples)"));
      continue;
    }
    const std::vector<Point>& other = it->second;
    size_t i = 0;
    while (i < points.size() && i < other.size() && points[i].t == other[i].t &&
           SameValue(points[i].v, other[i].v)) {
      ++i;
    }
    if (i == points.size() && i == other.size()) continue;
    ++differ;
    show(absl::StrCat(KeyString(key), ": ", points.size(), " samples in ", want_name, ", ",
                      other.size(), " in ", got_name, "; first difference at #", i, ": ", want_name,
                      " ", i < points.size() ? PointString(points[i]) : "(none)", ", ", got_name,
                      " ", i < other.size() ? PointString(other[i]) : "(none)"));
  }
  for (const auto& [key, points] : got) {
    if (want.count(key) != 0) continue;
    ++only_got;
    show(
        absl::StrCat("only in ", got_name, ": ", KeyString(key), " (", points.size(), " samples)"));
  }
  if (only_want == 0 && only_got == 0 && differ == 0) return "";
  return absl::StrCat(want.size(), " series in ", want_name, ", ", got.size(), " in ", got_name,
                      "; ", only_want, " only in ", want_name, ", ", only_got, " only in ",
                      got_name, ", ", differ, " with different samples. First differences:\n  ",
                      absl::StrJoin(shown, "\n  "));
}

// Every series `querier` holds with samples in [mint, maxt]; stale markers
// left out when `drop_stale` (as Prometheus's query API does).
inline absl::StatusOr<Dataset> ReadQuerier(tsdb::Querier* querier, int64_t mint, int64_t maxt,
                                           bool drop_stale) {
  absl::StatusOr<model::Matcher> all =
      model::Matcher::Create(model::MatchType::kRegexMatch, model::kMetricName, ".+");
  if (!all.ok()) return all.status();
  std::unique_ptr<tsdb::SeriesSet> set = querier->Select({*all}, mint, maxt);
  Dataset data;
  while (set->Next()) {
    const tsdb::Series& series = set->At();
    std::vector<Point> points;
    std::unique_ptr<tsdb::SampleIterator> it = series.Iterator();
    while (it->Next()) {
      if (it->AtT() < mint || it->AtT() > maxt) continue;
      if (drop_stale && model::IsStaleNaN(it->AtV())) continue;
      points.push_back({it->AtT(), it->AtV()});
    }
    if (!it->Err().ok()) return it->Err();
    if (points.empty()) continue;
    data[KeyOf(series.labels())] = std::move(points);
  }
  if (!set->Err().ok()) return set->Err();
  return data;
}

// Options for a database that a test drives: compaction only when asked
// (Compact(), CompactHead()), nothing deleted for age.
inline tsdb::Options ManualOptions(const std::string& dir) {
  tsdb::Options options;
  options.dir = dir;
  options.background_compaction = false;
  options.retention_time = 0;
  return options;
}

// Opens the Vigil database in `dir` with ManualOptions (so that nothing
// changes while it is read) and reads it as ReadQuerier does.
inline absl::StatusOr<Dataset> ReadVigil(const std::string& dir, int64_t mint, int64_t maxt,
                                         bool drop_stale = true) {
  absl::StatusOr<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(ManualOptions(dir));
  if (!db.ok()) return db.status();
  absl::StatusOr<Dataset> data;
  {
    std::unique_ptr<tsdb::Querier> querier = (*db)->Querier();
    data = ReadQuerier(querier.get(), mint, maxt, drop_stale);
  }
  if (absl::Status s = (*db)->Close(); !s.ok()) return s;
  return data;
}

}  // namespace vigil::testing

#endif  // VIGIL_TESTS_SAMPLE_DATASET_H_
