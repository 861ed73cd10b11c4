#include "api/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/self_metrics_family.h"
#include "base/file.h"
#include "base/status_macros.h"

namespace vigil::api {
namespace {

using prometheus::MetricType;

// Positions in /proc/<pid>/stat, counted from 1 as proc(5) does.
constexpr size_t kStateField = 3;  // The first field after the command name.
constexpr size_t kUtimeField = 14;
constexpr size_t kStimeField = 15;
constexpr size_t kNumThreadsField = 20;
constexpr size_t kStartTimeField = 22;
constexpr size_t kVsizeField = 23;
constexpr size_t kRssField = 24;

// Fallbacks should sysconf fail; they are the values on every Linux we run on.
constexpr long kDefaultTicksPerSecond = 100;
constexpr long kDefaultPageSize = 4096;

template <typename Int>
absl::Status ParseField(const std::vector<absl::string_view>& fields,
                        size_t field, Int* out) {
  const size_t i = field - kStateField;
  if (i >= fields.size() || !absl::SimpleAtoi(fields[i], out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("/proc stat: bad or missing field ", field));
  }
  return absl::OkStatus();
}

long SysconfOr(int name, long fallback) {
  const long v = sysconf(name);
  return v > 0 ? v : fallback;
}

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text) {
  const size_t paren = text.rfind(')');
  if (paren == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "/proc stat: no ')' after the command name");
  }
  const std::vector<absl::string_view> fields = absl::StrSplit(
      text.substr(paren + 1), absl::ByAnyChar(" \n"), absl::SkipEmpty());
  ProcStat st;
  RETURN_IF_ERROR(ParseField(fields, kUtimeField, &st.utime_ticks));
  RETURN_IF_ERROR(ParseField(fields, kStimeField, &st.stime_ticks));
  RETURN_IF_ERROR(ParseField(fields, kNumThreadsField, &st.num_threads));
  RETURN_IF_ERROR(ParseField(fields, kStartTimeField, &st.starttime_ticks));
  RETURN_IF_ERROR(ParseField(fields, kVsizeField, &st.vsize_bytes));
  RETURN_IF_ERROR(ParseField(fields, kRssField, &st.rss_pages));
  return st;
}

absl::StatusOr<int64_t> ParseBootTime(absl::string_view proc_stat) {
  constexpr absl::string_view kPrefix = "btime ";
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    if (!absl::ConsumePrefix(&line, kPrefix)) continue;
    int64_t btime;
    if (!absl::SimpleAtoi(line, &btime)) {
      return absl::InvalidArgumentError(
          absl::StrCat("/proc/stat: bad btime line: ", line));
    }
    return btime;
  }
  return absl::NotFoundError("/proc/stat: no btime line");
}

ProcessCollector::ProcessCollector()
    : ticks_per_second_(
          static_cast<double>(SysconfOr(_SC_CLK_TCK, kDefaultTicksPerSecond))),
      page_size_(
          static_cast<double>(SysconfOr(_SC_PAGESIZE, kDefaultPageSize))),
      boot_time_([]() -> absl::StatusOr<int64_t> {
        ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/stat"));
        return ParseBootTime(text);
      }()) {}

absl::StatusOr<ProcessSnapshot> ProcessCollector::Read() const {
  if (!boot_time_.ok()) return boot_time_.status();
  ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/self/stat"));
  ASSIGN_OR_RETURN(ProcStat st, ParseProcStat(text));
  // The listing counts the descriptor that reads the directory too, as the
  // Go client's does.
  ASSIGN_OR_RETURN(std::vector<std::string> fds, ListDir("/proc/self/fd"));
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) != 0) {
    return ErrnoStatus(errno, "getrlimit", "RLIMIT_NOFILE");
  }

  ProcessSnapshot s;
  s.cpu_seconds =
      static_cast<double>(st.utime_ticks + st.stime_ticks) / ticks_per_second_;
  s.resident_memory_bytes = static_cast<double>(st.rss_pages) * page_size_;
  s.virtual_memory_bytes = static_cast<double>(st.vsize_bytes);
  s.start_time_seconds =
      static_cast<double>(*boot_time_) +
      static_cast<double>(st.starttime_ticks) / ticks_per_second_;
  s.threads = st.num_threads;
  s.open_fds = static_cast<int64_t>(fds.size());
  s.max_fds = static_cast<double>(nofile.rlim_cur);
  return s;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  absl::StatusOr<ProcessSnapshot> s = Read();
  if (!s.ok()) return {};
  std::vector<prometheus::MetricFamily> out;
  out.push_back(SingleValue(MetricType::Counter, "process_cpu_seconds_total",
                            "Total user and system CPU time spent in seconds.",
                            s->cpu_seconds));
  out.push_back(SingleValue(MetricType::Gauge, "process_resident_memory_bytes",
                            "Resident memory size in bytes.",
                            s->resident_memory_bytes));
  out.push_back(SingleValue(MetricType::Gauge, "process_virtual_memory_bytes",
                            "Virtual memory size in bytes.",
                            s->virtual_memory_bytes));
  out.push_back(
      SingleValue(MetricType::Gauge, "process_start_time_seconds",
                  "Start time of the process since unix epoch in seconds.",
                  s->start_time_seconds));
  out.push_back(SingleValue(MetricType::Gauge, "process_open_fds",
                            "Number of open file descriptors.",
                            static_cast<double>(s->open_fds)));
  out.push_back(SingleValue(MetricType::Gauge, "process_max_fds",
                            "Maximum number of open file descriptors.",
                            s->max_fds));
  out.push_back(SingleValue(MetricType::Gauge, "process_threads",
                            "Number of OS threads in the process.",
                            static_cast<double>(s->threads)));
  return out;
}

}  // namespace vigil::api
