// Integration with the real Prometheus: Debian's prometheus-node-exporter
// is scraped every second by Prometheus 2.42, which remote-writes (1.0) to
// `vigil serve`, all on 127.0.0.1. After at least kMinScrapes scrapes, and
// once Prometheus reports everything up to a time t1 as sent, Vigil must
// hold exactly the series Prometheus holds up to t1, with the same
// timestamps and bit-identical values.
//
// Prometheus's side is read with its query API (a range selector returns
// raw samples; stale markers are left out), through curl and jq. Vigil has
// no query API yet, so its side is read by opening its data directory
// after it stops.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/value.h"
#include "tests/vigil_process.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

using testing::Proc;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kNodeExporter[] = "/usr/bin/prometheus-node-exporter";
constexpr char kCurl[] = "/usr/bin/curl";
constexpr char kJq[] = "/usr/bin/jq";

constexpr int kMinScrapes = 5;
// Series node_exporter (with the collectors below) and the scrape's own
// series add up to ~215 here; fewer than this means something is off.
constexpr size_t kMinSeries = 100;
constexpr int64_t kRangeMs = 3600 * 1000;  // The [1h] of the queries.
constexpr absl::Duration kStartTimeout = absl::Seconds(20);
// Prometheus waits ~5s for its first service discovery update before the
// first scrape.
constexpr absl::Duration kScrapesTimeout = absl::Seconds(40);
constexpr absl::Duration kSentTimeout = absl::Seconds(20);
constexpr absl::Duration kStopTimeout = absl::Seconds(20);
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

int StartTimeoutMs() {
  return static_cast<int>(absl::ToInt64Milliseconds(kStartTimeout));
}

// Collectors that work in a container and give a stable set of series.
const char* const kCollectors[] = {"cpu",    "meminfo", "loadavg", "filesystem",
                                   "netdev", "stat",    "time",    "uname"};

// Prometheus's remote-write self-metrics (2.42 names).
constexpr char kHighestSent[] =
    "prometheus_remote_storage_queue_highest_sent_timestamp_seconds";
constexpr char kPending[] = "prometheus_remote_storage_samples_pending";
constexpr char kFailed[] = "prometheus_remote_storage_samples_failed_total";
constexpr char kDropped[] = "prometheus_remote_storage_samples_dropped_total";
constexpr char kRetried[] = "prometheus_remote_storage_samples_retried_total";

// $0: node_exporter's port, $1: Vigil's. One remote-write shard sends
// samples in WAL order, so once a sample newer than t1 has been sent, all
// samples up to t1 have been.
constexpr char kPrometheusConfig[] = R"yaml(
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$0']
remote_write:
  - url: http://127.0.0.1:$1/api/v1/write
    queue_config:
      batch_send_deadline: 200ms
      min_shards: 1
      max_shards: 1
)yaml";

// Prints each series of a query result as
//   name US value RS name US value ... GS t US v RS t US v ... FS
// (US, RS, GS, FS = \x1f, \x1e, \x1d, \x1c; t in ms, v as Prometheus
// printed it), so label values may hold anything but those four bytes.
constexpr char kJqProgram[] = R"jq(
if .status != "success" then error("query failed: " + (.error // "?")) else . end
| .data.result[]
| (.metric | to_entries | map(.key + "\u001f" + .value) | join("\u001e"))
  + "\u001d"
  + (.values | map((.[0] * 1000 | round | tostring) + "\u001f" + .[1]) | join("\u001e"))
  + "\u001c"
)jq";

// The result of `up[1h]`: the number of successful scrapes and the newest
// scrape's time in ms, one per line; nothing before the first scrape.
constexpr char kJqUpProgram[] = R"jq(
.data.result[0].values // empty
| (map(select(.[1] == "1")) | length), (.[-1][0] * 1000 | round)
)jq";

using SeriesKey = std::vector<std::pair<std::string, std::string>>;  // Sorted.
struct Point {
  int64_t t;
  double v;
};
using Dataset = std::map<SeriesKey, std::vector<Point>>;

std::string KeyString(const SeriesKey& key) {
  return absl::StrCat("{",
                      absl::StrJoin(key, ", ",
                                    [](std::string* out, const auto& kv) {
                                      absl::StrAppend(out, kv.first, "=\"",
                                                      kv.second, "\"");
                                    }),
                      "}");
}

// "t@v", v in its shortest round-trip form (as Prometheus prints it).
std::string PointString(const Point& p) {
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), p.v);
  return absl::StrCat(p.t, "@",
                      absl::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

// Same value: identical bits, or both NaN (Prometheus's JSON says "NaN"
// whatever the payload).
bool SameValue(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

std::string ShellQuote(absl::string_view s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

// Runs `command` with /bin/sh; its stdout, or an error with the exit status.
absl::StatusOr<std::string> RunShell(const std::string& command) {
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr)
    return absl::InternalError(absl::StrCat("popen: ", command));
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int status = pclose(f);
  if (status != 0) {
    return absl::InternalError(
        absl::StrCat("`", command, "` exited with status ",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
  return out;
}

absl::StatusOr<std::string> HttpGet(int port, absl::string_view path) {
  return RunShell(
      absl::StrCat(kCurl, " -sSf --max-time 10 ",
                   ShellQuote(absl::StrCat("http://127.0.0.1:", port, path))));
}

// GET /api/v1/query with `query` evaluated at `time_ms` into `out_file`.
absl::Status Query(int port, absl::string_view query, int64_t time_ms,
                   const std::string& out_file) {
  std::string time = absl::StrCat(time_ms / 1000, ".",
                                  absl::Dec(time_ms % 1000, absl::kZeroPad3));
  return RunShell(absl::StrCat(kCurl, " -sSfG --max-time 20 -o ",
                               ShellQuote(out_file), " --data-urlencode ",
                               ShellQuote(absl::StrCat("query=", query)),
                               " --data-urlencode ",
                               ShellQuote(absl::StrCat("time=", time)), " ",
                               ShellQuote(absl::StrCat("http://127.0.0.1:",
                                                       port, "/api/v1/query"))))
      .status();
}

// Parses the output of kJqProgram.
absl::StatusOr<Dataset> ParseJqOutput(absl::string_view text) {
  Dataset data;
  for (absl::string_view record :
       absl::StrSplit(text, '\x1c', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(record, '\x1d');
    if (parts.size() != 2)
      return absl::InvalidArgumentError(absl::StrCat("bad record: ", record));
    SeriesKey key;
    for (absl::string_view label :
         absl::StrSplit(parts[0], '\x1e', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(label, absl::MaxSplits('\x1f', 1));
      key.push_back(std::move(kv));
    }
    std::sort(key.begin(), key.end());
    std::vector<Point>& points = data[key];
    for (absl::string_view sample :
         absl::StrSplit(parts[1], '\x1e', absl::SkipEmpty())) {
      std::pair<std::string, std::string> tv =
          absl::StrSplit(sample, absl::MaxSplits('\x1f', 1));
      Point p;
      char* end = nullptr;
      p.v = std::strtod(tv.second.c_str(), &end);
      if (!absl::SimpleAtoi(tv.first, &p.t) || end == tv.second.c_str() ||
          *end != '\0') {
        return absl::InvalidArgumentError(
            absl::StrCat("bad sample in ", KeyString(key), ": ", sample));
      }
      points.push_back(p);
    }
  }
  return data;
}

// The value of the first sample of `name` in a text exposition.
std::optional<double> MetricValue(absl::string_view exposition,
                                  absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    if (absl::ConsumePrefix(&line, "{")) {
      size_t close = line.rfind('}');
      if (close == absl::string_view::npos) continue;
      line.remove_prefix(close + 1);
    } else if (line.empty() || line[0] != ' ') {
      continue;  // A longer name.
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    double v;
    if (!fields.empty() && absl::SimpleAtod(fields[0], &v)) return v;
  }
  return std::nullopt;
}

// A loopback port that was free a moment ago.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

void Drain(Proc* p) { testing::DrainLog(p); }
int Stop(Proc* p, int sig, absl::Duration timeout = kStopTimeout) {
  return testing::StopProcess(p, sig, timeout);
}

// Calls `done` every kPollInterval until it returns true or `timeout`
// passes, draining the children's logs meanwhile.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout,
               const std::vector<Proc*>& procs) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    for (Proc* p : procs) Drain(p);
    if (done()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
}

// Every series Vigil stored in `dir` with samples in [mint, maxt], stale
// markers left out (as Prometheus's query API does).
absl::StatusOr<Dataset> ReadVigil(const std::string& dir, int64_t mint,
                                  int64_t maxt) {
  tsdb::Options options;
  options.dir = dir;
  absl::StatusOr<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(options);
  if (!db.ok()) return db.status();
  absl::StatusOr<model::Matcher> all = model::Matcher::Create(
      model::MatchType::kRegexMatch, model::kMetricName, ".+");
  if (!all.ok()) return all.status();
  std::unique_ptr<tsdb::Querier> querier = (*db)->Querier();
  std::unique_ptr<tsdb::SeriesSet> set = querier->Select({*all}, mint, maxt);
  Dataset data;
  while (set->Next()) {
    const tsdb::Series& series = set->At();
    std::vector<Point> points;
    std::unique_ptr<tsdb::SampleIterator> it = series.Iterator();
    while (it->Next()) {
      if (it->AtT() < mint || it->AtT() > maxt || model::IsStaleNaN(it->AtV()))
        continue;
      points.push_back({it->AtT(), it->AtV()});
    }
    if (!it->Err().ok()) return it->Err();
    if (points.empty()) continue;
    SeriesKey key;
    for (const model::Label& l : series.labels()) {
      key.emplace_back(std::string(l.name.view()), std::string(l.value.view()));
    }
    data[std::move(key)] = std::move(points);
  }
  if (!set->Err().ok()) return set->Err();
  if (absl::Status s = (*db)->Close(); !s.ok()) return s;
  return data;
}

size_t CountSamples(const Dataset& data) {
  size_t n = 0;
  for (const auto& [key, points] : data) n += points.size();
  return n;
}

// An empty string when `want` (Prometheus) and `got` (Vigil) are the same;
// otherwise counts and the first differences.
std::string Diff(const Dataset& want, const Dataset& got) {
  constexpr int kMaxShown = 10;
  std::vector<std::string> shown;
  int only_want = 0, only_got = 0, differ = 0;
  auto show = [&](std::string line) {
    if (static_cast<int>(shown.size()) < kMaxShown)
      shown.push_back(std::move(line));
  };
  for (const auto& [key, points] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      ++only_want;
      show(absl::StrCat("only in Prometheus: ", KeyString(key), " (",
                        points.size(), " samples)"));
      continue;
    }
    const std::vector<Point>& other = it->second;
    size_t i = 0;
    while (i < points.size() && i < other.size() && points[i].t == other[i].t &&
           SameValue(points[i].v, other[i].v)) {
      ++i;
    }
    if (i == points.size() && i == other.size()) continue;
    ++differ;
    show(absl::StrCat(
        KeyString(key), ": ", points.size(), " samples in Prometheus, ",
        other.size(), " in Vigil; first difference at #", i, ": Prometheus ",
        i < points.size() ? PointString(points[i]) : "(none)", ", Vigil ",
        i < other.size() ? PointString(other[i]) : "(none)"));
  }
  for (const auto& [key, points] : got) {
    if (want.count(key) != 0) continue;
    ++only_got;
    show(absl::StrCat("only in Vigil: ", KeyString(key), " (", points.size(),
                      " samples)"));
  }
  if (only_want == 0 && only_got == 0 && differ == 0) return "";
  return absl::StrCat(want.size(), " series in Prometheus, ", got.size(),
                      " in Vigil; ", only_want, " only in Prometheus, ",
                      only_got, " only in Vigil, ", differ,
                      " with different samples. First differences:\n  ",
                      absl::StrJoin(shown, "\n  "));
}

class PrometheusRemoteWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil_promrw_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  // Runs on every path out of the test, failed assertions included.
  void TearDown() override {
    for (Proc* p : {&prometheus_, &node_exporter_, &vigil_}) {
      if (p->pid > 0) (void)Stop(p, SIGKILL);
    }
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }

  std::string Logs() {
    return absl::StrCat("--- node_exporter:\n", node_exporter_.log,
                        "--- vigil:\n", vigil_.log, "--- prometheus:\n",
                        prometheus_.log);
  }

  std::string dir_;
  Proc node_exporter_;
  Proc vigil_;
  Proc prometheus_;
};

TEST_F(PrometheusRemoteWriteTest, VigilHoldsExactlyWhatPrometheusHolds) {
  std::vector<std::string> missing;
  for (const char* binary : {kPrometheus, kNodeExporter, kCurl, kJq}) {
    if (access(binary, X_OK) != 0) missing.push_back(binary);
  }
  if (!missing.empty()) {
    std::string what = absl::StrCat("missing ", absl::StrJoin(missing, ", "),
                                    " (scripts/install-deps.sh installs them)");
    std::fprintf(stderr, "%s\n", what.c_str());
    GTEST_SKIP() << what;
  }
  const std::vector<Proc*> procs = {&node_exporter_, &vigil_, &prometheus_};

  // node_exporter.
  int ne_port = FreePort();
  ASSERT_GT(ne_port, 0);
  std::vector<std::string> ne_args = {
      absl::StrCat("--web.listen-address=127.0.0.1:", ne_port),
      "--collector.disable-defaults"};
  for (const char* c : kCollectors)
    ne_args.push_back(absl::StrCat("--collector.", c));
  node_exporter_ = testing::StartProcess(kNodeExporter, ne_args);
  ASSERT_TRUE(testing::WaitForLog(&node_exporter_, "msg=\"Listening on\"",
                                  StartTimeoutMs()))
      << Logs();

  // Vigil.
  const std::string vigil_dir = dir_ + "/vigil";
  int vigil_port = 0;
  vigil_ = testing::StartVigil(VIGIL_BINARY, {"--data_dir=" + vigil_dir},
                               &vigil_port);
  ASSERT_GT(vigil_port, 0) << Logs();

  // Prometheus.
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/prometheus.yml",
                      absl::Substitute(kPrometheusConfig, ne_port, vigil_port))
          .ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/samples.jq", kJqProgram).ok());
  int prom_port = FreePort();
  ASSERT_GT(prom_port, 0);
  prometheus_ = testing::StartProcess(
      kPrometheus,
      {"--config.file=" + dir_ + "/prometheus.yml",
       "--storage.tsdb.path=" + dir_ + "/prometheus",
       absl::StrCat("--web.listen-address=127.0.0.1:", prom_port)});
  ASSERT_TRUE(testing::WaitForLog(&prometheus_,
                                  "Server is ready to receive web requests",
                                  StartTimeoutMs()))
      << Logs();

  // Wait for kMinScrapes successful scrapes; t1 is the newest scrape's time.
  const std::string up_file = dir_ + "/up.json";
  int64_t t1 = 0;
  int scrapes = 0;
  std::string last_error;
  bool scraped = WaitUntil(
      [&] {
        int64_t now_ms = absl::ToUnixMillis(absl::Now());
        absl::Status s = Query(prom_port, "up[1h]", now_ms, up_file);
        absl::StatusOr<std::string> out =
            s.ok()
                ? RunShell(absl::StrCat(kJq, " -r ", ShellQuote(kJqUpProgram),
                                        " ", ShellQuote(up_file)))
                : s;
        if (!out.ok()) {
          last_error = out.status().ToString();
          return false;
        }
        std::vector<std::string> lines =
            absl::StrSplit(*out, '\n', absl::SkipEmpty());
        if (lines.size() != 2 || !absl::SimpleAtoi(lines[0], &scrapes) ||
            !absl::SimpleAtoi(lines[1], &t1)) {
          last_error = absl::StrCat("no up series yet: ", *out);
          return false;
        }
        last_error.clear();
        return scrapes >= kMinScrapes;
      },
      kScrapesTimeout, procs);
  ASSERT_TRUE(scraped) << "successful scrapes: " << scrapes << "; "
                       << last_error << "\n"
                       << Logs();

  // Wait until remote write has sent a sample newer than t1 (the metric has
  // whole seconds) and has nothing pending.
  std::string metrics;
  auto metric = [&](absl::string_view name) {
    return MetricValue(metrics, name).value_or(-1);
  };
  const double sent_wanted = static_cast<double>(t1 / 1000 + 1);
  bool sent = WaitUntil(
      [&] {
        absl::StatusOr<std::string> m = HttpGet(prom_port, "/metrics");
        metrics = m.ok() ? *m : "";
        return metric(kHighestSent) >= sent_wanted && metric(kPending) == 0;
      },
      kSentTimeout, procs);
  ASSERT_TRUE(sent) << kHighestSent << " " << metric(kHighestSent)
                    << ", wanted " << sent_wanted << "; " << kPending << " "
                    << metric(kPending) << "\n"
                    << Logs();
  // Vigil accepted every request the first time.
  EXPECT_EQ(metric(kFailed), 0);
  EXPECT_EQ(metric(kDropped), 0);
  EXPECT_EQ(metric(kRetried), 0);

  // Everything Prometheus holds up to t1.
  const std::string all_file = dir_ + "/all.json";
  ASSERT_TRUE(Query(prom_port, "{__name__=~\".+\"}[1h]", t1, all_file).ok());
  absl::StatusOr<std::string> jq_out =
      RunShell(absl::StrCat(kJq, " -j -f ", ShellQuote(dir_ + "/samples.jq"),
                            " ", ShellQuote(all_file)));
  ASSERT_TRUE(jq_out.ok()) << jq_out.status();
  absl::StatusOr<Dataset> want = ParseJqOutput(*jq_out);
  ASSERT_TRUE(want.ok()) << want.status();

  EXPECT_EQ(Stop(&prometheus_, SIGTERM), 0) << Logs();
  EXPECT_EQ(Stop(&vigil_, SIGTERM), 0) << Logs();
  EXPECT_NE(vigil_.log.find("shutdown complete"), std::string::npos)
      << vigil_.log;

  absl::StatusOr<Dataset> got = ReadVigil(vigil_dir, t1 - kRangeMs, t1);
  ASSERT_TRUE(got.ok()) << got.status();

  std::printf(
      "t1=%lld: Prometheus %zu series / %zu samples, Vigil %zu series / %zu "
      "samples\n",
      static_cast<long long>(t1), want->size(), CountSamples(*want),
      got->size(), CountSamples(*got));
  EXPECT_GE(want->size(), kMinSeries);
  auto up =
      want->find(SeriesKey{{"__name__", "up"},
                           {"instance", absl::StrCat("127.0.0.1:", ne_port)},
                           {"job", "node"}});
  ASSERT_NE(up, want->end());
  EXPECT_GE(up->second.size(), static_cast<size_t>(kMinScrapes));
  std::string diff = Diff(*want, *got);
  EXPECT_TRUE(diff.empty()) << diff;
}

}  // namespace
}  // namespace vigil
