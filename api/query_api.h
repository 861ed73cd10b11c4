// Prometheus's HTTP query API (v1, as 2.42): /api/v1/query, query_range,
// series, labels, label/<name>/values, format_query, query_exemplars,
// metadata and status/buildinfo, with Prometheus's JSON byte for byte and
// its error types and status codes (docs/http.md).
//
// Thread-safe.
#ifndef VIGIL_API_QUERY_API_H_
#define VIGIL_API_QUERY_API_H_

#include <atomic>
#include <string>
#include <vector>
#include <utility>

#include "absl/time/time.h"
#include "absl/synchronization/mutex.h"
#include "api/http_server.h"
#include "promql/engine.h"
#include "tsdb/db.h"

namespace vigil::api {

struct QueryApiOptions {
  promql::EngineOptions engine;
  int max_concurrency = 20;  // Queries evaluated at once; more wait.
  std::string version;       // For status/buildinfo.
  // For /api/v1/status/{runtimeinfo,flags,config}.
  absl::Time start_time = absl::Now();
  std::string storage_retention;  // "15d", "15d or 10GiB", ...
  std::vector<std::pair<std::string, std::string>> flags;  // name -> value
  std::string config_yaml;  // The configuration file as loaded ("" if none).
};

class QueryApi {
 public:
  explicit QueryApi(const QueryApiOptions& options);

  void RegisterRoutes(HttpServer* server);
  // Serves `db` (null: answer 503 until set).
  void SetDb(tsdb::DB* db) { db_.store(db); }

 private:
  void Query(const HttpRequest& req, HttpResponse* r, bool range);
  void Series(const HttpRequest& req, HttpResponse* r);
  void Labels(const HttpRequest& req, HttpResponse* r, bool values);
  void FormatQuery(const HttpRequest& req, HttpResponse* r);
  void RuntimeInfo(HttpResponse* r);
  void TsdbStatus(const HttpRequest& req, HttpResponse* r);

  const QueryApiOptions options_;
  promql::Engine engine_;
  std::atomic<tsdb::DB*> db_{nullptr};
  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

// Exposed for tests: Prometheus's JSON forms of a sample value ("1",
// "0.1", "1e-07", "+Inf", "NaN") and of a timestamp in ms ("1.5" for 1500).
std::string FormatJsonValue(double v);
std::string FormatJsonTimestamp(int64_t ms);

}  // namespace vigil::api

#endif  // VIGIL_API_QUERY_API_H_
