// Runs the scrape loops of every job: takes the scrape_configs, keeps the
// discovered targets current, starts a loop per new target, stops (with
// stale markers) the loops of targets that vanish, and keeps the loops of
// unchanged targets running across config reloads.
//
// Scheduling: one scheduler thread wakes each loop on its interval at a
// stable offset (a hash of the target), so a job's targets are spread evenly
// over the interval; the HTTP client's network threads fetch; a worker pool
// parses and appends. A loop never overlaps itself: a scrape that runs past
// its next slot delays that slot.
//
// Thread-safe.
#ifndef VIGIL_SCRAPE_MANAGER_H_
#define VIGIL_SCRAPE_MANAGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/scrape_config.h"
#include "model/labels.h"
#include "scrape/scrape_loop.h"

namespace vigil::scrape {

struct ManagerOptions {
  AppenderFactory appender;  // Required.
  int io_threads = 1;
  int worker_threads = 2;
  // Mixed into every target's offset (Prometheus uses the external labels
  // and host name) so that two servers scraping the same targets do not
  // hit them at the same instant.
  uint64_t offset_seed = 0;
};

// A target relabeling dropped, for /api/v1/targets.
struct DroppedTarget {
  std::string job;
  model::Labels discovered;
};

// One metric family's metadata from one target.
struct TargetMetadata {
  model::Labels target;  // The target's labels.
  MetricMetadata metadata;
};

struct ScrapeStats {
  int64_t scrapes = 0;
  int64_t failed = 0;
  int64_t samples = 0;  // Appended, post relabeling.
  int64_t targets = 0;  // Active targets now.
};

class Manager {
 public:
  explicit Manager(ManagerOptions options);
  ~Manager();  // Stop().
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Installs `jobs` (validated by config/): compiles the relabel configs,
  // restarts the loops of jobs whose config changed (handing their state
  // over), stops removed jobs' loops, and hands the providers to discovery.
  // On error nothing changes.
  absl::Status ApplyConfig(const std::vector<config::ScrapeConfig>& jobs);

  // Re-reads every discovery provider now and applies the result before
  // returning (tests; reload).
  void RefreshDiscovery();

  // Stops discovery and every loop (no stale markers: the process is going
  // away, as in Prometheus) and joins the threads. Idempotent.
  void Stop();

  std::vector<TargetStatus> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  std::vector<TargetMetadata> Metadata() const;
  ScrapeStats Stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_MANAGER_H_
