#include "cmd/flags.h"

#include <algorithm>
#include <thread>

#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/logging.h"
#include "config/config.h"
#include "base/status_macros.h"

DEFINE_string(data_dir, "./data", "Directory for the WAL, blocks and the lock file.");
DEFINE_string(wal_fsync, "interval",
              "WAL fsync policy: 'interval' (fsync every --wal_fsync_interval; a crash "
              "loses at most that window) or 'always' (a commit returns once on disk).");
DEFINE_string(wal_fsync_interval, "1s", "Fsync period for --wal_fsync=interval.");
DEFINE_int64(wal_segment_size, int64_t{128} << 20, "WAL segment file size in bytes.");
DEFINE_string(block_duration, "2h",
              "Block duration; head chunks never span a multiple of it.");
DEFINE_string(retention_time, "15d",
              "Delete blocks that end more than this before the newest block's end "
              "(0: keep forever).");
DEFINE_string(retention_size, "0",
              "Delete the oldest blocks while blocks and WAL exceed this many bytes; "
              "units B, KB, MB, GB, TB, PB, EB (powers of 1024, as Prometheus). 0: no limit.");
DEFINE_int64(max_series, 10000000,
             "Series the head may hold; appends creating more are refused (remote "
             "write answers 429). 0: no limit.");

DEFINE_string(listen, "0.0.0.0:9090", "Address (host:port) the HTTP server listens on.");
DEFINE_string(config, "", "Configuration file (YAML, Prometheus's schema). Optional.");
DEFINE_int32(web_max_connections, 512, "Maximum simultaneous HTTP connections; more get 503.");
DEFINE_int32(web_max_concurrent_requests, 64,
             "Maximum requests handled at once; more get 503.");
DEFINE_string(web_read_timeout, "5m",
              "Maximum time to read one request (headers and body), including the idle "
              "time of a keep-alive connection before it.");
DEFINE_int64(web_max_body_bytes, 16 << 20, "Maximum HTTP request body size; larger gets 413.");
DEFINE_string(web_tls_cert, "", "TLS certificate (PEM) file; with --web_tls_key, serve HTTPS.");
DEFINE_string(web_tls_key, "", "TLS private key (PEM) file.");
DEFINE_string(web_config_file, "",
              "Web config file (Prometheus's format): basic_auth_users with bcrypt hashes, "
              "tls_server_config.");
DEFINE_bool(web_enable_lifecycle, false, "Enable POST /-/quit.");
DEFINE_string(web_shutdown_timeout, "10s",
              "On SIGTERM, how long requests in flight may take to finish.");
DEFINE_int32(web_io_threads, 1, "Network threads of the HTTP server.");
DEFINE_int32(web_worker_threads, 0,
             "Threads running HTTP handlers (decoding, appending). 0: one per CPU.");
DEFINE_int64(remote_write_max_decompressed_bytes, 64 << 20,
             "Largest remote-write body once decompressed; larger gets 413.");
DEFINE_int32(max_labels_per_series, 128,
             "Series with more labels are refused (remote write: 400).");
DEFINE_int32(max_label_name_length, 1024, "Longest label name accepted, in bytes.");
DEFINE_int32(max_label_value_length, 8192, "Longest label value accepted, in bytes.");
DEFINE_int64(remote_write_max_new_series_per_request, 50000,
             "New series one remote-write request may create; past it its other new "
             "series are refused (400). 0: no limit.");

DEFINE_int64(query_max_samples, 50000000,
             "Most samples a single query may hold in memory; more fails the query (422), "
             "as Prometheus's --query.max-samples.");
DEFINE_string(query_timeout, "2m", "Longest a query may run before it is stopped (503).");
DEFINE_int32(query_max_concurrency, 20, "Queries evaluated at once; further ones wait.");
DEFINE_string(query_lookback_delta, "5m",
              "How far back an instant vector selector looks for the latest sample.");
DEFINE_string(web_external_url, "",
              "The URL under which Vigil is reached from outside (alerts' generatorURL, "
              "$externalURL in templates), as Prometheus's --web.external-url. Empty: "
              "http://<hostname>:<listen port>.");
DEFINE_string(rules_alert_for_outage_tolerance, "1h",
              "Max time to tolerate an outage for restoring the 'for' state of alerts.");
DEFINE_string(rules_alert_for_grace_period, "10m",
              "Minimum time between alert activation and firing after a restart; rules "
              "with a shorter 'for' are not restored.");
DEFINE_string(rules_alert_resend_delay, "1m",
              "Minimum time before a firing alert is sent to Alertmanagers again.");
DEFINE_int64(alertmanager_notification_queue_capacity, 10000,
             "The capacity of the queue for alerts waiting to be sent to Alertmanagers; "
             "when full, the oldest are dropped (and counted).");
DEFINE_string(log_level, "info", "Log level: debug, info, warn, error.");
DEFINE_string(log_format, "logfmt", "Log format: logfmt or json.");

namespace vigil {

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view s) {
  static constexpr std::pair<const char*, int> kUnits[] = {
      {"EB", 60}, {"PB", 50}, {"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10}, {"B", 0}};
  absl::string_view digits = s;
  int shift = 0;
  for (const auto& [unit, bits] : kUnits) {
    if (absl::EndsWith(s, unit)) {
      digits = s.substr(0, s.size() - strlen(unit));
      shift = bits;
      break;
    }
  }
  uint64_t n = 0;
  if (digits.empty() || !absl::SimpleAtoi(digits, &n) || (shift > 0 && n > (UINT64_MAX >> shift))) {
    return absl::InvalidArgumentError(absl::StrCat("bad byte size '", s, "': want e.g. 512MB"));
  }
  return n << shift;
}

absl::Status ApplyLogFlags() {
  RETURN_IF_ERROR(SetLogLevelByName(FLAGS_log_level));
  return SetLogFormatByName(FLAGS_log_format);
}

absl::StatusOr<tsdb::Options> TsdbOptionsFromFlags() {
  tsdb::Options o;
  o.dir = FLAGS_data_dir;
  if (FLAGS_wal_fsync == "interval") {
    o.wal_fsync = tsdb::WalFsync::kInterval;
  } else if (FLAGS_wal_fsync == "always") {
    o.wal_fsync = tsdb::WalFsync::kAlways;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--wal_fsync: want 'interval' or 'always', got '", FLAGS_wal_fsync, "'"));
  }
  auto interval = config::ParseDuration(FLAGS_wal_fsync_interval);
  if (!interval.ok() || *interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--wal_fsync_interval: bad duration '", FLAGS_wal_fsync_interval, "'"));
  }
  o.wal_fsync_interval = *interval;
  if (FLAGS_wal_segment_size < (int64_t{1} << 16)) {
    return absl::InvalidArgumentError("--wal_segment_size must be at least 64 KiB");
  }
  o.wal_segment_size = FLAGS_wal_segment_size;
  auto block = config::ParseDuration(FLAGS_block_duration);
  if (!block.ok() || *block < absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--block_duration: bad duration '", FLAGS_block_duration, "'"));
  }
  o.block_duration = absl::ToInt64Milliseconds(*block);
  if (FLAGS_retention_time == "0") {
    o.retention_time = 0;
  } else {
    auto retention = config::ParseDuration(FLAGS_retention_time);
    if (!retention.ok() || *retention < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--retention_time: bad duration '", FLAGS_retention_time, "'"));
    }
    o.retention_time = absl::ToInt64Milliseconds(*retention);
  }
  ASSIGN_OR_RETURN(o.retention_size, ParseByteSize(FLAGS_retention_size));
  if (FLAGS_max_series < 0) return absl::InvalidArgumentError("--max_series must be >= 0");
  o.max_series = FLAGS_max_series;
  return o;
}

namespace {

absl::StatusOr<absl::Duration> PositiveDurationFlag(absl::string_view name,
                                                    const std::string& value) {
  auto d = config::ParseDuration(value);
  if (!d.ok() || *d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": bad duration '", value, "'"));
  }
  return *d;
}

}  // namespace

absl::StatusOr<api::HttpServerOptions> HttpServerOptionsFromFlags() {
  api::HttpServerOptions o;
  o.listen = FLAGS_listen;
  if (FLAGS_web_max_connections < 1 || FLAGS_web_max_concurrent_requests < 1) {
    return absl::InvalidArgumentError(
        "--web_max_connections and --web_max_concurrent_requests must be >= 1");
  }
  o.max_connections = FLAGS_web_max_connections;
  o.max_concurrent_requests = FLAGS_web_max_concurrent_requests;
  ASSIGN_OR_RETURN(o.read_timeout, PositiveDurationFlag("web_read_timeout", FLAGS_web_read_timeout));
  o.write_timeout = o.read_timeout;
  if (FLAGS_web_max_body_bytes < 1) {
    return absl::InvalidArgumentError("--web_max_body_bytes must be >= 1");
  }
  o.max_body_bytes = static_cast<uint64_t>(FLAGS_web_max_body_bytes);
  o.tls_cert_file = FLAGS_web_tls_cert;
  o.tls_key_file = FLAGS_web_tls_key;
  o.io_threads = std::max(1, FLAGS_web_io_threads);
  o.worker_threads = FLAGS_web_worker_threads > 0
                         ? FLAGS_web_worker_threads
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return o;
}

absl::StatusOr<absl::Duration> ShutdownTimeoutFromFlags() {
  return PositiveDurationFlag("web_shutdown_timeout", FLAGS_web_shutdown_timeout);
}

absl::StatusOr<api::RemoteWriteOptions> RemoteWriteOptionsFromFlags() {
  api::RemoteWriteOptions o;
  if (FLAGS_remote_write_max_decompressed_bytes < 1 || FLAGS_max_labels_per_series < 1 ||
      FLAGS_max_label_name_length < 1 || FLAGS_max_label_value_length < 1 ||
      FLAGS_remote_write_max_new_series_per_request < 0) {
    return absl::InvalidArgumentError(
        "--remote_write_max_decompressed_bytes, --max_labels_per_series and "
        "--max_label_*_length must be >= 1; "
        "--remote_write_max_new_series_per_request >= 0");
  }
  o.max_decompressed_bytes = static_cast<uint64_t>(FLAGS_remote_write_max_decompressed_bytes);
  o.max_labels_per_series = FLAGS_max_labels_per_series;
  o.max_label_name_length = FLAGS_max_label_name_length;
  o.max_label_value_length = FLAGS_max_label_value_length;
  o.max_new_series_per_request = FLAGS_remote_write_max_new_series_per_request;
  return o;
}

absl::StatusOr<api::QueryApiOptions> QueryApiOptionsFromFlags() {
  api::QueryApiOptions o;
  o.engine.max_samples = FLAGS_query_max_samples;
  auto timeout = config::ParseDuration(FLAGS_query_timeout);
  if (!timeout.ok() || *timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--query_timeout: bad duration '", FLAGS_query_timeout, "'"));
  }
  o.engine.timeout = *timeout;
  auto lookback = config::ParseDuration(FLAGS_query_lookback_delta);
  if (!lookback.ok() || *lookback <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--query_lookback_delta: bad duration '", FLAGS_query_lookback_delta, "'"));
  }
  o.engine.lookback_delta_ms = absl::ToInt64Milliseconds(*lookback);
  if (FLAGS_query_max_concurrency < 1) {
    return absl::InvalidArgumentError("--query_max_concurrency must be at least 1");
  }
  o.max_concurrency = FLAGS_query_max_concurrency;
  // Prometheus's form: "15d", "10GiB", "15d or 10GiB".
  std::vector<std::string> retention;
  if (FLAGS_retention_time != "0" && !FLAGS_retention_time.empty()) {
    retention.push_back(FLAGS_retention_time);
  }
  if (FLAGS_retention_size != "0" && !FLAGS_retention_size.empty()) {
    retention.push_back(FLAGS_retention_size);
  }
  o.storage_retention = absl::StrJoin(retention, " or ");
  std::vector<gflags::CommandLineFlagInfo> all;
  gflags::GetAllFlags(&all);
  for (const gflags::CommandLineFlagInfo& f : all) {
    // Only Vigil's own flags, not gflags' and libraries'.
    if (f.filename.find("cmd/flags.cc") == std::string::npos) continue;
    o.flags.emplace_back(f.name, f.current_value);
  }
  return o;
}

absl::StatusOr<RuleFlags> RuleFlagsFromFlags(int listen_port) {
  RuleFlags f;
  ASSIGN_OR_RETURN(f.for_outage_tolerance, PositiveDurationFlag("rules_alert_for_outage_tolerance",
                                                               FLAGS_rules_alert_for_outage_tolerance));
  ASSIGN_OR_RETURN(f.for_grace_period, PositiveDurationFlag("rules_alert_for_grace_period",
                                                           FLAGS_rules_alert_for_grace_period));
  ASSIGN_OR_RETURN(f.resend_delay, PositiveDurationFlag("rules_alert_resend_delay",
                                                       FLAGS_rules_alert_resend_delay));
  if (FLAGS_alertmanager_notification_queue_capacity < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--alertmanager_notification_queue_capacity: want at least 1, got ",
                     FLAGS_alertmanager_notification_queue_capacity));
  }
  f.notification_queue_capacity =
      static_cast<size_t>(FLAGS_alertmanager_notification_queue_capacity);
  f.external_url = FLAGS_web_external_url;
  if (f.external_url.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "localhost");
    f.external_url = absl::StrCat("http://", host, ":", listen_port);
  } else if (!absl::StartsWith(f.external_url, "http://") &&
             !absl::StartsWith(f.external_url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--web_external_url: want an http:// or https:// URL, got '", f.external_url, "'"));
  }
  while (absl::EndsWith(f.external_url, "/")) f.external_url.pop_back();
  return f;
}

}  // namespace vigil
