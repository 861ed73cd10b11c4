// static_exporter: many cheap scrape targets for the end-to-end scrape
// benchmark (scripts/bench-scrape-vs-prometheus.sh, docs/bench-scrape.md).
//
// Listens on --targets consecutive ports of --listen_host starting at
// --base_port; each port is a distinct target (Prometheus drops duplicate
// targets, so targets must differ by address). GET /metrics on any of them
// answers a text-format 0.0.4 page of exactly --series samples shaped like
// a Go service's RED metrics: request counters by method, path and code,
// latency and size histograms, in-flight gauges, database and cache
// metrics, and process/runtime gauges (about 20 families with HELP and
// TYPE).
//
// Values move with time, so no two scrapes of a target see the same page:
// counters grow at a per-series rate (times a per-target factor), gauges
// follow slow sine waves, histogram buckets stay cumulative. Each line's
// name and labels are rendered once at startup; a request only formats the
// values.
//
// One thread, non-blocking sockets and level-triggered epoll; HTTP/1.1
// keep-alive (and pipelining), `Connection: close` and HTTP/1.0 are
// understood. Accept-Encoding is ignored: bodies are always sent as
// identity. The process raises RLIMIT_NOFILE to what it needs.
//
// --dump prints target 0's page to stdout and exits (check the page with
// `promtool check metrics`).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "gflags/gflags.h"

DEFINE_string(listen_host, "127.0.0.1", "IPv4 address to listen on.");
DEFINE_int32(base_port, 0, "First port; targets listen on base_port .. base_port+targets-1.");
DEFINE_int32(targets, 1000, "Number of targets (consecutive ports).");
DEFINE_int32(series, 1000, "Samples on each target's page.");
DEFINE_bool(dump, false, "Print target 0's page to stdout and exit.");

namespace vigil::bench {
namespace {

// How a value-bearing line gets its value at time t (seconds of simulated
// uptime) on a target whose rate factor is f.
enum class ValueKind : uint8_t {
  kText,          // No value: HELP/TYPE lines, rendered whole.
  kConst,         // a.
  kCounter,       // floor(a * f * t * b): request counts, histogram buckets
                  // (b = fraction at or below le; 1 for _count and +Inf).
  kCounterFloat,  // a * f * t * b: CPU seconds, histogram _sum (b = mean).
  kGauge,         // a + b * sin(2 pi t / c + phase).
  kGaugeInt,      // round(kGauge).
};

// One line of the page. Text lives in Page::text_; for value lines it is
// "name{labels} " and the value and '\n' are appended per request.
struct Line {
  uint32_t text_offset = 0;
  uint32_t text_length = 0;
  ValueKind kind = ValueKind::kText;
  double a = 0;
  double b = 0;
  double c = 0;
  double phase = 0;
};

// Simulated uptime at startup, so that counters look like a long-running
// process rather than starting at zero.
constexpr double kUptimeOffsetS = 86400;
constexpr double kStartTime = 1.7e9;

// Prometheus client_golang's default latency buckets.
constexpr std::array<double, 11> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10};
constexpr std::array<double, 5> kSizeBuckets = {100, 1000, 10000, 100000, 1e6};
constexpr std::array<std::string_view, 4> kMethods = {"GET", "POST", "PUT", "DELETE"};
constexpr std::array<std::string_view, 12> kResources = {
    "users",  "orders",   "products", "carts",  "payments", "sessions",
    "search", "invoices", "reviews",  "stocks", "accounts", "shipments"};
constexpr std::array<std::string_view, 4> kCodes = {"200", "400", "404", "500"};
constexpr std::array<double, 4> kCodeShare = {0.93, 0.03, 0.03, 0.01};

// Series on a page that do not depend on the number of routes (counted by
// Page's constructor; see AddFixedFamilies) and series per HTTP route.
constexpr int kSeriesPerRoute = static_cast<int>(kCodes.size()) +        // requests_total
                                static_cast<int>(kLatencyBuckets.size()) + 3 +  // +Inf sum count
                                static_cast<int>(kSizeBuckets.size()) + 3 +     // +Inf sum count
                                1;                                              // in_flight

// Fraction of observations at or below `le` for a latency distribution with
// the given mean (exponential; good enough for plausible buckets).
double Below(double le, double mean) { return 1 - std::exp(-le / mean); }

// A page template: every target's page has these lines; targets differ
// only in their rate factor.
//
// Not thread-safe (one thread uses it).
class Page {
 public:
  // Builds the lines of a page with exactly `series` samples: as many
  // whole HTTP routes as fit beside the fixed families, then the fixed
  // families (cut short if `series` is below their size), then a tenant
  // gauge family taking the remainder.
  explicit Page(int series) {
    // Count the fixed families by building them into a throwaway page.
    Page probe;
    probe.budget_ = 1 << 30;
    probe.AddFixedFamilies();
    const int fixed = probe.samples_;

    budget_ = series;
    const int routes = series > fixed ? (series - fixed) / kSeriesPerRoute : 0;
    AddHttpFamilies(routes);
    AddFixedFamilies();
    AddTenantFamily();
  }
  Page(const Page&) = delete;
  Page& operator=(const Page&) = delete;

  int samples() const { return samples_; }

  // Appends the page of a target with rate factor `factor` at simulated
  // uptime `t` (seconds) to *out.
  void Render(double t, double factor, std::string* out) const {
    const size_t start = out->size();
    out->resize(start + max_size_);
    char* p = out->data() + start;
    for (const Line& line : lines_) {
      std::memcpy(p, text_.data() + line.text_offset, line.text_length);
      p += line.text_length;
      if (line.kind == ValueKind::kText) continue;
      p = FormatValue(line, t, factor, p);
      *p++ = '\n';
    }
    out->resize(static_cast<size_t>(p - out->data()));
  }

 private:
  // Longest value text (a double's shortest form is at most 24 characters)
  // plus the newline.
  static constexpr size_t kMaxValueChars = 32;

  Page() = default;

  static char* FormatValue(const Line& line, double t, double factor, char* p) {
    double v = 0;
    bool integer = false;
    switch (line.kind) {
      case ValueKind::kText:
        return p;
      case ValueKind::kConst:
        v = line.a;
        break;
      case ValueKind::kCounter:
        v = std::floor(line.a * factor * t * line.b);
        integer = true;
        break;
      case ValueKind::kCounterFloat:
        v = line.a * factor * t * line.b;
        break;
      case ValueKind::kGauge:
      case ValueKind::kGaugeInt:
        v = line.a * factor +
            line.b * std::sin(2 * std::numbers::pi * t / line.c + line.phase);
        if (line.kind == ValueKind::kGaugeInt) {
          v = std::round(v);
          integer = true;
        }
        break;
    }
    if (integer && std::fabs(v) < 9e15) {
      return std::to_chars(p, p + kMaxValueChars, static_cast<int64_t>(v)).ptr;
    }
    return std::to_chars(p, p + kMaxValueChars, v).ptr;
  }

  // Starts a family: its HELP and TYPE lines are written by the first
  // sample that fits the budget, so a family cut to nothing leaves no
  // trace on the page.
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    pending_header_ = "# HELP ";
    pending_header_.append(name).append(" ").append(help).append("\n# TYPE ");
    pending_header_.append(name).append(" ").append(type).append("\n");
  }

  // Adds a sample line "name{labels} value" if the budget allows. `labels`
  // is the rendered label list without braces ("" for none).
  void Sample(std::string_view name, std::string_view labels, Line line) {
    if (samples_ >= budget_) return;
    if (!pending_header_.empty()) {
      AddText(pending_header_, ValueKind::kText, Line{});
      pending_header_.clear();
    }
    std::string text(name);
    if (!labels.empty()) text.append("{").append(labels).append("}");
    text.append(" ");
    AddText(text, line.kind, line);
    ++samples_;
  }

  void AddText(std::string_view text, ValueKind kind, Line line) {
    line.text_offset = static_cast<uint32_t>(text_.size());
    line.text_length = static_cast<uint32_t>(text.size());
    line.kind = kind;
    line.phase = static_cast<double>(lines_.size() % 628) / 100;
    text_.append(text);
    lines_.push_back(line);
    max_size_ += text.size() + (kind == ValueKind::kText ? 0 : kMaxValueChars + 1);
  }

  static Line Counter(double rate, double share = 1) {
    return {.kind = ValueKind::kCounter, .a = rate, .b = share};
  }
  static Line CounterFloat(double rate, double scale = 1) {
    return {.kind = ValueKind::kCounterFloat, .a = rate, .b = scale};
  }
  static Line Gauge(double base, double amplitude, double period_s) {
    return {.kind = ValueKind::kGauge, .a = base, .b = amplitude, .c = period_s};
  }
  static Line GaugeInt(double base, double amplitude, double period_s) {
    return {.kind = ValueKind::kGaugeInt, .a = base, .b = amplitude, .c = period_s};
  }
  static Line Const(double v) { return {.kind = ValueKind::kConst, .a = v}; }

  static std::string FormatLe(double le) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof(buf), le).ptr);
  }

  // A classic histogram of `rate` observations per second with the given
  // mean under `labels` (rendered, possibly empty).
  void Histogram(std::string_view name, std::string_view labels, double rate,
                 double mean, const double* bounds, size_t n) {
    const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
    const std::string bucket = std::string(name) + "_bucket";
    for (size_t i = 0; i < n; ++i) {
      Sample(bucket, prefix + "le=\"" + FormatLe(bounds[i]) + "\"",
             Counter(rate, Below(bounds[i], mean)));
    }
    Sample(bucket, prefix + "le=\"+Inf\"", Counter(rate));
    Sample(std::string(name) + "_sum", labels, CounterFloat(rate, mean));
    Sample(std::string(name) + "_count", labels, Counter(rate));
  }

  static std::string RouteLabels(int route) {
    const std::string_view method = kMethods[static_cast<size_t>(route) % kMethods.size()];
    const size_t r = static_cast<size_t>(route) / kMethods.size();
    std::string path = "/api/v1/";
    path.append(kResources[r % kResources.size()]);
    if (r >= kResources.size()) path.append("/v").append(std::to_string(r / kResources.size()));
    if (route % 3 == 1) path.append("/:id");
    return "method=\"" + std::string(method) + "\",path=\"" + path + "\"";
  }

  void AddHttpFamilies(int routes) {
    Family("http_requests_total", "counter", "Total HTTP requests by method, path and code.");
    for (int r = 0; r < routes; ++r) {
      const std::string labels = RouteLabels(r);
      const double rate = 0.5 + (r * 37 % 100) / 4.0;
      for (size_t c = 0; c < kCodes.size(); ++c) {
        Sample("http_requests_total", labels + ",code=\"" + std::string(kCodes[c]) + "\"",
               Counter(rate, kCodeShare[c]));
      }
    }
    Family("http_request_duration_seconds", "histogram",
           "HTTP request latency in seconds.");
    for (int r = 0; r < routes; ++r) {
      Histogram("http_request_duration_seconds", RouteLabels(r), 0.5 + (r * 37 % 100) / 4.0,
                0.02 + (r % 7) * 0.03, kLatencyBuckets.data(), kLatencyBuckets.size());
    }
    Family("http_response_size_bytes", "histogram", "HTTP response size in bytes.");
    for (int r = 0; r < routes; ++r) {
      Histogram("http_response_size_bytes", RouteLabels(r), 0.5 + (r * 37 % 100) / 4.0,
                800 + (r % 5) * 4000, kSizeBuckets.data(), kSizeBuckets.size());
    }
    Family("http_requests_in_flight", "gauge", "HTTP requests being served.");
    for (int r = 0; r < routes; ++r) {
      Sample("http_requests_in_flight", RouteLabels(r), GaugeInt(4, 3, 120 + r));
    }
  }

  void AddFixedFamilies() {
    Family("db_query_duration_seconds", "histogram", "Database query latency in seconds.");
    for (std::string_view db : {"primary", "replica"}) {
      for (std::string_view op : {"select", "insert", "update", "delete"}) {
        Histogram("db_query_duration_seconds",
                  "db=\"" + std::string(db) + "\",operation=\"" + std::string(op) + "\"",
                  op == "select" ? 40 : 5, op == "select" ? 0.004 : 0.012,
                  kLatencyBuckets.data(), kLatencyBuckets.size());
      }
    }
    Family("cache_requests_total", "counter", "Cache lookups by cache and result.");
    for (std::string_view cache : {"sessions", "products", "prices"}) {
      Sample("cache_requests_total", "cache=\"" + std::string(cache) + "\",result=\"hit\"",
             Counter(120, 0.9));
      Sample("cache_requests_total", "cache=\"" + std::string(cache) + "\",result=\"miss\"",
             Counter(120, 0.1));
    }
    Family("queue_depth", "gauge", "Jobs waiting in each queue.");
    for (std::string_view q : {"email", "billing", "export", "webhooks"}) {
      Sample("queue_depth", "queue=\"" + std::string(q) + "\"", GaugeInt(30, 25, 300));
    }
    Family("jobs_processed_total", "counter", "Background jobs processed by queue and status.");
    for (std::string_view q : {"email", "billing", "export", "webhooks"}) {
      for (std::string_view status : {"ok", "retry", "failed"}) {
        Sample("jobs_processed_total",
               "queue=\"" + std::string(q) + "\",status=\"" + std::string(status) + "\"",
               Counter(3, status == "ok" ? 0.97 : 0.015));
      }
    }
    Family("grpc_client_handled_total", "counter",
           "RPCs completed by the client, by service, method and code.");
    for (std::string_view svc : {"inventory.Inventory", "auth.Auth"}) {
      for (std::string_view m : {"Get", "List", "Check"}) {
        for (std::string_view code : {"OK", "Unavailable"}) {
          Sample("grpc_client_handled_total",
                 "grpc_service=\"" + std::string(svc) + "\",grpc_method=\"" + std::string(m) +
                     "\",grpc_code=\"" + std::string(code) + "\"",
                 Counter(20, code == "OK" ? 0.999 : 0.001));
        }
      }
    }
    Family("app_build_info", "gauge", "Build information; always 1.");
    Sample("app_build_info", "version=\"1.42.0\",revision=\"3f9c2ab\",goversion=\"go1.19.8\"",
           Const(1));
    Family("go_gc_duration_seconds", "summary", "A summary of the GC pause durations.");
    for (std::string_view q : {"0", "0.25", "0.5", "0.75", "1"}) {
      const double base = 2e-5 * (1 + 4 * std::stod(std::string(q)));
      Sample("go_gc_duration_seconds", "quantile=\"" + std::string(q) + "\"",
             Gauge(base, base / 4, 90));
    }
    Sample("go_gc_duration_seconds_sum", "", CounterFloat(0.002));
    Sample("go_gc_duration_seconds_count", "", Counter(0.05));
    Family("go_goroutines", "gauge", "Number of goroutines that currently exist.");
    Sample("go_goroutines", "", GaugeInt(180, 40, 200));
    Family("go_memstats_heap_alloc_bytes", "gauge", "Heap bytes allocated and in use.");
    Sample("go_memstats_heap_alloc_bytes", "", GaugeInt(5.2e7, 1.5e7, 60));
    Family("process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds.");
    Sample("process_cpu_seconds_total", "", CounterFloat(0.12));
    Family("process_open_fds", "gauge", "Number of open file descriptors.");
    Sample("process_open_fds", "", GaugeInt(64, 8, 400));
    Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    Sample("process_resident_memory_bytes", "", GaugeInt(1.1e8, 2e7, 600));
    Family("process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
    Sample("process_start_time_seconds", "", Const(kStartTime));
  }

  // Whatever the budget has left: per-tenant session gauges.
  void AddTenantFamily() {
    Family("app_tenant_active_sessions", "gauge", "Active sessions per tenant.");
    static constexpr std::array<std::string_view, 3> kRegions = {"eu-west-1", "us-east-1",
                                                                 "ap-south-1"};
    for (int i = 0; samples_ < budget_; ++i) {
      Sample("app_tenant_active_sessions",
             "tenant=\"t" + std::to_string(1000 + i) + "\",region=\"" +
                 std::string(kRegions[static_cast<size_t>(i) % kRegions.size()]) + "\"",
             GaugeInt(50 + i % 200, 20, 180 + i));
    }
  }

  std::string text_;
  std::vector<Line> lines_;
  std::string pending_header_;
  size_t max_size_ = 0;
  int samples_ = 0;
  int budget_ = 0;
};

// The per-target rate factor in [0.5, 1.5).
double TargetFactor(int target) {
  return 0.5 + static_cast<double>((static_cast<uint64_t>(target) * 2654435761u) % 1000) / 1000;
}

double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// Largest request head (request line and headers) accepted.
constexpr size_t kMaxRequestHead = 16 * 1024;
constexpr int kListenBacklog = 512;
// Output buffer capacity a connection keeps between responses.
constexpr size_t kKeptBufferBytes = 4096;
// epoll data: listeners carry this bit and their target index; connections
// carry their fd.
constexpr uint64_t kListenerTag = uint64_t{1} << 63;

struct Connection {
  int fd = -1;
  int target = 0;
  std::string in;
  std::string out;
  size_t out_pos = 0;
  bool close_after_write = false;
  bool polling_out = false;
};

// True if the comma-separated header value contains `token`
// (case-insensitive).
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() == token.size() && strncasecmp(item.data(), token.data(), token.size()) == 0) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// The exporter: listeners, connections and the event loop.
//
// Not thread-safe: Run() is the only thread.
class Server {
 public:
  Server(const Page* page, int base_port, int targets)
      : page_(page), base_port_(base_port), targets_(targets), start_(MonotonicSeconds()) {}
  ~Server() {
    for (auto& c : conns_) {
      if (c != nullptr) close(c->fd);
    }
    for (int fd : listeners_) close(fd);
    if (epfd_ >= 0) close(epfd_);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every port. Returns false (after printing why) on failure.
  bool Listen(const std::string& host) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) return Fail("epoll_create1");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      std::fprintf(stderr, "static_exporter: bad --listen_host %s\n", host.c_str());
      return false;
    }
    for (int i = 0; i < targets_; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return Fail("socket");
      listeners_.push_back(fd);
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      addr.sin_port = htons(static_cast<uint16_t>(base_port_ + i));
      if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        std::fprintf(stderr, "static_exporter: bind %s:%d: %s\n", host.c_str(), base_port_ + i,
                     std::strerror(errno));
        return false;
      }
      if (listen(fd, kListenBacklog) != 0) return Fail("listen");
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenerTag | static_cast<uint64_t>(i);
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return Fail("epoll_ctl");
    }
    return true;
  }

  // Serves until SIGINT/SIGTERM.
  void Run() {
    std::array<epoll_event, 256> events;
    while (!g_stop) {
      const int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        Fail("epoll_wait");
        return;
      }
      for (int i = 0; i < n; ++i) {
        const uint64_t data = events[static_cast<size_t>(i)].data.u64;
        if (data & kListenerTag) {
          Accept(static_cast<int>(data & ~kListenerTag));
          continue;
        }
        const int fd = static_cast<int>(data);
        Connection* c = Get(fd);
        if (c == nullptr) continue;
        const uint32_t ev = events[static_cast<size_t>(i)].events;
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
          if (!ReadAndServe(c)) {
            Close(c);
            continue;
          }
        }
        if (!Flush(c)) Close(c);
      }
    }
  }

  uint64_t requests() const { return requests_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t connections() const { return accepted_; }

 private:
  static bool Fail(const char* what) {
    std::fprintf(stderr, "static_exporter: %s: %s\n", what, std::strerror(errno));
    return false;
  }

  Connection* Get(int fd) {
    if (fd < 0 || static_cast<size_t>(fd) >= conns_.size()) return nullptr;
    return conns_[static_cast<size_t>(fd)].get();
  }

  void Accept(int target) {
    const int lfd = listeners_[static_cast<size_t>(target)];
    for (;;) {
      const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
          Fail("accept4");  // EMFILE and the like: keep serving the others.
        }
        return;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (static_cast<size_t>(fd) >= conns_.size()) conns_.resize(static_cast<size_t>(fd) + 1);
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      c->target = target;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = static_cast<uint64_t>(fd);
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        Fail("epoll_ctl");
        close(fd);
        continue;
      }
      conns_[static_cast<size_t>(fd)] = std::move(c);
      ++accepted_;
    }
  }

  void Close(Connection* c) {
    const int fd = c->fd;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns_[static_cast<size_t>(fd)].reset();
  }

  // Reads what is there and queues responses to every complete request.
  // Returns false if the connection should be closed now.
  bool ReadAndServe(Connection* c) {
    char buf[16 * 1024];
    bool eof = false;
    for (;;) {
      const ssize_t n = read(c->fd, buf, sizeof(buf));
      if (n > 0) {
        c->in.append(buf, static_cast<size_t>(n));
        if (c->in.size() > 4 * kMaxRequestHead) break;  // Serve what we have first.
        continue;
      }
      if (n == 0) {
        eof = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    while (!c->close_after_write && ServeOne(c)) {
    }
    if (c->in.size() > kMaxRequestHead && !c->close_after_write) {
      Respond(c, 431, "Request Header Fields Too Large", /*head_only=*/false, /*close=*/true);
      c->in.clear();
    }
    // A client that half-closed still gets its responses; one that has
    // nothing pending is done.
    if (eof) {
      if (c->out_pos == c->out.size()) return false;
      c->close_after_write = true;
    }
    return true;
  }

  // Serves the first complete request in c->in, if any, and consumes it.
  bool ServeOne(Connection* c) {
    const size_t end = c->in.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string_view head(c->in.data(), end);
    const size_t eol = head.find("\r\n");
    const std::string_view request_line = head.substr(0, eol);
    std::string_view headers =
        eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);

    // "METHOD TARGET VERSION"
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) {
      Respond(c, 400, "Bad Request", false, true);
      return false;
    }
    const std::string_view method = request_line.substr(0, sp1);
    std::string_view path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = request_line.substr(sp2 + 1);
    if (const size_t q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

    bool keep_alive = version == "HTTP/1.1";
    size_t content_length = 0;
    while (!headers.empty()) {
      const size_t e = headers.find("\r\n");
      const std::string_view h = headers.substr(0, e);
      headers = e == std::string_view::npos ? std::string_view() : headers.substr(e + 2);
      const size_t colon = h.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = h.substr(0, colon);
      std::string_view value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name.size() == 10 && strncasecmp(name.data(), "connection", 10) == 0) {
        if (HasToken(value, "close")) keep_alive = false;
        if (HasToken(value, "keep-alive")) keep_alive = true;
      } else if (name.size() == 14 && strncasecmp(name.data(), "content-length", 14) == 0) {
        const auto r = std::from_chars(value.data(), value.data() + value.size(), content_length);
        if (r.ec != std::errc()) {
          Respond(c, 400, "Bad Request", false, true);
          return false;
        }
      }
    }
    const size_t consumed = end + 4 + content_length;
    if (c->in.size() < consumed) return false;  // Wait for the body.

    const bool head_only = method == "HEAD";
    if (method != "GET" && !head_only) {
      Respond(c, 405, "Method Not Allowed", head_only, !keep_alive);
    } else if (path == "/metrics") {
      body_.clear();
      page_->Render(MonotonicSeconds() - start_ + kUptimeOffsetS, TargetFactor(c->target),
                    &body_);
      AppendHead(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body_.size(),
                 !keep_alive);
      if (!head_only) c->out.append(body_);
    } else {
      Respond(c, 404, "Not Found", head_only, !keep_alive);
    }
    ++requests_;
    c->in.erase(0, consumed);
    if (!keep_alive) c->close_after_write = true;
    return true;
  }

  void AppendHead(Connection* c, int code, std::string_view reason,
                  std::string_view content_type, size_t length, bool close) {
    char head[256];
    const int n = std::snprintf(
        head, sizeof(head),
        "HTTP/1.1 %d %.*s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\n%s\r\n", code,
        static_cast<int>(reason.size()), reason.data(), static_cast<int>(content_type.size()),
        content_type.data(), length, close ? "Connection: close\r\n" : "");
    c->out.append(head, static_cast<size_t>(n));
  }

  void Respond(Connection* c, int code, std::string_view reason, bool head_only, bool close) {
    const std::string body = std::to_string(code) + " " + std::string(reason) + "\n";
    AppendHead(c, code, reason, "text/plain; charset=utf-8", body.size(), close);
    if (!head_only) c->out.append(body);
    if (close) c->close_after_write = true;
  }

  // Writes what it can; polls for EPOLLOUT while output is pending. Returns
  // false if the connection should be closed now.
  bool Flush(Connection* c) {
    while (c->out_pos < c->out.size()) {
      const ssize_t n = send(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos,
                             MSG_NOSIGNAL);
      if (n > 0) {
        c->out_pos += static_cast<size_t>(n);
        bytes_ += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return false;
    }
    const bool pending = c->out_pos < c->out.size();
    if (!pending) {
      // Idle keep-alive connections (two per target) should not each hold
      // a page-sized buffer.
      if (c->out.capacity() > kKeptBufferBytes) {
        std::string().swap(c->out);
      } else {
        c->out.clear();
      }
      c->out_pos = 0;
      if (c->close_after_write) return false;
    }
    if (pending != c->polling_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0u);
      ev.data.u64 = static_cast<uint64_t>(c->fd);
      if (epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev) != 0) return false;
      c->polling_out = pending;
    }
    return true;
  }

  const Page* page_;
  const int base_port_;
  const int targets_;
  const double start_;
  int epfd_ = -1;
  std::vector<int> listeners_;
  std::vector<std::unique_ptr<Connection>> conns_;  // By fd.
  std::string body_;                                // Scratch page.
  uint64_t requests_ = 0;
  uint64_t bytes_ = 0;
  uint64_t accepted_ = 0;
};

// Raises the soft RLIMIT_NOFILE to at least `need` (up to the hard limit).
bool RaiseFileLimit(rlim_t need) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= need) return true;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
    std::fprintf(stderr, "static_exporter: need %llu file descriptors, hard limit is %llu\n",
                 static_cast<unsigned long long>(need),
                 static_cast<unsigned long long>(rl.rlim_max));
    return false;
  }
  rl.rlim_cur = need;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

int Main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "static_exporter --base_port=P [--targets=1000] [--series=1000]: one /metrics page "
      "per port");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_series < 0 || FLAGS_targets <= 0) {
    std::fprintf(stderr, "static_exporter: --targets must be > 0 and --series >= 0\n");
    return 2;
  }
  const Page page(FLAGS_series);
  if (FLAGS_dump) {
    std::string out;
    page.Render(kUptimeOffsetS, TargetFactor(0), &out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (FLAGS_base_port <= 0 || FLAGS_base_port + FLAGS_targets - 1 > 65535) {
    std::fprintf(stderr, "static_exporter: --base_port must be set and the range fit in 1..65535\n");
    return 2;
  }
  // Listeners, two keep-alive connections per target (Vigil and
  // Prometheus) and headroom for reconnects.
  if (!RaiseFileLimit(static_cast<rlim_t>(FLAGS_targets) * 4 + 64)) return 1;

  struct sigaction sa{};
  sa.sa_handler = OnSignal;  // No SA_RESTART: epoll_wait returns EINTR.
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Server server(&page, FLAGS_base_port, FLAGS_targets);
  if (!server.Listen(FLAGS_listen_host)) return 1;
  std::string sample;
  page.Render(kUptimeOffsetS, 1, &sample);
  std::printf("static_exporter: %d targets on %s:%d-%d, %d samples per page (~%zu bytes)\n",
              FLAGS_targets, FLAGS_listen_host.c_str(), FLAGS_base_port,
              FLAGS_base_port + FLAGS_targets - 1, page.samples(), sample.size());
  std::fflush(stdout);
  server.Run();
  std::printf("static_exporter: served %" PRIu64 " requests, %" PRIu64 " bytes on %" PRIu64
              " connections\n",
              server.requests(), server.bytes(), server.connections());
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Main(argc, argv); }
