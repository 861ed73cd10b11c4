// Parsing pieces of scrape_configs that other config/ sections reuse
// (alerting.alertmanagers, the notifications receivers): HTTP client
// fields, relabel configs, static and file SD configs, list walking and URL
// checks. Defined in scrape_config.cc unless noted. Private to config/.
//
// Errors are InvalidArgument "<file>:<line>: <what>", as in yaml_util.h.
#ifndef VIGIL_CONFIG_SCRAPE_CONFIG_INTERNAL_H_
#define VIGIL_CONFIG_SCRAPE_CONFIG_INTERNAL_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "config/scrape_config.h"
#include "config/yaml_util.h"
#include "yaml-cpp/yaml.h"

namespace vigil::config::internal {

// `<file>:<line>: <name> (in <where>) is not supported by Vigil` for the
// Prometheus fields Vigil refuses (oauth2, the SD mechanisms it lacks),
// else UnknownField.
absl::Status UnsupportedOrUnknown(absl::string_view file, const Field& f,
                                  absl::string_view where);

// The line of `item` in a list, or `fallback` when yaml-cpp has none (null
// entries).
int ItemLine(const YAML::Node& item, int fallback);

// Calls `fn` with each entry of the list field `f` and its line; a null
// field is an empty list. A null entry is an error: `null_message`.
absl::Status ForEachItem(
    absl::string_view file, const Field& f, absl::string_view null_message,
    const std::function<absl::Status(const YAML::Node&, int)>& fn);

// Parses each entry of the list field `f` with `parse` (item, line) ->
// StatusOr<T> and appends the results to `out`.
template <typename T, typename ParseFn>
absl::Status ParseList(absl::string_view file, const Field& f,
                       absl::string_view null_message, ParseFn parse,
                       std::vector<T>* out) {
  return ForEachItem(file, f, null_message,
                     [&](const YAML::Node& item, int line) -> absl::Status {
                       ASSIGN_OR_RETURN(T value, parse(item, line));
                       out->push_back(std::move(value));
                       return absl::OkStatus();
                     });
}

// A subset of Go's url.Parse, enough for Prometheus's checks on URLs: the
// scheme (lower-cased, "" when there is none) and the host. The error (no
// file:line) is Go's "parse ...: missing protocol scheme".
absl::Status SplitUrl(absl::string_view url, std::string* scheme,
                      std::string* host);

// State of one HTTP client config while its fields are read: feed every
// field of the enclosing mapping to HttpClientField, then call
// FinishHttpClient once.
struct HttpClientParse {
  HttpClientConfig* out;
  std::string bearer_token;
  std::string bearer_token_file;
  // Line of each field seen, by name ("basic_auth.password_file" for
  // nested ones), for errors about combinations.
  absl::flat_hash_map<std::string, int> lines;

  int Line(absl::string_view name, int fallback) const {
    auto it = lines.find(name);
    return it == lines.end() ? fallback : it->second;
  }
};

// Handles `f` when it is an HTTP client field (basic_auth, authorization,
// bearer_token[_file], tls_config, follow_redirects, enable_http2,
// proxy_url); sets *handled accordingly.
absl::Status HttpClientField(absl::string_view file, const Field& f,
                             HttpClientParse* p, bool* handled);

// Prometheus's HTTPClientConfig.Validate: conflicting credentials are
// errors, and bearer_token / bearer_token_file become an authorization of
// type Bearer. Also the TLS client pair check Prometheus makes when it
// builds the client. `line` is the line of the config holding the fields.
absl::Status FinishHttpClient(absl::string_view file, int line,
                              HttpClientParse* p);

// Prometheus's SetDirectory for an HTTP client config: password_file,
// credentials_file and the tls_config files become relative to `dir`.
// Defined in config.cc.
void ResolveHttpClientPaths(absl::string_view dir, HttpClientConfig* http);

// Fails unless `re` compiles, anchored, as a Go (RE2) regexp: "error
// parsing regexp: ...".
absl::Status CheckRegex(absl::string_view file, int line,
                        const std::string& re);

// Parses the list field `f` of relabel configs, validated as Prometheus
// does; a null entry is an error: `null_message`.
absl::Status ParseRelabelConfigs(absl::string_view file, const Field& f,
                                 absl::string_view null_message,
                                 std::vector<RelabelConfig>* out);

// A target's address and line, for the check on static targets.
struct AddressAt {
  std::string address;
  int line;
};

// Parses one {targets, labels} group into `g`. With `strict` unknown fields
// are errors (naming `where`). When `addresses` is given, each target's
// address and line are appended to it.
absl::Status ParseTargetGroup(absl::string_view file, const YAML::Node& node,
                              int line, bool strict, absl::string_view where,
                              TargetGroup* g,
                              std::vector<AddressAt>* addresses);

// Parses one file_sd_configs entry.
absl::StatusOr<FileSdConfig> ParseFileSd(absl::string_view file,
                                         const YAML::Node& node, int line);

}  // namespace vigil::config::internal

#endif  // VIGIL_CONFIG_SCRAPE_CONFIG_INTERNAL_H_
