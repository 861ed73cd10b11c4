#include "tsdb/compact/planner.h"

#include "gtest/gtest.h"

namespace vigil::tsdb::compact {
namespace {

constexpr int64_t kH = 3600 * 1000;

BlockInfo B(const std::string& id, int64_t min_h, int64_t max_h) {
  BlockInfo b;
  b.id = id;
  b.min_time = min_h * kH;
  b.max_time = max_h * kH;
  b.num_series = 100;
  return b;
}

std::vector<int64_t> Ranges() { return ExponentialRanges(2 * kH, 10, 3, 31 * 24 * kH); }

TEST(PlannerTest, ExponentialRanges) {
  EXPECT_EQ(Ranges(), (std::vector<int64_t>{2 * kH, 6 * kH, 18 * kH, 54 * kH, 162 * kH,
                                            486 * kH}));
  // Retention 1d caps the largest block at 10% of it: no compaction level.
  EXPECT_EQ(ExponentialRanges(2 * kH, 10, 3, 24 * kH / 10), (std::vector<int64_t>{2 * kH}));
}

TEST(PlannerTest, FullWindowIsCompacted) {
  EXPECT_EQ(PlanCompaction({B("a", 0, 2), B("b", 2, 4), B("c", 4, 6), B("d", 6, 8)}, Ranges()),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PlannerTest, NewestBlockAndPartialWindowWait) {
  EXPECT_TRUE(PlanCompaction({B("a", 0, 2), B("b", 2, 4), B("c", 4, 6)}, Ranges()).empty());
  EXPECT_TRUE(PlanCompaction({B("a", 0, 2)}, Ranges()).empty());
  EXPECT_TRUE(PlanCompaction({}, Ranges()).empty());
}

TEST(PlannerTest, PassedWindowIsCompactedWithGaps) {
  EXPECT_EQ(PlanCompaction({B("a", 0, 2), B("b", 2, 4), B("c", 8, 10), B("d", 10, 12)}, Ranges()),
            (std::vector<std::string>{"a", "b"}));
}

TEST(PlannerTest, HigherLevelsAfterLowerOnes) {
  // Three 6h blocks fill an 18h window.
  EXPECT_EQ(PlanCompaction({B("a", 0, 6), B("b", 6, 12), B("c", 12, 18), B("d", 18, 20)},
                           Ranges()),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PlannerTest, OverlappingBlocksFirst) {
  EXPECT_EQ(PlanCompaction({B("a", 0, 2), B("b", 1, 3), B("c", 4, 6)}, Ranges()),
            (std::vector<std::string>{"a", "b"}));
  // Transitive overlap.
  EXPECT_EQ(PlanCompaction({B("a", 0, 2), B("b", 1, 5), B("c", 4, 6), B("d", 8, 10)}, Ranges()),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PlannerTest, FailedCompactionIsSkipped) {
  std::vector<BlockInfo> blocks = {B("a", 0, 2), B("b", 2, 4), B("c", 4, 6), B("d", 6, 8)};
  blocks[1].compaction_failed = true;
  EXPECT_TRUE(PlanCompaction(blocks, Ranges()).empty());
}

TEST(PlannerTest, TombstonedBlockRewritten) {
  std::vector<BlockInfo> blocks = {B("a", 0, 54), B("b", 54, 56)};
  EXPECT_TRUE(PlanCompaction(blocks, Ranges()).empty());
  blocks[0].num_tombstones = 10;  // 10 of 100 series.
  EXPECT_EQ(PlanCompaction(blocks, Ranges()), (std::vector<std::string>{"a"}));
}

TEST(PlannerTest, RetentionByTimeAndSize) {
  std::vector<BlockInfo> blocks;
  for (int i = 0; i < 10; ++i) {
    blocks.push_back(B("b" + std::to_string(i), 2 * i, 2 * i + 2));
    blocks.back().bytes = 100;
  }
  // Newest ends at 20h: blocks ending before 10h are past 10h of retention.
  EXPECT_EQ(PlanRetention(blocks, 10 * kH, 0, 0),
            (std::vector<std::string>{"b3", "b2", "b1", "b0"}));
  // 450 bytes with 100 of WAL: three blocks fit.
  EXPECT_EQ(PlanRetention(blocks, 0, 450, 100),
            (std::vector<std::string>{"b6", "b5", "b4", "b3", "b2", "b1", "b0"}));
  EXPECT_TRUE(PlanRetention(blocks, 0, 0, 0).empty());
  // The size rule may take every block.
  EXPECT_EQ(PlanRetention({blocks[0]}, 0, 50, 0).size(), 1u);
}

}  // namespace
}  // namespace vigil::tsdb::compact
