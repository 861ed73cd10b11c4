// Vigil's HTTP/1.1 server: keep-alive, pipelining (requests on one
// connection are answered in order), optional TLS, gzip responses, limits
// on connections, concurrent requests, header and body size, and a read
// timeout per request.
//
// Network threads only parse and write; every handler runs on a worker
// pool, so a slow handler never stalls other connections.
//
//   HttpServer server(options);
//   server.Handle("GET", "/-/healthy", [](const HttpRequest&, HttpResponse* r) {
//     r->body = "OK";
//   });
//   RETURN_IF_ERROR(server.Start());
//   ...
//   server.Shutdown(absl::Seconds(10));
//
// Thread-safe after Start(); routes are registered before Start().
#ifndef VIGIL_API_HTTP_SERVER_H_
#define VIGIL_API_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vigil::api {

struct HttpRequest {
  std::string method;
  std::string target;  // As sent: path and query.
  std::string path;    // Percent-decoded, without the query.
  std::string query;   // Raw, after '?'.
  // Header names lowercased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_addr;
  int version = 11;  // HTTP/1.1 is 11, HTTP/1.0 is 10.
  // Values of ":name" segments of the matched route pattern.
  std::vector<std::pair<std::string, std::string>> path_params;
  // Becomes true while the handler runs if the client closes its
  // connection (plain HTTP only; never set over TLS). Null outside the
  // server.
  const std::atomic<bool>* client_gone = nullptr;

  // The first header `name` (lowercase), or "" when absent.
  absl::string_view Header(absl::string_view name) const;
  absl::string_view PathParam(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Instead of `body`, for large answers: the body made piece by piece
  // while it is sent (chunked transfer encoding; gzip applies per piece),
  // so it is never whole in memory. Each call appends the next piece to
  // `out` and returns false after the last. Runs on the connection's
  // network thread after the handler returned, so it must own its data.
  std::function<bool(std::string* out)> body_stream;

  // A plain-text error body ending in a newline, as Prometheus's http.Error.
  void SetError(int code, absl::string_view message);
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

struct HttpServerOptions {
  std::string listen = "0.0.0.0:9090";  // host:port; port 0 picks one.
  int io_threads = 1;
  int worker_threads = 2;
  int max_connections = 512;          // Past it, new connections get 503.
  int max_concurrent_requests = 64;   // Past it, requests get 503.
  // Time allowed to read one whole request (headers and body), and to write
  // its response: slow clients are cut off.
  absl::Duration read_timeout = absl::Minutes(5);
  absl::Duration write_timeout = absl::Minutes(5);
  // A keep-alive connection with no request for this long is closed.
  absl::Duration idle_timeout = absl::Minutes(5);
  uint64_t max_body_bytes = 32 << 20;  // Larger bodies get 413.
  uint32_t max_header_bytes = 1 << 20;
  // Responses at least this large are gzipped when the client accepts it.
  size_t gzip_min_bytes = 1024;
  std::string tls_cert_file;  // Both set: serve HTTPS only.
  std::string tls_key_file;
  // Returns false to answer 401. Runs on a worker thread. Null: no auth.
  std::function<bool(const HttpRequest&)> authorize;
  // Called once per answered request with the route name ("" when no route
  // matched), status code and seconds from parsed request to written
  // response. Runs on a network thread: keep it cheap.
  std::function<void(absl::string_view route, int code, double seconds)> observe;
  // Called when the server refuses or drops something before a handler
  // runs: "max_connections", "max_requests", "timeout", "body_too_large",
  // "bad_request".
  std::function<void(absl::string_view reason)> reject;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // Shutdown(0) if still running.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers `handler` for requests whose path matches `pattern`: exact
  // segments, or ":name" segments matching one non-empty segment. `method`
  // "" accepts any method; otherwise other methods get 405. `route` names
  // the pattern in metrics (defaults to the pattern).
  // REQUIRES: Start() has not been called.
  void Handle(absl::string_view method, absl::string_view pattern, HttpHandler handler);

  // Binds, listens and starts the threads.
  absl::Status Start();
  // The bound port (after Start).
  int port() const;

  int64_t connections() const;
  int64_t in_flight() const;

  // Stops accepting connections, lets requests in flight finish for up to
  // `grace` (their responses say Connection: close), then closes every
  // connection and joins the threads. Idempotent.
  void Shutdown(absl::Duration grace);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses one request from `bytes` with the server's parser and limits, as
// a handler would see it. For fuzzing the request parser and for tests.
absl::StatusOr<HttpRequest> ParseHttpRequest(absl::string_view bytes,
                                             const HttpServerOptions& options);

}  // namespace vigil::api

#endif  // VIGIL_API_HTTP_SERVER_H_
