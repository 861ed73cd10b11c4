#include "scrape/lex.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/value.h"

namespace vigil::scrape::lex {
namespace {

double MustParse(absl::string_view s) {
  double v = -12345;
  EXPECT_EQ(ParseFloat(s, &v), NumberError::kNone) << s;
  return v;
}

NumberError ParseError(absl::string_view s) {
  double v = 0;
  return ParseFloat(s, &v);
}

TEST(ParseFloatTest, Decimal) {
  EXPECT_EQ(MustParse("0"), 0);
  EXPECT_EQ(MustParse("01"), 1);
  EXPECT_EQ(MustParse("-3.5"), -3.5);
  EXPECT_EQ(MustParse("+3.5"), 3.5);
  EXPECT_EQ(MustParse(".5"), 0.5);
  EXPECT_EQ(MustParse("5."), 5);
  EXPECT_EQ(MustParse("+.5e+3"), 500);
  EXPECT_EQ(MustParse("1.458255915e9"), 1.458255915e9);
  EXPECT_EQ(MustParse("1E-2"), 0.01);
  EXPECT_EQ(MustParse("1.7976931348623157e308"),
            std::numeric_limits<double>::max());
  // Correctly rounded, like Go.
  EXPECT_EQ(MustParse("0.1"), 0.1);
  EXPECT_EQ(MustParse("9007199254740993"), 9007199254740992.0);
  EXPECT_TRUE(std::signbit(MustParse("-0")));
}

// The exact fast path must give the correctly rounded result, as
// from_chars does, whatever the digits and exponent.
TEST(ParseFloatTest, FastPathAgreesWithFromChars) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    if (rng() % 4 == 0) s += '-';
    const int int_digits = static_cast<int>(rng() % 18);
    for (int d = 0; d < int_digits; ++d)
      s += static_cast<char>('0' + rng() % 10);
    if (int_digits == 0 || rng() % 2 == 0) {
      s += '.';
      const int frac_digits = 1 + static_cast<int>(rng() % 20);
      for (int d = 0; d < frac_digits; ++d) {
        s += static_cast<char>('0' + rng() % 10);
      }
    }
    if (rng() % 3 == 0) {
      absl::StrAppend(&s, "e", static_cast<int>(rng() % 60) - 30);
    }
    double want = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), want);
    ASSERT_EQ(r.ec, std::errc()) << s;
    EXPECT_EQ(std::bit_cast<uint64_t>(MustParse(s)),
              std::bit_cast<uint64_t>(want))
        << s;
  }
}

TEST(ParseFloatTest, SpecialValuesInAnyCase) {
  const double inf = std::numeric_limits<double>::infinity();
  for (absl::string_view s :
       {"Inf", "inf", "+Inf", "INF", "+infinity", "Infinity", "iNfInItY"}) {
    EXPECT_EQ(MustParse(s), inf) << s;
  }
  for (absl::string_view s : {"-Inf", "-inf", "-Infinity"}) {
    EXPECT_EQ(MustParse(s), -inf) << s;
  }
  for (absl::string_view s : {"NaN", "nan", "NAN", "nAn"}) {
    const double v = MustParse(s);
    EXPECT_EQ(std::bit_cast<uint64_t>(v), model::kNormalNaNBits) << s;
    EXPECT_FALSE(model::IsStaleNaN(v));
  }
}

TEST(ParseFloatTest, GoSyntaxErrors) {
  for (absl::string_view s :
       {"",   "+",    "-",     ".",    "e5",   "1e",    "1e+",   "1.2.3",
        "1 ", " 1",   "1\r",   "+nan", "-NaN", "nanx",  "infin", "infinityy",
        "in", "0x10", "-0x10", "1,5",  "1}",   "\"1\"", "１"}) {
    EXPECT_EQ(ParseError(s), NumberError::kSyntax) << s;
  }
}

TEST(ParseFloatTest, PrometheusRefusesGo113Forms) {
  // Go 1.13 added hex mantissas and '_' separators; Prometheus refuses
  // any 'p', 'P' or '_' before asking Go.
  for (absl::string_view s : {"0x1p3", "0x1P-2", "1_000", "1_0", "Infp"}) {
    EXPECT_EQ(ParseError(s), NumberError::kUnsupported) << s;
  }
}

TEST(ParseFloatTest, OverflowIsAnErrorUnderflowIsZero) {
  for (absl::string_view s : {"1e400", "-1e400", "1.7976931348623159e308",
                              "1e99999999999999999999", "100000e304"}) {
    EXPECT_EQ(ParseError(s), NumberError::kRange) << s;
  }
  EXPECT_EQ(MustParse("1e-400"), 0);
  EXPECT_TRUE(std::signbit(MustParse("-1e-400")));
  EXPECT_EQ(MustParse("2e-324"), 0);
  EXPECT_EQ(MustParse("0.00001e-320"), 0);
  EXPECT_EQ(MustParse("1e-99999999999999999999"), 0);
  EXPECT_EQ(MustParse("0e999999999999"), 0);
  EXPECT_EQ(MustParse("4.9e-324"), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(MustParse("1e-310"), 1e-310);
}

TEST(ParseDigitsTest, Int64Range) {
  int64_t v = 0;
  ASSERT_TRUE(ParseDigits("0123", &v));
  EXPECT_EQ(v, 123);
  ASSERT_TRUE(ParseDigits("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(ParseDigits("9223372036854775808", &v));
  EXPECT_FALSE(ParseDigits("99999999999999999999999", &v));
}

TEST(SecondsToMillisTest, MatchesPromtool) {
  // Timestamps in milliseconds that `promtool tsdb create-blocks-from
  // openmetrics` (2.42) wrote for these OpenMetrics timestamps.
  EXPECT_EQ(SecondsToMillis(MustParse("1520879607.789")), 1520879607789);
  EXPECT_EQ(SecondsToMillis(MustParse("0.57")), 570);
  EXPECT_EQ(SecondsToMillis(MustParse("1600000000.57")), 1600000000570);
  EXPECT_EQ(SecondsToMillis(MustParse("-0.0005")), 0);
  EXPECT_EQ(SecondsToMillis(MustParse("1.0005")), 1000);
  EXPECT_EQ(SecondsToMillis(MustParse("1e9")), 1000000000000);
  EXPECT_EQ(SecondsToMillis(MustParse("1600000000.0001")), 1600000000000);
  EXPECT_EQ(SecondsToMillis(MustParse("1600000000.9999")), 1600000000999);
  // The product is truncated, not rounded: 1.005 * 1000 is 1004.999...
  EXPECT_EQ(SecondsToMillis(MustParse("1.005")), 1004);
  EXPECT_EQ(SecondsToMillis(-1.5), -1500);
  // Beyond int64: what Go's conversion gives on amd64.
  EXPECT_EQ(SecondsToMillis(1e20), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(SecondsToMillis(-1e20), std::numeric_limits<int64_t>::min());
}

TEST(ScanQuotedTest, EscapesNewlinesAndUtf8) {
  bool esc = false;
  bool non_ascii = false;
  EXPECT_EQ(ScanQuoted("\"abc\" 1", 1, false, &esc, &non_ascii), 5u);
  EXPECT_FALSE(esc);
  EXPECT_FALSE(non_ascii);
  EXPECT_EQ(ScanQuoted(R"("a\"b\\" 1)", 1, false, &esc, &non_ascii), 8u);
  EXPECT_TRUE(esc);
  esc = false;
  EXPECT_EQ(ScanQuoted("\"h\xc3\xa9\"", 1, false, &esc, &non_ascii), 5u);
  EXPECT_TRUE(non_ascii);
  EXPECT_EQ(ScanQuoted("\"a\nb\"", 1, false, &esc, &non_ascii),
            absl::string_view::npos);
  EXPECT_EQ(ScanQuoted("\"a\nb\"", 1, true, &esc, &non_ascii), 5u);
  // A backslash cannot escape a newline, nor end the input.
  EXPECT_EQ(ScanQuoted("\"a\\\nb\"", 1, true, &esc, &non_ascii),
            absl::string_view::npos);
  EXPECT_EQ(ScanQuoted("\"a\\", 1, true, &esc, &non_ascii),
            absl::string_view::npos);
  EXPECT_EQ(ScanQuoted("\"abc", 1, true, &esc, &non_ascii),
            absl::string_view::npos);
}

TEST(AppendUnescapedTest, PrometheusReplacements) {
  auto unescape = [](absl::string_view raw, bool quote) {
    std::string out;
    AppendUnescaped(raw, quote, &out);
    return out;
  };
  EXPECT_EQ(unescape(R"(a\\b)", true), "a\\b");
  EXPECT_EQ(unescape(R"(a\"b)", true), "a\"b");
  EXPECT_EQ(unescape(R"(a\nb)", true), "a\nb");
  // Unknown escapes stay as they are.
  EXPECT_EQ(unescape(R"(\t\q)", true), "\\t\\q");
  EXPECT_EQ(unescape(R"(\\n)", true), "\\n");
  EXPECT_EQ(unescape(R"(\q\n)", true), "\\q\n");
  // The text format's HELP does not unescape \".
  EXPECT_EQ(unescape(R"(\"\\\n)", false), "\\\"\\\n");
}

TEST(GoQuoteTest, LikeGoPercentQ) {
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(GoQuote("\n\t\r"), R"("\n\t\r")");
  EXPECT_EQ(GoQuote(absl::string_view("\0\x01", 2)), R"("\x00\x01")");
  EXPECT_EQ(GoQuote("h\xc3\xa9"), "\"h\xc3\xa9\"");
  EXPECT_EQ(GoQuote("\xff"), R"("\xff")");
}

TEST(GotTextTest, TokenOrEnd) {
  EXPECT_EQ(GotText("foo bar", 0), "\"foo\"");
  EXPECT_EQ(GotText("foo bar", 3), "\" \"");
  EXPECT_EQ(GotText("{a}", 0), "\"{\"");
  EXPECT_EQ(GotText("x\n", 1), R"("\n")");
  EXPECT_EQ(GotText("x", 1), "end of input");
}

}  // namespace
}  // namespace vigil::scrape::lex
