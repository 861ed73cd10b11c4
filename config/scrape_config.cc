// Parsing of scrape_configs. Values are read the way Prometheus 2.42 reads
// them with Go's yaml.v2 (a null value zeroes a field, YAML 1.1 booleans,
// integers with 0x/0o/0b prefixes and '_' separators), and each check that
// Prometheus makes at load is made here with Prometheus's message, prefixed
// with "<file>:<line>: ".
#include "config/scrape_config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "config/scrape_config_internal.h"
#include "config/yaml_util.h"
#include "re2/re2.h"

namespace vigil::config {

namespace {

using internal::AddressAt;
using internal::CheckRegex;
using internal::ErrorAtLine;
using internal::Field;
using internal::FinishHttpClient;
using internal::HttpClientField;
using internal::HttpClientParse;
using internal::ItemLine;
using internal::ParseFileSd;
using internal::ParseList;
using internal::ParseRelabelConfigs;
using internal::ParseTargetGroup;
using internal::Quote;
using internal::SplitUrl;
using internal::UnsupportedOrUnknown;

struct ActionName {
  absl::string_view name;
  RelabelAction action;
};
constexpr ActionName kRelabelActions[] = {
    {"replace", RelabelAction::kReplace},
    {"keep", RelabelAction::kKeep},
    {"drop", RelabelAction::kDrop},
    {"keepequal", RelabelAction::kKeepEqual},
    {"dropequal", RelabelAction::kDropEqual},
    {"hashmod", RelabelAction::kHashMod},
    {"labelmap", RelabelAction::kLabelMap},
    {"labeldrop", RelabelAction::kLabelDrop},
    {"labelkeep", RelabelAction::kLabelKeep},
    {"lowercase", RelabelAction::kLowercase},
    {"uppercase", RelabelAction::kUppercase},
};

// Fields of Prometheus 2.42's scrape_config (and of its HTTP client config)
// that Vigil does not implement. They are refused, not ignored: a job that
// relies on them would silently scrape nothing or scrape unauthenticated.
constexpr absl::string_view kUnsupportedFields[] = {
    "oauth2",
    "azure_sd_configs",
    "consul_sd_configs",
    "digitalocean_sd_configs",
    "docker_sd_configs",
    "dockerswarm_sd_configs",
    "dns_sd_configs",
    "ec2_sd_configs",
    "eureka_sd_configs",
    "gce_sd_configs",
    "hetzner_sd_configs",
    "ionos_sd_configs",
    "kubernetes_sd_configs",
    "kuma_sd_configs",
    "lightsail_sd_configs",
    "linode_sd_configs",
    "marathon_sd_configs",
    "nerve_sd_configs",
    "nomad_sd_configs",
    "openstack_sd_configs",
    "ovhcloud_sd_configs",
    "puppetdb_sd_configs",
    "scaleway_sd_configs",
    "serverset_sd_configs",
    "triton_sd_configs",
    "uyuni_sd_configs",
    "vultr_sd_configs",
};

}  // namespace

namespace internal {

absl::Status UnsupportedOrUnknown(absl::string_view file, const Field& f,
                                  absl::string_view where) {
  for (absl::string_view name : kUnsupportedFields) {
    if (f.name == name) {
      return ErrorAtLine(
          file, f.line,
          absl::StrCat(f.name, " (in ", where, ") is not supported by Vigil"));
    }
  }
  return internal::UnknownField(file, f, where);
}

// The line of `item` in a list, or `fallback` when yaml-cpp has none (null
// entries).
int ItemLine(const YAML::Node& item, int fallback) {
  int line = internal::LineOf(item);
  return line > 0 ? line : fallback;
}

// Calls `fn` with each entry of the list field `f` and its line; a null
// field is an empty list. A null entry is an error: `null_message`.
absl::Status ForEachItem(
    absl::string_view file, const Field& f, absl::string_view null_message,
    const std::function<absl::Status(const YAML::Node&, int)>& fn) {
  if (f.value.IsNull()) return absl::OkStatus();
  if (!f.value.IsSequence()) {
    return ErrorAtLine(file, f.value_line,
                       absl::StrCat(f.name, " must be a list"));
  }
  for (const YAML::Node& item : f.value) {
    // yaml-cpp places a null entry at the next token, often a line
    // later: name the list instead.
    if (item.IsNull()) return ErrorAtLine(file, f.line, null_message);
    int line = ItemLine(item, f.value_line);
    RETURN_IF_ERROR(fn(item, line));
  }
  return absl::OkStatus();
}

// A subset of Go's url.Parse, enough for Prometheus's checks on http_sd
// URLs: the scheme (lower-cased, "" when there is none) and the host.
absl::Status SplitUrl(absl::string_view url, std::string* scheme,
                      std::string* host) {
  scheme->clear();
  host->clear();
  size_t colon = url.find(':');
  absl::string_view rest = url;
  if (colon != absl::string_view::npos) {
    absl::string_view s = url.substr(0, colon);
    bool valid = !s.empty() && absl::ascii_isalpha(s[0]);
    for (char c : s) {
      if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') {
        valid = false;
      }
    }
    if (colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("parse ", Quote(url), ": missing protocol scheme"));
    }
    if (valid) {
      *scheme = absl::AsciiStrToLower(s);
      rest = url.substr(colon + 1);
    }
  }
  if (absl::StartsWith(rest, "//")) {
    rest.remove_prefix(2);
    absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    size_t at = authority.rfind('@');
    if (at != absl::string_view::npos) authority.remove_prefix(at + 1);
    *host = std::string(authority);
  }
  return absl::OkStatus();
}

}  // namespace internal

namespace {

// ---------------------------------------------------------------------------
// The HTTP client fields, shared by scrape jobs and http_sd_configs.

// Reads `section`, a mapping whose fields are all strings, into the
// members named in `fields`; records each field's line in `p`.
absl::Status ParseStringFields(
    absl::string_view file, const Field& section,
    std::initializer_list<std::pair<absl::string_view, std::string*>> fields,
    HttpClientParse* p) {
  return internal::ForEachField(
      file, section.value, section.line, section.name,
      [&](const Field& f) -> absl::Status {
        p->lines[absl::StrCat(section.name, ".", f.name)] = f.line;
        for (const auto& [name, member] : fields) {
          if (f.name != name) continue;
          ASSIGN_OR_RETURN(*member, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        return internal::UnknownField(file, f, section.name);
      });
}

absl::Status ParseBasicAuth(absl::string_view file, const Field& section,
                            HttpClientParse* p) {
  if (section.value.IsNull()) return absl::OkStatus();
  BasicAuth& b = p->out->basic_auth.emplace();
  return ParseStringFields(file, section,
                           {{"username", &b.username},
                            {"password", &b.password},
                            {"password_file", &b.password_file}},
                           p);
}

absl::Status ParseAuthorization(absl::string_view file, const Field& section,
                                HttpClientParse* p) {
  if (section.value.IsNull()) return absl::OkStatus();
  Authorization& a = p->out->authorization.emplace();
  a.type.clear();  // Defaulted to "Bearer" once validated.
  return ParseStringFields(file, section,
                           {{"type", &a.type},
                            {"credentials", &a.credentials},
                            {"credentials_file", &a.credentials_file}},
                           p);
}

absl::Status TlsVersionField(absl::string_view file, const Field& f,
                             std::string* out) {
  ASSIGN_OR_RETURN(*out, internal::StringValue(file, f));
  for (absl::string_view v : {"TLS10", "TLS11", "TLS12", "TLS13"}) {
    if (*out == v) return absl::OkStatus();
  }
  return ErrorAtLine(
      file, f.value_line,
      absl::StrCat("unknown TLS version: ", *out, " (in ", f.name,
                   "; want TLS10, TLS11, TLS12 or "
                   "TLS13)"));
}

absl::Status ParseTls(absl::string_view file, const Field& section,
                      HttpClientParse* p) {
  TlsClientConfig& t = p->out->tls;
  return internal::ForEachField(
      file, section.value, section.line, "tls_config",
      [&](const Field& f) -> absl::Status {
        p->lines[absl::StrCat("tls_config.", f.name)] = f.line;
        if (f.name == "ca_file") {
          ASSIGN_OR_RETURN(t.ca_file, internal::StringValue(file, f));
        } else if (f.name == "cert_file") {
          ASSIGN_OR_RETURN(t.cert_file, internal::StringValue(file, f));
        } else if (f.name == "key_file") {
          ASSIGN_OR_RETURN(t.key_file, internal::StringValue(file, f));
        } else if (f.name == "server_name") {
          ASSIGN_OR_RETURN(t.server_name, internal::StringValue(file, f));
        } else if (f.name == "insecure_skip_verify") {
          return internal::BoolField(file, f, &t.insecure_skip_verify);
        } else if (f.name == "min_version") {
          return TlsVersionField(file, f, &t.min_version);
        } else if (f.name == "max_version") {
          return TlsVersionField(file, f, &t.max_version);
        } else {
          return internal::UnknownField(file, f, "tls_config");
        }
        return absl::OkStatus();
      });
}

}  // namespace

namespace internal {

// Handles `f` when it is an HTTP client field; sets *handled accordingly.
absl::Status HttpClientField(absl::string_view file, const Field& f,
                             HttpClientParse* p, bool* handled) {
  *handled = true;
  HttpClientConfig* h = p->out;
  if (f.name == "basic_auth") {
    p->lines[f.name] = f.line;
    return ParseBasicAuth(file, f, p);
  }
  if (f.name == "authorization") {
    p->lines[f.name] = f.line;
    return ParseAuthorization(file, f, p);
  }
  if (f.name == "bearer_token" || f.name == "bearer_token_file") {
    p->lines[f.name] = f.line;
    ASSIGN_OR_RETURN(std::string v, internal::StringValue(file, f));
    (f.name == "bearer_token" ? p->bearer_token : p->bearer_token_file) = v;
    return absl::OkStatus();
  }
  if (f.name == "tls_config") return ParseTls(file, f, p);
  if (f.name == "follow_redirects") {
    return internal::BoolField(file, f, &h->follow_redirects);
  }
  if (f.name == "enable_http2")
    return internal::BoolField(file, f, &h->enable_http2);
  if (f.name == "proxy_url") {
    ASSIGN_OR_RETURN(h->proxy_url, internal::StringValue(file, f));
    if (!h->proxy_url.empty()) {
      return ErrorAtLine(file, f.line,
                         "proxy_url is not supported by Vigil yet");
    }
    return absl::OkStatus();
  }
  *handled = false;
  return absl::OkStatus();
}

// Prometheus's HTTPClientConfig.Validate: conflicting credentials are
// errors, and bearer_token / bearer_token_file become an authorization of
// type Bearer. Also the TLS client pair check Prometheus makes when it
// builds the client. `line` is the line of the config holding the fields.
absl::Status FinishHttpClient(absl::string_view file, int line,
                              HttpClientParse* p) {
  HttpClientConfig* h = p->out;
  bool bearer = !p->bearer_token.empty() || !p->bearer_token_file.empty();
  int bearer_line = p->Line("bearer_token_file", p->Line("bearer_token", line));
  if (!p->bearer_token.empty() && !p->bearer_token_file.empty()) {
    return ErrorAtLine(
        file, bearer_line,
        "at most one of bearer_token & bearer_token_file must be configured");
  }
  if (h->basic_auth.has_value() && bearer) {
    return ErrorAtLine(file, bearer_line,
                       "at most one of basic_auth, oauth2, bearer_token & "
                       "bearer_token_file must be configured");
  }
  if (h->basic_auth.has_value() && !h->basic_auth->password.empty() &&
      !h->basic_auth->password_file.empty()) {
    return ErrorAtLine(
        file, p->Line("basic_auth.password_file", line),
        "at most one of basic_auth password & password_file must be "
        "configured");
  }
  if (h->authorization.has_value()) {
    Authorization& a = *h->authorization;
    int auth_line = p->Line("authorization", line);
    if (bearer) {
      return ErrorAtLine(file, auth_line,
                         "authorization is not compatible with bearer_token "
                         "& bearer_token_file");
    }
    if (!a.credentials.empty() && !a.credentials_file.empty()) {
      return ErrorAtLine(
          file, p->Line("authorization.credentials_file", auth_line),
          "at most one of authorization credentials & credentials_file must "
          "be configured");
    }
    a.type = std::string(absl::StripAsciiWhitespace(a.type));
    if (a.type.empty()) a.type = "Bearer";
    if (absl::AsciiStrToLower(a.type) == "basic") {
      return ErrorAtLine(file, p->Line("authorization.type", auth_line),
                         "authorization type cannot be set to \"basic\", use "
                         "\"basic_auth\" instead");
    }
    if (h->basic_auth.has_value()) {
      return ErrorAtLine(file, auth_line,
                         "at most one of basic_auth, oauth2 & authorization "
                         "must be configured");
    }
  } else if (bearer) {
    Authorization& a = h->authorization.emplace();
    a.credentials = p->bearer_token;
    a.credentials_file = p->bearer_token_file;
  }
  const TlsClientConfig& t = h->tls;
  if (!t.cert_file.empty() && t.key_file.empty()) {
    return ErrorAtLine(file, p->Line("tls_config.cert_file", line),
                       absl::StrCat("client cert file ", Quote(t.cert_file),
                                    " specified without client key file"));
  }
  if (!t.key_file.empty() && t.cert_file.empty()) {
    return ErrorAtLine(file, p->Line("tls_config.key_file", line),
                       absl::StrCat("client key file ", Quote(t.key_file),
                                    " specified without client cert file"));
  }
  return absl::OkStatus();
}

}  // namespace internal

namespace {

// ---------------------------------------------------------------------------
// Relabel configs.

// Prometheus's relabelTarget: label names with $1 / ${name} references.
bool IsRelabelTemplate(absl::string_view s) {
  static const RE2* const kTemplate =
      new RE2(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *kTemplate);
}

// RE2 reads "\C" as "any byte"; Go's regexp (Prometheus) rejects it.
bool HasBackslashC(absl::string_view re) {
  for (size_t i = 0; i + 1 < re.size(); ++i) {
    if (re[i] != '\\') continue;
    if (re[i + 1] == 'C') return true;
    ++i;  // Skip the escaped character.
  }
  return false;
}

}  // namespace

namespace internal {

absl::Status CheckRegex(absl::string_view file, int line,
                        const std::string& re) {
  if (HasBackslashC(re)) {
    return ErrorAtLine(file, line,
                       "error parsing regexp: invalid escape sequence: `\\C`");
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 compiled(absl::StrCat("^(?:", re, ")$"), opts);
  if (!compiled.ok()) {
    return ErrorAtLine(
        file, line, absl::StrCat("error parsing regexp: ", compiled.error()));
  }
  return absl::OkStatus();
}

}  // namespace internal

namespace {

// Prometheus's relabel.Config.Validate, after the fields were read. `set`
// holds the fields given explicitly (null included).
absl::Status ValidateRelabel(absl::string_view file, int line,
                             const RelabelConfig& rc,
                             const absl::flat_hash_set<std::string>& set) {
  const RelabelAction a = rc.action;
  const char* name = RelabelActionName(a);
  const RelabelConfig defaults;
  if (a == RelabelAction::kHashMod && rc.modulus == 0) {
    return ErrorAtLine(
        file, line,
        "relabel configuration for hashmod requires non-zero modulus");
  }
  bool templated_target =
      a == RelabelAction::kReplace || a == RelabelAction::kLowercase ||
      a == RelabelAction::kUppercase || a == RelabelAction::kKeepEqual ||
      a == RelabelAction::kDropEqual;
  if ((templated_target || a == RelabelAction::kHashMod) &&
      rc.target_label.empty()) {
    return ErrorAtLine(file, line,
                       absl::StrCat("relabel configuration for ", name,
                                    " action requires 'target_label' value"));
  }
  bool bad_target = false;
  if (templated_target) {
    bad_target = absl::StrContains(rc.target_label, '$')
                     ? !IsRelabelTemplate(rc.target_label)
                     : !model::IsValidLabelName(rc.target_label);
  } else if (a == RelabelAction::kHashMod) {
    bad_target = !model::IsValidLabelName(rc.target_label);
  }
  if (bad_target) {
    return ErrorAtLine(
        file, line,
        absl::StrCat(Quote(rc.target_label), " is invalid 'target_label' for ",
                     name, " action"));
  }
  if (a == RelabelAction::kLabelMap && !IsRelabelTemplate(rc.replacement)) {
    return ErrorAtLine(
        file, line,
        absl::StrCat(Quote(rc.replacement), " is invalid 'replacement' for ",
                     name, " action"));
  }
  bool equal_action =
      a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  bool case_action =
      a == RelabelAction::kLowercase || a == RelabelAction::kUppercase;
  if ((equal_action || case_action) && rc.replacement != defaults.replacement) {
    return ErrorAtLine(
        file, line,
        absl::StrCat("'replacement' can not be set for ", name, " action"));
  }
  if ((a == RelabelAction::kLabelDrop || a == RelabelAction::kLabelKeep) &&
      (set.contains("source_labels") || !rc.target_label.empty() ||
       rc.modulus != 0 || rc.separator != defaults.separator ||
       rc.replacement != defaults.replacement)) {
    return ErrorAtLine(file, line,
                       absl::StrCat(name,
                                    " action requires only 'regex', and no "
                                    "other fields"));
  }
  // Prometheus compares the regex by identity, so any regex given, even the
  // default, counts as set.
  if (equal_action && (set.contains("regex") || rc.modulus != 0 ||
                       rc.separator != defaults.separator)) {
    return ErrorAtLine(file, line,
                       absl::StrCat(name,
                                    " action requires only 'source_labels' "
                                    "and `target_label`, and no other fields"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RelabelConfig> ParseRelabelConfig(absl::string_view file,
                                                 const YAML::Node& node,
                                                 int line,
                                                 absl::string_view where) {
  RelabelConfig rc;
  rc.line = line;
  bool action_null = false;
  absl::flat_hash_set<std::string> set;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, where, [&](const Field& f) -> absl::Status {
        if (!f.value.IsNull()) set.insert(f.name);
        if (f.name == "source_labels") {
          RETURN_IF_ERROR(
              internal::StringListField(file, f, &rc.source_labels));
          for (const std::string& l : rc.source_labels) {
            if (!model::IsValidLabelName(l)) {
              return ErrorAtLine(
                  file, f.value_line,
                  absl::StrCat(Quote(l), " is not a valid label name"));
            }
          }
        } else if (f.name == "separator") {
          ASSIGN_OR_RETURN(rc.separator, internal::StringValue(file, f));
        } else if (f.name == "regex") {
          set.insert(f.name);
          ASSIGN_OR_RETURN(rc.regex, internal::StringValue(file, f));
          return CheckRegex(file, f.value_line, rc.regex);
        } else if (f.name == "modulus") {
          return internal::UintField(file, f, &rc.modulus);
        } else if (f.name == "target_label") {
          ASSIGN_OR_RETURN(rc.target_label, internal::StringValue(file, f));
        } else if (f.name == "replacement") {
          ASSIGN_OR_RETURN(rc.replacement, internal::StringValue(file, f));
        } else if (f.name == "action") {
          action_null = f.value.IsNull();
          if (action_null) return absl::OkStatus();
          ASSIGN_OR_RETURN(std::string text, internal::StringValue(file, f));
          std::string lower = absl::AsciiStrToLower(text);
          for (const ActionName& an : kRelabelActions) {
            if (lower == an.name) {
              rc.action = an.action;
              return absl::OkStatus();
            }
          }
          return ErrorAtLine(
              file, f.value_line,
              absl::StrCat("unknown relabel action ", Quote(text)));
        } else {
          return internal::UnknownField(file, f, where);
        }
        return absl::OkStatus();
      }));
  if (action_null) {
    return ErrorAtLine(file, line, "relabel action cannot be empty");
  }
  RETURN_IF_ERROR(ValidateRelabel(file, line, rc, set));
  return rc;
}

}  // namespace

namespace internal {

absl::Status ParseRelabelConfigs(absl::string_view file, const Field& f,
                                 absl::string_view null_message,
                                 std::vector<RelabelConfig>* out) {
  return ParseList(
      file, f, null_message,
      [&](const YAML::Node& item, int line) {
        return ParseRelabelConfig(file, item, line, f.name);
      },
      out);
}

// ---------------------------------------------------------------------------
// Target groups and service discovery.

absl::Status ParseTargetGroup(absl::string_view file, const YAML::Node& node,
                              int line, bool strict, absl::string_view where,
                              TargetGroup* g,
                              std::vector<AddressAt>* addresses) {
  return internal::ForEachField(
      file, node, line, where, [&](const Field& f) -> absl::Status {
        if (f.name == "targets") {
          std::vector<std::string> targets;
          RETURN_IF_ERROR(internal::StringListField(file, f, &targets));
          int i = 0;
          for (const std::string& t : targets) {
            g->targets.push_back(
                model::Labels::FromPairs({{"__address__", t}}));
            if (addresses != nullptr) {
              addresses->push_back({t, ItemLine(f.value[i], f.value_line)});
            }
            ++i;
          }
          return absl::OkStatus();
        }
        if (f.name == "labels") {
          return internal::LabelSetField(file, f, "", nullptr, &g->labels);
        }
        if (!strict) return absl::OkStatus();
        return internal::UnknownField(file, f, where);
      });
}

}  // namespace internal

namespace {

// Prometheus's file SD path check: one "*" at most, in the last path
// element, and a .json, .yml or .yaml name.
bool IsValidFileSdPath(absl::string_view p) {
  static const RE2* const kPath =
      new RE2(R"(^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$)");
  return RE2::FullMatch(re2::StringPiece(p.data(), p.size()), *kPath);
}

}  // namespace

namespace internal {

absl::StatusOr<FileSdConfig> ParseFileSd(absl::string_view file,
                                         const YAML::Node& node, int line) {
  FileSdConfig c;
  c.line = line;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, "file_sd_configs", [&](const Field& f) -> absl::Status {
        if (f.name == "files") {
          RETURN_IF_ERROR(internal::StringListField(file, f, &c.files));
          for (const std::string& p : c.files) {
            if (!IsValidFileSdPath(p)) {
              return ErrorAtLine(
                  file, f.value_line,
                  absl::StrCat("path name ", Quote(p),
                               " is not valid for file discovery"));
            }
          }
          return absl::OkStatus();
        }
        if (f.name == "refresh_interval") {
          return internal::DurationField(file, f, &c.refresh_interval);
        }
        return internal::UnknownField(file, f, "file_sd_configs");
      }));
  if (c.files.empty()) {
    return ErrorAtLine(
        file, line,
        "file service discovery config must contain at least one path name");
  }
  return c;
}

}  // namespace internal

namespace {

absl::StatusOr<HttpSdConfig> ParseHttpSd(absl::string_view file,
                                         const YAML::Node& node, int line) {
  HttpSdConfig c;
  c.line = line;
  HttpClientParse hp{&c.http, {}, {}, {}};
  int url_line = line;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, "http_sd_configs", [&](const Field& f) -> absl::Status {
        if (f.name == "url") {
          url_line = f.line;
          ASSIGN_OR_RETURN(c.url, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        if (f.name == "refresh_interval") {
          return internal::DurationField(file, f, &c.refresh_interval);
        }
        bool handled;
        RETURN_IF_ERROR(HttpClientField(file, f, &hp, &handled));
        if (handled) return absl::OkStatus();
        return UnsupportedOrUnknown(file, f, "http_sd_configs");
      }));
  if (c.url.empty()) return ErrorAtLine(file, line, "URL is missing");
  std::string scheme, host;
  if (absl::Status s = SplitUrl(c.url, &scheme, &host); !s.ok()) {
    return ErrorAtLine(file, url_line, s.message());
  }
  if (scheme != "http" && scheme != "https") {
    return ErrorAtLine(file, url_line, "URL scheme must be 'http' or 'https'");
  }
  if (host.empty())
    return ErrorAtLine(file, url_line, "host is missing in URL");
  // Prometheus 2.42 does not validate this client config at load (it fails
  // when the discoverer starts); Vigil refuses it at once.
  RETURN_IF_ERROR(FinishHttpClient(file, line, &hp));
  return c;
}

// ---------------------------------------------------------------------------
// Scrape jobs.

// The per-job limits, all unsigned counts where 0 means none.
struct LimitField {
  absl::string_view name;
  uint64_t ScrapeConfig::*member;
};
constexpr LimitField kLimitFields[] = {
    {"sample_limit", &ScrapeConfig::sample_limit},
    {"label_limit", &ScrapeConfig::label_limit},
    {"label_name_length_limit", &ScrapeConfig::label_name_length_limit},
    {"label_value_length_limit", &ScrapeConfig::label_value_length_limit},
    {"target_limit", &ScrapeConfig::target_limit},
};

const LimitField* FindLimit(absl::string_view name) {
  for (const LimitField& l : kLimitFields) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

struct JobParse {
  ScrapeConfig sc;
  int timeout_line = 0;
  int interval_line = 0;
};

absl::Status ParseParams(absl::string_view file, const Field& section,
                         ScrapeConfig* sc) {
  return internal::ForEachField(file, section.value, section.line, "params",
                                [&](const Field& f) -> absl::Status {
                                  return internal::StringListField(
                                      file, f, &sc->params[f.name]);
                                });
}

absl::Status ParseJob(absl::string_view file, const YAML::Node& node, int line,
                      JobParse* jp) {
  ScrapeConfig& sc = jp->sc;
  sc.line = line;
  // Zero marks "not set" until the defaulting from `global`.
  sc.scrape_interval = absl::ZeroDuration();
  sc.scrape_timeout = absl::ZeroDuration();
  HttpClientParse hp{&sc.http, {}, {}, {}};
  std::vector<AddressAt> static_addresses;
  RETURN_IF_ERROR(internal::ForEachField(
      file, node, line, "a scrape config", [&](const Field& f) -> absl::Status {
        if (f.name == "job_name") {
          ASSIGN_OR_RETURN(sc.job_name, internal::StringValue(file, f));
        } else if (f.name == "scrape_interval") {
          jp->interval_line = f.line;
          return internal::DurationField(file, f, &sc.scrape_interval);
        } else if (f.name == "scrape_timeout") {
          jp->timeout_line = f.line;
          return internal::DurationField(file, f, &sc.scrape_timeout);
        } else if (f.name == "metrics_path") {
          ASSIGN_OR_RETURN(sc.metrics_path, internal::StringValue(file, f));
        } else if (f.name == "scheme") {
          ASSIGN_OR_RETURN(sc.scheme, internal::StringValue(file, f));
          if (sc.scheme != "http" && sc.scheme != "https") {
            return ErrorAtLine(file, f.value_line,
                               absl::StrCat("invalid scheme ", Quote(sc.scheme),
                                            " (want http or https)"));
          }
        } else if (f.name == "params") {
          return ParseParams(file, f, &sc);
        } else if (f.name == "honor_labels") {
          return internal::BoolField(file, f, &sc.honor_labels);
        } else if (f.name == "honor_timestamps") {
          return internal::BoolField(file, f, &sc.honor_timestamps);
        } else if (const auto* limit = FindLimit(f.name)) {
          return internal::UintField(file, f, &(sc.*limit->member));
        } else if (f.name == "body_size_limit") {
          return internal::BytesField(file, f, &sc.body_size_limit);
        } else if (f.name == "static_configs") {
          return ParseList(
              file, f, "empty or null section in static_configs",
              [&](const YAML::Node& item,
                  int item_line) -> absl::StatusOr<TargetGroup> {
                TargetGroup g;
                g.source = absl::StrCat(sc.static_configs.size());
                RETURN_IF_ERROR(ParseTargetGroup(
                    file, item, item_line,
                    /*strict=*/true, "static_configs", &g, &static_addresses));
                return g;
              },
              &sc.static_configs);
        } else if (f.name == "file_sd_configs") {
          return ParseList(
              file, f, "empty or null section in file_sd_configs",
              [&](const YAML::Node& item, int item_line) {
                return ParseFileSd(file, item, item_line);
              },
              &sc.file_sd_configs);
        } else if (f.name == "http_sd_configs") {
          return ParseList(
              file, f, "empty or null section in http_sd_configs",
              [&](const YAML::Node& item, int item_line) {
                return ParseHttpSd(file, item, item_line);
              },
              &sc.http_sd_configs);
        } else if (f.name == "relabel_configs") {
          return ParseRelabelConfigs(
              file, f, "empty or null target relabeling rule in scrape config",
              &sc.relabel_configs);
        } else if (f.name == "metric_relabel_configs") {
          return ParseRelabelConfigs(
              file, f, "empty or null metric relabeling rule in scrape config",
              &sc.metric_relabel_configs);
        } else {
          bool handled;
          RETURN_IF_ERROR(HttpClientField(file, f, &hp, &handled));
          if (!handled) {
            return UnsupportedOrUnknown(
                file, f,
                sc.job_name.empty()
                    ? std::string("a scrape config")
                    : absl::StrCat("scrape config ", Quote(sc.job_name)));
          }
        }
        return absl::OkStatus();
      }));
  if (sc.job_name.empty()) return ErrorAtLine(file, line, "job_name is empty");
  RETURN_IF_ERROR(FinishHttpClient(file, line, &hp));
  // A URL in place of host:port is a common mistake; relabeling may still
  // rewrite the address, so Prometheus checks only jobs without it.
  if (sc.relabel_configs.empty()) {
    for (const AddressAt& a : static_addresses) {
      if (absl::StrContains(a.address, '/')) {
        return ErrorAtLine(
            file, a.line,
            absl::StrCat(Quote(a.address), " is not a valid hostname"));
      }
    }
  }
  return absl::OkStatus();
}

bool SameRelabelConfig(const RelabelConfig& a, const RelabelConfig& b) {
  return std::tie(a.source_labels, a.separator, a.regex, a.modulus,
                  a.target_label, a.replacement, a.action) ==
         std::tie(b.source_labels, b.separator, b.regex, b.modulus,
                  b.target_label, b.replacement, b.action);
}

}  // namespace

const char* RelabelActionName(RelabelAction action) {
  for (const ActionName& an : kRelabelActions) {
    if (an.action == action) return an.name.data();
  }
  return "?";
}

bool SameRelabelConfigs(const std::vector<RelabelConfig>& a,
                        const std::vector<RelabelConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameRelabelConfig(a[i], b[i])) return false;
  }
  return true;
}

bool SameScrapeConfig(const ScrapeConfig& a, const ScrapeConfig& b) {
  // Every field but `line`; keep in step with the struct.
  if (std::tie(a.job_name, a.scrape_interval, a.scrape_timeout, a.metrics_path,
               a.scheme, a.params, a.honor_labels, a.honor_timestamps, a.http,
               a.sample_limit, a.label_limit, a.label_name_length_limit,
               a.label_value_length_limit, a.target_limit, a.body_size_limit,
               a.static_configs) !=
      std::tie(b.job_name, b.scrape_interval, b.scrape_timeout, b.metrics_path,
               b.scheme, b.params, b.honor_labels, b.honor_timestamps, b.http,
               b.sample_limit, b.label_limit, b.label_name_length_limit,
               b.label_value_length_limit, b.target_limit, b.body_size_limit,
               b.static_configs)) {
    return false;
  }
  if (a.file_sd_configs.size() != b.file_sd_configs.size() ||
      a.http_sd_configs.size() != b.http_sd_configs.size()) {
    return false;
  }
  for (size_t i = 0; i < a.file_sd_configs.size(); ++i) {
    const FileSdConfig& x = a.file_sd_configs[i];
    const FileSdConfig& y = b.file_sd_configs[i];
    if (x.files != y.files || x.refresh_interval != y.refresh_interval) {
      return false;
    }
  }
  for (size_t i = 0; i < a.http_sd_configs.size(); ++i) {
    const HttpSdConfig& x = a.http_sd_configs[i];
    const HttpSdConfig& y = b.http_sd_configs[i];
    if (x.url != y.url || x.refresh_interval != y.refresh_interval ||
        !(x.http == y.http)) {
      return false;
    }
  }
  return SameRelabelConfigs(a.relabel_configs, b.relabel_configs) &&
         SameRelabelConfigs(a.metric_relabel_configs, b.metric_relabel_configs);
}

absl::StatusOr<std::vector<TargetGroup>> ParseTargetGroups(
    absl::string_view text, absl::string_view filename, bool strict) {
  return internal::CatchExceptions<std::vector<TargetGroup>>(
      filename, [&]() -> absl::StatusOr<std::vector<TargetGroup>> {
        ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYaml(text, filename));
        std::vector<TargetGroup> groups;
        if (root.IsNull()) return groups;
        if (!root.IsSequence()) {
          return internal::ErrorAt(filename, root,
                                   "a target group file must be a list of "
                                   "{targets, labels} groups");
        }
        int root_line = internal::LineOf(root);
        for (const YAML::Node& item : root) {
          int line = ItemLine(item, root_line);
          if (item.IsNull()) {
            return ErrorAtLine(
                filename, line,
                absl::StrCat("nil target group item found (index ",
                             groups.size(), ")"));
          }
          TargetGroup g;
          g.source = absl::StrCat(groups.size());
          RETURN_IF_ERROR(ParseTargetGroup(filename, item, line, strict,
                                           "a target group", &g, nullptr));
          groups.push_back(std::move(g));
        }
        return groups;
      });
}

namespace internal {

absl::Status ParseScrapeConfigs(absl::string_view file, const Field& section,
                                absl::Duration global_interval,
                                absl::Duration global_timeout,
                                std::vector<ScrapeConfig>* out) {
  out->clear();
  if (section.value.IsNull()) return absl::OkStatus();
  if (!section.value.IsSequence()) {
    return ErrorAtLine(file, section.value_line,
                       "scrape_configs must be a list");
  }
  absl::flat_hash_set<std::string> job_names;
  for (const YAML::Node& item : section.value) {
    if (item.IsNull()) {
      return ErrorAtLine(file, section.line,
                         "empty or null scrape config section");
    }
    int line = ItemLine(item, section.value_line);
    JobParse jp;
    RETURN_IF_ERROR(ParseJob(file, item, line, &jp));
    ScrapeConfig& sc = jp.sc;
    // Prometheus's ScrapeConfig.Validate.
    if (sc.scrape_interval == absl::ZeroDuration()) {
      sc.scrape_interval = global_interval;
    }
    if (sc.scrape_timeout > sc.scrape_interval) {
      return ErrorAtLine(
          file, jp.timeout_line > 0 ? jp.timeout_line : line,
          absl::StrCat("scrape timeout greater than scrape interval for "
                       "scrape config with job name ",
                       Quote(sc.job_name)));
    }
    if (sc.scrape_timeout == absl::ZeroDuration()) {
      sc.scrape_timeout = std::min(global_timeout, sc.scrape_interval);
    }
    if (!job_names.insert(sc.job_name).second) {
      return ErrorAtLine(file, line,
                         absl::StrCat("found multiple scrape configs with job "
                                      "name ",
                                      Quote(sc.job_name)));
    }
    out->push_back(std::move(sc));
  }
  return absl::OkStatus();
}

}  // namespace internal

}  // namespace vigil::config
