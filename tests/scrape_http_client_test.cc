// scrape::HttpClient against the real api::HttpServer (plain and TLS) and
// against raw sockets that misbehave on purpose.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "api/gzip.h"
#include "api/http_server.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "scrape/http_client.h"

namespace vigil::scrape {
namespace {

using Response = HttpClient::Response;

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil_http_client_test.XXXXXX";
    char* p = mkdtemp(tmpl);
    path_ = p != nullptr ? p : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name, absl::string_view content) const {
    const std::string p = path_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(p, content).ok());
    return p;
  }

 private:
  std::string path_;
};

// The HTTP server with handlers registered by `routes`, on 127.0.0.1.
std::unique_ptr<api::HttpServer> StartServer(
    const std::function<void(api::HttpServer*)>& routes,
    const std::function<void(api::HttpServerOptions*)>& tweak = nullptr) {
  api::HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.io_threads = 1;
  o.worker_threads = 2;
  o.max_concurrent_requests = 1000;
  if (tweak) tweak(&o);
  auto s = std::make_unique<api::HttpServer>(o);
  routes(s.get());
  absl::Status st = s->Start();
  EXPECT_TRUE(st.ok()) << st;
  return s;
}

std::string Url(int port, absl::string_view path) {
  return absl::StrCat("http://127.0.0.1:", port, path);
}

HttpClient::Request Req(std::string url) {
  HttpClient::Request r;
  r.url = std::move(url);
  r.timeout = absl::Seconds(10);
  return r;
}

// A socket listening on 127.0.0.1; each accepted connection is handed to
// `serve` on its own thread (which must not close it). With `accept` false
// connections wait in the backlog forever.
class RawServer {
 public:
  explicit RawServer(std::function<void(int fd)> serve, bool accept = true)
      : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 128), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (accept) acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    {
      absl::MutexLock lock(&mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    }
    for (std::thread& t : workers_) t.join();
    for (int c : conns_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(conns_.size());
  }
  bool AwaitAccepted(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(conns_.size()) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  void AcceptLoop() {
    while (true) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      absl::MutexLock lock(&mu_);
      conns_.push_back(c);
      workers_.emplace_back([this, c] { serve_(c); });
    }
  }

  std::function<void(int)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<int> conns_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;  // Written by the acceptor only.
};

// Reads up to the end of the request head; "" if the peer went away.
std::string ReadHead(int fd) {
  std::string head;
  char buf[4096];
  while (!absl::StrContains(head, "\r\n\r\n")) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return "";
    head.append(buf, static_cast<size_t>(n));
  }
  return head;
}

void WriteString(int fd, absl::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// A server that answers every request with `response` verbatim and then
// closes its side.
std::unique_ptr<RawServer> Canned(std::string response) {
  return std::make_unique<RawServer>([response](int fd) {
    if (ReadHead(fd).empty()) return;
    WriteString(fd, response);
    ::shutdown(fd, SHUT_WR);
    char buf[256];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
  });
}

// Collects callbacks from many requests.
class Results {
 public:
  HttpClient::Callback Add() {
    return [this](absl::StatusOr<Response> r) {
      absl::MutexLock lock(&mu_);
      results_.push_back(std::move(r));
    };
  }
  bool Await(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return results_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  std::vector<absl::StatusOr<Response>> Take() {
    absl::MutexLock lock(&mu_);
    return std::move(results_);
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return results_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::StatusOr<Response>> results_ ABSL_GUARDED_BY(mu_);
};

// Polls `cond` until it holds or `timeout` passes, for state that has no
// notification (a server's connection count, the client's pool).
bool Eventually(const std::function<bool()>& cond, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!cond()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// The client addresses (ip:port) requests came from: one per connection.
class Peers {
 public:
  void Add(const api::HttpRequest& req) {
    absl::MutexLock lock(&mu_);
    peers_.insert(req.remote_addr);
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return peers_.size();
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> peers_ ABSL_GUARDED_BY(mu_);
};

std::string Ok(absl::string_view body, absl::string_view extra_headers = "") {
  return absl::StrCat("HTTP/1.1 200 OK\r\n", extra_headers, "Content-Length: ", body.size(),
                      "\r\n\r\n", body);
}

TEST(HttpClientTest, PlainGet) {
  std::string seen_ua, seen_accept, seen_host;
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/metrics", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      seen_ua = std::string(req.Header("user-agent"));
      seen_accept = std::string(req.Header("accept"));
      seen_host = std::string(req.Header("host"));
      r->content_type = "text/plain; version=0.0.4";
      r->body = "up 1\n";
    });
  });
  HttpClient client(1);
  HttpClient::Request req = Req(Url(server->port(), "/metrics"));
  req.headers.emplace_back("Accept", "text/plain");
  absl::StatusOr<Response> r = client.GetSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(r->body, "up 1\n");
  EXPECT_EQ(r->wire_bytes, 5);
  EXPECT_TRUE(absl::StartsWith(seen_ua, "Vigil/")) << seen_ua;
  EXPECT_EQ(seen_accept, "text/plain");
  EXPECT_EQ(seen_host, absl::StrCat("127.0.0.1:", server->port()));
}

TEST(HttpClientTest, ResolvesHostNames) {
  auto server = StartServer([](api::HttpServer* s) {
    s->Handle("GET", "/", [](const api::HttpRequest&, api::HttpResponse* r) { r->body = "x"; });
  });
  HttpClient client(1);
  absl::StatusOr<Response> r =
      client.GetSync(Req(absl::StrCat("http://localhost:", server->port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "x");
}

TEST(HttpClientTest, NotFoundIsAStatusNotAnError) {
  auto server = StartServer([](api::HttpServer*) {});
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/nope")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
}

std::string BigExposition() {
  std::string body;
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&body, "metric_", i, "{a=\"b\"} ", i, "\n");
  return body;
}

TEST(HttpClientTest, GzipBodyIsInflated) {
  const std::string body = BigExposition();
  std::string seen_encoding;
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/metrics", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      seen_encoding = std::string(req.Header("accept-encoding"));
      r->body = body;
    });
  });
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/metrics")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(seen_encoding, "gzip");
  EXPECT_EQ(r->body, body);
  EXPECT_LT(r->wire_bytes, static_cast<int64_t>(body.size()) / 2);  // It was compressed.

  HttpClient::Request plain = Req(Url(server->port(), "/metrics"));
  plain.accept_gzip = false;
  r = client.GetSync(plain);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(seen_encoding, "");
  EXPECT_EQ(r->body, body);
  EXPECT_EQ(r->wire_bytes, static_cast<int64_t>(body.size()));
}

TEST(HttpClientTest, LargeBodies) {
  std::string body;
  for (int i = 0; body.size() < (8 << 20); ++i) absl::StrAppend(&body, "series_", i, " ", i, "\n");
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/", [&](const api::HttpRequest&, api::HttpResponse* r) { r->body = body; });
  });
  HttpClient client(1);
  for (bool gzip : {false, true}) {
    HttpClient::Request req = Req(Url(server->port(), "/"));
    req.accept_gzip = gzip;
    absl::StatusOr<Response> r = client.GetSync(req);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body.size(), body.size());
    EXPECT_TRUE(r->body == body);
  }
}

TEST(HttpClientTest, CorruptGzipIsDataLoss) {
  std::string gz = api::GzipCompress(BigExposition());
  for (size_t i = 20; i < gz.size() - 8; i += 7) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  auto server = Canned(absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ", gz.size(), "\r\n\r\n", gz));
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "gzip: ")) << r.status();

  auto not_gzip =
      Canned("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 11\r\n\r\nhello world");
  r = client.GetSync(Req(Url(not_gzip->port(), "/")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();

  const std::string whole = api::GzipCompress(BigExposition());
  const std::string truncated = whole.substr(0, whole.size() / 2);
  auto cut = Canned(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ",
                                 truncated.size(), "\r\n\r\n", truncated));
  r = client.GetSync(Req(Url(cut->port(), "/")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
}

TEST(HttpClientTest, BodySizeLimit) {
  const std::string body(10000, 'a');  // Compresses to a few dozen bytes.
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/", [&](const api::HttpRequest&, api::HttpResponse* r) { r->body = body; });
  });
  HttpClient client(1);
  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "identity");
    HttpClient::Request req = Req(Url(server->port(), "/"));
    req.accept_gzip = gzip;
    req.body_size_limit = 1000;
    absl::StatusOr<Response> r = client.GetSync(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(r.status().message(), "body size limit exceeded");
    // As in Prometheus, a body of exactly the limit is too large.
    req.body_size_limit = 10000;
    r = client.GetSync(req);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
    req.body_size_limit = 10001;
    r = client.GetSync(req);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, body);
  }
}

TEST(HttpClientTest, DeadlineCoversTheWholeExchange) {
  // Connections complete in the kernel's backlog; nothing ever answers.
  RawServer silent([](int) {}, /*accept=*/false);
  HttpClient client(1);
  HttpClient::Request req = Req(Url(silent.port(), "/metrics"));
  req.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  absl::StatusOr<Response> r = client.GetSync(req);
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_EQ(r.status().message(), absl::StrCat("Get \"", req.url, "\": context deadline exceeded"));
  EXPECT_GE(took, absl::Milliseconds(190));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(HttpClientTest, DeadlineDuringBody) {
  // Headers, then a body that never completes.
  RawServer slow([](int fd) {
    if (ReadHead(fd).empty()) return;
    WriteString(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    char buf[64];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
  });
  HttpClient client(1);
  HttpClient::Request req = Req(Url(slow.port(), "/"));
  req.timeout = absl::Milliseconds(200);
  absl::StatusOr<Response> r = client.GetSync(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "context deadline exceeded");
}

TEST(HttpClientTest, ConnectionRefused) {
  // Bound but not listening: connecting is refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(port, "/metrics")));
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("Get \"http://127.0.0.1:", port, "/metrics\": dial tcp 127.0.0.1:", port,
                         ": connect: connection refused"));
}

TEST(HttpClientTest, UnknownHostIsUnavailable) {
  HttpClient client(1);
  HttpClient::Request req = Req("http://no-such-host.invalid:9100/metrics");
  req.timeout = absl::Seconds(60);  // Longer than a resolver's retries.
  absl::StatusOr<Response> r = client.GetSync(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "lookup no-such-host.invalid")) << r.status();
}

TEST(HttpClientTest, BadUrlIsInvalidArgument) {
  HttpClient client(1);
  for (const char* url :
       {"ftp://x/", "127.0.0.1:80/metrics", "http:///metrics", "http://h:99999/", "http://[::1/"}) {
    absl::StatusOr<Response> r = client.GetSync(Req(url));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << url << " " << r.status();
  }
}

TEST(HttpClientTest, MalformedResponseIsDataLoss) {
  auto server = Canned("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();

  auto short_body = Canned("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  r = client.GetSync(Req(Url(short_body->port(), "/")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_EQ(r.status().message(), "unexpected EOF");
}

TEST(HttpClientTest, ChunkedAndReadUntilCloseBodies) {
  HttpClient client(1);
  auto chunked = Canned(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  absl::StatusOr<Response> r = client.GetSync(Req(Url(chunked->port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "hello world");
  EXPECT_EQ(r->content_type, "text/plain");

  auto until_close = Canned("HTTP/1.0 200 OK\r\n\r\nall of it");
  r = client.GetSync(Req(Url(until_close->port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "all of it");

  auto interim =
      Canned("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  r = client.GetSync(Req(Url(interim->port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
}

TEST(HttpClientTest, AuthorizationHeaders) {
  absl::Mutex mu;
  std::string seen;
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/", [&](const api::HttpRequest& req, api::HttpResponse*) {
      absl::MutexLock lock(&mu);
      seen = std::string(req.Header("authorization"));
    });
  });
  auto last = [&] {
    absl::MutexLock lock(&mu);
    return seen;
  };
  TempDir dir;
  HttpClient client(1);

  HttpClient::Request req = Req(Url(server->port(), "/"));
  req.http.basic_auth = config::BasicAuth{"alice", "pw", ""};
  ASSERT_TRUE(client.GetSync(req).ok());
  EXPECT_EQ(last(), "Basic " + absl::Base64Escape("alice:pw"));

  // The password file wins over nothing else set and is read per request.
  req.http.basic_auth = config::BasicAuth{"alice", "", dir.File("pw", "s3cret\n")};
  ASSERT_TRUE(client.GetSync(req).ok());
  EXPECT_EQ(last(), "Basic " + absl::Base64Escape("alice:s3cret"));
  dir.File("pw", "changed");
  ASSERT_TRUE(client.GetSync(req).ok());
  EXPECT_EQ(last(), "Basic " + absl::Base64Escape("alice:changed"));

  req.http.basic_auth.reset();
  req.http.authorization = config::Authorization{"Bearer", "tok123", ""};
  ASSERT_TRUE(client.GetSync(req).ok());
  EXPECT_EQ(last(), "Bearer tok123");

  req.http.authorization = config::Authorization{"Custom", "", dir.File("tok", " filetok \n")};
  ASSERT_TRUE(client.GetSync(req).ok());
  EXPECT_EQ(last(), "Custom filetok");

  req.http.authorization->credentials_file = dir.path() + "/missing";
  absl::StatusOr<Response> r = client.GetSync(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

std::unique_ptr<api::HttpServer> RedirectServer() {
  return StartServer([](api::HttpServer* s) {
    s->Handle("GET", "/a", [](const api::HttpRequest&, api::HttpResponse* r) {
      r->status = 302;
      r->headers.emplace_back("Location", "/b?x=1");
    });
    s->Handle("GET", "/b", [](const api::HttpRequest& req, api::HttpResponse* r) {
      r->status = 301;
      r->headers.emplace_back("Location", absl::StrCat("final?", req.query));
    });
    s->Handle("GET", "/final", [](const api::HttpRequest& req, api::HttpResponse* r) {
      r->body = "final " + req.query;
    });
    s->Handle("GET", "/loop", [](const api::HttpRequest&, api::HttpResponse* r) {
      r->status = 307;
      r->headers.emplace_back("Location", "/loop");
    });
  });
}

TEST(HttpClientTest, FollowsRedirects) {
  auto server = RedirectServer();
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/a")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "final x=1");

  r = client.GetSync(Req(Url(server->port(), "/loop")));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::EndsWith(r.status().message(), "stopped after 10 redirects")) << r.status();
}

TEST(HttpClientTest, RedirectsNotFollowedWhenDisabled) {
  auto server = RedirectServer();
  HttpClient client(1);
  HttpClient::Request req = Req(Url(server->port(), "/a"));
  req.http.follow_redirects = false;
  absl::StatusOr<Response> r = client.GetSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 302);
}

// A CA and a server certificate for 127.0.0.1 and localhost, made by the
// openssl CLI.
struct TlsFiles {
  std::string ca, cert, key;
};

bool MakeCerts(const TempDir& dir, TlsFiles* out) {
  const std::string d = dir.path();
  dir.File("ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  const std::string cmd =
      absl::StrCat("(cd ", d,
                   " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                   " -keyout ca.key -out ca.crt -days 2 -subj /CN=vigil-test-ca"
                   " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                   " -keyout server.key -out server.csr -subj /CN=localhost"
                   " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
                   " -out server.crt -days 2 -extfile ext.cnf) >",
                   d, "/openssl.log 2>&1");
  if (std::system(cmd.c_str()) != 0) return false;
  *out = {d + "/ca.crt", d + "/server.crt", d + "/server.key"};
  return true;
}

class HttpClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeCerts(dir_, &files_)) << "openssl failed, see " << dir_.path();
    server_ = StartServer(
        [this](api::HttpServer* s) {
          s->Handle("GET", "/metrics", [this](const api::HttpRequest& req, api::HttpResponse* r) {
            peers_.Add(req);
            r->body = "secure 1\n";
          });
        },
        [this](api::HttpServerOptions* o) {
          o->tls_cert_file = files_.cert;
          o->tls_key_file = files_.key;
        });
  }
  std::string HttpsUrl() const {
    return absl::StrCat("https://127.0.0.1:", server_->port(), "/metrics");
  }

  TempDir dir_;
  TlsFiles files_;
  Peers peers_;
  std::unique_ptr<api::HttpServer> server_;
  HttpClient client_{1};
};

TEST_F(HttpClientTlsTest, VerifiesAgainstCaFile) {
  HttpClient::Request req = Req(HttpsUrl());
  req.http.tls.ca_file = files_.ca;
  absl::StatusOr<Response> r = client_.GetSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "secure 1\n");

  // By host name, and with server_name naming a SAN of the certificate.
  req.url = absl::StrCat("https://localhost:", server_->port(), "/metrics");
  r = client_.GetSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
  req.url = HttpsUrl();
  req.http.tls.server_name = "localhost";
  r = client_.GetSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST_F(HttpClientTlsTest, KeepAliveReusesTlsConnections) {
  HttpClient::Request req = Req(HttpsUrl());
  req.http.tls.ca_file = files_.ca;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Response> r = client_.GetSync(req);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "secure 1\n");
  }
  EXPECT_EQ(peers_.count(), 1u);
  // Another server name (verified against another SAN) or other TLS
  // settings never share a connection.
  req.http.tls.server_name = "localhost";
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(client_.GetSync(req).ok());
  EXPECT_EQ(peers_.count(), 2u);
  req.http.tls.server_name.clear();
  req.http.tls.insecure_skip_verify = true;
  ASSERT_TRUE(client_.GetSync(req).ok());
  EXPECT_EQ(peers_.count(), 3u);
  EXPECT_EQ(client_.idle_connections(), 3);
}

TEST_F(HttpClientTlsTest, FailsWithoutTheCa) {
  absl::StatusOr<Response> r = client_.GetSync(Req(HttpsUrl()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "certificate")) << r.status();
}

TEST_F(HttpClientTlsTest, FailsOnNameMismatch) {
  HttpClient::Request req = Req(HttpsUrl());
  req.http.tls.ca_file = files_.ca;
  req.http.tls.server_name = "other.example";
  absl::StatusOr<Response> r = client_.GetSync(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST_F(HttpClientTlsTest, InsecureSkipVerify) {
  HttpClient::Request req = Req(HttpsUrl());
  req.http.tls.insecure_skip_verify = true;
  absl::StatusOr<Response> r = client_.GetSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "secure 1\n");
}

TEST_F(HttpClientTlsTest, MissingCaFileIsInvalidArgument) {
  HttpClient::Request req = Req(HttpsUrl());
  req.http.tls.ca_file = dir_.path() + "/nope.crt";
  absl::StatusOr<Response> r = client_.GetSync(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

TEST(HttpClientTest, ManyConcurrentRequests) {
  constexpr int kRequests = 200;
  auto server = StartServer([](api::HttpServer* s) {
    s->Handle("GET", "/:n", [](const api::HttpRequest& req, api::HttpResponse* r) {
      r->body = std::string(req.PathParam("n"));
    });
  });
  Results results;
  {
    HttpClient client(2);
    for (int i = 0; i < kRequests; ++i) {
      client.Get(Req(Url(server->port(), absl::StrCat("/", i))), results.Add());
    }
    ASSERT_TRUE(results.Await(kRequests, absl::Seconds(60))) << results.size();
  }
  std::vector<bool> seen(kRequests, false);
  for (const absl::StatusOr<Response>& r : results.Take()) {
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, 200);
    int n = 0;
    ASSERT_TRUE(absl::SimpleAtoi(r->body, &n));
    seen[n] = true;
  }
  for (int i = 0; i < kRequests; ++i) EXPECT_TRUE(seen[i]) << i;
}

TEST(HttpClientTest, DestructorCancelsRequestsInFlight) {
  constexpr int kRequests = 20;
  // Accepts and never answers.
  RawServer hang([](int fd) {
    char buf[256];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
  });
  Results results;
  auto client = std::make_unique<HttpClient>(2);
  for (int i = 0; i < kRequests; ++i) {
    HttpClient::Request req = Req(Url(hang.port(), "/"));
    req.timeout = absl::Minutes(5);
    client->Get(req, results.Add());
  }
  ASSERT_TRUE(hang.AwaitAccepted(kRequests, absl::Seconds(30)));
  EXPECT_EQ(results.size(), 0u);
  const absl::Time start = absl::Now();
  client.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  std::vector<absl::StatusOr<Response>> all = results.Take();
  ASSERT_EQ(all.size(), static_cast<size_t>(kRequests));
  for (const auto& r : all)
    EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
}

// ---------------------------------------------------------------------------
// Keep-alive

// What a KeepAliveServer writes for one request.
struct Answer {
  Answer(std::string b, bool c = false) : bytes(std::move(b)), close(c) {}  // NOLINT
  std::string bytes;
  bool close;  // After the bytes. No bytes also closes.
};

// A keep-alive HTTP server on raw sockets. Request `n` (from 0) on
// connection `conn` (from 0, in the order connections start) is answered
// with answer(conn, n). Counts connections, and those the client closed.
class KeepAliveServer {
 public:
  explicit KeepAliveServer(std::function<Answer(int conn, int n)> answer)
      : answer_(std::move(answer)), raw_([this](int fd) { Serve(fd); }) {}
  int port() const { return raw_.port(); }
  int accepted() { return raw_.accepted(); }
  int requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  int closed_by_client() {
    absl::MutexLock lock(&mu_);
    return closed_by_client_;
  }
  bool AwaitClosedByClient(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_by_client_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  void Serve(int fd) {
    int conn = 0;
    {
      absl::MutexLock lock(&mu_);
      conn = next_conn_++;
    }
    for (int n = 0;; ++n) {
      if (ReadHead(fd).empty()) {
        absl::MutexLock lock(&mu_);
        ++closed_by_client_;
        return;
      }
      {
        absl::MutexLock lock(&mu_);
        ++requests_;
      }
      const Answer answer = answer_(conn, n);
      WriteString(fd, answer.bytes);
      if (answer.bytes.empty() || answer.close) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
    }
  }

  std::function<Answer(int, int)> answer_;
  absl::Mutex mu_;
  int next_conn_ ABSL_GUARDED_BY(mu_) = 0;
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  int closed_by_client_ ABSL_GUARDED_BY(mu_) = 0;
  RawServer raw_;  // Last: its threads stop before the rest goes.
};

HttpClient::Options PoolOptions() {
  HttpClient::Options o;
  o.io_threads = 1;
  return o;
}

TEST(HttpClientKeepAliveTest, SequentialRequestsShareOneConnection) {
  Peers peers;
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/metrics", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      peers.Add(req);
      r->body = "up 1\n";
    });
  });
  HttpClient client(1);
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/metrics")));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "up 1\n");
    EXPECT_EQ(client.idle_connections(), 1);
  }
  EXPECT_EQ(peers.count(), 1u);
  EXPECT_EQ(server->connections(), 1);
}

TEST(HttpClientKeepAliveTest, OneAcceptForManyRequests) {
  KeepAliveServer server([](int, int n) { return Ok(absl::StrCat("n ", n, "\n")); });
  HttpClient client(1);
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<Response> r = client.GetSync(Req(Url(server.port(), "/")));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, absl::StrCat("n ", i, "\n"));
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientKeepAliveTest, StaleConnectionIsRetriedOnANewOne) {
  // The first connection answers once, then closes on the next request
  // without a byte of answer: what a server closing an idle connection
  // looks like when the request was already on its way.
  KeepAliveServer server([](int conn, int n) {
    if (conn == 0 && n == 1) return std::string();
    return Ok(absl::StrCat("conn ", conn));
  });
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server.port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "conn 0");
  r = client.GetSync(Req(Url(server.port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "conn 1");
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientKeepAliveTest, NoRetryOnceTheResponseStarted) {
  // A reused connection that dies in the middle of the status line: the
  // server may have acted on the request, and the failure is reported.
  KeepAliveServer server([](int, int n) -> Answer {
    if (n == 0) return Ok("first");
    return Answer("HTTP/1.1 200", /*close=*/true);
  });
  HttpClient client(1);
  ASSERT_TRUE(client.GetSync(Req(Url(server.port(), "/"))).ok());
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server.port(), "/")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpClientKeepAliveTest, ServerClosingAnIdleConnectionIsNoticed) {
  Peers peers;
  auto server = StartServer(
      [&](api::HttpServer* s) {
        s->Handle("GET", "/", [&](const api::HttpRequest& req, api::HttpResponse* r) {
          peers.Add(req);
          r->body = "ok";
        });
      },
      [](api::HttpServerOptions* o) {
        // The server bounds the wait for the next request by read_timeout.
        o->read_timeout = absl::Milliseconds(300);
        o->idle_timeout = absl::Milliseconds(300);
      });
  HttpClient client(1);
  ASSERT_TRUE(client.GetSync(Req(Url(server->port(), "/"))).ok());
  // The server drops the idle connection, and the client's pool with it.
  EXPECT_TRUE(Eventually([&] { return server->connections() == 0; }, absl::Seconds(10)));
  EXPECT_TRUE(Eventually([&] { return client.idle_connections() == 0; }, absl::Seconds(10)));
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(peers.count(), 2u);
}

TEST(HttpClientKeepAliveTest, ConnectionSemanticsOfTheResponse) {
  struct Case {
    std::string response;
    bool reused;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.response);
    // The server would happily go on either way: only the client decides.
    KeepAliveServer server([&](int, int) { return c.response; });
    HttpClient client(1);
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<Response> r = client.GetSync(Req(Url(server.port(), "/")));
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->body, "ok");
    }
    EXPECT_EQ(server.accepted(), c.reused ? 1 : 2);
    EXPECT_EQ(client.idle_connections(), c.reused ? 1 : 0);
  }
}

TEST(HttpClientKeepAliveTest, DeadlineMidBodyClosesTheConnection) {
  KeepAliveServer server([](int conn, int) {
    return conn == 0 ? "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial" : Ok("whole");
  });
  HttpClient client(1);
  HttpClient::Request req = Req(Url(server.port(), "/"));
  req.timeout = absl::Milliseconds(200);
  absl::StatusOr<Response> r = client.GetSync(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_EQ(client.idle_connections(), 0);
  EXPECT_TRUE(server.AwaitClosedByClient(1, absl::Seconds(10)));
  r = client.GetSync(Req(Url(server.port(), "/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "whole");
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClientKeepAliveTest, BodyLimitClosesTheConnection) {
  const std::string body(10000, 'a');
  const std::string gz = api::GzipCompress(body);
  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "identity");
    // Identity: the body is cut off at the limit. gzip: the small
    // compressed body is read whole, the inflated one is too large.
    const std::string answer = gzip ? Ok(gz, "Content-Encoding: gzip\r\n") : Ok(body);
    KeepAliveServer server([&](int, int) { return answer; });
    HttpClient client(1);
    HttpClient::Request req = Req(Url(server.port(), "/"));
    req.accept_gzip = gzip;
    req.body_size_limit = 1000;
    absl::StatusOr<Response> r = client.GetSync(req);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
    EXPECT_EQ(client.idle_connections(), 0);
    req.body_size_limit = 0;
    r = client.GetSync(req);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, body);
    EXPECT_EQ(server.accepted(), 2);
    EXPECT_EQ(client.idle_connections(), 1);
  }
}

TEST(HttpClientKeepAliveTest, RedirectsReuseTheConnection) {
  Peers peers;
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/a", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      peers.Add(req);
      r->status = 302;
      r->headers.emplace_back("Location", "/b");
      r->body = "moved";
    });
    s->Handle("GET", "/b", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      peers.Add(req);
      r->body = "here";
    });
  });
  HttpClient client(1);
  absl::StatusOr<Response> r = client.GetSync(Req(Url(server->port(), "/a")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "here");
  EXPECT_EQ(peers.count(), 1u);
}

TEST(HttpClientKeepAliveTest, PerHostAndTotalCaps) {
  constexpr int kConcurrent = 5;
  // Every first request waits for the others, so that each needs its own
  // connection.
  absl::Mutex mu;
  int arrived = 0;
  KeepAliveServer server([&](int, int) {
    absl::MutexLock lock(&mu);
    ++arrived;
    auto all = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return arrived >= kConcurrent; };
    mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(10));
    return Ok("ok");
  });
  HttpClient::Options o = PoolOptions();
  o.max_idle_per_host = 2;
  o.max_idle = 3;
  HttpClient client(o);
  Results results;
  for (int i = 0; i < kConcurrent; ++i) client.Get(Req(Url(server.port(), "/")), results.Add());
  ASSERT_TRUE(results.Await(kConcurrent, absl::Seconds(30)));
  for (const auto& r : results.Take()) ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(server.accepted(), kConcurrent);
  EXPECT_EQ(client.idle_connections(), 2);
  EXPECT_TRUE(server.AwaitClosedByClient(kConcurrent - 2, absl::Seconds(10)));

  // Two more origins: the total cap of 3 closes the connection idle
  // longest, one of the first server's.
  KeepAliveServer other1([](int, int) { return Ok("1"); });
  KeepAliveServer other2([](int, int) { return Ok("2"); });
  ASSERT_TRUE(client.GetSync(Req(Url(other1.port(), "/"))).ok());
  EXPECT_EQ(client.idle_connections(), 3);
  ASSERT_TRUE(client.GetSync(Req(Url(other2.port(), "/"))).ok());
  EXPECT_EQ(client.idle_connections(), 3);
  EXPECT_TRUE(server.AwaitClosedByClient(kConcurrent - 1, absl::Seconds(10)));
  EXPECT_EQ(other1.closed_by_client(), 0);
}

TEST(HttpClientKeepAliveTest, IdleTimeoutClosesTheConnection) {
  KeepAliveServer server([](int, int) { return Ok("ok"); });
  HttpClient::Options o = PoolOptions();
  o.idle_timeout = absl::Milliseconds(200);
  HttpClient client(o);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client.GetSync(Req(Url(server.port(), "/"))).ok());
  EXPECT_EQ(client.idle_connections(), 1);
  ASSERT_TRUE(server.AwaitClosedByClient(1, absl::Seconds(10)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(190));
  EXPECT_EQ(client.idle_connections(), 0);
  ASSERT_TRUE(client.GetSync(Req(Url(server.port(), "/"))).ok());
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClientKeepAliveTest, DisabledSendsConnectionClose) {
  absl::Mutex mu;
  std::string connection_header;
  KeepAliveServer server([](int, int) { return Ok("ok"); });
  auto http_server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      absl::MutexLock lock(&mu);
      connection_header = std::string(req.Header("connection"));
      r->body = "ok";
    });
  });
  HttpClient::Options o = PoolOptions();
  o.keep_alive = false;
  HttpClient client(o);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.GetSync(Req(Url(server.port(), "/"))).ok());
  EXPECT_EQ(server.accepted(), 2);
  ASSERT_TRUE(client.GetSync(Req(Url(http_server->port(), "/"))).ok());
  absl::MutexLock lock(&mu);
  EXPECT_EQ(connection_header, "close");
}

TEST(HttpClientKeepAliveTest, ConcurrentRequestsThenReuse) {
  constexpr int kRequests = 200;
  Peers peers;
  auto server = StartServer([&](api::HttpServer* s) {
    s->Handle("GET", "/:n", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      peers.Add(req);
      r->body = std::string(req.PathParam("n"));
    });
  });
  HttpClient client(2);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    Results results;
    for (int i = 0; i < kRequests; ++i) {
      client.Get(Req(Url(server->port(), absl::StrCat("/", i))), results.Add());
    }
    ASSERT_TRUE(results.Await(kRequests, absl::Seconds(60))) << results.size();
    std::vector<bool> seen(kRequests, false);
    for (const absl::StatusOr<Response>& r : results.Take()) {
      ASSERT_TRUE(r.ok()) << r.status();
      int n = 0;
      ASSERT_TRUE(absl::SimpleAtoi(r->body, &n));
      seen[n] = true;
    }
    for (int i = 0; i < kRequests; ++i) EXPECT_TRUE(seen[i]) << i;
    EXPECT_EQ(client.idle_connections(), 2);  // The per-host default.
  }
  // The second round started on the two idle connections of the first.
  EXPECT_LT(peers.count(), 2u * kRequests);
}

TEST(HttpClientKeepAliveTest, DestructorClosesIdleConnectionsPromptly) {
  constexpr int kServers = 3;
  std::vector<std::unique_ptr<KeepAliveServer>> servers;
  for (int i = 0; i < kServers; ++i) {
    servers.push_back(std::make_unique<KeepAliveServer>([](int, int) { return Ok("ok"); }));
  }
  auto client = std::make_unique<HttpClient>(2);
  for (auto& s : servers) ASSERT_TRUE(client->GetSync(Req(Url(s->port(), "/"))).ok());
  EXPECT_EQ(client->idle_connections(), kServers);
  const absl::Time start = absl::Now();
  client.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  for (auto& s : servers) EXPECT_TRUE(s->AwaitClosedByClient(1, absl::Seconds(10)));
}

TEST(HttpClientKeepAliveTest, RequestFromACallbackReusesTheConnection) {
  // A callback that issues the next request (as a scrape loop chaining
  // requests would) gets the connection the previous one just returned.
  KeepAliveServer server([](int, int n) { return Ok(absl::StrCat(n)); });
  HttpClient client(1);
  absl::Notification done;
  std::string second;
  client.Get(Req(Url(server.port(), "/")), [&](absl::StatusOr<Response> r) {
    ASSERT_TRUE(r.ok()) << r.status();
    client.Get(Req(Url(server.port(), "/")), [&](absl::StatusOr<Response> r2) {
      if (r2.ok()) second = r2->body;
      done.Notify();
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(second, "1");
  EXPECT_EQ(server.accepted(), 1);
}

}  // namespace
}  // namespace vigil::scrape
