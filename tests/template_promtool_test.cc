// Rule templates rendered by Vigil and by Prometheus 2.42's promtool must
// be byte for byte the same. promtool renders annotations in `test rules`
// and prints what it got when a test fails; each corpus template becomes
// an annotation of one firing alert whose expected annotations are empty,
// so the test fails and promtool prints every rendering. Templates that do
// not parse make promtool fail at rule loading, printing each error.
// Skipped when promtool (scripts/install-deps.sh) is missing.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/utf8.h"
#include "gtest/gtest.h"
#include "rules/template.h"

namespace vigil::rules {
namespace {

constexpr char kPromtool[] = "/usr/bin/promtool";
constexpr char kAlertName[] = "A";
constexpr char kTemplateName[] = "__alert_A";

// The series of the unit test. The alert `up{job="j"} * 1.5` fires once
// with value 1.5 and the labels of the first series without __name__.
constexpr char kInputSeries[] = R"(
  - series: 'up{job="j", instance="host.example.com:9090"}'
    values: '1'
  - series: 'up{job="k", instance="h2:80"}'
    values: '0'
  - series: 'mem{job="k", instance="h2:80"}'
    values: '1234567')";

// What Prometheus's engine answers at time 0 for the queries the corpus
// runs (sorted, as the order of an unsorted vector varies).
absl::StatusOr<std::vector<QuerySample>> CannedQuery(absl::string_view q) {
  using L = std::map<std::string, std::string>;
  if (q == "sort_desc(up)") {
    return std::vector<QuerySample>{
        {L{{"__name__", "up"}, {"instance", "host.example.com:9090"}, {"job", "j"}}, 1},
        {L{{"__name__", "up"}, {"instance", "h2:80"}, {"job", "k"}}, 0}};
  }
  if (q == "mem" || q == "mem{instance='h2:80'}") {
    return std::vector<QuerySample>{
        {L{{"__name__", "mem"}, {"instance", "h2:80"}, {"job", "k"}}, 1234567}};
  }
  if (q == "nonexistent" || q == "mem{instance='host.example.com:9090'}")
    return std::vector<QuerySample>{};
  if (q == "1+1") return std::vector<QuerySample>{{L{}, 2}};
  if (q == "\"a\"") return absl::InvalidArgumentError("rule result is not a vector or scalar");
  return absl::InvalidArgumentError(absl::StrCat("no canned answer for ", q));
}

// Templates that parse; their renderings (or execution errors) compare.
const char* const kRenderCorpus[] = {
    // Text, variables, fields.
    "plain text",
    "{{ $labels.job }} {{ $labels.instance }} {{ $value }}",
    "{{ .Labels.job }}|{{ .Value }}|{{ .ExternalURL }}|{{ .ExternalLabels }}|{{ $externalURL }}",
    "{{ .Labels }}|{{ $labels.nope }}|{{ .Labels.nope }}",
    "{{ . }}",
    "{{ $ }}",
    "{{ $x := 1 }}{{ $x }}{{ $x = \"two\" }}{{ $x }}",
    "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $z := 3 }}{{ end }}{{ $x }}",
    "{{ $ := 5 }}{{ $ }}",
    "{{ $value.Foo }}",
    "{{ .Labels.job.x }}",
    "{{ .Foo }}",
    "{{ .Labels \"x\" }}",
    "{{ $labels.job \"x\" }}",
    "{{ $y = 1 }}",
    // Constants and printing.
    "{{ 010 }}|{{ 0x1F }}|{{ 1e3 }}|{{ 1.0 }}|{{ 'a' }}|{{ -0 }}|{{ 0b101 }}|{{ 0o17 }}|{{ 1_000 }}"
    "|{{ 0x1p4 }}|{{ +5 }}|{{ .5 }}|{{ 1e6 }}|{{ 1e21 }}|{{ 123456789.0 }}|{{ 0.000001 }}",
    "{{ true }}|{{ false }}|{{ \"str\" }}|{{ `raw\\n` }}|{{ \"\\u00e9\\x41\\101\\t\" }}",
    "{{ 1 2 }}",
    "{{ nil }}",
    "{{ nil | print }}",
    // Trimming and comments.
    "{{- \" a \" -}} | {{- \"b\" }}  {{ \"c\" -}}   x",
    "a  {{- /* c */ -}}  b\n{{ \"x\" }}",
    "a {{/* comment */}} b {{- /* multi\nline */}} c",
    "x\n  {{- 1 -}}\n  y",
    // Control structures.
    "{{ if eq $labels.job \"j\" }}yes{{ else }}no{{ end }}",
    "{{ if and 1 0 }}a{{ else if or 0 \"\" }}b{{ else }}c{{ end }}",
    "{{ if false }}a{{ else if false }}b{{ else if true }}c{{ end }}",
    "{{ with $labels.job }}{{ . }}{{ else }}none{{ end }}|"
    "{{ with $labels.nope }}{{ . }}{{ else }}none{{ end }}",
    "{{ with $x := 3 }}{{ $x }}{{ . }}{{ end }}",
    "{{ if $x := 0 }}a{{ else }}{{ $x }}{{ end }}",
    "{{ range $k, $v := .Labels }}{{ $k }}={{ $v }};{{ end }}",
    "{{ range $v := .Labels }}{{ $v }},{{ end }}|{{ range .Labels }}{{ . }}{{ end }}",
    "{{ range $i, $s := query \"sort_desc(up)\" }}{{ $i }}:{{ $s.Value }}{{ if eq $i 0 }}{{ "
    "continue }}"
    "{{ end }}!{{ break }}{{ end }}",
    "{{ range query \"sort_desc(up)\" }}{{ .Labels.instance }} {{ .Value }};{{ end }}",
    "{{ range query \"nonexistent\" }}x{{ else }}none{{ end }}",
    "{{ range (args 1).arg5 }}x{{ else }}empty{{ end }}",
    "{{ range $k, $v := args \"a\" 2 }}{{ $k }}:{{ $v }} {{ end }}",
    "{{ range 5 }}x{{ end }}",
    "{{ range \"abc\" }}x{{ end }}",
    "{{ range $i, $x := query \"sort_desc(up)\" }}{{ range $j, $y := query \"sort_desc(up)\" }}{{ "
    "$i }}{{ $j }}"
    "{{ if eq $j 0 }}{{ break }}{{ end }}{{ end }},{{ end }}",
    // Templates.
    "{{ define \"t\" }}[{{ . }}|{{ $ }}]{{ end }}{{ template \"t\" \"arg\" }}{{ template \"t\" }}"
    "{{ block \"b\" 5 }}<{{ . }}>{{ end }}",
    "{{ define \"m\" }}First: {{ .arg0 }} Second: {{ .arg1 }}{{ end }}{{ template \"m\" (args 1 2) "
    "}}",
    "{{ template \"nope\" }}",
    "{{ define \"e\" }}{{ humanize \"x\" }}{{ end }}{{ template \"e\" }}",
    "{{ define \"r\" }}{{ if . }}{{ len . }}{{ template \"r\" (slice . 1) }}{{ end }}{{ end }}"
    "{{ template \"r\" \"abcd\" }}",
    // Builtins.
    "{{ and 1 2 }}|{{ and 0 2 }}|{{ or 0 \"\" }}|{{ or 0 3 }}|{{ not 0 }}|{{ not \"a\" }}|{{ and "
    "}}",
    "{{ len \"héllo\" }}|{{ len .Labels }}|{{ len (query \"sort_desc(up)\") }}|{{ len (args 1 2) "
    "}}",
    "{{ len 3 }}",
    "{{ index .Labels \"job\" }}|{{ index .Labels \"nope\" }}|{{ index \"abc\" 1 }}|"
    "{{ index (query \"sort_desc(up)\") 1 }}|{{ index (args 1 \"x\") \"arg1\" }}|{{ index . }}",
    "{{ index .Labels 1 }}",
    "{{ index $value 1 }}",
    "{{ index (query \"sort_desc(up)\") 5 }}",
    "{{ index (query \"sort_desc(up)\") 0 \"x\" }}",
    "{{ index \"abc\" -1 }}",
    "{{ index \"abc\" \"x\" }}",
    "{{ slice \"abcdef\" 1 3 }}|{{ slice \"abc\" }}|{{ slice \"abc\" 1 }}|"
    "{{ slice (query \"sort_desc(up)\") 1 | len }}",
    "{{ slice \"abc\" 2 1 }}",
    "{{ slice \"abc\" 1 2 3 }}",
    "{{ slice \"abc\" 0 4 }}",
    "{{ slice 5 }}",
    "{{ eq 1 1 }}|{{ eq \"a\" \"b\" \"a\" }}|{{ eq 1.5 $value }}|{{ ne 1 2 }}|{{ lt \"a\" \"b\" }}"
    "|{{ le 2 2 }}|{{ ge 3 4 }}|{{ lt -1 2 }}|{{ gt 2.5 1.5 }}|{{ eq true true }}",
    "{{ eq (index \"abc\" 0) 97 }}|{{ lt (index \"abc\" 0) -1 }}|{{ eq (safeHtml \"a\") \"a\" }}"
    "|{{ eq $value 1.5 2.5 }}|{{ ne \"a\" \"a\" }}|{{ gt (index \"abc\" 0) 96 }}",
    "{{ gt $value 1 }}",
    "{{ gt $value 1.0 }}|{{ lt $value 2.0 }}",
    "{{ eq .Labels .Labels }}",
    "{{ lt true false }}",
    "{{ eq 1 \"a\" }}",
    "{{ eq }}",
    "{{ eq 1 }}",
    "{{ lt 1 2 3 }}",
    "{{ print 1 2 \"a\" \"b\" 3 true 4.5 nil }}|{{ println 1 \"a\" }}|{{ print }}|"
    "{{ \"x\" | print \"a\" 1 }}",
    "{{ print (args 1).arg5 }}|{{ printf \"%v\" (args 1).arg5 }}|{{ (args 1).arg5 }}|"
    "{{ (args 1).arg0 }}|{{ args 1 \"a\" }}",
    "{{ (args 1).arg5.x }}",
    "{{ (args 1).arg0.x }}",
    "{{ html \"<a href='x'>&\\\"</a>\" }}|{{ html 1 2 }}|{{ html (safeHtml \"<\") }}",
    "{{ js \"a'b\\\"c<d>&=\\\\ \\n é\" }}|{{ js 1 \"x\" }}",
    "{{ urlquery \"a b&c=d/é~_.-\" }}|{{ urlquery \"a\" \"b\" 1 }}",
    "{{ call 1 }}",
    // printf.
    "{{ printf \"%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%c|%q|%U|%#x|%#o|%O|%#U\" "
    "42 42 42 42 42 255 255 8 5 65 65 65 255 8 8 233 }}",
    "{{ printf \"%s|%10s|%-10s|%.2s|%q|%x|%X|% x|%#q|%+q|%05s\" \"abc\" \"abc\" \"abc\" \"abc\" "
    "\"a\\\"b\" \"hi\" \"hi\" \"hi\" \"ab\" \"é\" \"ab\" }}",
    "{{ printf \"%f|%.2f|%8.3f|%-8.1f|%e|%E|%g|%G|%.3g|%v|%+.1f|% .1f|%08.3f|%.0f|%5.1f%%\" "
    "3.14159 3.14159 3.14159 3.14159 1234.5678 1234.5678 1234.5678 1e21 1234.5678 0.1 2.0 2.0 "
    "-3.14159 2.5 99.123 }}",
    "{{ printf \"%v %v %v %v %v %.2v %x\" 1e6 1e20 1e21 0.000001 123456789.0 3.14159 1.0 }}",
    "{{ printf \"%t|%v|%s|%d|%f\" true false 1 \"x\" 1 }}",
    "{{ printf \"%d %d\" 1 }}|{{ printf \"%d\" 1 2 }}|{{ printf \"%!\" }}|{{ printf \"%z\" 1 }}"
    "|{{ printf \"%\" }}|{{ printf \"%[2]d %[1]d\" 1 2 }}|{{ printf \"%*d|%-*d|\" 5 1 3 2 }}"
    "|{{ printf \"%[3]d\" 1 }}|{{ printf \"%.*f\" 2 3.14159 }}|{{ printf \"%*d\" \"x\" 1 }}",
    "{{ printf \"%v|%s|%d|%q\" .Labels .Labels $value .Labels }}",
    "{{ printf \"%v\" (query \"sort_desc(up)\" | first) }}|{{ printf \"%+v\" (query "
    "\"sort_desc(up)\" | first) }}|"
    "{{ printf \"%s\" (query \"sort_desc(up)\" | first) }}",
    "{{ printf \"%T %T %T %T %T %T %T\" 1 1.0 \"a\" true .Labels (query \"sort_desc(up)\" | first) "
    "(args 1) }}"
    "|{{ printf \"%T\" (query \"sort_desc(up)\") }}|{{ printf \"%T\" (safeHtml \"x\") }}|{{ printf "
    "\"%T\" . }}"
    "|{{ printf \"%T\" (index \"a\" 0) }}|{{ printf \"%T\" nil }}",
    "{{ printf \"%v %s\" nil nil }}|{{ printf \"%d\" (args 1).arg5 }}|{{ print . }}|"
    "{{ printf \"%+v\" . }}|{{ printf \"%#v\" 1.5 }}|{{ printf \"%#v\" \"s\" }}",
    "{{ printf 1 }}",
    "{{ printf \"%s-%s\" \"x\" | printf \"%s!\" }}|{{ $labels.job | printf \"%s-%s\" \"x\" }}",
    "{{ printf \"%5t|%-6v|%3c|%-4q\" true false 66 67 }}",
    "{{ printf \"%.3d|%+.3d|%8.3d|%x|%X\" 7 7 -7 -255 \"é\" }}",
    "{{ printf \"%e|%.0e|%g|%g|%g\" 0.0 123456.0 1e-5 100000.0 1e100 }}",
    // Type checks of function arguments.
    "{{ humanize 1 2 }}",
    "{{ toUpper 1 }}",
    "{{ toUpper $value }}",
    "{{ toUpper (safeHtml \"a\") }}",
    "{{ \"a\" | toUpper \"b\" }}",
    "{{ \"a\" | toUpper }}|{{ 1.5 | humanize }}|{{ \"x\" | printf \"%s%s\" \"y\" }}",
    "{{ first \"x\" }}",
    "{{ first nil }}",
    "{{ value nil }}",
    "{{ label \"x\" nil }}",
    "{{ first $value }}",
    "{{ len nil }}",
    "{{ not nil }}",
    "{{ $x := (args 1).arg5 }}{{ $x }}|{{ $x.foo }}",
    "{{ $x := (args 1).arg5 }}{{ len $x }}",
    "{{ template \"t\" }}{{ define \"t\" }}{{ len . }}{{ end }}",
    // Prometheus functions.
    "{{ humanize 1234567 }}|{{ humanize 0 }}|{{ humanize 0.001234 }}|{{ humanize 1e-30 }}|"
    "{{ humanize 1e30 }}|{{ humanize -1234 }}|{{ humanize 999.99 }}|{{ humanize 1 }}|"
    "{{ humanize \"NaN\" }}|{{ humanize \"+Inf\" }}|{{ humanize 0.5 }}|{{ humanize 0.000002 }}|"
    "{{ humanize $value }}|{{ humanize \"1e3\" }}|{{ humanize -0.001 }}",
    "{{ humanize1024 1024 }}|{{ humanize1024 1023 }}|{{ humanize1024 1e30 }}|"
    "{{ humanize1024 -2048 }}|{{ humanize1024 0.5 }}|{{ humanize1024 1 }}|{{ humanize1024 1536 }}|"
    "{{ humanize1024 \"-Inf\" }}",
    "{{ humanizeDuration 0 }}|{{ humanizeDuration 0.5 }}|{{ humanizeDuration 1 }}|"
    "{{ humanizeDuration 59.5 }}|{{ humanizeDuration 90 }}|{{ humanizeDuration 3600 }}|"
    "{{ humanizeDuration 86400.5 }}|{{ humanizeDuration -90 }}|{{ humanizeDuration 1e-10 }}|"
    "{{ humanizeDuration 100000000 }}|{{ humanizeDuration \"Inf\" }}|{{ humanizeDuration -0.25 }}|"
    "{{ humanizeDuration 1e-30 }}|{{ humanizeDuration 61.9 }}|{{ humanizeDuration 1e30 }}",
    "{{ humanizePercentage 0.1234 }}|{{ humanizePercentage 1 }}|{{ humanizePercentage \"0.5\" }}|"
    "{{ humanizePercentage 0.000001 }}",
    "{{ humanizeTimestamp 0 }}|{{ humanizeTimestamp 1.123456789 }}|"
    "{{ humanizeTimestamp 1679000000.5 }}|{{ humanizeTimestamp -1.5 }}|{{ humanizeTimestamp "
    "\"NaN\" }}|"
    "{{ humanizeTimestamp 1.1 }}|{{ humanizeTimestamp 0.000000001 }}|"
    "{{ humanizeTimestamp 1679000000.123 }}|{{ humanizeTimestamp 9.2e9 }}|"
    "{{ humanizeTimestamp -9.2e9 }}",
    "{{ humanizeTimestamp 9.3e9 }}",
    "{{ humanizeTimestamp 253402300800 }}",
    "{{ toTime 1.5 }}|{{ toTime 0 }}|{{ (toTime 1.5).Unix }}|{{ toTime \"12\" }}",
    "{{ toTime \"NaN\" }}",
    "{{ humanize true }}",
    "{{ humanize (index \"abc\" 0) }}",
    "{{ humanize (safeHtml \"1\") }}",
    "{{ humanize nil }}",
    "{{ humanize . }}",
    "{{ humanize \"abc\" }}",
    "{{ humanize \"1e400\" }}",
    "{{ humanize \"+nan\" }}",
    "{{ humanize \" 1\" }}",
    "{{ humanize \"0x10\" }}",
    "{{ humanize \"1_000\" }}|{{ humanize \"0x1p4\" }}|{{ humanize \".5\" }}|{{ humanize \"5.\" }}|"
    "{{ humanize \"infinity\" }}|{{ humanize \"-inf\" }}|{{ humanize \"nan\" }}|"
    "{{ humanize \"1e-400\" }}|{{ humanize \"0x_1p0\" }}|{{ humanize \"1E3\" }}",
    "{{ humanize \"_1\" }}",
    "{{ humanize \"1__0\" }}",
    "{{ title \"hello wORLD-foo_bar x.y 1a ñu\" }}|{{ toUpper \"héllo ß\" }}|{{ toLower \"ÀÉ\" }}|"
    "{{ title \"\" }}|{{ title \"élan vital's\" }}|{{ toUpper \"ǆ\" }}|{{ title \"ǆx\" }}",
    "{{ match \"a.c\" \"xxabcxx\" }}|{{ match \"^a\" \"ba\" }}|{{ match \"(?i)ABC\" \"abc\" }}",
    "{{ match \"(\" \"x\" }}",
    "{{ match \"a**\" \"x\" }}",
    "{{ match \"[a\" \"x\" }}",
    "{{ match \"x)\" \"x\" }}",
    "{{ match \"\\\\\" \"x\" }}",
    "{{ reReplaceAll \"(a+)\" \"<$1>\" \"baaac aa\" }}|{{ reReplaceAll \"a*\" \"-\" \"baaac\" }}|"
    "{{ reReplaceAll \"(?P<x>b)\" \"${x}$1x$$\" \"abc\" }}",
    "{{ reReplaceAll \"\" \"-\" \"abc\" }}|{{ reReplaceAll \"x*\" \"-\" \"abc\" }}|"
    "{{ reReplaceAll \"(b)\" \"$2$1${1}x$x${\" \"abc\" }}|{{ reReplaceAll \"b\" \"$\" \"abc\" }}|"
    "{{ reReplaceAll \"(?i)B\" \"\\\\\" \"abc\" }}|{{ reReplaceAll \"é\" \"e\" \"café\" }}",
    "{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}",
    "{{ reReplaceAll \"(\" \"x\" \"y\" }}",
    "{{ stripPort \"host\" }}|{{ stripPort \"a:b:c\" }}|{{ stripPort \"[::1]\" }}|"
    "{{ stripPort \"host:\" }}|{{ stripPort \":80\" }}|{{ stripPort \"[::1]:80\" }}|"
    "{{ stripPort $labels.instance }}",
    "{{ stripDomain \"a.b.c:80\" }}|{{ stripDomain \"1.2.3.4:5\" }}|{{ stripDomain \"a.b.c\" }}|"
    "{{ stripDomain \"[::1]:80\" }}|{{ stripDomain \"foo.bar:9090\" }}|{{ stripDomain \"::1\" }}|"
    "{{ stripDomain \"localhost\" }}|{{ stripDomain $labels.instance }}",
    "{{ graphLink \"up{a=\\\"b c\\\"}\" }}|{{ tableLink \"x\" }}",
    "{{ safeHtml \"<b>\" }}|{{ safeHtml \"<b>\" | printf \"%s\" }}",
    "{{ parseDuration \"1h30m\" }}|{{ parseDuration \"0\" }}|{{ parseDuration \"1y2w3d4h5m6s7ms\" "
    "}}"
    "|{{ parseDuration \"5ms\" }}|{{ parseDuration \"90s\" }}",
    "{{ parseDuration \"1.5h\" }}",
    "{{ parseDuration \"\" }}",
    "{{ parseDuration \"1s1m\" }}",
    "{{ parseDuration \"99999999999y\" }}",
    "{{ args }}|{{ args 1 \"a\" 1.5 nil }}|{{ (args 1 2).arg1 }}",
    "{{ query \"sort_desc(up)\" | first }}|{{ query \"sort_desc(up)\" | first | label \"instance\" "
    "}}|"
    "{{ query \"sort_desc(up)\" | first | value }}|{{ query \"1+1\" | first }}|{{ (query "
    "\"sort_desc(up)\" | first).Labels.job }}",
    "{{ with query \"mem\" }}{{ . | first | value | humanize }}{{ end }}",
    "{{ sortByLabel \"instance\" (query \"sort_desc(up)\") | first }}|"
    "{{ range sortByLabel \"job\" (query \"sort_desc(up)\") }}{{ .Labels.job }}{{ end }}",
    "{{ query \"nonexistent\" | first }}",
    "{{ query \"\\\"a\\\"\" }}",
    "{{ strvalue (query \"sort_desc(up)\" | first) }}|{{ len (query \"sort_desc(up)\" | "
    "first).Labels }}",
    "{{ range query \"sort_desc(up)\" }}{{ . }};{{ end }}",
    "{{ (query \"sort_desc(up)\" | first).Foo }}",
    "{{ (index (query \"sort_desc(up)\") 0).Value }}",
    "{{ toUpper \"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop\" | toLower | toUpper | "
    "humanize }}",
    // As rule authors write them.
    "{{ $value | printf \"%.2f\" }}% on {{ $labels.instance | reReplaceAll \":.*\" \"\" }}",
    "{{ reReplaceAll \"\\\\.\" \"_\" $labels.instance }}|{{ if match \"^h\" $labels.instance }}h{{ "
    "end }}",
    "{{ if gt (len .Labels) 1 }}many{{ end }}|"
    "{{ (query \"sort_desc(up)\" | first).Labels.instance | stripPort | toUpper }}",
    "Instance {{ $labels.instance }} of job {{ $labels.job }} down\n"
    "VALUE = {{ $value }}\n  LABELS = {{ $labels }}",
    "{{ range $k, $v := $labels }}{{ if ne $k \"job\" }}{{ $k | title }}: {{ $v }}\n{{ end }}{{ "
    "end }}",
    "{{ with printf \"mem{instance='%s'}\" $labels.instance | query }}{{ . | first | value | "
    "humanize1024 }}B"
    "{{ else }}n/a{{ end }}",
    "{{ with printf \"mem{instance='%s'}\" \"h2:80\" | query }}{{ . | first | value | humanize1024 "
    "}}B"
    "{{ end }}",
    "{{ $v := $value }}{{ if lt $v 0.5 }}low{{ else if lt $v 2.0 }}medium{{ else }}high{{ end }}",
    "{{ humanizePercentage $value }} / {{ $value | humanizeDuration }} / {{ 42 | humanize }}",
    // Corner cases.
    "a }} b {{ \"}}\" }} c {{ `{{` }}",
    "{{/* c */ -}}  x{{- /* d */}}",
    "{{ print 1 2 | }}|{{ print | }}",
    "{{ range $x = 1 }}{{ end }}",
    "{{ $x := 0 }}{{ range $x = query \"sort_desc(up)\" }}{{ $x }}{{ end }}|{{ $x }}",
    "{{ template \"t\" \"b\" | printf \"%s!\" }}{{ define \"t\" }}<{{ . }}>{{ end }}",
    "{{ range $i, $c := args \"x\" \"y\" }}{{ $i }}{{ $c }}{{ else }}none{{ end }}",
    "{{ with args }}x{{ else }}empty{{ end }}",
    "{{ printf \"%s\" (args \"a\").arg0 | len }}",
    "{{ slice \"abc\" (args 1).arg0 }}",
    "{{ len (args \"ab\").arg0 }}|{{ index (args \"ab\").arg0 0 }}|{{ eq (args 1).arg0 1 }}",
    "{{ eq nil 1 }}|{{ not (args 1).arg5 }}",
    "{{ lt nil 1 }}",
    "{{ and (args 1).arg5 1 }}|{{ or 0 (args 1).arg5 }}|{{ or 0 (args 1).arg0 }}",
    "{{ printf \"%6.2f|%-8.3e|%+g|% d|%+q\" 3.14159 1234.5 1.0 5 \"é\" }}",
    "{{ printf \"%v\" (args 1 \"b\" nil) }}|{{ printf \"%d\" .Labels }}|{{ printf \"%s\" (args 1) "
    "}}",
    "{{ print (query \"sort_desc(up)\" | first) }}|{{ query \"sort_desc(up)\" | first | print }}",
    "{{ (toTime 1).Foo }}",
    "{{ toTime 1 | printf \"%v|%s\" }}|{{ printf \"%T\" (toTime 1) }}|{{ (toTime 1).UTC }}",
    "{{ with (query \"nonexistent\") }}x{{ else }}e{{ end }}|{{ len (slice (query "
    "\"sort_desc(up)\") 0 0) }}",
    "{{ humanizeTimestamp 1e9 }}|{{ humanizeDuration 0.0001 }}|{{ humanize1024 -0.5 }}|"
    "{{ humanize 1e-3 }}|{{ humanize 123456789012 }}|{{ humanizeDuration 3599.99 }}",
    "{{ 0x1.8p1 }}|{{ 1e-400 }}|{{ 9223372036854775807 }}|{{ -9223372036854775808 }}|"
    "{{ '\\n' }}|{{ '\\u00e9' }}|{{ '\\'' }}|{{ 0.0001 }}|{{ 1e-5 }}|{{ 100000000.0 }}",
    "{{ 9223372036854775808 }}",
    "{{ \"\\a\\b\\f\\v\" | printf \"%q\" }}|{{ printf \"%q\" \"\\x80\" }}|{{ printf \"%x\" "
    "\"\\x80\" }}",
    "{{- 1 }}\n\n{{- 2 -}}\n\n{{ 3 }}",
    "{{ .Labels.job | len }}|{{ $labels | len }}|{{ \"x\" | not }}|{{ 1 | print 2 }}|"
    "{{ index .Labels \"job\" | len }}",
    "{{ (1) }}",
    "{{ (1) 2 }}",
    "{{ (\"x\").y }}",
    "{{ (nil).x }}",
    "{{ $.Labels.job }}|{{ $.Value }}|{{ ($x := 1) }}{{ $x }}|{{ print ($y := 2) $y }}",
    "{{ html (query \"sort_desc(up)\" | first) }}|{{ html (toTime 1) }}|{{ html 1 nil \"a\" nil 2 "
    "}}|"
    "{{ urlquery (args 1).arg5 }}",
    "{{ $labels.job.x }}",
    "{{ .Value.x }}",
    "{{ with $x := query \"sort_desc(up)\" }}{{ len $x }}{{ end }}",
    "{{ define \"b\" }}  {{ end }}{{ define \"b\" }}y{{ end }}{{ template \"b\" }}",
    "a\nb\n{{ humanize \"x\" }}",
    "{{ humanize \"é\" }}",
    "{{ printf \"%s %s %s %s %s %s %s\" \"aaaaaaaaaa\" \"bbbbbbbbbbb\" \"c\" \"d\" \"e\" \"f\" | "
    "humanize }}",
    "{{ printf \"%s\" }}|{{ printf \"%.3s|%.1q|%5.2s|\" \"héllo\" \"héllo\" \"héllo\" }}",
    "{{ printf \"%x|%X|%b|%8.2e\" 3.5 -3.5 1.0 -1.0 }}",
    "{{ printf \"%U|%c|%q\" -1 -1 1114112 }}",
    "{{ printf \"%#v|%#v\" .Labels (args 1 \"a\") }}",
    "{{ printf \"%05d|%-05d|%+05d|% 05d|%x|%#X\" -3 3 3 3 -255 255 }}",
    "{{ printf \"%6.2v|%s|%d|%z|%t\" 3.14159 1.5 true nil 1 }}",
    "{{ html nil }}|{{ js \"\\u2028\" }}|{{ urlquery \"\" }}|{{ html \"\\x00\" }}",
    "{{ range $i, $e := args 1 }}{{ $i }}{{ $e }}{{ end }}",
    "{{ $x := 1 }}{{ range $x = query \"sort_desc(up)\" }}{{ end }}{{ $x }}",
    "{{ range query \"sort_desc(up)\" }}{{ $.Labels.job }}{{ end }}",
    "{{ if .Labels }}a{{ end }}{{ if .ExternalLabels }}b{{ end }}{{ if $value }}c{{ end }}",
    "{{ with .ExternalLabels }}x{{ else }}{{ len . }}{{ end }}",
    "{{ template \"t\" 1 }}{{ define \"t\" }}{{ template \"u\" . }}{{ end }}"
    "{{ define \"u\" }}{{ humanize \"q\" }}{{ end }}",
    "{{\n  humanize\n  \"x\"\n}}",
    "line1\nline2 {{ humanize \"x\" }}",
};

// Templates that do not parse; the errors compare.
const char* const kParseErrorCorpus[] = {
    "{{ .foo",
    "{{ .foo\n\n x",
    "{{ .foo\n\n",
    "{{ foo }}",
    "{{ end }}",
    "{{ else }}",
    "{{ else if 1 }}",
    "{{ if }}{{ end }}",
    "{{ if 1 }}",
    "{{ $x }}",
    "{{ }}",
    "{{ ) }}",
    "{{ ( }}",
    "{{ (1 }}",
    "{{ 1) }}",
    "{{ \"abc }}",
    "{{ `abc }}",
    "{{ 'a }}",
    "{{ 3x }}",
    "{{ a@b }}",
    "{{ # }}",
    "{{ 1 | 2 }}",
    "{{ .Labels | \"x\" }}",
    "{{ $x := 1 }}{{ $x := 2 }}{{ $y }}",
    "{{ $x : 1 }}",
    "{{/* comment */ }}",
    "{{/* comment",
    "{{ if 1 }}\n{{ else }}\n{{ else }}{{ end }}",
    "{{ range $i, $v, $w := 1 }}{{ end }}",
    "{{ if $x := 1, $y := 2 }}{{ end }}",
    "{{ range $i, 3 }}{{ end }}",
    "{{ break }}",
    "{{ range 1 }}{{ break 1 }}{{ end }}",
    "{{ range 1 }}{{ else }}{{ continue }}{{ end }}",
    "{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
    "{{ define \"a\" }}{{ $labels }}{{ end }}",
    "{{ define 1 }}{{ end }}",
    "{{ define \"a\" }}{{ else }}{{ end }}",
    "{{ template x }}",
    "{{ template \"a\" }",
    "{{ \"\\q\" }}",
    "{{ 1.2.3 }}",
    "{{ 0x }}",
    "{{ .Labels.}}",
    "{{ 1.Foo }}",
    "{{ \"a\".b }}",
    "{{ nil.b }}",
    "{{ with }}{{ end }}",
    "{{ if 1 }}{{ else if }}{{ end }}",
    "{{ 99999999999999999999 }}",
    "{{ 'ab' }}",
    "{{ -}}",
    "{{- }}",
    "{{-}}",
    "{{ .a | $x := 1 }}",
    "{{ block \"b\" . }}x{{ else }}{{ end }}",
    "{{ define \"c\" }}x",
    "{{ with 1 }}{{ else if 2 }}{{ end }}",
    "{{ | }}",
    "{{ 1 || 2 }}",
    "{{ $x = }}",
    "{{ x= }}",
    "{{ .x} }}",
    "{{ \"aaaaaaaaaaaaaaaa\" \"b\" ) }}",
    "{{ € }}",
    "{{ \x01 }}",
    "{{ humanize\n(\n}}",
    "{{ if 1 }}{{ range 2 }}\n\n{{ end }}",
    "text {{ 1 }}\n{{ 2 }}\n{{ end }}",
    "{{ 1e400 }}",
    "{{ 0x1.8 }}",
    "{{ '\\q' }}",
    "{{ '' }}",
    "{{ \"\\400\" }}",
    "{{ define \"a\" }}{{ define \"b\" }}{{ end }}{{ end }}",
    "{{ if 1 }}{{ define \"x\" }}{{ end }}{{ end }}",
    "{{ range $i, $v := . }}{{ end }}{{ $i }}",
    "{{ $x := 1 }}{{ define \"t\" }}{{ $x }}{{ end }}",
    "{{ block }}",
    "{{ block \"x\" }}",
    "{{ end 1 }}",
    "{{ else 1 }}",
    "{{ continue }}",
    "{{ $a.b.c }}",
    "{{ if 1 }}\n{{ .x\n\n",
    "{{ (1 2 }}",
    "{{ `a\nb` | foo }}",
    "{{/* */}}{{ foo }}",
    "{{ .a.b c }}",
    "{{ 1..2 }}",
    "{{ $x := 1 $y }}",
    "{{ block \"b\" . }}x{{ end }}{{ define \"b\" }}y{{ end }}",
    "{{ define \"__alert_A\" }}x{{ end }}",
    "{{ template \"a\" | }}",
    "{{ range }}{{ end }}",
    "{{ range $i, }}{{ end }}",
    "{{ $x, $y := 1 }}",
    "{{ print ( }}",
    "{{ \"abcdefghijklmnop\" 1 ) }}",
    "{{ humanize 1 }}\n{{ if }}",
    "{{-/* c */}}",
    "{{ -/* c */}}",
    "{{/* c */-}}",
    "{{- -}}",
    "{{ $x := }}",
    "{{ if (1 }}{{ end }}",
    "{{ print $ $$ }}",
    "{{ .a..b }}",
    "{{ $.a.b.c d }}",
    "{{ template \"a\" \"b\" \"c\" }}{{ template }}",
    "{{ printf \"%d\" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 )",

};

// A value as YAML's double-quoted scalar.
std::string YamlQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Reads a Go-quoted string (strconv.Quote) at s[*i]; advances *i.
bool GoUnquoteAt(absl::string_view s, size_t* i, std::string* out) {
  if (*i >= s.size() || s[*i] != '"') return false;
  for (++*i; *i < s.size(); ++*i) {
    const char c = s[*i];
    if (c == '"') {
      ++*i;
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++*i >= s.size()) return false;
    const char e = s[*i];
    auto hex = [&](size_t n) -> uint32_t {
      uint32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        const char h = s[++*i];
        v = v * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
      }
      return v;
    };
    switch (e) {
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case 'x':
        out->push_back(static_cast<char>(hex(2)));
        break;
      case 'u':
        AppendRune(hex(4), out);
        break;
      case 'U':
        AppendRune(hex(8), out);
        break;
      default:
        out->push_back(e);
    }
  }
  return false;
}

// Runs `command` through the shell; its stdout and stderr.
std::string Run(const std::string& command) {
  std::string out;
  FILE* f = popen((command + " 2>&1").c_str(), "r");
  if (f == nullptr) return out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

std::string Key(size_t i) { return absl::StrFormat("t%03d", i); }

// promtool's output for `templates` as annotations of the alert.
std::string RunPromtool(const std::vector<std::string>& templates) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/template_promtool_", getpid());
  EXPECT_TRUE(CreateDirs(dir).ok());
  std::string rules = absl::StrCat("groups:\n- name: g\n  rules:\n  - alert: ", kAlertName,
                                   "\n    expr: up{job=\"j\"} * 1.5\n    annotations:\n");
  for (size_t i = 0; i < templates.size(); ++i) {
    absl::StrAppend(&rules, "      ", Key(i), ": ", YamlQuote(templates[i]), "\n");
  }
  const std::string test = absl::StrCat(
      "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n  input_series:",
      kInputSeries,
      "\n  alert_rule_test:\n  - eval_time: 0m\n    alertname: A\n    exp_alerts:\n"
      "    - exp_labels: {}\n      exp_annotations: {}\n");
  EXPECT_TRUE(WriteFileAtomic(dir + "/rules.yml", rules).ok());
  EXPECT_TRUE(WriteFileAtomic(dir + "/test.yml", test).ok());
  std::string out = Run(absl::StrCat("cd '", dir, "' && ", kPromtool, " test rules test.yml"));
  EXPECT_TRUE(RemoveAll(dir).ok());
  return out;
}

// The annotations promtool got for the alert, by key.
std::map<std::string, std::string> ParseRendered(absl::string_view out) {
  std::map<std::string, std::string> got;
  const size_t g = out.find("got:[");
  if (g == absl::string_view::npos) return got;
  const size_t a = out.find("Annotations:{", g);
  if (a == absl::string_view::npos) return got;
  size_t i = a + std::string("Annotations:{").size();
  while (i < out.size() && out[i] != '}') {
    const size_t eq = out.find('=', i);
    if (eq == absl::string_view::npos) break;
    const std::string key(out.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (!GoUnquoteAt(out, &i, &value)) break;
    got[key] = value;
    if (absl::StartsWith(out.substr(i), ", ")) i += 2;
  }
  return got;
}

// The template errors promtool reported while loading the rules, by key.
std::map<std::string, std::string> ParseLoadErrors(absl::string_view out) {
  std::map<std::string, std::string> errs;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    const size_t a = line.find("annotation \"");
    if (a == absl::string_view::npos) continue;
    const size_t key_start = a + std::string("annotation \"").size();
    const size_t key_end = line.find('"', key_start);
    errs[std::string(line.substr(key_start, key_end - key_start))] =
        std::string(line.substr(key_end + 3));
  }
  return errs;
}

TemplateData AlertData() {
  TemplateData d;
  d.labels = {{"instance", "host.example.com:9090"}, {"job", "j"}};
  d.value = 1.5;
  return d;
}

class TemplatePromtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPromtool, X_OK) != 0) {
      GTEST_SKIP() << "missing " << kPromtool << " (scripts/install-deps.sh installs it)";
    }
  }
};

TEST_F(TemplatePromtoolTest, RenderingsMatchPrometheus) {
  const std::vector<std::string> corpus(std::begin(kRenderCorpus), std::end(kRenderCorpus));
  const std::string out = RunPromtool(corpus);
  const std::map<std::string, std::string> got = ParseRendered(out);
  ASSERT_EQ(got.size(), corpus.size()) << "promtool output:\n" << out;
  TemplateEnv env;
  env.query = CannedQuery;
  for (size_t i = 0; i < corpus.size(); ++i) {
    bool ok;
    const std::string vigil = ExpandRuleTemplate(kTemplateName, corpus[i], AlertData(), env, &ok);
    EXPECT_EQ(vigil, got.at(Key(i))) << "template " << Key(i) << ": " << corpus[i];
  }
}

TEST_F(TemplatePromtoolTest, ParseErrorsMatchPrometheus) {
  const std::vector<std::string> corpus(std::begin(kParseErrorCorpus), std::end(kParseErrorCorpus));
  const std::string out = RunPromtool(corpus);
  const std::map<std::string, std::string> errs = ParseLoadErrors(out);
  ASSERT_EQ(errs.size(), corpus.size()) << "promtool output:\n" << out;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const absl::Status s = CheckRuleTemplate(kTemplateName, corpus[i]);
    EXPECT_EQ(std::string(s.message()), errs.at(Key(i)))
        << "template " << Key(i) << ": " << corpus[i];
  }
}

}  // namespace
}  // namespace vigil::rules
