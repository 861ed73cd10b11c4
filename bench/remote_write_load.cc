// remote_write_load: a load generator for Prometheus remote write 1.0.
//
// Sends the bench Dataset (node_exporter-like series) to a remote-write
// receiver -- Vigil, or Prometheus started with
// --web.enable-remote-write-receiver -- and reports accepted samples per
// second, request latency, errors and, with --server_pid, the server's CPU
// and RSS. docs/remote_write_load.md describes the flags and the report.
//
// It shares a small machine with the server under test, so it is built to
// leave that server the CPU:
//  * Series are split into contiguous shards, one per connection, so that a
//    series is always sent by the same connection, in order.
//  * Every request body (a WriteRequest of whole series, one sample each) is
//    encoded by hand once. Later rounds overwrite each sample's value
//    (fixed64) and timestamp (a varint that is always 6 bytes long) in place
//    and snappy-compress the buffer. Only churn makes a request be encoded
//    again, from per-series label bytes kept for that purpose.
//  * One thread per connection: blocking sockets and a minimal HTTP/1.1
//    keep-alive client.
//
// Timestamps are synthetic: round r carries start + phase(host) + r *
// interval, with start an hour before the wall clock by default, and rounds
// go out as fast as the server takes them.

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <snappy.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "bench/bench_util.h"
#include "bench/dataset.h"
#include "remote.pb.h"

namespace vigil::bench {
namespace {

using Clock = std::chrono::steady_clock;

static_assert(std::endian::native == std::endian::little,
              "sample values are written as little-endian fixed64 by memcpy");

// Set by SIGINT: workers stop before their next request and the report is
// printed. A second SIGINT kills the process (SA_RESETHAND).
std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted.store(true); }

constexpr absl::string_view kUserAgent = "vigil-remote-write-load/0.1";
// Label that tells a churned series from its predecessors: the slot's
// generation, absent on the original series.
constexpr absl::string_view kChurnLabel = "churn";
// How many rounds a worker may run ahead of the slowest one. Receivers
// refuse samples much older than the newest they hold (Prometheus: one hour,
// i.e. 240 rounds at 15 s), so the lead must stay small.
constexpr int kMaxLeadRounds = 2;
// Pause after a connection error, doubling up to the maximum.
constexpr std::chrono::milliseconds kMinBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

struct Options {
  std::string url;
  int series = 0;
  int samples_per_request = 0;
  int concurrency = 0;
  int64_t duration_s = 0;
  int64_t rounds = 0;  // Measured rounds; 0: until duration_s.
  double churn = 0;
  int64_t interval_ms = 0;
  int64_t start_ms = 0;
  int warmup_rounds = 0;
  int server_pid = 0;  // 0: none.
  int timeout_ms = 0;
};

// ---------------------------------------------------------------------------
// Command line.

constexpr absl::string_view kUsage = R"(usage: remote_write_load [--flag=value ...]

  --url=http://127.0.0.1:9090/api/v1/write   remote-write endpoint (http only)
  --series=100000              series sent every round
  --samples_per_request=2000   series per request, one sample each
  --concurrency=4              connections (one thread each)
  --duration_s=30              measured time, after warmup
  --rounds=0                   measured rounds instead of --duration_s (0: off)
  --warmup_rounds=1            rounds before measuring (they create the series)
  --churn=0                    fraction of series replaced by new ones per round
  --interval_ms=15000          timestamp step between rounds
  --start_ms=0                 timestamp of round 0 (0: now - 1h, aligned)
  --timeout_s=30               socket send/receive timeout
  --server_pid=0               server process to measure (CPU, RSS)
)";

constexpr absl::string_view kFlagNames[] = {
    "url",           "series", "samples_per_request", "concurrency", "duration_s", "rounds",
    "warmup_rounds", "churn",  "interval_ms",         "start_ms",    "timeout_s",  "server_pid"};

[[noreturn]] void UsageError(absl::string_view message) {
  std::fprintf(stderr, "remote_write_load: %s\n\n%s", std::string(message).c_str(),
               std::string(kUsage).c_str());
  std::exit(2);
}

int IntFlag(int argc, char** argv, absl::string_view name, int64_t def, int64_t min, int64_t max) {
  int64_t v = FlagInt(argc, argv, name, def);
  if (v < min || v > max) {
    UsageError(absl::StrCat("--", name, " must be in [", min, ", ", max, "]"));
  }
  return static_cast<int>(v);
}

Options ParseOptions(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(std::string(kUsage).c_str(), stdout);
      std::exit(0);
    }
    bool known = false;
    for (absl::string_view name : kFlagNames) {
      known = known || absl::StartsWith(arg, absl::StrCat("--", name, "="));
    }
    if (!known) UsageError(absl::StrCat("unknown argument ", arg));
  }
  Options o;
  o.url = FlagString(argc, argv, "url", "http://127.0.0.1:9090/api/v1/write");
  // Label offsets within a shard are 32-bit: ~120 bytes per series.
  o.series = IntFlag(argc, argv, "series", 100000, 1, 10000000);
  o.samples_per_request = IntFlag(argc, argv, "samples_per_request", 2000, 1, 10000000);
  o.concurrency = IntFlag(argc, argv, "concurrency", 4, 1, 1024);
  o.duration_s = FlagInt(argc, argv, "duration_s", 30);
  o.rounds = FlagInt(argc, argv, "rounds", 0);
  o.warmup_rounds = IntFlag(argc, argv, "warmup_rounds", 1, 0, 1000000);
  o.interval_ms = FlagInt(argc, argv, "interval_ms", 15000);
  o.start_ms = FlagInt(argc, argv, "start_ms", 0);
  o.timeout_ms = IntFlag(argc, argv, "timeout_s", 30, 1, 3600) * 1000;
  o.server_pid = IntFlag(argc, argv, "server_pid", 0, 0, INT32_MAX);
  std::string churn = FlagString(argc, argv, "churn", "0");
  if (!absl::SimpleAtod(churn, &o.churn) || !(o.churn >= 0 && o.churn <= 1)) {
    UsageError("--churn must be a fraction in [0, 1]");
  }
  if (o.duration_s <= 0 && o.rounds <= 0) UsageError("--duration_s or --rounds must be > 0");
  if (o.rounds < 0) UsageError("--rounds must be >= 0");
  if (o.interval_ms <= 0 || o.interval_ms > INT32_MAX) {
    UsageError("--interval_ms must be in [1, 2^31)");
  }
  o.concurrency = std::min(o.concurrency, o.series);
  return o;
}

// ---------------------------------------------------------------------------
// Endpoint.

struct Target {
  std::string host;  // Without the brackets of an IPv6 literal.
  std::string port;
  std::string path;       // With the query, if any.
  std::string authority;  // For the Host header.
};

absl::StatusOr<Target> ParseUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "http://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("only http:// URLs are supported: ", url));
  }
  url.remove_prefix(kScheme.size());
  size_t slash = url.find('/');
  absl::string_view authority = url.substr(0, slash);
  Target t;
  t.path = slash == absl::string_view::npos ? "/" : std::string(url.substr(slash));
  t.authority = std::string(authority);
  absl::string_view host = authority;
  absl::string_view port = "80";
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad IPv6 host in ", url));
    }
    host = authority.substr(1, close - 1);
    absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return absl::InvalidArgumentError(absl::StrCat("bad host in ", url));
      }
      port = rest.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || port.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no host or port in ", url));
  }
  t.host = std::string(host);
  t.port = std::string(port);
  return t;
}

struct Endpoint {
  sockaddr_storage addr;
  socklen_t len;
  int family;
};

absl::StatusOr<std::vector<Endpoint>> Resolve(const Target& target) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("resolve ", target.host, ": ", gai_strerror(rc)));
  }
  std::vector<Endpoint> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Endpoint e{};
    std::memcpy(&e.addr, a->ai_addr, a->ai_addrlen);
    e.len = a->ai_addrlen;
    e.family = a->ai_family;
    out.push_back(e);
  }
  freeaddrinfo(found);
  if (out.empty()) return absl::UnavailableError(absl::StrCat("no address for ", target.host));
  return out;
}

std::string ErrnoText(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof(buf));  // The GNU strerror_r.
}

// ---------------------------------------------------------------------------
// HTTP/1.1 client.

struct Response {
  int status = 0;
  std::string body;  // Its first kMaxKeptBody bytes.
};

constexpr size_t kMaxKeptBody = 512;
constexpr size_t kMaxHeaderLine = 64 << 10;
constexpr size_t kReadChunk = 16 << 10;

// One keep-alive HTTP/1.1 connection to one server: sends a request with a
// Content-Length body and reads the response's status, headers and body
// (Content-Length, chunked, or up to the close). Connects on first use and
// again after any error. Not thread-safe: one per worker thread.
class HttpConnection {
 public:
  HttpConnection(const std::vector<Endpoint>* endpoints, int timeout_ms)
      : endpoints_(endpoints), timeout_ms_(timeout_ms) {}
  ~HttpConnection() { Close(); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `head` (request line and headers, up to and including the empty
  // line) and `body`, and reads the response into `*response`. A request on
  // a reused connection that fails with a reset or close before any response
  // byte arrived is sent again once on a new connection: the server may
  // have closed the idle connection while the request was on its way.
  absl::Status RoundTrip(absl::string_view head, absl::string_view body, Response* response);

  int connects() const { return connects_; }

 private:
  absl::Status Connect();
  void Close();
  absl::Status SocketError(absl::string_view op, int err);
  absl::Status Send(absl::string_view head, absl::string_view body);
  // Reads more bytes into buf_. At end of stream: sets *eof if eof is not
  // null, otherwise fails.
  absl::Status Fill(bool* eof = nullptr);
  // Reads one line, without its CR LF, into *line.
  absl::Status ReadLine(std::string* line);
  // Consumes `n` body bytes, keeping the first of them in *keep.
  absl::Status ReadBody(uint64_t n, std::string* keep);
  absl::Status ReadChunkedBody(std::string* keep);
  absl::Status ReadResponse(Response* response, bool* keep_alive);

  const std::vector<Endpoint>* const endpoints_;
  const int timeout_ms_;
  int fd_ = -1;
  bool reused_ = false;     // fd_ has completed an exchange before.
  bool retryable_ = false;  // The last error was a reset or close.
  uint64_t received_ = 0;   // Bytes read in the current exchange.
  std::vector<char> buf_;
  size_t begin_ = 0;  // Unread bytes are buf_[begin_, end_).
  size_t end_ = 0;
  std::string line_;
  int connects_ = 0;
};

absl::Status HttpConnection::RoundTrip(absl::string_view head, absl::string_view body,
                                       Response* response) {
  for (int attempt = 0;; ++attempt) {
    if (fd_ < 0) RETURN_IF_ERROR(Connect());
    const bool reused = reused_;
    received_ = 0;
    retryable_ = false;
    bool keep_alive = false;
    absl::Status s = Send(head, body);
    if (s.ok()) s = ReadResponse(response, &keep_alive);
    if (s.ok()) {
      if (keep_alive) {
        reused_ = true;
      } else {
        Close();
      }
      return s;
    }
    Close();
    if (!reused || !retryable_ || received_ > 0 || attempt > 0) return s;
  }
}

absl::Status HttpConnection::Connect() {
  std::string last_error;
  for (const Endpoint& e : *endpoints_) {
    int fd = socket(e.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = absl::StrCat("socket: ", ErrnoText(errno));
      continue;
    }
    // Linux applies SO_SNDTIMEO to connect() as well.
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len) != 0) {
      last_error = absl::StrCat("connect: ", ErrnoText(errno));
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd_ = fd;
    reused_ = false;
    begin_ = end_ = 0;
    ++connects_;
    return absl::OkStatus();
  }
  return absl::UnavailableError(last_error);
}

void HttpConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  begin_ = end_ = 0;
}

absl::Status HttpConnection::SocketError(absl::string_view op, int err) {
  retryable_ = err == EPIPE || err == ECONNRESET || err == ECONNABORTED;
  if (err == EAGAIN || err == EWOULDBLOCK) {
    return absl::DeadlineExceededError(absl::StrCat(op, ": timed out after ", timeout_ms_, " ms"));
  }
  return absl::UnavailableError(absl::StrCat(op, ": ", ErrnoText(err)));
}

absl::Status HttpConnection::Send(absl::string_view head, absl::string_view body) {
  iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                  {const_cast<char*>(body.data()), body.size()}};
  iovec* next = iov;
  size_t left = 2;
  while (left > 0) {
    msghdr msg{};
    msg.msg_iov = next;
    msg.msg_iovlen = left;
    ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SocketError("send", errno);
    }
    size_t sent = static_cast<size_t>(n);
    while (left > 0 && sent >= next->iov_len) {
      sent -= next->iov_len;
      ++next;
      --left;
    }
    if (left > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + sent;
      next->iov_len -= sent;
    }
  }
  return absl::OkStatus();
}

absl::Status HttpConnection::Fill(bool* eof) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0 && buf_.size() - end_ < kReadChunk) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < kReadChunk) buf_.resize(end_ + kReadChunk);
  for (;;) {
    ssize_t n = recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      received_ += static_cast<uint64_t>(n);
      return absl::OkStatus();
    }
    if (n == 0) {
      if (eof != nullptr) {
        *eof = true;
        return absl::OkStatus();
      }
      retryable_ = true;
      return absl::UnavailableError("connection closed by the server");
    }
    if (errno == EINTR) continue;
    return SocketError("recv", errno);
  }
}

absl::Status HttpConnection::ReadLine(std::string* line) {
  size_t scanned = 0;  // Bytes after begin_ known to hold no LF.
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* lf = std::memchr(start + scanned, '\n', end_ - begin_ - scanned);
    if (lf != nullptr) {
      size_t len = static_cast<size_t>(static_cast<const char*>(lf) - start);
      absl::string_view text(start, len);
      if (absl::EndsWith(text, "\r")) text.remove_suffix(1);
      line->assign(text.data(), text.size());
      begin_ += len + 1;
      return absl::OkStatus();
    }
    scanned = end_ - begin_;
    if (scanned > kMaxHeaderLine) return absl::DataLossError("response line too long");
    RETURN_IF_ERROR(Fill());
  }
}

absl::Status HttpConnection::ReadBody(uint64_t n, std::string* keep) {
  while (n > 0) {
    if (begin_ == end_) RETURN_IF_ERROR(Fill());
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, end_ - begin_));
    if (keep->size() < kMaxKeptBody) {
      keep->append(buf_.data() + begin_, std::min(take, kMaxKeptBody - keep->size()));
    }
    begin_ += take;
    n -= take;
  }
  return absl::OkStatus();
}

absl::Status HttpConnection::ReadChunkedBody(std::string* keep) {
  for (;;) {
    RETURN_IF_ERROR(ReadLine(&line_));
    absl::string_view size_text = line_;
    size_text = absl::StripAsciiWhitespace(size_text.substr(0, size_text.find(';')));
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(size_text, &size)) {
      return absl::DataLossError(absl::StrCat("bad chunk size: ", absl::CHexEscape(line_)));
    }
    if (size == 0) break;
    RETURN_IF_ERROR(ReadBody(size, keep));
    RETURN_IF_ERROR(ReadLine(&line_));
    if (!line_.empty()) return absl::DataLossError("chunk not followed by CRLF");
  }
  do {  // Trailers, up to the empty line.
    RETURN_IF_ERROR(ReadLine(&line_));
  } while (!line_.empty());
  return absl::OkStatus();
}

absl::Status HttpConnection::ReadResponse(Response* response, bool* keep_alive) {
  int64_t content_length = -1;
  bool chunked = false;
  bool close = false;
  for (;;) {  // 1xx responses are interim: another one follows.
    RETURN_IF_ERROR(ReadLine(&line_));
    absl::string_view status_line = line_;
    // "HTTP/1.1 204 No Content"
    if (!absl::StartsWith(status_line, "HTTP/1.") || status_line.size() < 12 ||
        status_line[8] != ' ' || !absl::SimpleAtoi(status_line.substr(9, 3), &response->status)) {
      return absl::DataLossError(
          absl::StrCat("bad status line: ", absl::CHexEscape(status_line.substr(0, 80))));
    }
    content_length = -1;
    chunked = false;
    close = status_line[7] == '0';  // HTTP/1.0 closes unless told otherwise.
    for (;;) {
      RETURN_IF_ERROR(ReadLine(&line_));
      if (line_.empty()) break;
      absl::string_view header = line_;
      size_t colon = header.find(':');
      if (colon == absl::string_view::npos) continue;
      absl::string_view name = absl::StripAsciiWhitespace(header.substr(0, colon));
      std::string value =
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.substr(colon + 1)));
      if (absl::EqualsIgnoreCase(name, "content-length")) {
        if (!absl::SimpleAtoi(value, &content_length) || content_length < 0) {
          return absl::DataLossError(absl::StrCat("bad Content-Length: ", value));
        }
      } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
        chunked = absl::StrContains(value, "chunked");
      } else if (absl::EqualsIgnoreCase(name, "connection")) {
        if (absl::StrContains(value, "close")) close = true;
        if (absl::StrContains(value, "keep-alive")) close = false;
      }
    }
    if (response->status >= 200 || response->status < 100) break;
  }
  response->body.clear();
  if (response->status == 204 || response->status == 304) {
    // No body, whatever the headers say.
  } else if (chunked) {
    RETURN_IF_ERROR(ReadChunkedBody(&response->body));
  } else if (content_length >= 0) {
    RETURN_IF_ERROR(ReadBody(static_cast<uint64_t>(content_length), &response->body));
  } else {  // The body runs up to the close.
    for (bool eof = false; !eof;) {
      RETURN_IF_ERROR(ReadBody(end_ - begin_, &response->body));
      RETURN_IF_ERROR(Fill(&eof));
    }
    close = true;
  }
  *keep_alive = !close;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// WriteRequest encoding (api/prompb/remote.proto), just what is sent here.

// Tags: (field number << 3) | wire type.
constexpr char kTagField1Len = 0x0a;    // WriteRequest.timeseries, TimeSeries.labels, Label.name
constexpr char kTagField2Len = 0x12;    // TimeSeries.samples, Label.value
constexpr char kTagSampleValue = 0x09;  // Sample.value: field 1, 64-bit.
constexpr char kTagSampleTimestamp = 0x10;  // Sample.timestamp: field 2, varint.

// Timestamps are always written as 6 varint bytes, which holds every ms
// timestamp in [2^35, 2^42) -- 1971 to 2109 -- so that a round can overwrite
// them in place.
constexpr int kTimestampBytes = 6;
constexpr int64_t kMinTimestampMs = int64_t{1} << 35;
constexpr int64_t kEndTimestampMs = int64_t{1} << 42;
// An encoded Sample: value tag + 8 bytes, timestamp tag + 6 bytes. Both
// fields are written even when zero (proto3 encoders omit defaults; parsers
// accept them either way), so that every sample has the same layout.
constexpr size_t kValueOffset = 1;
constexpr size_t kTimestampOffset = 10;
constexpr size_t kSampleBytes = kTimestampOffset + kTimestampBytes;
static_assert(kSampleBytes < 0x80, "the Sample length must be a 1-byte varint");

void PutVarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

void PutLengthDelimited(std::string* dst, char tag, absl::string_view bytes) {
  dst->push_back(tag);
  PutVarint(dst, bytes.size());
  dst->append(bytes.data(), bytes.size());
}

// Appends one TimeSeries.labels field.
void PutLabel(std::string* dst, absl::string_view name, absl::string_view value) {
  size_t size =
      1 + VarintLength(name.size()) + name.size() + 1 + VarintLength(value.size()) + value.size();
  dst->push_back(kTagField1Len);
  PutVarint(dst, size);
  PutLengthDelimited(dst, kTagField1Len, name);
  PutLengthDelimited(dst, kTagField2Len, value);
}

// Overwrites the value and timestamp of an encoded Sample.
// REQUIRES: kMinTimestampMs <= t < kEndTimestampMs.
inline void PatchSample(char* sample, double value, int64_t t) {
  uint64_t bits = std::bit_cast<uint64_t>(value);
  std::memcpy(sample + kValueOffset, &bits, sizeof(bits));
  uint64_t u = static_cast<uint64_t>(t);
  char* p = sample + kTimestampOffset;
  for (int i = 0; i < kTimestampBytes - 1; ++i) {
    p[i] = static_cast<char>((u & 0x7f) | 0x80);
    u >>= 7;
  }
  p[kTimestampBytes - 1] = static_cast<char>(u);
}

// ---------------------------------------------------------------------------
// Statistics.

struct PhaseStats {
  uint64_t requests = 0;
  uint64_t samples_sent = 0;
  uint64_t samples_accepted = 0;
  uint64_t raw_bytes = 0;         // Uncompressed WriteRequests.
  uint64_t wire_bytes = 0;        // Compressed bodies plus request heads.
  double encode_cpu_s = 0;        // Thread CPU time spent patching and compressing.
  std::vector<float> latency_ms;  // Of every request that got a response.

  void Merge(const PhaseStats& o) {
    requests += o.requests;
    samples_sent += o.samples_sent;
    samples_accepted += o.samples_accepted;
    raw_bytes += o.raw_bytes;
    wire_bytes += o.wire_bytes;
    encode_cpu_s += o.encode_cpu_s;
    latency_ms.insert(latency_ms.end(), o.latency_ms.begin(), o.latency_ms.end());
  }
};

struct ErrorStats {
  uint64_t requests = 0;
  uint64_t samples = 0;
  std::string first;  // Response body or error message.

  void Add(uint64_t n, absl::string_view text) {
    if (requests++ == 0) first = std::string(text);
    samples += n;
  }
  void Merge(const ErrorStats& o) {
    if (requests == 0) first = o.first;
    requests += o.requests;
    samples += o.samples;
  }
};

struct WorkerStats {
  PhaseStats warmup;
  PhaseStats steady;
  std::map<int, ErrorStats> http_errors;  // By status.
  ErrorStats connection_errors;
  uint64_t series_churned = 0;
  uint64_t connects = 0;
  int64_t max_timestamp_ms = 0;

  void Merge(const WorkerStats& o) {
    warmup.Merge(o.warmup);
    steady.Merge(o.steady);
    for (const auto& [status, e] : o.http_errors) http_errors[status].Merge(e);
    connection_errors.Merge(o.connection_errors);
    series_churned += o.series_churned;
    connects += o.connects;
    max_timestamp_ms = std::max(max_timestamp_ms, o.max_timestamp_ms);
  }
};

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double ProcessCpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

// CPU time and RSS of another process, from /proc.
struct ProcSample {
  bool ok = false;
  double cpu_s = 0;
  double rss_mib = 0;
};

ProcSample ReadProc(int pid) {
  ProcSample out;
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; fields after it do not.
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return out;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return out;
  }
  out.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    absl::string_view l = line;
    if (!absl::ConsumePrefix(&l, "VmRSS:")) continue;
    l = absl::StripAsciiWhitespace(l);
    int64_t kib = 0;
    if (!absl::ConsumeSuffix(&l, "kB") || !absl::SimpleAtoi(absl::StripAsciiWhitespace(l), &kib)) {
      return out;
    }
    out.rss_mib = static_cast<double>(kib) / 1024;
    out.ok = true;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Coordination.

// Keeps the workers' rounds in step and splits the run into warmup and the
// measured ("steady") phase. Round r's samples all carry timestamps within
// one interval of start + r * interval, and a receiver refuses samples much
// older than the newest it holds, so no worker starts round r before every
// worker has finished round r - kMaxLeadRounds. No worker starts the first
// steady round before all have finished warmup; --duration_s counts from
// then. Thread-safe.
class Coordinator {
 public:
  // `on_steady` runs once, when the steady phase starts, under the lock.
  Coordinator(int workers, const Options& opt, std::function<void()> on_steady)
      : warmup_rounds_(opt.warmup_rounds),
        rounds_(opt.rounds),
        duration_(std::chrono::seconds(opt.duration_s)),
        on_steady_(std::move(on_steady)),
        done_(static_cast<size_t>(workers), 0) {}
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Blocks until `worker` may start `round` (0-based). Returns false when the
  // run is over: the round limit is reached, the duration has passed, or the
  // run was interrupted.
  bool BeginRound(int round) {
    if (rounds_ > 0 && round >= warmup_rounds_ + rounds_) return false;
    absl::MutexLock lock(&mu_);
    const int need = round >= warmup_rounds_ ? std::max(warmup_rounds_, round - kMaxLeadRounds)
                                             : round - kMaxLeadRounds;
    auto ready = [this, need]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return *std::min_element(done_.begin(), done_.end()) >= need;
    };
    mu_.Await(absl::Condition(&ready));
    if (round >= warmup_rounds_ && !steady_) {
      steady_ = true;
      steady_start_ = Clock::now();
      if (rounds_ == 0) {
        deadline_ns_.store((steady_start_ + duration_).time_since_epoch().count());
      }
      if (on_steady_) on_steady_();
    }
    return !Expired();
  }

  void EndRound(int worker) {
    absl::MutexLock lock(&mu_);
    ++done_[static_cast<size_t>(worker)];
  }

  // `worker` sends nothing more; nobody waits for it any longer.
  void Leave(int worker) {
    absl::MutexLock lock(&mu_);
    done_[static_cast<size_t>(worker)] = INT_MAX;
    end_ = std::max(end_, Clock::now());
  }

  // True once the measured duration has passed or the run was interrupted.
  bool Expired() const {
    return g_interrupted.load(std::memory_order_relaxed) ||
           Clock::now().time_since_epoch().count() >= deadline_ns_.load(std::memory_order_relaxed);
  }

  // For the report, once every worker has left.
  bool steady() const {
    absl::MutexLock lock(&mu_);
    return steady_;
  }
  Clock::time_point steady_start() const {
    absl::MutexLock lock(&mu_);
    return steady_start_;
  }
  Clock::time_point end() const {
    absl::MutexLock lock(&mu_);
    return end_;
  }

 private:
  const int warmup_rounds_;
  const int64_t rounds_;
  const Clock::duration duration_;
  const std::function<void()> on_steady_;
  std::atomic<Clock::rep> deadline_ns_{std::numeric_limits<Clock::rep>::max()};

  mutable absl::Mutex mu_;
  std::vector<int> done_ ABSL_GUARDED_BY(mu_);  // Rounds finished; INT_MAX once left.
  bool steady_ ABSL_GUARDED_BY(mu_) = false;
  Clock::time_point steady_start_ ABSL_GUARDED_BY(mu_);
  Clock::time_point end_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// Worker.

// Sends series [begin, end) of the dataset over one connection, round after
// round. Prepare() and Run() are called from one thread; stats() after Run()
// has returned. Dataset, Options, Coordinator and endpoints outlive it.
class Worker {
 public:
  Worker(int index, int begin, int end, const Dataset* ds, const Options* opt,
         Coordinator* coordinator, const std::vector<Endpoint>* endpoints,
         absl::string_view head_prefix)
      : index_(index),
        begin_(begin),
        end_(end),
        ds_(ds),
        opt_(opt),
        coordinator_(coordinator),
        head_prefix_(head_prefix),
        conn_(endpoints, opt->timeout_ms) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Encodes every series' labels and every request.
  void Prepare();
  void Run();
  const WorkerStats& stats() const { return stats_; }

 private:
  struct Request {
    int begin = 0;  // Shard-local series [begin, end).
    int end = 0;
    std::string body;                 // The encoded WriteRequest.
    std::vector<uint32_t> sample_at;  // Offset of each series' Sample in body.
    bool dirty = true;                // Labels changed since body was encoded.
  };

  int size() const { return end_ - begin_; }
  void Churn();
  void Encode(Request* req);
  void Patch(Request* req, int round);
  void Send(Request* req, int round);
  // Decodes `req` with the generated protobuf classes and checks it against
  // the dataset; aborts on a mismatch (an encoder bug).
  void Verify(const Request& req, int round) const;

  const int index_;
  const int begin_;
  const int end_;
  const Dataset* const ds_;
  const Options* const opt_;
  Coordinator* const coordinator_;
  const std::string head_prefix_;  // Up to the Content-Length value.

  // The encoded TimeSeries.labels fields of every series, back to back:
  // series i has labels_[labels_at_[i], labels_at_[i + 1]), and a churn label
  // sorts at labels_[churn_at_[i]]. Freed after Prepare() without --churn.
  std::string labels_;
  std::vector<uint32_t> labels_at_;
  std::vector<uint32_t> churn_at_;
  std::vector<uint32_t> generation_;  // Churn label value; 0: none.
  std::vector<uint32_t> phase_ms_;    // Timestamp offset within a round.
  std::vector<SeriesCursor> cursors_;
  std::vector<Request> requests_;
  uint32_t max_phase_ms_ = 0;
  double churn_credit_ = 0;
  int churn_next_ = 0;
  bool verify_first_ = true;                         // Verify the first request sent,
  bool verify_churn_ = true;                         // and the first one re-encoded after churn.
  std::chrono::milliseconds backoff_ = kMinBackoff;  // After a connection error.

  std::string churn_label_;
  std::string compressed_;
  std::string head_;
  HttpConnection conn_;
  Response response_;
  WorkerStats stats_;
};

void Worker::Prepare() {
  const size_t n = static_cast<size_t>(size());
  cursors_.reserve(n);
  labels_at_.reserve(n + 1);
  churn_at_.reserve(n);
  phase_ms_.reserve(n);
  for (int s = begin_; s < end_; ++s) {
    auto pairs = ds_->SeriesPairs(s);
    std::sort(pairs.begin(), pairs.end());  // Receivers need labels sorted by name.
    labels_at_.push_back(static_cast<uint32_t>(labels_.size()));
    bool churn_placed = false;
    for (const auto& [name, value] : pairs) {
      if (!churn_placed && absl::string_view(name) > kChurnLabel) {
        churn_at_.push_back(static_cast<uint32_t>(labels_.size()));
        churn_placed = true;
      }
      PutLabel(&labels_, name, value);
    }
    if (!churn_placed) churn_at_.push_back(static_cast<uint32_t>(labels_.size()));
    cursors_.push_back(ds_->Cursor(s));
    // Each host is "scraped" at its own offset within the interval.
    uint64_t host = static_cast<uint64_t>(ds_->HostOf(s));
    phase_ms_.push_back(
        static_cast<uint32_t>(Mix64(host + 1) % static_cast<uint64_t>(opt_->interval_ms)));
    max_phase_ms_ = std::max(max_phase_ms_, phase_ms_.back());
  }
  labels_at_.push_back(static_cast<uint32_t>(labels_.size()));
  generation_.assign(n, 0);

  for (int b = 0; b < size(); b += opt_->samples_per_request) {
    Request& req = requests_.emplace_back();
    req.begin = b;
    req.end = std::min(size(), b + opt_->samples_per_request);
    Encode(&req);
  }
  if (opt_->churn == 0) {
    std::string().swap(labels_);
    std::vector<uint32_t>().swap(labels_at_);
    std::vector<uint32_t>().swap(churn_at_);
  }
}

void Worker::Encode(Request* req) {
  std::string& body = req->body;
  body.clear();
  req->sample_at.resize(static_cast<size_t>(req->end - req->begin));
  for (int i = req->begin; i < req->end; ++i) {
    absl::string_view labels(labels_.data() + labels_at_[i], labels_at_[i + 1] - labels_at_[i]);
    size_t split = churn_at_[i] - labels_at_[i];
    churn_label_.clear();
    if (generation_[i] > 0) {
      PutLabel(&churn_label_, kChurnLabel, absl::AlphaNum(generation_[i]).Piece());
    }
    body.push_back(kTagField1Len);
    PutVarint(&body, labels.size() + churn_label_.size() + 2 + kSampleBytes);
    body.append(labels.data(), split);
    body.append(churn_label_);
    body.append(labels.data() + split, labels.size() - split);
    body.push_back(kTagField2Len);
    body.push_back(static_cast<char>(kSampleBytes));
    req->sample_at[static_cast<size_t>(i - req->begin)] = static_cast<uint32_t>(body.size());
    body.push_back(kTagSampleValue);
    body.append(8, '\0');
    body.push_back(kTagSampleTimestamp);
    body.append(kTimestampBytes, '\0');  // Patched before sending.
  }
  req->dirty = false;
}

void Worker::Churn() {
  churn_credit_ += opt_->churn * size();
  int64_t k = std::min<int64_t>(static_cast<int64_t>(churn_credit_), size());
  churn_credit_ -= static_cast<double>(k);
  for (; k > 0; --k) {
    int i = churn_next_;
    churn_next_ = (churn_next_ + 1) % size();
    ++generation_[static_cast<size_t>(i)];
    requests_[static_cast<size_t>(i / opt_->samples_per_request)].dirty = true;
    ++stats_.series_churned;
  }
}

void Worker::Patch(Request* req, int round) {
  if (req->dirty) Encode(req);
  const int64_t base = opt_->start_ms + int64_t{round} * opt_->interval_ms;
  char* body = req->body.data();
  const size_t n = req->sample_at.size();
  const uint32_t* sample_at = req->sample_at.data();
  const uint32_t* phase_ms = phase_ms_.data() + req->begin;
  SeriesCursor* cursors = cursors_.data() + req->begin;
  for (size_t j = 0; j < n; ++j) {
    PatchSample(body + sample_at[j], cursors[j].Next().v, base + phase_ms[j]);
  }
}

void Worker::Verify(const Request& req, int round) const {
  vigil::prompb::WriteRequest decoded;
  auto fail = [&](absl::string_view what) {
    std::fprintf(stderr, "remote_write_load: encoder bug: %s\n", std::string(what).c_str());
    std::abort();
  };
  if (!decoded.ParseFromArray(req.body.data(), static_cast<int>(req.body.size()))) {
    fail("WriteRequest does not parse");
  }
  if (decoded.timeseries_size() != req.end - req.begin) fail("wrong number of series");
  const int64_t base = opt_->start_ms + int64_t{round} * opt_->interval_ms;
  for (int i = req.begin; i < req.end; ++i) {
    const vigil::prompb::TimeSeries& ts = decoded.timeseries(i - req.begin);
    auto want = ds_->SeriesPairs(begin_ + i);
    if (generation_[static_cast<size_t>(i)] > 0) {
      want.emplace_back(std::string(kChurnLabel),
                        absl::StrCat(generation_[static_cast<size_t>(i)]));
    }
    std::sort(want.begin(), want.end());
    if (ts.labels_size() != static_cast<int>(want.size())) fail("wrong number of labels");
    for (int j = 0; j < ts.labels_size(); ++j) {
      if (ts.labels(j).name() != want[static_cast<size_t>(j)].first ||
          ts.labels(j).value() != want[static_cast<size_t>(j)].second) {
        fail(absl::StrCat("label ", j, " of series ", begin_ + i, " is ", ts.labels(j).name()));
      }
    }
    if (ts.samples_size() != 1) fail("not one sample per series");
    if (ts.samples(0).timestamp() != base + phase_ms_[static_cast<size_t>(i)]) {
      fail(absl::StrCat("timestamp ", ts.samples(0).timestamp()));
    }
    double v;
    std::memcpy(&v,
                req.body.data() + req.sample_at[static_cast<size_t>(i - req.begin)] + kValueOffset,
                sizeof(v));
    if (std::bit_cast<uint64_t>(v) != std::bit_cast<uint64_t>(ts.samples(0).value())) {
      fail("sample value");
    }
  }
}

void Worker::Send(Request* req, int round) {
  const bool warmup = round < opt_->warmup_rounds;
  PhaseStats& phase = warmup ? stats_.warmup : stats_.steady;
  const double cpu0 = ThreadCpuSeconds();
  const bool churned = req->dirty;  // Prepare() encoded every request.
  Patch(req, round);
  double verify_cpu_s = 0;  // Not part of the encoding cost.
  if (verify_first_ || (churned && verify_churn_)) {
    const double verify0 = ThreadCpuSeconds();
    Verify(*req, round);
    verify_first_ = false;
    verify_churn_ = verify_churn_ && !churned;
    verify_cpu_s = ThreadCpuSeconds() - verify0;
  }
  const size_t max = snappy::MaxCompressedLength(req->body.size());
  if (compressed_.size() < max) compressed_.resize(max);
  size_t compressed_size = 0;
  snappy::RawCompress(req->body.data(), req->body.size(), compressed_.data(), &compressed_size);
  head_.assign(head_prefix_);
  absl::StrAppend(&head_, compressed_size, "\r\n\r\n");
  phase.encode_cpu_s += ThreadCpuSeconds() - cpu0 - verify_cpu_s;

  const uint64_t samples = static_cast<uint64_t>(req->end - req->begin);
  phase.requests++;
  phase.samples_sent += samples;
  phase.raw_bytes += req->body.size();
  phase.wire_bytes += head_.size() + compressed_size;
  stats_.max_timestamp_ms = std::max(
      stats_.max_timestamp_ms, opt_->start_ms + int64_t{round} * opt_->interval_ms + max_phase_ms_);
  const Clock::time_point t0 = Clock::now();
  absl::Status s =
      conn_.RoundTrip(head_, absl::string_view(compressed_.data(), compressed_size), &response_);
  if (!s.ok()) {
    stats_.connection_errors.Add(samples, s.message());
    // Back off, so that a server that is down is not hammered with connects.
    std::this_thread::sleep_for(backoff_);
    backoff_ = std::min(2 * backoff_, kMaxBackoff);
    return;
  }
  backoff_ = kMinBackoff;
  phase.latency_ms.push_back(std::chrono::duration<float, std::milli>(Clock::now() - t0).count());
  if (response_.status >= 200 && response_.status < 300) {
    phase.samples_accepted += samples;
  } else {
    stats_.http_errors[response_.status].Add(samples, response_.body);
  }
}

void Worker::Run() {
  for (int round = 0; coordinator_->BeginRound(round); ++round) {
    int64_t last = opt_->start_ms + int64_t{round + 1} * opt_->interval_ms;
    if (last >= kEndTimestampMs) {
      std::fprintf(stderr, "remote_write_load: timestamps past 2^42 ms; stopping\n");
      break;
    }
    if (round > 0 && opt_->churn > 0) Churn();
    bool stopped = false;
    for (Request& req : requests_) {
      stopped = coordinator_->Expired();
      if (stopped) break;
      Send(&req, round);
    }
    if (stopped) break;
    coordinator_->EndRound(index_);
  }
  stats_.connects = static_cast<uint64_t>(conn_.connects());
  coordinator_->Leave(index_);
}

// ---------------------------------------------------------------------------
// Report.

double Percentile(std::vector<float>* v, double q) {
  if (v->empty()) return 0;
  size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(v->size())));
  k = std::min(v->size() - 1, k > 0 ? k - 1 : 0);
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(k), v->end());
  return (*v)[k];
}

double PerSecond(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(absl::StripAsciiWhitespace(text)), "\"");
}

int Main(int argc, char** argv) {
  InitBenchmarkProcess();
  const Options opt = [&] {
    Options o = ParseOptions(argc, argv);
    if (o.start_ms == 0) {
      int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      o.start_ms = (now_ms - 3600 * 1000) / o.interval_ms * o.interval_ms;
    }
    return o;
  }();
  if (opt.start_ms < kMinTimestampMs || opt.start_ms + opt.interval_ms >= kEndTimestampMs) {
    UsageError("--start_ms must be in [2^35, 2^42) ms");
  }
  absl::StatusOr<Target> target = ParseUrl(opt.url);
  if (!target.ok()) UsageError(target.status().message());
  absl::StatusOr<std::vector<Endpoint>> endpoints = Resolve(*target);
  if (!endpoints.ok()) {
    std::fprintf(stderr, "remote_write_load: %s\n",
                 std::string(endpoints.status().message()).c_str());
    return 2;
  }
  ProcSample server_before;
  if (opt.server_pid != 0) {
    server_before = ReadProc(opt.server_pid);
    if (!server_before.ok) {
      std::fprintf(stderr, "remote_write_load: cannot read /proc/%d\n", opt.server_pid);
      return 2;
    }
  }

  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  DatasetOptions dataset_options;
  dataset_options.num_series = opt.series;
  const Dataset ds(dataset_options);
  const std::string head_prefix =
      absl::StrCat("POST ", target->path, " HTTP/1.1\r\nHost: ", target->authority,
                   "\r\nUser-Agent: ", kUserAgent,
                   "\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n"
                   "X-Prometheus-Remote-Write-Version: 0.1.0\r\nContent-Length: ");

  ProcSample server_steady;
  Clock::time_point start;
  Coordinator coordinator(opt.concurrency, opt, [&] {
    if (opt.server_pid != 0) server_steady = ReadProc(opt.server_pid);
  });
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < opt.concurrency; ++w) {
    int64_t begin = int64_t{opt.series} * w / opt.concurrency;
    int64_t end = int64_t{opt.series} * (w + 1) / opt.concurrency;
    workers.push_back(std::make_unique<Worker>(w, static_cast<int>(begin), static_cast<int>(end),
                                               &ds, &opt, &coordinator, &*endpoints, head_prefix));
  }
  std::printf("remote_write_load: %d series, %d per request, %d connections to %s\n", opt.series,
              opt.samples_per_request, opt.concurrency, opt.url.c_str());
  std::fflush(stdout);
  {
    std::vector<std::thread> threads;
    for (auto& w : workers) threads.emplace_back([&w] { w->Prepare(); });
    for (auto& t : threads) t.join();
  }

  const double client_cpu0 = ProcessCpuSeconds();
  start = Clock::now();
  {
    std::vector<std::thread> threads;
    for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });
    for (auto& t : threads) t.join();
  }
  const double client_cpu = ProcessCpuSeconds() - client_cpu0;
  ProcSample server_after;
  if (opt.server_pid != 0) server_after = ReadProc(opt.server_pid);

  WorkerStats total;
  for (const auto& w : workers) total.Merge(w->stats());
  const bool steady = coordinator.steady();
  const Clock::time_point end = coordinator.end();
  const Clock::time_point steady_start = steady ? coordinator.steady_start() : end;
  const double warmup_s = std::chrono::duration<double>(steady_start - start).count();
  const double steady_s = std::chrono::duration<double>(end - steady_start).count();
  PhaseStats all = total.warmup;
  all.Merge(total.steady);
  const uint64_t accepted = all.samples_accepted;

  // Text report.
  std::printf("timestamps: %lld .. %lld ms (start + r * %lld ms + per-host phase)\n",
              static_cast<long long>(opt.start_ms), static_cast<long long>(total.max_timestamp_ms),
              static_cast<long long>(opt.interval_ms));
  auto phase_line = [](const char* name, PhaseStats* p, double seconds) {
    std::printf(
        "%s: %llu samples sent, %llu accepted in %.2f s = %.0f samples/s; %llu requests, "
        "latency p50 %.1f ms p99 %.1f ms max %.1f ms\n",
        name, static_cast<unsigned long long>(p->samples_sent),
        static_cast<unsigned long long>(p->samples_accepted), seconds,
        PerSecond(p->samples_accepted, seconds), static_cast<unsigned long long>(p->requests),
        Percentile(&p->latency_ms, 0.5), Percentile(&p->latency_ms, 0.99),
        Percentile(&p->latency_ms, 1.0));
  };
  phase_line("warmup", &total.warmup, warmup_s);
  phase_line("steady", &total.steady, steady_s);
  std::printf("series: %d + %llu churned, %llu connections opened\n", opt.series,
              static_cast<unsigned long long>(total.series_churned),
              static_cast<unsigned long long>(total.connects));
  if (all.samples_sent > 0) {
    double n = static_cast<double>(all.samples_sent);
    std::printf(
        "payload: %.1f bytes/sample uncompressed, %.1f on the wire; client encode+compress "
        "%.0f samples per CPU second, process CPU %.2f s\n",
        static_cast<double>(all.raw_bytes) / n, static_cast<double>(all.wire_bytes) / n,
        all.encode_cpu_s > 0 ? n / all.encode_cpu_s : 0, client_cpu);
  }
  uint64_t http_error_requests = 0;
  for (const auto& [status, e] : total.http_errors) {
    http_error_requests += e.requests;
    std::printf("error: HTTP %d: %llu requests (%llu samples), first body %s\n", status,
                static_cast<unsigned long long>(e.requests),
                static_cast<unsigned long long>(e.samples), Quote(e.first).c_str());
  }
  if (total.connection_errors.requests > 0) {
    std::printf("error: connection: %llu requests (%llu samples), first %s\n",
                static_cast<unsigned long long>(total.connection_errors.requests),
                static_cast<unsigned long long>(total.connection_errors.samples),
                Quote(total.connection_errors.first).c_str());
  }
  if (http_error_requests == 0 && total.connection_errors.requests == 0) {
    std::printf("errors: none\n");
  }
  double server_cpu_steady = 0;
  if (opt.server_pid != 0 && server_after.ok) {
    if (!server_steady.ok) server_steady = server_before;
    server_cpu_steady = server_after.cpu_s - server_steady.cpu_s;
    double warm_cpu = server_steady.cpu_s - server_before.cpu_s;
    auto per_million = [](double cpu, uint64_t samples) {
      return samples > 0 ? cpu * 1e6 / static_cast<double>(samples) : 0;
    };
    std::printf(
        "server pid %d: CPU %.2f s warmup (%.2f s per 1M samples), %.2f s steady (%.2f s per 1M "
        "samples); RSS %.1f -> %.1f MiB\n",
        opt.server_pid, warm_cpu, per_million(warm_cpu, total.warmup.samples_accepted),
        server_cpu_steady, per_million(server_cpu_steady, total.steady.samples_accepted),
        server_before.rss_mib, server_after.rss_mib);
  } else if (opt.server_pid != 0) {
    std::printf("server pid %d: gone before the end\n", opt.server_pid);
  }
  std::fflush(stdout);

  // Machine-readable lines; latency and rate are the steady phase's.
  PrintResult("samples_sent", static_cast<double>(all.samples_sent));
  PrintResult("samples_accepted", static_cast<double>(accepted));
  PrintResult("samples_per_s", PerSecond(total.steady.samples_accepted, steady_s));
  PrintResult("warmup_samples_per_s", PerSecond(total.warmup.samples_accepted, warmup_s));
  PrintResult("requests", static_cast<double>(all.requests));
  PrintResult("latency_p50_ms", Percentile(&total.steady.latency_ms, 0.5));
  PrintResult("latency_p99_ms", Percentile(&total.steady.latency_ms, 0.99));
  PrintResult("latency_max_ms", Percentile(&total.steady.latency_ms, 1.0));
  PrintResult("http_errors", static_cast<double>(http_error_requests));
  PrintResult("connection_errors", static_cast<double>(total.connection_errors.requests));
  PrintResult("series_created",
              static_cast<double>(opt.series) + static_cast<double>(total.series_churned));
  PrintResult("client_cpu_s", client_cpu);
  PrintResult("client_encode_samples_per_cpu_s",
              all.encode_cpu_s > 0 ? static_cast<double>(all.samples_sent) / all.encode_cpu_s : 0);
  PrintResult("wire_bytes_per_sample",
              all.samples_sent > 0
                  ? static_cast<double>(all.wire_bytes) / static_cast<double>(all.samples_sent)
                  : 0);
  if (opt.server_pid != 0 && server_after.ok) {
    PrintResult("server_cpu_s", server_after.cpu_s - server_before.cpu_s);
    PrintResult("server_cpu_s_per_1m_samples",
                total.steady.samples_accepted > 0
                    ? server_cpu_steady * 1e6 / static_cast<double>(total.steady.samples_accepted)
                    : 0);
    PrintResult("server_rss_before_mib", server_before.rss_mib);
    PrintResult("server_rss_after_mib", server_after.rss_mib);
  }
  if (accepted == 0) {
    std::fprintf(stderr, "remote_write_load: no sample was accepted\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Main(argc, argv); }
