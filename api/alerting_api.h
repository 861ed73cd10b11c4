// The alerting side of the HTTP API:
//
//   GET    /api/v1/alertmanagers     Prometheus 2.42's JSON: where the
//                                    notifier sends, and what was dropped
//   GET    /api/v1/notifications     recent deliveries of the built-in router
//                                    (newest first), for troubleshooting
//   GET    /api/v1/silences          all silences, Alertmanager v2's shape
//   POST   /api/v1/silences          create (or, with an id, replace) one
//   GET    /api/v1/silence/<id>      one silence
//   DELETE /api/v1/silence/<id>      expire it (also /api/v1/silences/<id>)
//
// Every answer uses Prometheus's envelope ({"status":"success","data":...}
// or {"status":"error","errorType":...,"error":...}). The silence endpoints
// answer 503 "unavailable" while no router is set (the config has no
// `notifications` section).
//
// Thread-safe. The notifier and router may be set, replaced or cleared at
// any time (after the config loads, on reload); a handler holds a reader
// lock on them for its whole run, so once SetNotifier / SetRouter returns
// no handler still uses the previous pointer, and it may be destroyed.
#ifndef VIGIL_API_ALERTING_API_H_
#define VIGIL_API_ALERTING_API_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "alerting/notifier.h"
#include "alerting/router.h"
#include "api/http_server.h"

namespace vigil::api {

class AlertingApi {
 public:
  AlertingApi() = default;
  AlertingApi(const AlertingApi&) = delete;
  AlertingApi& operator=(const AlertingApi&) = delete;

  // REQUIRES: `server` has not been started.
  void RegisterRoutes(HttpServer* server);

  // Serves `n` (null: no Alertmanagers). Waits for handlers using the
  // previous one.
  void SetNotifier(alerting::Notifier* n);
  // Serves `r` (null: no deliveries; silences answer 503). Waits for
  // handlers using the previous one.
  void SetRouter(alerting::Router* r);

 private:
  void Alertmanagers(const HttpRequest& req, HttpResponse* r);
  void Notifications(const HttpRequest& req, HttpResponse* r);
  void ListSilences(const HttpRequest& req, HttpResponse* r);
  void GetSilence(const HttpRequest& req, HttpResponse* r);
  void PostSilence(const HttpRequest& req, HttpResponse* r);
  void ExpireSilence(const HttpRequest& req, HttpResponse* r);

  absl::Mutex mu_;
  alerting::Notifier* notifier_ ABSL_GUARDED_BY(mu_) = nullptr;
  alerting::Router* router_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace vigil::api

#endif  // VIGIL_API_ALERTING_API_H_
