#include "tsdb/block/tombstones.h"

#include <random>

#include "absl/strings/escaping.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/block/block_test_util.h"

namespace vigil::tsdb::block {
namespace {

TEST(IntervalsTest, AddMergesOverlappingAndAdjacent) {
  Intervals l;
  AddInterval(&l, {10, 20});
  AddInterval(&l, {30, 40});
  EXPECT_EQ(l, (Intervals{{10, 20}, {30, 40}}));
  AddInterval(&l, {21, 25});  // Touches the first.
  EXPECT_EQ(l, (Intervals{{10, 25}, {30, 40}}));
  AddInterval(&l, {0, 5});
  AddInterval(&l, {50, 60});
  EXPECT_EQ(l, (Intervals{{0, 5}, {10, 25}, {30, 40}, {50, 60}}));
  AddInterval(&l, {24, 51});  // Spans three.
  EXPECT_EQ(l, (Intervals{{0, 5}, {10, 60}}));
  AddInterval(&l, {INT64_MIN, INT64_MAX});
  EXPECT_EQ(l, (Intervals{{INT64_MIN, INT64_MAX}}));
  EXPECT_TRUE(Covers(l, 5, 100));
}

TEST(IntervalsTest, AgreesWithBitmap) {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 200; ++round) {
    Intervals l;
    std::vector<bool> bits(200, false);
    for (int i = 0; i < 6; ++i) {
      int64_t a = static_cast<int64_t>(rng() % 190);
      int64_t b = a + static_cast<int64_t>(rng() % 10);
      AddInterval(&l, {a, b});
      for (int64_t t = a; t <= b; ++t) bits[t] = true;
    }
    for (size_t i = 1; i < l.size(); ++i)
      ASSERT_GT(l[i].mint, l[i - 1].maxt + 1);
    for (int64_t t = 0; t < 200; ++t) {
      bool in = std::any_of(l.begin(), l.end(),
                            [&](const Interval& x) { return x.Contains(t); });
      ASSERT_EQ(in, bits[t]) << t;
    }
  }
}

TEST(TombstonesTest, EmptyFileIsPrometheusBytes) {
  EXPECT_EQ(absl::BytesToHexString(EncodeTombstones(Tombstones())),
            "0130ba300100000000");
}

TEST(TombstonesTest, RoundTripAndCorruption) {
  Tombstones t;
  t.Add(1, {-100, 5});
  t.Add(1, {10, 20});
  t.Add(99, {INT64_MIN, INT64_MAX});
  t.Add(1u << 30, {0, 0});
  std::string bytes = EncodeTombstones(t);
  auto back = DecodeTombstones(bytes, "t");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(t.NumIntervals(), 4u);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x10;
    EXPECT_EQ(DecodeTombstones(bad, "t").status().code(),
              absl::StatusCode::kDataLoss)
        << i;
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeTombstones(bytes.substr(0, n), "t").status().code(),
              absl::StatusCode::kDataLoss);
  }
}

TEST(TombstonesTest, FileMissingMeansNone) {
  std::string dir = testing::TempDir("tombstones");
  auto none = ReadTombstones(dir);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  Tombstones t;
  t.Add(7, {1, 2});
  ASSERT_TRUE(WriteTombstones(dir, t).ok());
  EXPECT_EQ(*ReadTombstones(dir), t);
  RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace vigil::tsdb::block
