#include "tsdb/chunkenc/xor.h"

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "model/value.h"

namespace vigil::tsdb::chunkenc {
namespace {

struct S {
  int64_t t;
  double v;
};

std::vector<S> Decode(absl::string_view bytes) {
  std::vector<S> out;
  XorIterator it(bytes);
  while (it.Next()) out.push_back({it.AtT(), it.AtV()});
  EXPECT_TRUE(it.Err().ok()) << it.Err();
  return out;
}

void ExpectRoundTrip(const std::vector<S>& in) {
  XorChunk c;
  for (const S& s : in) c.Append(s.t, s.v);
  ASSERT_EQ(c.NumSamples(), static_cast<int>(in.size()));
  std::vector<S> out = Decode(c.Bytes());
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].t, in[i].t) << i;
    // Bit-exact: NaN payloads and the sign of zero survive.
    EXPECT_EQ(std::bit_cast<uint64_t>(out[i].v), std::bit_cast<uint64_t>(in[i].v)) << i;
  }
}

// Hand-assembled from the format in docs/chunks.md: (1000,1) (2000,1) (3000,2).
TEST(XorTest, GoldenBytes) {
  XorChunk c;
  c.Append(1000, 1.0);
  c.Append(2000, 1.0);
  c.Append(3000, 2.0);
  const uint8_t want[] = {0x00, 0x03, 0xD0, 0x0F, 0x3F, 0xF0, 0x00, 0x00, 0x00,
                          0x00, 0x00, 0x00, 0xE8, 0x07, 0x30, 0x97, 0xFF, 0xC0};
  ASSERT_EQ(c.Bytes(), absl::string_view(reinterpret_cast<const char*>(want), sizeof(want)));
}

TEST(XorTest, EmptyAndSingle) {
  XorChunk c;
  EXPECT_EQ(c.NumSamples(), 0);
  EXPECT_TRUE(Decode(c.Bytes()).empty());
  ExpectRoundTrip({{-5, -1.5}});
}

TEST(XorTest, SpecialValues) {
  double inf = std::numeric_limits<double>::infinity();
  ExpectRoundTrip({{0, std::nan("")},
                   {15000, model::StaleNaN()},
                   {30000, inf},
                   {45000, -inf},
                   {60000, 0.0},
                   {75000, -0.0},
                   {90000, std::numeric_limits<double>::denorm_min()},
                   {105000, std::numeric_limits<double>::max()},
                   {120000, std::numeric_limits<double>::lowest()},
                   {135000, std::bit_cast<double>(model::kNormalNaNBits)},
                   {150000, -123456.789}});
}

TEST(XorTest, TimestampDeltaBuckets) {
  // Deltas of delta around every bucket edge, both signs, and huge jumps.
  std::vector<int64_t> dods = {0, 1, -1, 8191, 8192, 8193, -8191, -8192,
                               65535, 65536, 65537, -65535, -65536, 524287,
                               524288, 524289, -524287, -524288,
                               int64_t{1} << 40, -(int64_t{1} << 39)};
  std::vector<S> in;
  int64_t t = -(int64_t{1} << 50), delta = 1 << 20;
  in.push_back({t, 1});
  for (size_t i = 0; i < dods.size(); ++i) {
    delta += dods[i];
    t += delta;
    in.push_back({t, static_cast<double>(i)});
  }
  ExpectRoundTrip(in);
}

TEST(XorTest, RandomRoundTrips) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<S> in;
    int64_t t = static_cast<int64_t>(rng() % 2000000000000) - 1000000000000;
    double v = 0;
    int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      t += 1 + static_cast<int64_t>(rng() % (round % 3 == 0 ? 100000 : 30));
      switch (rng() % 5) {
        case 0: v += 1; break;
        case 1: v = std::bit_cast<double>(rng()); break;  // Any bit pattern.
        case 2: v = -v * 0.5; break;
        case 3: break;
        default: v += static_cast<double>(rng() % 1000) / 7.0;
      }
      in.push_back({t, v});
    }
    ExpectRoundTrip(in);
  }
}

TEST(XorTest, Seek) {
  XorChunk c;
  for (int i = 0; i < 100; ++i) c.Append(i * 10, i);
  XorIterator it(c.Bytes());
  ASSERT_TRUE(it.Seek(55));
  EXPECT_EQ(it.AtT(), 60);
  ASSERT_TRUE(it.Seek(20));  // Never goes backwards.
  EXPECT_EQ(it.AtT(), 60);
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.AtT(), 70);
  EXPECT_FALSE(it.Seek(991));
  EXPECT_TRUE(it.Err().ok());
}

TEST(XorTest, TruncatedChunkIsAnError) {
  XorChunk c;
  for (int i = 0; i < 50; ++i) c.Append(i * 15000 + (i % 3), i * 1.5);
  std::string bytes(c.Bytes());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    XorIterator it(absl::string_view(bytes.data(), cut));
    int n = 0;
    while (it.Next()) ++n;
    EXPECT_LT(n, 50);
    EXPECT_FALSE(it.Err().ok()) << "cut at " << cut;
  }
}

TEST(XorTest, UnknownEncoding) {
  auto it = NewIterator(static_cast<Encoding>(7), "");
  EXPECT_FALSE(it->Next());
  EXPECT_EQ(it->Err().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vigil::tsdb::chunkenc
