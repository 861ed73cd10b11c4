#include "cmd/flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/logging.h"
#include "base/status_macros.h"

DEFINE_string(data_dir, "./data", "Directory for the WAL, blocks and the lock file.");
DEFINE_string(wal_fsync, "interval",
              "WAL fsync policy: 'interval' (fsync every --wal_fsync_interval; a crash "
              "loses at most that window) or 'always' (a commit returns once on disk).");
DEFINE_string(wal_fsync_interval, "1s", "Fsync period for --wal_fsync=interval.");
DEFINE_int64(wal_segment_size, int64_t{128} << 20, "WAL segment file size in bytes.");
DEFINE_string(block_duration, "2h",
              "Block duration; head chunks never span a multiple of it.");
DEFINE_string(log_level, "info", "Log level: debug, info, warn, error.");
DEFINE_string(log_format, "logfmt", "Log format: logfmt or json.");

namespace vigil {

absl::StatusOr<absl::Duration> ParsePromDuration(absl::string_view s) {
  if (s.empty()) return absl::InvalidArgumentError("empty duration");
  absl::Duration total;
  absl::string_view rest = s;
  while (!rest.empty()) {
    size_t i = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    int64_t n;
    if (i == 0 || !absl::SimpleAtoi(rest.substr(0, i), &n)) {
      return absl::InvalidArgumentError(absl::StrCat("bad duration \"", s, "\""));
    }
    rest.remove_prefix(i);
    size_t j = 0;
    while (j < rest.size() && !(rest[j] >= '0' && rest[j] <= '9')) ++j;
    absl::string_view unit = rest.substr(0, j);
    rest.remove_prefix(j);
    if (unit == "ms") {
      total += absl::Milliseconds(n);
    } else if (unit == "s") {
      total += absl::Seconds(n);
    } else if (unit == "m") {
      total += absl::Minutes(n);
    } else if (unit == "h") {
      total += absl::Hours(n);
    } else if (unit == "d") {
      total += absl::Hours(24 * n);
    } else if (unit == "w") {
      total += absl::Hours(24 * 7 * n);
    } else if (unit == "y") {
      total += absl::Hours(24 * 365 * n);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("bad duration \"", s, "\": unknown unit \"", unit, "\""));
    }
  }
  return total;
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
  auto interval = ParsePromDuration(FLAGS_wal_fsync_interval);
  if (!interval.ok() || *interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--wal_fsync_interval: bad duration '", FLAGS_wal_fsync_interval, "'"));
  }
  o.wal_fsync_interval = *interval;
  if (FLAGS_wal_segment_size < (int64_t{1} << 16)) {
    return absl::InvalidArgumentError("--wal_segment_size must be at least 64 KiB");
  }
  o.wal_segment_size = FLAGS_wal_segment_size;
  auto block = ParsePromDuration(FLAGS_block_duration);
  if (!block.ok() || *block < absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--block_duration: bad duration '", FLAGS_block_duration, "'"));
  }
  o.block_duration = absl::ToInt64Milliseconds(*block);
  return o;
}

}  // namespace vigil
