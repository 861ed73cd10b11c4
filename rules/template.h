// Go text/template, the subset Prometheus's rule templates use, with
// Prometheus 2.42's template functions, rendering byte-for-byte what
// Prometheus renders (labels and annotations of alerting rules, and later
// notification templates).
//
//   ASSIGN_OR_RETURN(Template t, Template::Parse("summary", text));
//   TemplateData data;  data.labels = ...;  data.value = 3.5;
//   absl::StatusOr<std::string> out = t.Execute(data, funcs);
//
// A parsed Template is immutable and thread-safe.
#ifndef VIGIL_RULES_TEMPLATE_H_
#define VIGIL_RULES_TEMPLATE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vigil::rules {

// One sample as the `query` template function returns it.
struct QuerySample {
  std::map<std::string, std::string> labels;  // Including __name__ if any.
  double value = 0;
};

// What a rule template sees. Prometheus defines $labels, $externalLabels,
// $externalURL and $value before the text, and passes a struct with
// .Labels, .ExternalLabels, .ExternalURL and .Value as the dot.
struct TemplateData {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> external_labels;
  std::string external_url;
  double value = 0;
};

// One alert as an Alertmanager notification template sees it
// (Alertmanager's template.Alert).
struct NotificationTemplateAlert {
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  absl::Time starts_at = absl::InfinitePast();  // InfinitePast: Go's zero time.
  absl::Time ends_at = absl::InfinitePast();
  std::string generator_url;
  std::string fingerprint;
};

// The dot of a notification template (Alertmanager's template.Data).
struct NotificationTemplateData {
  std::string receiver;
  std::string status;  // "firing" if any alert fires, else "resolved".
  std::vector<NotificationTemplateAlert> alerts;
  std::map<std::string, std::string> group_labels;
  std::map<std::string, std::string> common_labels;
  std::map<std::string, std::string> common_annotations;
  std::string external_url;
};

// Environment of an execution.
struct TemplateEnv {
  // Evaluates an instant query at the rule's evaluation time (`query`
  // function). Null: `query` fails with an error.
  std::function<absl::StatusOr<std::vector<QuerySample>>(absl::string_view)> query;
  absl::Time eval_time;
  std::string path_prefix;   // For pathPrefix.
  std::string external_url;  // For externalURL, graphLink, tableLink.
};

class Template {
 public:
  // Parses `text` (Go's syntax: actions, pipelines, variables, if/else/
  // range/with/define/template/block, comments, trim markers). Errors read
  // like Go's: "template: <name>:<line>: <what>".
  static absl::StatusOr<Template> Parse(absl::string_view name, absl::string_view text);

  // Parses `text` as Prometheus parses an alerting rule's label or
  // annotation: with the variable definitions of ExpandRuleTemplate
  // prepended, so that error positions count them as Prometheus's do. Parse
  // once and Execute per alert to save ExpandRuleTemplate's parsing.
  static absl::StatusOr<Template> ParseRule(absl::string_view name, absl::string_view text);

  // Parses `text` as a notification template: Alertmanager's functions
  // (title, toUpper, toLower, trimSpace, join, match, reReplaceAll,
  // safeHtml, stringSlice) instead of Prometheus's.
  static absl::StatusOr<Template> ParseNotification(absl::string_view name,
                                                    absl::string_view text);

  // Renders a template from ParseNotification with `data` as the dot:
  // .Receiver, .Status, .Alerts (with .Firing and .Resolved), .GroupLabels,
  // .CommonLabels, .CommonAnnotations (template.KV: .SortedPairs, .Names,
  // .Values, .Remove), .ExternalURL; each alert .Status, .Labels,
  // .Annotations, .StartsAt, .EndsAt, .GeneratorURL, .Fingerprint.
  absl::StatusOr<std::string> ExecuteNotification(const NotificationTemplateData& data) const;

  // Renders with `data` as the dot and the $labels/$value/... variables.
  // Errors read like Go's ("template: <name>:<line>:<col>: executing
  // \"<name>\" at <...>: error calling humanize: ...").
  absl::StatusOr<std::string> Execute(const TemplateData& data, const TemplateEnv& env) const;

  Template();
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Prometheus's rule template expansion: prepends the variable definitions
// ({{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}
// {{$externalURL := .ExternalURL}}{{$value := .Value}}), parses and
// executes `text`. On any error returns the text Prometheus puts into the
// label or annotation instead: "<error expanding template: ...>"-style
// message exactly as Prometheus 2.42 formats it (see its template package
// docs); `ok` tells whether it failed.
std::string ExpandRuleTemplate(absl::string_view name, absl::string_view text,
                               const TemplateData& data, const TemplateEnv& env, bool* ok);

// Parses `text` as a rule template (with the variable prelude) without
// executing it: what `check rules` reports for template syntax errors.
absl::Status CheckRuleTemplate(absl::string_view name, absl::string_view text);

}  // namespace vigil::rules

#endif  // VIGIL_RULES_TEMPLATE_H_
