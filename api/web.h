// Vigil's HTTP routes that are not the query API: health, readiness,
// lifecycle, self-metrics and the remote-write receiver.
//
//   GET  /-/healthy     200 while the process runs
//   GET  /-/ready       503 until the WAL is replayed, then 200
//   POST /-/quit        graceful shutdown, with --web_enable_lifecycle only
//   POST /-/reload      reload the config file, with --web_enable_lifecycle
//   GET  /metrics       self-metrics, Prometheus text format 0.0.4
//   POST /api/v1/write  remote write 1.0 (api/remote_write.h)
//
// Thread-safe.
#ifndef VIGIL_API_WEB_H_
#define VIGIL_API_WEB_H_

#include <atomic>
#include <functional>

#include "api/http_server.h"
#include "api/remote_write.h"
#include "api/self_metrics.h"
#include "tsdb/db.h"

namespace vigil::api {

struct WebOptions {
  bool enable_lifecycle = false;
  // Called by POST /-/quit (with enable_lifecycle); must not block.
  std::function<void()> quit;
  // Called by POST /-/reload (with enable_lifecycle): reloads the config
  // and returns why it failed (the old config then stays).
  std::function<absl::Status()> reload;
  // Called before each /metrics render, to refresh gauges read elsewhere.
  std::function<void()> before_metrics;
  RemoteWriteOptions remote_write;
};

class Web {
 public:
  // `metrics` must outlive this object.
  Web(const WebOptions& options, SelfMetrics* metrics);

  // Adds the routes to `server` (before its Start), and remembers it for
  // connection gauges.
  void RegisterRoutes(HttpServer* server);

  // Serves `db` (null to stop serving it, before closing it): readiness,
  // remote write and storage metrics follow it.
  void SetDb(tsdb::DB* db);
  bool ready() const { return db_.load() != nullptr; }

  RemoteWriteHandler& remote_write() { return remote_write_; }

 private:
  const WebOptions options_;
  SelfMetrics* const metrics_;
  RemoteWriteHandler remote_write_;
  HttpServer* server_ = nullptr;
  std::atomic<tsdb::DB*> db_{nullptr};
};

}  // namespace vigil::api

#endif  // VIGIL_API_WEB_H_
