// The standard process_* metrics of Prometheus client libraries, read from
// /proc/self on every collection, so that dashboards built for any exporter
// (CPU, memory, file descriptors, threads, uptime) work on Vigil unchanged.
#ifndef VIGIL_API_PROCESS_METRICS_H_
#define VIGIL_API_PROCESS_METRICS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace vigil::api {

// The fields of /proc/<pid>/stat that the collector uses, in the kernel's
// units (see proc(5)).
struct ProcStat {
  uint64_t utime_ticks = 0;      // Field 14.
  uint64_t stime_ticks = 0;      // Field 15.
  int64_t num_threads = 0;       // Field 20.
  uint64_t starttime_ticks = 0;  // Field 22: since boot.
  uint64_t vsize_bytes = 0;      // Field 23.
  uint64_t rss_pages = 0;        // Field 24.
};

// Parses the text of /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses; the fields after it start after the last ')'.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text);

// The boot time in seconds since the epoch: the "btime" line of /proc/stat.
absl::StatusOr<int64_t> ParseBootTime(absl::string_view proc_stat);

// One reading of this process's resources, in the units of the metrics.
struct ProcessSnapshot {
  double cpu_seconds = 0;  // User plus system time.
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double start_time_seconds = 0;  // Since the epoch.
  int64_t threads = 0;
  int64_t open_fds = 0;
  double max_fds = 0;  // The soft RLIMIT_NOFILE.
};

// Exposes process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds,
// process_max_fds and process_threads.
//
// Thread-safe: Collect() only reads /proc. A reading that fails leaves its
// metrics out of that collection rather than reporting made-up values.
class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector();
  ProcessCollector(const ProcessCollector&) = delete;
  ProcessCollector& operator=(const ProcessCollector&) = delete;

  // Reads /proc/self/stat, /proc/self/fd and the file limit.
  absl::StatusOr<ProcessSnapshot> Read() const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double ticks_per_second_;
  double page_size_;
  // Read once: the boot time does not change while we run.
  absl::StatusOr<int64_t> boot_time_;
};

}  // namespace vigil::api

#endif  // VIGIL_API_PROCESS_METRICS_H_
