// Printer tests. Pretty's expected output was recorded from Prometheus
// 2.42's /api/v1/format_query.
#include "promql/parser/printer.h"

#include <string>

#include "gtest/gtest.h"
#include "promql/parser/parser.h"

namespace vigil::promql {
namespace {

struct PrettyCase {
  const char* query;
  const char* pretty;
};

const PrettyCase kPretty[] = {
    {R"q(sum by (job, instance, very_long_label_name_one, very_long_label_name_two) (rate(http_requests_total{code=~"5..", handler!="/metrics"}[5m])))q",
     R"q(sum by (job, instance, very_long_label_name_one, very_long_label_name_two) (
  rate(http_requests_total{code=~"5..",handler!="/metrics"}[5m])
))q"},
    {R"q(histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{job="apiserver", verb!="WATCH"}[5m]))) > bool 1)q",
     R"q(  histogram_quantile(
    0.99,
    sum by (le, job) (rate(http_request_duration_seconds_bucket{job="apiserver",verb!="WATCH"}[5m]))
  )
> bool
  1)q"},
    {R"q((sum(rate(node_cpu_seconds_total{mode!="idle", instance="host-aaaaaaaaaaaaaaaaaaaa"}[5m])) / sum(rate(node_cpu_seconds_total[5m]))) * 100)q",
     R"q(  (
      sum(rate(node_cpu_seconds_total{instance="host-aaaaaaaaaaaaaaaaaaaa",mode!="idle"}[5m]))
    /
      sum(rate(node_cpu_seconds_total[5m]))
  )
*
  100)q"},
    {R"q(-sum(rate(a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one", label_two="value_two"}[5m])))q",
     R"q(-sum(
  rate(
    a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one",label_two="value_two"}[5m]
  )
))q"},
    {R"q(max_over_time(rate(a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one", label_two="v"}[5m])[1h:1m]))q",
     R"q(max_over_time(
  rate(
    a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one",label_two="v"}[5m]
  )[1h:1m]
))q"},
    {R"q(rate(a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one", label_two="value_two"}[5m])[1h:1m])q",
     R"q(rate(
  a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one",label_two="value_two"}[5m]
)[1h:1m])q"},
    {R"q(topk(10, sum without (instance) (rate(a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one"}[5m]))))q",
     R"q(topk(
  10,
  sum without (instance) (
    rate(a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one"}[5m])
  )
))q"},
    {R"q(a_very_long_metric_name_for_testing_pretty_printing_total + on (job) group_left (instance, pod) another_very_long_metric_name_total)q",
     R"q(  a_very_long_metric_name_for_testing_pretty_printing_total
+ on (job) group_left (instance, pod)
  another_very_long_metric_name_total)q"},
    {R"q(label_replace(up{job="api-server", instance="host-aaaaaaaaaaaaaaaaaaaaaaaa:9100"}, "host", "$1", "instance", "(.*):.*"))q",
     R"q(label_replace(
  up{instance="host-aaaaaaaaaaaaaaaaaaaaaaaa:9100",job="api-server"},
  "host",
  "$1",
  "instance",
  "(.*):.*"
))q"},
};

TEST(PrinterTest, PrettyLikePrometheus) {
  for (const PrettyCase& c : kPretty) {
    auto e = ParseExpr(c.query);
    ASSERT_TRUE(e.ok()) << c.query << ": " << e.status();
    EXPECT_EQ(Pretty(**e), c.pretty) << c.query;
    // Pretty output is itself a query with the same meaning.
    auto again = ParseExpr(Pretty(**e));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(Format(**again), Format(**e));
  }
}

TEST(PrinterTest, FormatOfLongQueryIsOneLine) {
  auto e = ParseExpr(kPretty[0].query);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Format(**e).find('\n'), std::string::npos);
  EXPECT_GT(Format(**e).size(), 100u);
}

TEST(PrinterTest, Durations) {
  EXPECT_EQ(FormatDurationMs(0), "0s");
  EXPECT_EQ(FormatDurationMs(500), "500ms");
  EXPECT_EQ(FormatDurationMs(1500), "1s500ms");
  EXPECT_EQ(FormatDurationMs(300000), "5m");
  EXPECT_EQ(FormatDurationMs(5400000), "1h30m");
  EXPECT_EQ(FormatDurationMs(86400000), "1d");
  EXPECT_EQ(FormatDurationMs(7 * 86400000LL), "1w");
  EXPECT_EQ(FormatDurationMs(8 * 86400000LL), "8d");
  EXPECT_EQ(FormatDurationMs(365 * 86400000LL), "1y");
  EXPECT_EQ(FormatDurationMs(366 * 86400000LL), "366d");
  EXPECT_EQ(FormatDurationMs(14 * 86400000LL), "2w");
  EXPECT_EQ(FormatDurationMs(-60000), "-1m");
}

TEST(PrinterTest, BuiltAst) {
  Expr lit;
  lit.node = NumberLiteral{1e6};
  EXPECT_EQ(Format(lit), "1e+06");
  Expr str;
  str.node = StringLiteral{"a\"b\n"};
  EXPECT_EQ(Format(str), "\"a\\\"b\\n\"");
}

}  // namespace
}  // namespace vigil::promql
