// JSON number formatting of the query API: Prometheus's (Go's strconv)
// output for sample values and timestamps.
#include <cmath>
#include <limits>

#include "api/query_api.h"
#include "gtest/gtest.h"

namespace vigil::api {
namespace {

TEST(QueryApiFormatTest, ValuesAsPrometheus) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(FormatJsonValue(1), "1");
  EXPECT_EQ(FormatJsonValue(0), "0");
  EXPECT_EQ(FormatJsonValue(-0.0), "-0");
  EXPECT_EQ(FormatJsonValue(0.1), "0.1");
  EXPECT_EQ(FormatJsonValue(57.8), "57.8");
  EXPECT_EQ(FormatJsonValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatJsonValue(1e-6), "0.000001");
  EXPECT_EQ(FormatJsonValue(1e-7), "1e-07");
  EXPECT_EQ(FormatJsonValue(-2.5e-300), "-2.5e-300");
  EXPECT_EQ(FormatJsonValue(1.2345678901234568e20), "123456789012345680000");
  EXPECT_EQ(FormatJsonValue(1e21), "1e+21");
  EXPECT_EQ(FormatJsonValue(1.5e21), "1.5e+21");
  EXPECT_EQ(FormatJsonValue(1e100), "1e+100");
  EXPECT_EQ(FormatJsonValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatJsonValue(inf), "+Inf");
  EXPECT_EQ(FormatJsonValue(-inf), "-Inf");
}

// As Prometheus's jsonutil.MarshalTimestamp: milliseconds always in three
// digits when not zero.
TEST(QueryApiFormatTest, TimestampsAsSecondsWithMilliseconds) {
  EXPECT_EQ(FormatJsonTimestamp(0), "0");
  EXPECT_EQ(FormatJsonTimestamp(1500), "1.500");
  EXPECT_EQ(FormatJsonTimestamp(1001), "1.001");
  EXPECT_EQ(FormatJsonTimestamp(1010), "1.010");
  EXPECT_EQ(FormatJsonTimestamp(-1500), "-1.500");
  EXPECT_EQ(FormatJsonTimestamp(1700000000123), "1700000000.123");
  EXPECT_EQ(FormatJsonTimestamp(std::numeric_limits<int64_t>::min()),
            "-9223372036854775.808");
}

}  // namespace
}  // namespace vigil::api
