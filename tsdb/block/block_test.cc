#include "tsdb/block/block.h"

#include <filesystem>

#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/block/block_test_util.h"
#include "tsdb/block/series_iterator.h"
#include "tsdb/block/writer.h"

namespace vigil::tsdb::block {
namespace {

using model::MatchType;
using testing::kMaxt;
using testing::kMint;
using testing::M;

class BlockTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::TempDir(); }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  // Writes `series` as a block of [kMint, kMaxt) and opens it.
  std::shared_ptr<Block> WriteAndOpen(
      const std::vector<testing::TestSeries>& series) {
    auto meta = testing::WriteTestBlock(dir_, kMint, kMaxt, series);
    EXPECT_TRUE(meta.ok()) << meta.status();
    if (!meta.ok()) return nullptr;
    auto block = Block::Open(absl::StrCat(dir_, "/", meta->ulid.ToString()));
    EXPECT_TRUE(block.ok()) << block.status();
    return block.ok() ? *block : nullptr;
  }

  std::string dir_;
};

TEST_F(BlockTest, RoundTripEverySample) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(3000, kMint, kMaxt, 1);
  BlockWriterOptions opts;
  opts.segment_size = 256 << 10;  // Several segments.
  auto meta = testing::WriteTestBlock(dir_, kMint, kMaxt, series, opts);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_FALSE(std::filesystem::exists(
      absl::StrCat(dir_, "/", meta->ulid.ToString(), kTmpForCreationSuffix)));
  auto block = Block::Open(absl::StrCat(dir_, "/", meta->ulid.ToString()));
  ASSERT_TRUE(block.ok()) << block.status();
  EXPECT_EQ((*block)->meta(), *meta);
  EXPECT_GT((*block)->chunks().num_segments(), 3u);
  EXPECT_EQ(meta->stats.num_series, 3000u);
  uint64_t samples = 0, chunks = 0;
  for (const auto& s : series) {
    samples += s.samples.size();
    chunks += s.chunks.size();
  }
  EXPECT_EQ(meta->stats.num_samples, samples);
  EXPECT_EQ(meta->stats.num_chunks, chunks);
  EXPECT_EQ(meta->sources, std::vector<Ulid>{meta->ulid});
  ASSERT_TRUE((*block)->Verify().ok()) << (*block)->Verify();

  auto q = (*block)->NewQuerier();
  testing::ReadResult got =
      testing::ReadAll(q.get(), {M(MatchType::kRegexMatch, "__name__", ".+")});
  ASSERT_TRUE(got.status.ok()) << got.status;
  testing::SeriesSamples want = testing::Expected(series, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(testing::SameSeries(got.series, want));
  // Sorted by labels: the order of `series`.
  ASSERT_EQ(got.order.size(), series.size());
  for (size_t i = 0; i < series.size(); ++i)
    EXPECT_EQ(got.order[i], series[i].labels.ToString());
}

TEST_F(BlockTest, MatchersAndRangesAgreeWithBruteForce) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(1500, kMint, kMaxt, 2);
  std::shared_ptr<Block> block = WriteAndOpen(series);
  ASSERT_NE(block, nullptr);
  auto q = block->NewQuerier();
  const std::vector<std::vector<model::Matcher>> cases = {
      {M(MatchType::kEqual, "__name__", "metric_3")},
      {M(MatchType::kEqual, "__name__", "metric_3"),
       M(MatchType::kNotEqual, "job", "v1")},
      {M(MatchType::kRegexMatch, "instance", "v1.*")},
      {M(MatchType::kRegexMatch, "instance", "v10|v11|v12a|v400")},
      {M(MatchType::kRegexNoMatch, "env", "v[0-3].*"),
       M(MatchType::kEqual, "job", "v2")},
      {M(MatchType::kEqual, "env", "")},
      {M(MatchType::kNotEqual, "zz_rare", "")},
      {M(MatchType::kRegexMatch, "instance", ".*é.*")},
      {M(MatchType::kEqual, "instance", "v6\"")},
      {M(MatchType::kEqual, "nonexistent", "x")},
      {M(MatchType::kNotEqual, "nonexistent", "x")},
  };
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {INT64_MIN, INT64_MAX},       {kMint + 600000, kMint + 1800000},
      {kMint + 5000, kMint + 5000}, {kMaxt, INT64_MAX},
      {INT64_MIN, kMint - 1},       {kMaxt - 100000, kMaxt - 1}};
  for (const auto& ms : cases) {
    for (const auto& [mint, maxt] : ranges) {
      testing::SeriesSamples want;
      for (const auto& s : series) {
        bool match = true;
        for (const model::Matcher& m : ms)
          match = match && m.Matches(s.labels.Get(m.name()));
        if (!match) continue;
        testing::SeriesSamples one = testing::Expected({s}, mint, maxt);
        want.insert(one.begin(), one.end());
      }
      testing::ReadResult got = testing::ReadAll(q.get(), ms, mint, maxt);
      ASSERT_TRUE(got.status.ok()) << got.status;
      EXPECT_TRUE(testing::SameSeries(got.series, want))
          << ms[0].ToString() << " [" << mint << ", " << maxt << "]";
    }
  }
  EXPECT_TRUE(testing::ReadAll(q.get(), {}).series.empty());
}

TEST_F(BlockTest, LabelNamesAndValues) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(500, kMint, kMaxt, 3);
  std::shared_ptr<Block> block = WriteAndOpen(series);
  ASSERT_NE(block, nullptr);
  auto q = block->NewQuerier();
  std::set<std::string> names, jobs, jobs_of_metric1;
  for (const auto& s : series) {
    for (const model::Label& l : s.labels) names.emplace(l.name.view());
    if (s.labels.Has("job")) jobs.emplace(s.labels.Get("job"));
    if (s.labels.Has("job") && s.labels.MetricName() == "metric_1") {
      jobs_of_metric1.emplace(s.labels.Get("job"));
    }
  }
  EXPECT_EQ(*q->LabelNames({}),
            std::vector<std::string>(names.begin(), names.end()));
  EXPECT_EQ(*q->LabelValues("job", {}),
            std::vector<std::string>(jobs.begin(), jobs.end()));
  EXPECT_EQ(
      *q->LabelValues("job", {M(MatchType::kEqual, "__name__", "metric_1")}),
      std::vector<std::string>(jobs_of_metric1.begin(), jobs_of_metric1.end()));
  auto rare = q->LabelNames({M(MatchType::kNotEqual, "zz_rare", "")});
  ASSERT_TRUE(rare.ok());
  EXPECT_TRUE(std::find(rare->begin(), rare->end(), "zz_rare") != rare->end());
  EXPECT_TRUE(q->LabelValues("nope", {})->empty());
}

TEST_F(BlockTest, TombstonesHideDeletedSamples) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(200, kMint, kMaxt, 4);
  auto w = BlockWriter::Create(dir_, kMint, kMaxt, testing::SymbolsOf(series));
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(9);
  std::map<std::string, Intervals> deleted;
  for (const auto& s : series) {
    std::vector<ChunkData> chunks;
    for (const auto& c : s.chunks) chunks.push_back({c.mint, c.maxt, c.bytes});
    auto ref = (*w)->AddSeries(s.labels, chunks);
    ASSERT_TRUE(ref.ok());
    switch (rng() % 4) {
      case 0: {  // A random slice.
        int64_t a = kMint + static_cast<int64_t>(rng() % 7200000);
        Interval in{a, a + static_cast<int64_t>(rng() % 3600000)};
        (*w)->AddTombstone(*ref, in);
        AddInterval(&deleted[s.labels.ToString()], in);
        break;
      }
      case 1: {  // Everything.
        Interval in{INT64_MIN, INT64_MAX};
        (*w)->AddTombstone(*ref, in);
        AddInterval(&deleted[s.labels.ToString()], in);
        break;
      }
      default:
        break;
    }
  }
  auto meta = (*w)->Finish();
  ASSERT_TRUE(meta.ok()) << meta.status();
  auto block = Block::Open((*w)->dir());
  ASSERT_TRUE(block.ok()) << block.status();
  EXPECT_EQ((*block)->tombstones().NumIntervals(), meta->stats.num_tombstones);
  EXPECT_TRUE((*block)->Verify().ok()) << (*block)->Verify();
  auto q = (*block)->NewQuerier();
  for (const auto& [mint, maxt] : std::vector<std::pair<int64_t, int64_t>>{
           {INT64_MIN, INT64_MAX}, {kMint + 1000000, kMint + 4000000}}) {
    testing::SeriesSamples want;
    for (const auto& s : series) {
      std::vector<model::Sample> kept;
      const Intervals& del = deleted[s.labels.ToString()];
      for (const model::Sample& x : s.samples) {
        bool gone =
            std::any_of(del.begin(), del.end(),
                        [&](const Interval& in) { return in.Contains(x.t); });
        if (!gone && x.t >= mint && x.t <= maxt) kept.push_back(x);
      }
      if (!kept.empty()) want[s.labels.ToString()] = kept;
    }
    testing::ReadResult got = testing::ReadAll(
        q.get(), {M(MatchType::kRegexMatch, "__name__", ".+")}, mint, maxt);
    ASSERT_TRUE(got.status.ok()) << got.status;
    EXPECT_TRUE(testing::SameSeries(got.series, want));
  }
}

TEST_F(BlockTest, IteratorSeek) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(50, kMint, kMaxt, 5);
  std::shared_ptr<Block> block = WriteAndOpen(series);
  ASSERT_NE(block, nullptr);
  auto q = block->NewQuerier();
  auto set = q->Select({M(MatchType::kRegexMatch, "__name__", ".+")},
                       kMint + 100000, kMaxt);
  size_t i = 0;
  std::mt19937_64 rng(1);
  while (set->Next()) {
    while (series[i].labels != set->At().labels()) ++i;
    const auto& samples = series[i].samples;
    auto it = set->At().Iterator();
    int64_t t = kMint;
    for (int step = 0; step < 20; ++step) {
      t += static_cast<int64_t>(rng() % 600000);
      auto want = std::lower_bound(
          samples.begin(), samples.end(), std::max(t, kMint + 100000),
          [](const model::Sample& s, int64_t v) { return s.t < v; });
      bool ok = it->Seek(t);
      ASSERT_EQ(ok, want != samples.end());
      if (!ok) break;
      EXPECT_EQ(it->AtT(), want->t);
      if (rng() % 2 && it->Next()) {
        ASSERT_NE(want + 1, samples.end());
        EXPECT_EQ(it->AtT(), (want + 1)->t);
        t = it->AtT();
      }
    }
    EXPECT_TRUE(it->Err().ok());
  }
  EXPECT_TRUE(set->Err().ok());
}

TEST_F(BlockTest, QuerierOutlivesOtherHandles) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(10, kMint, kMaxt, 6);
  auto meta = testing::WriteTestBlock(dir_, kMint, kMaxt, series);
  ASSERT_TRUE(meta.ok());
  std::unique_ptr<Querier> q;
  {
    auto block = Block::Open(absl::StrCat(dir_, "/", meta->ulid.ToString()));
    ASSERT_TRUE(block.ok());
    q = (*block)->NewQuerier();
  }
  testing::ReadResult got =
      testing::ReadAll(q.get(), {M(MatchType::kRegexMatch, "__name__", ".+")});
  EXPECT_TRUE(got.status.ok());
  EXPECT_EQ(got.series.size(), 10u);
}

TEST_F(BlockTest, WriterRejectsMisuseAndCleansUp) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(3, kMint, kMaxt, 7);
  auto symbols = testing::SymbolsOf(series);
  auto chunks_of = [](const testing::TestSeries& s) {
    std::vector<ChunkData> out;
    for (const auto& c : s.chunks) out.push_back({c.mint, c.maxt, c.bytes});
    return out;
  };
  {
    auto w = BlockWriter::Create(dir_, kMint, kMaxt, symbols);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->AddSeries(series[1].labels, chunks_of(series[1])).ok());
    EXPECT_EQ(
        (*w)->AddSeries(series[0].labels, chunks_of(series[0])).status().code(),
        absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE((*w)->Finish().ok());
  }
  {
    auto w = BlockWriter::Create(dir_, kMint + 10 * 3600 * 1000,
                                 kMaxt + 10 * 3600 * 1000, symbols);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(
        (*w)->AddSeries(series[0].labels, chunks_of(series[0])).status().code(),
        absl::StatusCode::kInvalidArgument);  // Outside the range.
  }
  {
    auto w = BlockWriter::Create(dir_, kMint, kMaxt, symbols);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->AddSeries(series[0].labels, {}).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(BlockWriter::Create(dir_, kMaxt, kMint, symbols).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing left behind.
  EXPECT_TRUE(ListDir(dir_)->empty());
}

TEST_F(BlockTest, OpenReportsMissingPieces) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(5, kMint, kMaxt, 8);
  auto meta = testing::WriteTestBlock(dir_, kMint, kMaxt, series);
  ASSERT_TRUE(meta.ok());
  std::string dir = absl::StrCat(dir_, "/", meta->ulid.ToString());
  // No tombstones file: no tombstones (older Prometheus blocks).
  ASSERT_EQ(::unlink((dir + "/tombstones").c_str()), 0);
  EXPECT_TRUE(Block::Open(dir).ok());
  ASSERT_EQ(::rename((dir + "/index").c_str(), (dir + "/index.x").c_str()), 0);
  EXPECT_EQ(Block::Open(dir).status().code(), absl::StatusCode::kDataLoss);
  ASSERT_EQ(::rename((dir + "/index.x").c_str(), (dir + "/index").c_str()), 0);
  ASSERT_EQ(::unlink((dir + "/meta.json").c_str()), 0);
  EXPECT_EQ(Block::Open(dir).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BlockTest, EmptyBlock) {
  std::shared_ptr<Block> block = WriteAndOpen({});
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(block->Verify().ok());
  auto q = block->NewQuerier();
  EXPECT_TRUE(testing::ReadAll(q.get(), {M(MatchType::kNotEqual, "a", "b")})
                  .series.empty());
}

}  // namespace
}  // namespace vigil::tsdb::block
