#include "rules/template.h"

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace vigil::rules {
namespace {

// The expected outputs below are what Prometheus 2.42 renders (checked with
// promtool; tests/template_promtool_test.cc compares a larger corpus).

TemplateData Data() {
  TemplateData d;
  d.labels = {{"instance", "host.example.com:9090"}, {"job", "node"}};
  d.external_labels = {{"region", "eu"}};
  d.external_url = "http://prom.example.com/prom";
  d.value = 1.5;
  return d;
}

absl::StatusOr<std::vector<QuerySample>> FakeQuery(absl::string_view q) {
  using L = std::map<std::string, std::string>;
  if (q == "up") {
    return std::vector<QuerySample>{{L{{"__name__", "up"}, {"instance", "b:1"}, {"job", "x"}}, 1},
                                    {L{{"__name__", "up"}, {"instance", "a:2"}, {"job", "y"}}, 0}};
  }
  if (q == "none") return std::vector<QuerySample>{};
  if (q == "str") return std::vector<QuerySample>{{L{{"__value__", "hello"}}, 0}};
  return absl::InvalidArgumentError("1:5: parse error: unclosed left parenthesis");
}

TemplateEnv Env() {
  TemplateEnv env;
  env.query = FakeQuery;
  env.path_prefix = "/prom";
  env.external_url = "http://prom.example.com/prom";
  return env;
}

// Renders `text` as an alerting rule annotation.
std::string Render(absl::string_view text, const TemplateEnv& env = Env()) {
  bool ok;
  return ExpandRuleTemplate("__alert_A", text, Data(), env, &ok);
}

// The message of the error `text` fails with, without the prefix that
// Prometheus adds.
std::string RenderError(absl::string_view text) {
  bool ok;
  const std::string out = ExpandRuleTemplate("__alert_A", text, Data(), Env(), &ok);
  EXPECT_FALSE(ok) << text;
  const std::string prefix = "<error expanding template: error executing template __alert_A: ";
  if (out.rfind(prefix, 0) != 0 || out.back() != '>') return "unexpected: " + out;
  return out.substr(prefix.size(), out.size() - prefix.size() - 1);
}

// The column of errors in a rule template counts Prometheus's prelude.
constexpr int kPrelude = 112;

std::string At(int col, absl::string_view context, absl::string_view what) {
  return absl::StrCat("template: __alert_A:1:", kPrelude + col, ": executing \"__alert_A\" at <",
                      context, ">: ", what);
}

// --- Text, data and variables. ---

TEST(TemplateTest, TextPassesThrough) { EXPECT_EQ(Render("plain {text}"), "plain {text}"); }

TEST(TemplateTest, RuleVariables) {
  EXPECT_EQ(
      Render("{{ $labels.job }} {{ $value }} {{ $externalLabels.region }} {{ $externalURL }}"),
      "node 1.5 eu http://prom.example.com/prom");
}

TEST(TemplateTest, DotFields) {
  EXPECT_EQ(Render("{{ .Labels.job }}|{{ .Value }}|{{ .ExternalLabels }}|{{ .ExternalURL }}"),
            "node|1.5|map[region:eu]|http://prom.example.com/prom");
}

TEST(TemplateTest, DotPrintsAsGoStruct) {
  EXPECT_EQ(Render("{{ . }}"),
            "{map[instance:host.example.com:9090 job:node] map[region:eu] "
            "http://prom.example.com/prom 1.5}");
}

TEST(TemplateTest, MissingLabelIsEmpty) {
  EXPECT_EQ(Render("[{{ $labels.nope }}][{{ index .Labels \"nope\" }}]"), "[][]");
}

TEST(TemplateTest, MissingInterfaceKeyIsNoValue) {
  EXPECT_EQ(Render("{{ (args 1).arg5 }}|{{ print (args 1).arg5 }}"), "<no value>|<nil>");
}

TEST(TemplateTest, ValuePrintsAsGoFloat) {
  TemplateData d = Data();
  bool ok;
  d.value = 1e6;
  EXPECT_EQ(ExpandRuleTemplate("x", "{{ $value }}", d, Env(), &ok), "1e+06");
  d.value = 123456;
  EXPECT_EQ(ExpandRuleTemplate("x", "{{ $value }}", d, Env(), &ok), "123456");
  d.value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(ExpandRuleTemplate("x", "{{ $value }}", d, Env(), &ok), "NaN");
  d.value = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(ExpandRuleTemplate("x", "{{ $value }}", d, Env(), &ok), "-Inf");
}

TEST(TemplateTest, DeclareAndAssign) {
  EXPECT_EQ(Render("{{ $x := 1 }}{{ $x }}{{ $x = \"two\" }}{{ $x }}"), "1two");
}

TEST(TemplateTest, AssignmentInsideIfPersists) {
  EXPECT_EQ(Render("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}"), "2");
}

TEST(TemplateTest, DollarIsTheData) { EXPECT_EQ(Render("{{ $.Labels.job }}"), "node"); }

// --- Syntax. ---

TEST(TemplateTest, TrimMarkers) {
  EXPECT_EQ(Render("a  {{- 1 -}}  b"), "a1b");
  EXPECT_EQ(Render("a {{-1}}"), "a -1");  // "-1" is a number, not a marker.
  EXPECT_EQ(Render("x\n  {{- \"y\" }}\n"), "xy\n");
}

TEST(TemplateTest, Comments) {
  EXPECT_EQ(Render("a{{/* one */}}b{{- /* two\nlines */ -}} c"), "abc");
}

TEST(TemplateTest, NumberConstants) {
  EXPECT_EQ(
      Render("{{ 010 }} {{ 0x1F }} {{ 1e3 }} {{ 1.0 }} {{ 'a' }} {{ 0b101 }} {{ 1_000 }} {{ .5 }}"),
      "8 31 1000 1 97 5 1000 0.5");
}

TEST(TemplateTest, StringConstants) {
  EXPECT_EQ(Render("{{ \"a\\tb\\u00e9\" }}|{{ `raw\\n` }}"), "a\tbé|raw\\n");
}

TEST(TemplateTest, BoolConstants) { EXPECT_EQ(Render("{{ true }} {{ false }}"), "true false"); }

TEST(TemplateTest, PipelinePassesLastArgument) {
  EXPECT_EQ(Render("{{ \"x\" | printf \"%s-%s\" \"y\" }}"), "y-x");
  EXPECT_EQ(Render("{{ 1234 | humanize }}"), "1.234k");
}

TEST(TemplateTest, ParenthesizedPipelineAndChain) {
  EXPECT_EQ(Render("{{ (query \"up\" | first).Labels.instance }}|{{ (args 1 2).arg1 }}"), "b:1|2");
}

TEST(TemplateTest, NewlinesInsideActions) {
  EXPECT_EQ(Render("{{\n  humanize\n  2048\n}}"), "2.048k");
}

// --- Control structures. ---

TEST(TemplateTest, IfElseIfElse) {
  EXPECT_EQ(
      Render("{{ if eq $labels.job \"x\" }}a{{ else if gt $value 1.0 }}b{{ else }}c{{ end }}"),
      "b");
}

TEST(TemplateTest, IfTruth) {
  EXPECT_EQ(Render("{{ if 0 }}a{{ end }}{{ if \"\" }}b{{ end }}{{ if .Labels }}c{{ end }}"
                   "{{ if query \"none\" }}d{{ end }}{{ if 0.5 }}e{{ end }}"),
            "ce");
}

TEST(TemplateTest, WithElse) {
  EXPECT_EQ(Render("{{ with $labels.job }}[{{ . }}]{{ end }}{{ with $labels.nope }}x{{ else "
                   "}}none{{ end }}"),
            "[node]none");
}

TEST(TemplateTest, RangeOverMapInKeyOrder) {
  EXPECT_EQ(Render("{{ range $k, $v := .Labels }}{{ $k }}={{ $v }};{{ end }}"),
            "instance=host.example.com:9090;job=node;");
  EXPECT_EQ(Render("{{ range .Labels }}{{ . }},{{ end }}"), "host.example.com:9090,node,");
}

TEST(TemplateTest, RangeOverQueryResult) {
  EXPECT_EQ(Render("{{ range $i, $s := query \"up\" }}{{ $i }}:{{ $s.Labels.instance }}={{ .Value "
                   "}} {{ end }}"),
            "0:b:1=1 1:a:2=0 ");
}

TEST(TemplateTest, RangeElseWhenEmpty) {
  EXPECT_EQ(Render("{{ range query \"none\" }}x{{ else }}empty{{ end }}"), "empty");
}

TEST(TemplateTest, BreakAndContinue) {
  EXPECT_EQ(Render("{{ range $i, $s := query \"up\" }}{{ if eq $i 0 }}{{ continue }}{{ end }}"
                   "[{{ $i }}]{{ end }}|{{ range query \"up\" }}x{{ break }}{{ end }}"),
            "[1]|x");
}

TEST(TemplateTest, RangeCannotIterateOverNumbers) {
  EXPECT_EQ(RenderError("{{ range 5 }}x{{ end }}"), At(9, "5", "range can't iterate over 5"));
}

TEST(TemplateTest, DefineAndTemplate) {
  EXPECT_EQ(Render("{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" $labels.job }}{{ "
                   "template \"t\" }}"),
            "[node][<no value>]");
}

TEST(TemplateTest, TemplateWithArgs) {
  EXPECT_EQ(
      Render(
          "{{ define \"m\" }}{{ .arg0 }}+{{ .arg1 }}{{ end }}{{ template \"m\" (args 1 \"b\") }}"),
      "1+b");
}

TEST(TemplateTest, Block) { EXPECT_EQ(Render("{{ block \"b\" 5 }}<{{ . }}>{{ end }}"), "<5>"); }

TEST(TemplateTest, RecursiveTemplateStopsAtDepthLimit) {
  const std::string err =
      RenderError("{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}");
  EXPECT_NE(err.find("exceeded maximum template depth"), std::string::npos) << err;
}

TEST(TemplateTest, ErrorInsideDefinedTemplateNamesIt) {
  EXPECT_EQ(RenderError("{{ define \"e\" }}{{ humanize \"x\" }}{{ end }}{{ template \"e\" }}"),
            absl::StrCat("template: __alert_A:1:", kPrelude + 19,
                         ": executing \"e\" at <humanize \"x\">: error calling humanize: "
                         "strconv.ParseFloat: parsing \"x\": invalid syntax"));
}

// --- Builtins. ---

TEST(TemplateTest, AndOrReturnOperands) {
  EXPECT_EQ(Render("{{ and 1 2 }}|{{ and 0 2 }}|{{ or 0 \"\" }}|{{ or 0 3 }}"), "2|0||3");
}

TEST(TemplateTest, AndOrShortCircuit) {
  EXPECT_EQ(Render("{{ and 0 (humanize \"x\") }}|{{ or 1 (humanize \"x\") }}"), "0|1");
}

TEST(TemplateTest, Not) {
  EXPECT_EQ(Render("{{ not 0 }} {{ not \"a\" }} {{ not nil }}"), "true false true");
}

TEST(TemplateTest, Len) {
  EXPECT_EQ(Render("{{ len \"héllo\" }} {{ len .Labels }} {{ len (query \"up\") }}"), "6 2 2");
  EXPECT_EQ(RenderError("{{ len 3 }}"), At(3, "len 3", "error calling len: len of type int"));
}

TEST(TemplateTest, Index) {
  EXPECT_EQ(
      Render(
          "{{ index .Labels \"job\" }}|{{ index \"abc\" 1 }}|{{ index (args 1 \"x\") \"arg1\" }}"),
      "node|98|x");
  EXPECT_EQ(RenderError("{{ index .Labels 1 }}"),
            At(3, "index .Labels 1", "error calling index: value has type int; should be string"));
  EXPECT_EQ(RenderError("{{ index (query \"up\") 5 }}"),
            At(3, "index (query \"up\") 5", "error calling index: index out of range: 5"));
}

TEST(TemplateTest, Slice) {
  EXPECT_EQ(
      Render("{{ slice \"abcdef\" 1 3 }}|{{ slice \"abc\" 1 }}|{{ slice (query \"up\") 1 | len }}"),
      "bc|bc|1");
  EXPECT_EQ(RenderError("{{ slice \"abc\" 2 1 }}"),
            At(3, "slice \"abc\" 2 1", "error calling slice: invalid slice index: 2 > 1"));
}

TEST(TemplateTest, Comparisons) {
  EXPECT_EQ(Render("{{ eq 1 1 }} {{ eq \"a\" \"b\" \"a\" }} {{ ne 1 2 }} {{ lt \"a\" \"b\" }} "
                   "{{ le 2 2 }} {{ gt 2.5 1.5 }} {{ ge 3 4 }} {{ eq (index \"a\" 0) 97 }}"),
            "true true true true true true false true");
}

TEST(TemplateTest, ComparingFloatWithIntFails) {
  EXPECT_EQ(RenderError("{{ gt $value 1 }}"),
            At(3, "gt $value 1", "error calling gt: incompatible types for comparison"));
  EXPECT_EQ(Render("{{ gt $value 1.0 }}"), "true");
}

TEST(TemplateTest, ComparingMapsFails) {
  EXPECT_EQ(RenderError("{{ lt .Labels 1 }}"),
            At(3, "lt .Labels 1", "error calling lt: invalid type for comparison"));
}

TEST(TemplateTest, Print) {
  EXPECT_EQ(Render("{{ print 1 2 \"a\" \"b\" 3 true 4.5 nil }}|{{ println 1 \"a\" }}"),
            "1 2ab3 true 4.5 <nil>|1 a\n");
}

TEST(TemplateTest, PrintfIntegers) {
  EXPECT_EQ(Render("{{ printf \"%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%c|%q|%U\" 42 42 42 42 42 255 255 "
                   "8 5 65 65 65 }}"),
            "42|   42|42   |00042|+42|ff|FF|10|101|A|'A'|U+0041");
}

TEST(TemplateTest, PrintfFloats) {
  EXPECT_EQ(Render("{{ printf \"%f|%.2f|%8.3f|%e|%g|%.3g|%v|%5.1f%%\" 3.14159 3.14159 3.14159 "
                   "1234.5678 1234.5678 1234.5678 0.1 99.123 }}"),
            "3.141590|3.14|   3.142|1.234568e+03|1234.5678|1.23e+03|0.1| 99.1%");
}

TEST(TemplateTest, PrintfStrings) {
  EXPECT_EQ(Render("{{ printf \"%s|%10s|%-4s|%.2s|%q|%x\" \"abc\" \"abc\" \"é\" \"abc\" \"a\\\"b\" "
                   "\"hi\" }}"),
            "abc|       abc|é   |ab|\"a\\\"b\"|6869");
}

TEST(TemplateTest, PrintfErrorsInline) {
  EXPECT_EQ(Render("{{ printf \"%d %d\" 1 }}|{{ printf \"%d\" 1 2 }}|{{ printf \"%s\" 1 }}|{{ "
                   "printf \"%\" }}"),
            "1 %!d(MISSING)|1%!(EXTRA int=2)|%!s(int=1)|%!(NOVERB)");
}

TEST(TemplateTest, PrintfComposites) {
  EXPECT_EQ(Render("{{ printf \"%v\" .Labels }}|{{ printf \"%+v\" (query \"up\" | first) }}"),
            "map[instance:host.example.com:9090 job:node]|"
            "&{Labels:map[__name__:up instance:b:1 job:x] Value:1}");
}

TEST(TemplateTest, PrintfTypes) {
  EXPECT_EQ(Render("{{ printf \"%T %T %T %T %T\" 1 1.0 .Labels (query \"up\") (safeHtml \"x\") }}"),
            "int float64 map[string]string template.queryResult template.HTML");
}

TEST(TemplateTest, HtmlJsUrlquery) {
  EXPECT_EQ(
      Render("{{ html \"<a href='x'>&\\\"\" }}|{{ js \"a'b<\\n\" }}|{{ urlquery \"a b&c/é\" }}"),
      "&lt;a href=&#39;x&#39;&gt;&amp;&#34;|a\\'b\\u003C\\u000A|a+b%26c%2F%C3%A9");
}

TEST(TemplateTest, CallHasNoFunctionsToCall) {
  EXPECT_EQ(RenderError("{{ call 1 }}"),
            At(3, "call 1", "error calling call: non-function of type int"));
}

// --- Prometheus's functions. ---

TEST(TemplateTest, Humanize) {
  EXPECT_EQ(
      Render("{{ humanize 1234567 }}|{{ humanize 0 }}|{{ humanize 0.001234 }}|{{ humanize -1234 }}|"
             "{{ humanize 999.99 }}|{{ humanize 1e-30 }}|{{ humanize 1e30 }}|{{ humanize 0.5 }}"),
      "1.235M|0|1.234m|-1.234k|1000|1e-06y|1e+06Y|500m");
}

TEST(TemplateTest, Humanize1024) {
  EXPECT_EQ(Render("{{ humanize1024 1024 }}|{{ humanize1024 1023 }}|{{ humanize1024 1e30 }}|"
                   "{{ humanize1024 0.5 }}|{{ humanize1024 1536 }}"),
            "1ki|1023|8.272e+05Yi|0.5|1.5ki");
}

TEST(TemplateTest, HumanizeDuration) {
  EXPECT_EQ(
      Render("{{ humanizeDuration 0 }}|{{ humanizeDuration 0.5 }}|{{ humanizeDuration 59.5 }}|"
             "{{ humanizeDuration 90 }}|{{ humanizeDuration 3600 }}|{{ humanizeDuration 86400.5 }}|"
             "{{ humanizeDuration -90 }}|{{ humanizeDuration 1e-10 }}"),
      "0s|500ms|59.5s|1m 30s|1h 0m 0s|1d 0h 0m 0s|-1m 30s|100ps");
}

TEST(TemplateTest, HumanizePercentage) {
  EXPECT_EQ(Render("{{ humanizePercentage 0.1234 }}|{{ humanizePercentage 1 }}"), "12.34%|100%");
}

TEST(TemplateTest, HumanizeTimestamp) {
  EXPECT_EQ(Render("{{ humanizeTimestamp 0 }}|{{ humanizeTimestamp 1679000000.5 }}|"
                   "{{ humanizeTimestamp 1.123456789 }}|{{ humanizeTimestamp -1.5 }}|"
                   "{{ humanizeTimestamp \"NaN\" }}"),
            "1970-01-01 00:00:00 +0000 UTC|2023-03-16 20:53:20.5 +0000 UTC|"
            "1970-01-01 00:00:01.123 +0000 UTC|1969-12-31 23:59:58.5 +0000 UTC|NaN");
  EXPECT_EQ(RenderError("{{ humanizeTimestamp 1e12 }}"),
            At(3, "humanizeTimestamp 1e12",
               "error calling humanizeTimestamp: 1e+12 cannot be represented as a nanoseconds "
               "timestamp since it overflows int64"));
}

TEST(TemplateTest, HumanizeAcceptsStrings) {
  EXPECT_EQ(Render("{{ humanize \"1e3\" }}|{{ humanize \"+Inf\" }}|{{ humanize \"1_000\" }}|"
                   "{{ humanize \"0x1p4\" }}|{{ humanize \"nan\" }}"),
            "1k|+Inf|1k|16|NaN");
}

TEST(TemplateTest, HumanizeRejectsOtherTypes) {
  EXPECT_EQ(RenderError("{{ humanize \"abc\" }}"),
            At(3, "humanize \"abc\"",
               "error calling humanize: strconv.ParseFloat: parsing \"abc\": invalid syntax"));
  EXPECT_EQ(RenderError("{{ humanize true }}"),
            At(3, "humanize true", "error calling humanize: can't convert bool to float"));
  EXPECT_EQ(
      RenderError("{{ humanize \"1e400\" }}"),
      At(3, "humanize \"1e400\"",
         "error calling humanize: strconv.ParseFloat: parsing \"1e400\": value out of range"));
}

TEST(TemplateTest, QueryFirstLabelValue) {
  EXPECT_EQ(
      Render("{{ query \"up\" | first | label \"instance\" }}|{{ query \"up\" | first | value }}|"
             "{{ query \"up\" | first }}"),
      "b:1|1|{map[__name__:up instance:b:1 job:x] 1}");
}

TEST(TemplateTest, FirstOfEmptyResultFails) {
  EXPECT_EQ(RenderError("{{ query \"none\" | first }}"),
            At(18, "first", "error calling first: first() called on vector with no elements"));
}

TEST(TemplateTest, QueryErrorIsReported) {
  EXPECT_EQ(
      RenderError("{{ query \"bad(\" }}"),
      At(3, "query \"bad(\"", "error calling query: 1:5: parse error: unclosed left parenthesis"));
}

TEST(TemplateTest, QueryWithoutEngineFails) {
  bool ok;
  const std::string out =
      ExpandRuleTemplate("__alert_A", "{{ query \"up\" }}", Data(), TemplateEnv(), &ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(out.find("error calling query"), std::string::npos) << out;
}

TEST(TemplateTest, SortByLabel) {
  EXPECT_EQ(
      Render("{{ range sortByLabel \"instance\" (query \"up\") }}{{ .Labels.instance }} {{ end }}"),
      "a:2 b:1 ");
}

TEST(TemplateTest, StrValue) {
  EXPECT_EQ(Render("{{ query \"str\" | first | strvalue }}"), "hello");
}

TEST(TemplateTest, Args) {
  EXPECT_EQ(Render("{{ args 1 \"a\" }}|{{ (args 1 2).arg1 }}"), "map[arg0:1 arg1:a]|2");
}

TEST(TemplateTest, TitleUpperLower) {
  EXPECT_EQ(Render("{{ title \"hello wORLD-foo_bar x.y ñu\" }}|{{ toUpper \"héllo\" }}|{{ toLower "
                   "\"ÀB\" }}"),
            "Hello WORLD-Foo_bar X.Y Ñu|HÉLLO|àb");
}

TEST(TemplateTest, Match) {
  EXPECT_EQ(Render("{{ match \"a.c\" \"xxabcxx\" }}|{{ match \"^a\" \"ba\" }}"), "true|false");
  EXPECT_EQ(RenderError("{{ match \"(\" \"x\" }}"),
            At(3, "match \"(\" \"x\"",
               "error calling match: error parsing regexp: missing closing ): `(`"));
}

TEST(TemplateTest, ReReplaceAll) {
  EXPECT_EQ(Render("{{ reReplaceAll \"(a+)\" \"<$1>\" \"baaac aa\" }}|{{ reReplaceAll \"a*\" \"-\" "
                   "\"baaac\" }}|"
                   "{{ reReplaceAll \"(?P<x>b)\" \"${x}$1x$$\" \"abc\" }}|"
                   "{{ $labels.instance | reReplaceAll \":.*\" \"\" }}"),
            "b<aaa>c <aa>|-b-c-|ab$c|host.example.com");
  EXPECT_EQ(RenderError("{{ reReplaceAll \"(\" \"x\" \"y\" }}"),
            At(3, "reReplaceAll \"(\" \"x\" \"y\"",
               "error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: "
               "missing closing ): `(`"));
}

TEST(TemplateTest, StripPortAndDomain) {
  EXPECT_EQ(
      Render("{{ stripPort \"host:80\" }}|{{ stripPort \"[::1]:80\" }}|{{ stripPort \"host\" }}|"
             "{{ stripPort \"a:b:c\" }}"),
      "host|::1|host|a:b:c");
  EXPECT_EQ(Render("{{ stripDomain \"a.b.c:80\" }}|{{ stripDomain \"1.2.3.4:5\" }}|"
                   "{{ stripDomain \"[::1]:80\" }}|{{ stripDomain \"localhost\" }}"),
            "a:80|1.2.3.4:5|[::1]:80|localhost");
}

TEST(TemplateTest, Links) {
  EXPECT_EQ(Render("{{ graphLink \"up{a=\\\"b c\\\"}\" }}|{{ tableLink \"x\" }}"),
            "/graph?g0.expr=up%7Ba%3D%22b+c%22%7D&g0.tab=0|/graph?g0.expr=x&g0.tab=1");
}

TEST(TemplateTest, PathPrefixAndExternalUrl) {
  EXPECT_EQ(Render("{{ pathPrefix }}|{{ externalURL }}"), "/prom|http://prom.example.com/prom");
}

TEST(TemplateTest, SafeHtml) {
  EXPECT_EQ(Render("{{ safeHtml \"<b>\" }}|{{ printf \"%T\" (safeHtml \"<b>\") }}"),
            "<b>|template.HTML");
  EXPECT_EQ(RenderError("{{ toUpper (safeHtml \"a\") }}"),
            At(21, "\"a\"", "wrong type for value; expected string; got template.HTML"));
}

TEST(TemplateTest, ParseDuration) {
  EXPECT_EQ(
      Render("{{ parseDuration \"1h30m\" }}|{{ parseDuration \"0\" }}|{{ parseDuration \"5ms\" }}"),
      "5400|0|0.005");
  EXPECT_EQ(RenderError("{{ parseDuration \"1.5h\" }}"),
            At(3, "parseDuration \"1.5h\"",
               "error calling parseDuration: not a valid duration string: \"1.5h\""));
}

TEST(TemplateTest, ToTime) {
  EXPECT_EQ(Render("{{ toTime 1.5 }}|{{ (toTime 1.5).Unix }}"),
            "1970-01-01 00:00:01.5 +0000 UTC|1");
  EXPECT_EQ(RenderError("{{ toTime \"NaN\" }}"),
            At(3, "toTime \"NaN\"", "error calling toTime: value is NaN or Inf"));
}

// --- Errors. ---

TEST(TemplateTest, ArgumentTypeErrors) {
  EXPECT_EQ(RenderError("{{ toUpper 1 }}"), At(11, "1", "expected string; found 1"));
  EXPECT_EQ(RenderError("{{ toUpper $value }}"),
            At(11, "$value", "wrong type for value; expected string; got float64"));
  EXPECT_EQ(RenderError("{{ humanize 1 2 }}"),
            At(3, "humanize", "wrong number of args for humanize: want 1 got 2"));
}

TEST(TemplateTest, FieldErrors) {
  EXPECT_EQ(RenderError("{{ $value.Foo }}"),
            At(9, "$value.Foo", "can't evaluate field Foo in type float64"));
  EXPECT_EQ(RenderError("{{ .Labels \"x\" }}"),
            At(3, ".Labels", "Labels has arguments but cannot be invoked as function"));
  EXPECT_EQ(RenderError("{{ nil }}"), At(3, "nil", "nil is not a command"));
}

TEST(TemplateTest, ErrorCitesLineAndColumn) {
  bool ok;
  EXPECT_EQ(ExpandRuleTemplate("__alert_A", "a\nbc {{ humanize \"x\" }}", Data(), Env(), &ok),
            "<error expanding template: error executing template __alert_A: template: "
            "__alert_A:2:6: executing \"__alert_A\" at <humanize \"x\">: error calling humanize: "
            "strconv.ParseFloat: parsing \"x\": invalid syntax>");
}

TEST(TemplateTest, ParseErrorInRuleTemplate) {
  bool ok = true;
  EXPECT_EQ(ExpandRuleTemplate("__alert_A", "{{ foo }}", Data(), Env(), &ok),
            "<error expanding template: error parsing template __alert_A: template: __alert_A:1: "
            "function \"foo\" not defined>");
  EXPECT_FALSE(ok);
}

TEST(TemplateTest, CheckRuleTemplate) {
  EXPECT_TRUE(CheckRuleTemplate("__alert_A", "{{ $labels.job }}").ok());
  EXPECT_EQ(
      CheckRuleTemplate("__alert_A", "x\n{{ if 1 }}\n{{ else }}\n{{ else }}{{ end }}").message(),
      "template: __alert_A:4: expected end; found {{else}}");
  EXPECT_EQ(CheckRuleTemplate("__alert_A", "{{ .foo\n\n").message(),
            "template: __alert_A:3: unclosed action started at __alert_A:1");
  EXPECT_EQ(CheckRuleTemplate("__alert_A", "{{ 3x }}").message(),
            "template: __alert_A:1: bad number syntax: \"3x\"");
  EXPECT_EQ(CheckRuleTemplate("__alert_A", "{{ define \"a\" }}{{ $labels }}{{ end }}").message(),
            "template: __alert_A:1: undefined variable \"$labels\"");
  EXPECT_EQ(CheckRuleTemplate("__alert_A", "{{ break }}").message(),
            "template: __alert_A:1: {{break}} outside {{range}}");
  EXPECT_EQ(CheckRuleTemplate("__alert_A", "{{ 1 | 2 }}").message(),
            "template: __alert_A:1: non executable command in pipeline stage 2");
  EXPECT_EQ(CheckRuleTemplate("__alert_A", "{{/* c */ }}").message(),
            "template: __alert_A:1: comment ends before closing delimiter");
}

// --- The Template API. ---

TEST(TemplateTest, ParseAndExecuteWithoutPrelude) {
  absl::StatusOr<Template> t =
      Template::Parse("summary", "{{ $labels.job }}={{ $value }} {{ .Labels.job }}");
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<std::string> out = t->Execute(Data(), Env());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "node=1.5 node");
}

TEST(TemplateTest, ParseErrorsCountFromTheText) {
  EXPECT_EQ(Template::Parse("summary", "ok\n{{ foo }}").status().message(),
            "template: summary:2: function \"foo\" not defined");
}

TEST(TemplateTest, ExecuteErrorsCountFromTheText) {
  absl::StatusOr<Template> t = Template::Parse("summary", "{{ humanize \"x\" }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(
      t->Execute(Data(), Env()).status().message(),
      "template: summary:1:3: executing \"summary\" at <humanize \"x\">: error calling humanize: "
      "strconv.ParseFloat: parsing \"x\": invalid syntax");
}

TEST(TemplateTest, ParseRuleExecutesLikeExpand) {
  absl::StatusOr<Template> t =
      Template::ParseRule("__alert_A", "{{ $labels.job }} {{ humanize $value }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t->Execute(Data(), Env()), "node 1.5");
}

TEST(TemplateTest, UnparsedTemplateFails) { EXPECT_FALSE(Template().Execute(Data(), Env()).ok()); }

TEST(TemplateTest, ConcurrentExecutions) {
  absl::StatusOr<Template> t = Template::ParseRule(
      "__alert_A",
      "{{ range $k, $v := $labels }}{{ $k }}={{ $v | toUpper }} {{ end }}{{ humanize $value }}");
  ASSERT_TRUE(t.ok());
  std::vector<std::thread> threads;
  std::vector<std::string> outs(4);
  for (size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k) outs[i] = t->Execute(Data(), Env()).value_or("error");
    });
  }
  for (std::thread& th : threads) th.join();
  for (const std::string& o : outs) EXPECT_EQ(o, "instance=HOST.EXAMPLE.COM:9090 job=NODE 1.5");
}

}  // namespace
}  // namespace vigil::rules
