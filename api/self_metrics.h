// Vigil's own metrics, served on GET /metrics in the text format 0.0.4:
// HTTP server RED metrics, remote-write counts, readiness and build info
// (prometheus-cpp objects in a registry), plus process and storage metrics
// that collectors read at scrape time. docs/metrics.md lists them all.
//
//   SelfMetrics metrics(kVersion);
//   metrics.AttachDb(db.get());
//   metrics.ObserveHttpRequest("/api/v1/write", 204, 0.003);
//   response.body = metrics.Render();
//   ...
//   metrics.AttachDb(nullptr);  // Before db->Close().
#ifndef VIGIL_API_SELF_METRICS_H_
#define VIGIL_API_SELF_METRICS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "api/process_metrics.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "tsdb/db.h"

namespace vigil::api {

// Upper bounds of vigil_http_request_duration_seconds, in seconds.
inline constexpr double kHttpDurationBuckets[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

// Reports a DB's counters (tsdb/stats.h) and head size as vigil_tsdb_*
// families, read when collected: the storage keeps plain atomics and never
// calls into metrics code.
//
// Thread-safe. Attach(nullptr) waits for a collection in progress, so once
// it returns the DB may be closed.
class StorageCollector final : public prometheus::Collectable {
 public:
  StorageCollector() = default;
  StorageCollector(const StorageCollector&) = delete;
  StorageCollector& operator=(const StorageCollector&) = delete;

  // `db` (or null, to report nothing) must stay open until it is replaced.
  void Attach(const tsdb::DB* db);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable absl::Mutex mu_;
  const tsdb::DB* db_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// Every self-metric of one Vigil process. Thread-safe; one per process.
// Collection never blocks the recording methods beyond prometheus-cpp's own
// short per-family locks.
class SelfMetrics final : public prometheus::Collectable {
 public:
  // Registers vigil_build_info{version, compiler} 1, vigil_ready 0 and the
  // HTTP rejection and remote-write ignore counters at 0.
  explicit SelfMetrics(absl::string_view version);
  SelfMetrics(const SelfMetrics&) = delete;
  SelfMetrics& operator=(const SelfMetrics&) = delete;

  // For other modules' families; Render() includes them. Their names must
  // not collide with the ones in docs/metrics.md.
  prometheus::Registry& registry() { return registry_; }

  // HTTP server (RED). `handler` is the route pattern, e.g. "/api/v1/write"
  // ("" when no route matched); never a raw path, which would make one
  // series per URL.
  void ObserveHttpRequest(absl::string_view handler, int code, double seconds);
  void SetHttpInFlight(int64_t n);
  void SetHttpConnections(int64_t n);
  // `reason`: "max_connections", "max_requests", "timeout",
  // "body_too_large" or "bad_request".
  void IncHttpRejected(absl::string_view reason);

  // Remote write.
  void AddRemoteWriteSamples(uint64_t n);  // Accepted into storage.
  void AddRemoteWriteRejected(absl::string_view reason, uint64_t n);
  // `kind`: "exemplar" or "histogram" (received but not stored).
  void AddRemoteWriteIgnored(absl::string_view kind, uint64_t n);
  void AddRemoteWriteMetadata(uint64_t n);

  // From now on collections include `db`'s storage metrics (none when null).
  // `db` must outlive this object or be detached with AttachDb(nullptr)
  // before it is closed; AttachDb waits for a Render in progress.
  void AttachDb(const tsdb::DB* db);

  void SetReady(bool ready);

  // Adds a source of families collected with the others (rule groups,
  // notifier, router: read from their owners at collection time). Sources
  // run on the collecting thread and must not call back into this object.
  void AddSource(std::function<std::vector<prometheus::MetricFamily>()> source);

  // Every family (registry, process, storage, sources), sorted by name.
  std::vector<prometheus::MetricFamily> Collect() const override;
  // Collect() in the text exposition format 0.0.4.
  std::string Render() const;

 private:
  // The series of one route: its latency histogram and a counter per code.
  struct HandlerSeries {
    prometheus::Histogram* duration;
    absl::flat_hash_map<int, prometheus::Counter*> requests;
  };

  prometheus::Registry registry_;
  ProcessCollector process_;
  StorageCollector storage_;

  prometheus::Family<prometheus::Counter>& http_requests_;
  prometheus::Family<prometheus::Histogram>& http_duration_;
  prometheus::Gauge& http_in_flight_;
  prometheus::Gauge& http_connections_;
  prometheus::Family<prometheus::Counter>& http_rejected_;
  prometheus::Counter& rw_samples_;
  prometheus::Family<prometheus::Counter>& rw_rejected_;
  prometheus::Family<prometheus::Counter>& rw_ignored_;
  prometheus::Counter& rw_metadata_;
  prometheus::Gauge& ready_;

  // Caches the prometheus-cpp objects of each route, so that a request costs
  // one map lookup rather than building a label map (and, for histograms, a
  // throw-away histogram) in Family::Add. The objects live in the registry.
  mutable absl::Mutex sources_mu_;
  std::vector<std::function<std::vector<prometheus::MetricFamily>()>> sources_
      ABSL_GUARDED_BY(sources_mu_);

  absl::Mutex http_mu_;
  absl::flat_hash_map<std::string, HandlerSeries> http_series_
      ABSL_GUARDED_BY(http_mu_);
};

}  // namespace vigil::api

#endif  // VIGIL_API_SELF_METRICS_H_
