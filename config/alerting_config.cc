// Parsing of the `alerting` section (as Prometheus 2.42 reads it, with the
// HTTP client, static/file SD and relabel parsers of scrape_configs) and of
// Vigil's own `notifications` section (route tree, inhibit rules,
// receivers; Alertmanager's names and checks where it has them).
#include "config/alerting_config.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "config/config.h"
#include "config/scrape_config_internal.h"
#include "config/yaml_util.h"
#include "model/labels.h"

namespace vigil::config {

namespace {

using internal::AddressAt;
using internal::ErrorAtLine;
using internal::Field;
using internal::HttpClientParse;
using internal::Quote;

// ---------------------------------------------------------------------------
// Shared checks.

// A duration that must be positive: null and "0" are refused, since a
// zero timeout or retry delay would make every delivery fail or spin.
absl::Status PositiveDurationField(absl::string_view file, const Field& f,
                                   absl::Duration* out) {
  absl::Duration d;
  RETURN_IF_ERROR(internal::DurationField(file, f, &d));
  if (d <= absl::ZeroDuration()) {
    return ErrorAtLine(file, f.value_line,
                       absl::StrCat(f.name, " must be greater than 0"));
  }
  *out = d;
  return absl::OkStatus();
}

// An http:// or https:// URL with a host.
absl::Status CheckHttpUrl(absl::string_view file, int line,
                          absl::string_view url) {
  std::string scheme, host;
  if (absl::Status s = internal::SplitUrl(url, &scheme, &host); !s.ok()) {
    return ErrorAtLine(file, line, s.message());
  }
  if (scheme != "http" && scheme != "https") {
    return ErrorAtLine(file, line, "URL scheme must be 'http' or 'https'");
  }
  if (host.empty()) return ErrorAtLine(file, line, "host is missing in URL");
  return absl::OkStatus();
}

// Go's path.Join("/", p) as Prometheus builds the Alertmanager push path,
// with "/" kept as "": "" or "/a/b", no trailing slash, "." and ".."
// resolved.
std::string NormalizePathPrefix(absl::string_view p) {
  std::vector<absl::string_view> parts;
  for (absl::string_view seg : absl::StrSplit(p, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(seg);
  }
  if (parts.empty()) return "";
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

// ---------------------------------------------------------------------------
// alerting.

absl::Status ApiVersionField(absl::string_view file, const Field& f,
                             std::string* out) {
  ASSIGN_OR_RETURN(std::string v, internal::StringValue(file, f));
  if (f.value.IsNull() || v == "v2") {  // Null keeps the default.
    *out = "v2";
    return absl::OkStatus();
  }
  if (v == "v1") {
    return ErrorAtLine(file, f.value_line,
                       "Alertmanager api_version v1 is not supported by "
                       "Vigil: only v2 is supported");
  }
  return ErrorAtLine(file, f.value_line,
                     absl::StrCat("unknown Alertmanager api_version ", Quote(v),
                                  ": only v2 is supported"));
}

absl::StatusOr<AlertmanagerConfig> ParseAlertmanager(absl::string_view file,
                                                     const YAML::Node& node,
                                                     int line) {
  constexpr absl::string_view kWhere = "alertmanager config";
  AlertmanagerConfig c;
  c.line = line;
  HttpClientParse hp{&c.http, {}, {}, {}};
  std::vector<AddressAt> static_addresses;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, kWhere, [&](const Field& f) -> absl::Status {
        if (f.name == "scheme") {
          ASSIGN_OR_RETURN(c.scheme, internal::StringValue(file, f));
          if (c.scheme != "http" && c.scheme != "https") {
            return ErrorAtLine(file, f.value_line,
                               absl::StrCat("invalid scheme ", Quote(c.scheme),
                                            " (want http or https)"));
          }
          return absl::OkStatus();
        }
        if (f.name == "path_prefix") {
          ASSIGN_OR_RETURN(std::string p, internal::StringValue(file, f));
          c.path_prefix = NormalizePathPrefix(p);
          return absl::OkStatus();
        }
        if (f.name == "timeout") {
          return PositiveDurationField(file, f, &c.timeout);
        }
        if (f.name == "api_version") {
          return ApiVersionField(file, f, &c.api_version);
        }
        if (f.name == "static_configs") {
          return internal::ParseList(
              file, f, "empty or null section in static_configs",
              [&](const YAML::Node& item,
                  int item_line) -> absl::StatusOr<TargetGroup> {
                TargetGroup g;
                g.source = absl::StrCat(c.static_configs.size());
                RETURN_IF_ERROR(internal::ParseTargetGroup(
                    file, item, item_line, /*strict=*/true, "static_configs",
                    &g, &static_addresses));
                return g;
              },
              &c.static_configs);
        }
        if (f.name == "file_sd_configs") {
          return internal::ParseList(
              file, f, "empty or null section in file_sd_configs",
              [&](const YAML::Node& item, int item_line) {
                return internal::ParseFileSd(file, item, item_line);
              },
              &c.file_sd_configs);
        }
        if (f.name == "relabel_configs") {
          return internal::ParseRelabelConfigs(
              file, f, "empty or null Alertmanager target relabeling rule",
              &c.relabel_configs);
        }
        if (f.name == "http_sd_configs" || f.name == "sigv4") {
          return ErrorAtLine(file, f.line,
                             absl::StrCat(f.name, " (in ", kWhere,
                                          ") is not supported by Vigil"));
        }
        bool handled;
        RETURN_IF_ERROR(internal::HttpClientField(file, f, &hp, &handled));
        if (handled) return absl::OkStatus();
        return internal::UnsupportedOrUnknown(file, f, kWhere);
      }));
  RETURN_IF_ERROR(internal::FinishHttpClient(file, line, &hp));
  // As for scrape jobs: a URL in place of host:port, unless relabeling may
  // still rewrite the address.
  if (c.relabel_configs.empty()) {
    for (const AddressAt& a : static_addresses) {
      if (absl::StrContains(a.address, '/')) {
        return ErrorAtLine(
            file, a.line,
            absl::StrCat(Quote(a.address), " is not a valid hostname"));
      }
    }
  }
  return c;
}

absl::StatusOr<AlertingConfig> ParseAlertingUnguarded(const YAML::Node& node,
                                                      absl::string_view file) {
  AlertingConfig a;
  if (!node.IsDefined() || node.IsNull()) return a;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, internal::LineOf(node), "alerting",
      [&](const Field& f) -> absl::Status {
        if (f.name == "alert_relabel_configs") {
          return internal::ParseRelabelConfigs(
              file, f, "empty or null alert relabeling rule",
              &a.alert_relabel_configs);
        }
        if (f.name == "alertmanagers") {
          return internal::ParseList(
              file, f, "empty or null section in alertmanagers",
              [&](const YAML::Node& item, int line) {
                return ParseAlertmanager(file, item, line);
              },
              &a.alertmanagers);
        }
        return internal::UnknownField(file, f, "alerting");
      }));
  return a;
}

// ---------------------------------------------------------------------------
// notifications: matchers and routes.

// A list of Alertmanager-style matcher strings.
absl::Status MatchersField(absl::string_view file, const Field& f,
                           std::vector<model::Matcher>* out) {
  out->clear();
  if (f.value.IsNull()) return absl::OkStatus();
  std::vector<std::string> texts;
  RETURN_IF_ERROR(internal::StringListField(file, f, &texts));
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<model::Matcher> m = ParseAlertMatcher(texts[i]);
    if (!m.ok()) {
      return ErrorAtLine(
          file, internal::ItemLine(f.value[i], f.value_line),
          absl::StrCat("invalid matcher ", Quote(texts[i]), " in ", f.name,
                       ": ", m.status().message()));
    }
    out->push_back(*std::move(m));
  }
  return absl::OkStatus();
}

// A list of distinct valid label names (`equal` of inhibit rules).
absl::Status LabelNamesField(absl::string_view file, const Field& f,
                             std::vector<std::string>* out) {
  RETURN_IF_ERROR(internal::StringListField(file, f, out));
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < out->size(); ++i) {
    const std::string& name = (*out)[i];
    int line = internal::ItemLine(f.value[i], f.value_line);
    if (!model::IsValidLabelName(name)) {
      return ErrorAtLine(file, line,
                         absl::StrCat("invalid label name ", Quote(name),
                                      " in ", f.name, " list"));
    }
    if (!seen.insert(name).second) {
      return ErrorAtLine(
          file, line,
          absl::StrCat("duplicated label ", Quote(name), " in ", f.name));
    }
  }
  return absl::OkStatus();
}

// Alertmanager's deprecated equality maps, refused with a pointer to their
// replacement.
absl::Status DeprecatedMatchField(absl::string_view file, const Field& f,
                                  absl::string_view replacement) {
  return ErrorAtLine(
      file, f.line,
      absl::StrCat(f.name, " is not supported by Vigil; use ", replacement,
                   " (e.g. ", replacement, ": ['severity=\"page\"'])"));
}

// A route's use of a receiver by name, checked once all receivers are read.
struct ReceiverRef {
  std::string name;
  int line;
};

// Parses the route at `node` into `out`. Fields it does not set come from
// `parent` (nullptr for the root, whose defaults are Route's).
absl::Status ParseRoute(absl::string_view file, const YAML::Node& node,
                        int line, const Route* parent,
                        std::vector<ReceiverRef>* refs, Route* out) {
  const bool root = parent == nullptr;
  if (!root) {
    out->receiver = parent->receiver;
    out->group_by = parent->group_by;
    out->group_by_all = parent->group_by_all;
    out->group_wait = parent->group_wait;
    out->group_interval = parent->group_interval;
    out->repeat_interval = parent->repeat_interval;
  }
  out->line = line;
  std::optional<Field> children;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, "route", [&](const Field& f) -> absl::Status {
        if (f.name == "receiver") {
          ASSIGN_OR_RETURN(std::string r, internal::StringValue(file, f));
          if (r.empty()) return absl::OkStatus();  // Inherited.
          out->receiver = r;
          refs->push_back({std::move(r), f.line});
          return absl::OkStatus();
        }
        if (f.name == "group_by") {
          if (f.value.IsNull()) return absl::OkStatus();  // Inherited.
          std::vector<std::string> names;
          RETURN_IF_ERROR(internal::StringListField(file, f, &names));
          bool all = false;
          for (const std::string& n : names) all = all || n == "...";
          if (all && names.size() > 1) {
            return ErrorAtLine(file, f.value_line,
                               "cannot have wildcard group_by (`...`) and "
                               "other labels at the same time");
          }
          out->group_by_all = all;
          out->group_by.clear();
          if (!all) RETURN_IF_ERROR(LabelNamesField(file, f, &out->group_by));
          return absl::OkStatus();
        }
        if (f.name == "matchers") {
          RETURN_IF_ERROR(MatchersField(file, f, &out->matchers));
          if (root && !out->matchers.empty()) {
            return ErrorAtLine(file, f.line,
                               "root route must not have any matchers");
          }
          return absl::OkStatus();
        }
        if (f.name == "continue") {
          RETURN_IF_ERROR(
              internal::BoolField(file, f, &out->continue_matching));
          if (root && out->continue_matching) {
            return ErrorAtLine(file, f.line,
                               "cannot have continue in root route");
          }
          return absl::OkStatus();
        }
        if (f.name == "group_wait") {
          if (f.value.IsNull()) return absl::OkStatus();  // Inherited.
          // Zero is allowed: notify as soon as the group forms.
          return internal::DurationField(file, f, &out->group_wait);
        }
        if (f.name == "group_interval" || f.name == "repeat_interval") {
          if (f.value.IsNull()) return absl::OkStatus();  // Inherited.
          return PositiveDurationField(file, f,
                                       f.name == "group_interval"
                                           ? &out->group_interval
                                           : &out->repeat_interval);
        }
        if (f.name == "routes") {
          children = f;
          return absl::OkStatus();
        }
        if (f.name == "match" || f.name == "match_re") {
          return DeprecatedMatchField(file, f, "matchers");
        }
        return internal::UnknownField(file, f, "route");
      }));
  if (root && out->receiver.empty()) {
    return ErrorAtLine(file, line,
                       "root route must specify a default receiver");
  }
  if (!children.has_value()) return absl::OkStatus();
  return internal::ForEachItem(
      file, *children, "empty or null route in routes",
      [&](const YAML::Node& item, int item_line) -> absl::Status {
        Route child;
        RETURN_IF_ERROR(ParseRoute(file, item, item_line, out, refs, &child));
        out->routes.push_back(std::move(child));
        return absl::OkStatus();
      });
}

absl::StatusOr<InhibitRule> ParseInhibitRule(absl::string_view file,
                                             const YAML::Node& node, int line) {
  InhibitRule r;
  r.line = line;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, "inhibit rule", [&](const Field& f) -> absl::Status {
        if (f.name == "source_matchers") {
          return MatchersField(file, f, &r.source_matchers);
        }
        if (f.name == "target_matchers") {
          return MatchersField(file, f, &r.target_matchers);
        }
        if (f.name == "equal") return LabelNamesField(file, f, &r.equal);
        if (f.name == "source_match" || f.name == "source_match_re") {
          return DeprecatedMatchField(file, f, "source_matchers");
        }
        if (f.name == "target_match" || f.name == "target_match_re") {
          return DeprecatedMatchField(file, f, "target_matchers");
        }
        return internal::UnknownField(file, f, "inhibit rule");
      }));
  return r;
}

// ---------------------------------------------------------------------------
// notifications: receivers.

// The fields every receiver config has: timeout, send_resolved and the HTTP
// client settings of a scrape job (tls_config, basic_auth, ...).
absl::Status CommonReceiverField(absl::string_view file, const Field& f,
                                 absl::Duration* timeout, bool* send_resolved,
                                 HttpClientParse* hp, bool* handled) {
  *handled = true;
  if (f.name == "timeout") return PositiveDurationField(file, f, timeout);
  if (f.name == "send_resolved") {
    return internal::BoolField(file, f, send_resolved);
  }
  return internal::HttpClientField(file, f, hp, handled);
}

// A url field: required (checked by the caller), http or https.
absl::Status UrlField(absl::string_view file, const Field& f,
                      std::string* url) {
  ASSIGN_OR_RETURN(*url, internal::StringValue(file, f));
  if (url->empty()) return absl::OkStatus();
  return CheckHttpUrl(file, f.value_line, *url);
}

// Headers Vigil writes itself (or that describe the connection): a user
// value would corrupt the request or duplicate credentials.
constexpr absl::string_view kReservedHeaders[] = {
    "authorization",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "expect",
    "host",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
};

// RFC 9110 token characters.
bool IsHeaderName(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (absl::ascii_isalnum(c)) continue;
    if (absl::string_view("!#$%&'*+-.^_`|~").find(c) ==
        absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

absl::Status HeadersField(
    absl::string_view file, const Field& section,
    std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  absl::flat_hash_set<std::string> seen;
  return internal::ForEachField(
      file, section.value, section.line, "headers",
      [&](const Field& f) -> absl::Status {
        if (!IsHeaderName(f.name)) {
          return ErrorAtLine(
              file, f.line,
              absl::StrCat("invalid header name ", Quote(f.name)));
        }
        std::string lower = absl::AsciiStrToLower(f.name);
        for (absl::string_view r : kReservedHeaders) {
          if (lower != r) continue;
          return ErrorAtLine(
              file, f.line,
              absl::StrCat("header ", Quote(f.name),
                           " is reserved: Vigil sets it (use basic_auth or "
                           "authorization for credentials)"));
        }
        if (!seen.insert(lower).second) {
          return ErrorAtLine(
              file, f.line,
              absl::StrCat("header ", Quote(f.name),
                           " repeated (header names ignore case)"));
        }
        ASSIGN_OR_RETURN(std::string value, internal::StringValue(file, f));
        if (value.find_first_of(std::string("\r\n\0", 3)) !=
            std::string::npos) {
          return ErrorAtLine(file, f.value_line,
                             absl::StrCat("value of header ", Quote(f.name),
                                          " must not contain CR, LF or NUL"));
        }
        out->emplace_back(f.name, std::move(value));
        return absl::OkStatus();
      });
}

absl::StatusOr<WebhookReceiverConfig> ParseWebhook(absl::string_view file,
                                                   const YAML::Node& node,
                                                   int line) {
  constexpr absl::string_view kWhere = "webhook config";
  WebhookReceiverConfig c;
  c.line = line;
  HttpClientParse hp{&c.http, {}, {}, {}};
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, kWhere, [&](const Field& f) -> absl::Status {
        if (f.name == "url") return UrlField(file, f, &c.url);
        if (f.name == "max_alerts") {
          int64_t n;
          RETURN_IF_ERROR(internal::IntField(file, f, &n));
          if (n < 0) {
            return ErrorAtLine(file, f.value_line,
                               "max_alerts must not be negative (0: all)");
          }
          if (n > std::numeric_limits<int>::max()) {
            return ErrorAtLine(file, f.value_line, "max_alerts is too large");
          }
          c.max_alerts = static_cast<int>(n);
          return absl::OkStatus();
        }
        if (f.name == "headers") return HeadersField(file, f, &c.headers);
        bool handled;
        RETURN_IF_ERROR(CommonReceiverField(file, f, &c.timeout,
                                            &c.send_resolved, &hp, &handled));
        if (handled) return absl::OkStatus();
        return internal::UnsupportedOrUnknown(file, f, kWhere);
      }));
  if (c.url.empty())
    return ErrorAtLine(file, line, "missing url in webhook config");
  RETURN_IF_ERROR(internal::FinishHttpClient(file, line, &hp));
  return c;
}

absl::StatusOr<ChatReceiverConfig> ParseChat(absl::string_view file,
                                             const YAML::Node& node, int line) {
  constexpr absl::string_view kWhere = "chat config";
  ChatReceiverConfig c;
  c.line = line;
  HttpClientParse hp{&c.http, {}, {}, {}};
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, kWhere, [&](const Field& f) -> absl::Status {
        if (f.name == "url") return UrlField(file, f, &c.url);
        for (auto [name, member] :
             {std::pair<absl::string_view, std::string*>{"title", &c.title},
              {"text", &c.text},
              {"channel", &c.channel}}) {
          if (f.name != name) continue;
          ASSIGN_OR_RETURN(*member, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        bool handled;
        RETURN_IF_ERROR(CommonReceiverField(file, f, &c.timeout,
                                            &c.send_resolved, &hp, &handled));
        if (handled) return absl::OkStatus();
        return internal::UnsupportedOrUnknown(file, f, kWhere);
      }));
  if (c.url.empty())
    return ErrorAtLine(file, line, "missing url in chat config");
  RETURN_IF_ERROR(internal::FinishHttpClient(file, line, &hp));
  return c;
}

// PagerDuty Events API v2 integration keys.
constexpr size_t kRoutingKeyLength = 32;

absl::Status RoutingKeyField(absl::string_view file, const Field& f,
                             std::string* out) {
  ASSIGN_OR_RETURN(*out, internal::StringValue(file, f));
  bool ok = out->size() == kRoutingKeyLength;
  for (char c : *out) ok = ok && absl::ascii_isalnum(c);
  if (ok) return absl::OkStatus();
  // The key is a secret: name its length, not its text.
  return ErrorAtLine(
      file, f.value_line,
      absl::StrCat("routing_key must be ", kRoutingKeyLength,
                   " characters of [A-Za-z0-9] (a PagerDuty Events API v2 "
                   "integration key); got ",
                   out->size(), " characters",
                   out->size() == kRoutingKeyLength ? " with others than "
                                                      "letters and digits"
                                                    : ""));
}

constexpr absl::string_view kPagerSeverities[] = {"critical", "error",
                                                  "warning", "info"};

absl::StatusOr<PagerReceiverConfig> ParsePager(absl::string_view file,
                                               const YAML::Node& node,
                                               int line) {
  constexpr absl::string_view kWhere = "pager config";
  PagerReceiverConfig c;
  c.line = line;
  HttpClientParse hp{&c.http, {}, {}, {}};
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, kWhere, [&](const Field& f) -> absl::Status {
        if (f.name == "routing_key") {
          if (f.value.IsNull()) return absl::OkStatus();  // Missing.
          return RoutingKeyField(file, f, &c.routing_key);
        }
        if (f.name == "url") {
          RETURN_IF_ERROR(UrlField(file, f, &c.url));
          if (c.url.empty()) {
            return ErrorAtLine(file, f.value_line,
                               "url of a pager config must not be empty "
                               "(omit it for PagerDuty's)");
          }
          return absl::OkStatus();
        }
        if (f.name == "source") {
          ASSIGN_OR_RETURN(c.source, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        if (f.name == "severity") {
          ASSIGN_OR_RETURN(c.severity, internal::StringValue(file, f));
          if (c.severity.empty()) return absl::OkStatus();
          for (absl::string_view s : kPagerSeverities) {
            if (c.severity == s) return absl::OkStatus();
          }
          return ErrorAtLine(
              file, f.value_line,
              absl::StrCat("invalid severity ", Quote(c.severity),
                           " (want critical, error, warning or "
                           "info)"));
        }
        bool handled;
        RETURN_IF_ERROR(CommonReceiverField(file, f, &c.timeout,
                                            &c.send_resolved, &hp, &handled));
        if (handled) return absl::OkStatus();
        return internal::UnsupportedOrUnknown(file, f, kWhere);
      }));
  if (c.routing_key.empty()) {
    return ErrorAtLine(file, line, "missing routing_key in pager config");
  }
  RETURN_IF_ERROR(internal::FinishHttpClient(file, line, &hp));
  return c;
}

// Alertmanager's receiver config names, pointed to Vigil's.
struct ReceiverHint {
  absl::string_view alertmanager;
  absl::string_view vigil;
};
constexpr ReceiverHint kReceiverHints[] = {
    {"slack_configs", "chat_configs"},
    {"pagerduty_configs", "pager_configs"},
};

// Parses the list field `f` of one kind of receiver config with `parse`.
template <typename T>
absl::Status ReceiverConfigs(absl::string_view file, const Field& f,
                             absl::StatusOr<T> (*parse)(absl::string_view,
                                                        const YAML::Node&, int),
                             std::vector<T>* out) {
  return internal::ParseList(
      file, f, absl::StrCat("empty or null section in ", f.name),
      [&](const YAML::Node& item, int line) { return parse(file, item, line); },
      out);
}

absl::StatusOr<ReceiverConfig> ParseReceiver(absl::string_view file,
                                             const YAML::Node& node, int line) {
  ReceiverConfig r;
  r.line = line;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, "receiver", [&](const Field& f) -> absl::Status {
        if (f.name == "name") {
          ASSIGN_OR_RETURN(r.name, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        if (f.name == "webhook_configs") {
          return ReceiverConfigs(file, f, &ParseWebhook, &r.webhook_configs);
        }
        if (f.name == "chat_configs") {
          return ReceiverConfigs(file, f, &ParseChat, &r.chat_configs);
        }
        if (f.name == "pager_configs") {
          return ReceiverConfigs(file, f, &ParsePager, &r.pager_configs);
        }
        for (const ReceiverHint& h : kReceiverHints) {
          if (f.name != h.alertmanager) continue;
          return ErrorAtLine(file, f.line,
                             absl::StrCat(f.name,
                                          " is not supported by Vigil; "
                                          "use ",
                                          h.vigil));
        }
        return internal::UnknownField(
            file, f,
            r.name.empty() ? std::string("receiver")
                           : absl::StrCat("receiver ", Quote(r.name)));
      }));
  if (r.name.empty())
    return ErrorAtLine(file, line, "missing name in receiver");
  return r;
}

absl::StatusOr<NotificationsConfig> ParseNotificationsUnguarded(
    const YAML::Node& node, absl::string_view file) {
  NotificationsConfig n;
  if (!node.IsDefined() || node.IsNull()) return n;
  n.enabled = true;
  const int line = internal::LineOf(node);
  std::vector<ReceiverRef> refs;
  bool have_route = false;
  int retry_max_line = 0;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, "notifications", [&](const Field& f) -> absl::Status {
        if (f.name == "route") {
          if (f.value.IsNull()) {
            return ErrorAtLine(file, f.line,
                               "root route must specify a default receiver");
          }
          have_route = true;
          return ParseRoute(file, f.value, f.line, nullptr, &refs, &n.route);
        }
        if (f.name == "inhibit_rules") {
          return internal::ParseList(
              file, f, "empty or null inhibit rule",
              [&](const YAML::Node& item, int l) {
                return ParseInhibitRule(file, item, l);
              },
              &n.inhibit_rules);
        }
        if (f.name == "receivers") {
          return internal::ParseList(
              file, f, "empty or null receiver",
              [&](const YAML::Node& item, int l) {
                return ParseReceiver(file, item, l);
              },
              &n.receivers);
        }
        if (f.name == "retry_initial") {
          return PositiveDurationField(file, f, &n.retry_initial);
        }
        if (f.name == "retry_max") {
          retry_max_line = f.line;
          return PositiveDurationField(file, f, &n.retry_max);
        }
        if (f.name == "retry_give_up") {
          return PositiveDurationField(file, f, &n.retry_give_up);
        }
        return internal::UnknownField(file, f, "notifications");
      }));
  if (!have_route) {
    return ErrorAtLine(file, line,
                       "notifications needs a route (the root route names "
                       "the default receiver)");
  }
  if (n.retry_max < n.retry_initial) {
    return ErrorAtLine(
        file, retry_max_line > 0 ? retry_max_line : line,
        absl::StrCat("retry_max ", FormatPromDuration(n.retry_max),
                     " is less than retry_initial ",
                     FormatPromDuration(n.retry_initial)));
  }
  absl::flat_hash_set<std::string> names;
  for (const ReceiverConfig& r : n.receivers) {
    if (!names.insert(r.name).second) {
      return ErrorAtLine(
          file, r.line,
          absl::StrCat("receiver name ", Quote(r.name), " is not unique"));
    }
  }
  for (const ReceiverRef& ref : refs) {
    if (names.contains(ref.name)) continue;
    return ErrorAtLine(
        file, ref.line,
        absl::StrCat("undefined receiver ", Quote(ref.name), " used in route"));
  }
  return n;
}

void ResolveFileSdPaths(absl::string_view dir, FileSdConfig* fsd) {
  for (std::string& f : fsd->files) f = internal::JoinDir(dir, f);
}

}  // namespace

absl::StatusOr<AlertingConfig> ParseAlertingConfig(const YAML::Node& node,
                                                   absl::string_view file) {
  return internal::CatchExceptions<AlertingConfig>(
      file, [&] { return ParseAlertingUnguarded(node, file); });
}

absl::StatusOr<NotificationsConfig> ParseNotificationsConfig(
    const YAML::Node& node, absl::string_view file) {
  return internal::CatchExceptions<NotificationsConfig>(
      file, [&] { return ParseNotificationsUnguarded(node, file); });
}

void ResolveAlertingPaths(absl::string_view dir, AlertingConfig* a,
                          NotificationsConfig* n) {
  if (a != nullptr) {
    for (AlertmanagerConfig& am : a->alertmanagers) {
      internal::ResolveHttpClientPaths(dir, &am.http);
      for (FileSdConfig& fsd : am.file_sd_configs)
        ResolveFileSdPaths(dir, &fsd);
    }
  }
  if (n != nullptr) {
    for (ReceiverConfig& r : n->receivers) {
      for (WebhookReceiverConfig& c : r.webhook_configs) {
        internal::ResolveHttpClientPaths(dir, &c.http);
      }
      for (ChatReceiverConfig& c : r.chat_configs) {
        internal::ResolveHttpClientPaths(dir, &c.http);
      }
      for (PagerReceiverConfig& c : r.pager_configs) {
        internal::ResolveHttpClientPaths(dir, &c.http);
      }
    }
  }
}

absl::StatusOr<model::Matcher> ParseAlertMatcher(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  size_t i = 0;
  while (i < s.size() && (absl::ascii_isalnum(s[i]) || s[i] == '_')) {
    ++i;
  }
  std::string name(s.substr(0, i));
  if (!model::IsValidLabelName(name)) {
    return absl::InvalidArgumentError(
        name.empty() ? "want a label name first, e.g. severity=\"page\""
                     : absl::StrCat(Quote(name), " is not a valid label name"));
  }
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(s.substr(i));
  // Two-character operators first: "=~" would otherwise read as "=".
  struct Op {
    absl::string_view text;
    model::MatchType type;
  };
  constexpr Op kOps[] = {{"=~", model::MatchType::kRegexMatch},
                         {"!=", model::MatchType::kNotEqual},
                         {"!~", model::MatchType::kRegexNoMatch},
                         {"=", model::MatchType::kEqual}};
  const Op* op = nullptr;
  for (const Op& o : kOps) {
    if (absl::StartsWith(rest, o.text)) {
      op = &o;
      break;
    }
  }
  if (op == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("want an operator (=, !=, =~ or !~) after ", Quote(name)));
  }
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(op->text.size()));
  std::string value;
  if (absl::StartsWith(rest, "\"")) {
    // A quoted value: \" \\ and \n are escapes; any other backslash stays,
    // so regexes such as "a\.b" read as written.
    bool closed = false;
    for (size_t j = 1; j < rest.size(); ++j) {
      char c = rest[j];
      if (c == '\\' && j + 1 < rest.size()) {
        char next = rest[++j];
        if (next == '"' || next == '\\') {
          value.push_back(next);
        } else if (next == 'n') {
          value.push_back('\n');
        } else {
          value.push_back('\\');
          value.push_back(next);
        }
      } else if (c == '"') {
        if (j + 1 != rest.size()) {
          return absl::InvalidArgumentError(
              "unescaped double quote inside the quoted value (write \\\")");
        }
        closed = true;
      } else {
        value.push_back(c);
      }
    }
    if (!closed) {
      return absl::InvalidArgumentError("missing closing double quote");
    }
  } else {
    if (absl::StrContains(rest, '"')) {
      return absl::InvalidArgumentError(
          "double quote in an unquoted value (quote the whole value: "
          "name=\"...\")");
    }
    value = std::string(rest);
  }
  // Fails, naming the regex, when it does not compile.
  return model::Matcher::Create(op->type, name, value);
}

}  // namespace vigil::config
