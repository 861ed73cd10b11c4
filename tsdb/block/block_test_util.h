// Helpers for block tests: random series encoded into XOR chunks, writing
// them as a block, and reading a querier back with errors reported.
#ifndef VIGIL_TSDB_BLOCK_BLOCK_TEST_UTIL_H_
#define VIGIL_TSDB_BLOCK_BLOCK_TEST_UTIL_H_

#include <stdlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/labels.h"
#include "model/value.h"
#include "tsdb/block/writer.h"
#include "tsdb/chunkenc/xor.h"
#include "tsdb/storage.h"

namespace vigil::tsdb::block::testing {

// A two-hour block range used across the block tests.
inline constexpr int64_t kMint = 1600000000000;
inline constexpr int64_t kMaxt = kMint + 2 * 3600 * 1000;

inline std::string TempDir(absl::string_view tag = "block") {
  std::string tmpl = absl::StrCat("/tmp/vigil_", tag, "_test_XXXXXX");
  char* d = mkdtemp(tmpl.data());
  EXPECT_NE(d, nullptr);
  return tmpl;
}

struct TestChunk {
  int64_t mint;
  int64_t maxt;
  std::string bytes;
};

struct TestSeries {
  model::Labels labels;
  std::vector<model::Sample> samples;
  std::vector<TestChunk> chunks;
};

// Cuts `s.samples` into XOR chunks of at most `per_chunk` samples.
inline void EncodeChunks(TestSeries* s, int per_chunk = 120) {
  s->chunks.clear();
  for (size_t i = 0; i < s->samples.size(); i += per_chunk) {
    chunkenc::XorChunk c;
    size_t end = std::min(s->samples.size(), i + per_chunk);
    for (size_t k = i; k < end; ++k) c.Append(s->samples[k].t, s->samples[k].v);
    s->chunks.push_back(
        {s->samples[i].t, s->samples[end - 1].t, std::string(c.Bytes())});
  }
}

// A label value with the characters that need care: quotes, backslashes,
// spaces, non-ASCII. Printable only, so Go's quoting agrees with ours.
inline std::string RandomValue(std::mt19937_64* rng, int cardinality) {
  static const char* const kPieces[] = {"a",  "b", "x1",   " ", "\"",
                                        "\\", "é", "日本", "-", "_"};
  uint64_t id = (*rng)() % cardinality;
  std::string v = absl::StrCat("v", id);
  if (id % 5 == 1) v += kPieces[id % 10];
  if (id % 7 == 2) v += kPieces[(id / 7) % 10];
  return v;
}

// `n` distinct series sorted by labels, with samples in [mint, maxt).
inline std::vector<TestSeries> RandomSeries(int n, int64_t mint, int64_t maxt,
                                            uint64_t seed,
                                            int max_samples = 400) {
  std::mt19937_64 rng(seed);
  std::map<std::string, TestSeries> by_text;
  while (static_cast<int>(by_text.size()) < n) {
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.emplace_back("__name__", absl::StrCat("metric_", rng() % 13));
    pairs.emplace_back("instance", RandomValue(&rng, 500));
    if (rng() % 2) pairs.emplace_back("job", RandomValue(&rng, 4));
    if (rng() % 3 == 0) pairs.emplace_back("env", RandomValue(&rng, 40));
    if (rng() % 11 == 0) pairs.emplace_back("zz_rare", RandomValue(&rng, 2));
    std::vector<std::pair<absl::string_view, absl::string_view>> views(
        pairs.begin(), pairs.end());
    TestSeries s{model::Labels::FromPairs(views), {}, {}};
    int count = 1 + static_cast<int>(rng() % max_samples);
    int64_t step = 1000 + static_cast<int64_t>(rng() % 30000);
    int64_t t =
        mint + static_cast<int64_t>(rng() % static_cast<uint64_t>(maxt - mint));
    double v = static_cast<double>(rng() % 1000);
    for (int i = 0; i < count && t < maxt; ++i) {
      switch (rng() % 20) {
        case 0:
          v = std::nan("");
          break;
        case 1:
          v = model::StaleNaN();
          break;
        case 2:
          v = std::numeric_limits<double>::infinity() * (rng() % 2 ? 1 : -1);
          break;
        case 3:
          v = std::bit_cast<double>(rng() & 0x7fefffffffffffffULL);
          break;
        default:
          v = std::isfinite(v) ? v + static_cast<double>(rng() % 100) / 4 : 1.5;
      }
      s.samples.push_back({t, v});
      t += step + static_cast<int64_t>(rng() % 3) - 1;
    }
    EncodeChunks(&s, 1 + static_cast<int>(rng() % 150));
    by_text.emplace(s.labels.ToString(), std::move(s));
  }
  std::vector<TestSeries> out;
  for (auto& [text, s] : by_text) out.push_back(std::move(s));
  std::sort(out.begin(), out.end(),
            [](const TestSeries& a, const TestSeries& b) {
              return a.labels < b.labels;
            });
  return out;
}

inline std::vector<std::string> SymbolsOf(
    const std::vector<TestSeries>& series) {
  std::set<std::string> set;
  for (const TestSeries& s : series) {
    for (const model::Label& l : s.labels) {
      set.emplace(l.name.view());
      set.emplace(l.value.view());
    }
  }
  return std::vector<std::string>(set.begin(), set.end());
}

// Writes `series` (sorted) as a block under `parent`; refs receives the
// series refs when non-null.
inline absl::StatusOr<BlockMeta> WriteTestBlock(
    const std::string& parent, int64_t mint, int64_t maxt,
    const std::vector<TestSeries>& series,
    const BlockWriterOptions& options = {},
    std::vector<SeriesRef>* refs = nullptr) {
  auto w = BlockWriter::Create(parent, mint, maxt, SymbolsOf(series), options);
  if (!w.ok()) return w.status();
  for (const TestSeries& s : series) {
    std::vector<ChunkData> chunks;
    for (const TestChunk& c : s.chunks)
      chunks.push_back({c.mint, c.maxt, c.bytes});
    absl::StatusOr<SeriesRef> ref = (*w)->AddSeries(s.labels, chunks);
    if (!ref.ok()) return ref.status();
    if (refs != nullptr) refs->push_back(*ref);
  }
  return (*w)->Finish();
}

using SeriesSamples = std::map<std::string, std::vector<model::Sample>>;

// Everything `q` selects, and the first error met (set, iterator).
struct ReadResult {
  SeriesSamples series;
  std::vector<std::string> order;  // Label texts in the order returned.
  absl::Status status;
};

inline ReadResult ReadAll(Querier* q,
                          const std::vector<model::Matcher>& matchers,
                          int64_t mint = std::numeric_limits<int64_t>::min(),
                          int64_t maxt = std::numeric_limits<int64_t>::max()) {
  ReadResult r;
  std::unique_ptr<SeriesSet> set = q->Select(matchers, mint, maxt);
  while (set->Next()) {
    std::string text = set->At().labels().ToString();
    r.order.push_back(text);
    std::vector<model::Sample>& out = r.series[text];
    std::unique_ptr<SampleIterator> it = set->At().Iterator();
    while (it->Next()) out.push_back({it->AtT(), it->AtV()});
    if (!it->Err().ok()) {
      r.status = it->Err();
      return r;
    }
  }
  r.status = set->Err();
  return r;
}

inline bool SameSample(const model::Sample& a, const model::Sample& b) {
  return a.t == b.t &&
         std::bit_cast<uint64_t>(a.v) == std::bit_cast<uint64_t>(b.v);
}

inline bool SameSamples(const std::vector<model::Sample>& a,
                        const std::vector<model::Sample>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), SameSample);
}

// Whether `got` holds exactly the series and samples (bits) of `want`.
inline ::testing::AssertionResult SameSeries(const SeriesSamples& got,
                                             const SeriesSamples& want) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure()
           << got.size() << " series, want " << want.size();
  }
  for (const auto& [labels, samples] : want) {
    auto it = got.find(labels);
    if (it == got.end()) {
      return ::testing::AssertionFailure() << "missing " << labels;
    }
    if (!SameSamples(it->second, samples)) {
      return ::testing::AssertionFailure() << "samples differ for " << labels;
    }
  }
  return ::testing::AssertionSuccess();
}

// The samples of `series` in [mint, maxt], keyed by label text.
inline SeriesSamples Expected(const std::vector<TestSeries>& series,
                              int64_t mint, int64_t maxt) {
  SeriesSamples out;
  for (const TestSeries& s : series) {
    std::vector<model::Sample> in;
    for (const model::Sample& x : s.samples) {
      if (x.t >= mint && x.t <= maxt) in.push_back(x);
    }
    if (!in.empty()) out[s.labels.ToString()] = std::move(in);
  }
  return out;
}

inline model::Matcher M(model::MatchType type, absl::string_view name,
                        absl::string_view value) {
  return *model::Matcher::Create(type, name, value);
}

}  // namespace vigil::tsdb::block::testing

#endif  // VIGIL_TSDB_BLOCK_BLOCK_TEST_UTIL_H_
