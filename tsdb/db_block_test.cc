// The database with blocks: the head cut into blocks, restart, levelled
// compaction, retention, deletion and damaged blocks.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/db.h"
#include "tsdb/test_util.h"

namespace vigil::tsdb {
namespace {

constexpr int64_t kH = 3600 * 1000;
constexpr int64_t kStep = 60 * 1000;
constexpr int kSeries = 20;

using Data = std::map<std::string, std::vector<std::pair<int64_t, double>>>;

double ValueOf(int s, int64_t t) { return s * 1e6 + static_cast<double>(t / kStep); }

class DbBlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/dbblock" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    (void)RemoveAll(dir_);
    opts_.dir = dir_;
    opts_.background_compaction = false;
    opts_.retention_time = 0;
    Open();
  }
  void TearDown() override {
    db_.reset();
    (void)RemoveAll(dir_);
  }
  void Open() {
    db_.reset();
    auto db = DB::Open(opts_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }

  // Appends every series at every step in [from, to).
  void Fill(int64_t from, int64_t to) {
    auto app = db_->Appender();
    for (int64_t t = from; t < to; t += kStep) {
      for (int s = 0; s < kSeries; ++s) {
        auto ls = model::Labels::FromPairs(
            {{"__name__", "m"}, {"s", std::to_string(s)}, {"job", s % 2 ? "a" : "b"}});
        ASSERT_TRUE(app->Append(ls, t, ValueOf(s, t)).ok());
        want_[ls.ToString()].emplace_back(t, ValueOf(s, t));
      }
      if ((t / kStep) % 50 == 0) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  Data Read(int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX) {
    Data got;
    auto q = db_->Querier();
    auto m = model::Matcher::Create(model::MatchType::kEqual, "__name__", "m");
    auto set = q->Select({*m}, mint, maxt);
    while (set->Next()) {
      auto& v = got[set->At().labels().ToString()];
      auto it = set->At().Iterator();
      while (it->Next()) v.emplace_back(it->AtT(), it->AtV());
      EXPECT_TRUE(it->Err().ok()) << it->Err();
    }
    EXPECT_TRUE(set->Err().ok()) << set->Err();
    return got;
  }

  // want_ restricted to [mint, maxt].
  Data Want(int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX) {
    Data out;
    for (const auto& [k, v] : want_) {
      for (const auto& p : v) {
        if (p.first >= mint && p.first <= maxt) out[k].push_back(p);
      }
    }
    return out;
  }

  std::string dir_;
  Options opts_;
  std::unique_ptr<DB> db_;
  Data want_;
};

TEST_F(DbBlockTest, HeadIsCutIntoBlocksAndSurvivesRestart) {
  Fill(0, 5 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  auto blocks = db_->Blocks();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].min_time, 0);
  EXPECT_EQ(blocks[0].max_time, 2 * kH);
  EXPECT_EQ(blocks[0].num_series, static_cast<uint64_t>(kSeries));
  EXPECT_EQ(blocks[0].num_samples, static_cast<uint64_t>(kSeries * 120));
  EXPECT_EQ(db_->MinTime(), 2 * kH);
  EXPECT_EQ(Read(), Want());
  EXPECT_EQ(Read(kH, 3 * kH), Want(kH, 3 * kH));  // Across block and head.

  Open();  // Restart: blocks loaded, only the rest replayed from the WAL.
  EXPECT_EQ(db_->Blocks().size(), 1u);
  EXPECT_EQ(Read(), Want());
  // The block's range is closed to appends.
  auto app = db_->Appender();
  auto late = app->Append(model::Labels::FromPairs({{"__name__", "m"}, {"s", "new"}}), kH, 1);
  EXPECT_EQ(GetAppendError(late.status()), AppendError::kOutOfBounds);
}

TEST_F(DbBlockTest, LevelledCompactionKeepsEverySample) {
  Fill(0, 9 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  EXPECT_EQ(db_->Blocks().size(), 3u);  // [0,2) [2,4) [4,6); head 6h..9h.
  Fill(9 * kH, 13 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  // [0,6) from three 2h blocks, then [6,8) and [8,10).
  auto blocks = db_->Blocks();
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].min_time, 0);
  EXPECT_EQ(blocks[0].max_time, 6 * kH);
  EXPECT_EQ(blocks[0].level, 2);
  EXPECT_EQ(blocks[0].num_samples, static_cast<uint64_t>(kSeries * 360));
  EXPECT_EQ(db_->db_stats().compactions.load(), 1u);
  EXPECT_EQ(Read(), Want());
  Open();
  EXPECT_EQ(Read(), Want());
}

TEST_F(DbBlockTest, CrashBetweenCompactionAndDeleteKeepsOneCopy) {
  Fill(0, 9 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  Fill(9 * kH, 13 * kH);
  // Keep copies of the three 2h blocks that are about to be compacted.
  std::vector<std::string> copies;
  for (const BlockSummary& b : db_->Blocks()) {
    if (b.max_time <= 6 * kH) {
      std::filesystem::copy(b.dir, b.dir + ".copy", std::filesystem::copy_options::recursive);
      copies.push_back(b.dir);
    }
  }
  ASSERT_EQ(copies.size(), 3u);
  ASSERT_TRUE(db_->Compact().ok());
  db_.reset();
  // As if the process died after writing the new block but before deleting
  // its parents: both are on disk.
  for (const std::string& d : copies) std::filesystem::rename(d + ".copy", d);
  Open();
  EXPECT_EQ(db_->Blocks().size(), 3u);
  EXPECT_EQ(Read(), Want());
  for (const std::string& d : copies) EXPECT_FALSE(std::filesystem::exists(d)) << d;
}

TEST_F(DbBlockTest, RetentionByTime) {
  opts_.retention_time = 3 * kH;
  Open();
  Fill(0, 13 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  // Newest block ends at 10h: [0,6) ends more than 3h before it.
  auto blocks = db_->Blocks();
  ASSERT_FALSE(blocks.empty());
  for (const BlockSummary& b : blocks) EXPECT_GE(b.max_time, 7 * kH);
  EXPECT_GE(db_->db_stats().retention_time_deletions.load(), 1u);
  EXPECT_EQ(Read(), Want(blocks.front().min_time, INT64_MAX));
}

TEST_F(DbBlockTest, RetentionBySize) {
  Fill(0, 13 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  auto before = db_->Blocks();
  ASSERT_GE(before.size(), 2u);
  opts_.retention_size = before.back().bytes + 1;  // Room for one block (WAL aside).
  Open();
  ASSERT_TRUE(db_->Compact().ok());
  auto after = db_->Blocks();
  EXPECT_LT(after.size(), before.size());
  EXPECT_GE(db_->db_stats().retention_size_deletions.load(), 1u);
  // What is left is the newest data.
  if (!after.empty()) {
    EXPECT_EQ(after.back().ulid, before.back().ulid);
  }
}

TEST_F(DbBlockTest, DeleteSeriesHidesThenCompactionDrops) {
  Fill(0, 9 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  auto m = model::Matcher::Create(model::MatchType::kEqual, "job", "a");
  ASSERT_TRUE(db_->DeleteSeries({*m}, kH, 3 * kH - 1).ok());
  for (auto& [k, v] : want_) {
    if (k.find("job=\"a\"") == std::string::npos) continue;
    std::erase_if(v, [](const auto& p) { return p.first >= kH && p.first <= 3 * kH - 1; });
  }
  EXPECT_EQ(Read(), Want());
  EXPECT_GT(db_->Blocks()[0].num_tombstones, 0u);
  Open();
  EXPECT_EQ(Read(), Want());
  Fill(9 * kH, 13 * kH);
  ASSERT_TRUE(db_->Compact().ok());  // [0,6) compacted: tombstoned data dropped.
  EXPECT_EQ(db_->Blocks()[0].num_tombstones, 0u);
  EXPECT_EQ(db_->Blocks()[0].num_samples, static_cast<uint64_t>(kSeries * 360 - 10 * 120));
  EXPECT_EQ(Read(), Want());
}

// Deletes job="a" samples in [from, to] from want_.
void EraseJobA(Data* want, int64_t from, int64_t to) {
  for (auto& [k, v] : *want) {
    if (k.find("job=\"a\"") == std::string::npos) continue;
    std::erase_if(v, [&](const auto& p) { return p.first >= from && p.first <= to; });
  }
}

TEST_F(DbBlockTest, DeleteSeriesInTheHeadSurvivesRestartCheckpointAndCut) {
  Fill(0, 9 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  ASSERT_FALSE(db_->Blocks().empty());
  ASSERT_LT(db_->MinTime(), 7 * kH);
  auto m = model::Matcher::Create(model::MatchType::kEqual, "job", "a");
  // Across the newest block and the head, ending inside a head chunk.
  const int64_t from = db_->MinTime() - kH, to = 7 * kH + 30 * kStep + 1;
  ASSERT_TRUE(db_->DeleteSeries({*m}, from, to).ok());
  EraseJobA(&want_, from, to);
  EXPECT_EQ(Read(), Want());
  // Past the newest sample: what is appended afterwards stays.
  ASSERT_TRUE(db_->DeleteSeries({*m}, 8 * kH + 17 * kStep, 20 * kH).ok());
  EraseJobA(&want_, 8 * kH + 17 * kStep, 20 * kH);
  Fill(9 * kH, 10 * kH);
  EXPECT_EQ(Read(), Want());

  Open();  // Replay applies the tombstone records.
  EXPECT_EQ(Read(), Want());
  // Cut the deleted range into blocks and checkpoint the WAL, then replay
  // from the checkpoint.
  Fill(10 * kH, 14 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  EXPECT_EQ(Read(), Want());
  Open();
  EXPECT_EQ(Read(), Want());
  uint64_t samples = 0;
  for (const auto& b : db_->Blocks()) samples += b.num_samples;
  uint64_t in_blocks = 0;
  for (const auto& [k, v] : Want(INT64_MIN, db_->Blocks().back().max_time - 1)) {
    in_blocks += v.size();
  }
  EXPECT_EQ(samples, in_blocks) << "blocks cut after the deletion hold only what is left";
}

TEST_F(DbBlockTest, DamagedBlockIsSkippedAndLeftoversCleaned) {
  Fill(0, 9 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  auto blocks = db_->Blocks();
  ASSERT_EQ(blocks.size(), 3u);
  db_.reset();
  // Flip a byte in the middle block's index TOC (the file's last bytes).
  std::string index = blocks[1].dir + "/index";
  {
    std::fstream f(index, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-20, std::ios::end);
    char c;
    f.get(c);
    f.seekp(-20, std::ios::end);
    f.put(static_cast<char>(c ^ 0x40));
  }
  // Leftovers of an interrupted write and of a block without meta.json.
  ASSERT_TRUE(CreateDirs(dir_ + "/01HZZZZZZZZZZZZZZZZZZZZZZZ.tmp-for-creation").ok());
  ASSERT_TRUE(CreateDirs(dir_ + "/01HZZZZZZZZZZZZZZZZZZZZZZY").ok());
  Open();
  EXPECT_EQ(db_->db_stats().blocks_corrupt.load(), 1u);
  EXPECT_EQ(db_->Blocks().size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/01HZZZZZZZZZZZZZZZZZZZZZZZ.tmp-for-creation"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/01HZZZZZZZZZZZZZZZZZZZZZZY"));
  // The other blocks and the head still serve their data; the damaged
  // range is missing, never wrong.
  Data got = Read();
  Data want_outside = Want();
  for (auto& [k, v] : want_outside) {
    std::erase_if(v, [](const auto& p) { return p.first >= 2 * kH && p.first < 4 * kH; });
  }
  EXPECT_EQ(got, want_outside);
}

TEST_F(DbBlockTest, DiskFullDuringBlockWriteKeepsTheHeadAndRetries) {
  opts_.enable_wal = false;  // Only the block files hit the limit.
  Open();
  Fill(0, 5 * kH);
  {
    FileSizeLimit full(2048);
    absl::Status s = db_->Compact();
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(db_->db_stats().head_compactions.load(), 0u);
  }
  EXPECT_TRUE(db_->Blocks().empty());
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().string().find(".tmp-for-creation"), std::string::npos) << e.path();
  }
  EXPECT_EQ(Read(), Want());  // The head still has everything.
  ASSERT_TRUE(db_->Compact().ok());  // Retried once there is room.
  EXPECT_EQ(db_->Blocks().size(), 1u);
  EXPECT_EQ(Read(), Want());
}

TEST_F(DbBlockTest, SnapshotIsAConsistentCopy) {
  Fill(0, 5 * kH);
  ASSERT_TRUE(db_->Compact().ok());
  std::string snap = dir_ + "_snapshot";
  (void)RemoveAll(snap);
  ASSERT_TRUE(db_->Snapshot(snap).ok());
  db_.reset();
  Options so;
  so.dir = snap;
  so.background_compaction = false;
  so.retention_time = 0;
  auto copy = DB::Open(so);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->Blocks().size(), 2u);  // The block and the head's data.
  db_ = std::move(*copy);
  EXPECT_EQ(Read(), Want());
  db_.reset();
  (void)RemoveAll(snap);
}

}  // namespace
}  // namespace vigil::tsdb
