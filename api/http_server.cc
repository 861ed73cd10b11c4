// The only translation unit that includes Boost.Beast.
#include "api/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "api/gzip.h"
#include "base/worker_pool.h"
#include "base/logging.h"

namespace vigil::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

absl::string_view HttpRequest::PathParam(absl::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return {};
}

void HttpResponse::SetError(int code, absl::string_view message) {
  status = code;
  content_type = "text/plain; charset=utf-8";
  body = absl::StrCat(message, "\n");
}

namespace {

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes a URL path; false on a malformed escape.
bool DecodePath(absl::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

struct Route {
  std::string method;
  std::vector<std::string> segments;  // ":x" segments are parameters.
  std::string name;
  HttpHandler handler;
};

std::vector<std::string> SplitPath(absl::string_view path) { return absl::StrSplit(path, '/'); }

// Matches `path` against `route`, filling params. Exact segment count.
bool MatchRoute(const Route& route, const std::vector<std::string>& segs,
                std::vector<std::pair<std::string, std::string>>* params) {
  if (segs.size() != route.segments.size()) return false;
  params->clear();
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& want = route.segments[i];
    if (!want.empty() && want[0] == ':') {
      if (segs[i].empty()) return false;
      params->emplace_back(want.substr(1), segs[i]);
    } else if (want != segs[i]) {
      return false;
    }
  }
  return true;
}

// Fills `out` from a parsed Beast request (moving the body out of it);
// false when the target is not a valid origin-form path.
bool ConvertRequest(http::request<http::string_body>& req, HttpRequest* out) {
  out->method = std::string(req.method_string());
  out->target = std::string(req.target());
  absl::string_view target = out->target;
  size_t q = target.find('?');
  if (q != absl::string_view::npos) out->query = std::string(target.substr(q + 1));
  if (!DecodePath(target.substr(0, q), &out->path) || out->path.empty() || out->path[0] != '/') {
    return false;
  }
  for (const auto& field : req) {
    out->headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                              std::string(field.value()));
  }
  out->body = std::move(req.body());
  out->version = static_cast<int>(req.version());
  return true;
}

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(HttpServerOptions o) : opts(std::move(o)) {}

  void Reject(absl::string_view reason) {
    if (opts.reject) opts.reject(reason);
  }
  void Observe(absl::string_view route, int code, double secs) {
    if (opts.observe) opts.observe(route, code, secs);
  }
  void RequestDone() {
    if (in_flight.fetch_sub(1) == 1) {
      // Wakes Shutdown's AwaitWithDeadline, which re-checks on unlock.
      absl::MutexLock lock(&drain_mu);
    }
  }

  // Finds the route for a request. Sets *status to 404/405 when none.
  const Route* FindRoute(absl::string_view method, const std::string& path,
                         std::vector<std::pair<std::string, std::string>>* params,
                         int* status) const {
    std::vector<std::string> segs = SplitPath(path);
    bool path_matched = false;
    for (const Route& r : routes) {
      if (!MatchRoute(r, segs, params)) continue;
      path_matched = true;
      if (r.method.empty() || r.method == method) return &r;
    }
    *status = path_matched ? 405 : 404;
    return nullptr;
  }

  void DoAccept();

  HttpServerOptions opts;
  std::vector<Route> routes;
  std::unique_ptr<asio::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::ssl::context> ssl;
  std::unique_ptr<WorkerPool> pool;
  std::vector<std::thread> io_threads;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> draining{false};
  absl::Mutex drain_mu;
  int port = 0;
  bool started = false;
  bool stopped = false;
};

namespace {

// One connection. Lives as long as an asynchronous operation or a worker
// task holds a shared_ptr to it; all of its I/O runs on its strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(HttpServer::Impl* srv, Args&&... args) : srv_(srv), stream_(std::forward<Args>(args)...) {
    srv_->connections.fetch_add(1);
    boost::system::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = absl::StrCat(ep.address().to_string(), ":", ep.port());
  }
  ~Session() { srv_->connections.fetch_sub(1); }

  void Run() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      DoRead();
    } else {
      beast::get_lowest_layer(stream_).expires_after(ToChrono(srv_->opts.read_timeout));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;  // Failed handshakes just close.
                                self->DoRead();
                              });
    }
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(srv_->opts.max_body_bytes);
    parser_->header_limit(srv_->opts.max_header_bytes);
    beast::get_lowest_layer(stream_).expires_after(ToChrono(srv_->opts.read_timeout));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return DoClose();
    }
    start_ = std::chrono::steady_clock::now();
    route_name_.clear();
    counted_ = false;
    keep_alive_ = false;
    if (ec == beast::error::timeout) {
      // Nothing of the request (if any) was accepted: drop the connection.
      if (buffer_.size() > 0 || parser_->got_some()) srv_->Reject("timeout");
      return DoClose();
    }
    if (ec == http::error::body_limit) {
      srv_->Reject("body_too_large");
      return WriteError(413, absl::StrCat("request body too large (limit ",
                                          srv_->opts.max_body_bytes, " bytes)"));
    }
    if (ec == http::error::header_limit) {
      srv_->Reject("bad_request");
      return WriteError(431, "request header fields too large");
    }
    if (ec) {
      srv_->Reject("bad_request");
      return WriteError(400, absl::StrCat("malformed HTTP request: ", ec.message()));
    }
    HandleRequest();
  }

  void HandleRequest() {
    http::request<http::string_body>& req = parser_->get();
    keep_alive_ = req.keep_alive() && !srv_->draining.load();

    auto hreq = std::make_shared<HttpRequest>();
    if (!ConvertRequest(req, hreq.get())) {
      srv_->Reject("bad_request");
      return WriteError(400, "malformed request target");
    }
    int status = 0;
    const Route* route = srv_->FindRoute(hreq->method, hreq->path, &hreq->path_params, &status);
    if (route == nullptr) {
      return WriteError(status, status == 404 ? "404 page not found" : "Method Not Allowed");
    }
    route_name_ = route->name;
    if (srv_->in_flight.fetch_add(1) >= srv_->opts.max_concurrent_requests) {
      srv_->RequestDone();
      srv_->Reject("max_requests");
      return WriteError(503, "too many concurrent requests, retry later");
    }
    counted_ = true;
    hreq->remote_addr = remote_;
    gone_.store(false);
    hreq->client_gone = &gone_;
    WatchForClose();

    // The handler runs on a worker; the response comes back to the strand.
    srv_->pool->Submit([self = this->shared_from_this(), hreq, route] {
      auto resp = std::make_shared<HttpResponse>();
      const HttpServerOptions& o = self->srv_->opts;
      if (o.authorize && !o.authorize(*hreq)) {
        resp->SetError(401, "Unauthorized");
        resp->headers.emplace_back("WWW-Authenticate", "Basic");
      } else {
        route->handler(*hreq, resp.get());
      }
      bool encoded = false;
      for (const auto& h : resp->headers) {
        if (absl::EqualsIgnoreCase(h.first, "content-encoding")) encoded = true;
      }
      const bool gzip = !encoded && AcceptsGzip(hreq->Header("accept-encoding"));
      if (resp->body_stream && hreq->version < 11) {
        // HTTP/1.0 has no chunked encoding: the whole body, then.
        while (resp->body_stream(&resp->body)) {
        }
        resp->body_stream = nullptr;
      }
      if (resp->body_stream && gzip) {
        resp->body_stream = [inner = std::move(resp->body_stream),
                             gz = std::make_shared<GzipWriter>(),
                             piece = std::string()](std::string* out) mutable {
          piece.clear();
          const bool more = inner(&piece);
          gz->Write(piece, !more, out);
          return more;
        };
        resp->headers.emplace_back("Content-Encoding", "gzip");
      } else if (gzip && resp->body.size() >= o.gzip_min_bytes) {
        resp->body = GzipCompress(resp->body);
        resp->headers.emplace_back("Content-Encoding", "gzip");
      }
      asio::post(self->stream_.get_executor(), [self, resp] { self->Write(resp.get()); });
    });
  }

  // While a handler runs nothing reads the socket; wait until it is
  // readable: end of stream or an error means the client went away (a
  // pipelined request just ends the watch). The wait holds the session
  // until then, like any pending read.
  void WatchForClose() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      if (watching_) return;
      watching_ = true;
      stream_.socket().async_wait(
          tcp::socket::wait_read, [self = this->shared_from_this()](beast::error_code ec) {
            self->watching_ = false;
            if (ec == asio::error::operation_aborted) return;
            if (ec) {
              self->gone_.store(true);
              return;
            }
            char c;
            const ssize_t n = ::recv(self->stream_.socket().native_handle(), &c, 1,
                                     MSG_PEEK | MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
              self->gone_.store(true);
            }
          });
    }
  }

  void WriteError(int status, absl::string_view message) {
    HttpResponse r;
    r.SetError(status, message);
    keep_alive_ = false;  // After a framing error the stream cannot be trusted.
    if (status == 404 || status == 405) keep_alive_ = parser_->get().keep_alive();
    Write(&r);
  }

  // Status line and header fields of `r`; ends keep-alive when draining.
  template <typename Body>
  void SetHeader(const HttpResponse& r, http::response<Body>* out) {
    out->version(11);
    out->result(static_cast<unsigned>(r.status));
    if (srv_->draining.load()) keep_alive_ = false;
    if (r.status != 204 && r.status != 304) out->set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) out->set(k, v);
    out->keep_alive(keep_alive_);
  }

  // Sends `r`, moving its body out (bodies can be tens of MB).
  void Write(HttpResponse* rp) {
    HttpResponse& r = *rp;
    status_ = r.status;
    if (r.body_stream) return WriteStream(rp);
    res_ = {};
    SetHeader(r, &res_);
    if (r.status != 204 && r.status != 304) res_.body() = std::move(r.body);
    res_.prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(ToChrono(srv_->opts.write_timeout));
    http::async_write(
        stream_, res_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  // The header, then the body piece by piece as chunks, then the last
  // (empty) chunk; one piece is in memory at a time.
  void WriteStream(HttpResponse* rp) {
    HttpResponse& r = *rp;
    stream_res_ = {};
    SetHeader(r, &stream_res_);
    stream_res_.chunked(true);
    body_stream_ = std::move(r.body_stream);
    stream_sr_.emplace(stream_res_);
    beast::get_lowest_layer(stream_).expires_after(ToChrono(srv_->opts.write_timeout));
    http::async_write_header(stream_, *stream_sr_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->EndStream(ec);
                               self->WriteNextPiece();
                             });
  }

  void WriteNextPiece() {
    piece_.clear();
    bool more = true;
    while (more && piece_.empty()) more = body_stream_(&piece_);
    beast::get_lowest_layer(stream_).expires_after(ToChrono(srv_->opts.write_timeout));
    auto self = this->shared_from_this();
    if (piece_.empty()) {
      asio::async_write(stream_, http::make_chunk_last(),
                        [self](beast::error_code ec, size_t) { self->EndStream(ec); });
      return;
    }
    asio::async_write(stream_, http::make_chunk(asio::buffer(piece_)),
                      [self, more](beast::error_code ec, size_t) {
                        if (ec) return self->EndStream(ec);
                        if (more) return self->WriteNextPiece();
                        asio::async_write(
                            self->stream_, http::make_chunk_last(),
                            [self](beast::error_code ec2, size_t) { self->EndStream(ec2); });
                      });
  }

  void EndStream(beast::error_code ec) {
    body_stream_ = nullptr;
    stream_sr_.reset();
    std::string().swap(piece_);
    OnWrite(ec);
  }

  void OnWrite(beast::error_code ec) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    srv_->Observe(route_name_, status_, secs);
    if (counted_) {
      counted_ = false;
      srv_->RequestDone();
    }
    if (ec || !keep_alive_) return DoClose();
    DoRead();
  }

  void DoClose() {
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ec2;
        beast::get_lowest_layer(self->stream_).socket().close(ec2);
      });
    }
  }

  HttpServer::Impl* const srv_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  int status_ = 0;  // Of the response being written.
  // A streamed response: its header, serializer, producer and the piece
  // being written.
  http::response<http::empty_body> stream_res_;
  std::optional<http::response_serializer<http::empty_body>> stream_sr_;
  std::function<bool(std::string*)> body_stream_;
  std::string piece_;
  std::chrono::steady_clock::time_point start_;
  std::string route_name_;
  std::string remote_;
  bool keep_alive_ = false;
  bool counted_ = false;  // Holds one of the server's in-flight slots.
  bool watching_ = false;  // A WatchForClose wait is pending.
  std::atomic<bool> gone_{false};
};

}  // namespace

void HttpServer::Impl::DoAccept() {
  acceptor->async_accept(asio::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      LogWarn("http", "accept failed").Kv("err", ec.message());
      return DoAccept();
    }
    if (connections.load() >= opts.max_connections) {
      Reject("max_connections");
      static constexpr char kBusy[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; "
          "charset=utf-8\r\nContent-Length: 21\r\nConnection: close\r\n\r\n"
          "too many connections\n";
      beast::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kBusy, sizeof(kBusy) - 1), ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      return DoAccept();
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (ssl) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket), *ssl)
          ->Run();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->Run();
    }
    DoAccept();
  });
}

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

void HttpServer::Handle(absl::string_view method, absl::string_view pattern, HttpHandler handler) {
  Route r;
  r.method = std::string(method);
  r.segments = SplitPath(pattern);
  r.name = std::string(pattern);
  r.handler = std::move(handler);
  impl_->routes.push_back(std::move(r));
}

absl::Status HttpServer::Start() {
  Impl& s = *impl_;
  absl::string_view listen = s.opts.listen;
  size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid listen address \"", listen, "\": want host:port"));
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  s.ioc = std::make_unique<asio::io_context>(std::max(1, s.opts.io_threads));
  beast::error_code ec;
  asio::ip::address addr;
  if (host.empty()) {
    addr = asio::ip::address_v4::any();
  } else {
    addr = asio::ip::make_address(host, ec);
    if (ec) {
      tcp::resolver resolver(*s.ioc);
      auto results = resolver.resolve(host, "", ec);
      if (ec || results.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("listen address \"", listen, "\": cannot resolve host: ", ec.message()));
      }
      addr = results.begin()->endpoint().address();
    }
  }
  if (!s.opts.tls_cert_file.empty() || !s.opts.tls_key_file.empty()) {
    if (s.opts.tls_cert_file.empty() || s.opts.tls_key_file.empty()) {
      return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
    }
    s.ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    s.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1,
                       ec);
    s.ssl->use_certificate_chain_file(s.opts.tls_cert_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS certificate ", s.opts.tls_cert_file, ": ", ec.message()));
    }
    s.ssl->use_private_key_file(s.opts.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS key ", s.opts.tls_key_file, ": ", ec.message()));
    }
  }
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  s.acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(*s.ioc));
  auto fail = [&](absl::string_view op) {
    return absl::UnavailableError(
        absl::StrCat("listen tcp ", listen, ": ", op, ": ", ec.message()));
  };
  s.acceptor->open(ep.protocol(), ec);
  if (ec) return fail("socket");
  s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  s.acceptor->bind(ep, ec);
  if (ec) return fail("bind");
  s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  s.port = s.acceptor->local_endpoint().port();

  s.pool = std::make_unique<WorkerPool>(s.opts.worker_threads, "http-worker");
  s.work.emplace(s.ioc->get_executor());
  s.DoAccept();
  for (int i = 0; i < std::max(1, s.opts.io_threads); ++i) {
    s.io_threads.emplace_back([&s] { s.ioc->run(); });
    pthread_setname_np(s.io_threads.back().native_handle(), "http-io");
  }
  s.started = true;
  return absl::OkStatus();
}

absl::StatusOr<HttpRequest> ParseHttpRequest(absl::string_view bytes,
                                             const HttpServerOptions& options) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(options.max_body_bytes);
  parser.header_limit(options.max_header_bytes);
  parser.eager(true);
  beast::error_code ec;
  size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) break;
    if (ec) return absl::InvalidArgumentError(ec.message());
    if (n == 0) break;
    used += n;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec) return absl::InvalidArgumentError(ec.message());
    if (!parser.is_done()) return absl::InvalidArgumentError("incomplete request");
  }
  HttpRequest out;
  if (!ConvertRequest(parser.get(), &out)) {
    return absl::InvalidArgumentError("malformed request target");
  }
  return out;
}

int HttpServer::port() const { return impl_->port; }
int64_t HttpServer::connections() const { return impl_->connections.load(); }
int64_t HttpServer::in_flight() const { return impl_->in_flight.load(); }

void HttpServer::Shutdown(absl::Duration grace) {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.draining.store(true);
  // Close the listening socket on its own strand.
  std::promise<void> closed;
  asio::post(s.acceptor->get_executor(), [&s, &closed] {
    beast::error_code ec;
    s.acceptor->close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
  {
    absl::MutexLock lock(&s.drain_mu);
    s.drain_mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::atomic<int64_t>* n) { return n->load() == 0; }, &s.in_flight),
        grace);
  }
  // Handlers still running finish; their responses are dropped with the
  // connections when the I/O context goes away.
  s.pool->Shutdown();
  s.work.reset();
  s.ioc->stop();
  for (auto& t : s.io_threads) t.join();
  s.io_threads.clear();
  s.acceptor.reset();
  s.ioc.reset();  // Destroys pending handlers, and with them the sessions.
}

}  // namespace vigil::api
