#include "base/goformat.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <random>
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
std::string F(double v) {
  char buf[400];
  return std::string(buf, FormatGoFixed(v, buf, buf + sizeof(buf)));
}

// strconv.FormatFloat(v, 'f', -1, 64) on values past 2^53: the shortest
// digits, padded with zeros (not the exact integer).
TEST(GoFormatTest, FixedLikeGoForLargeValues) {
  EXPECT_EQ(F(1.2345678901234568e20), "123456789012345680000");
  EXPECT_EQ(F(-1.2345678901234568e20), "-123456789012345680000");
  EXPECT_EQ(F(1152921504606846976.0), "1152921504606847000");  // 2^60
  EXPECT_EQ(F(9007199254740993.0), "9007199254740992");         // 2^53 + 1 rounds
  EXPECT_EQ(F(1e20), "100000000000000000000");
  EXPECT_EQ(F(2251799813685248.5), "2251799813685248.5");    // 2^51 + 0.5
  EXPECT_EQ(F(1.5e-7), "0.00000015");
  EXPECT_EQ(F(0.000001234), "0.000001234");
}

// Below 2^53 Go's digits are what std::to_chars's shortest fixed form
// gives; the fast path and the general one must both agree with it.
TEST(GoFormatTest, FixedAgreesWithShortestToChars) {
  std::mt19937_64 rng(11);
  auto check = [](double v) {
    if (!(std::fabs(v) < 9007199254740992.0)) return;
    char b[400];
    const std::string slow(b, std::to_chars(b, b + sizeof(b), v, std::chars_format::fixed).ptr);
    EXPECT_EQ(F(v), slow) << std::hexfloat << v;
  };
  for (double v : {0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.1 + 0.2, 57.8, 1e-6, 123456789.125,
                   1125899906842623.0, 1125899906842624.0, 9007199254740993.0, 1e20,
                   0.30000000000000004, 2.5e-5, 99.99999999, 0.000001234, 1.0 / 3}) {
    check(v);
    check(-v);
  }
  for (int i = 0; i < 200000; ++i) {
    // Few decimals (like most samples), any digits, and raw bit patterns.
    const int k = static_cast<int>(rng() % 12);
    const double m = static_cast<double>(rng() % 100000000000ULL);
    check(m / std::pow(10.0, k));
    check(std::ldexp(static_cast<double>(rng() % (1ULL << 53)), static_cast<int>(rng() % 80) - 60));
    const double bits = std::bit_cast<double>(rng());
    if (std::isfinite(bits) && std::fabs(bits) < 1e21) check(bits);
    check(std::nextafter(m / std::pow(10.0, k), 1e30));
  }
}

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
