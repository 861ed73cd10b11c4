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
    // Generated long queries.
    {R"q((a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) ^ -a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})q",
     R"q(  (a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
^
  -a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})q"},
    {R"q(-(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + label_replace(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}, "a", "$1", "b", "(.*)"))q",
     R"q(  -(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
+
  label_replace(
    a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"},
    "a",
    "$1",
    "b",
    "(.*)"
  ))q"},
    {R"q(-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1) + -(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1))q",
     R"q(  -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
+
  -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1))q"},
    {R"q(-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1) / on (job) group_left (x) (a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(  -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
/ on (job) group_left (x)
  (a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1) > bool count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(  -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
> bool
  count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1) unless ignoring (a) topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(  -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
unless ignoring (a)
  topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(-a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"} * label_replace(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}, "a", "$1", "b", "(.*)"))q",
     R"q(  -a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}
*
  label_replace(
    a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"},
    "a",
    "$1",
    "b",
    "(.*)"
  ))q"},
    {R"q(-a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"} ^ a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})q",
     R"q(-a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}
^
  a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})q"},
    {R"q(-a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"} ^ topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(-a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}
^
  topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(-count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) and a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})q",
     R"q(  -count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
and
  a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})q"},
    {R"q(-rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m]))q",
     R"q(-rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m]))q"},
    {R"q(-sum by (job, instance) (rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])) > bool sum by (job, instance) (rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])))q",
     R"q(  -sum by (job, instance) (
    rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
  )
> bool
  sum by (job, instance) (
    rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
  ))q"},
    {R"q(-sum by (job, instance) (rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])) and topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(  -sum by (job, instance) (
    rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
  )
and
  topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(-sum without (x) (-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1) / on (job) group_left (x) topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})))q",
     R"q(-sum without (x) (
    -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
  / on (job) group_left (x)
    topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
))q"},
    {R"q(-sum without (x) (count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})))q",
     R"q(-sum without (x) (
  count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
))q"},
    {R"q(-sum without (x) (histogram_quantile(0.9, rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])) unless ignoring (a) histogram_quantile(0.9, rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m]))))q",
     R"q(-sum without (x) (
    histogram_quantile(
      0.9,
      rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
    )
  unless ignoring (a)
    histogram_quantile(
      0.9,
      rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
    )
))q"},
    {R"q(-sum without (x) (sum by (job, instance) (rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])) ^ count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})))q",
     R"q(-sum without (x) (
    sum by (job, instance) (
      rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
    )
  ^
    count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
))q"},
    {R"q(-sum without (x) (sum by (job, instance) (rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m]))))q",
     R"q(-sum without (x) (
  sum by (job, instance) (
    rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
  )
))q"},
    {R"q(-topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + histogram_quantile(0.9, rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])))q",
     R"q(  -topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
+
  histogram_quantile(
    0.9,
    rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
  ))q"},
    {R"q(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"} / on (job) group_left (x) rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m]))q",
     R"q(  a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}
/ on (job) group_left (x)
  rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m]))q"},
    {R"q(count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) ^ (a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(  count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
^
  (a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(label_replace(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}, "a", "$1", "b", "(.*)"))q",
     R"q(label_replace(
  a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"},
  "a",
  "$1",
  "b",
  "(.*)"
))q"},
    {R"q(max_over_time(((a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + (a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))[10m:1m]))q",
     R"q(max_over_time(
  (
      (a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
    +
      (a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
  )[10m:1m]
))q"},
    {R"q(max_over_time((-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1) + histogram_quantile(0.9, rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])))[10m:1m]))q",
     R"q(max_over_time(
  (
      -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
    +
      histogram_quantile(
        0.9,
        rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
      )
  )[10m:1m]
))q"},
    {R"q(max_over_time((-a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})[10m:1m]))q",
     R"q(max_over_time(
(-a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})[10m:1m]
))q"},
    {R"q(max_over_time((count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) * -(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1))[10m:1m]))q",
     R"q(max_over_time(
  (
      count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
    *
      -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
  )[10m:1m]
))q"},
    {R"q(max_over_time((count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))[10m:1m]))q",
     R"q(max_over_time(
  (count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))[10m:1m]
))q"},
    {R"q(max_over_time((label_replace(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}, "a", "$1", "b", "(.*)") ^ -a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})[10m:1m]))q",
     R"q(max_over_time(
  (
      label_replace(
        a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"},
        "a",
        "$1",
        "b",
        "(.*)"
      )
    ^
      -a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}
  )[10m:1m]
))q"},
    {R"q(sum by (job, instance) (rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])))q",
     R"q(sum by (job, instance) (
  rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
))q"},
    {R"q(sum by (job, instance) (rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])) > bool label_replace(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}, "a", "$1", "b", "(.*)"))q",
     R"q(  sum by (job, instance) (
    rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
  )
> bool
  label_replace(
    a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"},
    "a",
    "$1",
    "b",
    "(.*)"
  ))q"},
    {R"q(sum without (x) (-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1) * topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})))q",
     R"q(sum without (x) (
    -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
  *
    topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
))q"},
    {R"q(sum without (x) (-(sum(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + 1)))q",
     R"q(sum without (x) (
  -(sum(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}) + 1)
))q"},
    {R"q(sum without (x) (a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"} unless ignoring (a) count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})))q",
     R"q(sum without (x) (
    a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}
  unless ignoring (a)
    count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
))q"},
    {R"q(sum without (x) (a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(sum without (x) (a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(sum without (x) (count_values("v", a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"})))q",
     R"q(sum without (x) (
  count_values("v", a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
))q"},
    {R"q(topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}))q",
     R"q(topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}))q"},
    {R"q(topk(5, a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}) + histogram_quantile(0.9, rate(a_fairly_long_metric_name_total{job="some-job-name",instance="host-0123456789"}[5m])))q",
     R"q(  topk(5, a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"})
+
  histogram_quantile(
    0.9,
    rate(a_fairly_long_metric_name_total{instance="host-0123456789",job="some-job-name"}[5m])
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
