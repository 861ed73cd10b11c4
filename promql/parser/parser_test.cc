// Parser tests. The expected strings were recorded from Prometheus 2.42
// (/api/v1/format_query for output, /api/v1/query for errors); the tests
// themselves do not need Prometheus.
#include "promql/parser/parser.h"

#include <cmath>
#include <string>

#include "gtest/gtest.h"
#include "model/value.h"
#include "promql/parser/functions.h"
#include "promql/parser/printer.h"

namespace vigil::promql {
namespace {

struct GoodCase {
  const char* query;
  const char* formatted;  // Expr.String() == Expr.Pretty(0) for these.
};

const GoodCase kGood[] = {
    {R"q(x[5m a])q", R"q(x[5m:])q"},
    {R"q(a == bool on(b) c)q", R"q(a == bool on (b) c)q"},
    {R"q(a + ignoring() group_left b)q", R"q(a + b)q"},
    {R"q(a + on() b)q", R"q(a + on () b)q"},
    {R"q(a + on(x) group_left(y) b)q", R"q(a + on (x) group_left (y) b)q"},
    {R"q(a and on(x) b)q", R"q(a and on (x) b)q"},
    {R"q(histogram_count(x))q", R"q(histogram_count(x))q"},
    {R"q({__name__="a", b="c"})q", R"q({__name__="a",b="c"})q"},
    {R"q(0x1F)q", R"q(31)q"},
    {R"q(010)q", R"q(8)q"},
    {R"q(1e3)q", R"q(1000)q"},
    {R"q(.5)q", R"q(0.5)q"},
    {R"q(Inf)q", R"q(+Inf)q"},
    {R"q(-nan)q", R"q(NaN)q"},
    {R"q(1 + 2 * 3 ^ 4 ^ 5)q", R"q(1 + 2 * 3 ^ 4 ^ 5)q"},
    {R"q(-x ^ 2)q", R"q(-x ^ 2)q"},
    {R"q(a or b and c unless d)q", R"q(a or b and c unless d)q"},
    {R"q(x @ 1.5)q", R"q(x @ 1.500)q"},
    {R"q(x @ -1)q", R"q(x @ -1.000)q"},
    {R"q(x @ start() offset 1m)q", R"q(x @ start() offset 1m)q"},
    {R"q(x offset -1h30m)q", R"q(x offset -1h30m)q"},
    {R"q(x[1h30m])q", R"q(x[1h30m])q"},
    {R"q(x[90m])q", R"q(x[1h30m])q"},
    {R"q(x[1y])q", R"q(x[1y])q"},
    {R"q(x[7d])q", R"q(x[1w])q"},
    {R"q(sum without () (x))q", R"q(sum without () (x))q"},
    {R"q(sum without (a) (x))q", R"q(sum without (a) (x))q"},
    {R"q(a * on (x) group_right () b)q", R"q(a * on (x) group_right () b)q"},
    {R"q(`raw\n`)q", R"q("raw\\n")q"},
    {R"q("\u00e9\x41")q", R"q("éA")q"},
    {R"q(x{a!~"a"})q", R"q(x{a!~"a"})q"},
    {R"q(sum)q", R"q(sum)q"},
    {R"q(sum + 1)q", R"q(sum + 1)q"},
    {R"q(and)q", R"q(and)q"},
    {R"q(by)q", R"q(by)q"},
    {R"q(offset)q", R"q(offset)q"},
    {R"q(start)q", R"q(start)q"},
    {R"q(x[5m] offset 1m @ 10)q", R"q(x[5m] @ 10.000 offset 1m)q"},
    {R"q(x offset 1m @ 10)q", R"q(x @ 10.000 offset 1m)q"},
    {R"q(x @ 10 offset 1m)q", R"q(x @ 10.000 offset 1m)q"},
    {R"q((x)[5m:1m] @ end() offset 2m)q", R"q((x)[5m:1m] @ end() offset 2m)q"},
    {R"q(-1 + -2)q", R"q(-1 + -2)q"},
    {R"q(1 - -1)q", R"q(1 - -1)q"},
    {R"q(- (1))q", R"q(-(1))q"},
    {R"q(+x)q", R"q(+x)q"},
    {R"q(+1)q", R"q(1)q"},
    {R"q(2 ^ -1)q", R"q(2 ^ -1)q"},
    {R"q(x[5m:] offset 1m)q", R"q(x[5m:] offset 1m)q"},
    {R"q(a + b offset 5m)q", R"q(a + b offset 5m)q"},
    {R"q(x @ start())q", R"q(x @ start())q"},
    {R"q(x{a="b",})q", R"q(x{a="b"})q"},
    {R"q(x{a="b",c="d",})q", R"q(x{a="b",c="d"})q"},
    {R"q(sum by (a,) (x))q", R"q(sum by (a) (x))q"},
    {R"q(x # comment)q", R"q(x)q"},
    {R"q(x{job="a"} # c)q", R"q(x{job="a"})q"},
    {R"q(topk(3, x) by (job))q", R"q(topk by (job) (3, x))q"},
    {R"q(quantile without (a) (0.9, x))q", R"q(quantile without (a) (0.9, x))q"},
    {R"q(count_values("v", x))q", R"q(count_values("v", x))q"},
    {R"q(a + on(job) group_left(x, y) b)q", R"q(a + on (job) group_left (x, y) b)q"},
    {R"q(a > bool 1)q", R"q(a > bool 1)q"},
    {R"q(1 > bool 2)q", R"q(1 > bool 2)q"},
    {R"q(vector(1)[5m:])q", R"q(vector(1)[5m:])q"},
    {R"q(time())q", R"q(time())q"},
    {R"q(pi())q", R"q(pi())q"},
    {R"q(rate(x[5m])[30m:1m])q", R"q(rate(x[5m])[30m:1m])q"},
    {R"q(max_over_time(rate(x[5m])[30m:1m]))q", R"q(max_over_time(rate(x[5m])[30m:1m]))q"},
    {R"q(label_replace(x, "a", "b", "c", "d"))q", R"q(label_replace(x, "a", "b", "c", "d"))q"},
    {R"q(label_join(x, "a", ",", "b", "c"))q", R"q(label_join(x, "a", ",", "b", "c"))q"},
    {R"q(holt_winters(x[5m], 0.5, 0.5))q", R"q(holt_winters(x[5m], 0.5, 0.5))q"},
    {R"q(quantile_over_time(0.5, x[5m]))q", R"q(quantile_over_time(0.5, x[5m]))q"},
    {R"q(histogram_fraction(0, 1, x))q", R"q(histogram_fraction(0, 1, x))q"},
    {R"q(absent_over_time(x[5m]))q", R"q(absent_over_time(x[5m]))q"},
    {R"q(1e+3)q", R"q(1000)q"},
    {R"q(x[5ms])q", R"q(x[5ms])q"},
    {R"q(x{a=~"a{"})q", R"q(x{a=~"a{"})q"},
    {R"q(x{a="\xff"})q", R"q(x{a="\xff"})q"},
    {R"q(x{b="1", a="2"})q", R"q(x{a="2",b="1"})q"},
    {R"q(x{a="é\t\x00"})q", R"q(x{a="é\t\x00"})q"},
    {R"q("\a\b\f\n\r\t\v\\\"'")q", R"q("\a\b\f\n\r\t\v\\\"'")q"},
    {R"q('single "quoted"')q", R"q("single \"quoted\"")q"},
    {R"q(x{a='b'})q", R"q(x{a="b"})q"},
    {R"q(1 + 2 - 3 * 4 / 5 % 6 ^ 7 atan2 8)q", R"q(1 + 2 - 3 * 4 / 5 % 6 ^ 7 atan2 8)q"},
    {R"q(a atan2 b)q", R"q(a atan2 b)q"},
    {R"q((a + b) * c)q", R"q((a + b) * c)q"},
    {R"q(a - (b - c))q", R"q(a - (b - c))q"},
    {R"q(a - b - c)q", R"q(a - b - c)q"},
    {R"q(2 ^ 3 ^ 2)q", R"q(2 ^ 3 ^ 2)q"},
    {R"q((2 ^ 3) ^ 2)q", R"q((2 ^ 3) ^ 2)q"},
    {R"q(-(2 ^ 3))q", R"q(-(2 ^ 3))q"},
    {R"q(-2 ^ 3)q", R"q(-2 ^ 3)q"},
    {R"q(a > b == bool c)q", R"q(a > b == bool c)q"},
    {R"q(a unless b or c and d)q", R"q(a unless b or c and d)q"},
    {R"q(x offset 1d)q", R"q(x offset 1d)q"},
    {R"q(x offset 1w)q", R"q(x offset 1w)q"},
    {R"q(x offset 400d)q", R"q(x offset 400d)q"},
    {R"q(x offset 1y)q", R"q(x offset 1y)q"},
    {R"q(x[1m30s])q", R"q(x[1m30s])q"},
    {R"q(x[500ms])q", R"q(x[500ms])q"},
    {R"q(x[1s500ms])q", R"q(x[1s500ms])q"},
    {R"q(x @ 1609746000)q", R"q(x @ 1609746000.000)q"},
    {R"q(x @ 1609746000.123)q", R"q(x @ 1609746000.123)q"},
    {R"q(x @ 0)q", R"q(x @ 0.000)q"},
    {R"q(x @ +5)q", R"q(x @ 5.000)q"},
    {R"q(x @ end() [5m])q", R"q(x[5m] @ end())q"},
    {R"q(x[5m] @ end())q", R"q(x[5m] @ end())q"},
    {R"q(rate(x[5m] offset 1m))q", R"q(rate(x[5m] offset 1m))q"},
    {R"q(rate(x[5m] @ start()))q", R"q(rate(x[5m] @ start()))q"},
    {R"q(count(x) by (a) + on (a) group_right count(y) without (b))q", R"q(count by (a) (x) + on (a) group_right () count without (b) (y))q"},
    {R"q(sum(x)by(a))q", R"q(sum by (a) (x))q"},
    {R"q(SUM(x) BY (a))q", R"q(sum by (a) (x))q"},
    {R"q(Sum By (a) (x))q", R"q(sum by (a) (x))q"},
    {R"q(x OFFSET 5m)q", R"q(x offset 5m)q"},
    {R"q(x[5m] Offset 1m)q", R"q(x[5m] offset 1m)q"},
    {R"q(a AND b)q", R"q(a and b)q"},
    {R"q(a Or b)q", R"q(a or b)q"},
    {R"q(a UNLESS b)q", R"q(a unless b)q"},
    {R"q(a > BOOL b)q", R"q(a > bool b)q"},
    {R"q(a * ON(x) GROUP_LEFT b)q", R"q(a * on (x) group_left () b)q"},
    {R"q(a * IGNORING(x) b)q", R"q(a * ignoring (x) b)q"},
    {R"q(INF)q", R"q(+Inf)q"},
    {R"q(NaN)q", R"q(NaN)q"},
    {R"q(nan)q", R"q(NaN)q"},
    {R"q(1 == bool 1)q", R"q(1 == bool 1)q"},
    {R"q(vector(time()))q", R"q(vector(time()))q"},
    {R"q(scalar(x) + 1)q", R"q(scalar(x) + 1)q"},
    {R"q(abs(-x))q", R"q(abs(-x))q"},
    {R"q(clamp(x, 0, 1))q", R"q(clamp(x, 0, 1))q"},
    {R"q(round(x))q", R"q(round(x))q"},
    {R"q(round(x, 5))q", R"q(round(x, 5))q"},
    {R"q(year())q", R"q(year())q"},
    {R"q(stddev(x))q", R"q(stddev(x))q"},
    {R"q(stdvar by (a) (x))q", R"q(stdvar by (a) (x))q"},
    {R"q(group(x))q", R"q(group(x))q"},
    {R"q(bottomk(5, x))q", R"q(bottomk(5, x))q"},
    {R"q(avg without () (x))q", R"q(avg without () (x))q"},
    {R"q(min(x) without (a, b))q", R"q(min without (a, b) (x))q"},
    {R"q(max by () (x))q", R"q(max(x))q"},
    {R"q(sum(x{a="b"} offset 5m))q", R"q(sum(x{a="b"} offset 5m))q"},
    {R"q({__name__=~"job:.*"})q", R"q({__name__=~"job:.*"})q"},
    {R"q({a="b"})q", R"q({a="b"})q"},
    {R"q(x{})q", R"q(x)q"},
    {R"q(x{a=~"b", a!~"c"})q", R"q(x{a!~"c",a=~"b"})q"},
    {R"q(job:request_rate:5m)q", R"q(job:request_rate:5m)q"},
    {R"q(:foo)q", R"q(:foo)q"},
    {R"q(foo:)q", R"q(foo:)q"},
    {R"q(a_b:c_d{e="f"})q", R"q(a_b:c_d{e="f"})q"},
    {R"q(x{a="b"}[5m])q", R"q(x{a="b"}[5m])q"},
    {R"q(x{a="b"}[5m:])q", R"q(x{a="b"}[5m:])q"},
    {R"q((1))q", R"q((1))q"},
    {R"q(((x)))q", R"q(((x)))q"},
    {R"q(-(-x))q", R"q(-(-x))q"},
    {R"q(- - x)q", R"q(--x)q"},
    {R"q(+-1)q", R"q(-1)q"},
    {R"q(-+1)q", R"q(-1)q"},
    {R"q(1 + -x)q", R"q(1 + -x)q"},
    {R"q(x - -1)q", R"q(x - -1)q"},
    {R"q(x --1)q", R"q(x - -1)q"},
    {R"q(1e-3)q", R"q(0.001)q"},
    {R"q(1E3)q", R"q(1000)q"},
    {R"q(0.000001)q", R"q(1e-06)q"},
    {R"q(123456789)q", R"q(1.23456789e+08)q"},
    {R"q(1e21)q", R"q(1e+21)q"},
    {R"q(-0)q", R"q(-0)q"},
    {R"q(0x10 + 010)q", R"q(16 + 8)q"},
    {R"q(08)q", R"q(8)q"},
    {R"q(1.)q", R"q(1)q"},
    {R"q(1.e3)q", R"q(1000)q"},
    {R"q(x{a="\377"})q", R"q(x{a="\xff"})q"},
    {R"q("\xff")q", R"q("\xff")q"},
    {R"q("\U0001F600")q", R"q("😀")q"},
    {R"q('\'')q", R"q("'")q"},
    {R"q(x # only comment)q", R"q(x)q"},
    {R"q(x + on(a) y)q", R"q(x + on (a) y)q"},
    {R"q(x > ignoring(a) group_left(a) y)q", R"q(x > ignoring (a) group_left (a) y)q"},
    {R"q(1 + on() 2)q", R"q(1 + 2)q"},
    {R"q(x{a=~"[[:alpha:]]"})q", R"q(x{a=~"[[:alpha:]]"})q"},
    {R"q(x{a=~"\\d+"})q", R"q(x{a=~"\\d+"})q"},
    {R"q(x{a=~"(?i)abc"})q", R"q(x{a=~"(?i)abc"})q"},
    // Mutations of the cases above.
    {R"q(11e3 - -1)q", R"q(11000 - -1)q"},
    {R"q(sum or x # comment)q", R"q(sum or x)q"},
    {R"q(x{} and x @ start() offset 1m)q", R"q(x and x @ start() offset 1m)q"},
    {R"q(x{a="b + ",c="d",})q", R"q(x{a="b + ",c="d"})q"},
    {R"q(x[130m])q", R"q(x[2h10m])q"},
    {R"q(-+1 + histogram_count(x))q", R"q(-1 + histogram_count(x))q"},
    {R"q(a)q", R"q(a)q"},
    {R"q(08 > bool x offset 400d)q", R"q(8 > bool x offset 400d)q"},
    {R"q(pi() > bool x @ +5)q", R"q(pi() > bool x @ 5.000)q"},
    {R"q(x{job="a"} # c + rate(x[5m])[30m:1m])q", R"q(x{job="a"})q"},
    {R"q(job:request_rate:)q", R"q(job:request_rate:)q"},
    {R"q(ma)q", R"q(ma)q"},
    {R"q(x # only comment and x offset 400d)q", R"q(x)q"},
    {R"q(abs(x))q", R"q(abs(x))q"},
    {R"q(In)q", R"q(In)q"},
    {R"q(-x)q", R"q(-x)q"},
    {R"q(ofet)q", R"q(ofet)q"},
    {R"q((2^ 3) ^ 2)q", R"q((2 ^ 3) ^ 2)q"},
    {R"q(an)q", R"q(an)q"},
    {R"q(histogram_fraction(0, 1, x) + absent_over_time(x[5m]))q", R"q(histogram_fraction(0, 1, x) + absent_over_time(x[5m]))q"},
    {R"q(x)q", R"q(x)q"},
    {R"q( INF)q", R"q(+Inf)q"},
    {R"q(x{a!~"a"} and x > ignoring(a) group_left(a) y)q", R"q(x{a!~"a"} and x > ignoring (a) group_left (a) y)q"},
    {R"q(a * ON(x) G)q", R"q(a * on (x) G)q"},
    {R"q(S)q", R"q(S)q"},
    {R"q(sum+x)q", R"q(sum + x)q"},
    {R"q(-x2)q", R"q(-x2)q"},
    {R"q(a - (bc))q", R"q(a - (bc))q"},
    {R"q(x1)q", R"q(x1)q"},
    {R"q("001F600")q", R"q("001F600")q"},
    {R"q(x # only comment > bool a > bool 1)q", R"q(x)q"},
    {R"q(start / on(a) group_left x{a="b",c="d",})q", R"q(start / on (a) group_left () x{a="b",c="d"})q"},
    {R"q( x[1h30m])q", R"q(x[1h30m])q"},
    {R"q(x{a="=~b",c="d",})q", R"q(x{a="=~b",c="d"})q"},
    {R"q(N5maN)q", R"q(N5maN)q"},
    {R"q(hist)q", R"q(hist)q"},
    {R"q(x # comm)q", R"q(x)q"},
    {R"q(rate(x[5m] offset 1m) > bool 1 + on() 2)q", R"q(rate(x[5m] offset 1m) > bool 1 + 2)q"},
    {R"q(Na)q", R"q(Na)q"},
    {R"q(histogram_fraction(0, 1, x) / on(a) group_left start)q", R"q(histogram_fraction(0, 1, x) / on (a) group_left () start)q"},
    {R"q(x{job="a"} # c + x[90m])q", R"q(x{job="a"})q"},
    {R"q(x @ 1!=609746000)q", R"q(x @ 1.000 != 6.09746e+08)q"},
    {R"q(a UNLESS b / on(a) group_left histogram_count(x))q", R"q(a unless b / on (a) group_left () histogram_count(x))q"},
    {R"q(x  + --1)q", R"q(x + 1)q"},
    {R"q(yea)q", R"q(yea)q"},
    {R"q(labe)q", R"q(labe)q"},
    {R"q(a * on (x) group_right () b or x + on(a) y)q", R"q(a * on (x) group_right () b or x + on (a) y)q"},
    {R"q(x # comment + {a="b"})q", R"q(x)q"},
    {R"q(x[10s])q", R"q(x[10s])q"},
    {R"q(f)q", R"q(f)q"},
    {R"q(rate(x[5m] @ start()) / on(a) group_left offset)q", R"q(rate(x[5m] @ start()) / on (a) group_left () offset)q"},
    {R"q(a * ON(x) GROUP_LEFT b / on(a) group_left x @ start() offset 1m)q", R"q(a * on (x) group_left () b / on (a) group_left () x @ start() offset 1m)q"},
    {R"q(a > BOOL b + x @ -1)q", R"q(a > bool b + x @ -1.000)q"},
    {R"q(- - x > bool clamp(x, 0, 1))q", R"q(--x > bool clamp(x, 0, 1))q"},
    {R"q(-1)q", R"q(-1)q"},
    {R"q(x[1m0s])q", R"q(x[1m])q"},
    {R"q(a unless b or c and d / on(a) group_left x offset 1w)q", R"q(a unless b or c and d / on (a) group_left () x offset 1w)q"},
    {R"q(1e2)q", R"q(100)q"},
    {R"q(- x)q", R"q(-x)q"},
    {R"q(a- (b - c))q", R"q(a - (b - c))q"},
};

struct BadCase {
  const char* query;
  const char* error;
};

const BadCase kBad[] = {
    {R"q(sum(1 2))q",
     R"q(1:7: parse error: unexpected number "2" in aggregation)q"},
    {R"q(sum(x) y)q",
     R"q(1:8: parse error: unexpected identifier "y")q"},
    {R"q(sum x)q",
     R"q(1:5: parse error: unexpected identifier "x")q"},
    {R"q(sum by x (y))q",
     R"q(1:8: parse error: unexpected identifier "x" in grouping opts, expected "(")q"},
    {R"q(sum by (a b) (x))q",
     R"q(1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")")q"},
    {R"q(sum by (a:b) (x))q",
     R"q(1:9: parse error: unexpected metric identifier "a:b" in grouping opts, expected label)q"},
    {R"q(sum by (1) (x))q",
     R"q(1:9: parse error: unexpected number "1" in grouping opts, expected label)q"},
    {R"q(foo(1 2))q",
     R"q(1:7: parse error: unexpected number "2")q"},
    {R"q(rate(x[5m] 1))q",
     R"q(1:12: parse error: unexpected number "1")q"},
    {R"q(x{a})q",
     R"q(1:4: parse error: unexpected "}" in label matching, expected label matching operator)q"},
    {R"q(x{a=})q",
     R"q(1:5: parse error: unexpected "}" in label matching, expected string)q"},
    {R"q(x{a="b" c="d"})q",
     R"q(1:9: parse error: unexpected identifier "c" in label matching, expected "," or "}")q"},
    {R"q(x{,})q",
     R"q(1:3: parse error: unexpected "," in label matching, expected identifier or "}")q"},
    {R"q(x[)q",
     R"q(1:3: parse error: missing unit character in duration)q"},
    {R"q(x[5m)q",
     R"q(1:5: parse error: unclosed left bracket)q"},
    {R"q(x[5m 1m])q",
     R"q(1:6: parse error: unexpected duration "1m" in subquery or range, expected ":" or "]")q"},
    {R"q(x[5m:1])q",
     R"q(1:6: parse error: unexpected number "1" in subquery selector, expected duration or "]")q"},
    {R"q(x[5m:1m 2])q",
     R"q(1:9: parse error: unexpected number "2" in subquery selector, expected "]")q"},
    {R"q(x @)q",
     R"q(1:4: parse error: unexpected end of input in @, expected timestamp)q"},
    {R"q(x @ start 1)q",
     R"q(1:11: parse error: unexpected number "1" in @, expected timestamp)q"},
    {R"q(x offset -)q",
     R"q(1:11: parse error: unexpected end of input in offset, expected duration)q"},
    {R"q(a + on(b) group_left ))q",
     R"q(1:23: parse error: unexpected right parenthesis ')')q"},
    {R"q(a + group_left b)q",
     R"q(1:5: parse error: unexpected <group_left>)q"},
    {R"q(1 + * 2)q",
     R"q(1:5: parse error: unexpected <op:*>)q"},
    {R"q(a + on(b) bool c)q",
     R"q(1:11: parse error: unexpected <bool>)q"},
    {R"q(histogram_stddev(x))q",
     R"q(1:1: parse error: unknown function with name "histogram_stddev")q"},
    {R"q(sum(x)[5m])q",
     R"q(1:7: parse error: ranges only allowed for vector selectors)q"},
    {R"q(x offset 5m offset 1m)q",
     R"q(1:1: parse error: offset may not be set multiple times)q"},
    {R"q(x @ 5 @ 6)q",
     R"q(1:1: parse error: @ <timestamp> may not be set multiple times)q"},
    {R"q(x offset 5m[5m])q",
     R"q(1:12: parse error: no offset modifiers allowed before range)q"},
    {R"q({a=~".*"})q",
     R"q(1:1: parse error: vector selector must contain at least one non-empty matcher)q"},
    {R"q(x{a=~"("})q",
     R"q(1:3: parse error: error parsing regexp: missing closing ): `^(?:()$`)q"},
    {R"q(1 > 2)q",
     R"q(1:3: parse error: comparisons between scalars must use BOOL modifier)q"},
    {R"q("a" + 1)q",
     R"q(1:1: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(a and 1)q",
     R"q(1:1: parse error: set operator "and" not allowed in binary scalar expression)q"},
    {R"q(topk(x, y))q",
     R"q(1:6: parse error: expected type scalar in aggregation parameter, got instant vector)q"},
    {R"q(count_values(1, x))q",
     R"q(1:14: parse error: expected type string in aggregation parameter, got scalar)q"},
    {R"q(rate(x))q",
     R"q(1:6: parse error: expected type range vector in call to function "rate", got instant vector)q"},
    {R"q(round(x, 1, 2))q",
     R"q(1:1: parse error: expected at most 2 argument(s) in call to "round", got 3)q"},
    {R"q(label_join(x))q",
     R"q(1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1)q"},
    {R"q(day_of_month(x, y, z))q",
     R"q(1:1: parse error: expected at most 1 argument(s) in call to "day_of_month", got 3)q"},
    {R"q(-"a")q",
     R"q(1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string")q"},
    {R"q(x[5m:][1m])q",
     R"q(1:7: parse error: ranges only allowed for vector selectors)q"},
    {R"q((x)[5m])q",
     R"q(1:4: parse error: ranges only allowed for vector selectors)q"},
    {R"q(x[0s])q",
     R"q(1:3: parse error: duration must be greater than 0)q"},
    {R"q(x[5m:0s])q",
     R"q(1:6: parse error: duration must be greater than 0)q"},
    {R"q(x{a="\z"})q",
     R"q(1:5: parse error: unknown escape sequence U+007A 'z')q"},
    {R"q('abc\"')q",
     R"q(1:1: parse error: unknown escape sequence U+0022 '"')q"},
    {R"q(1_000)q",
     R"q(1:1: parse error: bad number or duration syntax: "1")q"},
    {R"q(5m)q",
     R"q(1:1: parse error: unexpected duration "5m")q"},
    {R"q("\ud800")q",
     R"q(1:1: parse error: escape sequence is an invalid Unicode code point)q"},
    {R"q($)q",
     R"q(1:1: parse error: unexpected character: '$')q"},
    {R"q(x !~ "a")q",
     R"q(1:3: parse error: unexpected character after '!': '~')q"},
    {R"q(sum(x, y))q",
     R"q(1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2)q"},
    {R"q(topk(x))q",
     R"q(1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1)q"},
    {R"q(sum())q",
     R"q(1:1: parse error: no arguments for aggregate expression provided)q"},
    {R"q(on)q",
     R"q(1:1: parse error: unexpected <on>)q"},
    {R"q(bool)q",
     R"q(1:1: parse error: unexpected <bool>)q"},
    {R"q(x and)q",
     R"q(1:6: parse error: unexpected end of input)q"},
    {R"q(sum by (a) x)q",
     R"q(1:12: parse error: unexpected identifier "x" in aggregation)q"},
    {R"q(sum(x) by (a) by (b))q",
     R"q(1:15: parse error: unexpected <by>)q"},
    {R"q(sum by (a) (x) by (b))q",
     R"q(1:16: parse error: unexpected <by>)q"},
    {R"q(1 + ( 2)q",
     R"q(1:8: parse error: unclosed left parenthesis)q"},
    {R"q(foo(a,))q",
     R"q(1:6: parse error: trailing commas not allowed in function call args)q"},
    {R"q(foo(a,b)q",
     R"q(1:8: parse error: unclosed left parenthesis)q"},
    {R"q(rate(x[5m],))q",
     R"q(1:11: parse error: trailing commas not allowed in function call args)q"},
    {R"q(-x[5m])q",
     R"q(1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector")q"},
    {R"q(1 @ 5)q",
     R"q(1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery)q"},
    {R"q(sum(x) offset 5m)q",
     R"q(1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery)q"},
    {R"q(sum by (a,,b) (x))q",
     R"q(1:11: parse error: unexpected "," in grouping opts, expected label)q"},
    {R"q(a bool b)q",
     R"q(1:3: parse error: unexpected <bool>)q"},
    {R"q(a + bool b)q",
     R"q(1:3: parse error: bool modifier can only be used on comparison operators)q"},
    {R"q(1 and 2)q",
     R"q(1:1: parse error: set operator "and" not allowed in binary scalar expression)q"},
    {R"q(a + on(x) 1)q",
     R"q(1:1: parse error: vector matching only allowed between instant vectors)q"},
    {R"q(a and on(x) group_left b)q",
     R"q(1:1: parse error: no grouping allowed for "and" operation)q"},
    {R"q(a + on(x) group_left(x) b)q",
     R"q(1:3: parse error: label "x" must not occur in ON and GROUP clause at once)q"},
    {R"q("a" == "b")q",
     R"q(1:1: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(0x)q",
     R"q(1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x": invalid syntax)q"},
    {R"q(1.5e)q",
     R"q(1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1.5e": invalid syntax)q"},
    {R"q(1..5)q",
     R"q(1:3: parse error: unexpected number ".5")q"},
    {R"q(x[5mss])q",
     R"q(1:3: parse error: bad duration syntax: "5mss")q"},
    {R"q(x[1h1y])q",
     R"q(1:3: parse error: bad duration syntax: "1h1")q"},
    {R"q(x[1m1h])q",
     R"q(1:3: parse error: not a valid duration string: "1m1h")q"},
    {R"q(x[5s5s])q",
     R"q(1:3: parse error: not a valid duration string: "5s5s")q"},
    {R"q("a)q",
     R"q(1:1: parse error: unterminated quoted string)q"},
    {R"q(x{a="b")q",
     R"q(1:8: parse error: unexpected end of input inside braces)q"},
    {R"q(x{a=~"\\"})q",
     R"q(1:3: parse error: error parsing regexp: missing closing ): `^(?:\)$`)q"},
    {R"q(x{a=~"[z-a]"})q",
     R"q(1:3: parse error: error parsing regexp: invalid character class range: `z-a`)q"},
    {R"q(x{a=~"*"})q",
     R"q(1:3: parse error: error parsing regexp: missing argument to repetition operator: `*`)q"},
    {R"q(x{a=~"(?P<x"})q",
     R"q(1:3: parse error: error parsing regexp: invalid named capture: `(?P<x)$`)q"},
    {R"q(x{a=~"a**"})q",
     R"q(1:3: parse error: error parsing regexp: invalid nested repetition operator: `**`)q"},
    {R"q(x{a=~"\\q"})q",
     R"q(1:3: parse error: error parsing regexp: invalid escape sequence: `\q`)q"},
    {R"q()q",
     R"q(1:1: parse error: no expression found in input)q"},
    {R"q(   )q",
     R"q(1:1: parse error: no expression found in input)q"},
    {R"q(x[5m][5m:])q",
     R"q(1:1: parse error: subquery is only allowed on instant vector, got matrix instead)q"},
    {R"q("a"[5m:])q",
     R"q(1:1: parse error: subquery is only allowed on instant vector, got string instead)q"},
    {R"q(x{a=~"a)"})q",
     R"q(1:3: parse error: error parsing regexp: unexpected ): `^(?:a))$`)q"},
    {R"q(x @ 1e20)q",
     R"q(1:1: parse error: timestamp out of bounds for @ modifier: 100000000000000000000.000000)q"},
    {R"q(sum(x) by (a:b))q",
     R"q(1:12: parse error: unexpected metric identifier "a:b" in grouping opts, expected label)q"},
    {R"q(x{__name__="y"})q",
     R"q(1:1: parse error: metric name must not be set twice: "x" or "y")q"},
    {R"q(y{__name__="y"})q",
     R"q(1:1: parse error: metric name must not be set twice: "y" or "y")q"},
    {R"q(abs(x)q",
     R"q(1:6: parse error: unclosed left parenthesis)q"},
    {R"q(1 + 2 @)q",
     R"q(1:8: parse error: unexpected end of input in @, expected timestamp)q"},
    {R"q(sum(rate(x[5m] 1)))q",
     R"q(1:16: parse error: unexpected number "1" in aggregation)q"},
    {R"q(x[5m] @ start() [1m])q",
     R"q(1:17: parse error: ranges only allowed for vector selectors)q"},
    {R"q(sum(x) @ 5)q",
     R"q(1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery)q"},
    {R"q(x @ start() @ end())q",
     R"q(1:1: parse error: @ <timestamp> may not be set multiple times)q"},
    {R"q(x[5m:1m] offset 1m offset 2m)q",
     R"q(1:1: parse error: offset may not be set multiple times)q"},
    {R"q(x[5m:1m] @ 1 @ 2)q",
     R"q(1:1: parse error: @ <timestamp> may not be set multiple times)q"},
    {R"q(rate(X[5M]))q",
     R"q(1:8: parse error: bad duration syntax: "5")q"},
    {R"q(a + Bool b)q",
     R"q(1:3: parse error: bool modifier can only be used on comparison operators)q"},
    {R"q(year(x, y))q",
     R"q(1:1: parse error: expected at most 1 argument(s) in call to "year", got 2)q"},
    {R"q(pi(1))q",
     R"q(1:1: parse error: expected 0 argument(s) in call to "pi", got 1)q"},
    {R"q(time(x))q",
     R"q(1:1: parse error: expected 0 argument(s) in call to "time", got 1)q"},
    {R"q(absent())q",
     R"q(1:1: parse error: expected 1 argument(s) in call to "absent", got 0)q"},
    {R"q(sort(1))q",
     R"q(1:6: parse error: expected type instant vector in call to function "sort", got scalar)q"},
    {R"q(label_replace(x, 1, "b", "c", "d"))q",
     R"q(1:18: parse error: expected type string in call to function "label_replace", got scalar)q"},
    {R"q(label_join(x, "a", "b", 1))q",
     R"q(1:25: parse error: expected type string in call to function "label_join", got scalar)q"},
    {R"q(quantile(x, 0.5))q",
     R"q(1:13: parse error: expected type instant vector in aggregation expression, got scalar)q"},
    {R"q(count_values(x, "a"))q",
     R"q(1:17: parse error: expected type instant vector in aggregation expression, got string)q"},
    {R"q({__name__!="a"})q",
     R"q(1:1: parse error: vector selector must contain at least one non-empty matcher)q"},
    {R"q({a!="b"})q",
     R"q(1:1: parse error: vector selector must contain at least one non-empty matcher)q"},
    {R"q({a=""})q",
     R"q(1:1: parse error: vector selector must contain at least one non-empty matcher)q"},
    {R"q("a" "b")q",
     R"q(1:5: parse error: unexpected string "\"b\"")q"},
    {R"q(x y)q",
     R"q(1:3: parse error: unexpected identifier "y")q"},
    {R"q(x,)q",
     R"q(1:2: parse error: unexpected ",")q"},
    {R"q(,)q",
     R"q(1:1: parse error: unexpected ",")q"},
    {R"q(()q",
     R"q(1:2: parse error: unclosed left parenthesis)q"},
    {R"q())q",
     R"q(1:2: parse error: unexpected right parenthesis ')')q"},
    {R"q(])q",
     R"q(1:1: parse error: unexpected right bracket ']')q"},
    {R"q([5m])q",
     R"q(1:1: parse error: unexpected "[")q"},
    {R"q({)q",
     R"q(1:2: parse error: unexpected end of input inside braces)q"},
    {R"q(})q",
     R"q(1:1: parse error: unexpected character: '}')q"},
    {R"q(x{a="b"}})q",
     R"q(1:9: parse error: unexpected character: '}')q"},
    {R"q(x[5m]])q",
     R"q(1:6: parse error: unexpected right bracket ']')q"},
    {R"q(x[5m:1m:1m])q",
     R"q(1:8: parse error: unexpected colon ':')q"},
    {R"q(x[[5m]])q",
     R"q(1:3: parse error: missing unit character in duration)q"},
    {R"q(sum(x,))q",
     R"q(1:6: parse error: trailing commas not allowed in function call args)q"},
    {R"q(sum by ((a)) (x))q",
     R"q(1:9: parse error: unexpected "(" in grouping opts, expected label)q"},
    {R"q(sum by (a) by (b) (x))q",
     R"q(1:12: parse error: unexpected <by> in aggregation)q"},
    {R"q(x offset 5m offset)q",
     R"q(1:19: parse error: unexpected end of input in offset, expected duration)q"},
    {R"q(x @ foo)q",
     R"q(1:5: parse error: unexpected identifier "foo" in @, expected timestamp)q"},
    {R"q(x @ start)q",
     R"q(1:10: parse error: unexpected end of input in @, expected timestamp)q"},
    {R"q(x @ end(1))q",
     R"q(1:9: parse error: unexpected number "1" in @, expected timestamp)q"},
    {R"q(a + on)q",
     R"q(1:7: parse error: unexpected end of input in grouping opts, expected "(")q"},
    {R"q(a + on()q",
     R"q(1:8: parse error: unclosed left parenthesis)q"},
    {R"q(a + on() group_left()q",
     R"q(1:21: parse error: unclosed left parenthesis)q"},
    {R"q(a + group_left(x) b)q",
     R"q(1:5: parse error: unexpected <group_left>)q"},
    {R"q(a + on(x) group_left(x y) b)q",
     R"q(1:24: parse error: unexpected identifier "y" in grouping opts, expected "," or ")")q"},
    {R"q(1 +)q",
     R"q(1:4: parse error: unexpected end of input)q"},
    {R"q(+)q",
     R"q(1:2: parse error: unexpected end of input)q"},
    {R"q(-)q",
     R"q(1:2: parse error: unexpected end of input)q"},
    {R"q(*)q",
     R"q(1:1: parse error: unexpected <op:*>)q"},
    {R"q(*1)q",
     R"q(1:1: parse error: unexpected <op:*>)q"},
    {R"q(1 * )q",
     R"q(1:5: parse error: unexpected end of input)q"},
    {R"q(x == )q",
     R"q(1:6: parse error: unexpected end of input)q"},
    {R"q(x bool)q",
     R"q(1:3: parse error: unexpected <bool>)q"},
    {R"q(# just a comment)q",
     R"q(1:1: parse error: no expression found in input)q"},
    {R"q(foo())q",
     R"q(1:1: parse error: unknown function with name "foo")q"},
    {R"q(foo(1, 2))q",
     R"q(1:1: parse error: unknown function with name "foo")q"},
    {R"q(rate())q",
     R"q(1:1: parse error: expected 1 argument(s) in call to "rate", got 0)q"},
    {R"q(rate(x[5m], 1))q",
     R"q(1:1: parse error: expected 1 argument(s) in call to "rate", got 2)q"},
    {R"q(holt_winters(x[5m]))q",
     R"q(1:1: parse error: expected 3 argument(s) in call to "holt_winters", got 1)q"},
    {R"q(vector("a"))q",
     R"q(1:8: parse error: expected type scalar in call to function "vector", got string)q"},
    {R"q(histogram_quantile(x, 0.5))q",
     R"q(1:20: parse error: expected type scalar in call to function "histogram_quantile", got instant vector)q"},
    {R"q(x[5m] + 1)q",
     R"q(1:1: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(x[5m:] * 2)q",
     R"q(1:1: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q("a" and x)q",
     R"q(1:1: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(x and "a")q",
     R"q(1:7: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(x or 1)q",
     R"q(1:1: parse error: set operator "or" not allowed in binary scalar expression)q"},
    {R"q(1 or x)q",
     R"q(1:1: parse error: set operator "or" not allowed in binary scalar expression)q"},
    {R"q(x + on(a) 1)q",
     R"q(1:1: parse error: vector matching only allowed between instant vectors)q"},
    {R"q(x and on(a) group_right(b) y)q",
     R"q(1:1: parse error: no grouping allowed for "and" operation)q"},
    {R"q(x > on(a) group_left(a) y)q",
     R"q(1:3: parse error: label "a" must not occur in ON and GROUP clause at once)q"},
    {R"q(1 > bool on(a) 2)q",
     R"q(1:1: parse error: vector matching only allowed between instant vectors)q"},
    {R"q(x{a=~"a{2,1}"})q",
     R"q(1:3: parse error: error parsing regexp: invalid repeat count: `{2,1}`)q"},
    {R"q(x{a=~"a{1001}"})q",
     R"q(1:3: parse error: error parsing regexp: invalid repeat count: `{1001}`)q"},
    {R"q(x{a=~"\\8"})q",
     R"q(1:3: parse error: error parsing regexp: invalid escape sequence: `\8`)q"},
    {R"q(x{a=~"(?<name>x)"})q",
     R"q(1:3: parse error: error parsing regexp: invalid or unsupported Perl syntax: `(?<`)q"},
    {R"q(x{a=~"[a"})q",
     R"q(1:3: parse error: error parsing regexp: missing closing ]: `[a)$`)q"},
    {R"q(x{a=~"a\\"})q",
     R"q(1:3: parse error: error parsing regexp: missing closing ): `^(?:a\)$`)q"},
    // Mutations of the good cases.
    {R"q(a == bool on)q",
     R"q(1:13: parse error: unexpected end of input in grouping opts, expected "(")q"},
    {R"q({__name__="a", "c"})q",
     R"q(1:16: parse error: unexpected string "\"c\"" in label matching, expected identifier or "}")q"},
    {R"q(x offset 1m @ 10start())q",
     R"q(1:15: parse error: bad number or duration syntax: "10st")q"},
    {R"q(x offset -1h"a"30m)q",
     R"q(1:13: parse error: unexpected string "\"a\"")q"},
    {R"q(max_over_time(rate(x[5m])[30m: by (a)1m]))q",
     R"q(1:32: parse error: unexpected colon 'b')q"},
    {R"q(avg wit)q",
     R"q(1:5: parse error: unexpected identifier "wit")q"},
    {R"q(me())q",
     R"q(1:1: parse error: unknown function with name "me")q"},
    {R"q(x{a="b""d",})q",
     R"q(1:8: parse error: unexpected string "\"d\"" in label matching, expected "," or "}")q"},
    {R"q(x @ 1609746000 + x[1y])q",
     R"q(1:18: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(1 .)q",
     R"q(1:3: parse error: unexpected character: '.')q"},
    {R"q(a * IGNORING(x))q",
     R"q(1:16: parse error: unexpected end of input)q"},
    {R"q([5m:]NaN)q",
     R"q(1:1: parse error: unexpected "[")q"},
    {R"q(stdvar by (a) )q",
     R"q(1:15: parse error: unexpected end of input in aggregation)q"},
    {R"q(max_over_time(rate(a_very_long_metric_name_for_testing_pretty_printing_total{label_one="value_one", label_two="v"}[5m]))q",
     R"q(1:120: parse error: unclosed left parenthesis)q"},
    {R"q(x{a='b'1e3})q",
     R"q(1:8: parse error: unexpected character inside braces: '1')q"},
    {R"q(ye))q",
     R"q(1:4: parse error: unexpected right parenthesis ')')q"},
    {R"q(a!= atan2 b)q",
     R"q(1:5: parse error: unexpected <op:atan2>)q"},
    {R"q(x{a=rate("b"}[5m])q",
     R"q(1:5: parse error: unexpected identifier "rate" in label matching, expected string)q"},
    {R"q("\xff" + x @ start())q",
     R"q(1:1: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(label_replace(up{job="api-server", instance="host-aaaaaaaaaaaaaaaaaaaaaaaa:9100"}, "host", "$1", )q",
     R"q(1:98: parse error: unclosed left parenthesis)q"},
    {R"q(> bool 1)q",
     R"q(1:1: parse error: unexpected <op:>>)q"},
    {R"q(x[1)q",
     R"q(1:3: parse error: missing unit character in duration)q"},
    {R"q(x[{5m] Offset 1m)q",
     R"q(1:3: parse error: missing unit character in duration)q"},
    {R"q(a="b"})q",
     R"q(1:2: parse error: unexpected "=")q"},
    {R"q(absent_over-_time(x[5m]))q",
     R"q(1:13: parse error: unknown function with name "_time")q"},
    {R"q(x @ 10 offse1m)q",
     R"q(1:8: parse error: unexpected identifier "offse1m")q"},
    {R"q(1 + -"a"x)q",
     R"q(1:9: parse error: unexpected identifier "x")q"},
    {R"q(a and on(x))q",
     R"q(1:12: parse error: unexpected end of input)q"},
    {R"q(rate(x[5m] @ start()) or scalar(x) + 1)q",
     R"q(1:1: parse error: set operator "or" not allowed in binary scalar expression)q"},
    {R"q(x off[5m]set -1h30m)q",
     R"q(1:3: parse error: unexpected identifier "off")q"},
    {R"q(x[5m] @ 5mend())q",
     R"q(1:9: parse error: bad number or duration syntax: "5me")q"},
    {R"q(x @ en)q",
     R"q(1:5: parse error: unexpected identifier "en" in @, expected timestamp)q"},
    {R"q(x){})q",
     R"q(1:3: parse error: unexpected right parenthesis ')')q"},
    {R"q(a or b 5mand c unless d)q",
     R"q(1:8: parse error: bad number or duration syntax: "5ma")q"},
    {R"q((x)[5m:1m] @ end)q",
     R"q(1:17: parse error: unexpected end of input in @, expected timestamp)q"},
    {R"q(count(x) by (a) + on (a) group_right cou group_left nt(y) without (b))q",
     R"q(1:42: parse error: unexpected <group_left>)q"},
    {R"q(x =~offset 1w)q",
     R"q(1:3: parse error: unexpected character after '=': '~')q"},
    {R"q(na=~n)q",
     R"q(1:3: parse error: unexpected character after '=': '~')q"},
    {R"q(,.5)q",
     R"q(1:1: parse error: unexpected ",")q"},
    {R"q(0"a"8)q",
     R"q(1:2: parse error: unexpected string "\"a\"")q"},
    {R"q(p())q",
     R"q(1:1: parse error: unknown function with name "p")q"},
    {R"q(x{a=')q",
     R"q(1:5: parse error: unterminated quoted string)q"},
    {R"q(a atan b)q",
     R"q(1:3: parse error: unexpected identifier "atan")q"},
    {R"q(max_over_time(ra(x[5m])[30m:1m]))q",
     R"q(1:15: parse error: unknown function with name "ra")q"},
    {R"q(x)))q",
     R"q(1:3: parse error: unexpected right parenthesis ')')q"},
    {R"q("\xf")q",
     R"q(1:1: parse error: illegal character U+0022 '"' in escape sequence)q"},
    {R"q(histogramunt(x))q",
     R"q(1:1: parse error: unknown function with name "histogramunt")q"},
    {R"q('2 ^ -1)q",
     R"q(1:1: parse error: unterminated quoted string)q"},
    {R"q(a * ON( GROUP_LEFT b)q",
     R"q(1:20: parse error: unexpected identifier "b" in grouping opts, expected "," or ")")q"},
    {R"q(x offs)q",
     R"q(1:3: parse error: unexpected identifier "offs")q"},
    {R"q(sum witho)q",
     R"q(1:5: parse error: unexpected identifier "witho")q"},
    {R"q(stdvar by (a) (x) and - (1))q",
     R"q(1:1: parse error: set operator "and" not allowed in binary scalar expression)q"},
    {R"q(sar by (a) (x))q",
     R"q(1:5: parse error: unexpected <by>)q"},
    {R"q(x{a=")q",
     R"q(1:5: parse error: unterminated quoted string)q"},
    {R"q(vector(1)[5mx:])q",
     R"q(1:11: parse error: bad duration syntax: "5mx")q"},
    {R"q(0x10 +)q",
     R"q(1:7: parse error: unexpected end of input)q"},
    {R"q(x o)q",
     R"q(1:3: parse error: unexpected identifier "o")q"},
    {R"q({__name__="a)q",
     R"q(1:11: parse error: unterminated quoted string)q"},
    {R"q(1}.)q",
     R"q(1:2: parse error: unexpected character: '}')q"},
    {R"q("\a\b\f)q",
     R"q(1:1: parse error: unterminated quoted string)q"},
    {R"q(1 > bool 2 and a > bool 1)q",
     R"q(1:1: parse error: set operator "and" not allowed in binary scalar expression)q"},
    {R"q(rate(topk(3, x) by (job))q",
     R"q(1:25: parse error: unclosed left parenthesis)q"},
    {R"q(x[90)q",
     R"q(1:3: parse error: missing unit character in duration)q"},
    {R"q(2 !=^ 3 ^ 2)q",
     R"q(1:5: parse error: unexpected <op:^>)q"},
    {R"q(x{@a="b",c="d",})q",
     R"q(1:3: parse error: unexpected character inside braces: '@')q"},
    {R"q(na[5m]n)q",
     R"q(1:7: parse error: unexpected identifier "n")q"},
    {R"q(a > BOOL b[5m:])q",
     R"q(1:10: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(s group_left tdvar by (a) (x))q",
     R"q(1:3: parse error: unexpected <group_left>)q"},
    {R"q(a > bool )q",
     R"q(1:10: parse error: unexpected end of input)q"},
    {R"q(group(x)q",
     R"q(1:8: parse error: unclosed left parenthesis)q"},
    {R"q(Sum By (a) )q",
     R"q(1:12: parse error: unexpected end of input in aggregation)q"},
    {R"q(x[50x1p300ms])q",
     R"q(1:3: parse error: bad duration syntax: "50")q"},
    {R"q(sum by (job, instance, very_long_label_name_one, very_long_label_name_two) (rate(http_r!=equests_total{code=~"5..", handler!="/metrics"}[5m])))q",
     R"q(1:90: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q( @ 51E3)q",
     R"q(1:2: parse error: unexpected "<Item 57385>" <op:@>)q"},
    {R"q(a or b and c unss d)q",
     R"q(1:14: parse error: unexpected identifier "unss")q"},
    {R"q(vector(t()))q",
     R"q(1:8: parse error: unknown function with name "t")q"},
    {R"q(-+1==)q",
     R"q(1:6: parse error: unexpected end of input)q"},
    {R"q(ount_values("v", x))q",
     R"q(1:1: parse error: unknown function with name "ount_values")q"},
    {R"q(round(5))q",
     R"q(1:7: parse error: expected type instant vector in call to function "round", got scalar)q"},
    {R"q(1 offset 1m.e3)q",
     R"q(1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery)q"},
    {R"q(bottomk(5, )q",
     R"q(1:12: parse error: unclosed left parenthesis)q"},
    {R"q('start)q",
     R"q(1:1: parse error: unterminated quoted string)q"},
    {R"q(label_replace(x,)q",
     R"q(1:17: parse error: unclosed left parenthesis)q"},
    {R"q(x{a)q",
     R"q(1:4: parse error: unexpected end of input inside braces)q"},
    {R"q(round(x, )q",
     R"q(1:10: parse error: unclosed left parenthesis)q"},
    {R"q(rate(x[5m])[3,0m:1m])q",
     R"q(1:13: parse error: missing unit character in duration)q"},
    {R"q(x{a=~rate("\\d+"})q",
     R"q(1:6: parse error: unexpected identifier "rate" in label matching, expected string)q"},
    {R"q(x{a=a{"})q",
     R"q(1:5: parse error: unexpected identifier "a" in label matching, expected string)q"},
    {R"q(abs(-x)1)q",
     R"q(1:8: parse error: unexpected number "1")q"},
    {R"q(max_over_time()q",
     R"q(1:15: parse error: unclosed left parenthesis)q"},
    {R"q(a `* ON(x) GROUP_LEFT b)q",
     R"q(1:3: parse error: unterminated raw string)q"},
    {R"q(x{5ma="b"}[5m:])q",
     R"q(1:3: parse error: unexpected character inside braces: '5')q"},
    {R"q(x o==ffset 1m @ 10)q",
     R"q(1:3: parse error: unexpected identifier "o")q"},
    {R"q()q",
     R"q(1:1: parse error: no expression found in input)q"},
    {R"q(rate()q",
     R"q(1:6: parse error: unclosed left parenthesis)q"},
    {R"q(a == bo!=ol on(b) c)q",
     R"q(1:13: parse error: unexpected <on>)q"},
    {R"q(sum(x{a="b" offset 5m))q",
     R"q(1:13: parse error: unexpected identifier "offset" in label matching, expected "," or "}")q"},
    {R"q(x ofset 1w)q",
     R"q(1:3: parse error: unexpected identifier "ofset")q"},
    {R"q(x @ srt())q",
     R"q(1:5: parse error: unexpected identifier "srt" in @, expected timestamp)q"},
    {R"q(1 + 2 * 3 ^ 4 ^ 5 or x[5m] offset 1m @ 10)q",
     R"q(1:22: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(1 + 2 - )q",
     R"q(1:9: parse error: unexpected end of input)q"},
    {R"q()))q",
     R"q(1:2: parse error: unexpected right parenthesis ')')q"},
    {R"q(@x{a="b",})q",
     R"q(1:1: parse error: unexpected "<Item 57385>" <op:@>)q"},
    {R"q(x{a="b"x,})q",
     R"q(1:8: parse error: unexpected identifier "x" in label matching, expected "," or "}")q"},
    {R"q((1:))q",
     R"q(1:3: parse error: unexpected metric identifier ":")q"},
    {R"q('.5)q",
     R"q(1:1: parse error: unterminated quoted string)q"},
    {R"q(bttomk(5, x))q",
     R"q(1:1: parse error: unknown function with name "bttomk")q"},
    {R"q( group_left 1e21)q",
     R"q(1:2: parse error: unexpected <group_left>)q"},
    {R"q(1y])q",
     R"q(1:1: parse error: unexpected duration "1y")q"},
    {R"q(sum withou)q",
     R"q(1:5: parse error: unexpected identifier "withou")q"},
    {R"q(a or b a)q",
     R"q(1:8: parse error: unexpected identifier "a")q"},
    {R"q(label_join(x, "a", ",", "b", "c") or x[1h30m])q",
     R"q(1:38: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(-1 + -2 and -1 + -2)q",
     R"q(1:1: parse error: set operator "and" not allowed in binary scalar expression)q"},
    {R"q(-(2 =~^ 3))q",
     R"q(1:5: parse error: unexpected character after '=': '~')q"},
    {R"q(-1 + -)q",
     R"q(1:7: parse error: unexpected end of input)q"},
    {R"q(x{a="é\t\x)q",
     R"q(1:5: parse error: escape sequence not terminated)q"},
    {R"q(a,_b:c_d{e="f"})q",
     R"q(1:2: parse error: unexpected ",")q"},
    {R"q(a * ON(x) )q",
     R"q(1:11: parse error: unexpected end of input)q"},
    {R"q(x[500ms] / on(a) group_left a + on(x) group_left(y) b)q",
     R"q(1:1: parse error: binary expression must contain only scalar and instant vector types)q"},
    {R"q(xfset 1w)q",
     R"q(1:7: parse error: unexpected duration "1w")q"},
};

TEST(ParserTest, FormatsLikePrometheus) {
  for (const GoodCase& c : kGood) {
    auto e = ParseExpr(c.query);
    ASSERT_TRUE(e.ok()) << c.query << ": " << e.status();
    EXPECT_EQ(Format(**e), c.formatted) << c.query;
    EXPECT_EQ(Pretty(**e), c.formatted) << c.query;
  }
}

TEST(ParserTest, FormatRoundTrips) {
  for (const GoodCase& c : kGood) {
    auto e = ParseExpr(c.query);
    ASSERT_TRUE(e.ok()) << c.query;
    std::string f = Format(**e);
    auto again = ParseExpr(f);
    ASSERT_TRUE(again.ok()) << f << ": " << again.status();
    EXPECT_EQ(Format(**again), f);
  }
}

TEST(ParserTest, ErrorsLikePrometheus) {
  for (const BadCase& c : kBad) {
    auto e = ParseExpr(c.query);
    ASSERT_FALSE(e.ok()) << c.query;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message(), c.error) << c.query;
  }
}

TEST(ParserTest, MultiLineErrorPositions) {
  // Recorded from Prometheus 2.42: line:column counts lines from 1.
  EXPECT_EQ(ParseExpr("x +\n  foo(").status().message(),
            "2:7: parse error: unclosed left parenthesis");
  EXPECT_EQ(ParseExpr("sum(\n  rate(x[5m]) # c\n) by (a").status().message(),
            "3:8: parse error: unclosed left parenthesis");
  EXPECT_EQ(ParseExpr("a\n> 1\n>").status().message(),
            "3:2: parse error: unexpected end of input");
  EXPECT_EQ(ParseExpr("1 >\n 2").status().message(),
            "1:3: parse error: comparisons between scalars must use BOOL modifier");
  auto e = ParseExpr("x # c\n+ 1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Format(**e), "x + 1");
}

TEST(ParserTest, Ast) {
  auto e = ParseExpr("sum by (job) (rate(x{a=~\"b.*\"}[5m] offset -1m @ 1.5)) > bool 2");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto& bin = std::get<BinaryExpr>((*e)->node);
  EXPECT_EQ(bin.op, BinaryOp::kGtr);
  EXPECT_TRUE(bin.return_bool);
  EXPECT_FALSE(bin.matching.has_value());  // A scalar side: no vector matching.
  EXPECT_EQ(TypeOf(**e), ValueType::kVector);
  const auto& agg = std::get<AggregateExpr>(bin.lhs->node);
  EXPECT_EQ(agg.op, AggregateOp::kSum);
  EXPECT_EQ(agg.grouping, std::vector<std::string>{"job"});
  EXPECT_FALSE(agg.without);
  const auto& call = std::get<Call>(agg.expr->node);
  EXPECT_EQ(call.func->name, "rate");
  const auto& ms = std::get<MatrixSelector>(call.args[0]->node);
  EXPECT_EQ(ms.range_ms, 300000);
  const auto& vs = std::get<VectorSelector>(ms.vector_selector->node);
  EXPECT_EQ(vs.name, "x");
  EXPECT_EQ(vs.offset_ms, -60000);
  EXPECT_EQ(vs.at.kind, AtModifier::Kind::kTimestamp);
  EXPECT_EQ(vs.at.timestamp_ms, 1500);
  ASSERT_EQ(vs.matchers.size(), 2u);
  EXPECT_EQ(vs.matchers[1].name(), "__name__");  // The name matcher comes last.
  EXPECT_TRUE(vs.matchers[0].Matches("bcd"));
  EXPECT_FALSE(vs.matchers[0].Matches("abc"));  // Anchored.
  EXPECT_EQ(std::get<NumberLiteral>(bin.rhs->node).value, 2);
}

TEST(ParserTest, SetOperatorsAreManyToMany) {
  auto e = ParseExpr("a and on(x) b");
  ASSERT_TRUE(e.ok());
  const auto& bin = std::get<BinaryExpr>((*e)->node);
  ASSERT_TRUE(bin.matching.has_value());
  EXPECT_EQ(bin.matching->card, VectorMatching::Card::kManyToMany);
  EXPECT_TRUE(bin.matching->on);
}

TEST(ParserTest, Subquery) {
  auto e = ParseExpr("rate(x[5m])[1h:] @ end() offset 2m");
  ASSERT_TRUE(e.ok());
  const auto& sq = std::get<SubqueryExpr>((*e)->node);
  EXPECT_EQ(sq.range_ms, 3600000);
  EXPECT_EQ(sq.step_ms, 0);
  EXPECT_EQ(sq.offset_ms, 120000);
  EXPECT_EQ(sq.at.kind, AtModifier::Kind::kEnd);
  EXPECT_EQ(TypeOf(**e), ValueType::kMatrix);
}

TEST(ParserTest, Positions) {
  auto e = ParseExpr("  foo + sum(bar)");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->pos.start, 2);
  EXPECT_EQ((*e)->pos.end, 16);
}

TEST(ParserTest, MetricSelector) {
  auto m = ParseMetricSelector("up{job=\"a\", i!~\"b|c\"}");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[2].ToString(), "__name__=\"up\"");
  EXPECT_TRUE(ParseMetricSelector("{job=\"a\"}").ok());
  // As Prometheus's ParseMetricSelector: no check for a non-empty matcher.
  EXPECT_TRUE(ParseMetricSelector("{job=~\".*\"}").ok());
  EXPECT_FALSE(ParseMetricSelector("up + 1").ok());
  EXPECT_FALSE(ParseMetricSelector("up offset 5m").ok());
  EXPECT_FALSE(ParseMetricSelector("").ok());
}

TEST(ParserTest, DurationMs) {
  EXPECT_EQ(*ParseDurationMs("5m"), 300000);
  EXPECT_EQ(*ParseDurationMs("1h30m"), 5400000);
  EXPECT_EQ(*ParseDurationMs("1y"), 365LL * 86400000);
  EXPECT_EQ(*ParseDurationMs("1w2d"), 9LL * 86400000);
  EXPECT_EQ(*ParseDurationMs("1s500ms"), 1500);
  EXPECT_EQ(*ParseDurationMs("0"), 0);
  EXPECT_FALSE(ParseDurationMs("").ok());
  EXPECT_FALSE(ParseDurationMs("1.5").ok());
  EXPECT_FALSE(ParseDurationMs("1m1h").ok());
  EXPECT_FALSE(ParseDurationMs("5").ok());
  EXPECT_FALSE(ParseDurationMs("99999999999y").ok());
}

TEST(FunctionsTest, Table) {
  EXPECT_EQ(LookupFunction("foo"), nullptr);
  const FunctionInfo* f = LookupFunction("label_join");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->variadic, -1);
  EXPECT_EQ(f->arg_types.size(), 4u);
  f = LookupFunction("histogram_fraction");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->arg_types.size(), 3u);
  EXPECT_EQ(LookupFunction("time")->return_type, ValueType::kScalar);
  EXPECT_EQ(LookupFunction("round")->variadic, 1);
  EXPECT_EQ(AllFunctions().size(), 70u);
  for (const FunctionInfo& fi : AllFunctions()) EXPECT_EQ(LookupFunction(fi.name), &fi);
}

TEST(SeriesDescTest, Expansions) {
  auto d = ParseSeriesDesc("metric{a=\"b\"} 1+2x3 _ _x2 stale -1-1x2 3x1 Inf -Inf NaN");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->labels.ToString(), "{__name__=\"metric\", a=\"b\"}");
  std::vector<std::string> got;
  for (const SequenceValue& v : d->values) {
    if (v.omitted) {
      got.push_back("_");
    } else if (model::IsStaleNaN(v.value)) {
      got.push_back("stale");
    } else {
      got.push_back(std::to_string(v.value));
    }
  }
  std::vector<std::string> want = {"1.000000",  "3.000000", "5.000000",  "7.000000",
                                   "_",         "_",        "_",         "stale",
                                   "-1.000000", "-2.000000", "-3.000000", "3.000000",
                                   "3.000000",  "inf",      "-inf",      "nan"};
  EXPECT_EQ(got, want);
}

TEST(SeriesDescTest, LabelsOnly) {
  auto d = ParseSeriesDesc("{a=\"b\"}");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->labels.ToString(), "{a=\"b\"}");
  EXPECT_TRUE(d->values.empty());
  d = ParseSeriesDesc("{__name__=\"x\", job=\"a\"} 3");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->labels.MetricName(), "x");
  ASSERT_EQ(d->values.size(), 1u);
  EXPECT_EQ(d->values[0].value, 3);
  d = ParseSeriesDesc("x{job=\"a\"} 3");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->labels.ToString(), "{__name__=\"x\", job=\"a\"}");
  d = ParseSeriesDesc("up 1 2");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->values.size(), 2u);
  d = ParseSeriesDesc("up");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->values.empty());
}

TEST(SeriesDescTest, Errors) {
  EXPECT_FALSE(ParseSeriesDesc("x 1 foo").ok());
  EXPECT_FALSE(ParseSeriesDesc("x{a=1} 1").ok());
  EXPECT_FALSE(ParseSeriesDesc("x 1x").ok());
  EXPECT_FALSE(ParseSeriesDesc("x 1 $").ok());
  EXPECT_FALSE(ParseSeriesDesc("x{a=\"b\"").ok());
}

}  // namespace
}  // namespace vigil::promql
