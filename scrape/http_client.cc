// The only translation unit in scrape/ that includes Boost.Beast and Asio.
//
// Each request is one Call: a heap object that owns its resolver, deadline
// timer, parser and buffers, and runs every step on its own strand. It
// borrows a Connection (plain or TLS socket) from the ConnectionPool or
// opens one, and gives it back when the response was read whole and both
// sides allow keep-alive. Whatever finishes first (the response, an error,
// the deadline timer or the client's destructor) calls Finish(), which
// closes a connection still held so that pending operations complete with
// an error their handlers ignore, and runs the callback once.
#include "scrape/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <limits>
#include <list>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "base/file.h"
#include "base/logging.h"

namespace vigil::scrape {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

namespace {

#ifdef VIGIL_VERSION
constexpr char kUserAgent[] = "Vigil/" VIGIL_VERSION;
#else
constexpr char kUserAgent[] = "Vigil/0.1.0";
#endif

// As Go's http.Client: the 11th redirect fails the request.
constexpr int kMaxRedirects = 10;
// Response header block limit (Go's transport allows 10 MB; exporters send
// a few hundred bytes).
constexpr uint32_t kMaxHeaderBytes = 1 << 20;
// Deadlines longer than this are treated as none (and never overflow the
// clock).
constexpr absl::Duration kNoDeadline = absl::Hours(24 * 365);
// gzip wrapper on top of the largest zlib window.
constexpr int kGzipWindowBits = 16 + MAX_WBITS;
// Beast reads at most the read buffer's free capacity (512 bytes when it
// is empty); a reserved buffer makes large bodies arrive in few reads.
constexpr size_t kReadBufferBytes = 32 << 10;
// Cached TLS contexts; past it the cache starts over.
constexpr size_t kMaxTlsContexts = 1024;

constexpr char kBodySizeLimitExceeded[] = "body size limit exceeded";

// The OS error text in Go's style: "connection refused", not "Connection
// refused".
std::string OsMessage(const ErrorCode& ec) {
  std::string m = ec.message();
  if (!m.empty()) m[0] = absl::ascii_tolower(static_cast<unsigned char>(m[0]));
  return m;
}

// ---------------------------------------------------------------------------
// URLs

struct Url {
  bool tls = false;
  std::string scheme;     // "http" or "https".
  std::string host;       // Without IPv6 brackets.
  std::string port;       // Numeric.
  std::string authority;  // host[:port] as written (no userinfo): the Host header.
  std::string target;     // Path and query; "/" when the URL has no path.
  std::optional<std::pair<std::string, std::string>> userinfo;
  std::string redacted;  // The URL for messages, its password masked.
};

bool IsSchemeChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

// The length of a leading "scheme:", or 0.
size_t SchemeLength(absl::string_view s) {
  if (s.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(s[0]))) return 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == ':') return i + 1;
    if (!IsSchemeChar(s[i])) return 0;
  }
  return 0;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes decoded; a malformed escape is kept as written.
std::string PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// `op` starts messages as Go's url.Error does ("Get", "Post").
absl::StatusOr<Url> ParseUrl(absl::string_view raw, absl::string_view op) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("parse \"", raw, "\": ", why));
  };
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad("invalid character in URL");
  }
  const size_t scheme_len = SchemeLength(raw);
  if (scheme_len == 0) return bad("missing protocol scheme");
  Url url;
  url.scheme = absl::AsciiStrToLower(raw.substr(0, scheme_len - 1));
  if (url.scheme == "https") {
    url.tls = true;
  } else if (url.scheme != "http") {
    return absl::InvalidArgumentError(
        absl::StrCat(op, " \"", raw, "\": unsupported protocol scheme \"", url.scheme, "\""));
  }
  absl::string_view rest = raw.substr(scheme_len);
  if (!absl::ConsumePrefix(&rest, "//")) return bad("missing \"//\" after the scheme");
  rest = rest.substr(0, rest.find('#'));
  const size_t auth_end = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, auth_end);
  absl::string_view target = auth_end == absl::string_view::npos ? "" : rest.substr(auth_end);

  std::string redacted_userinfo;
  const size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    absl::string_view info = authority.substr(0, at);
    const size_t colon = info.find(':');
    url.userinfo.emplace(
        PercentDecode(info.substr(0, colon)),
        colon == absl::string_view::npos ? "" : PercentDecode(info.substr(colon + 1)));
    redacted_userinfo = colon == absl::string_view::npos
                            ? absl::StrCat(info, "@")
                            : absl::StrCat(info.substr(0, colon), ":xxxxx@");
    authority = authority.substr(at + 1);
  }
  absl::string_view host = authority, port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return bad("missing ']' in host");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("invalid character after IPv6 host");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, " \"", raw, "\": http: no Host in request URL"));
  }
  int port_num = 0;
  if (port.empty()) {
    port_num = url.tls ? 443 : 80;
  } else if (!absl::SimpleAtoi(port, &port_num) || port_num <= 0 || port_num > 65535 ||
             !absl::ascii_isdigit(static_cast<unsigned char>(port[0]))) {
    return bad(absl::StrCat("invalid port \":", port, "\" after host"));
  }
  url.host = std::string(host);
  url.port = absl::StrCat(port_num);
  url.authority = std::string(authority);
  url.target = target.empty()                  ? "/"
               : absl::StartsWith(target, "?") ? absl::StrCat("/", target)
                                               : std::string(target);
  url.redacted = absl::StrCat(url.scheme, "://", redacted_userinfo, authority, target);
  return url;
}

// RFC 3986 section 5.2.4 on a path without query.
std::string RemoveDotSegments(absl::string_view path) {
  std::vector<absl::string_view> out;
  size_t pos = 0;
  const bool absolute = absl::StartsWith(path, "/");
  if (absolute) pos = 1;
  bool trailing_slash = false;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == absl::string_view::npos) end = path.size();
    absl::string_view seg = path.substr(pos, end - pos);
    const bool last = end == path.size();
    trailing_slash = false;
    if (seg == ".") {
      trailing_slash = last;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else {
      out.push_back(seg);
    }
    pos = end + 1;
  }
  std::string result = absolute ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    absl::StrAppend(&result, out[i]);
  }
  if (trailing_slash && !absl::EndsWith(result, "/")) result += '/';
  return result;
}

// Resolves a Location header against the URL it came from.
std::string ResolveReference(const Url& base, absl::string_view ref) {
  ref = ref.substr(0, ref.find('#'));
  if (SchemeLength(ref) > 0) return std::string(ref);
  if (absl::StartsWith(ref, "//")) return absl::StrCat(base.scheme, ":", ref);
  const std::string origin = absl::StrCat(base.scheme, "://", base.authority);
  absl::string_view base_path = base.target;
  base_path = base_path.substr(0, base_path.find('?'));
  if (ref.empty()) return absl::StrCat(origin, base.target);
  if (absl::StartsWith(ref, "?")) return absl::StrCat(origin, base_path, ref);
  const size_t q = ref.find('?');
  absl::string_view ref_path = ref.substr(0, q);
  absl::string_view query = q == absl::string_view::npos ? "" : ref.substr(q);
  std::string merged;
  if (absl::StartsWith(ref_path, "/")) {
    merged = std::string(ref_path);
  } else {
    merged = absl::StrCat(base_path.substr(0, base_path.rfind('/') + 1), ref_path);
  }
  return absl::StrCat(origin, RemoveDotSegments(merged), query);
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// An RFC 9110 token: what a method name may be made of.
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) continue;
    if (absl::string_view("!#$%&'*+-.^_`|~").find(c) == absl::string_view::npos) return false;
  }
  return true;
}

// Go's urlErrorOp: "POST" -> "Post".
std::string ErrorOp(absl::string_view method) {
  if (method.empty()) return "Get";
  std::string op = absl::AsciiStrToLower(method);
  op[0] = absl::ascii_toupper(static_cast<unsigned char>(op[0]));
  return op;
}

// Methods whose requests may be sent twice (Go's isReplayable without its
// body condition: a body here is a string, always rewindable).
bool IsIdempotentMethod(absl::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

// ---------------------------------------------------------------------------
// gzip

// Inflates a gzip stream (members may follow one another, as Go's reader
// accepts). A `limit` > 0 fails the inflation once the output reaches
// `limit` bytes, as Prometheus treats a body of exactly the limit as too
// large.
absl::StatusOr<std::string> Gunzip(absl::string_view in, int64_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) {
    return absl::InternalError("gzip: inflateInit2 failed");
  }
  const size_t cap = limit > 0 ? static_cast<size_t>(limit) : std::numeric_limits<size_t>::max();
  std::string out;
  // Text expositions compress about 5-10x; start near the likely size.
  out.resize(std::min(cap, std::max<size_t>(in.size() * 4, 4096)));
  size_t produced = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  absl::Status status;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= cap) {
        status = absl::ResourceExhaustedError(kBodySizeLimitExceeded);
        break;
      }
      out.resize(std::min(cap, out.size() * 2));
    }
    const size_t room = std::min<size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // Another gzip member follows.
      continue;
    }
    if (rc == Z_DATA_ERROR && zs.total_out == 0 && zs.msg != nullptr &&
        absl::string_view(zs.msg) == "incorrect header check") {
      status = absl::DataLossError("gzip: invalid header");
      break;
    }
    if (rc == Z_DATA_ERROR) {
      status = absl::DataLossError(
          absl::StrCat("gzip: corrupt stream: ", zs.msg != nullptr ? zs.msg : "invalid data"));
      break;
    }
    if (rc == Z_MEM_ERROR) {
      status = absl::ResourceExhaustedError("gzip: out of memory");
      break;
    }
    // Z_OK or Z_BUF_ERROR: with no input left and room for output, the
    // stream ended early.
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      status = absl::DataLossError("gzip: unexpected EOF");
      break;
    }
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  if (limit > 0 && produced >= static_cast<size_t>(limit)) {
    return absl::ResourceExhaustedError(kBodySizeLimitExceeded);
  }
  out.resize(produced);
  return out;
}

bool IsGzipEncoding(absl::string_view v) {
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(v), "gzip");
}

// ---------------------------------------------------------------------------
// TLS

absl::StatusOr<int> TlsVersion(absl::string_view name) {
  // Go's client default minimum is TLS 1.2.
  if (name.empty() || name == "TLS12") return TLS1_2_VERSION;
  if (name == "TLS13") return TLS1_3_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS10") return TLS1_VERSION;
  return absl::InvalidArgumentError(absl::StrCat("unknown TLS version: ", name));
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path, absl::string_view what) {
  absl::StatusOr<std::string> data = ReadFile(path);
  if (!data.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unable to read ", what, " ", path, ": ", data.status().message()));
  }
  return data;
}

// TLS client contexts by configuration. Prometheus re-reads the CA file and
// client certificate when they change; here the files are read at every
// request and a context is rebuilt only when their contents differ from the
// cached one's, so that thousands of scrapes share one SSL_CTX (and one
// parsed CA bundle).
class TlsContextCache {
 public:
  absl::StatusOr<std::shared_ptr<asio::ssl::context>> Get(const config::TlsClientConfig& tls) {
    std::string ca, cert, key;
    if (!tls.ca_file.empty()) {
      absl::StatusOr<std::string> d = ReadConfigFile(tls.ca_file, "CA cert");
      if (!d.ok()) return d.status();
      ca = *std::move(d);
    }
    if (tls.cert_file.empty() != tls.key_file.empty()) {
      return absl::InvalidArgumentError(tls.cert_file.empty()
                                            ? absl::StrCat("client key file \"", tls.key_file,
                                                           "\" specified without client cert file")
                                            : absl::StrCat("client cert file \"", tls.cert_file,
                                                           "\" specified without client key file"));
    }
    if (!tls.cert_file.empty()) {
      absl::StatusOr<std::string> c = ReadConfigFile(tls.cert_file, "client cert file");
      if (!c.ok()) return c.status();
      absl::StatusOr<std::string> k = ReadConfigFile(tls.key_file, "client key file");
      if (!k.ok()) return k.status();
      cert = *std::move(c);
      key = *std::move(k);
    }
    const std::string cache_key =
        absl::StrCat(tls.ca_file, "\n", tls.cert_file, "\n", tls.key_file, "\n",
                     tls.insecure_skip_verify ? "1" : "0", "\n", tls.min_version);
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(cache_key);
      if (it != entries_.end() && it->second.ca == ca && it->second.cert == cert &&
          it->second.key == key) {
        return it->second.ctx;
      }
    }
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> ctx = Build(tls, ca, cert, key);
    if (!ctx.ok()) return ctx.status();
    absl::MutexLock lock(&mu_);
    if (entries_.size() >= kMaxTlsContexts) entries_.clear();
    entries_[cache_key] = Entry{std::move(ca), std::move(cert), std::move(key), *ctx};
    return ctx;
  }

 private:
  struct Entry {
    std::string ca, cert, key;
    std::shared_ptr<asio::ssl::context> ctx;
  };

  static absl::StatusOr<std::shared_ptr<asio::ssl::context>> Build(
      const config::TlsClientConfig& tls, const std::string& ca, const std::string& cert,
      const std::string& key) {
    absl::StatusOr<int> min_version = TlsVersion(tls.min_version);
    if (!min_version.ok()) return min_version.status();
    std::shared_ptr<asio::ssl::context> ctx;
    try {
      ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("creating TLS context: ", e.what()));
    }
    ErrorCode ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_compression,
                     ec);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), *min_version);
    if (tls.insecure_skip_verify) {
      ctx->set_verify_mode(asio::ssl::verify_none, ec);
    } else {
      ctx->set_verify_mode(asio::ssl::verify_peer, ec);
      if (tls.ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
        if (ec) return absl::InternalError(absl::StrCat("loading system CAs: ", ec.message()));
      } else {
        ctx->add_certificate_authority(asio::buffer(ca), ec);
        if (ec) {
          return absl::InvalidArgumentError(
              absl::StrCat("unable to use specified CA cert ", tls.ca_file, ": ", ec.message()));
        }
      }
    }
    if (!tls.cert_file.empty()) {
      ctx->use_certificate_chain(asio::buffer(cert), ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("unable to use client cert file ", tls.cert_file, ": ", ec.message()));
      }
      ctx->use_private_key(asio::buffer(key), asio::ssl::context::pem, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("unable to use client key file ", tls.key_file, ": ", ec.message()));
      }
    }
    return ctx;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// Connections

using Strand = asio::strand<asio::io_context::executor_type>;
using TlsStream = asio::ssl::stream<tcp::socket>;
using SteadyTime = std::chrono::steady_clock::time_point;

// One TCP connection, plain or TLS. A Call owns it while a request runs on
// it; between requests it may sit idle in the ConnectionPool, never both.
// Its sockets run on the I/O context's executor rather than a strand, so
// that it can move from Call to Call: the owner binds every handler to its
// own strand.
class Connection {
 public:
  // A TLS connection when `ssl_ctx` is set, else a plain one. `key` is the
  // pool key of the Call that opens it.
  Connection(asio::io_context& ioc, std::string key, std::shared_ptr<asio::ssl::context> ssl_ctx)
      : key_(std::move(key)), ssl_ctx_(std::move(ssl_ctx)) {
    if (ssl_ctx_ != nullptr) {
      tls_.emplace(ioc, *ssl_ctx_);
    } else {
      socket_.emplace(ioc);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& key() const { return key_; }
  bool is_tls() const { return tls_.has_value(); }
  // REQUIRES: is_tls().
  TlsStream& tls() { return *tls_; }
  tcp::socket& lowest() { return tls_.has_value() ? tls_->next_layer() : *socket_; }

  // Runs `fn` with the stream HTTP goes through.
  template <typename Fn>
  void WithStream(Fn&& fn) {
    if (tls_.has_value()) {
      fn(*tls_);
    } else {
      fn(*socket_);
    }
  }

  // Closes the socket: pending operations complete with an error.
  void Close() {
    ErrorCode ec;
    lowest().close(ec);
  }

  // Whether OpenSSL holds decrypted bytes nobody has read (more than the
  // response arrived): such a connection cannot carry another exchange.
  bool HasBufferedInput() { return tls_.has_value() && SSL_pending(tls_->native_handle()) > 0; }

 private:
  friend class ConnectionPool;

  const std::string key_;
  const std::shared_ptr<asio::ssl::context> ssl_ctx_;  // Outlives tls_.
  // Exactly one is set.
  std::optional<tcp::socket> socket_;
  std::optional<TlsStream> tls_;

  // Pool bookkeeping, guarded by the pool's mutex (not annotated: it is
  // another object's).
  bool idle_ = false;
  // Bumped whenever the connection enters or leaves the pool, so that a
  // late handler of an earlier idle spell is recognised and ignored.
  uint64_t idle_epoch_ = 0;
  SteadyTime idle_since_;
  std::list<std::shared_ptr<Connection>>::iterator lru_pos_;
  char probe_byte_ = 0;
};

struct PoolLimits {
  size_t max_idle_per_key = 0;
  size_t max_idle = 0;
  absl::Duration idle_timeout;
};

// Idle keep-alive connections by key (scheme, host, port and, for TLS, the
// TLS context and server name), kept as Go's http.Transport keeps them: at
// most max_idle_per_key per key (a connection coming back to a full key is
// closed) and max_idle in all (the one idle longest is closed to make
// room). An idle connection is closed after idle_timeout, and as soon as
// the server closes it or sends anything: each has a pending MSG_PEEK read
// while idle, which must not complete.
//
// Thread-safe: Calls on any network thread take and return connections,
// and the pool's own handlers (the idle reads, the expiry timer) take mu_
// too. Every use of an idle connection's socket and of the timer happens
// under mu_.
class ConnectionPool {
 public:
  ConnectionPool(asio::io_context& ioc, PoolLimits limits) : limits_(limits), timer_(ioc) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // The most recently returned idle connection for `key`, now owned by the
  // caller, or null. The connection may still turn out closed by the server
  // (it may be closing it right now): the caller retries on a new one.
  std::shared_ptr<Connection> Take(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_) {
    const SteadyTime now = std::chrono::steady_clock::now();
    absl::MutexLock lock(&mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return nullptr;
    std::vector<std::shared_ptr<Connection>>& idle = it->second;
    std::shared_ptr<Connection> found;
    while (found == nullptr && !idle.empty()) {
      std::shared_ptr<Connection> c = std::move(idle.back());
      idle.pop_back();
      Unlink(*c);
      if (Expired(*c, now)) {
        c->Close();
        continue;
      }
      // Stops the idle read; its handler then finds the epoch changed.
      ErrorCode ignored;
      c->lowest().cancel(ignored);
      found = std::move(c);
    }
    if (idle.empty()) by_key_.erase(it);
    return found;
  }

  // Keeps `conn` idle for a later Take, or closes it when the pool is
  // closed or its key is full.
  // REQUIRES: the last exchange on `conn` is complete (no operation
  // pending, no unread bytes) and both sides allow keep-alive.
  void Put(std::shared_ptr<Connection> conn) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (closed_ || limits_.max_idle == 0 || limits_.max_idle_per_key == 0) return conn->Close();
    auto it = by_key_.find(conn->key());
    if (it != by_key_.end() && it->second.size() >= limits_.max_idle_per_key) return conn->Close();
    if (lru_.size() >= limits_.max_idle) Evict(lru_.front());
    Connection& c = *conn;
    c.idle_ = true;
    ++c.idle_epoch_;
    c.idle_since_ = std::chrono::steady_clock::now();
    c.lru_pos_ = lru_.insert(lru_.end(), conn);
    // An idle connection must stay silent: a FIN, a reset or unsolicited
    // bytes complete this peek (at once if they already arrived), and its
    // handler closes the connection. Started under mu_, so that no Take
    // can hand the socket out while the operation starts.
    c.lowest().async_receive(asio::buffer(&c.probe_byte_, 1), tcp::socket::message_peek,
                             [this, conn, epoch = c.idle_epoch_](const ErrorCode&, size_t) {
                               OnIdleReadable(conn, epoch);
                             });
    by_key_[c.key()].push_back(std::move(conn));
    ArmTimer();
  }

  // Closes every idle connection; later Puts close theirs.
  void CloseAll() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    for (const std::shared_ptr<Connection>& c : lru_) {
      c->idle_ = false;
      ++c->idle_epoch_;
      c->Close();
    }
    lru_.clear();
    by_key_.clear();
    timer_.cancel();
  }

  int64_t idle() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(lru_.size());
  }

 private:
  bool Expired(const Connection& c, SteadyTime now) const {
    return limits_.idle_timeout < kNoDeadline &&
           now - c.idle_since_ >= absl::ToChronoNanoseconds(limits_.idle_timeout);
  }

  // Takes `c` off the LRU list (not off by_key_).
  void Unlink(Connection& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    c.idle_ = false;
    ++c.idle_epoch_;
    lru_.erase(c.lru_pos_);
  }

  // Closes the idle connection `conn` and forgets it.
  void Evict(std::shared_ptr<Connection> conn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Unlink(*conn);
    auto it = by_key_.find(conn->key());
    if (it != by_key_.end()) {
      std::vector<std::shared_ptr<Connection>>& idle = it->second;
      idle.erase(std::remove(idle.begin(), idle.end(), conn), idle.end());
      if (idle.empty()) by_key_.erase(it);
    }
    conn->Close();
  }

  void OnIdleReadable(const std::shared_ptr<Connection>& conn, uint64_t epoch)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (!conn->idle_ || conn->idle_epoch_ != epoch) return;  // Taken since.
    Evict(conn);
  }

  // Runs the timer to the expiry of the connection idle longest, unless
  // it already runs (to an earlier time: later Puts expire later).
  void ArmTimer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (timer_armed_ || lru_.empty() || limits_.idle_timeout >= kNoDeadline) return;
    timer_armed_ = true;
    timer_.expires_at(lru_.front()->idle_since_ +
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          absl::ToChronoNanoseconds(limits_.idle_timeout)));
    timer_.async_wait([this](const ErrorCode&) { OnTimer(); });
  }

  void OnTimer() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    timer_armed_ = false;
    if (closed_) return;
    const SteadyTime now = std::chrono::steady_clock::now();
    while (!lru_.empty() && Expired(*lru_.front(), now)) Evict(lru_.front());
    ArmTimer();
  }

  const PoolLimits limits_;
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Idle connections per key, least recently returned first.
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<Connection>>> by_key_
      ABSL_GUARDED_BY(mu_);
  // Every idle connection, least recently returned first.
  std::list<std::shared_ptr<Connection>> lru_ ABSL_GUARDED_BY(mu_);
  asio::steady_timer timer_ ABSL_GUARDED_BY(mu_);
  bool timer_armed_ ABSL_GUARDED_BY(mu_) = false;
};

// ---------------------------------------------------------------------------
// Requests

class Call;

// What calls share: the I/O context, the registry of calls in flight (for
// cancellation at destruction), the TLS contexts and the idle connections.
struct ClientState {
  ClientState(int threads, bool keep_alive_enabled, PoolLimits limits)
      : ioc(threads), keep_alive(keep_alive_enabled), pool(ioc, limits) {}

  void Unregister(Call* call) {
    absl::MutexLock lock(&mu);
    calls.erase(call);
  }

  asio::io_context ioc;
  TlsContextCache tls;
  const bool keep_alive;
  ConnectionPool pool;  // After ioc: its sockets go first.
  absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  absl::flat_hash_map<Call*, std::weak_ptr<Call>> calls ABSL_GUARDED_BY(mu);
};

// One request, followed through its redirects. Every member function runs on
// strand_ (or before any operation has started); Finish() is the single way
// out.
class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(ClientState* client, HttpClient::Request request, HttpClient::Callback done)
      : client_(client),
        strand_(asio::make_strand(client->ioc)),
        request_(std::move(request)),
        done_cb_(std::move(done)),
        timer_(strand_),
        resolver_(strand_) {}

  const Strand& strand() const { return strand_; }

  // Runs the callback with `status` when the call never started.
  void Reject(absl::Status status) {
    done_ = true;
    HttpClient::Callback cb = std::move(done_cb_);
    cb(std::move(status));
  }

  void Start() {
    if (done_) return;
    if (request_.timeout < kNoDeadline) {
      timer_.expires_after(
          absl::ToChronoNanoseconds(std::max(request_.timeout, absl::ZeroDuration())));
      timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
        if (ec || self->done_) return;
        self->Finish(absl::DeadlineExceededError(
            self->HeadersDone() ? "context deadline exceeded"
                                : self->Prefixed("context deadline exceeded")));
      });
    }
    StartAttempt(request_.url);
  }

  void Abort(absl::Status status) { Finish(std::move(status)); }

 private:
  bool HeadersDone() const { return parser_.has_value() && parser_->is_header_done(); }

  // Go's url.Error form: Get "<url>": <what>.
  std::string Prefixed(absl::string_view what) const {
    return absl::StrCat(op_, " \"", url_.redacted, "\": ", what);
  }

  // Whether the request may be sent again after it possibly reached the
  // server (see the header on retries).
  bool Replayable() const {
    if (IsIdempotentMethod(request_.method)) return true;
    for (const auto& [name, value] : request_.headers) {
      if (absl::EqualsIgnoreCase(name, "Idempotency-Key") ||
          absl::EqualsIgnoreCase(name, "X-Idempotency-Key")) {
        return true;
      }
    }
    return false;
  }

  bool Truncating() const { return request_.truncate_body_at > 0; }
  bool AcceptGzip() const { return request_.accept_gzip && !Truncating(); }

  // `fn` as a handler of an operation on conn_ in exchange `exchange_`:
  // it runs on strand_ and is dropped once the call is done or has moved
  // to another connection.
  template <typename Fn>
  auto ForExchange(Fn fn) {
    return asio::bind_executor(strand_, [self = shared_from_this(), exchange = exchange_,
                                         fn = std::move(fn)](const ErrorCode& ec, auto&&...) {
      if (self->done_ || exchange != self->exchange_) return;
      fn(self.get(), ec);
    });
  }

  // ForExchange for operations that report the bytes they transferred.
  template <typename Fn>
  auto ForExchangeBytes(Fn fn) {
    return asio::bind_executor(strand_, [self = shared_from_this(), exchange = exchange_,
                                         fn = std::move(fn)](const ErrorCode& ec, size_t bytes) {
      if (self->done_ || exchange != self->exchange_) return;
      fn(self.get(), ec, bytes);
    });
  }

  void DropConnection() {
    if (conn_ == nullptr) return;
    conn_->Close();
    conn_.reset();
  }

  // Hands conn_ to the pool when the exchange on it ended cleanly and both
  // sides allow another one, else closes it.
  void ReleaseConnection() {
    if (conn_ == nullptr) return;
    const bool reusable = client_->keep_alive && parser_.has_value() && parser_->is_done() &&
                          parser_->keep_alive() && buffer_.size() == 0 &&
                          !conn_->HasBufferedInput();
    if (!reusable) return DropConnection();
    client_->pool.Put(std::move(conn_));
    conn_.reset();
  }

  void Finish(absl::StatusOr<HttpClient::Response> result) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    resolver_.cancel();
    DropConnection();
    client_->Unregister(this);
    HttpClient::Callback cb = std::move(done_cb_);
    cb(std::move(result));
  }

  // Where connections for url_ come from and go back to: the origin and,
  // for TLS, the context (CA, client certificate, verification, minimum
  // version) and the server name. Credentials do not matter.
  std::string PoolKey() const {
    std::string key = absl::StrCat(url_.scheme, "\n", url_.host, "\n", url_.port);
    if (url_.tls) {
      absl::StrAppend(&key, "\n", reinterpret_cast<uintptr_t>(ssl_ctx_.get()), "\n",
                      request_.http.tls.server_name);
    }
    return key;
  }

  // One hop: parse `url`, build the request, send it on an idle connection
  // or a new one.
  void StartAttempt(const std::string& url) {
    DropConnection();
    absl::StatusOr<Url> parsed = ParseUrl(url, op_);
    if (!parsed.ok()) return Finish(parsed.status());
    url_ = *std::move(parsed);
    ssl_ctx_.reset();
    if (url_.tls) {
      absl::StatusOr<std::shared_ptr<asio::ssl::context>> ctx = client_->tls.Get(request_.http.tls);
      if (!ctx.ok()) return Finish(ctx.status());
      ssl_ctx_ = *std::move(ctx);
    }
    if (absl::Status s = BuildRequest(); !s.ok()) return Finish(s);
    pool_key_ = PoolKey();
    if (client_->keep_alive) {
      if (std::shared_ptr<Connection> idle = client_->pool.Take(pool_key_)) {
        BeginExchange(std::move(idle), /*reused=*/true);
        return Write();
      }
    }
    Connect();
  }

  // Makes `conn` the connection of a new exchange (handlers of the last
  // one are ignored from now on).
  void BeginExchange(std::shared_ptr<Connection> conn, bool reused) {
    DropConnection();
    conn_ = std::move(conn);
    reused_ = reused;
    ++exchange_;
    received_ = false;
    parser_.reset();
    buffer_.clear();
    buffer_.reserve(kReadBufferBytes);
  }

  // Opens a new connection for the current hop.
  void Connect() {
    BeginExchange(
        std::make_shared<Connection>(client_->ioc, pool_key_, url_.tls ? ssl_ctx_ : nullptr),
        /*reused=*/false);
    ErrorCode ec;
    const asio::ip::address addr = asio::ip::make_address(url_.host, ec);
    if (!ec) {
      int port = 0;
      absl::SimpleAtoi(url_.port, &port);
      conn_->lowest().async_connect(
          tcp::endpoint(addr, static_cast<uint16_t>(port)),
          ForExchange([](Call* self, const ErrorCode& ec) { self->OnConnected(ec); }));
      return;
    }
    resolver_.async_resolve(url_.host, url_.port,
                            [self = shared_from_this(), exchange = exchange_](
                                const ErrorCode& resolve_ec, tcp::resolver::results_type results) {
                              if (self->done_ || exchange != self->exchange_) return;
                              self->OnResolved(resolve_ec, std::move(results));
                            });
  }

  // A request sent on an idle connection failed before any byte of the
  // response came back: the server most likely closed the connection while
  // it was idle (or as the request arrived), so the request never ran. As
  // Go does, it is sent again, once, on a new connection, when it is
  // replayable (GET) or when not a byte of it was written (POST).
  void RetryOnNewConnection() { Connect(); }

  bool NothingReceived() const {
    return !received_ && buffer_.size() == 0 && !(parser_.has_value() && parser_->got_some());
  }

  absl::Status BuildRequest() {
    req_ = {};
    if (!IsToken(request_.method)) {
      return absl::InvalidArgumentError(
          absl::StrCat("net/http: invalid method \"", request_.method, "\""));
    }
    const http::verb verb = http::string_to_verb(request_.method);
    if (verb == http::verb::unknown) {
      req_.method_string(request_.method);
    } else {
      req_.method(verb);
    }
    req_.target(url_.target);
    req_.version(11);
    req_.set(http::field::host, url_.authority);
    req_.set(http::field::user_agent, kUserAgent);
    if (AcceptGzip()) req_.set(http::field::accept_encoding, "gzip");
    // Go's rule: GET and HEAD carry a Content-Length only with a body,
    // other methods always.
    const bool bodyless = request_.method == "GET" || request_.method == "HEAD";
    if (!bodyless || !request_.body.empty()) {
      req_.body() = request_.body;
      req_.content_length(request_.body.size());
    }
    if (!request_.content_type.empty()) {
      if (request_.content_type.find_first_of("\r\n") != std::string::npos) {
        return absl::InvalidArgumentError("invalid Content-Type");
      }
      req_.set(http::field::content_type, request_.content_type);
    }
    // HTTP/1.1 keeps the connection by default; without a pool, let the
    // server free it right away.
    if (!client_->keep_alive) req_.set(http::field::connection, "close");

    const config::HttpClientConfig& hc = request_.http;
    if (hc.basic_auth.has_value()) {
      std::string password = hc.basic_auth->password;
      if (!hc.basic_auth->password_file.empty()) {
        absl::StatusOr<std::string> p =
            ReadConfigFile(hc.basic_auth->password_file, "basic auth password file");
        if (!p.ok()) return p.status();
        password = std::string(absl::StripAsciiWhitespace(*p));
      }
      req_.set(http::field::authorization,
               absl::StrCat("Basic ", absl::Base64Escape(
                                          absl::StrCat(hc.basic_auth->username, ":", password))));
    } else if (hc.authorization.has_value()) {
      std::string credentials = hc.authorization->credentials;
      if (!hc.authorization->credentials_file.empty()) {
        absl::StatusOr<std::string> c =
            ReadConfigFile(hc.authorization->credentials_file, "authorization credentials file");
        if (!c.ok()) return c.status();
        credentials = std::string(absl::StripAsciiWhitespace(*c));
      }
      const std::string type = hc.authorization->type.empty() ? "Bearer" : hc.authorization->type;
      req_.set(http::field::authorization, absl::StrCat(type, " ", credentials));
    } else if (url_.userinfo.has_value()) {
      req_.set(http::field::authorization,
               absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(url_.userinfo->first, ":",
                                                                      url_.userinfo->second))));
    }
    for (const auto& [name, value] : request_.headers) {
      if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("invalid request header \"", name, "\""));
      }
      req_.set(name, value);
    }
    return absl::OkStatus();
  }

  void OnResolved(const ErrorCode& ec, tcp::resolver::results_type results) {
    if (ec) {
      return Finish(absl::UnavailableError(
          Prefixed(absl::StrCat("dial tcp: lookup ", url_.host, ": ", OsMessage(ec)))));
    }
    asio::async_connect(conn_->lowest(), results, ForExchange([](Call* self, const ErrorCode& ec) {
                          self->OnConnected(ec);
                        }));
  }

  void OnConnected(const ErrorCode& ec) {
    if (ec) {
      return Finish(absl::UnavailableError(Prefixed(absl::StrCat(
          "dial tcp ", url_.host.find(':') == std::string::npos ? url_.host : "[" + url_.host + "]",
          ":", url_.port, ": connect: ", OsMessage(ec)))));
    }
    ErrorCode ignored;
    conn_->lowest().set_option(tcp::no_delay(true), ignored);
    if (!conn_->is_tls()) return Write();
    if (absl::Status s = SetUpTls(); !s.ok()) return Finish(s);
    conn_->tls().async_handshake(
        asio::ssl::stream_base::client,
        ForExchange([](Call* self, const ErrorCode& ec) { self->OnHandshake(ec); }));
  }

  // SNI and the name the peer certificate must carry.
  absl::Status SetUpTls() {
    const config::TlsClientConfig& tls = request_.http.tls;
    const std::string& name = tls.server_name.empty() ? url_.host : tls.server_name;
    ErrorCode ec;
    asio::ip::make_address(name, ec);
    const bool is_ip = !ec;
    SSL* ssl = conn_->tls().native_handle();
    // RFC 6066: SNI carries host names only.
    if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("invalid TLS server name \"", name, "\""));
    }
    if (!tls.insecure_skip_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      if (ok != 1) {
        return absl::InvalidArgumentError(absl::StrCat("invalid TLS server name \"", name, "\""));
      }
    }
    return absl::OkStatus();
  }

  void OnHandshake(const ErrorCode& ec) {
    if (ec) {
      const long verify = SSL_get_verify_result(conn_->tls().native_handle());
      if (verify != X509_V_OK) {
        return Finish(absl::UnavailableError(Prefixed(absl::StrCat(
            "tls: failed to verify certificate: x509: ", X509_verify_cert_error_string(verify)))));
      }
      return Finish(
          absl::UnavailableError(Prefixed(absl::StrCat("tls: handshake failed: ", OsMessage(ec)))));
    }
    Write();
  }

  void Write() {
    conn_->WithStream([this](auto& stream) {
      http::async_write(stream, req_,
                        ForExchangeBytes([](Call* self, const ErrorCode& ec, size_t written) {
                          self->OnWrite(ec, written);
                        }));
    });
  }

  void OnWrite(const ErrorCode& ec, size_t written) {
    if (ec) {
      // Not a byte of the request reached the server: even a POST is safe
      // to send again.
      if (reused_ && (Replayable() || written == 0)) return RetryOnNewConnection();
      return Finish(absl::UnavailableError(Prefixed(absl::StrCat("write: ", OsMessage(ec)))));
    }
    Read();
  }

  // The most body bytes accepted on the wire, or none. Without gzip the
  // body itself must stay below the limit (Prometheus fails a body of
  // exactly `body_size_limit` bytes); with gzip the compressed size is
  // bounded loosely (deflate never grows data by more than a few bytes per
  // 16 KB) and the inflated size is checked in Gunzip.
  boost::optional<uint64_t> WireLimit() const {
    const int64_t limit = request_.body_size_limit;
    if (limit <= 0) return boost::none;
    const auto l = static_cast<uint64_t>(limit);
    if (!AcceptGzip()) return l - 1;
    const uint64_t slack = l / 16 + 1024;
    return l > std::numeric_limits<uint64_t>::max() - slack ? std::numeric_limits<uint64_t>::max()
                                                            : l + slack;
  }

  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    if (request_.method == "HEAD") parser_->skip(true);
    if (Truncating()) {
      parser_->body_limit(boost::none);
      return ReadSome();
    }
    parser_->body_limit(WireLimit());
    conn_->WithStream([this](auto& stream) {
      http::async_read(stream, buffer_, *parser_,
                       ForExchange([](Call* self, const ErrorCode& ec) { self->OnRead(ec); }));
    });
  }

  // Reads piece by piece, so that a body can be cut at truncate_body_at
  // (each piece is at most Beast's 64 KiB read size).
  void ReadSome() {
    conn_->WithStream([this](auto& stream) {
      http::async_read_some(
          stream, buffer_, *parser_,
          ForExchange([](Call* self, const ErrorCode& ec) { self->OnReadSome(ec); }));
    });
  }

  void OnReadSome(const ErrorCode& ec) {
    if (ec || parser_->is_done()) return OnRead(ec);
    const int64_t have = static_cast<int64_t>(parser_->get().body().size());
    if (HeadersDone() && have > request_.truncate_body_at) {
      const int status = parser_->get().result_int();
      if (status >= 200 || status == 101) {
        received_ = true;
        return OnResponse(status);
      }
    }
    ReadSome();
  }

  absl::Status ReadError(const ErrorCode& ec) const {
    static const boost::system::error_category& kHttpCategory =
        http::make_error_code(http::error::end_of_stream).category();
    if (ec == http::error::body_limit) return absl::ResourceExhaustedError(kBodySizeLimitExceeded);
    if (ec == http::error::end_of_stream) return absl::UnavailableError(Prefixed("EOF"));
    const bool headers = HeadersDone();
    if (ec == http::error::partial_message) {
      return absl::DataLossError(headers ? "unexpected EOF" : Prefixed("unexpected EOF"));
    }
    if (ec.category() == kHttpCategory) {
      return absl::DataLossError(Prefixed(absl::StrCat("malformed HTTP response: ", ec.message())));
    }
    const std::string what = absl::StrCat("read: ", OsMessage(ec));
    return absl::UnavailableError(headers ? what : Prefixed(what));
  }

  void OnRead(ErrorCode ec) {
    // A TLS peer that closes without close_notify ends a body delimited by
    // the end of the connection as well as a plain socket's EOF does.
    if (ec == asio::ssl::error::stream_truncated && HeadersDone() && parser_->need_eof()) {
      ec = {};
      parser_->put_eof(ec);
    }
    if (ec) {
      if (reused_ && Replayable() && NothingReceived()) return RetryOnNewConnection();
      return Finish(ReadError(ec));
    }
    received_ = true;
    const int status = parser_->get().result_int();
    if (status >= 100 && status < 200 && status != 101) return Read();  // Interim response.
    OnResponse(status);
  }

  void OnResponse(int status) {
    http::response<http::string_body>& res = parser_->get();
    if (request_.http.follow_redirects && IsRedirect(status)) {
      const auto location = res.find(http::field::location);
      if (location != res.end() && !location->value().empty()) {
        if (status == 301 || status == 302 || status == 303) {
          // As browsers and Go do: the next hop is a GET without body.
          if (request_.method != "GET" && request_.method != "HEAD") request_.method = "GET";
          request_.body.clear();
          request_.content_type.clear();
        }
        const std::string next = ResolveReference(
            url_, absl::string_view(location->value().data(), location->value().size()));
        if (redirects_ >= kMaxRedirects) {
          absl::StatusOr<Url> u = ParseUrl(next, op_);
          return Finish(absl::UnavailableError(absl::StrCat(op_, " \"", u.ok() ? u->redacted : next,
                                                            "\": stopped after 10 redirects")));
        }
        ++redirects_;
        ReleaseConnection();  // The next hop may well take it back.
        return StartAttempt(next);
      }
    }
    HttpClient::Response out;
    out.status = status;
    const auto ct = res.find(http::field::content_type);
    if (ct != res.end()) out.content_type = std::string(ct->value());
    for (const auto& field : res) {
      const beast::string_view name = field.name_string();
      out.headers.emplace_back(absl::AsciiStrToLower(absl::string_view(name.data(), name.size())),
                               std::string(field.value()));
    }
    if (Truncating()) {
      std::string& body = res.body();
      out.wire_bytes = static_cast<int64_t>(body.size());
      if (static_cast<int64_t>(body.size()) > request_.truncate_body_at) {
        body.resize(static_cast<size_t>(request_.truncate_body_at));
        out.body_truncated = true;
      }
      out.body = std::move(body);
      ReleaseConnection();  // Closes it when the body was cut short.
      return Finish(std::move(out));
    }
    const auto ce = res.find(http::field::content_encoding);
    const bool gzipped = request_.accept_gzip && ce != res.end() &&
                         IsGzipEncoding(absl::string_view(ce->value().data(), ce->value().size()));
    std::string body = std::move(res.body());
    out.wire_bytes = static_cast<int64_t>(body.size());
    const int64_t limit = request_.body_size_limit;
    // Only a response returned whole gives its connection back: any error
    // here (body limit, bad gzip) closes it, as Prometheus abandoning the
    // body makes Go's transport close it.
    if (gzipped && !body.empty()) {
      absl::StatusOr<std::string> inflated = Gunzip(body, limit);
      if (!inflated.ok()) return Finish(inflated.status());
      out.body = *std::move(inflated);
    } else {
      if (limit > 0 && static_cast<int64_t>(body.size()) >= limit) {
        return Finish(absl::ResourceExhaustedError(kBodySizeLimitExceeded));
      }
      out.body = std::move(body);
    }
    ReleaseConnection();
    Finish(std::move(out));
  }

  ClientState* const client_;
  Strand strand_;
  HttpClient::Request request_;
  HttpClient::Callback done_cb_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  Url url_;
  std::shared_ptr<asio::ssl::context> ssl_ctx_;  // For url_, when it is https.
  std::string pool_key_;                         // For url_.
  // The connection of the current exchange (null once released or closed).
  std::shared_ptr<Connection> conn_;
  // Counts exchanges (a connection and a request on it): handlers of an
  // earlier one are ignored.
  uint64_t exchange_ = 0;
  bool reused_ = false;    // conn_ came from the pool.
  bool received_ = false;  // A response (even an interim one) arrived in this exchange.
  // Go's url.Error operation for the method first asked for.
  const std::string op_ = ErrorOp(request_.method);
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  int redirects_ = 0;
  bool done_ = false;
};

// The idle-connection cap: the one asked for, but never more than half the
// open-file limit, so that idle sockets cannot starve the rest of the
// process of descriptors.
size_t IdleCap(int requested) {
  if (requested <= 0) return 0;
  auto cap = static_cast<size_t>(requested);
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    cap = std::min<size_t>(cap, static_cast<size_t>(nofile.rlim_cur / 2));
  }
  return cap;
}

PoolLimits MakePoolLimits(const HttpClient::Options& o) {
  PoolLimits l;
  l.max_idle_per_key = static_cast<size_t>(std::max(0, o.max_idle_per_host));
  l.max_idle = IdleCap(o.max_idle);
  l.idle_timeout = o.idle_timeout;
  return l;
}

}  // namespace

class HttpClient::Impl : public ClientState {
 public:
  explicit Impl(const Options& o)
      : ClientState(std::max(1, o.io_threads), o.keep_alive, MakePoolLimits(o)),
        work_(ioc.get_executor()) {
    for (int i = 0; i < std::max(1, o.io_threads); ++i) {
      threads_.emplace_back([this] { Run(); });
      pthread_setname_np(threads_.back().native_handle(), "http-client");
    }
  }

  // Closes the idle connections, cancels the calls in flight, lets their
  // handlers drain and joins.
  void Stop() {
    pool.CloseAll();
    std::vector<std::shared_ptr<Call>> live;
    {
      absl::MutexLock lock(&mu);
      stopping = true;
      live.reserve(calls.size());
      for (const auto& [ptr, weak] : calls) {
        if (std::shared_ptr<Call> c = weak.lock()) live.push_back(std::move(c));
      }
    }
    for (std::shared_ptr<Call>& c : live) {
      asio::post(c->strand(), [c] { c->Abort(absl::CancelledError("HTTP client shut down")); });
    }
    live.clear();
    work_.reset();  // run() returns once no operation is left.
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Run() {
    while (true) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        LogError("scrape", "exception in HTTP client handler").Kv("err", e.what());
      }
    }
  }

  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

HttpClient::HttpClient(int io_threads)
    : HttpClient([io_threads] {
        Options o;
        o.io_threads = io_threads;
        return o;
      }()) {}

HttpClient::HttpClient(Options options) : impl_(std::make_unique<Impl>(options)) {}

HttpClient::~HttpClient() { impl_->Stop(); }

int64_t HttpClient::idle_connections() const { return impl_->pool.idle(); }

absl::string_view HttpClient::Response::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

void HttpClient::Do(Request request, Callback done) {
  auto call = std::make_shared<Call>(impl_.get(), std::move(request), std::move(done));
  bool stopping = false;
  {
    absl::MutexLock lock(&impl_->mu);
    stopping = impl_->stopping;
    if (!stopping) impl_->calls.emplace(call.get(), call);
  }
  if (stopping) {
    call->Reject(absl::CancelledError("HTTP client shut down"));
    return;
  }
  asio::post(call->strand(), [call] { call->Start(); });
}

absl::StatusOr<HttpClient::Response> HttpClient::DoSync(Request request) {
  std::promise<absl::StatusOr<Response>> promise;
  std::future<absl::StatusOr<Response>> result = promise.get_future();
  Do(std::move(request),
     [&promise](absl::StatusOr<Response> r) { promise.set_value(std::move(r)); });
  return result.get();
}

absl::string_view HttpStatusText(int status) {
  struct Entry {
    int code;
    absl::string_view text;
  };
  static constexpr Entry kTexts[] = {
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {413, "Request Entity Too Large"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
  };
  for (const Entry& e : kTexts) {
    if (e.code == status) return e.text;
  }
  return "";
}

}  // namespace vigil::scrape
