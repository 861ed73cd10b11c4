// The `scrape_configs` section of Prometheus 2.42's config file, parsed into
// plain validated structs: jobs, their HTTP client settings, service
// discovery configs and relabel configs. Parsed by ParseConfig
// (config/config.h) into Config::scrapes.
//
// Defaults follow Prometheus: a job's scrape_interval and scrape_timeout
// come from `global`; metrics_path "/metrics", scheme "http",
// honor_timestamps true, follow_redirects true.
#ifndef VIGIL_CONFIG_SCRAPE_CONFIG_H_
#define VIGIL_CONFIG_SCRAPE_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "model/labels.h"

namespace vigil::config {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// "replace", "keep", ..., as written in the config.
const char* RelabelActionName(RelabelAction action);

// One relabel_configs / metric_relabel_configs entry, validated as
// Prometheus 2.42 validates it at load (action-specific required and
// forbidden fields, target_label syntax, regex compiles under RE2).
struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  // As written, unanchored; scrape/relabel.h anchors it as ^(?:regex)$.
  std::string regex = "(.*)";
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
  int line = 0;  // Line of the entry in the config file.
};

struct BasicAuth {
  std::string username;
  std::string password;
  // Resolved against the config file's directory; read at each request.
  std::string password_file;

  friend bool operator==(const BasicAuth&, const BasicAuth&) = default;
};

// `authorization` (or the older `bearer_token` / `bearer_token_file`, which
// become type "Bearer").
struct Authorization {
  std::string type = "Bearer";
  std::string credentials;
  std::string credentials_file;  // Resolved like password_file.

  friend bool operator==(const Authorization&, const Authorization&) = default;
};

struct TlsClientConfig {
  std::string ca_file;  // Empty: the system's CAs.
  std::string cert_file;
  std::string key_file;
  std::string server_name;  // Empty: the URL's host.
  bool insecure_skip_verify = false;
  std::string min_version;  // "", "TLS10" ... "TLS13".
  std::string max_version;  // Likewise; "" is the library's newest.

  friend bool operator==(const TlsClientConfig&,
                         const TlsClientConfig&) = default;
};

// Prometheus's common HTTPClientConfig, the subset Vigil implements.
struct HttpClientConfig {
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  TlsClientConfig tls;
  bool follow_redirects = true;
  bool enable_http2 = true;  // Accepted; Vigil speaks HTTP/1.1.
  std::string proxy_url;     // Accepted; not supported yet (load error if set).

  friend bool operator==(const HttpClientConfig&,
                         const HttpClientConfig&) = default;
};

// One static_configs entry, and what every discoverer produces: targets
// (each a label set holding at least __address__) plus labels common to
// the group.
struct TargetGroup {
  std::vector<model::Labels> targets;
  model::Labels labels;
  // Identifies the group within its provider ("0", "file.yml:1", ...).
  std::string source;

  friend bool operator==(const TargetGroup&, const TargetGroup&) = default;
};

struct FileSdConfig {
  // Paths or globs ("*" only in the last path element), resolved against
  // the config file's directory. Each must end in .json, .yml or .yaml.
  std::vector<std::string> files;
  absl::Duration refresh_interval = absl::Minutes(5);
  int line = 0;
};

struct HttpSdConfig {
  std::string url;  // http or https.
  absl::Duration refresh_interval = absl::Minutes(1);
  HttpClientConfig http;
  int line = 0;
};

struct ScrapeConfig {
  std::string job_name;
  absl::Duration scrape_interval = absl::Minutes(1);
  absl::Duration scrape_timeout = absl::Seconds(10);
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  // URL parameters, in name order; each name may repeat values.
  std::map<std::string, std::vector<std::string>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  HttpClientConfig http;

  // 0 means no limit, as in Prometheus.
  uint64_t sample_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t target_limit = 0;
  int64_t body_size_limit = 0;  // Bytes; "10MB" style units in the file.

  std::vector<TargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<HttpSdConfig> http_sd_configs;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;

  int line = 0;  // Line of the job's entry in the config file.
};

// Equal when every field but `line` is equal, entry by entry.
bool SameRelabelConfigs(const std::vector<RelabelConfig>& a,
                        const std::vector<RelabelConfig>& b);

// Equal when every field but `line` is equal: a reload keeps the scrape
// loops of a job whose config compares equal.
bool SameScrapeConfig(const ScrapeConfig& a, const ScrapeConfig& b);

// Parses a YAML (or JSON, which yaml-cpp reads as YAML) list of target
// groups, {targets: [...], labels: {...}}, as static_configs entries and
// file SD files hold them: label names must be valid, and a null entry is
// an error. With `strict` (YAML files) unknown fields are errors; without
// (JSON files, as Go's encoding/json reads them) they are ignored. Group i
// gets source "<i>". Errors are InvalidArgument "<filename>:<line>: ...".
absl::StatusOr<std::vector<TargetGroup>> ParseTargetGroups(
    absl::string_view text, absl::string_view filename, bool strict);

}  // namespace vigil::config

#endif  // VIGIL_CONFIG_SCRAPE_CONFIG_H_
