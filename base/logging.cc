#include "base/logging.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "base/strings.h"

namespace vigil {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kLogfmt)};
std::atomic<int> g_fd{2};
absl::Mutex g_write_mu;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool IsJson() { return g_format.load() == static_cast<int>(LogFormat::kJson); }

// logfmt: bare when the value has no space, quote, '=' or control character.
void AppendLogfmtValue(std::string* out, absl::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(v.data(), v.size());
    return;
  }
  AppendQuoted(out, v);
}

void AppendJsonString(std::string* out, absl::string_view v) {
  out->push_back('"');
  for (char c : v) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"') {
      out->append("\\\"");
    } else if (c == '\\') {
      out->append("\\\\");
    } else if (u < 0x20) {
      absl::StrAppend(out, "\\u00", absl::Hex(u, absl::kZeroPad2));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
void SetLogFormat(LogFormat format) { g_format.store(static_cast<int>(format)); }
void SetLogFd(int fd) { g_fd.store(fd); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

absl::Status SetLogLevelByName(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "debug") {
    SetLogLevel(LogLevel::kDebug);
  } else if (n == "info") {
    SetLogLevel(LogLevel::kInfo);
  } else if (n == "warn") {
    SetLogLevel(LogLevel::kWarn);
  } else if (n == "error") {
    SetLogLevel(LogLevel::kError);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown log level \"", name, "\" (want debug, info, warn or error)"));
  }
  return absl::OkStatus();
}

absl::Status SetLogFormatByName(absl::string_view name) {
  if (name == "logfmt") {
    SetLogFormat(LogFormat::kLogfmt);
  } else if (name == "json") {
    SetLogFormat(LogFormat::kJson);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown log format \"", name, "\" (want logfmt or json)"));
  }
  return absl::OkStatus();
}

LogLine::LogLine(LogLevel level, absl::string_view component,
                 absl::string_view msg)
    : enabled_(LogEnabled(level)) {
  if (!enabled_) return;
  std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone());
  if (IsJson()) {
    line_ = "{\"ts\":\"" + ts + "\",\"level\":\"" + LevelName(level) +
            "\",\"component\":";
    AppendJsonString(&line_, component);
    line_ += ",\"msg\":";
    AppendJsonString(&line_, msg);
  } else {
    line_ = absl::StrCat("ts=", ts, " level=", LevelName(level),
                         " component=");
    AppendLogfmtValue(&line_, component);
    line_ += " msg=";
    AppendLogfmtValue(&line_, msg);
  }
}

LogLine& LogLine::Kv(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  return KvRaw(key, value);
}

LogLine& LogLine::KvRaw(absl::string_view key, absl::string_view value) {
  if (IsJson()) {
    line_ += ",";
    AppendJsonString(&line_, key);
    line_ += ":";
    AppendJsonString(&line_, value);
  } else {
    line_ += " ";
    line_.append(key.data(), key.size());
    line_ += "=";
    AppendLogfmtValue(&line_, value);
  }
  return *this;
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_ += IsJson() ? "}\n" : "\n";
  absl::MutexLock lock(&g_write_mu);
  absl::string_view rest = line_;
  int fd = g_fd.load();
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n <= 0) break;
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace vigil
