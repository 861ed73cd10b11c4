// A minimal blocking HTTP/1.1 client over a loopback TCP socket, for tests
// of the server: it sends exactly the bytes it is given, so tests can also
// send malformed, partial, pipelined or slow requests.
// Not for production use; header-only.
#ifndef VIGIL_API_HTTP_TEST_CLIENT_H_
#define VIGIL_API_HTTP_TEST_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vigil::api::testing {

struct TestResponse {
  int status = 0;  // 0: no response (connection closed or timed out).
  std::map<std::string, std::string> headers;  // Lowercased names.
  std::string body;
  int chunks = 0;  // Of a chunked body.
};

class TestConnection {
 public:
  explicit TestConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
    }
    int one = 1;
    if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~TestConnection() {
    if (fd_ >= 0) close(fd_);
  }
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  bool ok() const { return fd_ >= 0; }

  bool Send(absl::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length, chunked or no body), waiting up to
  // `timeout`. A chunked body is decoded; r.chunks counts its chunks.
  TestResponse Read(absl::Duration timeout = absl::Seconds(10)) {
    TestResponse r;
    absl::Time deadline = absl::Now() + timeout;
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return r;
    }
    std::vector<absl::string_view> lines =
        absl::StrSplit(absl::string_view(buf_).substr(0, header_end), "\r\n");
    std::vector<absl::string_view> status = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
    if (status.size() < 2 || !absl::SimpleAtoi(status[1], &r.status)) return TestResponse{};
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == absl::string_view::npos) continue;
      r.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    if (auto te = r.headers.find("transfer-encoding");
        te != r.headers.end() && te->second == "chunked") {
      size_t at = header_end + 4;
      for (;;) {
        size_t eol;
        while ((eol = buf_.find("\r\n", at)) == std::string::npos) {
          if (!Fill(deadline)) return TestResponse{};
        }
        size_t n = 0;
        if (!absl::SimpleHexAtoi(absl::string_view(buf_).substr(at, eol - at), &n)) {
          return TestResponse{};
        }
        while (buf_.size() < eol + 2 + n + 2) {
          if (!Fill(deadline)) return TestResponse{};
        }
        r.body.append(buf_, eol + 2, n);
        at = eol + 2 + n + 2;
        if (n == 0) break;
        ++r.chunks;
      }
      buf_.erase(0, at);
      return r;
    }
    size_t len = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
      (void)absl::SimpleAtoi(it->second, &len);
    }
    while (buf_.size() < header_end + 4 + len) {
      if (!Fill(deadline)) return TestResponse{};
    }
    r.body = buf_.substr(header_end + 4, len);
    buf_.erase(0, header_end + 4 + len);
    return r;
  }

  // Whether the server closed the connection within `timeout`.
  bool WaitClosed(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (!Fill(deadline)) return closed_;
    }
    return closed_;
  }

 private:
  bool Fill(absl::Time deadline) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{fd_, POLLIN, 0};
    int ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    if (poll(&p, 1, ms) <= 0) return false;
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string buf_;
};

// "METHOD path HTTP/1.1" with Host, the given extra header lines ("K: v"),
// Content-Length and `body`.
inline std::string BuildRequest(absl::string_view method, absl::string_view path,
                                absl::string_view body = "",
                                std::initializer_list<absl::string_view> headers = {}) {
  std::string r = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (absl::string_view h : headers) absl::StrAppend(&r, h, "\r\n");
  absl::StrAppend(&r, "Content-Length: ", body.size(), "\r\n\r\n", body);
  return r;
}

// One request on a fresh connection.
inline TestResponse Fetch(int port, absl::string_view method, absl::string_view path,
                          absl::string_view body = "",
                          std::initializer_list<absl::string_view> headers = {}) {
  TestConnection c(port);
  if (!c.ok() || !c.Send(BuildRequest(method, path, body, headers))) return TestResponse{};
  return c.Read();
}

}  // namespace vigil::api::testing

#endif  // VIGIL_API_HTTP_TEST_CLIENT_H_
