#include "base/goformat.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

std::string G(double v) {
  std::string s;
  AppendGoFloat(v, &s);
  return s;
}

std::string Q(absl::string_view v) {
  std::string s;
  AppendGoQuoted(v, &s);
  return s;
}

// Expected strings are what Go 1.19's fmt.Sprintf("%g", v) prints.
TEST(GoFormatTest, FloatLikeGoPercentG) {
  EXPECT_EQ(G(0), "0");
  EXPECT_EQ(G(-0.0), "-0");
  EXPECT_EQ(G(1), "1");
  EXPECT_EQ(G(-2.5), "-2.5");
  EXPECT_EQ(G(123456), "123456");
  EXPECT_EQ(G(1e6), "1e+06");
  EXPECT_EQ(G(1234567), "1.234567e+06");
  EXPECT_EQ(G(100000), "100000");
  EXPECT_EQ(G(0.0001), "0.0001");
  EXPECT_EQ(G(0.00001), "1e-05");
  EXPECT_EQ(G(0.000123), "0.000123");
  EXPECT_EQ(G(0.1), "0.1");
  EXPECT_EQ(G(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(G(1e100), "1e+100");
  EXPECT_EQ(G(5e-324), "5e-324");
  EXPECT_EQ(G(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(G(std::nan("")), "NaN");
  EXPECT_EQ(G(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(G(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(G(1234.5), "1234.5");
  EXPECT_EQ(G(999999.5), "999999.5");
  EXPECT_EQ(G(1.5e15), "1.5e+15");
}

// Expected strings are what Go's strconv.Quote returns.
TEST(GoFormatTest, QuoteLikeStrconv) {
  EXPECT_EQ(Q(""), "\"\"");
  EXPECT_EQ(Q("abc"), "\"abc\"");
  EXPECT_EQ(Q("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Q("\n\t\r\a\b\f\v"), "\"\\n\\t\\r\\a\\b\\f\\v\"");
  EXPECT_EQ(Q(std::string("\x00\x01\x7f", 3)), "\"\\x00\\x01\\x7f\"");
  EXPECT_EQ(Q("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Q("\xff\xc3"), "\"\\xff\\xc3\"");          // Invalid and truncated UTF-8.
  EXPECT_EQ(Q("\xc0\x80"), "\"\\xc0\\x80\"");          // Overlong.
  EXPECT_EQ(Q("\xc2\x85"), "\"\\u0085\"");             // C1 control.
  EXPECT_EQ(Q("\xc2\xa0"), "\"\\u00a0\"");             // No-break space.
  EXPECT_EQ(Q("\xe2\x80\x8b"), "\"\\u200b\"");         // Zero-width space.
  EXPECT_EQ(Q("\xef\xbb\xbf"), "\"\\ufeff\"");         // BOM.
  EXPECT_EQ(Q("\xf3\xb0\x80\x80"), "\"\\U000f0000\"");  // Private use plane 15.
}

}  // namespace
}  // namespace vigil
