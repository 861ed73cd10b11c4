// An asynchronous HTTP/1.1 client on Boost.Beast for scraping and for HTTP
// service discovery: plain or TLS (certificate verification, CA file, client
// certificate, server name), basic auth or an Authorization header from
// config::HttpClientConfig, gzip response bodies, a deadline covering
// connect, request and whole response, a body size limit, redirects
// (at most 10, when follow_redirects is set).
//
// HTTP/1.1 keep-alive as Go's http.Transport does it: a connection whose
// response was read whole, and which neither side asked to close, waits
// idle in a pool for the next request to the same scheme, host, port and
// TLS settings (a few per origin, closed after an idle timeout or when the
// server closes them). A request sent on an idle connection that the server
// had closed meanwhile is sent again, once, on a new connection.
//
// Requests are GETs unless Request::method says otherwise: POST (for
// alert notifications) and other methods send Request::body with a
// Content-Length. A request is sent again after a failure on a reused idle
// connection only when that is safe, as Go's transport decides it:
//   - GET, HEAD, OPTIONS, TRACE, or any request carrying an
//     Idempotency-Key or X-Idempotency-Key header: when no byte of the
//     response arrived (the server closed the idle connection meanwhile);
//   - any other method (POST): only when writing the request failed before
//     a byte of it was written. Once the request may have reached the
//     server, the failure is reported (Unavailable) and the caller decides.
// Redirects follow Go too: 301, 302 and 303 turn any method but GET and
// HEAD into a GET without body; 307 and 308 repeat the method and body.
//
// Boost.Beast and Asio stay inside http_client.cc.
//
//   HttpClient client(1);
//   HttpClient::Request req;
//   req.url = "http://127.0.0.1:9100/metrics";
//   client.Get(req, [](absl::StatusOr<HttpClient::Response> r) { ... });
//
//   req.method = "POST";
//   req.content_type = "application/json";
//   req.body = R"({"text":"disk full"})";
//   absl::StatusOr<HttpClient::Response> r = client.DoSync(req);
//
// Thread-safe. Callbacks run on the client's network threads and must not
// block; hand CPU work to a worker pool.
#ifndef VIGIL_SCRAPE_HTTP_CLIENT_H_
#define VIGIL_SCRAPE_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/scrape_config.h"

namespace vigil::scrape {

// Go's http.StatusText for the common codes ("Not Found"); "" for others.
// Errors about a response's status are worded with it, as Prometheus's are.
absl::string_view HttpStatusText(int code);

class HttpClient {
 public:
  struct Request {
    std::string url;  // http:// or https://; the port defaults to 80/443.
    // An HTTP method token, upper-case as sent ("GET", "POST", "PUT").
    std::string method = "GET";
    // Sent with a Content-Length for every method but GET and HEAD (there
    // only when non-empty), as Go does; a POST with an empty body says
    // Content-Length: 0.
    std::string body;
    // The Content-Type header, when not empty (a header of that name in
    // `headers` wins).
    std::string content_type;
    // Extra headers (Accept, User-Agent, X-Prometheus-Scrape-Timeout-Seconds).
    std::vector<std::pair<std::string, std::string>> headers;
    absl::Duration timeout = absl::Seconds(10);
    // Limit on the decompressed body; 0 means no limit. A body of this many
    // bytes or more fails with ResourceExhausted "body size limit exceeded"
    // (as in Prometheus, where a body of exactly the limit already fails).
    // The compressed bytes read are bounded too.
    int64_t body_size_limit = 0;
    // Sends Accept-Encoding: gzip and inflates gzip responses.
    bool accept_gzip = true;
    // When > 0, a body longer than this many bytes is cut to this length
    // (Response::body_truncated) instead of failing: the rest is not read
    // and the connection is closed. body_size_limit and accept_gzip are
    // then ignored (no Accept-Encoding is sent, so that the bytes kept are
    // the body itself). For error bodies of webhook replies.
    int64_t truncate_body_at = 0;
    // Auth, TLS and redirect settings. Files (password_file, CA, client
    // certificate) are read at each request.
    config::HttpClientConfig http;
  };
  struct Response {
    int status = 0;
    std::string content_type;
    std::string body;  // Decompressed.
    // Bytes received on the wire for the body (before inflating).
    int64_t wire_bytes = 0;
    // Only with Request::truncate_body_at: the body was longer than that.
    bool body_truncated = false;
    // Every response header in arrival order, names lower-case (a name
    // may repeat).
    std::vector<std::pair<std::string, std::string>> headers;

    // The first value of header `name` (lower-case), or "" when absent.
    absl::string_view Header(absl::string_view name) const;
  };
  using Callback = std::function<void(absl::StatusOr<Response>)>;

  struct Options {
    int io_threads = 1;  // Network threads.
    // Reuse connections. Off, every request has its own connection and
    // sends "Connection: close".
    bool keep_alive = true;
    // Idle connections kept per origin (scheme, host, port, TLS settings
    // and server name) and in all; past the total, the one idle longest is
    // closed. The total never exceeds half the open-file limit. A scrape
    // target has one request at a time, so 2 per origin is plenty.
    int max_idle_per_host = 2;
    int max_idle = 20000;  // Prometheus's.
    // An idle connection is closed after this long. Prometheus's (through
    // prometheus/common) rather than Go's 90 s default: above the longest
    // sane scrape interval, so that every target keeps its connection.
    absl::Duration idle_timeout = absl::Minutes(5);
  };

  // Starts `io_threads` network threads; the other options are defaults.
  explicit HttpClient(int io_threads);
  explicit HttpClient(Options options);
  ~HttpClient();  // Closes idle connections, cancels requests in flight
                  // (their callbacks get Cancelled) and joins the threads.
                  // A host name lookup in progress is waited for
                  // (getaddrinfo cannot be interrupted).
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts `request` (its method, GET by default); `done` runs exactly
  // once. Errors: DeadlineExceeded on timeout ("context deadline exceeded"
  // in the message, as Prometheus reports it), Unavailable for connection
  // failures, ResourceExhausted for the body limit, InvalidArgument for a
  // bad URL, method or TLS/auth files, DataLoss for a malformed response or
  // gzip stream. Messages start as Go's url.Error does: `Get "<url>": `,
  // `Post "<url>": `. A non-2xx status is not an error here:
  // Response::status carries it.
  void Do(Request request, Callback done);

  // Do and wait.
  // REQUIRES: not called on one of this client's network threads (from a
  // callback), which would wait for itself.
  absl::StatusOr<Response> DoSync(Request request);

  // The same as Do and DoSync: the names scrapers and service discovery,
  // which leave Request::method at "GET", call.
  void Get(Request request, Callback done) { Do(std::move(request), std::move(done)); }
  absl::StatusOr<Response> GetSync(Request request) { return DoSync(std::move(request)); }

  // Connections idle in the pool now.
  int64_t idle_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_HTTP_CLIENT_H_
