// Command-line flags shared by vigil's subcommands, and their conversion
// into module options. The only place flags are read.
#ifndef VIGIL_CMD_FLAGS_H_
#define VIGIL_CMD_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"
#include "api/http_server.h"
#include "api/query_api.h"
#include "api/remote_write.h"
#include "tsdb/db.h"

DECLARE_string(data_dir);
DECLARE_string(wal_fsync);
DECLARE_string(wal_fsync_interval);
DECLARE_int64(wal_segment_size);
DECLARE_string(block_duration);
DECLARE_string(log_level);
DECLARE_string(listen);
DECLARE_string(config);
DECLARE_string(web_config_file);
DECLARE_bool(web_enable_lifecycle);
DECLARE_string(log_format);

namespace vigil {

// Applies --log_level and --log_format.
absl::Status ApplyLogFlags();
// tsdb::Options from the storage flags; errors name the bad flag.
absl::StatusOr<tsdb::Options> TsdbOptionsFromFlags();
// "512MB", "1GB", "100" (bytes): Prometheus's byte sizes, powers of 1024.
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view s);
// The HTTP server's options from the --web_* flags (TLS files included;
// basic auth comes from --web_config_file, read by the caller).
absl::StatusOr<api::HttpServerOptions> HttpServerOptionsFromFlags();
absl::StatusOr<absl::Duration> ShutdownTimeoutFromFlags();
absl::StatusOr<api::RemoteWriteOptions> RemoteWriteOptionsFromFlags();
absl::StatusOr<api::QueryApiOptions> QueryApiOptionsFromFlags();

// The rule evaluator's flags (--rules_alert_*) and the external URL
// (--web_external_url, defaulting to http://<hostname>:<listen_port>,
// without a trailing slash).
struct RuleFlags {
  absl::Duration for_outage_tolerance;
  absl::Duration for_grace_period;
  absl::Duration resend_delay;
  std::string external_url;
  size_t notification_queue_capacity = 10000;
};
absl::StatusOr<RuleFlags> RuleFlagsFromFlags(int listen_port);

}  // namespace vigil

#endif  // VIGIL_CMD_FLAGS_H_
