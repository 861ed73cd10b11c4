// End-to-end tests of the real `vigil serve` binary over loopback sockets:
//   * bad input gets its documented status and message, and the data
//     stored around it stays exactly as it was;
//   * SIGTERM during a write flood (--wal_fsync=always) loses no sample
//     that was acknowledged with 204;
//   * /-/ready says 503 while the WAL is replayed (/-/healthy says 200),
//     then 200; the lifecycle API;
//   * /metrics shows the self-metrics, in a form promtool accepts.
// What the server stored is read back by opening its data directory after
// it exits.
#include <poll.h>
#include <signal.h>
#include <snappy.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/http_test_client.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "remote.pb.h"
#include "tests/vigil_process.h"
#include "tsdb/db.h"
#include "tsdb/test_util.h"

namespace vigil {
namespace {

using api::testing::BuildRequest;
using api::testing::Fetch;
using api::testing::TestConnection;
using api::testing::TestResponse;

constexpr int64_t kT0 = 1700000000000;  // The first sample's timestamp (ms).
constexpr char kContentType[] = "Content-Type: application/x-protobuf";
constexpr char kContentEncoding[] = "Content-Encoding: snappy";
constexpr char kStartedLog[] = "msg=\"vigil started\"";

// A directory under /tmp, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil_e2e_XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `vigil serve` on 127.0.0.1 with a port the OS picks. The constructor
// returns once the port is logged, which is before the WAL is replayed. A
// server still running when the object goes away is killed (SIGKILL), so a
// failed assertion leaves no process behind.
class VigilServer {
 public:
  explicit VigilServer(std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"serve", "--listen=127.0.0.1:0"});
    proc_ = testing::StartProcess(VIGIL_BINARY, flags);
    if (testing::WaitForLog(&proc_, " msg=listening ")) {
      (void)absl::SimpleAtoi(
          testing::LogValue(proc_, " msg=listening ", "port"), &port_);
    }
  }
  ~VigilServer() {
    if (!exited_) (void)Stop(SIGKILL);
  }
  VigilServer(const VigilServer&) = delete;
  VigilServer& operator=(const VigilServer&) = delete;

  int port() const { return port_; }  // 0 when the server did not start.
  testing::Proc* proc() { return &proc_; }
  const std::string& log() const { return proc_.log; }

  // Waits for the end of the WAL replay.
  bool WaitStarted(absl::Duration timeout = absl::Seconds(120)) {
    return testing::WaitForLog(
        &proc_, kStartedLog,
        static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  }

  // Sends `sig` (none when 0) and waits for the process to exit, reading
  // its log meanwhile. Returns the exit code, or -1 when it still ran after
  // `timeout` (it is then killed).
  int Stop(int sig, absl::Duration timeout = absl::Seconds(30)) {
    if (exited_ || proc_.pid <= 0) return -1;
    exited_ = true;
    return testing::StopProcess(&proc_, sig, timeout);
  }

 private:
  testing::Proc proc_;
  int port_ = 0;
  bool exited_ = false;
};

using LabelPairs = std::vector<std::pair<std::string, std::string>>;
using Samples = std::vector<std::pair<int64_t, double>>;
// Series (as model::Labels::ToString prints them) -> samples in time order.
using Data = std::map<std::string, Samples>;

std::string SeriesKey(const LabelPairs& labels) {
  std::vector<std::pair<absl::string_view, absl::string_view>> views(
      labels.begin(), labels.end());
  return model::Labels::FromPairs(views).ToString();
}

void Merge(Data* into, const Data& from) {
  for (const auto& [series, samples] : from) {
    Samples& s = (*into)[series];
    s.insert(s.end(), samples.begin(), samples.end());
  }
}

// A remote-write request, and the data it stores when accepted whole.
class Batch {
 public:
  void Add(const LabelPairs& labels, const Samples& samples) {
    prompb::TimeSeries* ts = req_.add_timeseries();
    for (const auto& [name, value] : labels) {
      prompb::Label* l = ts->add_labels();
      l->set_name(name);
      l->set_value(value);
    }
    for (const auto& [t, v] : samples) {
      prompb::Sample* s = ts->add_samples();
      s->set_timestamp(t);
      s->set_value(v);
    }
    Merge(&data_, {{SeriesKey(labels), samples}});
  }
  // Snappy-compressed, as senders post it.
  std::string Body() const {
    std::string raw = req_.SerializeAsString(), out;
    snappy::Compress(raw.data(), raw.size(), &out);
    return out;
  }
  const Data& data() const { return data_; }

 private:
  prompb::WriteRequest req_;
  Data data_;
};

TestResponse PostWrite(int port, absl::string_view body,
                       std::initializer_list<absl::string_view> headers = {
                           kContentType, kContentEncoding}) {
  return Fetch(port, "POST", "/api/v1/write", body, headers);
}

// Sends `bytes` on a new connection and reads the answer, after which the
// server must close the connection.
TestResponse SendLast(int port, absl::string_view bytes) {
  TestConnection c(port);
  EXPECT_TRUE(c.ok()) << "cannot connect";
  (void)c.Send(bytes);  // The server may stop reading before the end.
  TestResponse r = c.Read();
  EXPECT_TRUE(c.WaitClosed(absl::Seconds(5))) << "the connection stays open";
  return r;
}

void ExpectHealthy(int port) {
  TestResponse r = Fetch(port, "GET", "/-/healthy");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "Vigil is Healthy.\n");
}

// Everything stored in the database at `dir`; vigil must have exited.
Data ReadDb(const std::string& dir) {
  tsdb::Options o;
  o.dir = dir;
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    ADD_FAILURE() << "open " << dir << ": " << db.status();
    return {};
  }
  Data out;
  {
    std::unique_ptr<tsdb::Querier> q = (*db)->Querier();
    for (const auto& [series, samples] :
         tsdb::SelectAll(q.get(), {tsdb::Re("__name__", ".+")})) {
      Samples& s = out[series];
      for (const model::Sample& smp : samples) s.emplace_back(smp.t, smp.v);
    }
  }
  absl::Status closed = (*db)->Close();
  EXPECT_TRUE(closed.ok()) << closed;
  return out;
}

// The value of `series` (name and labels exactly as exposed) in a text
// exposition; nullopt when absent.
std::optional<double> MetricValue(absl::string_view text,
                                  absl::string_view series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, series) || !absl::ConsumePrefix(&line, " "))
      continue;
    double v;
    if (absl::SimpleAtod(line.substr(0, line.find(' ')), &v)) return v;
  }
  return std::nullopt;
}

std::string FetchMetrics(int port) {
  TestResponse r = Fetch(port, "GET", "/metrics");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.body;
}

// Runs a shell command; its exit code (-1 if it did not run) and stdout.
int RunCommand(const std::string& command, std::string* out) {
  out->clear();
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ---------------------------------------------------------------------------
// Bad input.

constexpr int kMaxBodyBytes = 256 << 10;
constexpr int kMaxLabels = 128;
constexpr int kMaxLabelValue = 8192;
constexpr int kMaxNewSeriesPerRequest = 100;
constexpr int kMaxSeries = 150;
constexpr int kGoodSeries = 10;
constexpr int kGoodSamples = 20;

LabelPairs GoodSeries(int i) {
  return {{"__name__", "e2e_good"}, {"instance", absl::StrCat(i)}};
}

// Adds `n` series name{i="0"...} of one sample each to `b`, and the first
// `kept` of them to `stored`: a request's series are created in its order,
// so when a limit stops them, the first ones are those stored.
void AddNewSeries(const std::string& name, int n, int kept, Batch* b,
                  Batch* stored) {
  for (int i = 0; i < n; ++i) {
    LabelPairs labels = {{"__name__", name}, {"i", absl::StrCat(i)}};
    b->Add(labels, {{kT0, i}});
    if (i < kept) stored->Add(labels, {{kT0, i}});
  }
}

TEST(ServerE2eTest, BadInputIsRefusedAndStoredDataStaysIntact) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  VigilServer vigil({"--data_dir=" + dir.path(), "--wal_fsync=always",
                     "--web_read_timeout=1s",
                     absl::StrCat("--web_max_body_bytes=", kMaxBodyBytes),
                     absl::StrCat("--max_labels_per_series=", kMaxLabels),
                     absl::StrCat("--max_label_value_length=", kMaxLabelValue),
                     absl::StrCat("--remote_write_max_new_series_per_request=",
                                  kMaxNewSeriesPerRequest),
                     absl::StrCat("--max_series=", kMaxSeries)});
  ASSERT_TRUE(vigil.WaitStarted()) << vigil.log();
  const int port = vigil.port();
  Data expected;
  // The next timestamp for e2e_good{instance="0"}, which partial writes add to.
  int64_t next_t = kT0 + kGoodSamples * 1000;

  {
    Batch good;
    for (int i = 0; i < kGoodSeries; ++i) {
      Samples s;
      for (int j = 0; j < kGoodSamples; ++j)
        s.emplace_back(kT0 + j * 1000, i * 100 + j);
      good.Add(GoodSeries(i), s);
    }
    TestResponse r = PostWrite(port, good.Body());
    ASSERT_EQ(r.status, 204) << r.body;
    Merge(&expected, good.data());
  }
  // A valid request that must not be stored when refused as a whole.
  Batch unwanted;
  unwanted.Add({{"__name__", "e2e_refused"}}, {{next_t, 1}});

  {
    SCOPED_TRACE("oversized body");
    // Like a real sender, send it all: the server decides from Content-Length.
    TestResponse r =
        SendLast(port, BuildRequest("POST", "/api/v1/write",
                                    std::string(kMaxBodyBytes + 1000, 'x'),
                                    {kContentType, kContentEncoding}));
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_TRUE(absl::StrContains(r.body, "request body too large")) << r.body;
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("slowloris");
    TestConnection c(port);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.Send("POST /api/v1/write HTTP/1.1\r\n"));
    const std::string header =
        "Host: 127.0.0.1\r\nX-Trickle: abcdefghijklmnopqrstuvwxyz";
    absl::Time start = absl::Now();
    bool closed = false;
    // One byte per 200ms against --web_read_timeout=1s; the wait is for
    // the server to close, so it ends early when it does.
    for (size_t i = 0; !closed && absl::Now() - start < absl::Seconds(10);
         ++i) {
      closed = !c.Send(header.substr(i % header.size(), 1)) ||
               c.WaitClosed(absl::Milliseconds(200));
    }
    absl::Duration took = absl::Now() - start;
    EXPECT_TRUE(closed) << "still open after " << took;
    EXPECT_GE(took, absl::Milliseconds(900));
    EXPECT_LT(took, absl::Seconds(4));
    EXPECT_EQ(c.Read(absl::Milliseconds(10)).status, 0)
        << "a response to half a request";
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("garbage bytes as HTTP");
    static constexpr char kGarbage[] =
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 junk\r\n\r\n";
    TestResponse r =
        SendLast(port, absl::string_view(kGarbage, sizeof(kGarbage) - 1));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(absl::StartsWith(r.body, "malformed HTTP request")) << r.body;
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("garbage write body");
    TestResponse r = PostWrite(port, "this is neither snappy nor protobuf");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.body, "snappy: corrupt input\n");
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("snappy of garbage protobuf");
    std::string raw = "\x0f\xff\xff\xff garbage, not a WriteRequest", body;
    snappy::Compress(raw.data(), raw.size(), &body);
    TestResponse r = PostWrite(port, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(absl::StartsWith(r.body, "proto: cannot parse WriteRequest"))
        << r.body;
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("wrong Content-Type");
    TestResponse r =
        PostWrite(port, unwanted.Body(), {"Content-Type: application/json"});
    EXPECT_EQ(r.status, 415) << r.body;
    EXPECT_TRUE(absl::StrContains(r.body, "unsupported Content-Type"))
        << r.body;
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("wrong Content-Encoding");
    TestResponse r = PostWrite(port, unwanted.Body(),
                               {kContentType, "Content-Encoding: gzip"});
    EXPECT_EQ(r.status, 415) << r.body;
    EXPECT_TRUE(absl::StrContains(r.body, "unsupported Content-Encoding"))
        << r.body;
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("thousands of labels");
    constexpr int kLabels = 5000;
    LabelPairs labels = {{"__name__", "e2e_many_labels"}};
    for (int i = 1; i < kLabels; ++i)
      labels.emplace_back(absl::StrCat("l", i), "v");
    Batch b, stored;  // The request's other samples are stored.
    b.Add(labels, {{kT0, 1}});
    b.Add(GoodSeries(0), {{next_t, -1}});
    stored.Add(GoodSeries(0), {{next_t++, -1}});
    TestResponse r = PostWrite(port, b.Body());
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 1000);
    EXPECT_TRUE(absl::StrContains(
        r.body,
        absl::StrCat(kLabels, " labels exceeds the limit of ", kMaxLabels)))
        << r.body.substr(0, 1000);
    // The message names the series, not all of its labels.
    EXPECT_LT(r.body.size(), 4096u) << r.body.substr(0, 1000);
    Merge(&expected, stored.data());
    ExpectHealthy(port);
  }
  {
    SCOPED_TRACE("megabyte label value");
    Batch b;
    b.Add({{"__name__", "e2e_big_value"}, {"big", std::string(1 << 20, 'x')}},
          {{kT0, 1}});
    b.Add(GoodSeries(0), {{next_t, -2}});
    Batch stored;
    stored.Add(GoodSeries(0), {{next_t++, -2}});
    TestResponse r = PostWrite(port, b.Body());
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 1000);
    EXPECT_TRUE(absl::StrContains(r.body, "exceeds the length limits"))
        << r.body.substr(0, 1000);
    EXPECT_TRUE(
        absl::StrContains(r.body, absl::StrCat("value ", kMaxLabelValue)))
        << r.body.substr(0, 1000);
    EXPECT_LT(r.body.size(), 4096u) << "the value is echoed";
    Merge(&expected, stored.data());
    ExpectHealthy(port);
  }
  constexpr int kFlood = kMaxNewSeriesPerRequest + 50;
  {
    SCOPED_TRACE("new series flood");
    Batch b, stored;
    AddNewSeries("e2e_flood", kFlood, kMaxNewSeriesPerRequest, &b, &stored);
    TestResponse r = PostWrite(port, b.Body());
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(absl::StrContains(
        r.body, absl::StrCat("too many new series in one request (limit ",
                             kMaxNewSeriesPerRequest, ")")))
        << r.body;
    EXPECT_TRUE(absl::StrContains(
        r.body, absl::StrCat(kFlood - kMaxNewSeriesPerRequest, " of ", kFlood,
                             " samples rejected")))
        << r.body;
    Merge(&expected, stored.data());
    ExpectHealthy(port);
  }
  // Series so far: the good ones and the flood's first ones.
  constexpr int kRoom = kMaxSeries - kGoodSeries - kMaxNewSeriesPerRequest;
  constexpr int kOverCap = kRoom + 20;
  {
    SCOPED_TRACE("beyond --max_series");
    Batch b, stored;
    AddNewSeries("e2e_cap", kOverCap, kRoom, &b, &stored);
    // A known series' sample after the refused ones is still stored.
    b.Add(GoodSeries(0), {{next_t, -3}});
    stored.Add(GoodSeries(0), {{next_t++, -3}});
    TestResponse r = PostWrite(port, b.Body());
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_TRUE(
        absl::StrContains(r.body, absl::StrCat("series limit of ", kMaxSeries)))
        << r.body;
    Merge(&expected, stored.data());
    ExpectHealthy(port);
  }

  std::string metrics = FetchMetrics(port);
  const std::pair<std::string, double> kWantMetrics[] = {
      {R"(vigil_http_rejected_total{reason="body_too_large"})", 1},
      {R"(vigil_http_rejected_total{reason="timeout"})", 1},
      {R"(vigil_http_rejected_total{reason="bad_request"})", 1},
      {R"(vigil_remote_write_samples_rejected_total{reason="too_many_labels"})",
       1},
      {R"(vigil_remote_write_samples_rejected_total{reason="label_too_long"})",
       1},
      {R"(vigil_remote_write_samples_rejected_total{reason="new_series_limit"})",
       kFlood - kMaxNewSeriesPerRequest},
      {R"(vigil_remote_write_samples_rejected_total{reason="series_limit"})",
       kOverCap - kRoom},
      {"vigil_remote_write_samples_total",
       kGoodSeries * kGoodSamples + 2 + kMaxNewSeriesPerRequest + kRoom + 1},
      {R"(vigil_http_requests_total{code="204",handler="/api/v1/write"})", 1},
      {R"(vigil_http_requests_total{code="400",handler="/api/v1/write"})", 5},
      {R"(vigil_http_requests_total{code="415",handler="/api/v1/write"})", 2},
      {R"(vigil_http_requests_total{code="429",handler="/api/v1/write"})", 1},
      {"vigil_tsdb_head_series", kMaxSeries},
  };
  for (const auto& [series, want] : kWantMetrics) {
    EXPECT_EQ(MetricValue(metrics, series), want) << series << "\n" << metrics;
  }

  ASSERT_EQ(vigil.Stop(SIGTERM), 0) << vigil.log();
  Data stored = ReadDb(dir.path());
  EXPECT_EQ(stored.size(), expected.size());
  EXPECT_TRUE(stored == expected)
      << "stored data differs from what was accepted";
  for (const auto& [series, samples] : expected) {
    auto it = stored.find(series);
    if (it == stored.end()) {
      ADD_FAILURE() << "missing " << series;
    } else if (it->second != samples) {
      ADD_FAILURE() << series << ": " << it->second.size()
                    << " samples stored, " << samples.size() << " expected";
    }
  }
  for (const auto& [series, samples] : stored) {
    if (!expected.contains(series))
      ADD_FAILURE() << "unexpected series " << series;
  }
}

// ---------------------------------------------------------------------------
// SIGTERM during a write flood.

constexpr int kWriters = 4;
constexpr int kSamplesPerBatch = 10;
constexpr int kFloodRounds = 6;
constexpr int64_t kAcksBeforeSigterm = 3000;

LabelPairs WriterSeries(int w) {
  return {{"__name__", "e2e_sigterm"}, {"writer", absl::StrCat(w)}};
}
LabelPairs BatchSeries(int w, int64_t k) {
  return {{"__name__", "e2e_sigterm_batch"},
          {"writer", absl::StrCat(w)},
          {"batch", absl::StrCat(k)}};
}

// Batch k of writer w: kSamplesPerBatch samples of the writer's series, at
// timestamps no other batch uses, and one of a series of its own, so that
// every batch puts samples and a new series into the WAL.
Batch FloodBatch(int w, int64_t k) {
  Batch b;
  Samples s;
  for (int j = 0; j < kSamplesPerBatch; ++j) {
    int64_t n = k * kSamplesPerBatch + j;
    s.emplace_back(kT0 + n,
                   static_cast<double>(w) * 1e9 + static_cast<double>(n));
  }
  b.Add(WriterSeries(w), s);
  b.Add(BatchSeries(w, k), {{kT0, static_cast<double>(k)}});
  return b;
}

struct WriterLog {
  int64_t next = 0;            // The next batch to send, across rounds.
  std::vector<int64_t> acked;  // Answered 204.
  std::vector<int64_t> lost;   // Sent; the connection ended without an answer.
  std::vector<std::string> unexpected;
};

// Sends writer w's batches back to back over a keep-alive connection until
// the server goes away; every batch's fate goes to `log`.
void RunWriter(int port, int w, const std::atomic<bool>* stopping,
               absl::Mutex* mu, int64_t* acks, WriterLog* log) {
  std::unique_ptr<TestConnection> conn;
  for (;; ++log->next) {
    if (conn == nullptr) {
      conn = std::make_unique<TestConnection>(port);
      if (!conn->ok()) {
        if (!stopping->load())
          log->unexpected.push_back("connect failed before SIGTERM");
        return;
      }
    }
    const int64_t k = log->next;
    std::string req =
        BuildRequest("POST", "/api/v1/write", FloodBatch(w, k).Body(),
                     {kContentType, kContentEncoding});
    TestResponse r = conn->Send(req) ? conn->Read() : TestResponse{};
    if (r.status == 204) {
      log->acked.push_back(k);
      absl::MutexLock lock(mu);
      ++*acks;
    } else {
      log->lost.push_back(k);
      if (r.status != 0 || !stopping->load()) {
        log->unexpected.push_back(
            absl::StrCat("batch ", k, ": ", r.status, " ", r.body));
      }
    }
    if (r.status == 0 || r.headers["connection"] == "close") conn.reset();
  }
}

struct FloodCheck {
  int64_t acked = 0;
  int64_t lost_stored = 0;
  int64_t lost_missing = 0;
};

// Checks the stored data against the writers' logs: every acknowledged
// batch whole, every lost one whole or not at all, nothing else.
FloodCheck CheckFlood(const Data& stored, const std::vector<WriterLog>& logs) {
  FloodCheck c;
  size_t batch_series = 0;
  for (int w = 0; w < kWriters; ++w) {
    auto it = stored.find(SeriesKey(WriterSeries(w)));
    const Samples empty;
    const Samples& series = it == stored.end() ? empty : it->second;
    std::map<int64_t, double> by_t(series.begin(), series.end());
    // Whether batch k is stored: 1 whole, 0 not at all, -1 in part.
    auto state = [&](int64_t k) {
      const Batch batch = FloodBatch(w, k);
      const Data& want = batch.data();
      int found = 0, total = 0;
      for (const auto& [key, samples] : want) {
        for (const auto& [t, v] : samples) {
          ++total;
          if (key == SeriesKey(WriterSeries(w))) {
            auto s = by_t.find(t);
            found += s != by_t.end() && s->second == v;
          } else {
            auto s = stored.find(key);
            found += s != stored.end() && s->second == samples;
          }
        }
      }
      return found == total ? 1 : found == 0 ? 0 : -1;
    };
    size_t stored_batches = 0;
    for (int64_t k : logs[w].acked) {
      int s = state(k);
      if (s != 1)
        ADD_FAILURE() << "writer " << w << ": acknowledged batch " << k
                      << (s == 0 ? " is missing" : " is torn");
      ++c.acked;
      ++stored_batches;
    }
    for (int64_t k : logs[w].lost) {
      int s = state(k);
      if (s < 0)
        ADD_FAILURE() << "writer " << w << ": unacknowledged batch " << k
                      << " is torn";
      if (s > 0) {
        ++c.lost_stored;
        ++stored_batches;
      } else {
        ++c.lost_missing;
      }
    }
    // Nothing that was never sent.
    EXPECT_EQ(series.size(), stored_batches * kSamplesPerBatch)
        << "writer " << w;
    batch_series += stored_batches;
  }
  EXPECT_EQ(stored.size(), batch_series + kWriters);
  return c;
}

TEST(ServerE2eTest, SigtermDuringWriteFloodLosesNoAcknowledgedSample) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::vector<WriterLog> logs(kWriters);
  for (int round = 0; round < kFloodRounds; ++round) {
    // Every other round, requests in flight get 1ms instead of 10s to
    // finish: their answers may be lost while their samples are stored.
    const std::string grace = round % 2 == 0 ? "10s" : "1ms";
    SCOPED_TRACE(
        absl::StrCat("round ", round, ", --web_shutdown_timeout=", grace));
    VigilServer vigil({"--data_dir=" + dir.path(), "--wal_fsync=always",
                       "--web_shutdown_timeout=" + grace});
    ASSERT_TRUE(vigil.WaitStarted()) << vigil.log();
    absl::Mutex mu;
    int64_t acks = 0;
    std::atomic<bool> stopping{false};
    std::vector<std::thread> writers;
    absl::Time start = absl::Now();
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back(RunWriter, vigil.port(), w, &stopping, &mu, &acks,
                           &logs[w]);
    }
    bool reached;
    int64_t acks_at_sigterm;
    {
      absl::MutexLock lock(&mu);
      reached = mu.AwaitWithTimeout(
          absl::Condition(
              +[](int64_t* n) { return *n >= kAcksBeforeSigterm; }, &acks),
          absl::Seconds(120));
      acks_at_sigterm = acks;
      stopping.store(true);
    }
    absl::Duration flood = absl::Now() - start;
    EXPECT_TRUE(reached) << "only " << acks_at_sigterm << " acknowledgements";
    int code = vigil.Stop(SIGTERM);
    for (std::thread& t : writers) t.join();
    ASSERT_EQ(code, 0) << vigil.log();
    EXPECT_TRUE(absl::StrContains(vigil.log(), "shutdown complete"))
        << vigil.log();
    for (const WriterLog& l : logs) {
      EXPECT_TRUE(l.unexpected.empty()) << l.unexpected.front();
    }

    FloodCheck c = CheckFlood(ReadDb(dir.path()), logs);
    std::printf(
        "round %d (grace %s): %lld acks in %s, then SIGTERM, then %lld more; "
        "all rounds: "
        "%lld batches acknowledged (all stored), %lld unacknowledged stored, "
        "%lld "
        "unacknowledged not stored\n",
        round, grace.c_str(), static_cast<long long>(acks_at_sigterm),
        absl::FormatDuration(flood).c_str(),
        static_cast<long long>(acks - acks_at_sigterm),
        static_cast<long long>(c.acked), static_cast<long long>(c.lost_stored),
        static_cast<long long>(c.lost_missing));
    if (HasFailure()) break;
  }
}

// ---------------------------------------------------------------------------
// Readiness and lifecycle.

constexpr int kReplaySeries = 40000;
constexpr int kReplaySamplesPerSeries = 100;  // 4M samples in all.

// A database whose WAL takes a noticeable time to replay.
void WriteLargeWal(const std::string& dir) {
  tsdb::Options o;
  o.dir = dir;
  auto db = tsdb::DB::Open(o);
  ASSERT_TRUE(db.ok()) << db.status();
  std::vector<model::Labels> labels;
  for (int i = 0; i < kReplaySeries; ++i) {
    labels.push_back(model::Labels::FromPairs({{"__name__", "e2e_replay"},
                                               {"job", "replay"},
                                               {"series", absl::StrCat(i)}}));
  }
  std::vector<tsdb::SeriesRef> refs(kReplaySeries);
  std::unique_ptr<tsdb::Appender> app = (*db)->Appender();
  for (int j = 0; j < kReplaySamplesPerSeries; ++j) {
    const int64_t t = kT0 + j * 15000;
    for (int i = 0; i < kReplaySeries; ++i) {
      if (j == 0) {
        auto ref = app->Append(labels[i], t, i);
        ASSERT_TRUE(ref.ok()) << ref.status();
        refs[i] = *ref;
      } else {
        absl::Status s = app->Append(refs[i], t, i + j);
        ASSERT_TRUE(s.ok()) << s;
      }
    }
    absl::Status s = app->Commit();
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::Status s = (*db)->Close();
  ASSERT_TRUE(s.ok()) << s;
}

TEST(ServerE2eTest, ReadyFlipsAfterWalReplay) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_NO_FATAL_FAILURE(WriteLargeWal(dir.path()));

  {
    SCOPED_TRACE("SIGTERM during the replay");
    VigilServer vigil({"--data_dir=" + dir.path()});
    ASSERT_NE(vigil.port(), 0) << vigil.log();
    TestResponse r = Fetch(vigil.port(), "GET", "/-/ready");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(vigil.Stop(SIGTERM), 0) << vigil.log();
    EXPECT_TRUE(
        absl::StrContains(vigil.log(), "shutting down during WAL replay"))
        << vigil.log();
  }

  VigilServer vigil({"--data_dir=" + dir.path()});
  const int port = vigil.port();
  ASSERT_NE(port, 0) << vigil.log();
  int not_ready = 0, healthy_while_not_ready = 0;
  int write_status = 0;
  bool ready = false;
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (!ready && absl::Now() < deadline) {
    TestResponse r = Fetch(port, "GET", "/-/ready");
    if (r.status == 200) {
      EXPECT_EQ(r.body, "Vigil is Ready.\n");
      ready = true;
      break;
    }
    ASSERT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.body, "Service Unavailable\n");
    ++not_ready;
    healthy_while_not_ready += Fetch(port, "GET", "/-/healthy").status == 200;
    if (write_status == 0) {
      Batch b;
      b.Add({{"__name__", "e2e_during_replay"}}, {{kT0, 1}});
      TestResponse w = PostWrite(port, b.Body());
      write_status = w.status;
      if (w.status == 503) {
        EXPECT_EQ(w.body, "not ready: the WAL is still being replayed\n");
      } else {
        // Only if the replay ended in between.
        EXPECT_EQ(w.status, 204) << w.body;
        EXPECT_EQ(Fetch(port, "GET", "/-/ready").status, 200);
      }
    }
    // Paces the polls; returns early once the replay has ended.
    testing::WaitForLog(vigil.proc(), kStartedLog, 5);
  }
  ASSERT_TRUE(ready) << vigil.log();
  EXPECT_GT(not_ready, 0) << "the replay ended before the first poll";
  EXPECT_EQ(healthy_while_not_ready, not_ready);
  ASSERT_TRUE(vigil.WaitStarted()) << vigil.log();
  EXPECT_EQ(testing::LogValue(*vigil.proc(), kStartedLog, "series"),
            absl::StrCat(kReplaySeries));
  std::printf(
      "replay_duration=%s: %d polls saw 503, then 200; write during replay: "
      "%d\n",
      testing::LogValue(*vigil.proc(), kStartedLog, "replay_duration").c_str(),
      not_ready, write_status);
  // Ready stays ready.
  EXPECT_EQ(Fetch(port, "GET", "/-/ready").status, 200);

  // Without --web_enable_lifecycle, /-/quit is refused and nothing stops.
  TestResponse q = Fetch(port, "POST", "/-/quit");
  EXPECT_EQ(q.status, 403) << q.body;
  EXPECT_EQ(q.body, "Lifecycle API is not enabled.\n");
  ExpectHealthy(port);
  EXPECT_EQ(Fetch(port, "GET", "/-/ready").status, 200);
  EXPECT_EQ(vigil.Stop(SIGTERM), 0) << vigil.log();
}

TEST(ServerE2eTest, QuitWithLifecycleEnabledStopsCleanly) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  VigilServer vigil({"--data_dir=" + dir.path(), "--web_enable_lifecycle",
                     "--wal_fsync=always"});
  ASSERT_TRUE(vigil.WaitStarted()) << vigil.log();
  Batch b;
  b.Add({{"__name__", "e2e_quit"}}, {{kT0, 1}, {kT0 + 1000, 2}});
  TestResponse w = PostWrite(vigil.port(), b.Body());
  ASSERT_EQ(w.status, 204) << w.body;

  TestResponse q = Fetch(vigil.port(), "POST", "/-/quit");
  EXPECT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(q.body, "Requesting termination... Goodbye!\n");
  EXPECT_EQ(vigil.Stop(/*sig=*/0), 0) << vigil.log();
  EXPECT_TRUE(absl::StrContains(vigil.log(), "shutdown complete"))
      << vigil.log();
  EXPECT_TRUE(ReadDb(dir.path()) == b.data());
}

// ---------------------------------------------------------------------------
// Self-metrics.

TEST(ServerE2eTest, MetricsShowSelfMetricsAndPassPromtool) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  VigilServer vigil({"--data_dir=" + dir.path()});
  ASSERT_TRUE(vigil.WaitStarted()) << vigil.log();
  constexpr int kSeries = 3, kSamples = 5;
  Batch b;
  for (int i = 0; i < kSeries; ++i) {
    Samples s;
    for (int j = 0; j < kSamples; ++j) s.emplace_back(kT0 + j * 1000, j);
    b.Add({{"__name__", "e2e_metrics"}, {"i", absl::StrCat(i)}}, s);
  }
  TestResponse w = PostWrite(vigil.port(), b.Body());
  ASSERT_EQ(w.status, 204) << w.body;

  // As an operator would look: curl.
  std::string text;
  int curl = RunCommand(absl::StrCat("curl -sS --max-time 10 http://127.0.0.1:",
                                     vigil.port(), "/metrics"),
                        &text);
  if (curl == 127) {  // No curl here: the test client sees the same.
    text = FetchMetrics(vigil.port());
  } else {
    ASSERT_EQ(curl, 0) << text;
  }
  for (const char* family :
       {"vigil_http_requests_total", "vigil_tsdb_head_series",
        "process_resident_memory_bytes", "vigil_remote_write_samples_total"}) {
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("\n# TYPE ", family, " ")))
        << family;
  }
  EXPECT_EQ(MetricValue(text, "vigil_remote_write_samples_total"),
            kSeries * kSamples)
      << text;
  EXPECT_EQ(MetricValue(text, "vigil_tsdb_head_series"), kSeries) << text;
  EXPECT_EQ(
      MetricValue(
          text,
          R"(vigil_http_requests_total{code="204",handler="/api/v1/write"})"),
      1)
      << text;
  EXPECT_EQ(MetricValue(text, "vigil_ready"), 1) << text;
  EXPECT_GT(MetricValue(text, "process_resident_memory_bytes").value_or(0),
            1 << 20)
      << text;

  if (access("/usr/bin/promtool", X_OK) == 0) {
    std::string file = dir.path() + "/metrics.txt";
    ASSERT_TRUE(WriteFileAtomic(file, text).ok());
    std::string out;
    EXPECT_EQ(
        RunCommand("/usr/bin/promtool check metrics < " + file + " 2>&1", &out),
        0)
        << out;
  }
  EXPECT_EQ(vigil.Stop(SIGTERM), 0) << vigil.log();
}

}  // namespace
}  // namespace vigil
