// Command-line flags shared by vigil's subcommands, and their conversion
// into module options. The only place flags are read.
#ifndef VIGIL_CMD_FLAGS_H_
#define VIGIL_CMD_FLAGS_H_

#include "absl/status/statusor.h"
#include "gflags/gflags.h"
#include "tsdb/db.h"

DECLARE_string(data_dir);
DECLARE_string(wal_fsync);
DECLARE_string(wal_fsync_interval);
DECLARE_int64(wal_segment_size);
DECLARE_string(block_duration);
DECLARE_string(log_level);
DECLARE_string(log_format);

namespace vigil {

// Applies --log_level and --log_format.
absl::Status ApplyLogFlags();
// tsdb::Options from the storage flags; errors name the bad flag.
absl::StatusOr<tsdb::Options> TsdbOptionsFromFlags();
// Parses Prometheus-style durations: "1s", "500ms", "2h", "1h30m", "15d".
absl::StatusOr<absl::Duration> ParsePromDuration(absl::string_view s);

}  // namespace vigil

#endif  // VIGIL_CMD_FLAGS_H_
