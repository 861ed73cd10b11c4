// Prometheus 2.42's template functions (docs/configuration/
// template_reference.md), with the output and error texts Prometheus
// produces.
#include "rules/template_funcs.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/goformat.h"
#include "re2/re2.h"
#include "rules/template_strconv.h"

namespace vigil::rules::tmpl {
namespace {

using Args = std::vector<Value>;

absl::Status Error(absl::string_view msg) { return absl::InvalidArgumentError(msg); }

// What Go reports when a function dereferences a nil pointer.
constexpr absl::string_view kNilDereference =
    "runtime error: invalid memory address or nil pointer dereference";

// --- Regular expressions (Go's regexp package on RE2). ---

absl::string_view GoRegexpErrorCode(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "regexp/syntax: internal error";
  }
}

// regexp.Compile: the compiled pattern, or Go's "error parsing regexp:
// <what>: `<fragment>`".
absl::StatusOr<std::unique_ptr<RE2>> CompileRegexp(absl::string_view pattern) {
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
  if (!re->ok()) {
    return Error(absl::StrCat("error parsing regexp: ", GoRegexpErrorCode(re->error_code()), ": `",
                              re->error_arg(), "`"));
  }
  return re;
}

// Regexp.ReplaceAllString's expansion of $1, ${1}, $name, ${name}, $$.
void Expand(const RE2& re, absl::string_view repl, const std::vector<re2::StringPiece>& groups,
            std::string* out) {
  while (!repl.empty()) {
    const size_t dollar = repl.find('$');
    if (dollar == absl::string_view::npos) break;
    absl::StrAppend(out, repl.substr(0, dollar));
    repl.remove_prefix(dollar + 1);
    if (!repl.empty() && repl[0] == '$') {
      out->push_back('$');
      repl.remove_prefix(1);
      continue;
    }
    // A name: letters, digits and '_', optionally in braces.
    absl::string_view s = repl;
    const bool brace = !s.empty() && s[0] == '{';
    if (brace) s.remove_prefix(1);
    size_t i = 0;
    while (i < s.size()) {
      uint32_t r;
      const size_t n = DecodeRune(s, i, &r);
      if (!IsAlphaNumericRune(r)) break;
      i += n;
    }
    const absl::string_view name = s.substr(0, i);
    if (i == 0 || (brace && (i >= s.size() || s[i] != '}'))) {
      out->push_back('$');  // Malformed: the '$' is literal.
      continue;
    }
    repl = s.substr(brace ? i + 1 : i);
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;
    if (num < 0) {
      auto it = re.NamedCapturingGroups().find(std::string(name));
      if (it == re.NamedCapturingGroups().end()) continue;
      num = it->second;
    }
    if (static_cast<size_t>(num) < groups.size() &&
        groups[static_cast<size_t>(num)].data() != nullptr) {
      const re2::StringPiece g = groups[static_cast<size_t>(num)];
      out->append(g.data(), g.size());
    }
  }
  absl::StrAppend(out, repl);
}

// Regexp.ReplaceAllString: replaces each match, skipping an empty match
// right after a previous match.
std::string ReplaceAll(const RE2& re, absl::string_view src, absl::string_view repl) {
  std::string out;
  const int ngroups = 1 + re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
  const re2::StringPiece text(src.data(), src.size());
  size_t last_end = 0;
  size_t search = 0;
  while (search <= src.size()) {
    if (!re.Match(text, search, src.size(), RE2::UNANCHORED, groups.data(), ngroups)) break;
    const size_t begin = static_cast<size_t>(groups[0].data() - src.data());
    const size_t end = begin + groups[0].size();
    out.append(src.data() + last_end, begin - last_end);
    if (end > last_end || begin == 0) Expand(re, repl, groups, &out);
    last_end = end;
    size_t width = 0;
    if (search < src.size()) {
      uint32_t r;
      width = DecodeRune(src, search, &r);
    }
    if (search + width > end) {
      search += width;
    } else if (search + 1 > end) {
      ++search;
    } else {
      search = end;
    }
  }
  out.append(src.data() + last_end, src.size() - last_end);
  return out;
}

// --- Numbers. ---

// Prometheus's conversion of a humanize argument to float64.
absl::StatusOr<double> ToFloat(const Value& v) {
  switch (v.type) {
    case Type::kFloat:
      return v.f;
    case Type::kInt:
      return static_cast<double>(v.i);
    case Type::kString:
      return GoParseFloat(v.s);
    default:
      return Error(absl::StrCat("can't convert ", TypeName(v), " to float"));
  }
}

// Go's int64(f) on amd64: out-of-range values become the minimum.
int64_t GoInt64(double f) {
  if (!(f > -9.2233720368547758e18 && f < 9.2233720368547758e18)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

std::string G4(double v) { return GoFormatG(v, 4); }

constexpr const char* kSmallPrefixes[] = {"m", "u", "n", "p", "f", "a", "z", "y"};

absl::StatusOr<Value> Humanize(const TemplateEnv&, const Args& a) {
  absl::StatusOr<double> f = ToFloat(a[0]);
  if (!f.ok()) return f.status();
  double v = *f;
  if (v == 0 || std::isnan(v) || std::isinf(v)) return Value::String(G4(v));
  const char* prefix = "";
  if (std::fabs(v) >= 1) {
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const char* p : kSmallPrefixes) {
      if (std::fabs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return Value::String(G4(v) + prefix);
}

absl::StatusOr<Value> Humanize1024(const TemplateEnv&, const Args& a) {
  absl::StatusOr<double> f = ToFloat(a[0]);
  if (!f.ok()) return f.status();
  double v = *f;
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return Value::String(G4(v));
  const char* prefix = "";
  for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return Value::String(G4(v) + prefix);
}

absl::StatusOr<Value> HumanizeDuration(const TemplateEnv&, const Args& a) {
  absl::StatusOr<double> f = ToFloat(a[0]);
  if (!f.ok()) return f.status();
  double v = *f;
  if (std::isnan(v) || std::isinf(v)) return Value::String(G4(v));
  if (v == 0) return Value::String(G4(v) + "s");  // "-0s" for -0.
  if (std::fabs(v) >= 1) {
    const char* sign = "";
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    const int64_t d = GoInt64(v);
    const int64_t seconds = d % 60;
    const int64_t minutes = (d / 60) % 60;
    const int64_t hours = (d / 60 / 60) % 24;
    const int64_t days = d / 60 / 60 / 24;
    if (days != 0)
      return Value::String(
          absl::StrCat(sign, days, "d ", hours, "h ", minutes, "m ", seconds, "s"));
    if (hours != 0)
      return Value::String(absl::StrCat(sign, hours, "h ", minutes, "m ", seconds, "s"));
    if (minutes != 0) return Value::String(absl::StrCat(sign, minutes, "m ", seconds, "s"));
    return Value::String(absl::StrCat(sign, G4(v), "s"));
  }
  const char* prefix = "";
  for (const char* p : kSmallPrefixes) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return Value::String(absl::StrCat(G4(v), prefix, "s"));
}

absl::StatusOr<Value> HumanizePercentage(const TemplateEnv&, const Args& a) {
  absl::StatusOr<double> f = ToFloat(a[0]);
  if (!f.ok()) return f.status();
  return Value::String(G4(*f * 100) + "%");
}

// A Unix time in seconds as Prometheus turns it into a time: through
// nanoseconds, truncated to milliseconds.
absl::StatusOr<absl::Time> FloatToTime(double v) {
  const double ns = v * 1e9;
  if (ns > 9.2233720368547758e18 || ns < -9.2233720368547758e18) {
    std::string s;
    AppendGoFloat(v, &s);
    return Error(absl::StrCat(
        s, " cannot be represented as a nanoseconds timestamp since it overflows int64"));
  }
  return absl::FromUnixMillis(GoInt64(ns) / 1000000);
}

absl::StatusOr<Value> HumanizeTimestamp(const TemplateEnv&, const Args& a) {
  absl::StatusOr<double> f = ToFloat(a[0]);
  if (!f.ok()) return f.status();
  if (std::isnan(*f) || std::isinf(*f)) return Value::String(G4(*f));
  absl::StatusOr<absl::Time> t = FloatToTime(*f);
  if (!t.ok()) return t.status();
  return Value::String(GoTimeString(*t));
}

absl::StatusOr<Value> ToTime(const TemplateEnv&, const Args& a) {
  absl::StatusOr<double> f = ToFloat(a[0]);
  if (!f.ok()) return f.status();
  if (std::isnan(*f) || std::isinf(*f)) return Error("value is NaN or Inf");
  absl::StatusOr<absl::Time> t = FloatToTime(*f);
  if (!t.ok()) return t.status();
  return Value::Time(*t);
}

// Prometheus's duration syntax ("1h30m", "5m", "2d"): seconds.
absl::StatusOr<Value> ParseDuration(const TemplateEnv&, const Args& a) {
  const std::string& s = a[0].s;
  if (s == "0") return Value::Float(0);
  if (s.empty()) return Error("empty duration string");
  static constexpr struct {
    absl::string_view unit;
    int64_t ms;
  } kUnits[] = {
      {"y", int64_t{365} * 24 * 3600 * 1000},
      {"w", int64_t{7} * 24 * 3600 * 1000},
      {"d", int64_t{24} * 3600 * 1000},
      {"h", int64_t{3600} * 1000},
      {"m", int64_t{60} * 1000},
      {"s", 1000},
      {"ms", 1},
  };
  const absl::Status invalid =
      Error(absl::StrCat("not a valid duration string: ", GoQuote(s, false)));
  constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
  int64_t total_ns = 0;
  bool overflow = false;
  size_t next_unit = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    int64_t n = 0;
    bool big = false;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      if (n > (kMaxInt64 - 9) / 10) big = true;
      if (!big) n = n * 10 + (s[j] - '0');
      ++j;
    }
    if (j == i) return invalid;
    if (big) n = kMaxInt64;
    const absl::string_view unit =
        absl::string_view(s).substr(j, s.compare(j, 2, "ms") == 0 ? 2 : 1);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].unit != unit) ++u;
    if (u == std::size(kUnits)) return invalid;
    next_unit = u + 1;
    i = j + unit.size();
    if (n > kMaxInt64 / kUnits[u].ms / 1000000) {
      overflow = true;
      continue;
    }
    const int64_t add = n * 1000000 * kUnits[u].ms;
    if (add > kMaxInt64 - total_ns) {
      overflow = true;
      total_ns = static_cast<int64_t>(static_cast<uint64_t>(total_ns) + static_cast<uint64_t>(add));
      continue;
    }
    total_ns += add;
  }
  if (overflow) return Error("duration out of range");
  return Value::Float(static_cast<double>(total_ns) / 1e9);
}

// --- Strings. ---

// Maps each rune of `s` (invalid UTF-8 becomes U+FFFD, as strings.Map).
template <typename F>
std::string MapRunes(absl::string_view s, F f) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    i += DecodeRune(s, i, &r);
    AppendRune(f(r), &out);
  }
  return out;
}

absl::StatusOr<Value> ToUpper(const TemplateEnv&, const Args& a) {
  return Value::String(MapRunes(a[0].s, ToUpperRune));
}

absl::StatusOr<Value> ToLower(const TemplateEnv&, const Args& a) {
  return Value::String(MapRunes(a[0].s, ToLowerRune));
}

// strings.Title: the first letter of each word in title case.
absl::StatusOr<Value> Title(const TemplateEnv&, const Args& a) {
  auto is_separator = [](uint32_t r) {
    if (r < 0x80) return !IsAlphaNumericRune(r);
    if (IsAlphaNumericRune(r)) return false;
    return IsSpaceRune(r);
  };
  uint32_t prev = ' ';
  return Value::String(MapRunes(a[0].s, [&](uint32_t r) {
    const bool start = is_separator(prev);
    prev = r;
    return start ? ToTitleRune(r) : r;
  }));
}

absl::StatusOr<Value> Match(const TemplateEnv&, const Args& a) {
  absl::StatusOr<std::unique_ptr<RE2>> re = CompileRegexp(a[0].s);
  if (!re.ok()) return re.status();
  return Value::Bool(RE2::PartialMatch(a[1].s, **re));
}

absl::StatusOr<Value> ReReplaceAll(const TemplateEnv&, const Args& a) {
  absl::StatusOr<std::unique_ptr<RE2>> re = CompileRegexp(a[0].s);
  if (!re.ok()) {
    // Prometheus uses regexp.MustCompile, whose panic reads so.
    const std::string quoted =
        GoCanBackquote(a[0].s) ? absl::StrCat("`", a[0].s, "`") : GoQuote(a[0].s, false);
    return Error(absl::StrCat("regexp: Compile(", quoted, "): ", re.status().message()));
  }
  return Value::String(ReplaceAll(**re, a[2].s, a[1].s));
}

absl::StatusOr<Value> SafeHtml(const TemplateEnv&, const Args& a) { return Value::Html(a[0].s); }

absl::StatusOr<Value> GraphLink(const TemplateEnv&, const Args& a) {
  return Value::String(absl::StrCat("/graph?g0.expr=", GoQueryEscape(a[0].s), "&g0.tab=0"));
}

absl::StatusOr<Value> TableLink(const TemplateEnv&, const Args& a) {
  return Value::String(absl::StrCat("/graph?g0.expr=", GoQueryEscape(a[0].s), "&g0.tab=1"));
}

// net.SplitHostPort; false on malformed input.
bool SplitHostPort(absl::string_view hp, absl::string_view* host, absl::string_view* port) {
  const size_t colon = hp.rfind(':');
  if (colon == absl::string_view::npos) return false;  // Missing port.
  size_t j = 0, k = 0;
  if (!hp.empty() && hp[0] == '[') {
    const size_t end = hp.find(']');
    if (end == absl::string_view::npos) return false;
    if (end + 1 != colon) return false;  // Missing port or too many colons.
    *host = hp.substr(1, end - 1);
    j = 1;
    k = end + 1;
  } else {
    *host = hp.substr(0, colon);
    if (host->find(':') != absl::string_view::npos) return false;  // Too many colons.
  }
  if (hp.substr(j).find('[') != absl::string_view::npos) return false;
  if (hp.substr(k).find(']') != absl::string_view::npos) return false;
  *port = hp.substr(colon + 1);
  return true;
}

absl::StatusOr<Value> StripPort(const TemplateEnv&, const Args& a) {
  absl::string_view host, port;
  if (!SplitHostPort(a[0].s, &host, &port)) return a[0];
  return Value::String(std::string(host));
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

absl::StatusOr<Value> StripDomain(const TemplateEnv&, const Args& a) {
  const std::string& hp = a[0].s;
  absl::string_view host = hp, port;
  if (!SplitHostPort(hp, &host, &port)) {
    host = hp;
    port = "";
  }
  if (IsIp(std::string(host))) return a[0];
  const absl::string_view first = host.substr(0, host.find('.'));
  if (port.empty()) return Value::String(std::string(first));
  if (first.find(':') != absl::string_view::npos) {
    return Value::String(absl::StrCat("[", first, "]:", port));
  }
  return Value::String(absl::StrCat(first, ":", port));
}

absl::StatusOr<Value> PathPrefix(const TemplateEnv& env, const Args&) {
  return Value::String(env.path_prefix);
}

absl::StatusOr<Value> ExternalUrl(const TemplateEnv& env, const Args&) {
  return Value::String(env.external_url);
}

// args 1 "a" -> map[arg0:1 arg1:a]
absl::StatusOr<Value> ArgsFn(const TemplateEnv&, const Args& a) {
  auto m = std::make_shared<ArgsMap>();
  for (size_t i = 0; i < a.size(); ++i) (*m)[absl::StrCat("arg", i)] = a[i];
  return Value::Args(std::move(m));
}

// --- Queries. ---

absl::StatusOr<Value> Query(const TemplateEnv& env, const Args& a) {
  if (!env.query) return Error("no query engine to evaluate the query");
  absl::StatusOr<std::vector<QuerySample>> r = env.query(a[0].s);
  if (!r.ok()) return Error(r.status().message());
  auto list = std::make_shared<SampleList>();
  list->reserve(r->size());
  for (QuerySample& q : *r) {
    auto s = std::make_shared<Sample>();
    s->labels = std::move(q.labels);
    s->value = q.value;
    list->push_back(std::move(s));
  }
  return Value::Samples(std::move(list));
}

absl::StatusOr<Value> First(const TemplateEnv&, const Args& a) {
  if (a[0].samples == nullptr || a[0].samples->empty()) {
    return Error("first() called on vector with no elements");
  }
  return Value::SamplePtr((*a[0].samples)[0]);
}

absl::StatusOr<Value> Label(const TemplateEnv&, const Args& a) {
  const Sample* s = a[1].sample.get();
  if (s == nullptr) return Error(kNilDereference);
  auto it = s->labels.find(a[0].s);
  return Value::String(it == s->labels.end() ? "" : it->second);
}

absl::StatusOr<Value> ValueFn(const TemplateEnv&, const Args& a) {
  if (a[0].sample == nullptr) return Error(kNilDereference);
  return Value::Float(a[0].sample->value);
}

absl::StatusOr<Value> StrValue(const TemplateEnv&, const Args& a) {
  const Sample* s = a[0].sample.get();
  if (s == nullptr) return Error(kNilDereference);
  auto it = s->labels.find("__value__");
  return Value::String(it == s->labels.end() ? "" : it->second);
}

absl::StatusOr<Value> SortByLabel(const TemplateEnv&, const Args& a) {
  if (a[1].samples == nullptr) return a[1];
  auto sorted = std::make_shared<SampleList>(*a[1].samples);
  const std::string& label = a[0].s;
  auto get = [&](const std::shared_ptr<const Sample>& s) -> absl::string_view {
    auto it = s->labels.find(label);
    return it == s->labels.end() ? absl::string_view() : absl::string_view(it->second);
  };
  std::stable_sort(sorted->begin(), sorted->end(),
                   [&](const auto& x, const auto& y) { return get(x) < get(y); });
  return Value::Samples(std::move(sorted));
}

// strings.Join with the arguments swapped, for pipelines.
absl::StatusOr<Value> Join(const TemplateEnv&, const Args& a) {
  std::string out;
  if (a[1].list != nullptr) {
    for (size_t i = 0; i < a[1].list->items.size(); ++i) {
      if (i > 0) out += a[0].s;
      out += a[1].list->items[i].s;
    }
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> StringSliceFn(const TemplateEnv&, const Args& a) {
  std::vector<std::string> items;
  items.reserve(a.size());
  for (const Value& v : a) items.push_back(v.s);
  return Value::StringSlice(std::move(items));
}

// strings.TrimSpace: Unicode white space at both ends.
absl::StatusOr<Value> TrimSpace(const TemplateEnv&, const Args& a) {
  const std::string& s = a[0].s;
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end) {
    uint32_t r;
    const size_t n = DecodeRune(s, begin, &r);
    if (!IsSpaceRune(r)) break;
    begin += n;
  }
  // The end of the last rune that is not a space.
  size_t trail = begin;
  for (size_t i = begin; i < end;) {
    uint32_t r;
    const size_t n = DecodeRune(s, i, &r);
    if (!IsSpaceRune(r)) trail = i + n;
    i += n;
  }
  return Value::String(s.substr(begin, trail - begin));
}

constexpr ParamType kS = ParamType::kString;
constexpr ParamType kI = ParamType::kInterface;
constexpr ParamType kP = ParamType::kSample;
constexpr ParamType kQ = ParamType::kQueryResult;

// name, number of parameters, their types, variadic, builtin, function.
constexpr FuncDef kFunctions[] = {
    {"args", 1, {kI}, true, false, ArgsFn},
    {"externalURL", 0, {}, false, false, ExternalUrl},
    {"first", 1, {kQ}, false, false, First},
    {"graphLink", 1, {kS}, false, false, GraphLink},
    {"humanize", 1, {kI}, false, false, Humanize},
    {"humanize1024", 1, {kI}, false, false, Humanize1024},
    {"humanizeDuration", 1, {kI}, false, false, HumanizeDuration},
    {"humanizePercentage", 1, {kI}, false, false, HumanizePercentage},
    {"humanizeTimestamp", 1, {kI}, false, false, HumanizeTimestamp},
    {"label", 2, {kS, kP}, false, false, Label},
    {"match", 2, {kS, kS}, false, false, Match},
    {"parseDuration", 1, {kS}, false, false, ParseDuration},
    {"pathPrefix", 0, {}, false, false, PathPrefix},
    {"query", 1, {kS}, false, false, Query},
    {"reReplaceAll", 3, {kS, kS, kS}, false, false, ReReplaceAll},
    {"safeHtml", 1, {kS}, false, false, SafeHtml},
    {"sortByLabel", 2, {kS, kQ}, false, false, SortByLabel},
    {"stripDomain", 1, {kS}, false, false, StripDomain},
    {"stripPort", 1, {kS}, false, false, StripPort},
    {"strvalue", 1, {kP}, false, false, StrValue},
    {"tableLink", 1, {kS}, false, false, TableLink},
    {"title", 1, {kS}, false, false, Title},
    {"toLower", 1, {kS}, false, false, ToLower},
    {"toTime", 1, {kI}, false, false, ToTime},
    {"toUpper", 1, {kS}, false, false, ToUpper},
    {"value", 1, {kP}, false, false, ValueFn},
};

constexpr ParamType kL = ParamType::kStringSlice;

// Alertmanager's template.DefaultFuncs (0.25) and trimSpace (0.26).
constexpr FuncDef kAlertmanagerFunctions[] = {
    {"join", 2, {kS, kL}, false, false, Join},
    {"match", 2, {kS, kS}, false, false, Match},
    {"reReplaceAll", 3, {kS, kS, kS}, false, false, ReReplaceAll},
    {"safeHtml", 1, {kS}, false, false, SafeHtml},
    {"stringSlice", 1, {kS}, true, false, StringSliceFn},
    {"title", 1, {kS}, false, false, Title},
    {"toLower", 1, {kS}, false, false, ToLower},
    {"toUpper", 1, {kS}, false, false, ToUpper},
    {"trimSpace", 1, {kS}, false, false, TrimSpace},
};

}  // namespace

const FuncDef* FindPrometheusFunction(absl::string_view name) {
  for (const FuncDef& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FuncDef* FindAlertmanagerFunction(absl::string_view name) {
  for (const FuncDef& f : kAlertmanagerFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace vigil::rules::tmpl
