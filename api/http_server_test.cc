#include "api/http_server.h"

#include <cstdio>
#include <thread>

#include "absl/synchronization/notification.h"
#include "api/gzip.h"
#include "api/http_test_client.h"
#include "gtest/gtest.h"

namespace vigil::api {
namespace {

using testing::BuildRequest;
using testing::Fetch;
using testing::TestConnection;
using testing::TestResponse;

HttpServerOptions LocalOptions() {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.worker_threads = 2;
  return o;
}

// Waits for `cond` with a deadline; false if it never held.
template <typename F>
bool WaitFor(F cond, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return cond();
}

void Echo(const HttpRequest& req, HttpResponse* r) {
  r->body = req.method + " " + req.path + " " + req.body;
}

TEST(HttpServerTest, RoutesMethodsAndParams) {
  HttpServer s(LocalOptions());
  s.Handle("GET", "/hello", Echo);
  s.Handle("", "/any", Echo);
  s.Handle("GET", "/api/v1/label/:name/values", [](const HttpRequest& req, HttpResponse* r) {
    r->body = std::string(req.PathParam("name"));
  });
  ASSERT_TRUE(s.Start().ok());
  TestResponse r = Fetch(s.port(), "GET", "/hello");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /hello ");
  EXPECT_EQ(Fetch(s.port(), "POST", "/hello", "x").status, 405);
  EXPECT_EQ(Fetch(s.port(), "GET", "/nope").status, 404);
  EXPECT_EQ(Fetch(s.port(), "DELETE", "/any").body, "DELETE /any ");
  EXPECT_EQ(Fetch(s.port(), "GET", "/api/v1/label/job%5Fx/values").body, "job_x");
  EXPECT_EQ(Fetch(s.port(), "GET", "/hello%zz").status, 400);
}

TEST(HttpServerTest, KeepAliveAndPipelining) {
  HttpServer s(LocalOptions());
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  TestConnection c(s.port());
  ASSERT_TRUE(c.Send(BuildRequest("POST", "/echo", "one")));
  EXPECT_EQ(c.Read().body, "POST /echo one");
  // Three requests in one write: answered in order on the same connection.
  ASSERT_TRUE(c.Send(BuildRequest("POST", "/echo", "a") + BuildRequest("POST", "/echo", "bb") +
                     BuildRequest("GET", "/echo")));
  EXPECT_EQ(c.Read().body, "POST /echo a");
  EXPECT_EQ(c.Read().body, "POST /echo bb");
  EXPECT_EQ(c.Read().body, "GET /echo ");
  EXPECT_EQ(s.connections(), 1);
}

TEST(HttpServerTest, BodyLimitGets413) {
  HttpServerOptions o = LocalOptions();
  o.max_body_bytes = 100;
  int reject_calls = 0;
  o.reject = [&](absl::string_view reason) {
    if (reason == "body_too_large") ++reject_calls;
  };
  HttpServer s(o);
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(Fetch(s.port(), "POST", "/echo", std::string(100, 'x')).status, 200);
  TestResponse r = Fetch(s.port(), "POST", "/echo", std::string(101, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("too large"), std::string::npos);
  EXPECT_EQ(reject_calls, 1);
}

TEST(HttpServerTest, SlowClientIsCutOff) {
  HttpServerOptions o = LocalOptions();
  o.read_timeout = absl::Milliseconds(200);
  HttpServer s(o);
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  TestConnection c(s.port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le"));
  EXPECT_TRUE(c.WaitClosed(absl::Seconds(10)));
  // A request that sends its headers but only half its body: same.
  TestConnection c2(s.port());
  ASSERT_TRUE(c2.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  EXPECT_TRUE(c2.WaitClosed(absl::Seconds(10)));
  EXPECT_EQ(Fetch(s.port(), "GET", "/echo").status, 200);
}

TEST(HttpServerTest, GarbageGets400AndServerKeepsWorking) {
  HttpServer s(LocalOptions());
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  TestConnection c(s.port());
  ASSERT_TRUE(c.Send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n", 30)));
  TestResponse r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.WaitClosed(absl::Seconds(10)));
  EXPECT_EQ(Fetch(s.port(), "GET", "/echo").status, 200);
}

TEST(HttpServerTest, ConnectionLimitGets503) {
  HttpServerOptions o = LocalOptions();
  o.max_connections = 2;
  HttpServer s(o);
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  TestConnection a(s.port()), b(s.port());
  ASSERT_TRUE(a.Send(BuildRequest("GET", "/echo")));
  ASSERT_EQ(a.Read().status, 200);
  ASSERT_TRUE(b.Send(BuildRequest("GET", "/echo")));
  ASSERT_EQ(b.Read().status, 200);
  TestConnection c(s.port());
  TestResponse r = c.Read();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "too many connections\n");
}

TEST(HttpServerTest, ConcurrencyLimitGets503AndShutdownDrains) {
  HttpServerOptions o = LocalOptions();
  o.max_concurrent_requests = 1;
  HttpServer s(o);
  absl::Notification release;
  s.Handle("", "/block", [&](const HttpRequest&, HttpResponse* r) {
    release.WaitForNotification();
    r->body = "done";
  });
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  TestConnection a(s.port());
  ASSERT_TRUE(a.Send(BuildRequest("GET", "/block")));
  ASSERT_TRUE(WaitFor([&] { return s.in_flight() == 1; }));
  TestResponse busy = Fetch(s.port(), "GET", "/echo");
  EXPECT_EQ(busy.status, 503);

  // Shutdown waits for the blocked request, which then completes.
  std::thread stopper([&] { s.Shutdown(absl::Seconds(30)); });
  // New connections are refused once the listener is closed.
  EXPECT_TRUE(WaitFor([&] { return !TestConnection(s.port()).ok(); }));
  release.Notify();
  TestResponse r = a.Read();
  stopper.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done");
  EXPECT_EQ(r.headers["connection"], "close");
}

TEST(HttpServerTest, GzipWhenAccepted) {
  HttpServer s(LocalOptions());
  std::string big(5000, 'a');
  s.Handle("GET", "/big", [&](const HttpRequest&, HttpResponse* r) { r->body = big; });
  ASSERT_TRUE(s.Start().ok());
  TestResponse plain = Fetch(s.port(), "GET", "/big");
  EXPECT_EQ(plain.body, big);
  EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
  TestResponse gz = Fetch(s.port(), "GET", "/big", "", {"Accept-Encoding: deflate, gzip"});
  EXPECT_EQ(gz.headers["content-encoding"], "gzip");
  EXPECT_LT(gz.body.size(), big.size());
  auto un = GzipDecompress(gz.body, 1 << 20);
  ASSERT_TRUE(un.ok()) << un.status();
  EXPECT_EQ(*un, big);
  EXPECT_EQ(Fetch(s.port(), "GET", "/big", "", {"Accept-Encoding: gzip;q=0"}).body, big);
}

// A body made piece by piece goes out in chunks, gzipped if accepted and
// whole to HTTP/1.0 clients, and the connection stays usable.
TEST(HttpServerTest, StreamedBody) {
  HttpServer s(LocalOptions());
  std::string want;
  for (int i = 0; i < 100; ++i) want += std::string(1000, static_cast<char>('a' + i % 26));
  s.Handle("GET", "/stream", [](const HttpRequest&, HttpResponse* r) {
    r->content_type = "application/json";
    // Every third call adds nothing.
    r->body_stream = [i = 0, calls = 0](std::string* out) mutable {
      if (++calls % 3 != 0) out->append(1000, static_cast<char>('a' + i++ % 26));
      return i < 100;
    };
  });
  ASSERT_TRUE(s.Start().ok());
  TestConnection c(s.port());
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/stream")));
  TestResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_GT(r.chunks, 10);
  EXPECT_EQ(r.body, want);
  // Keep-alive: the same connection answers again.
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/stream", "", {"Accept-Encoding: gzip"})));
  TestResponse gz = c.Read();
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.headers["content-encoding"], "gzip");
  auto un = GzipDecompress(gz.body, 1 << 20);
  ASSERT_TRUE(un.ok()) << un.status();
  EXPECT_EQ(*un, want);
  TestConnection old(s.port());
  ASSERT_TRUE(old.Send("GET /stream HTTP/1.0\r\nHost: x\r\n\r\n"));
  TestResponse whole = old.Read();
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(whole.body, want);
}

TEST(HttpServerTest, AuthorizeHook) {
  HttpServerOptions o = LocalOptions();
  o.authorize = [](const HttpRequest& r) { return r.Header("authorization") == "Basic ok"; };
  HttpServer s(o);
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  TestResponse denied = Fetch(s.port(), "GET", "/echo");
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.headers["www-authenticate"], "Basic");
  EXPECT_EQ(Fetch(s.port(), "GET", "/echo", "", {"Authorization: Basic ok"}).status, 200);
}

TEST(HttpServerTest, BadListenAddress) {
  HttpServerOptions o = LocalOptions();
  o.listen = "127.0.0.1";
  EXPECT_FALSE(HttpServer(o).Start().ok());
  HttpServer first(LocalOptions());
  ASSERT_TRUE(first.Start().ok());
  o.listen = "127.0.0.1:" + std::to_string(first.port());
  absl::Status busy = HttpServer(o).Start();
  EXPECT_FALSE(busy.ok());
  EXPECT_NE(busy.message().find("bind"), absl::string_view::npos) << busy;
}

// Runs a shell command; its stdout.
std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

TEST(HttpServerTest, Tls) {
  if (Shell("which openssl curl | wc -l") != "2\n") {
    GTEST_SKIP() << "openssl and curl are needed for the TLS test (scripts/install-deps.sh)";
  }
  std::string dir = ::testing::TempDir() + "/tls" + std::to_string(getpid());
  Shell("mkdir -p " + dir + " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
      "/CN=127.0.0.1 -keyout " + dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null");
  HttpServerOptions o = LocalOptions();
  o.tls_cert_file = dir + "/cert.pem";
  o.tls_key_file = dir + "/key.pem";
  HttpServer s(o);
  s.Handle("", "/echo", Echo);
  ASSERT_TRUE(s.Start().ok());
  std::string url = "https://127.0.0.1:" + std::to_string(s.port()) + "/echo";
  EXPECT_EQ(Shell("curl -sk --max-time 10 " + url), "GET /echo ");
  // Plain HTTP to the TLS port gets nothing useful.
  EXPECT_EQ(Shell("curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:" +
                std::to_string(s.port()) + "/echo"),
            "000");
  HttpServerOptions bad = LocalOptions();
  bad.tls_cert_file = dir + "/missing.pem";
  bad.tls_key_file = dir + "/key.pem";
  EXPECT_FALSE(HttpServer(bad).Start().ok());
  Shell("rm -rf " + dir);
}

}  // namespace
}  // namespace vigil::api
