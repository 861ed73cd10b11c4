#include "tsdb/wal/record.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "model/value.h"

namespace vigil::tsdb::wal {
namespace {

TEST(RecordTest, SeriesRoundTrip) {
  std::string buf;
  EncodeSeries(7, model::Labels::FromPairs({{"__name__", "up"}, {"job", "x"}}), &buf);
  EncodeSeries(1ULL << 40, model::Labels::FromPairs({{"a", std::string(300, 'v')}}), &buf);
  std::vector<RefSeries> out;
  ASSERT_TRUE(DecodeSeries(buf, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ref, 7u);
  ASSERT_EQ(out[0].labels.size(), 2u);
  EXPECT_EQ(out[0].labels[1].second, "x");
  EXPECT_EQ(out[1].ref, 1ULL << 40);
  EXPECT_EQ(out[1].labels[0].second.size(), 300u);
}

TEST(RecordTest, SamplesRoundTrip) {
  std::vector<RefSample> in = {{5, 1000, 1.5},
                               {3, 900, -2},
                               {1ULL << 50, std::numeric_limits<int64_t>::min(), model::StaleNaN()},
                               {0, std::numeric_limits<int64_t>::max(), INFINITY}};
  std::string buf;
  EncodeSamples(in, &buf);
  std::vector<RefSample> out;
  ASSERT_TRUE(DecodeSamples(buf, &out).ok());
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].ref, in[i].ref);
    EXPECT_EQ(out[i].t, in[i].t);
    EXPECT_EQ(std::bit_cast<uint64_t>(out[i].v), std::bit_cast<uint64_t>(in[i].v));
  }
}

TEST(RecordTest, TombstonesRoundTrip) {
  std::string buf;
  EncodeTombstones({{1, -5, 10}, {2, 0, 0}}, &buf);
  std::vector<RefTombstone> out;
  ASSERT_TRUE(DecodeTombstones(buf, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].mint, -5);
}

TEST(RecordTest, MalformedIsDataLoss) {
  std::string buf;
  EncodeSamples({{1, 2, 3}}, &buf);
  std::vector<RefSample> s;
  EXPECT_EQ(DecodeSamples(buf.substr(0, buf.size() - 1), &s).code(), absl::StatusCode::kDataLoss);
  std::string sb;
  EncodeSeries(1, model::Labels::FromPairs({{"a", "b"}}), &sb);
  std::vector<RefSeries> r;
  EXPECT_EQ(DecodeSeries(sb.substr(0, sb.size() - 1), &r).code(), absl::StatusCode::kDataLoss);
  // A label count far beyond the payload.
  std::string huge = "\x01\xff\xff\xff\xff\x0f";
  EXPECT_EQ(DecodeSeries(huge, &r).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vigil::tsdb::wal
