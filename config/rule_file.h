// Rule files (the config's rule_files): groups of recording and alerting
// rules in Prometheus 2.42's format, parsed into plain validated structs.
//
//   groups:
//   - name: node
//     interval: 30s
//     rules:
//     - record: job:up:sum
//       expr: sum by (job) (up)
//     - alert: Down
//       expr: up == 0
//       for: 5m
//       labels: {severity: page}
//       annotations: {summary: "{{ $labels.instance }} is down"}
//
// Validation is Prometheus's (its rulefmt package): unknown fields, group
// names missing or repeated in a file, rules that are not exactly one of
// record/alert, a missing expr, recording rules with for, keep_firing_for or
// annotations, invalid recording rule names and label names. config/ cannot
// parse PromQL or templates: a caller that can passes RuleChecks, and their
// errors are reported in the same list, at the same places.
//
// Errors are InvalidArgument. A malformed file (YAML syntax, a value of the
// wrong type, an unknown field, a bad duration) gives one error
// "<file>:<line>: <what>". Otherwise every rule problem in the file is
// reported, one per line of the message, as Prometheus lists them:
//   <file>:<line>: group "<group>", rule <n>, "<name>": <what>
//   <file>:<line>: groupname: "<group>" is repeated in the same file
// No exception leaves this module.
#ifndef VIGIL_CONFIG_RULE_FILE_H_
#define VIGIL_CONFIG_RULE_FILE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vigil::config {

// One recording rule (record set) or alerting rule (alert set).
struct Rule {
  // Exactly one of record and alert is non-empty. record is a valid metric
  // name; alert is any text.
  std::string record;
  std::string alert;
  // PromQL, not empty. Checked only by RuleChecks::expr.
  std::string expr;
  // Alerting rules only (zero for recording rules).
  absl::Duration for_ = absl::ZeroDuration();
  absl::Duration keep_firing_for = absl::ZeroDuration();
  // Sorted by name, names unique and valid, never __name__. Values are
  // kept even when empty; for alerting rules they are templates.
  std::vector<std::pair<std::string, std::string>> labels;
  // Alerting rules only; sorted by name, names valid; values are templates.
  std::vector<std::pair<std::string, std::string>> annotations;
  int line = 0;       // 1-based line of the rule's first field.
  int expr_line = 0;  // 1-based line of expr's value.

  bool is_alert() const { return !alert.empty(); }
  // alert for alerting rules, record for recording rules.
  const std::string& name() const { return is_alert() ? alert : record; }
};

struct RuleGroup {
  // Not empty, unique within its file.
  std::string name;
  // How often the group runs; zero means the global evaluation_interval.
  absl::Duration interval = absl::ZeroDuration();
  // Most series a recording rule, or alerts an alerting rule, may produce
  // per evaluation; 0 (and, as in Prometheus, a negative value) is no
  // limit.
  int64_t limit = 0;
  std::vector<Rule> rules;  // In file order.
  int line = 0;             // 1-based line of the group's first field.
};

struct RuleFile {
  std::string filename;           // As given to ParseRuleFile or LoadRuleFile.
  std::vector<RuleGroup> groups;  // In file order.

  // Rules in all groups.
  size_t rule_count() const;
};

// Checks of rule content that config/ cannot make itself. Each is optional;
// an unset one is skipped.
struct RuleChecks {
  // Called with each rule's expr (never empty). An error is reported as
  // "could not parse expression: <its message>" at the expr's line.
  std::function<absl::Status(absl::string_view expr)> expr;
  // Called for each label value and then each annotation value of an
  // alerting rule, with `name` "__alert_<alert>" as Prometheus names the
  // template. An error is reported as `label "<k>": <its message>` (or
  // annotation) at the value's line.
  std::function<absl::Status(absl::string_view name, absl::string_view text)>
      tmpl;
};

// Parses a rule file from memory; `filename` is only used in error messages
// and RuleFile::filename. An empty document, or one with no groups, is a
// valid file without rules.
absl::StatusOr<RuleFile> ParseRuleFile(absl::string_view yaml,
                                       absl::string_view filename,
                                       const RuleChecks& checks = {});

// Reads and parses `path`.
absl::StatusOr<RuleFile> LoadRuleFile(const std::string& path,
                                      const RuleChecks& checks = {});

}  // namespace vigil::config

#endif  // VIGIL_CONFIG_RULE_FILE_H_
