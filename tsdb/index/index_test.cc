#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/index/reader.h"
#include "tsdb/index/writer.h"

namespace vigil::tsdb::index {
namespace {

using model::Labels;

// The index of a block that promtool 2.42 created from three series
// (bar_total{z="q"}, foo{a="1",b="x"}, foo{a="2"}); its symbol table also
// holds "" because Prometheus's head lists it.
constexpr char kPromtoolIndexHex[] =
    "baaad700020000002a0000000b0001310132085f5f6e616d655f5f01610162096261725f74"
    "6f"
    "74616c03666f6f01710178017acecf1ab70000000000000000000e0203060a0801f483f4f6"
    "90"
    "5d0008ebe80669000000000000000000000000001103030704010509018080f4f6905d9875"
    "1f"
    "c0a46fbb000000000000000000000e0203070402018080f4f6905d003bf7f09cda00000000"
    "10"
    "00000001000000020000000600000007db9e7ded0000001000000001000000020000000100"
    "00"
    "0002461967b50000000c0000000100000001000000099ffdd7750000000c00000001000000"
    "01"
    "000000086d9654760000001000000003000000040000000600000008d77729510000000800"
    "00"
    "00010000000473a34a390000000c000000020000000600000008dc4f561b00000008000000"
    "01"
    "0000000692983ace0000000800000001000000083ee085e900000008000000010000000692"
    "98"
    "3ace00000008000000010000000473a34a390000001f0000000401085f5f6e616d655f5f94"
    "01"
    "010161ac01010162c40101017ad801f11e85fb0000004b00000007020000ec0102085f5f6e"
    "61"
    "6d655f5f096261725f746f74616c840202085f5f6e616d655f5f03666f6f94020201610131"
    "a8"
    "020201610132b8020201620178c80202017a0171d8026c6b96680000000000000005000000"
    "00"
    "000000370000000000000093000000000000016800000000000000ec000000000000018f42"
    "62"
    "9b21";

std::string TempDir() {
  char tmpl[] = "/tmp/vigil_index_test_XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d;
}

struct TestSeries {
  Labels labels;
  std::vector<ChunkMeta> chunks;
};

std::vector<std::string> SymbolsOf(const std::vector<TestSeries>& series) {
  std::vector<std::string> out;
  for (const TestSeries& s : series) {
    for (const model::Label& l : s.labels) {
      out.emplace_back(l.name.view());
      out.emplace_back(l.value.view());
    }
  }
  return out;
}

// Writes `series` (sorted here) to `path`; returns the refs.
std::vector<SeriesRef> WriteIndex(const std::string& path,
                                  std::vector<TestSeries>* series,
                                  std::vector<std::string> extra_symbols = {}) {
  std::sort(series->begin(), series->end(),
            [](const TestSeries& a, const TestSeries& b) {
              return a.labels < b.labels;
            });
  std::vector<std::string> symbols = SymbolsOf(*series);
  symbols.insert(symbols.end(), extra_symbols.begin(), extra_symbols.end());
  auto w = IndexWriter::Create(path, symbols);
  EXPECT_TRUE(w.ok()) << w.status();
  std::vector<SeriesRef> refs;
  for (const TestSeries& s : *series) {
    auto ref = (*w)->AddSeries(s.labels, s.chunks);
    EXPECT_TRUE(ref.ok()) << ref.status();
    refs.push_back(*ref);
  }
  EXPECT_TRUE((*w)->Finish().ok());
  return refs;
}

TEST(IndexWriterTest, ByteIdenticalToPromtool) {
  std::vector<TestSeries> series = {
      {Labels::FromPairs({{"__name__", "bar_total"}, {"z", "q"}}),
       {{8, 1600000000250, 1600000000250}}},
      {Labels::FromPairs({{"__name__", "foo"}, {"a", "1"}, {"b", "x"}}),
       {{31, 1600000000000, 1600000015000}}},
      {Labels::FromPairs({{"__name__", "foo"}, {"a", "2"}}),
       {{59, 1600000000000, 1600000000000}}},
  };
  std::string dir = TempDir();
  WriteIndex(dir + "/index", &series, {""});
  auto got = ReadFile(dir + "/index");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(absl::BytesToHexString(*got), kPromtoolIndexHex);
  RemoveAll(dir).IgnoreError();
}

TEST(IndexReaderTest, ReadsPromtoolIndex) {
  std::string bytes = absl::HexStringToBytes(kPromtoolIndexHex);
  auto r = IndexReader::FromBytes(bytes, "promtool");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->LabelNames(),
            (std::vector<std::string>{"__name__", "a", "b", "z"}));
  EXPECT_EQ(*(*r)->LabelValues("__name__"),
            (std::vector<std::string>{"bar_total", "foo"}));
  EXPECT_EQ(*(*r)->Get("__name__", "foo"), (Postings{6, 8}));
  EXPECT_EQ(*(*r)->All(), (Postings{4, 6, 8}));
  Labels labels;
  std::vector<ChunkMeta> chunks;
  ASSERT_TRUE((*r)->Series(6, &labels, &chunks).ok());
  EXPECT_EQ(labels.ToString(), R"({__name__="foo", a="1", b="x"})");
  EXPECT_EQ(chunks,
            (std::vector<ChunkMeta>{{31, 1600000000000, 1600000015000}}));
  EXPECT_TRUE((*r)->Verify().ok()) << (*r)->Verify();
}

// Random series: a few names, label values drawn from pools of different
// sizes so that some postings lists are long and some names have more
// than 32 values (exercising the sampled offset table).
std::vector<TestSeries> RandomSeries(int n, std::mt19937_64* rng) {
  std::map<std::string, TestSeries> by_text;
  while (static_cast<int>(by_text.size()) < n) {
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.emplace_back("__name__", absl::StrCat("metric_", (*rng)() % 7));
    pairs.emplace_back("instance", absl::StrCat("host-", (*rng)() % 300));
    if ((*rng)() % 2)
      pairs.emplace_back("job", absl::StrCat("job", (*rng)() % 3));
    if ((*rng)() % 5 == 0)
      pairs.emplace_back("zone", (*rng)() % 2 ? "a\\\"b" : "é ü");
    std::vector<std::pair<absl::string_view, absl::string_view>> views(
        pairs.begin(), pairs.end());
    TestSeries s{Labels::FromPairs(views), {}};
    int64_t t = static_cast<int64_t>((*rng)() % 1000) - 500;
    for (int c = (*rng)() % 4; c >= 0; --c) {
      int64_t mint = t + static_cast<int64_t>((*rng)() % 3);
      int64_t maxt = mint + static_cast<int64_t>((*rng)() % 100000);
      s.chunks.push_back({(*rng)() % (uint64_t{1} << 36), mint, maxt});
      t = maxt;
    }
    by_text.emplace(s.labels.ToString(), std::move(s));
  }
  std::vector<TestSeries> out;
  for (auto& [text, s] : by_text) out.push_back(std::move(s));
  return out;
}

TEST(IndexTest, RoundTripAndLookups) {
  std::mt19937_64 rng(7);
  std::vector<TestSeries> series = RandomSeries(3000, &rng);
  std::string dir = TempDir();
  std::vector<SeriesRef> refs = WriteIndex(dir + "/index", &series);
  auto r = IndexReader::Open(dir + "/index");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE((*r)->Verify().ok()) << (*r)->Verify();
  EXPECT_EQ(*(*r)->All(), Postings(refs.begin(), refs.end()));

  std::map<std::pair<std::string, std::string>, Postings> want;
  std::set<std::string> names;
  for (size_t i = 0; i < series.size(); ++i) {
    Labels labels;
    std::vector<ChunkMeta> chunks;
    ASSERT_TRUE((*r)->Series(refs[i], &labels, &chunks).ok());
    EXPECT_EQ(labels, series[i].labels);
    EXPECT_EQ(chunks, series[i].chunks);
    for (const model::Label& l : series[i].labels) {
      want[{std::string(l.name.view()), std::string(l.value.view())}].push_back(
          refs[i]);
      names.insert(std::string(l.name.view()));
    }
  }
  EXPECT_EQ((*r)->LabelNames(),
            std::vector<std::string>(names.begin(), names.end()));
  for (const auto& [pair, postings] : want) {
    EXPECT_EQ(*(*r)->Get(pair.first, pair.second), postings)
        << pair.first << "=" << pair.second;
  }
  EXPECT_TRUE((*r)->Get("instance", "host-").value().empty());
  EXPECT_TRUE((*r)->Get("instance", "host-999").value().empty());
  EXPECT_TRUE((*r)->Get("instance", "zzz").value().empty());
  EXPECT_TRUE((*r)->Get("nope", "x").value().empty());
  auto values = (*r)->LabelValues("instance");
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->size(), 300u);
  EXPECT_TRUE(std::is_sorted(values->begin(), values->end()));
  // A prefix scan (which starts from a sampled entry) finds what a full
  // scan filtered by the prefix finds, whatever the prefix's position.
  for (const std::string& prefix : std::vector<std::string>{
           "h", "host-", "host-1", "host-12", "host-299", "host-3", "host-99", "a", "zzz",
           "host-1\xff", *values->begin(), values->back(), (*values)[31], (*values)[32],
           (*values)[33], (*values)[64]}) {
    auto starts = [&](absl::string_view v) { return absl::StartsWith(v, prefix); };
    auto full = (*r)->ForValues("instance", starts);
    auto ranged = (*r)->ForValuesWithPrefix("instance", prefix,
                                            [](absl::string_view) { return true; });
    ASSERT_TRUE(full.ok() && ranged.ok());
    EXPECT_EQ(*ranged, *full) << prefix;
  }
  EXPECT_TRUE((*r)->ForValuesWithPrefix("nope", "x", [](absl::string_view) { return true; })
                  ->empty());
  RemoveAll(dir).IgnoreError();
}

TEST(IndexTest, EmptyIndex) {
  std::string dir = TempDir();
  std::vector<TestSeries> none;
  WriteIndex(dir + "/index", &none);
  auto r = IndexReader::Open(dir + "/index");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->All()->empty());
  EXPECT_TRUE((*r)->LabelNames().empty());
  EXPECT_TRUE((*r)->Verify().ok());
  RemoveAll(dir).IgnoreError();
}

TEST(IndexWriterTest, RejectsMisuse) {
  std::string dir = TempDir();
  auto w = IndexWriter::Create(dir + "/index", {"a", "b", "c"});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(
      (*w)->AddSeries(Labels::FromPairs({{"a", "b"}}), {{8, 0, 10}}).ok());
  EXPECT_EQ(
      (*w)->AddSeries(Labels::FromPairs({{"a", "a"}}), {}).status().code(),
      absl::StatusCode::kInvalidArgument);  // Out of order.
  auto w2 = IndexWriter::Create(dir + "/index2", {"a", "b"});
  EXPECT_EQ(
      (*w2)->AddSeries(Labels::FromPairs({{"a", "zz"}}), {}).status().code(),
      absl::StatusCode::kInvalidArgument);  // Not a symbol.
  auto w3 = IndexWriter::Create(dir + "/index3", {"a", "b"});
  EXPECT_EQ((*w3)
                ->AddSeries(Labels::FromPairs({{"a", "b"}}),
                            {{8, 10, 20}, {9, 15, 30}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // Overlapping chunks.
  RemoveAll(dir).IgnoreError();
}

TEST(IndexReaderTest, EveryFlippedByteIsDetectedOrHarmless) {
  std::mt19937_64 rng(11);
  std::vector<TestSeries> series = RandomSeries(40, &rng);
  std::string dir = TempDir();
  std::vector<SeriesRef> refs = WriteIndex(dir + "/index", &series);
  std::string good = *ReadFile(dir + "/index");
  int detected = 0, harmless = 0;
  for (size_t pos = 0; pos < good.size(); ++pos) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (pos % 8)));
    auto r = IndexReader::FromBytes(bad, "flipped");
    absl::Status s = r.status();
    // Read everything a query can reach; a flip must fail with DataLoss
    // or change nothing that is read.
    bool same = s.ok();
    if (s.ok()) s = (*r)->Verify();
    if (s.ok()) {
      same = *(*r)->All() == Postings(refs.begin(), refs.end());
      for (size_t i = 0; same && i < series.size(); ++i) {
        Labels labels;
        std::vector<ChunkMeta> chunks;
        s = (*r)->Series(refs[i], &labels, &chunks);
        same =
            s.ok() && labels == series[i].labels && chunks == series[i].chunks;
      }
    }
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss)
          << "byte " << pos << ": " << s;
      EXPECT_NE(s.message().find("flipped"), absl::string_view::npos) << s;
      ++detected;
    } else {
      EXPECT_TRUE(same) << "byte " << pos << " flipped and not detected";
      ++harmless;
    }
  }
  // Only alignment padding is outside the checksums.
  EXPECT_GT(detected, static_cast<int>(good.size() * 9 / 10));
  RemoveAll(dir).IgnoreError();
}

TEST(IndexReaderTest, TruncationIsDataLoss) {
  std::mt19937_64 rng(3);
  std::vector<TestSeries> series = RandomSeries(20, &rng);
  std::string dir = TempDir();
  WriteIndex(dir + "/index", &series);
  std::string good = *ReadFile(dir + "/index");
  for (size_t n = 0; n < good.size(); n += 7) {
    auto r =
        IndexReader::FromBytes(absl::string_view(good).substr(0, n), "cut");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << n;
  }
  RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace vigil::tsdb::index
