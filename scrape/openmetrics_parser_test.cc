#include "scrape/openmetrics_parser.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scrape/test_util.h"

namespace vigil::scrape {
namespace {

using ::testing::ElementsAre;
using testutil::Bytes;
using testutil::Verdict;

absl::StatusOr<std::vector<std::string>> Parse(absl::string_view body) {
  return testutil::ParseWith<OpenMetricsParser>(body);
}

std::string ErrorOf(absl::string_view body) {
  return testutil::ErrorOf<OpenMetricsParser>(body);
}

TEST(OpenMetricsParserTest, SpecExample) {
  constexpr absl::string_view kBody =
      R"(# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE go_goroutines gauge
# HELP go_goroutines Number of goroutines that currently exist.
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06
# EOF
)";
  auto r = Parse(kBody);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(
      *r,
      ElementsAre(
          "type acme_http_router_request_seconds summary",
          "unit acme_http_router_request_seconds seconds",
          "help acme_http_router_request_seconds Latency though all of "
          "ACME's HTTP request router.",
          R"(series acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32)",
          R"(series acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283)",
          // _created is an ordinary sample in Prometheus 2.42.
          R"(series acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325)",
          "type go_goroutines gauge",
          "help go_goroutines Number of goroutines that currently exist.",
          "series go_goroutines 69", "type process_cpu_seconds counter",
          "unit process_cpu_seconds seconds",
          "help process_cpu_seconds Total user and system CPU time spent in "
          "seconds.",
          "series process_cpu_seconds_total 4200722.46", "eof"));
}

TEST(OpenMetricsParserTest, AllTypes) {
  auto r = Parse(
      "# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n"
      "# TYPE d gaugehistogram\n# TYPE e summary\n# TYPE f info\n"
      "# TYPE g stateset\n# TYPE h unknown\n# EOF");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(
      *r, ElementsAre("type a counter", "type b gauge", "type c histogram",
                      "type d gaugehistogram", "type e summary", "type f info",
                      "type g stateset", "type h unknown", "eof"));
}

TEST(OpenMetricsParserTest, TimestampsAreSecondsTruncatedToMillis) {
  OpenMetricsParser p(
      "a 1 1520879607.789\nb 2 1.005\nc 3 -1.5\nd 4 17\ne 5\n# EOF\n");
  Entry e;
  std::vector<std::optional<int64_t>> ts;
  while (*p.Next(&e)) {
    if (e == Entry::kSeries) ts.push_back(p.TimestampMs());
  }
  EXPECT_THAT(ts, ElementsAre(1520879607789, 1004, -1500, 17000, std::nullopt));
}

TEST(OpenMetricsParserTest, ExemplarsAreCheckedAndSkipped) {
  auto r = Parse(
      "foo_total 1 # {trace_id=\"abc\"} 0.5\n"
      "foo_total{a=\"b\"} 2 123.5 # {trace_id=\"abc\",x=\"y\"} 0.5 123.4\n"
      "foo_bucket{le=\"+Inf\"} 3 # {} 1\n"
      "# EOF\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre("series foo_total 1",
                              "series foo_total{a=\"b\"} 2 @123500",
                              "series foo_bucket{le=\"+Inf\"} 3", "eof"));
}

TEST(OpenMetricsParserTest, SeriesTextAndEscapes) {
  OpenMetricsParser p(
      "foo{a=\"x\\\"y\\\\z\\nw\\q\",b=\"\"} 1\n# HELP foo a\\\"b\\\\c\\nd\\q\n"
      "# EOF");
  Entry e;
  ASSERT_TRUE(*p.Next(&e));
  EXPECT_EQ(p.SeriesText(), "foo{a=\"x\\\"y\\\\z\\nw\\q\",b=\"\"}");
  std::vector<LabelPair> labels;
  p.Labels(&labels);
  EXPECT_THAT(labels,
              ElementsAre(LabelPair("__name__", "foo"),
                          LabelPair("a", "x\"y\\z\nw\\q"), LabelPair("b", "")));
  ASSERT_TRUE(*p.Next(&e));
  EXPECT_EQ(e, Entry::kHelp);
  // OpenMetrics HELP takes the label value escapes, \" included.
  EXPECT_EQ(p.Help(), "a\"b\\c\nd\\q");
  ASSERT_TRUE(*p.Next(&e));
  EXPECT_EQ(e, Entry::kEof);
  EXPECT_FALSE(*p.Next(&e));
}

TEST(OpenMetricsParserTest, ErrorMessagesAndLines) {
  EXPECT_EQ(ErrorOf("a 1\nb 2\nc{x=y} 3\n# EOF\n"),
            "line 3: expected label value, got \"y\"");
  EXPECT_EQ(ErrorOf("a 1\n"), "line 2: data does not end with # EOF");
  EXPECT_EQ(ErrorOf("a 1\n# EOF\nb 1\n"),
            "line 3: unexpected data after # EOF");
  EXPECT_EQ(ErrorOf("a 1\n\n# EOF\n"),
            "line 2: \"\\n\" is not a valid start token");
  EXPECT_EQ(ErrorOf("# a comment\n# EOF\n"),
            "line 1: expected # TYPE, # HELP, # UNIT or # EOF, got \"# a "
            "comment\" (OpenMetrics has no other comments)");
  EXPECT_EQ(ErrorOf("foo 1 NaN\n# EOF\n"), "line 1: invalid timestamp \"NaN\"");
  EXPECT_EQ(ErrorOf("foo 1 # {a=\"b\"} 1\n# EOF\n"),
            "line 1: metric name \"foo\" does not support exemplars");
  EXPECT_EQ(ErrorOf("# UNIT foo seconds\n# EOF\n"),
            "line 1: unit \"seconds\" not a suffix of metric \"foo\"");
  EXPECT_EQ(ErrorOf("foo{a=\"1\" b=\"2\"} 1\n# EOF\n"),
            "line 1: expected comma or closing brace, got \" \"");
}

// Bodies served to a real Prometheus 2.42 scrape with Content-Type
// application/openmetrics-text; version=1.0.0.
std::vector<Verdict> PrometheusVerdicts() {
  return {
      {"minimal", "foo 1\n# EOF\n", true, {"series foo 1", "eof"}},
      {"EOF without newline", "foo 1\n# EOF", true, {"series foo 1", "eof"}},
      {"only EOF", "# EOF\n", true, {"eof"}},
      {"counter without _total",
       "# TYPE foo counter\nfoo 1\n# EOF\n",
       true,
       {"type foo counter", "series foo 1", "eof"}},
      {"family named _total",
       "# TYPE foo_total counter\nfoo_total 1\n# EOF\n",
       true,
       {"type foo_total counter", "series foo_total 1", "eof"}},
      {"_created is a sample",
       "# TYPE foo counter\nfoo_total 1\nfoo_created 123.5\n# EOF\n",
       true,
       {"type foo counter", "series foo_total 1", "series foo_created 123.5",
        "eof"}},
      {"TYPE twice",
       "# TYPE foo counter\n# TYPE foo gauge\nfoo 1\n# EOF\n",
       true,
       {"type foo counter", "type foo gauge", "series foo 1", "eof"}},
      {"exemplar with timestamp",
       "foo_total 1 # {a=\"b\"} 1 123\n# EOF\n",
       true,
       {"series foo_total 1", "eof"}},
      {"exemplar after timestamp",
       "foo_total 1 123 # {a=\"b\"} 1\n# EOF\n",
       true,
       {"series foo_total 1 @123000", "eof"}},
      {"exemplar without labels",
       "foo_total 1 # {} 1\n# EOF\n",
       true,
       {"series foo_total 1", "eof"}},
      {"exemplar with a repeated label",
       "foo_total 1 # {a=\"b\",a=\"c\"} 1\n# EOF\n",
       true,
       {"series foo_total 1", "eof"}},
      {"unit",
       "# UNIT foo_seconds seconds\nfoo_seconds 1\n# EOF\n",
       true,
       {"unit foo_seconds seconds", "series foo_seconds 1", "eof"}},
      {"empty unit",
       "# UNIT foo_seconds \n# EOF\n",
       true,
       {"unit foo_seconds ", "eof"}},
      {"empty HELP", "# HELP foo \n# EOF\n", true, {"help foo ", "eof"}},
      {"HELP escapes",
       "# HELP foo a\\\"b\\\\c\\nd\\q\n# EOF\n",
       true,
       {"help foo a\"b\\c\nd\\q", "eof"}},
      {"unknown escape kept",
       "foo{a=\"x\\ty\"} 1\n# EOF\n",
       true,
       {"series foo{a=\"x\\\\ty\"} 1", "eof"}},
      {"empty braces", "foo{} 1\n# EOF\n", true, {"series foo 1", "eof"}},
      {"NUL in label value",
       Bytes("foo{a=\"x\0y\"} 1\n# EOF\n"),
       true,
       {"series foo{a=\"x\\x00y\"} 1", "eof"}},
      {"NUL in HELP",
       Bytes("# HELP foo x\0y\nfoo 1\n# EOF\n"),
       true,
       {std::string(Bytes("help foo x\0y")), "series foo 1", "eof"}},
      {"lower-case nan", "foo nan\n# EOF\n", true, {"series foo NaN", "eof"}},
      {"+Inf",
       "foo{a=\"x\"} +Inf\n# EOF\n",
       true,
       {"series foo{a=\"x\"} +Inf", "eof"}},
      {"exponent timestamp",
       "foo 1 1.5e3\n# EOF\n",
       true,
       {"series foo 1 @1500000", "eof"}},
      {"negative timestamp",
       "foo{a=\"x\"} 1 -0.001\n# EOF\n",
       true,
       {"series foo{a=\"x\"} 1 @-1", "eof"}},
      {"huge timestamp",
       "foo 1 1e20\n# EOF\n",
       true,
       {"series foo 1 @-9223372036854775808", "eof"}},

      {"no EOF", "foo 1\n", false, {"line 2: data does not end with # EOF"}},
      {"empty body", "", false, {"line 1: data does not end with # EOF"}},
      {"no EOF, no newline",
       "foo 1",
       false,
       {"line 1: data does not end with # EOF"}},
      {"no EOF after exemplar",
       "foo_total 1 # {a=\"b\"} 1",
       false,
       {"data does not end with # EOF"}},
      {"no EOF after timestamp",
       "foo 1 2",
       false,
       {"expected next entry after timestamp, got end of input"}},
      {"TYPE at the end without newline",
       "# TYPE foo counter",
       false,
       {"expected text in TYPE"}},
      {"data after EOF",
       "foo 1\n# EOF\nbar 1\n",
       false,
       {"line 3: unexpected data after # EOF"}},
      {"blank line after EOF",
       "foo 1\n# EOF\n\n",
       false,
       {"unexpected data after # EOF"}},
      {"second EOF",
       "foo 1\n# EOF\n# EOF\n",
       false,
       {"unexpected data after # EOF"}},
      {"blank after EOF",
       "foo 1\n# EOF \n",
       false,
       {"unexpected data after # EOF"}},
      {"lower-case eof",
       "foo 1\n# eof\n",
       false,
       {"line 2: expected # TYPE, # HELP, # UNIT or # EOF"}},
      {"blank line",
       "foo 1\n\n# EOF\n",
       false,
       {"line 2: \"\\n\" is not a valid start token"}},
      {"comment",
       "# comment\nfoo 1\n# EOF\n",
       false,
       {"OpenMetrics has no other comments"}},
      {"two blanks after #",
       "#  HELP foo x\n# EOF\n",
       false,
       {"OpenMetrics has no other comments"}},
      {"two blanks after TYPE",
       "# TYPE  foo counter\n# EOF\n",
       false,
       {"expected metric name after TYPE, got \" \""}},
      {"leading blank",
       " foo 1\n# EOF\n",
       false,
       {"\" \" is not a valid start token"}},
      {"NUL at line start",
       Bytes("\0foo 1\n# EOF\n"),
       false,
       {"\"\\x00\" is not a valid start token"}},
      {"NUL before EOF",
       Bytes("foo 1\n\0# EOF\n"),
       false,
       {"line 2: \"\\x00\" is not a valid start token"}},
      {"NUL after value",
       Bytes("foo 1\0\n# EOF\n"),
       false,
       {"invalid number \"1\\x00\""}},
      {"two blanks before value",
       "foo  1\n# EOF\n",
       false,
       {"expected value after metric, got \" \""}},
      {"tab before value",
       "foo\t1\n# EOF\n",
       false,
       {"expected value after metric, got \"\\t\""}},
      {"no blank before value",
       "foo{a=\"b\"}1\n# EOF\n",
       false,
       {"expected value after metric, got \"1\""}},
      {"trailing blank",
       "foo 1 \n# EOF\n",
       false,
       {"expected timestamp or # symbol, got \" \""}},
      {"blanks in braces",
       "foo { } 1\n# EOF\n",
       false,
       {"invalid number \"{\""}},
      {"blank before closing brace",
       "foo{a=\"b\" } 1\n# EOF\n",
       false,
       {"expected comma or closing brace"}},
      {"no comma",
       "foo{a=\"1\" b=\"2\"} 1\n# EOF\n",
       false,
       {"expected comma or closing brace"}},
      {"trailing comma",
       "foo{a=\"b\",} 1\n# EOF\n",
       false,
       {"expected label name, got \"}\""}},
      {"comma first",
       "foo{,a=\"1\"} 1\n# EOF\n",
       false,
       {"expected label name, got \",\""}},
      {"double comma",
       "foo{a=\"1\",,b=\"2\"} 1\n# EOF\n",
       false,
       {"expected label name, got \",\""}},
      {"colon in label name",
       "foo{a:b=\"c\"} 1\n# EOF\n",
       false,
       {"expected equal, got \":b\""}},
      {"two label sets",
       "foo{a=\"1\"}{b=\"2\"} 1\n# EOF\n",
       false,
       {"expected value after metric, got \"{\""}},
      {"raw newline in label value",
       "foo{a=\"x\ny\"} 1\n# EOF\n",
       false,
       {"label value has no closing quote on its line"}},
      {"invalid UTF-8 label value",
       "foo{a=\"\xff\"} 1\n# EOF\n",
       false,
       {"invalid UTF-8 label value"}},
      {"invalid UTF-8 in exemplar",
       "foo_total 1 # {a=\"\xff\"} 1\n# EOF\n",
       false,
       {"invalid UTF-8 label value"}},
      {"invalid UTF-8 HELP",
       "# HELP foo \xff\n# EOF\n",
       false,
       {"help text is not valid UTF-8"}},
      {"HELP without text",
       "# HELP foo\n# EOF\n",
       false,
       {"expected text in HELP"}},
      {"bad type",
       "# TYPE foo bar\n# EOF\n",
       false,
       {"invalid metric type \"bar\""}},
      {"untyped",
       "# TYPE u untyped\n# EOF\n",
       false,
       {"invalid metric type \"untyped\""}},
      {"unit not a suffix",
       "# UNIT foo seconds\n# EOF\n",
       false,
       {"unit \"seconds\" not a suffix of metric \"foo\""}},
      {"unit with underscore",
       "# UNIT foo_seconds _seconds\n# EOF\n",
       false,
       {"not a suffix"}},
      {"unit is a prefix",
       "# UNIT foo seconds_foo\n# EOF\n",
       false,
       {"not a suffix"}},
      {"NaN timestamp",
       "foo 1 NaN\n# EOF\n",
       false,
       {"invalid timestamp \"NaN\""}},
      {"Inf exemplar timestamp",
       "foo_total 1 # {a=\"b\"} NaN Inf\n# EOF\n",
       false,
       {"invalid exemplar timestamp \"Inf\""}},
      {"hex exemplar timestamp",
       "foo_total 1 # {a=\"b\"} 1 0x1p3\n# EOF\n",
       false,
       {"unsupported character in float"}},
      {"overflowing timestamp",
       "foo 1 1e400\n# EOF\n",
       false,
       {"out of range"}},
      {"exemplar on a plain name",
       "foo 1 # {a=\"b\"} 1\n# EOF\n",
       false,
       {"metric name \"foo\" does not support exemplars"}},
      {"exemplar on _count",
       "foo_count 1 # {a=\"b\"} 1\n# EOF\n",
       false,
       {"metric name \"foo_count\" does not support exemplars"}},
      {"exemplar on a plain name after timestamp",
       "foo{a=\"b\"} 1 1.5 # {x=\"y\"} 2\n# EOF\n",
       false,
       {"does not support exemplars"}},
      {"no blank inside the exemplar marker",
       "foo_total 1 #{a=\"b\"} 1\n# EOF\n",
       false,
       {"invalid"}},
      {"two blanks before exemplar value",
       "foo_total 1 # {a=\"b\"}  1\n# EOF\n",
       false,
       {"expected value after exemplar labels"}},
      {"trailing blank after exemplar",
       "foo_total 1 # {a=\"b\"} 1 \n# EOF\n",
       false,
       {"expected exemplar timestamp or end of line"}},
      {"exemplar without value",
       "foo_total 1 # {a=\"b\"}\n# EOF\n",
       false,
       {"expected value after exemplar labels"}},
      {"junk after exemplar timestamp",
       "foo_bucket{le=\"1\"} 1 # {a=\"b\"} 1 1.5 extra\n# EOF\n",
       false,
       {"expected next entry after exemplar timestamp, got \" \""}},
      {"comment after exemplar",
       "foo_bucket{le=\"1\"} 1 # {a=\"b\"} 1 # x\n# EOF\n",
       false,
       {"invalid number \"#\""}},
      {"CRLF", "foo 1\r\n# EOF\n", false, {"invalid number \"1\\r\""}},
      {"HELP with backslash-newline",
       "# HELP foo a\\\nb\n# EOF\n",
       false,
       {"line 2: expected value after metric"}},
  };
}

TEST(OpenMetricsParserTest, MatchesPrometheusVerdicts) {
  testutil::ExpectVerdicts<OpenMetricsParser>(PrometheusVerdicts());
}

// Where Vigil knowingly differs from Prometheus 2.42 (see
// docs/exposition_formats.md): Vigil rejects, Prometheus accepted.
TEST(OpenMetricsParserTest, KnownDifferences) {
  // Prometheus accepts a NUL right after "# EOF", or as the very last byte.
  EXPECT_EQ(ErrorOf(Bytes("foo 1\n# EOF\0")),
            "line 2: unexpected data after # EOF");
  EXPECT_EQ(ErrorOf(Bytes("foo 1\n# EOF\n\0")),
            "line 3: unexpected data after # EOF");
  // A repeated label name (Prometheus drops empty-valued labels first).
  EXPECT_EQ(ErrorOf("foo{a=\"\",a=\"x\"} 1\n# EOF\n"),
            "line 1: label name \"a\" is not unique");
}

}  // namespace
}  // namespace vigil::scrape
