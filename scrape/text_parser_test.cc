#include "scrape/text_parser.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scrape/test_util.h"

namespace vigil::scrape {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testutil::Bytes;
using testutil::Verdict;

absl::StatusOr<std::vector<std::string>> Parse(absl::string_view body) {
  return testutil::ParseWith<TextParser>(body);
}

std::string ErrorOf(absl::string_view body) {
  return testutil::ErrorOf<TextParser>(body);
}

TEST(TextParserTest, ExpositionFormatExample) {
  // From the format's documentation, without the sample whose timestamp is
  // negative (tested below: Prometheus refuses it).
  constexpr absl::string_view kBody =
      R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
# TYPE telemetry_requests_metrics_latency_microseconds summary
telemetry_requests_metrics_latency_microseconds{quantile="0.01"} 3102
telemetry_requests_metrics_latency_microseconds_sum 1.7560473e+07
)";
  auto r = Parse(kBody);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(
      *r,
      ElementsAre(
          "help http_requests_total The total number of HTTP requests.",
          "type http_requests_total counter",
          R"(series http_requests_total{method="post",code="200"} 1027 @1395066363000)",
          R"(series http_requests_total{method="post",code="400"} 3 @1395066363000)",
          "comment",
          R"(series msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1458255915)",
          "comment", "series metric_without_timestamp_and_labels 12.47",
          "comment",
          "help http_request_duration_seconds A histogram of the request "
          "duration.",
          "type http_request_duration_seconds histogram",
          R"(series http_request_duration_seconds_bucket{le="0.05"} 24054)",
          R"(series http_request_duration_seconds_bucket{le="+Inf"} 144320)",
          "series http_request_duration_seconds_sum 53423",
          "series http_request_duration_seconds_count 144320",
          "type telemetry_requests_metrics_latency_microseconds summary",
          R"(series telemetry_requests_metrics_latency_microseconds{quantile="0.01"} 3102)",
          "series telemetry_requests_metrics_latency_microseconds_sum "
          "17560473"));
}

TEST(TextParserTest, NegativeTimestampFromTheDocsIsRefused) {
  EXPECT_EQ(
      ErrorOf("something_weird{problem=\"division by zero\"} +Inf -3982045\n"),
      "line 1: expected timestamp or new record, got \"-3982045\"");
}

TEST(TextParserTest, SeriesTextNameAndValues) {
  TextParser p("foo{a=\"1\", b=\"x\\\"y\"}  2.5  17\nbar 3\n");
  Entry e;
  ASSERT_TRUE(*p.Next(&e));
  EXPECT_EQ(e, Entry::kSeries);
  EXPECT_EQ(p.SeriesText(), "foo{a=\"1\", b=\"x\\\"y\"}");
  EXPECT_EQ(p.MetricName(), "foo");
  EXPECT_EQ(p.NumLabels(), 2u);
  EXPECT_EQ(p.Value(), 2.5);
  EXPECT_EQ(p.TimestampMs(), 17);
  EXPECT_EQ(p.Line(), 1);
  std::vector<LabelPair> labels;
  p.Labels(&labels);
  EXPECT_THAT(labels, ElementsAre(LabelPair("__name__", "foo"),
                                  LabelPair("a", "1"), LabelPair("b", "x\"y")));
  ASSERT_TRUE(*p.Next(&e));
  EXPECT_EQ(p.SeriesText(), "bar");
  EXPECT_EQ(p.TimestampMs(), std::nullopt);
  EXPECT_EQ(p.Line(), 2);
  EXPECT_FALSE(*p.Next(&e));
  EXPECT_FALSE(*p.Next(&e));
}

TEST(TextParserTest, ValuesWithoutEscapesPointIntoTheBody) {
  const std::string body = "foo{a=\"plain\",b=\"es\\\\caped\"} 1\n";
  TextParser p(body);
  Entry e;
  ASSERT_TRUE(*p.Next(&e));
  std::vector<LabelPair> labels;
  p.Labels(&labels);
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[1].second.data(), body.data() + 7);
  EXPECT_EQ(labels[2].second, "es\\caped");
  EXPECT_FALSE(labels[2].second.data() >= body.data() &&
               labels[2].second.data() < body.data() + body.size());
}

TEST(TextParserTest, MetadataAndComments) {
  auto r = Parse(
      "# HELP foo Some \\\\ help\\n with \\\"escapes\\\" \\q\n"
      "# TYPE foo counter\n"
      "#  \t TYPE\tbar\tuntyped\n"
      "# TYPE a gauge\n# TYPE b histogram\n# TYPE c summary\n"
      "# HELP empty\n"
      "#HELP not metadata\n"
      "# HELPER not metadata\n"
      "# free text\n"
      "#\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(
      *r, ElementsAre("help foo Some \\ help\n with \\\"escapes\\\" \\q",
                      "type foo counter", "type bar unknown", "type a gauge",
                      "type b histogram", "type c summary", "help empty ",
                      "comment", "comment", "comment", "comment"));
}

TEST(TextParserTest, BlanksBetweenTokensAndEmptyLines) {
  auto r =
      Parse("\n  \n\t\nfoo { a = \"b\" , c=\"d\" , } 1 \t 2 \t\n\nbar{}3\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r,
              ElementsAre(R"(series foo{a="b",c="d"} 1 @2)", "series bar 3"));
}

TEST(TextParserTest, RawNewlineInLabelValueCountsLines) {
  TextParser p("a{x=\"1\n2\"} 1\nb 2\nc 3 x\n");
  Entry e;
  ASSERT_TRUE(*p.Next(&e));
  ASSERT_TRUE(*p.Next(&e));
  EXPECT_EQ(p.MetricName(), "b");
  EXPECT_EQ(p.Line(), 3);
  auto r = p.Next(&e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()),
            "line 4: expected timestamp or new record, got \"x\"");
}

TEST(TextParserTest, ErrorsAreSticky) {
  TextParser p("a 1\nb{ 2\nc 3\n");
  Entry e;
  ASSERT_TRUE(*p.Next(&e));
  auto r1 = p.Next(&e);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(std::string(r1.status().message()),
            "line 2: expected label name, got \"2\"");
  auto r2 = p.Next(&e);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status(), r1.status());
}

TEST(TextParserTest, ErrorMessagesAndLines) {
  EXPECT_EQ(ErrorOf("ok 1\n# HELP x y\nfoo{9=\"a\"} 1\n"),
            "line 3: expected label name, got \"9\"");
  EXPECT_EQ(ErrorOf("foo{a} 1\n"), "line 1: expected equal, got \"}\"");
  EXPECT_EQ(ErrorOf("foo{a=b} 1\n"), "line 1: expected label value, got \"b\"");
  EXPECT_EQ(ErrorOf("foo{a=\"b} 1\n"),
            "line 1: label value has no closing quote, or a backslash before "
            "a newline");
  EXPECT_EQ(ErrorOf("foo\n"),
            "line 1: expected value after metric, got "
            "\"\\n\"");
  EXPECT_EQ(ErrorOf("foo"),
            "line 1: expected value after metric, got end of "
            "input");
  EXPECT_EQ(ErrorOf("foo 1x\n"), "line 1: invalid number \"1x\"");
  EXPECT_EQ(ErrorOf("foo 1e400\n"), "line 1: number \"1e400\" is out of range");
  EXPECT_EQ(ErrorOf("foo 0x1p3\n"),
            "line 1: unsupported character in float \"0x1p3\"");
  EXPECT_EQ(ErrorOf("foo 1 99999999999999999999\n"),
            "line 1: timestamp \"99999999999999999999\" is out of range");
  EXPECT_EQ(ErrorOf("foo{a=\"1\",a=\"2\"} 1\n"),
            "line 1: label name \"a\" is not unique");
  EXPECT_EQ(ErrorOf("\n\n  foo 1\n"),
            "line 3: invalid metric name \"  foo\": blanks before a metric "
            "name");
  EXPECT_EQ(ErrorOf("{a=\"b\"} 1\n"),
            "line 1: \"{\" is not a valid start token");
  EXPECT_EQ(ErrorOf("# TYPE foo gauge \n"),
            "line 1: invalid metric type \"gauge \"");
  EXPECT_EQ(ErrorOf("# HELP 1foo x\n"),
            "line 1: expected metric name after HELP, got \"1foo\"");
  EXPECT_EQ(ErrorOf("# HELP foo \xff\n"),
            "line 1: help text is not valid UTF-8");
  EXPECT_EQ(ErrorOf("foo{a=\"\xc3\x28\"} 1\n"),
            "line 1: invalid UTF-8 label value");
}

TEST(TextParserTest, ManyLabelsStillFindDuplicates) {
  std::string body = "foo{";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&body, "l", i, "=\"v\",");
  std::string ok = body + "} 1\n";
  EXPECT_TRUE(Parse(ok).ok());
  std::string dup = body + "l7=\"w\"} 1\n";
  EXPECT_EQ(ErrorOf(dup), "line 1: label name \"l7\" is not unique");
}

// Bodies served to a real Prometheus 2.42 scrape with Content-Type
// text/plain; version=0.0.4.
std::vector<Verdict> PrometheusVerdicts() {
  return {
      {"no final newline", "foo 1", true, {"series foo 1"}},
      {"no final newline after ts", "foo 1 2", true, {"series foo 1 @2"}},
      {"HELP at the end",
       "foo 1\n# HELP foo bar",
       true,
       {"series foo 1", "help foo bar"}},
      {"NUL starts a line: end of input",
       Bytes("foo 1\n\0bar 2\n"),
       true,
       {"series foo 1"}},
      {"NUL after blanks", Bytes("foo 1\n \0bar 2\n"), true, {"series foo 1"}},
      {"trailing NUL padding", Bytes("foo 1\n\0\0\0"), true, {"series foo 1"}},
      {"raw newline in label value",
       "foo{a=\"x\ny\"} 1\n",
       true,
       {"series foo{a=\"x\\ny\"} 1"}},
      {"no comma between labels",
       "foo{a=\"1\" b=\"2\"} 1\n",
       true,
       {"series foo{a=\"1\",b=\"2\"} 1"}},
      {"no comma, no blank",
       "foo{a=\"b\"c=\"d\"} 1\n",
       true,
       {"series foo{a=\"b\",c=\"d\"} 1"}},
      {"trailing comma", "foo{a=\"1\",} 1\n", true, {"series foo{a=\"1\"} 1"}},
      {"blank before brace",
       "foo{a=\"b\" , } 1\n",
       true,
       {"series foo{a=\"b\"} 1"}},
      {"empty braces", "foo{} 1\n", true, {"series foo 1"}},
      {"blank braces", "foo{ } 1\n", true, {"series foo 1"}},
      {"HELP without text",
       "# HELP foo\nfoo 1\n",
       true,
       {"help foo ", "series foo 1"}},
      {"HELP with two blanks", "# HELP foo  two\n", true, {"help foo  two"}},
      {"TYPE after a tab",
       "# TYPE foo\tcounter\nfoo 1\n",
       true,
       {"type foo counter", "series foo 1"}},
      {"blanks before #",
       "  # HELP foo x\n  # TYPE foo counter\n",
       true,
       {"help foo x", "type foo counter"}},
      {"underflow", "foo 1e-400\n", true, {"series foo 0"}},
      {"huge exponent of zero", "foo 0e999999999999\n", true, {"series foo 0"}},
      {"unknown escape kept",
       "foo{a=\"\\t\\n\\\\\\\"\\q\"} 1\n",
       true,
       {"series foo{a=\"\\\\t\\n\\\\\\\"\\\\q\"} 1"}},
      {"NUL in label value",
       Bytes("foo{a=\"x\0y\"} 1\n"),
       true,
       {"series foo{a=\"x\\x00y\"} 1"}},
      {"invalid UTF-8 in a comment",
       "#comment \xff\nfoo 1\n",
       true,
       {"comment", "series foo 1"}},
      {"value right after brace",
       "foo{a=\"x\"}1\n",
       true,
       {"series foo{a=\"x\"} 1"}},
      {"special values",
       "a Infinity\nb -inf\nc nAn\n",
       true,
       {"series a +Inf", "series b -Inf", "series c NaN"}},
      {"number forms",
       "a 01\nb .5\nc 5.\nd +.5e+3\n",
       true,
       {"series a 1", "series b 0.5", "series c 5", "series d 500"}},
      {"timestamp with leading zero",
       "foo 1 0123\n",
       true,
       {"series foo 1 @123"}},
      {"blank after timestamp", "foo 1 2 ", true, {"series foo 1 @2"}},
      {"tab after timestamp", "foo 1 2\t\n", true, {"series foo 1 @2"}},
      {"tabs everywhere",
       "foo{a\t=\t\"b\"\t}\t1\t2\t\n",
       true,
       {"series foo{a=\"b\"} 1 @2"}},
      {"colon in metric name",
       "foo:bar_baz 1\n",
       true,
       {"series foo:bar_baz 1"}},
      {"empty body", "", true, {}},
      {"only newlines",
       "foo{a=\"b\"} 1\n\n\n\n",
       true,
       {"series foo{a=\"b\"} 1"}},
      {"HELP escapes",
       "# HELP foo \\\\x \\n y \\\"\n",
       true,
       {"help foo \\x \n y \\\""}},

      {"comma first", "foo{,} 1\n", false, {"line 1: expected label name"}},
      {"double comma",
       "foo{a=\"b\",,c=\"d\"} 1\n",
       false,
       {"line 1: expected label name, got \",\""}},
      {"TYPE with two blanks",
       "# TYPE foo  counter\nfoo 1\n",
       false,
       {"line 1: invalid metric type \" counter\""}},
      {"TYPE with a trailing blank",
       "# TYPE foo counter \n",
       false,
       {"invalid metric type \"counter \""}},
      {"TYPE of a dashed name",
       "# TYPE foo-bar counter\n",
       false,
       {"invalid metric type \"bar counter\""}},
      {"TYPE info",
       "# TYPE foo info\n",
       false,
       {"invalid metric type \"info\""}},
      {"TYPE in capitals",
       "# TYPE foo untyped\n# TYPE foo Counter\n",
       false,
       {"line 2: invalid metric type \"Counter\""}},
      {"negative timestamp",
       "foo 1 -5\n",
       false,
       {"expected timestamp or new record, got \"-5\""}},
      {"plus timestamp",
       "foo 1 +5\n",
       false,
       {"expected timestamp or new record"}},
      {"underscore in value",
       "foo 1_0\n",
       false,
       {"unsupported character in float"}},
      {"hex float", "foo 0x1p3\n", false, {"unsupported character in float"}},
      {"hex int", "foo -0x10\n", false, {"invalid number \"-0x10\""}},
      {"overflow", "foo 1e400\n", false, {"out of range"}},
      {"signed NaN", "foo +nan\n", false, {"invalid number \"+nan\""}},
      {"incomplete exponent", "foo 1e\n", false, {"invalid number \"1e\""}},
      {"partial infinity", "foo infin\n", false, {"invalid number"}},
      {"timestamp overflow",
       "foo 1 9223372036854775808\n",
       false,
       {"timestamp \"9223372036854775808\" is out of range"}},
      {"invalid UTF-8 label value",
       "foo{a=\"\xff\"} 1\n",
       false,
       {"invalid UTF-8 label value"}},
      {"duplicate label",
       "foo{a=\"1\",a=\"2\"} 1\n",
       false,
       {"label name \"a\" is not unique"}},
      {"__name__ as a label",
       "foo{__name__=\"bar\"} 1\n",
       false,
       {"label name \"__name__\" is not unique"}},
      {"CRLF", "foo 1\r\n", false, {"invalid number \"1\\r\""}},
      {"blanks before a name",
       "  foo   1   \n",
       false,
       {"invalid metric name \"  foo\""}},
      {"tab before a name",
       "\tfoo 1\n",
       false,
       {"invalid metric name \"\\tfoo\""}},
      {"invalid UTF-8 HELP",
       "# HELP foo \xff\nfoo 1\n",
       false,
       {"help text is not valid UTF-8"}},
      {"backslash before newline",
       "foo{a=\"x\\\ny\"} 1\n",
       false,
       {"label value has no closing quote"}},
      {"junk after timestamp",
       "foo 1 123abc\n",
       false,
       {"expected next entry after timestamp, got \"abc\""}},
      {"no value", "foo{a=\"b\"}\n", false, {"expected value after metric"}},
      {"two timestamps",
       "foo{le=\"x\"} 1 2 3\n",
       false,
       {"expected next entry after timestamp, got \"3\""}},
      {"brace first",
       "{a=\"b\"} 1\n",
       false,
       {"\"{\" is not a valid start token"}},
      {"comment after value",
       "foo 1 # comment\n",
       false,
       {"expected timestamp or new record, got \"#\""}},
      {"comment after timestamp",
       "foo{a=\"b\"} 1 2 # x\n",
       false,
       {"expected next entry after timestamp"}},
      {"double closing brace",
       "foo{a=\"b\"}} 1\n",
       false,
       {"invalid number \"}\""}},
      {"two label sets",
       "foo{a=\"1\"}{b=\"2\"} 1\n",
       false,
       {"expected value after metric, got \"{\""}},
      {"NUL inside a line",
       Bytes("foo 1\nbar 2\0baz 3\n"),
       false,
       {"line 2: invalid number"}},
      {"NUL after value",
       Bytes("foo{a=\"b\"} 1\0\n"),
       false,
       {"invalid number"}},
      {"NUL after timestamp",
       Bytes("foo 1 2\0\n"),
       false,
       {"expected next entry after timestamp"}},
      {"colon in label name",
       "foo{a:b=\"c\"} 1\n",
       false,
       {"expected equal, got \":b\""}},
  };
}

TEST(TextParserTest, MatchesPrometheusVerdicts) {
  testutil::ExpectVerdicts<TextParser>(PrometheusVerdicts());
}

// Where Vigil knowingly differs from Prometheus 2.42 (see
// docs/exposition_formats.md): Vigil rejects, Prometheus accepted.
TEST(TextParserTest, KnownDifferences) {
  // Prometheus drops every label with an empty value's name, so it stores
  // foo{} here; Vigil reports the repeated name.
  EXPECT_EQ(ErrorOf("foo{a=\"\",a=\"x\"} 1\n"),
            "line 1: label name \"a\" is not unique");
  // Prometheus's lexer skips a NUL here and stores the label as `x"`.
  EXPECT_THAT(ErrorOf(Bytes("foo{a=\"x\"\0} 1\n")),
              HasSubstr("expected label name"));
}

}  // namespace
}  // namespace vigil::scrape
