// The main configuration file (--config): Prometheus 2.42's config schema
// plus Vigil's own sections. This layer checks the top-level shape and
// parses `global`, `rule_files`, `scrape_configs` (config/scrape_config.h),
// `alerting` and `notifications` (config/alerting_config.h); the other
// sections are kept as parsed YAML for the modules that will interpret them.
//
// Every error is InvalidArgument "<file>:<line>: <what>". No exception leaves
// this module.
#ifndef VIGIL_CONFIG_CONFIG_H_
#define VIGIL_CONFIG_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/alerting_config.h"
#include "config/scrape_config.h"
#include "model/labels.h"
#include "yaml-cpp/yaml.h"

namespace vigil::config {

// Parses a Prometheus duration: "0", or one or more <integer><unit> with
// units y (365d), w, d, h, m, s, ms, each at most once and largest first
// ("1m30s", "2h", "1d", "500ms"). No sign, no fractions. The result must fit
// in int64 nanoseconds (about 292 years), as in Prometheus.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view s);

// Prometheus's text form of a duration, truncated to milliseconds: "0s",
// "1m30s", "2h", "90d", "1w", "1y", "1500ms" -> "1s500ms". Years and weeks
// are used only when they divide the duration exactly.
std::string FormatPromDuration(absl::Duration d);

// The `global` section.
struct GlobalConfig {
  absl::Duration scrape_interval = absl::Minutes(1);
  // Defaults to 10s, or to scrape_interval when that is shorter.
  absl::Duration scrape_timeout = absl::Seconds(10);
  absl::Duration evaluation_interval = absl::Minutes(1);
  // Attached to series and alerts leaving Vigil (remote write, federation,
  // Alertmanager). Names are valid label names; an empty value drops the
  // label.
  model::Labels external_labels;
  // Empty: no query log. LoadConfigFile makes a relative path relative to
  // the config file's directory.
  std::string query_log_file;
};

// A section not interpreted yet. `node` keeps yaml-cpp's marks so that the
// parser written for it can still report file:line. Copies of a Config share
// these nodes: treat them as read-only, and read them on one thread (yaml-cpp
// does not promise that concurrent reads are safe).
struct RawSection {
  YAML::Node node;  // Undefined when the section is absent.
  int line = 0;     // 1-based line of the section's key; 0 when absent.

  bool present() const { return line > 0; }
};

struct Config {
  std::string filename;  // As given to ParseConfig or LoadConfigFile.
  GlobalConfig global;
  // Paths or globs ("*" only in the last path element). LoadConfigFile
  // makes relative ones relative to the config file's directory.
  std::vector<std::string> rule_files;

  // The scrape_configs section, parsed and validated, in file order, with
  // each job's interval and timeout defaulted from `global`.
  std::vector<ScrapeConfig> scrapes;

  // The alerting and notifications sections, parsed and validated (empty,
  // and notifications_config.enabled false, when absent).
  AlertingConfig alerting_config;
  NotificationsConfig notifications_config;

  // Prometheus sections. The lists (scrape_configs, remote_write,
  // remote_read) are checked to be lists and the others to be mappings; a
  // key with nothing under it is a present, empty (Null) section.
  // scrape_configs and alerting are also kept raw, for FormatConfig.
  RawSection scrape_configs;
  RawSection alerting;
  RawSection remote_write;
  RawSection remote_read;
  RawSection storage;
  RawSection tracing;

  // Vigil's own sections, any YAML for now (notifications is also parsed,
  // into notifications_config).
  RawSection notifications;
  RawSection slos;
  RawSection reports;
};

// Parses a config from memory; `filename` is only used in error messages and
// Config::filename. Relative paths stay as written. An empty document is a
// valid config with all defaults.
absl::StatusOr<Config> ParseConfig(absl::string_view yaml,
                                   absl::string_view filename);

// Reads and parses `path`, then resolves relative paths against the
// directory of `path`, as Prometheus does: rule_files, query_log_file, and in
// each scrape job (and its http_sd_configs) password_file,
// credentials_file (bearer_token_file becomes one), the tls_config files and
// the file_sd_configs files; likewise in alerting_config and
// notifications_config (ResolveAlertingPaths).
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// The config as YAML, with the global defaults spelled out and the raw
// sections re-emitted in a fixed order (comments and anchors are not kept).
// ParseConfig of the result gives an equal config; meant for
// /api/v1/status/config.
absl::StatusOr<std::string> FormatConfig(const Config& config);

}  // namespace vigil::config

#endif  // VIGIL_CONFIG_CONFIG_H_
