// Helpers for tests of HTTP clients on 127.0.0.1: a scratch directory, a
// CA-signed server certificate made by the openssl CLI, and a raw TCP
// listener whose connections a test serves by hand (to misbehave on
// purpose).
#ifndef VIGIL_TESTS_HTTP_TEST_UTIL_H_
#define VIGIL_TESTS_HTTP_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/file.h"

namespace vigil::test {

// A fresh directory under /tmp, removed with everything in it at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = "/tmp/vigil_http_test.XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CertFiles {
  std::string ca;    // The CA certificate (PEM) to trust.
  std::string cert;  // The server certificate for 127.0.0.1 and localhost.
  std::string key;   // Its private key.
};

// Makes a CA and a server certificate it signed, valid for IP 127.0.0.1 and
// DNS localhost, in `dir`. False when openssl fails (its output is in
// dir/openssl.log).
inline bool MakeServerCert(const std::string& dir, CertFiles* out) {
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script = absl::StrCat(
      "cd '", dir, "' && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.cnf",
      " && openssl req -x509 ", ec, " -keyout ca.key -out ca.crt -days 2 -subj /CN=vigil-ca",
      " && openssl req ", ec, " -keyout srv.key -out srv.csr -subj /CN=localhost",
      " && openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial",
      " -days 2 -extfile san.cnf -out srv.crt");
  const std::string cmd = absl::StrCat("(", script, ") >'", dir, "/openssl.log' 2>&1");
  if (std::system(cmd.c_str()) != 0) return false;
  *out = CertFiles{dir + "/ca.crt", dir + "/srv.crt", dir + "/srv.key"};
  return true;
}

// One HTTP/1.1 request as a raw server reads it.
struct RawRequest {
  std::string head;  // Request line and headers, up to the blank line.
  std::string body;  // Content-Length bytes.
};

// Reads the next request from `fd`, keeping bytes past it in `*pending`.
// False when the peer closed (or the socket failed) first.
inline bool ReadRawRequest(int fd, std::string* pending, RawRequest* out) {
  char buf[4096];
  size_t head_end;
  while ((head_end = pending->find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    pending->append(buf, static_cast<size_t>(n));
  }
  out->head = pending->substr(0, head_end + 2);
  size_t length = 0;
  for (absl::string_view line : absl::StrSplit(out->head, "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, "content-length:")) {
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &length);
    }
  }
  pending->erase(0, head_end + 4);
  while (pending->size() < length) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    pending->append(buf, static_cast<size_t>(n));
  }
  out->body = pending->substr(0, length);
  pending->erase(0, length);
  return true;
}

inline void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Makes the coming close() of `fd` send a TCP reset instead of a FIN.
inline void ResetOnClose(int fd) {
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

// A TCP listener on 127.0.0.1 (a free port). Connection number i (from 0)
// is served by `serve(i, fd)` on a thread of its own, and closed when
// `serve` returns (call ResetOnClose first for a reset). Destruction wakes
// serve functions blocked in read (their reads return 0) and joins them.
class RawListener {
 public:
  using Serve = std::function<void(int conn, int fd)>;

  explicit RawListener(Serve serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~RawListener() {
    ::shutdown(fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    {
      absl::MutexLock lock(&mu_);
      for (int c : open_) ::shutdown(c, SHUT_RDWR);
    }
    for (std::thread& t : threads_) t.join();
    ::close(fd_);
  }
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;

  int port() const { return port_; }  // 0 when the socket could not listen.
  int accepted() {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

 private:
  void Accept() {
    while (true) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      absl::MutexLock lock(&mu_);
      open_.insert(c);
      threads_.emplace_back([this, c, n = accepted_++] {
        serve_(n, c);
        absl::MutexLock l(&mu_);
        open_.erase(c);
        ::close(c);
      });
    }
  }

  const Serve serve_;
  int fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  absl::Mutex mu_;
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<int> open_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;  // Touched by the acceptor, then the destructor.
};

}  // namespace vigil::test

#endif  // VIGIL_TESTS_HTTP_TEST_UTIL_H_
