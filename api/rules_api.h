// The rules side of Prometheus's HTTP API, in Prometheus 2.42's JSON:
//
//   GET /api/v1/rules?type=alert|record
//   GET /api/v1/alerts
//
// Thread-safe.
#ifndef VIGIL_API_RULES_API_H_
#define VIGIL_API_RULES_API_H_

#include <atomic>
#include <string>

#include "api/http_server.h"
#include "rules/manager.h"

namespace vigil::api {

// Go's strconv.FormatFloat(v, 'e', -1, 64): "1e+00", "1.5e-07", "NaN",
// "+Inf", "-Inf" (an alert's value in the API).
std::string FormatAlertValue(double v);

class RulesApi {
 public:
  RulesApi() = default;

  void RegisterRoutes(HttpServer* server);
  // Serves `m` (null: no groups, no alerts). `m` must outlive its use here:
  // set null before destroying it.
  void SetManager(rules::RuleManager* m) { manager_.store(m); }

 private:
  void Rules(const HttpRequest& req, HttpResponse* r);
  void Alerts(const HttpRequest& req, HttpResponse* r);

  std::atomic<rules::RuleManager*> manager_{nullptr};
};

}  // namespace vigil::api

#endif  // VIGIL_API_RULES_API_H_
