#include "tsdb/block/chunks.h"

#include <filesystem>
#include <random>

#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/block/block_test_util.h"

namespace vigil::tsdb::block {
namespace {

class ChunksTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::TempDir("chunks"); }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  // Writes `n` random chunks; returns (ref, bytes) pairs.
  std::vector<std::pair<uint64_t, std::string>> WriteChunks(
      int n, uint64_t segment_size) {
    auto w = ChunkWriter::Create(dir_ + "/chunks", segment_size);
    EXPECT_TRUE(w.ok());
    std::mt19937_64 rng(n);
    std::vector<std::pair<uint64_t, std::string>> out;
    for (int i = 0; i < n; ++i) {
      std::string data(1 + rng() % 300, '\0');
      for (char& c : data) c = static_cast<char>(rng());
      auto ref = (*w)->Write(chunkenc::Encoding::kXOR, data);
      EXPECT_TRUE(ref.ok());
      out.emplace_back(*ref, data);
    }
    EXPECT_TRUE((*w)->Finish().ok());
    return out;
  }

  std::string dir_;
};

TEST_F(ChunksTest, FirstChunkFollowsTheHeader) {
  auto chunks = WriteChunks(1, kDefaultSegmentSize);
  EXPECT_EQ(chunks[0].first, 8u);
  auto file = ReadFile(dir_ + "/chunks/000001");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->substr(0, 8),
            std::string("\x85\xbd\x40\xdd\x01\x00\x00\x00", 8));
}

TEST_F(ChunksTest, RoundTripAcrossSegments) {
  auto chunks = WriteChunks(2000, 64 << 10);
  auto r = ChunkReader::Open(dir_ + "/chunks");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT((*r)->num_segments(), 3u);
  for (const auto& [ref, data] : chunks) {
    auto c = (*r)->Read(ref);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->encoding, chunkenc::Encoding::kXOR);
    EXPECT_EQ(c->data, data);
  }
  size_t walked = 0;
  for (size_t s = 0; s < (*r)->num_segments(); ++s) {
    ASSERT_TRUE((*r)->ForEach(s,
                              [&](uint64_t ref, const Chunk& c) {
                                EXPECT_EQ(ref, chunks[walked].first);
                                EXPECT_EQ(c.data, chunks[walked].second);
                                ++walked;
                              })
                    .ok());
  }
  EXPECT_EQ(walked, chunks.size());
  for (size_t s = 0; s < (*r)->num_segments(); ++s) {
    EXPECT_LE(*FileSize(dir_ + "/chunks/" + SegmentName(s)), 64 << 10);
  }
}

TEST_F(ChunksTest, BadReferencesAreDataLoss) {
  auto chunks = WriteChunks(10, kDefaultSegmentSize);
  auto r = ChunkReader::Open(dir_ + "/chunks");
  ASSERT_TRUE(r.ok());
  for (uint64_t ref : {uint64_t{0}, uint64_t{7}, chunks[0].first + 1,
                       uint64_t{1} << 32, uint64_t{100000}}) {
    auto c = (*r)->Read(ref);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << ref;
  }
}

TEST_F(ChunksTest, MissingSegmentAndBadHeader) {
  WriteChunks(300, 4 << 10);
  ASSERT_EQ(::unlink((dir_ + "/chunks/000002").c_str()), 0);
  EXPECT_EQ(ChunkReader::Open(dir_ + "/chunks").status().code(),
            absl::StatusCode::kDataLoss);
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/chunks/000002", "\x85\xbd\x40\xdd\x02\0\0\0")
          .ok());
  EXPECT_EQ(ChunkReader::Open(dir_ + "/chunks").status().code(),
            absl::StatusCode::kDataLoss);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/chunks/000002", "\x85\xbd").ok());
  EXPECT_EQ(ChunkReader::Open(dir_ + "/chunks").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vigil::tsdb::block
