#include "config/rule_file.h"

#include <algorithm>
#include <cstdint>
#include <functional>
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

// yaml-cpp's spellings of an explicit null.
constexpr absl::string_view kNullSpellings[] = {"~", "null", "Null", "NULL"};

// Reads one rule file. A problem with the file's shape (YAML syntax, types,
// unknown fields) ends the parse at once; rule problems are collected
// (Report) so that all of them are listed, as Prometheus lists them.
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
    auto field = [&](const Field& f) -> absl::Status {
      if (f.name == "groups") return ParseGroups(f, &out.groups);
      return internal::UnknownField(file_, f, kWhere);
    };
    RETURN_IF_ERROR(ForEachField(root, internal::LineOf(root), kWhere, field));
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
    Report(line, absl::StrCat("group ", Quote(*ref.group), ", rule ", ref.index,
                              ", ", Quote(ref.rule->name()), ": ", msg));
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
      if (after.empty() || absl::ascii_isspace(after[0]) || after[0] == ',' ||
          after[0] == ']' || after[0] == '}' || after[0] == '#') {
        return std::string(spelling);
      }
    }
    return std::string();
  }

  // `map` with YAML merge keys ("<<: *anchor", "<<: [*a, *b]") resolved as
  // Prometheus's YAML decoder resolves them: the fields written in `map`
  // win over merged ones, and an earlier merged mapping over a later one.
  // yaml-cpp leaves "<<" as an ordinary key. The entries keep their nodes,
  // so their lines stay those of the anchored text.
  absl::StatusOr<YAML::Node> ExpandMerges(const YAML::Node& map, int line) {
    if (!map.IsMap()) return map;
    auto is_merge_key = [](const YAML::Node& key) {
      return key.IsScalar() && key.Tag() == "?" && key.Scalar() == "<<";
    };
    bool has_merge = false;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (is_merge_key(it->first)) has_merge = true;
    }
    if (!has_merge) return map;
    YAML::Node out(YAML::NodeType::Map);
    absl::flat_hash_set<std::string> names;
    std::vector<YAML::Node> sources;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (is_merge_key(it->first)) {
        const YAML::Node& v = it->second;
        if (v.IsMap()) {
          sources.push_back(v);
        } else if (v.IsSequence()) {
          for (const YAML::Node& item : v) sources.push_back(item);
        } else {
          sources.push_back(v);  // Refused below.
        }
        continue;
      }
      // Kept even when repeated, for ForEachField to report.
      out.force_insert(it->first, it->second);
      if (it->first.IsScalar()) names.insert(it->first.Scalar());
    }
    for (const YAML::Node& source : sources) {
      if (!source.IsMap()) {
        return ErrorAtLine(file_, line,
                           "a merge key (<<) must refer to a mapping or a "
                           "list of mappings");
      }
      ASSIGN_OR_RETURN(YAML::Node expanded,
                       ExpandMerges(source, internal::LineOf(source)));
      for (auto it = expanded.begin(); it != expanded.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        if (!names.insert(it->first.Scalar()).second) continue;
        out.force_insert(it->first, it->second);
      }
    }
    return out;
  }

  // internal::ForEachField over `map` with merge keys resolved.
  absl::Status ForEachField(
      const YAML::Node& map, int map_line, absl::string_view where,
      const std::function<absl::Status(const Field&)>& fn) {
    ASSIGN_OR_RETURN(YAML::Node expanded, ExpandMerges(map, map_line));
    return internal::ForEachField(file_, expanded, map_line, where, fn);
  }

  // A mapping of names to string values (labels, annotations), sorted by
  // name. `lines` gets each entry's line, in the same order.
  absl::Status ParseStringMap(const Field& f, absl::string_view where,
                              StringPairs* out, std::vector<int>* lines) {
    std::vector<std::pair<std::pair<std::string, std::string>, int>> entries;
    RETURN_IF_ERROR(ForEachField(
        f.value, f.line, where, [&](const Field& e) -> absl::Status {
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
    ASSIGN_OR_RETURN(const YAML::Node expanded, ExpandMerges(node, g->line));
    std::string where = "a rule group";
    const YAML::Node name_node = expanded["name"];
    if (name_node.IsDefined() && name_node.IsScalar()) {
      where = absl::StrCat("rule group ", Quote(name_node.Scalar()));
    }
    bool has_rules = false;
    Field rules_field;
    RETURN_IF_ERROR(internal::ForEachField(
        file_, expanded, g->line, where, [&](const Field& f) -> absl::Status {
          if (f.name == "name") {
            ASSIGN_OR_RETURN(g->name, internal::StringValue(file_, f));
            return absl::OkStatus();
          }
          if (f.name == "interval") {
            return internal::DurationField(file_, f, &g->interval);
          }
          if (f.name == "limit") return internal::IntField(file_, f, &g->limit);
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
        return ErrorAtLine(
            file_, line,
            absl::StrCat("rule ", index, " of ", where, " must be a mapping"));
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
    int record_line = 0;
    std::vector<int> label_lines, annotation_lines;
    bool has_for = false, has_keep_firing_for = false;
    int for_line = 0, keep_firing_for_line = 0;
    RETURN_IF_ERROR(
        ForEachField(node, r->line, where, [&](const Field& f) -> absl::Status {
          if (f.name == "record") {
            record_line = f.value_line;
            ASSIGN_OR_RETURN(r->record, RawText(f));
            return absl::OkStatus();
          }
          if (f.name == "alert") {
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
        ReportRule(ref,
                   has_keep_firing_for ? keep_firing_for_line : record_line,
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
