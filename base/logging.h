// Structured logging: one line per event in logfmt
// (`ts=... level=info component=wal msg="replay done" segments=3`) or JSON.
//
//   LogInfo("wal", "replay done").Kv("segments", n).Kv("took", d);
//
// The line is written when the temporary LogLine is destroyed, i.e. at the
// end of the full expression. Thread-safe: lines never interleave.
#ifndef VIGIL_BASE_LOGGING_H_
#define VIGIL_BASE_LOGGING_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace vigil {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kLogfmt, kJson };

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
// Parses "debug", "info", "warn", "error".
absl::Status SetLogLevelByName(absl::string_view name);
absl::Status SetLogFormatByName(absl::string_view name);
// Redirects log output (default stderr) to `fd`; for tests.
void SetLogFd(int fd);
bool LogEnabled(LogLevel level);

class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view component, absl::string_view msg);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Kv(absl::string_view key, absl::string_view value);
  LogLine& Kv(absl::string_view key, const char* value) {
    return Kv(key, absl::string_view(value));
  }
  LogLine& Kv(absl::string_view key, const std::string& value) {
    return Kv(key, absl::string_view(value));
  }
  LogLine& Kv(absl::string_view key, const absl::Status& s) {
    return Kv(key, s.ToString());
  }
  LogLine& Kv(absl::string_view key, absl::Duration d) {
    return Kv(key, absl::FormatDuration(d));
  }
  LogLine& Kv(absl::string_view key, bool b) {
    return Kv(key, b ? absl::string_view("true") : absl::string_view("false"));
  }
  template <typename T>
  LogLine& Kv(absl::string_view key, T v) {
    if (!enabled_) return *this;
    return KvRaw(key, absl::StrCat(v));
  }

 private:
  LogLine& KvRaw(absl::string_view key, absl::string_view value);
  bool enabled_;
  std::string line_;
};

inline LogLine LogDebug(absl::string_view c, absl::string_view m) {
  return LogLine(LogLevel::kDebug, c, m);
}
inline LogLine LogInfo(absl::string_view c, absl::string_view m) {
  return LogLine(LogLevel::kInfo, c, m);
}
inline LogLine LogWarn(absl::string_view c, absl::string_view m) {
  return LogLine(LogLevel::kWarn, c, m);
}
inline LogLine LogError(absl::string_view c, absl::string_view m) {
  return LogLine(LogLevel::kError, c, m);
}

}  // namespace vigil

#endif  // VIGIL_BASE_LOGGING_H_
