// api::HttpSender (alerting's HTTP client) and the POST side of
// scrape::HttpClient against real servers on 127.0.0.1: api::HttpServer as
// a sink (plain and TLS) and raw sockets that stall, reset or drop
// connections.
#include "api/http_sender.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/http_server.h"
#include "gtest/gtest.h"
#include "scrape/http_client.h"
#include "tests/http_test_util.h"

namespace vigil {
namespace {

using alerting::HttpPost;
using alerting::HttpReply;
using test::RawListener;
using test::RawRequest;

// What a sink saw of the requests it got.
struct Seen {
  absl::Mutex mu;
  std::vector<api::HttpRequest> requests ABSL_GUARDED_BY(mu);
  std::set<std::string> peers ABSL_GUARDED_BY(mu);  // One per connection.

  void Add(const api::HttpRequest& req) {
    absl::MutexLock lock(&mu);
    requests.push_back(req);
    peers.insert(req.remote_addr);
  }
  api::HttpRequest Last() {
    absl::MutexLock lock(&mu);
    return requests.empty() ? api::HttpRequest{} : requests.back();
  }
  size_t Connections() {
    absl::MutexLock lock(&mu);
    return peers.size();
  }
};

// api::HttpServer on 127.0.0.1 with the routes `routes` adds; HTTPS when
// `certs` is given.
std::unique_ptr<api::HttpServer> StartSink(const std::function<void(api::HttpServer*)>& routes,
                                           const test::CertFiles* certs = nullptr) {
  api::HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.worker_threads = 2;
  if (certs != nullptr) {
    o.tls_cert_file = certs->cert;
    o.tls_key_file = certs->key;
  }
  auto s = std::make_unique<api::HttpServer>(o);
  routes(s.get());
  const absl::Status st = s->Start();
  EXPECT_TRUE(st.ok()) << st;
  return s;
}

HttpPost Post(std::string url, std::string body = "{}") {
  HttpPost p;
  p.url = std::move(url);
  p.body = std::move(body);
  p.timeout = absl::Seconds(10);
  return p;
}

std::string At(const api::HttpServer& s, absl::string_view path) {
  return absl::StrCat("http://127.0.0.1:", s.port(), path);
}

std::string Ok(absl::string_view body) {
  return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
}

TEST(HttpSenderTest, BodyContentTypeAndHeadersArrive) {
  Seen seen;
  auto sink = StartSink([&](api::HttpServer* s) {
    s->Handle("POST", "/hook", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      seen.Add(req);
      r->content_type = "application/json";
      r->body = R"({"ok":true})";
    });
  });
  api::HttpSender sender;
  HttpPost p = Post(At(*sink, "/hook?x=1"), R"({"alerts":[{"labels":{"a":"b"}}]})");
  p.content_type = "application/vnd.test+json";
  p.headers = {{"X-Custom", "yes"}, {"User-Agent", "Prometheus/2.42.0"}};
  absl::StatusOr<HttpReply> r = sender.Post(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"ok":true})");
  EXPECT_EQ(r->Header("content-type"), "application/json");
  const api::HttpRequest got = seen.Last();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hook?x=1");
  EXPECT_EQ(got.body, p.body);
  EXPECT_EQ(got.Header("content-type"), "application/vnd.test+json");
  EXPECT_EQ(got.Header("content-length"), absl::StrCat(p.body.size()));
  EXPECT_EQ(got.Header("x-custom"), "yes");
  EXPECT_EQ(got.Header("user-agent"), "Prometheus/2.42.0");
  EXPECT_EQ(got.Header("accept-encoding"), "");  // Reply bodies stay as sent.
}

TEST(HttpSenderTest, EmptyBodySendsContentLengthZero) {
  Seen seen;
  auto sink = StartSink([&](api::HttpServer* s) {
    s->Handle("POST", "/", [&](const api::HttpRequest& req, api::HttpResponse*) { seen.Add(req); });
  });
  api::HttpSender sender;
  absl::StatusOr<HttpReply> r = sender.Post(Post(At(*sink, "/"), ""));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(seen.Last().Header("content-length"), "0");
}

TEST(HttpSenderTest, ErrorStatusesAreRepliesWithBodyAndHeaders) {
  auto sink = StartSink([](api::HttpServer* s) {
    s->Handle("POST", "/500", [](const api::HttpRequest&, api::HttpResponse* r) {
      r->SetError(500, "database on fire");
    });
    s->Handle("POST", "/429", [](const api::HttpRequest&, api::HttpResponse* r) {
      r->status = 429;
      r->headers.emplace_back("Retry-After", "7");
      r->body = "slow down";
    });
    s->Handle("POST", "/400", [](const api::HttpRequest&, api::HttpResponse* r) {
      r->SetError(400, "invalid routing key");
    });
  });
  api::HttpSender sender;
  absl::StatusOr<HttpReply> r = sender.Post(Post(At(*sink, "/500")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "database on fire\n");

  r = sender.Post(Post(At(*sink, "/429")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->body, "slow down");
  EXPECT_EQ(r->Header("retry-after"), "7");

  r = sender.Post(Post(At(*sink, "/400")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "invalid routing key\n");
  EXPECT_EQ(r->Header("retry-after"), "");
}

std::string Pattern(size_t n) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

TEST(HttpSenderTest, ReplyBodyIsKeptUpTo64KiB) {
  const size_t limit = api::HttpSender::kMaxReplyBody;
  auto sink = StartSink([&](api::HttpServer* s) {
    s->Handle("POST", "/exact", [&](const api::HttpRequest&, api::HttpResponse* r) {
      r->body = Pattern(limit);
    });
    s->Handle("POST", "/big", [&](const api::HttpRequest&, api::HttpResponse* r) {
      r->status = 500;
      r->body = Pattern(limit * 4);
    });
  });
  api::HttpSender sender;
  absl::StatusOr<HttpReply> r = sender.Post(Post(At(*sink, "/exact")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, Pattern(limit));

  r = sender.Post(Post(At(*sink, "/big")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.size(), limit);
  EXPECT_EQ(r->body, Pattern(limit));
  // The connection left with an unread body is not reused.
  r = sender.Post(Post(At(*sink, "/exact")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, Pattern(limit));
}

TEST(HttpSenderTest, KeepsConnectionsAlive) {
  Seen seen;
  auto sink = StartSink([&](api::HttpServer* s) {
    s->Handle("POST", "/", [&](const api::HttpRequest& req, api::HttpResponse*) { seen.Add(req); });
  });
  api::HttpSender sender;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<HttpReply> r = sender.Post(Post(At(*sink, "/")));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(seen.Connections(), 1u);
}

TEST(HttpSenderTest, AuthFromHttpConfig) {
  Seen seen;
  auto sink = StartSink([&](api::HttpServer* s) {
    s->Handle("POST", "/", [&](const api::HttpRequest& req, api::HttpResponse*) { seen.Add(req); });
  });
  api::HttpSender sender;
  HttpPost p = Post(At(*sink, "/"));
  p.http.basic_auth.emplace();
  p.http.basic_auth->username = "am";
  p.http.basic_auth->password = "secret";
  ASSERT_TRUE(sender.Post(p).ok());
  EXPECT_EQ(seen.Last().Header("authorization"), "Basic YW06c2VjcmV0");

  p.http.basic_auth.reset();
  p.http.authorization.emplace();
  p.http.authorization->credentials = "tok";
  ASSERT_TRUE(sender.Post(p).ok());
  EXPECT_EQ(seen.Last().Header("authorization"), "Bearer tok");
}

TEST(HttpSenderTest, Redirect307RepeatsThePost303TurnsItIntoAGet) {
  Seen seen;
  auto sink = StartSink([&](api::HttpServer* s) {
    s->Handle("", "/307", [](const api::HttpRequest&, api::HttpResponse* r) {
      r->status = 307;
      r->headers.emplace_back("Location", "/target");
    });
    s->Handle("", "/303", [](const api::HttpRequest&, api::HttpResponse* r) {
      r->status = 303;
      r->headers.emplace_back("Location", "/target");
    });
    s->Handle("", "/target", [&](const api::HttpRequest& req, api::HttpResponse* r) {
      seen.Add(req);
      r->body = req.method;
    });
  });
  api::HttpSender sender;
  HttpPost p = Post(At(*sink, "/307"), "payload");
  p.content_type = "text/plain";
  absl::StatusOr<HttpReply> r = sender.Post(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "POST");
  EXPECT_EQ(seen.Last().body, "payload");
  EXPECT_EQ(seen.Last().Header("content-type"), "text/plain");

  p.url = At(*sink, "/303");
  r = sender.Post(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "GET");
  EXPECT_EQ(seen.Last().body, "");
  EXPECT_EQ(seen.Last().Header("content-length"), "");
  EXPECT_EQ(seen.Last().Header("content-type"), "");

  p.url = At(*sink, "/303");
  p.http.follow_redirects = false;
  r = sender.Post(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(r->Header("location"), "/target");
}

// A port with a bound socket that does not listen: connecting is refused.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(HttpSenderTest, ConnectionRefusedIsUnavailable) {
  RefusingPort port;
  api::HttpSender sender;
  const std::string url = absl::StrCat("http://127.0.0.1:", port.port(), "/hook");
  absl::StatusOr<HttpReply> r = sender.Post(Post(url));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(absl::StartsWith(r.status().message(), absl::StrCat("Post \"", url, "\": ")))
      << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "connection refused")) << r.status();
}

TEST(HttpSenderTest, SilentServerTimesOut) {
  RawListener silent([](int, int fd) {
    char buf[4096];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
  });
  api::HttpSender sender;
  HttpPost p = Post(silent.Url("/hook"));
  p.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpReply> r = sender.Post(p);
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(HttpSenderTest, ResetAfterTheRequestIsUnavailable) {
  RawListener resetting([](int, int fd) {
    std::string pending;
    RawRequest req;
    if (!test::ReadRawRequest(fd, &pending, &req)) return;
    test::ResetOnClose(fd);
  });
  api::HttpSender sender;
  absl::StatusOr<HttpReply> r = sender.Post(Post(resetting.Url("/hook")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(resetting.accepted(), 1);  // Not sent again.
}

TEST(HttpSenderTest, ResetInTheMiddleOfTheReplyIsAnError) {
  RawListener resetting([](int, int fd) {
    std::string pending;
    RawRequest req;
    if (!test::ReadRawRequest(fd, &pending, &req)) return;
    test::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
    test::ResetOnClose(fd);
  });
  api::HttpSender sender;
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpReply> r = sender.Post(Post(resetting.Url("/hook")));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == absl::StatusCode::kUnavailable ||
              r.status().code() == absl::StatusCode::kDataLoss)
      << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// A keep-alive server whose first connection answers its first request,
// then reads the second one whole and closes without a word: the race of
// a server closing an idle connection just as a request arrives.
std::unique_ptr<RawListener> DropsSecondRequest(absl::Mutex* mu, int* requests) {
  return std::make_unique<RawListener>([mu, requests](int conn, int fd) {
    std::string pending;
    RawRequest req;
    for (int n = 0; test::ReadRawRequest(fd, &pending, &req); ++n) {
      {
        absl::MutexLock lock(mu);
        ++*requests;
      }
      if (conn == 0 && n == 1) return;
      test::WriteAll(fd, Ok(absl::StrCat("conn ", conn)));
    }
  });
}

TEST(HttpSenderTest, PostThatReachedTheServerIsNotResent) {
  absl::Mutex mu;
  int requests = 0;
  auto server = DropsSecondRequest(&mu, &requests);
  api::HttpSender sender;
  absl::StatusOr<HttpReply> r = sender.Post(Post(server->Url("/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "conn 0");
  r = sender.Post(Post(server->Url("/")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(server->accepted(), 1);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(requests, 2);
}

TEST(HttpSenderTest, PostWithAnIdempotencyKeyIsResent) {
  absl::Mutex mu;
  int requests = 0;
  auto server = DropsSecondRequest(&mu, &requests);
  api::HttpSender sender;
  HttpPost p = Post(server->Url("/"));
  p.headers.emplace_back("Idempotency-Key", "abc");
  ASSERT_TRUE(sender.Post(p).ok());
  absl::StatusOr<HttpReply> r = sender.Post(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "conn 1");
  EXPECT_EQ(server->accepted(), 2);
}

TEST(HttpSenderTest, BadUrlIsInvalidArgument) {
  api::HttpSender sender;
  absl::StatusOr<HttpReply> r = sender.Post(Post("ftp://127.0.0.1/x"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "Post ")) << r.status();
}

// GETs, as scrapes send them, stay without body or Content-Length.
TEST(HttpClientMethodTest, GetHasNoBodyAndDefaultsStayAsTheyWere) {
  absl::Mutex mu;
  std::vector<RawRequest> got;
  RawListener server([&](int, int fd) {
    std::string pending;
    RawRequest req;
    while (test::ReadRawRequest(fd, &pending, &req)) {
      {
        absl::MutexLock lock(&mu);
        got.push_back(req);
      }
      test::WriteAll(fd, Ok("x 1\n"));
    }
  });
  scrape::HttpClient client(1);
  scrape::HttpClient::Request req;
  req.url = server.Url("/metrics");
  absl::StatusOr<scrape::HttpClient::Response> r = client.GetSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Header("content-length"), "4");
  req.method = "PUT";
  req.body = "abc";
  req.content_type = "text/plain";
  r = client.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.status();
  req.method = "BAD METHOD";
  EXPECT_EQ(client.DoSync(req).status().code(), absl::StatusCode::kInvalidArgument);

  absl::MutexLock lock(&mu);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(got[0].head, "GET /metrics HTTP/1.1\r\n")) << got[0].head;
  const std::string head0 = absl::AsciiStrToLower(got[0].head);
  EXPECT_FALSE(absl::StrContains(head0, "content-length")) << got[0].head;
  EXPECT_FALSE(absl::StrContains(head0, "content-type")) << got[0].head;
  EXPECT_TRUE(absl::StrContains(got[0].head, "Accept-Encoding: gzip")) << got[0].head;
  EXPECT_TRUE(absl::StartsWith(got[1].head, "PUT /metrics HTTP/1.1\r\n")) << got[1].head;
  EXPECT_TRUE(absl::StrContains(got[1].head, "Content-Length: 3\r\n")) << got[1].head;
  EXPECT_TRUE(absl::StrContains(got[1].head, "Content-Type: text/plain\r\n")) << got[1].head;
  EXPECT_EQ(got[1].body, "abc");
}

class HttpSenderTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::MakeServerCert(dir_.path(), &certs_))
        << "openssl failed, see " << dir_.path() << "/openssl.log";
    sink_ = StartSink(
        [this](api::HttpServer* s) {
          s->Handle("POST", "/hook", [this](const api::HttpRequest& req, api::HttpResponse* r) {
            seen_.Add(req);
            r->body = "delivered";
          });
        },
        &certs_);
  }
  HttpPost SecurePost() const {
    return Post(absl::StrCat("https://127.0.0.1:", sink_->port(), "/hook"), "secret");
  }

  test::ScratchDir dir_;
  test::CertFiles certs_;
  Seen seen_;
  std::unique_ptr<api::HttpServer> sink_;
  api::HttpSender sender_;
};

TEST_F(HttpSenderTlsTest, VerifiedWithTheCaFile) {
  HttpPost p = SecurePost();
  p.http.tls.ca_file = certs_.ca;
  absl::StatusOr<HttpReply> r = sender_.Post(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "delivered");
  EXPECT_EQ(seen_.Last().body, "secret");
}

TEST_F(HttpSenderTlsTest, FailsVerificationWithoutTheCa) {
  absl::StatusOr<HttpReply> r = sender_.Post(SecurePost());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "certificate")) << r.status();
  EXPECT_EQ(seen_.Connections(), 0u);
}

TEST_F(HttpSenderTlsTest, FailsOnANameTheCertificateLacks) {
  HttpPost p = SecurePost();
  p.http.tls.ca_file = certs_.ca;
  p.http.tls.server_name = "alertmanager.example";
  absl::StatusOr<HttpReply> r = sender_.Post(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST_F(HttpSenderTlsTest, InsecureSkipVerify) {
  HttpPost p = SecurePost();
  p.http.tls.insecure_skip_verify = true;
  absl::StatusOr<HttpReply> r = sender_.Post(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "delivered");
}

TEST_F(HttpSenderTlsTest, UnreadableCaFileIsInvalidArgument) {
  HttpPost p = SecurePost();
  p.http.tls.ca_file = dir_.path() + "/missing.crt";
  absl::StatusOr<HttpReply> r = sender_.Post(p);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

}  // namespace
}  // namespace vigil
