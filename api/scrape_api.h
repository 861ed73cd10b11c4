// The scrape side of Prometheus's HTTP API, in Prometheus 2.42's JSON:
//
//   GET /api/v1/targets?state=active|dropped|any
//   GET /api/v1/targets/metadata?match_target=&metric=&limit=
//   GET /api/v1/metadata?metric=&limit=
//
// Thread-safe.
#ifndef VIGIL_API_SCRAPE_API_H_
#define VIGIL_API_SCRAPE_API_H_

#include <atomic>

#include "api/http_server.h"
#include "scrape/manager.h"

namespace vigil::api {

class ScrapeApi {
 public:
  ScrapeApi() = default;

  void RegisterRoutes(HttpServer* server);
  // Serves `m` (null: no targets, empty metadata).
  void SetManager(scrape::Manager* m) { manager_.store(m); }

 private:
  void Targets(const HttpRequest& req, HttpResponse* r);
  void TargetsMetadata(const HttpRequest& req, HttpResponse* r);
  void Metadata(const HttpRequest& req, HttpResponse* r);

  std::atomic<scrape::Manager*> manager_{nullptr};
};

}  // namespace vigil::api

#endif  // VIGIL_API_SCRAPE_API_H_
