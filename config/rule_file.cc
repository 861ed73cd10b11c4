#include "config/rule_file.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "config/yaml_util.h"
#include "model/labels.h"

namespace vigil::config {

namespace {

using internal::ErrorAtLine;
using internal::Field;
using internal::Quote;

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// yaml.v2/v3's float syntax, which Go's yaml also accepts for integers
// (truncated): [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsYamlFloat(absl::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool int_part = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    bool frac = digits();
    if (!int_part && !frac) return false;
  } else if (!int_part) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// Unsigned digits of `s` in `base`; false on a bad digit, none, or a value
// above `max`.
bool ParseDigits(absl::string_view s, int base, uint64_t max, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (absl::ascii_isdigit(c)) {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
    if (v > (max - d) / base) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

// A YAML scalar read into a Go int as Prometheus's yaml decoder does (the
// group limit): '_' ignored, an optional sign, decimal, 0x, 0o, 0b or
// leading-0 octal; otherwise a float in int64's range, truncated.
bool ParseYamlInt(absl::string_view text, int64_t* out) {
  std::string s;
  for (char c : text) {
    if (c != '_') s.push_back(c);
  }
  absl::string_view v = s;
  bool negative = false;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    negative = v[0] == '-';
    v.remove_prefix(1);
  }
  // The magnitude int64 holds: 2^63 - 1, or 2^63 when negative.
  const uint64_t max = uint64_t{std::numeric_limits<int64_t>::max()} +
                       (negative ? 1 : 0);
  uint64_t n = 0;
  bool ok;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    ok = ParseDigits(v.substr(2), 16, max, &n);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
    ok = ParseDigits(v.substr(2), 8, max, &n);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
    ok = ParseDigits(v.substr(2), 2, max, &n);
  } else if (v.size() > 1 && v[0] == '0') {
    ok = ParseDigits(v.substr(1), 8, max, &n);
  } else {
    ok = ParseDigits(v, 10, max, &n);
  }
  if (ok) {
    *out = negative ? static_cast<int64_t>(0 - n) : static_cast<int64_t>(n);
    return true;
  }
  if (!IsYamlFloat(s)) return false;
  double d = std::strtod(s.c_str(), nullptr);
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

// Whether `tag` (yaml-cpp: "?" plain, "!" quoted) lets a scalar be a number.
bool IsNumberTag(const std::string& tag) {
  return tag == "?" || tag == "tag:yaml.org,2002:int" ||
         tag == "tag:yaml.org,2002:float";
}

// yaml-cpp's spellings of an explicit null.
constexpr absl::string_view kNullSpellings[] = {"~", "null", "Null", "NULL"};

// Reads one rule file. Problems with the file's shape end the parse at
// once (Fail); rule problems are collected (Report) so that all of them
// are listed, as Prometheus lists them.
class Parser {
 public:
  Parser(absl::string_view source, absl::string_view file,
         const RuleChecks& checks)
      : source_(source), file_(file), checks_(checks) {}

  absl::StatusOr<RuleFile> Parse() {
    RuleFile out;
    out.filename = std::string(file_);
    ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYaml(source_, file_));
    if (root.IsNull()) return out;
    if (!root.IsMap()) {
      return internal::ErrorAt(file_, root,
                               "a rule file must be a mapping with a "
                               "\"groups\" list");
    }
    constexpr absl::string_view kWhere = "the top level of the rule file";
    RETURN_IF_ERROR(internal::ForEachField(
        file_, root, internal::LineOf(root), kWhere,
        [&](const Field& f) -> absl::Status {
          if (f.name == "groups") return ParseGroups(f, &out.groups);
          return internal::UnknownField(file_, f, kWhere);
        }));
    if (!problems_.empty()) {
      return absl::InvalidArgumentError(absl::StrJoin(problems_, "\n"));
    }
    return out;
  }

 private:
  // Where a rule problem is reported: "group "g", rule 2, "name"".
  struct RuleRef {
    const std::string* group;
    int index;  // 1-based, counting the rules kept.
    const Rule* rule;
  };

  void Report(int line, absl::string_view msg) {
    problems_.push_back(line > 0 ? absl::StrCat(file_, ":", line, ": ", msg)
                                 : absl::StrCat(file_, ": ", msg));
  }
  void ReportRule(const RuleRef& ref, int line, absl::string_view msg) {
    Report(line, absl::StrCat("group ", Quote(*ref.group), ", rule ",
                              ref.index, ", ", Quote(ref.rule->name()), ": ",
                              msg));
  }

  // The text Prometheus reads for record, alert and expr: the scalar as
  // written, an explicit null ("~", "null") included, since Prometheus
  // reads these fields as raw YAML nodes. yaml-cpp drops a null's text, so
  // it is read back from the source at the node's mark; a missing value
  // (the mark is then the next token's) is "".
  absl::StatusOr<std::string> RawText(const Field& f) {
    if (f.value.IsScalar()) return f.value.Scalar();
    if (!f.value.IsNull()) return internal::StringValue(file_, f);
    YAML::Mark m = f.value.Mark();
    if (m.is_null() || m.pos < 0 ||
        static_cast<size_t>(m.pos) >= source_.size()) {
      return std::string();
    }
    absl::string_view rest = source_.substr(m.pos);
    for (absl::string_view spelling : kNullSpellings) {
      if (rest.substr(0, spelling.size()) != spelling) continue;
      absl::string_view after = rest.substr(spelling.size());
      if (after.empty() || absl::ascii_isspace(after[0]) ||
          after[0] == ',' || after[0] == ']' || after[0] == '}' ||
          after[0] == '#') {
        return std::string(spelling);
      }
    }
    return std::string();
  }

  absl::Status ParseLimit(const Field& f, int64_t* out) {
    *out = 0;
    if (f.value.IsNull()) return absl::OkStatus();
    if (f.value.IsScalar() && IsNumberTag(f.value.Tag()) &&
        ParseYamlInt(f.value.Scalar(), out)) {
      return absl::OkStatus();
    }
    return ErrorAtLine(
        file_, f.value_line,
        absl::StrCat("limit must be an integer, not ",
                     Quote(f.value.IsScalar() ? f.value.Scalar()
                                              : "a collection")));
  }

  // A mapping of names to string values (labels, annotations), sorted by
  // name. `lines` gets each entry's line, in the same order.
  absl::Status ParseStringMap(const Field& f, absl::string_view where,
                              StringPairs* out, std::vector<int>* lines) {
    std::vector<std::pair<std::pair<std::string, std::string>, int>> entries;
    RETURN_IF_ERROR(internal::ForEachField(
        file_, f.value, f.line, where, [&](const Field& e) -> absl::Status {
          ASSIGN_OR_RETURN(std::string value, internal::StringValue(file_, e));
          entries.push_back({{e.name, std::move(value)}, e.line});
          return absl::OkStatus();
        }));
    std::sort(entries.begin(), entries.end());
    out->clear();
    lines->clear();
    for (auto& [pair, line] : entries) {
      out->push_back(std::move(pair));
      lines->push_back(line);
    }
    return absl::OkStatus();
  }

  absl::Status ParseGroups(const Field& f, std::vector<RuleGroup>* out) {
    if (f.value.IsNull()) return absl::OkStatus();
    if (!f.value.IsSequence()) {
      return ErrorAtLine(file_, f.value_line,
                         "groups must be a list of rule groups");
    }
    absl::flat_hash_set<std::string> names;
    for (const YAML::Node& g : f.value) {
      // Prometheus skips null entries.
      if (g.IsNull()) continue;
      int line = internal::LineOf(g);
      if (line == 0) line = f.line;
      if (!g.IsMap()) {
        return ErrorAtLine(file_, line, "each rule group must be a mapping");
      }
      RuleGroup group;
      group.line = line;
      RETURN_IF_ERROR(ParseGroup(g, &names, &group));
      out->push_back(std::move(group));
    }
    return absl::OkStatus();
  }

  // Parses one group; `names` holds the names of the groups before it.
  absl::Status ParseGroup(const YAML::Node& node,
                          absl::flat_hash_set<std::string>* names,
                          RuleGroup* g) {
    // The name is read first so that errors in fields before it can name
    // the group.
    std::string where = "a rule group";
    const YAML::Node name_node = node["name"];
    if (name_node.IsDefined() && name_node.IsScalar()) {
      where = absl::StrCat("rule group ", Quote(name_node.Scalar()));
    }
    bool has_rules = false;
    Field rules_field;
    RETURN_IF_ERROR(internal::ForEachField(
        file_, node, g->line, where, [&](const Field& f) -> absl::Status {
          if (f.name == "name") {
            ASSIGN_OR_RETURN(g->name, internal::StringValue(file_, f));
            return absl::OkStatus();
          }
          if (f.name == "interval") {
            return internal::DurationField(file_, f, &g->interval);
          }
          if (f.name == "limit") return ParseLimit(f, &g->limit);
          if (f.name == "rules") {
            has_rules = true;
            rules_field = f;
            return absl::OkStatus();
          }
          return internal::UnknownField(file_, f, where);
        }));
    if (g->name.empty()) Report(g->line, "Groupname must not be empty");
    if (!names->insert(g->name).second) {
      Report(g->line, absl::StrCat("groupname: \"", g->name,
                                   "\" is repeated in the same file"));
    }
    const YAML::Node& rules = rules_field.value;
    if (!has_rules || rules.IsNull()) return absl::OkStatus();
    if (!rules.IsSequence()) {
      return ErrorAtLine(file_, rules_field.value_line,
                         absl::StrCat("rules of ", where, " must be a list"));
    }
    for (const YAML::Node& r : rules) {
      if (r.IsNull()) continue;  // Skipped by Prometheus too.
      int line = internal::LineOf(r);
      if (line == 0) line = rules_field.line;
      const int index = static_cast<int>(g->rules.size()) + 1;
      if (!r.IsMap()) {
        return ErrorAtLine(file_, line,
                           absl::StrCat("rule ", index, " of ", where,
                                        " must be a mapping"));
      }
      Rule rule;
      rule.line = line;
      RETURN_IF_ERROR(ParseRule(r, g->name, index, where, &rule));
      g->rules.push_back(std::move(rule));
    }
    return absl::OkStatus();
  }

  absl::Status ParseRule(const YAML::Node& node, const std::string& group,
                         int index, absl::string_view group_where, Rule* r) {
    const std::string where = absl::StrCat("rule ", index, " of ", group_where);
    int record_line = 0, alert_line = 0;
    std::vector<int> label_lines, annotation_lines;
    bool has_for = false, has_keep_firing_for = false;
    int for_line = 0, keep_firing_for_line = 0;
    RETURN_IF_ERROR(internal::ForEachField(
        file_, node, r->line, where, [&](const Field& f) -> absl::Status {
          if (f.name == "record") {
            record_line = f.value_line;
            ASSIGN_OR_RETURN(r->record, RawText(f));
            return absl::OkStatus();
          }
          if (f.name == "alert") {
            alert_line = f.value_line;
            ASSIGN_OR_RETURN(r->alert, RawText(f));
            return absl::OkStatus();
          }
          if (f.name == "expr") {
            r->expr_line = f.value_line;
            ASSIGN_OR_RETURN(r->expr, RawText(f));
            return absl::OkStatus();
          }
          if (f.name == "for") {
            has_for = true;
            for_line = f.line;
            return internal::DurationField(file_, f, &r->for_);
          }
          if (f.name == "keep_firing_for") {
            has_keep_firing_for = true;
            keep_firing_for_line = f.line;
            return internal::DurationField(file_, f, &r->keep_firing_for);
          }
          if (f.name == "labels") {
            return ParseStringMap(f, absl::StrCat("labels of ", where),
                                  &r->labels, &label_lines);
          }
          if (f.name == "annotations") {
            return ParseStringMap(f, absl::StrCat("annotations of ", where),
                                  &r->annotations, &annotation_lines);
          }
          return internal::UnknownField(file_, f, where);
        }));

    // Prometheus's checks, in its order.
    const RuleRef ref{&group, index, r};
    const bool is_record = !r->record.empty();
    if (is_record && r->is_alert()) {
      ReportRule(ref, record_line,
                 "only one of 'record' and 'alert' must be set");
    }
    if (!is_record && !r->is_alert()) {
      ReportRule(ref, r->line, "one of 'record' or 'alert' must be set");
    }
    if (r->expr.empty()) {
      ReportRule(ref, r->expr_line > 0 ? r->expr_line : r->line,
                 "field 'expr' must be set in rule");
    } else if (checks_.expr) {
      if (absl::Status s = checks_.expr(r->expr); !s.ok()) {
        ReportRule(ref, r->expr_line,
                   absl::StrCat("could not parse expression: ", s.message()));
      }
    }
    if (is_record) {
      if (!r->annotations.empty()) {
        ReportRule(ref, record_line,
                   "invalid field 'annotations' in recording rule");
      }
      if (r->for_ != absl::ZeroDuration()) {
        ReportRule(ref, has_for ? for_line : record_line,
                   "invalid field 'for' in recording rule");
      }
      if (r->keep_firing_for != absl::ZeroDuration()) {
        ReportRule(ref, has_keep_firing_for ? keep_firing_for_line : record_line,
                   "invalid field 'keep_firing_for' in recording rule");
      }
      if (!model::IsValidMetricName(r->record)) {
        ReportRule(ref, record_line,
                   absl::StrCat("invalid recording rule name: ", r->record));
      }
    }
    for (size_t i = 0; i < r->labels.size(); ++i) {
      const std::string& name = r->labels[i].first;
      if (!model::IsValidLabelName(name) || name == "__name__") {
        ReportRule(ref, label_lines[i],
                   absl::StrCat("invalid label name: ", name));
      }
    }
    for (size_t i = 0; i < r->annotations.size(); ++i) {
      const std::string& name = r->annotations[i].first;
      if (!model::IsValidLabelName(name)) {
        ReportRule(ref, annotation_lines[i],
                   absl::StrCat("invalid annotation name: ", name));
      }
    }
    if (r->is_alert() && checks_.tmpl) {
      const std::string tmpl_name = absl::StrCat("__alert_", r->alert);
      auto check = [&](absl::string_view kind, const StringPairs& pairs,
                       const std::vector<int>& lines) {
        for (size_t i = 0; i < pairs.size(); ++i) {
          absl::Status s = checks_.tmpl(tmpl_name, pairs[i].second);
          if (s.ok()) continue;
          ReportRule(ref, lines[i],
                     absl::StrCat(kind, " ", Quote(pairs[i].first), ": ",
                                  s.message()));
        }
      };
      check("label", r->labels, label_lines);
      check("annotation", r->annotations, annotation_lines);
    }
    return absl::OkStatus();
  }

  const absl::string_view source_;
  const absl::string_view file_;
  const RuleChecks& checks_;
  std::vector<std::string> problems_;
};

}  // namespace

size_t RuleFile::rule_count() const {
  size_t n = 0;
  for (const RuleGroup& g : groups) n += g.rules.size();
  return n;
}

absl::StatusOr<RuleFile> ParseRuleFile(absl::string_view yaml,
                                       absl::string_view filename,
                                       const RuleChecks& checks) {
  return internal::CatchExceptions<RuleFile>(
      filename, [&] { return Parser(yaml, filename, checks).Parse(); });
}

absl::StatusOr<RuleFile> LoadRuleFile(const std::string& path,
                                      const RuleChecks& checks) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseRuleFile(text, path, checks);
}

}  // namespace vigil::config
