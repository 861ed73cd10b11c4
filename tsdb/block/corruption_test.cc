// Damaged blocks: every flipped byte or cut file must either fail with
// kDataLoss (on open, on select or while iterating) or leave everything a
// query reads unchanged. Samples returned before an error must be right.
#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/block/block.h"
#include "tsdb/block/block_test_util.h"

namespace vigil::tsdb::block {
namespace {

using model::MatchType;
using testing::M;

using testing::kMaxt;
using testing::kMint;

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parent_ = testing::TempDir("corrupt");
    series_ = testing::RandomSeries(40, kMint, kMaxt, 21, 150);
    auto meta = testing::WriteTestBlock(parent_, kMint, kMaxt, series_);
    ASSERT_TRUE(meta.ok()) << meta.status();
    dir_ = absl::StrCat(parent_, "/", meta->ulid.ToString());
    want_ = testing::Expected(series_, INT64_MIN, INT64_MAX);
    for (const auto& s : series_) {
      for (const model::Label& l : s.labels)
        names_.insert(std::string(l.name.view()));
    }
  }
  void TearDown() override { RemoveAll(parent_).IgnoreError(); }

  // Replaces `file` (relative to the block) with `bytes`, checks the block,
  // and restores the file. Returns whether damage was detected.
  bool CheckWith(const std::string& file, const std::string& bytes,
                 const std::string& what) {
    std::string path = absl::StrCat(dir_, "/", file);
    std::string good = *ReadFile(path);
    Overwrite(path, bytes);
    bool detected = CheckBlock(what);
    Overwrite(path, good);
    return detected;
  }

  // No fsync: thousands of variants are written. No block maps the file
  // meanwhile (truncating a mapped file would fault the reader).
  static void Overwrite(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(f.good()) << path;
  }

  // Opens and reads everything: through every label name (so that every
  // postings list is read) and through a negative matcher (all postings).
  bool CheckBlock(const std::string& what) {
    auto block = Block::Open(dir_);
    if (!block.ok()) return ExpectDataLoss(block.status(), what);
    auto q = (*block)->NewQuerier();
    std::vector<std::vector<model::Matcher>> selects = {
        {M(MatchType::kNotEqual, "no_such_label", "x")}};
    for (const std::string& n : names_)
      selects.push_back({M(MatchType::kRegexMatch, n, ".+")});
    for (const auto& ms : selects) {
      testing::ReadResult got = testing::ReadAll(q.get(), ms);
      // Everything returned must be true, even when an error follows.
      for (const auto& [labels, samples] : got.series) {
        auto it = want_.find(labels);
        if (it == want_.end()) {
          ADD_FAILURE() << what << ": returned unknown series " << labels;
          return true;
        }
        bool prefix = samples.size() <= it->second.size() &&
                      std::equal(samples.begin(), samples.end(),
                                 it->second.begin(), testing::SameSample);
        if (!prefix) {
          ADD_FAILURE() << what << ": wrong samples for " << labels;
          return true;
        }
        if (got.status.ok() && samples.size() != it->second.size()) {
          ADD_FAILURE() << what << ": samples missing for " << labels
                        << " without an error";
        }
      }
      if (!got.status.ok()) return ExpectDataLoss(got.status, what);
      if (ms[0].name() == "no_such_label" &&
          got.series.size() != want_.size()) {
        ADD_FAILURE() << what << ": series missing without an error";
      }
    }
    return false;
  }

  static bool ExpectDataLoss(const absl::Status& s, const std::string& what) {
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << what << ": " << s;
    return true;
  }

  std::string parent_, dir_;
  std::vector<testing::TestSeries> series_;
  testing::SeriesSamples want_;
  std::set<std::string> names_;
};

TEST_F(CorruptionTest, IntactBlockReadsBack) {
  EXPECT_FALSE(CheckBlock("intact"));
}

TEST_F(CorruptionTest, FlippedIndexBytes) {
  std::string good = *ReadFile(dir_ + "/index");
  int detected = 0;
  for (size_t pos = 0; pos < good.size(); ++pos) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (pos % 8)));
    detected += CheckWith("index", bad, absl::StrCat("index byte ", pos));
  }
  // Undetected flips are in alignment padding and the label indices,
  // which queries do not read (Block::Verify does).
  EXPECT_GT(detected, static_cast<int>(good.size() * 8 / 10));
}

TEST_F(CorruptionTest, VerifyCatchesLabelIndexDamage) {
  auto block = Block::Open(dir_);
  ASSERT_TRUE(block.ok());
  uint64_t at = (*block)->index().toc().label_offset_table;
  block->reset();
  std::string good = *ReadFile(dir_ + "/index");
  std::string bad = good;
  bad[at + 12] ^= 1;  // Inside the label offset table.
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/index", bad).ok());
  auto damaged = Block::Open(dir_);
  ASSERT_TRUE(damaged.ok());
  EXPECT_EQ((*damaged)->Verify().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CorruptionTest, FlippedChunkBytes) {
  std::string good = *ReadFile(dir_ + "/chunks/000001");
  for (size_t pos = 0; pos < good.size(); pos += 1 + pos % 13) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (pos % 8)));
    bool detected =
        CheckWith("chunks/000001", bad, absl::StrCat("chunk byte ", pos));
    // Only the header's 3 padding bytes are unchecked (as in Prometheus).
    if (pos < 5 || pos >= 8) {
      EXPECT_TRUE(detected) << "chunk byte " << pos;
    }
  }
}

TEST_F(CorruptionTest, FlippedMetaBytes) {
  std::string good = *ReadFile(dir_ + "/meta.json");
  for (size_t pos = 0; pos < good.size(); ++pos) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[pos] = static_cast<char>(bad[pos] ^ (1 << bit));
      // meta.json has no checksum: a changed digit in the stats goes
      // unnoticed, but the data served must stay right.
      CheckWith("meta.json", bad,
                absl::StrCat("meta.json byte ", pos, " bit ", bit));
    }
  }
  // Structure and identity damage is caught.
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_TRUE(CheckWith("meta.json", replace("{", "["), "bracket"));
  std::string ulid = std::filesystem::path(dir_).filename().string();
  std::string other = ulid;
  other[25] = other[25] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(CheckWith("meta.json", replace(ulid, other), "ulid"));
}

TEST_F(CorruptionTest, FlippedTombstoneBytes) {
  std::string good = *ReadFile(dir_ + "/tombstones");
  for (size_t pos = 0; pos < good.size(); ++pos) {
    std::string bad = good;
    bad[pos] ^= 0x01;
    EXPECT_TRUE(
        CheckWith("tombstones", bad, absl::StrCat("tombstones byte ", pos)));
  }
}

TEST_F(CorruptionTest, TruncatedFiles) {
  for (const char* file :
       {"index", "chunks/000001", "meta.json", "tombstones"}) {
    std::string good = *ReadFile(absl::StrCat(dir_, "/", file));
    for (size_t n = 0; n < good.size(); n += 1 + good.size() / 97) {
      EXPECT_TRUE(
          CheckWith(file, good.substr(0, n), absl::StrCat(file, " cut at ", n)))
          << file << " cut at " << n;
    }
  }
}

}  // namespace
}  // namespace vigil::tsdb::block
