#include "tsdb/db.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/test_util.h"
#include "tsdb/wal/wal.h"

namespace vigil::tsdb {
namespace {

using model::Labels;

std::string TempDir() {
  char tmpl[] = "/tmp/vigil_db_test_XXXXXX";
  return mkdtemp(tmpl);
}

Labels Series(int i) {
  return Labels::FromPairs({{"__name__", "metric"}, {"i", absl::StrCat(i)}});
}

// Caps file growth at `bytes` for its lifetime: writes past it fail with
// EFBIG, as on a full disk.

class DBTest : public ::testing::Test {
 protected:
  void SetUp() override { opts_.dir = TempDir(); }
  void TearDown() override { (void)RemoveAll(opts_.dir); }

  std::unique_ptr<DB> Open() {
    auto db = DB::Open(opts_);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }

  // Appends samples t = from..to-1 (x1000) for series 0..n-1, one commit per t.
  void Fill(DB* db, int n, int from, int to) {
    auto app = db->Appender();
    for (int t = from; t < to; ++t) {
      for (int i = 0; i < n; ++i) ASSERT_TRUE(app->Append(Series(i), t * 1000, t + i).ok());
      ASSERT_TRUE(app->Commit().ok());
    }
  }

  void ExpectData(DB* db, int n, int from, int to) {
    auto got = SelectAll(db->Querier().get(), {Eq("__name__", "metric")});
    ASSERT_EQ(got.size(), size_t(n));
    for (int i = 0; i < n; ++i) {
      const auto& s = got[Series(i).ToString()];
      ASSERT_EQ(s.size(), size_t(to - from)) << i;
      for (int t = from; t < to; ++t) {
        EXPECT_EQ(s[t - from].t, t * 1000);
        EXPECT_EQ(s[t - from].v, t + i);
      }
    }
  }

  std::string WalDir() { return opts_.dir + "/wal"; }
  std::vector<std::string> Segments() {
    std::vector<std::string> out;
    auto names = ListDir(WalDir());
    EXPECT_TRUE(names.ok()) << names.status();
    for (const auto& n : *names) {
      if (n.size() == 8) out.push_back(WalDir() + "/" + n);
    }
    return out;
  }

  Options opts_;
};

TEST_F(DBTest, ReopenReplaysWal) {
  {
    auto db = Open();
    Fill(db.get(), 20, 0, 300);
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = Open();
  EXPECT_EQ(db->NumSeries(), 20u);
  ExpectData(db.get(), 20, 0, 300);
  // Appending continues after the replayed data, and refs stay unique.
  Fill(db.get(), 21, 300, 310);
  ASSERT_TRUE(db->Close().ok());
  db = Open();
  EXPECT_EQ(db->NumSeries(), 21u);
  auto got = SelectAll(db->Querier().get(), {Eq("i", "20")});
  EXPECT_EQ(got.begin()->second.size(), 10u);
}

TEST_F(DBTest, SecondOpenFailsWithClearMessage) {
  auto db = Open();
  auto second = DB::Open(opts_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use by another process"), std::string::npos)
      << second.status();
}

TEST_F(DBTest, TornTailIsTruncatedAndCounted) {
  {
    auto db = Open();
    Fill(db.get(), 5, 0, 50);
    ASSERT_TRUE(db->Close().ok());
  }
  auto segs = Segments();
  ASSERT_FALSE(segs.empty());
  // Cut the last record in half.
  std::string last = segs.back();
  int64_t size = *FileSize(last);
  ASSERT_EQ(truncate(last.c_str(), size - 7), 0);
  auto db = Open();
  EXPECT_EQ(db->head_stats().wal_corruptions.load(), 1u);
  // The last commit (t=49) is gone; everything before it is intact.
  ExpectData(db.get(), 5, 0, 49);
  // The repaired WAL reads cleanly next time.
  Fill(db.get(), 5, 49, 60);
  ASSERT_TRUE(db->Close().ok());
  db = Open();
  EXPECT_EQ(db->head_stats().wal_corruptions.load(), 0u);
  ExpectData(db.get(), 5, 0, 60);
}

TEST_F(DBTest, MidFileCorruptionKeepsEverythingBefore) {
  opts_.wal_segment_size = 8 << 10;
  {
    auto db = Open();
    Fill(db.get(), 50, 0, 400);
    ASSERT_TRUE(db->Close().ok());
  }
  auto segs = Segments();
  ASSERT_GE(segs.size(), 3u);
  // Flip a byte in the middle of the second segment.
  std::string victim = segs[1];
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(*FileSize(victim) / 2);
    char c;
    f.read(&c, 1);
    f.seekp(*FileSize(victim) / 2);
    c ^= 0x5a;
    f.write(&c, 1);
  }
  auto db = Open();
  EXPECT_EQ(db->head_stats().wal_corruptions.load(), 1u);
  // A prefix of commits survives, whole; nothing after the damage.
  auto got = SelectAll(db->Querier().get(), {Eq("__name__", "metric")});
  ASSERT_EQ(got.size(), 50u);
  size_t kept = got.begin()->second.size();
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, 400u);
  ExpectData(db.get(), 50, 0, static_cast<int>(kept));
  // Later segments were removed.
  EXPECT_FALSE(std::filesystem::exists(segs.back()) &&
               *FileSize(segs.back()) > 0 && segs.back() != Segments().back());
}

TEST_F(DBTest, DiskFullFailsCommitAndHeadStaysConsistent) {
  auto db = Open();
  Fill(db.get(), 10, 0, 10);
  auto app = db->Appender();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(app->Append(Series(i), 10000, 10 + i).ok());
  absl::Status s;
  {
    FileSizeLimit full(*FileSize(Segments().back()));
    s = app->Commit();
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(db->head_stats().commit_failures.load(), 1u);
  ExpectData(db.get(), 10, 0, 10);  // Nothing of the failed batch visible.
  // Retrying later works, and survives a restart.
  Fill(db.get(), 10, 10, 20);
  ASSERT_TRUE(db->Close().ok());
  db = Open();
  ExpectData(db.get(), 10, 0, 20);
}

TEST_F(DBTest, NewSeriesOfFailedCommitIsLoggedByTheNextOne) {
  auto db = Open();
  Fill(db.get(), 1, 0, 1);
  auto app = db->Appender();
  ASSERT_TRUE(app->Append(Series(1), 1000, 1).ok());  // Creates series 1.
  {
    FileSizeLimit full(*FileSize(Segments().back()));
    EXPECT_FALSE(app->Commit().ok());
  }
  // Series 1 exists in the head now but its WAL record failed: the next
  // commit must write it, or replay would lose these samples.
  ASSERT_TRUE(app->Append(Series(1), 2000, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(db->Close().ok());
  db = Open();
  auto got = SelectAll(db->Querier().get(), {Eq("i", "1")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.begin()->second.size(), 1u);
}

TEST_F(DBTest, TruncateCheckpointsWalAndReplayMatches) {
  opts_.wal_segment_size = 8 << 10;
  {
    auto db = Open();
    Fill(db.get(), 20, 0, 600);
    size_t before = Segments().size();
    ASSERT_TRUE(db->TruncateHead(400 * 1000).ok());
    EXPECT_LT(Segments().size(), before);
    EXPECT_EQ(db->head_stats().checkpoints.load(), 1u);
    Fill(db.get(), 20, 600, 620);
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = Open();
  auto got = SelectAll(db->Querier().get(), {Eq("__name__", "metric")}, 400 * 1000, INT64_MAX);
  ASSERT_EQ(got.size(), 20u);
  for (const auto& [l, s] : got) {
    ASSERT_EQ(s.size(), 220u) << l;
    EXPECT_EQ(s.front().t, 400 * 1000);
    EXPECT_EQ(s.back().t, 619 * 1000);
  }
}

// A series removed by truncation and re-created gets a second ref; after a
// restart replay maps that ref onto the first, and a later checkpoint must
// keep both records, or the second ref's samples vanish on the next restart.
TEST_F(DBTest, RecreatedSeriesSurvivesCheckpointAcrossRestarts) {
  opts_.wal_segment_size = 8 << 10;
  Labels x = Labels::FromPairs({{"__name__", "recreated"}});
  {
    auto db = Open();
    auto app = db->Appender();
    ASSERT_TRUE(app->Append(x, 1000, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE(db->TruncateHead(5000).ok());  // x leaves the head.
    ASSERT_EQ(db->NumSeries(), 0u);
    ASSERT_TRUE(app->Append(x, 6000, 6).ok());  // x again, new ref.
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE(db->Close().ok());
  }
  {
    auto db = Open();
    Fill(db.get(), 20, 10, 400);  // Several segments after x's records.
    auto app = db->Appender();
    ASSERT_TRUE(app->Append(x, 7000, 7).ok());
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE(db->TruncateHead(5000).ok());
    ASSERT_GE(db->head_stats().checkpoints.load(), 1u);
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = Open();
  auto got = SelectAll(db->Querier().get(), {Eq("__name__", "recreated")}, 5000, INT64_MAX);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got.begin()->second.size(), 2u);
  EXPECT_EQ(got.begin()->second[0].t, 6000);
  EXPECT_EQ(got.begin()->second[1].t, 7000);
}

TEST_F(DBTest, FsyncAlwaysMode) {
  opts_.wal_fsync = WalFsync::kAlways;
  auto db = Open();
  Fill(db.get(), 3, 0, 20);
  EXPECT_GE(db->wal_stats()->fsyncs.load(), 20u);
  ASSERT_TRUE(db->Close().ok());
  db = Open();
  ExpectData(db.get(), 3, 0, 20);
}

}  // namespace
}  // namespace vigil::tsdb
