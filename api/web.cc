#include "api/web.h"

#include "absl/strings/str_cat.h"

namespace vigil::api {

Web::Web(const WebOptions& options, SelfMetrics* metrics)
    : options_(options), metrics_(metrics), remote_write_(options.remote_write, metrics) {}

void Web::SetDb(tsdb::DB* db) {
  // Order matters when detaching: stop new writes before the metrics lose
  // the pointer, and both before the caller closes the DB.
  remote_write_.SetDb(db);
  metrics_->AttachDb(db);
  metrics_->SetReady(db != nullptr);
  db_.store(db);
}

void Web::RegisterRoutes(HttpServer* server) {
  server_ = server;
  auto healthy = [](const HttpRequest&, HttpResponse* r) { r->body = "Vigil is Healthy.\n"; };
  server->Handle("GET", "/-/healthy", healthy);
  server->Handle("HEAD", "/-/healthy", healthy);
  auto ready = [this](const HttpRequest&, HttpResponse* r) {
    if (!this->ready()) return r->SetError(503, "Service Unavailable");
    r->body = "Vigil is Ready.\n";
  };
  server->Handle("GET", "/-/ready", ready);
  server->Handle("HEAD", "/-/ready", ready);
  auto quit = [this](const HttpRequest&, HttpResponse* r) {
    if (!options_.enable_lifecycle) {
      return r->SetError(403, "Lifecycle API is not enabled.");
    }
    r->body = "Requesting termination... Goodbye!\n";
    if (options_.quit) options_.quit();
  };
  server->Handle("POST", "/-/quit", quit);
  server->Handle("PUT", "/-/quit", quit);
  auto reload = [this](const HttpRequest&, HttpResponse* r) {
    if (!options_.enable_lifecycle) {
      return r->SetError(403, "Lifecycle API is not enabled.");
    }
    if (!options_.reload) return r->SetError(500, "failed to reload config: no config file");
    if (absl::Status s = options_.reload(); !s.ok()) {
      return r->SetError(500, absl::StrCat("failed to reload config: ", s.message()));
    }
    r->body.clear();
  };
  server->Handle("POST", "/-/reload", reload);
  server->Handle("PUT", "/-/reload", reload);
  server->Handle("GET", "/metrics", [this](const HttpRequest&, HttpResponse* r) {
    if (options_.before_metrics) options_.before_metrics();
    if (server_ != nullptr) {
      metrics_->SetHttpConnections(server_->connections());
      metrics_->SetHttpInFlight(server_->in_flight());
    }
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->body = metrics_->Render();
  });
  server->Handle("POST", "/api/v1/write",
                 [this](const HttpRequest& req, HttpResponse* r) { remote_write_.Handle(req, r); });
}

}  // namespace vigil::api
