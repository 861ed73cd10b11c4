// The Alertmanager client (alerting/notifier.h) against local HTTP sinks
// (api::HttpServer on 127.0.0.1) through the real api::HttpSender, and
// against Debian's prometheus-alertmanager.
#include "alerting/notifier.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/http_sender.h"
#include "api/http_server.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/prometheus_api.h"
#include "tsdb/block/json.h"

namespace vigil::alerting {
namespace {

using tsdb::block::JsonValue;

constexpr absl::Duration kWait = absl::Seconds(20);

// One POST the sink received.
struct Received {
  std::string path;
  std::string content_type;
  std::string user_agent;
  std::string body;
  JsonValue json;  // The parsed body.
};

// An Alertmanager stand-in: records every POST to /api/v2/alerts (with or
// without a /prefix) and answers `status`. While held, requests wait in the
// handler until Release().
class Sink {
 public:
  explicit Sink(int status = 200) : status_(status) {
    api::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.worker_threads = 4;
    server_ = std::make_unique<api::HttpServer>(o);
    auto handler = [this](const api::HttpRequest& req, api::HttpResponse* r) { Handle(req, r); };
    server_->Handle("POST", "/api/v2/alerts", handler);
    server_->Handle("POST", "/prefix/api/v2/alerts", handler);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Sink() {
    Release();
    server_->Shutdown(absl::Seconds(1));
  }

  std::string url(absl::string_view prefix = "") const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), prefix, "/api/v2/alerts");
  }

  void Hold() {
    absl::MutexLock l(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock l(&mu_);
    held_ = false;
  }

  // Waits until requests have entered the handler `n` times.
  bool WaitForRequests(size_t n) {
    absl::MutexLock l(&mu_);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return entered_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kWait);
  }
  // Waits until POSTs holding `n` alerts in all have been answered.
  bool WaitForAlerts(size_t n) {
    absl::MutexLock l(&mu_);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return alerts_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kWait);
  }

  std::vector<Received> posts() const {
    absl::MutexLock l(&mu_);
    return posts_;
  }
  // Every alert received, in order.
  std::vector<JsonValue> alerts() const {
    std::vector<JsonValue> out;
    for (const Received& r : posts()) out.insert(out.end(), r.json.items.begin(), r.json.items.end());
    return out;
  }

 private:
  void Handle(const api::HttpRequest& req, api::HttpResponse* r) {
    Received rec;
    rec.path = req.path;
    rec.content_type = std::string(req.Header("content-type"));
    rec.user_agent = std::string(req.Header("user-agent"));
    rec.body = req.body;
    absl::StatusOr<JsonValue> json = tsdb::block::ParseJson(req.body);
    EXPECT_TRUE(json.ok()) << json.status() << ": " << req.body;
    if (json.ok()) rec.json = *std::move(json);
    absl::MutexLock l(&mu_);
    ++entered_;
    auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !held_; };
    mu_.AwaitWithTimeout(absl::Condition(&released), kWait);
    alerts_ += rec.json.items.size();
    posts_.push_back(std::move(rec));
    r->status = status_;
    r->body = status_ == 200 ? "" : "boom";
  }

  const int status_;
  std::unique_ptr<api::HttpServer> server_;
  mutable absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  size_t entered_ ABSL_GUARDED_BY(mu_) = 0;
  size_t alerts_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Received> posts_ ABSL_GUARDED_BY(mu_);
};

// Polls `cond` (cheap, in-process state) until it holds or the deadline.
template <typename F>
bool WaitFor(F cond) {
  const absl::Time deadline = absl::Now() + kWait;
  while (!cond()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

Alert MakeAlert(absl::string_view name, int i) {
  Alert a;
  a.labels = model::Labels::FromPairs({{"alertname", name}, {"i", absl::StrCat(i)}});
  a.starts_at = absl::FromUnixMillis(1700000000000);
  a.ends_at = absl::FromUnixMillis(1700000240000);
  return a;
}

std::vector<Alert> MakeAlerts(absl::string_view name, int n) {
  std::vector<Alert> out;
  for (int i = 0; i < n; ++i) out.push_back(MakeAlert(name, i));
  return out;
}

// A received alert's label `name`, or "".
std::string Label(const JsonValue& alert, absl::string_view name) {
  const JsonValue* labels = alert.Find("labels");
  if (labels == nullptr) return "";
  const JsonValue* v = labels->Find(name);
  return v == nullptr ? "" : v->text;
}

std::string Field(const JsonValue& v, absl::string_view name) {
  const JsonValue* f = v.Find(name);
  return f == nullptr ? "" : f->text;
}

// "name/i" of each received alert, in order.
std::vector<std::string> Ids(const std::vector<JsonValue>& alerts) {
  std::vector<std::string> out;
  for (const JsonValue& a : alerts) out.push_back(Label(a, "alertname") + "/" + Label(a, "i"));
  return out;
}

std::vector<std::string> IdRange(absl::string_view name, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(absl::StrCat(name, "/", i));
  return out;
}

AlertmanagerSet SetOf(std::vector<std::string> urls, absl::Duration timeout = absl::Seconds(10)) {
  AlertmanagerSet s;
  s.urls = std::move(urls);
  s.timeout = timeout;
  return s;
}

class NotifierTest : public ::testing::Test {
 protected:
  NotifierOptions Options() {
    NotifierOptions o;
    o.sender = &sender_;
    return o;
  }
  // A notifier with a queue of 10 sending to `sink`, whose sender thread
  // is stuck in the POST of alert "first/0" (the sink is held). Null if
  // that POST never arrived.
  std::unique_ptr<Notifier> StuckNotifier(Sink* sink) {
    sink->Hold();
    NotifierOptions o = Options();
    o.queue_capacity = 10;
    auto n = std::make_unique<Notifier>(std::move(o));
    n->SetAlertmanagers({SetOf({sink->url()})});
    n->Send({MakeAlert("first", 0)});
    if (!sink->WaitForRequests(1)) return nullptr;
    return n;
  }
  api::HttpSender sender_;
};

TEST(EncodeAlertsV2Test, FieldsTimesAndEscapingAsPrometheus) {
  Alert a;
  a.labels = model::Labels::FromPairs({{"severity", "page"}, {"alertname", "High<Load>"}});
  a.annotations = {{"summary", "a & b"}, {"description", "d\n\"q\""}};
  a.starts_at = absl::FromUnixNanos(1700000000123456789);  // Truncated to ms.
  a.ends_at = absl::FromUnixNanos(1700000240999999999);
  a.generator_url = "http://x:9090/graph?g0.expr=up&g0.tab=1";
  Alert bare;
  bare.labels = model::Labels::FromPairs({{"a", "b"}});
  EXPECT_EQ(EncodeAlertsV2({a, bare}),
            R"([{"annotations":{"description":"d\n\"q\"","summary":"a \u0026 b"},)"
            R"("endsAt":"2023-11-14T22:17:20.999Z","startsAt":"2023-11-14T22:13:20.123Z",)"
            R"("generatorURL":"http://x:9090/graph?g0.expr=up\u0026g0.tab=1",)"
            R"("labels":{"alertname":"High\u003cLoad\u003e","severity":"page"}},)"
            R"({"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"0001-01-01T00:00:00.000Z",)"
            R"("labels":{"a":"b"}}])");
  EXPECT_EQ(EncodeAlertsV2({}), "[]");
}

TEST_F(NotifierTest, SendsBatchesOfAtMost64WithHeaders) {
  Sink sink;
  Notifier n(Options());
  n.SetAlertmanagers({SetOf({sink.url()})});
  n.Send(MakeAlerts("A", 150));
  ASSERT_TRUE(sink.WaitForAlerts(150));
  std::vector<Received> posts = sink.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0].json.items.size(), 64u);
  EXPECT_EQ(posts[1].json.items.size(), 64u);
  EXPECT_EQ(posts[2].json.items.size(), 22u);
  EXPECT_EQ(posts[0].path, "/api/v2/alerts");
  EXPECT_EQ(posts[0].content_type, "application/json");
  EXPECT_EQ(posts[0].user_agent, "Vigil");
  EXPECT_EQ(Ids(sink.alerts()), IdRange("A", 0, 150));  // In order.
  const JsonValue& first = posts[0].json.items[0];
  EXPECT_EQ(Field(first, "startsAt"), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(Field(first, "endsAt"), "2023-11-14T22:17:20.000Z");
  EXPECT_EQ(first.Find("annotations"), nullptr);
  EXPECT_EQ(first.Find("generatorURL"), nullptr);

  ASSERT_TRUE(WaitFor([&] { return n.Stats().alertmanagers[sink.url()].latency_count == 3; }));
  NotifierStats st = n.Stats();
  EXPECT_EQ(st.alertmanagers[sink.url()].sent, 150u);
  EXPECT_EQ(st.alertmanagers[sink.url()].errors, 0u);
  EXPECT_GT(st.alertmanagers[sink.url()].latency_seconds_sum, 0);
  EXPECT_EQ(st.dropped_total, 0u);
  EXPECT_EQ(st.queue_length, 0u);
  EXPECT_EQ(st.queue_capacity, 10000u);
}

TEST_F(NotifierTest, ExternalLabelsAddedButNeverOverride) {
  Sink sink;
  NotifierOptions o = Options();
  o.external_labels = model::Labels::FromPairs({{"cluster", "eu1"}, {"i", "ext"}});
  Notifier n(std::move(o));
  n.SetAlertmanagers({SetOf({sink.url()})});
  Alert a = MakeAlert("A", 7);
  a.annotations = {{"summary", "s"}};
  a.generator_url = "http://vigil:9090/graph?g0.expr=x&g0.tab=1";
  n.Send({a});
  ASSERT_TRUE(sink.WaitForAlerts(1));
  const JsonValue alert = sink.alerts()[0];
  EXPECT_EQ(Label(alert, "cluster"), "eu1");
  EXPECT_EQ(Label(alert, "i"), "7");  // The alert's own value wins.
  EXPECT_EQ(alert.Find("labels")->items.size(), 3u);
  EXPECT_EQ(Field(*alert.Find("annotations"), "summary"), "s");
  EXPECT_EQ(Field(alert, "generatorURL"), a.generator_url);
}

TEST_F(NotifierTest, RelabelSeesExternalLabelsAndDrops) {
  Sink sink;
  NotifierOptions o = Options();
  o.external_labels = model::Labels::FromPairs({{"cluster", "eu1"}});
  o.relabel = [](const model::Labels& l) -> std::optional<model::Labels> {
    if (l.Get("i") == "1") return std::nullopt;  // action: drop
    if (l.Get("i") == "2") return model::Labels();  // labeldrop of everything
    model::LabelsBuilder b(l);
    b.Set("relabeled", std::string(l.Get("cluster")));
    return b.Build();
  };
  Notifier n(std::move(o));
  n.SetAlertmanagers({SetOf({sink.url()})});
  n.Send(MakeAlerts("A", 4));
  ASSERT_TRUE(sink.WaitForAlerts(2));
  std::vector<JsonValue> got = sink.alerts();
  EXPECT_EQ(Ids(got), (std::vector<std::string>{"A/0", "A/3"}));
  EXPECT_EQ(Label(got[0], "relabeled"), "eu1");
  // Dropped by relabeling is not "dropped" in Prometheus's metric.
  EXPECT_EQ(n.Stats().dropped_total, 0u);
}

TEST_F(NotifierTest, FullQueueDropsOldestAndCounts) {
  Sink sink;
  std::unique_ptr<Notifier> stuck = StuckNotifier(&sink);
  ASSERT_NE(stuck, nullptr);
  Notifier& n = *stuck;
  n.Send(MakeAlerts("A", 6));  // Send() does not wait for the stuck POST.
  n.Send(MakeAlerts("B", 6));            // 12 > 10: A/0 and A/1 go.
  NotifierStats st = n.Stats();
  EXPECT_EQ(st.dropped_total, 2u);
  EXPECT_EQ(st.queue_length, 10u);
  EXPECT_EQ(st.queue_capacity, 10u);
  sink.Release();
  ASSERT_TRUE(sink.WaitForAlerts(11));
  std::vector<std::string> want = {"first/0"};
  for (const std::string& id : IdRange("A", 2, 6)) want.push_back(id);
  for (const std::string& id : IdRange("B", 0, 6)) want.push_back(id);
  EXPECT_EQ(Ids(sink.alerts()), want);
}

TEST_F(NotifierTest, CallLargerThanQueueKeepsItsNewest) {
  Sink sink;
  std::unique_ptr<Notifier> stuck = StuckNotifier(&sink);
  ASSERT_NE(stuck, nullptr);
  Notifier& n = *stuck;
  n.Send(MakeAlerts("A", 3));
  n.Send(MakeAlerts("B", 15));  // 5 of its own and then the 3 queued go.
  EXPECT_EQ(n.Stats().dropped_total, 8u);
  sink.Release();
  ASSERT_TRUE(sink.WaitForAlerts(11));
  std::vector<std::string> want = {"first/0"};
  for (const std::string& id : IdRange("B", 5, 15)) want.push_back(id);
  EXPECT_EQ(Ids(sink.alerts()), want);
}

TEST_F(NotifierTest, EveryAlertmanagerOfEverySetReceives) {
  Sink a, b, c;
  Notifier n(Options());
  // The duplicate URL within a set is sent to once.
  n.SetAlertmanagers({SetOf({a.url(), b.url("/prefix"), a.url()}), SetOf({c.url()})});
  EXPECT_EQ(n.Alertmanagers(),
            (std::vector<std::string>{a.url(), b.url("/prefix"), c.url()}));
  EXPECT_EQ(n.Stats().alertmanagers_discovered, 3u);
  n.Send(MakeAlerts("A", 70));
  ASSERT_TRUE(a.WaitForAlerts(70));
  ASSERT_TRUE(b.WaitForAlerts(70));
  ASSERT_TRUE(c.WaitForAlerts(70));
  EXPECT_EQ(a.posts().size(), 2u);
  EXPECT_EQ(b.posts()[0].path, "/prefix/api/v2/alerts");
  EXPECT_EQ(Ids(c.alerts()), IdRange("A", 0, 70));
  ASSERT_TRUE(WaitFor([&] { return n.Stats().alertmanagers[c.url()].latency_count == 2; }));
}

TEST_F(NotifierTest, OneAlertmanagerDownErrorsOnlyForIt) {
  Sink up;
  const std::string down = absl::StrCat("http://127.0.0.1:", testing::FreePort(), "/api/v2/alerts");
  Notifier n(Options());
  n.SetAlertmanagers({SetOf({down, up.url()})});
  n.Send(MakeAlerts("A", 100));
  ASSERT_TRUE(up.WaitForAlerts(100));
  ASSERT_TRUE(WaitFor([&] {
    NotifierStats st = n.Stats();
    return st.alertmanagers[down].latency_count == 2 && st.alertmanagers[up.url()].latency_count == 2;
  }));
  NotifierStats st = n.Stats();
  EXPECT_EQ(st.alertmanagers[down].errors, 2u);  // One per failed POST.
  EXPECT_EQ(st.alertmanagers[up.url()].errors, 0u);
  // As Prometheus 2.42: sent counts the alerts of every POST, failed or not.
  EXPECT_EQ(st.alertmanagers[down].sent, 100u);
  EXPECT_EQ(st.alertmanagers[up.url()].sent, 100u);
  EXPECT_EQ(st.dropped_total, 0u);  // One Alertmanager took them.
}

TEST_F(NotifierTest, Non2xxIsAnErrorAndUndeliveredBatchesAreDropped) {
  Sink failing(500);
  Notifier n(Options());
  n.SetAlertmanagers({SetOf({failing.url()})});
  n.Send(MakeAlerts("A", 80));
  ASSERT_TRUE(failing.WaitForAlerts(80));
  ASSERT_TRUE(WaitFor([&] { return n.Stats().dropped_total == 80; }));
  EXPECT_EQ(n.Stats().alertmanagers[failing.url()].errors, 2u);
}

TEST_F(NotifierTest, NoAlertmanagerDropsAndCounts) {
  Notifier n(Options());
  n.Send(MakeAlerts("A", 5));
  EXPECT_TRUE(WaitFor([&] { return n.Stats().dropped_total == 5; }));
}

TEST_F(NotifierTest, TimeoutIsAnErrorAndDoesNotDelayTheOthers) {
  Sink slow, fast;
  slow.Hold();
  Notifier n(Options());
  n.SetAlertmanagers({SetOf({slow.url()}, absl::Milliseconds(300)), SetOf({fast.url()})});
  n.Send(MakeAlerts("A", 3));
  ASSERT_TRUE(fast.WaitForAlerts(3));
  ASSERT_TRUE(WaitFor([&] { return n.Stats().alertmanagers[slow.url()].errors == 1; }));
  EXPECT_EQ(n.Stats().alertmanagers[fast.url()].errors, 0u);
  EXPECT_EQ(n.Stats().dropped_total, 0u);
  slow.Release();
}

TEST_F(NotifierTest, DroppedAlertmanagersListed) {
  Notifier n(Options());
  AlertmanagerSet s = SetOf({"http://a:9093/api/v2/alerts"});
  s.dropped_urls = {"http://b:9093/api/v2/alerts"};
  n.SetAlertmanagers({s, SetOf({"http://c:9093/api/v2/alerts"})});
  EXPECT_EQ(n.Alertmanagers(), (std::vector<std::string>{"http://a:9093/api/v2/alerts",
                                                         "http://c:9093/api/v2/alerts"}));
  EXPECT_EQ(n.DroppedAlertmanagers(), (std::vector<std::string>{"http://b:9093/api/v2/alerts"}));
  n.SetAlertmanagers({});
  EXPECT_TRUE(n.Alertmanagers().empty());
  EXPECT_EQ(n.Stats().alertmanagers_discovered, 0u);
  // Counters stay for Alertmanagers that went away (Prometheus 2.42).
  EXPECT_EQ(n.Stats().alertmanagers.size(), 2u);
}

// Holds the sink's first POST until Stop() has been called, so that 86
// alerts are still queued when the notifier is told to stop.
void StopWhileFirstBatchInFlight(Notifier* n, Sink* sink) {
  sink->Hold();
  n->Send(MakeAlerts("A", 150));
  ASSERT_TRUE(sink->WaitForRequests(1));
  std::thread stopper([n] { n->Stop(); });
  EXPECT_TRUE(WaitFor([n] { return n->Stopping(); }));
  sink->Release();
  stopper.join();
}

TEST_F(NotifierTest, StopDrainsTheQueue) {
  Sink sink;
  Notifier n(Options());
  n.SetAlertmanagers({SetOf({sink.url()})});
  StopWhileFirstBatchInFlight(&n, &sink);
  EXPECT_EQ(sink.alerts().size(), 150u);  // Stop returned after the drain.
  EXPECT_EQ(n.Stats().dropped_total, 0u);
  EXPECT_EQ(n.Stats().queue_length, 0u);
  n.Send(MakeAlerts("late", 2));  // After Stop: dropped.
  EXPECT_EQ(n.Stats().dropped_total, 2u);
}

TEST_F(NotifierTest, StopDropsWhatTheDrainDeadlineLeaves) {
  Sink sink;
  NotifierOptions o = Options();
  o.drain_timeout = absl::ZeroDuration();
  Notifier n(std::move(o));
  n.SetAlertmanagers({SetOf({sink.url()})});
  StopWhileFirstBatchInFlight(&n, &sink);
  EXPECT_EQ(sink.alerts().size(), 64u);
  EXPECT_EQ(n.Stats().dropped_total, 86u);
  EXPECT_EQ(n.Stats().queue_length, 0u);
}

// ---- Against Debian's prometheus-alertmanager --------------------------------

constexpr char kAlertmanager[] = "/usr/bin/prometheus-alertmanager";

// The alert in Alertmanager's GET /api/v2/alerts answer whose alertname is
// `name`, or null.
const JsonValue* FindAlert(const JsonValue& list, absl::string_view name) {
  for (const JsonValue& a : list.items) {
    if (Label(a, "alertname") == name) return &a;
  }
  return nullptr;
}

std::string GoMillis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

TEST_F(NotifierTest, RealAlertmanagerStoresWhatWasSent) {
  const std::string missing = testing::MissingBinaries({kAlertmanager, testing::kCurl});
  if (!missing.empty()) GTEST_SKIP() << missing;
  absl::StatusOr<std::string> dir = testing::RunShell("mktemp -d");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string tmp(absl::StripTrailingAsciiWhitespace(*dir));
  const std::string cfg = tmp + "/alertmanager.yml";
  ASSERT_TRUE(WriteFileAtomic(cfg, "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n").ok());
  const int port = testing::FreePort();
  testing::Proc am = testing::StartProcess(
      kAlertmanager, {"--config.file=" + cfg, "--storage.path=" + tmp + "/data",
                      absl::StrCat("--web.listen-address=127.0.0.1:", port),
                      "--cluster.listen-address="});
  ASSERT_GT(am.pid, 0);
  const bool ready = testing::WaitUntil(
      [&] { return testing::HttpGet(port, "/-/ready").ok(); }, kWait, {&am});
  ASSERT_TRUE(ready) << am.log;

  NotifierOptions o = Options();
  o.external_labels = model::Labels::FromPairs({{"cluster", "eu1"}});
  Notifier n(std::move(o));
  n.SetAlertmanagers({SetOf({absl::StrCat("http://127.0.0.1:", port, "/api/v2/alerts")})});

  const absl::Time now = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
  Alert high;
  high.labels = model::Labels::FromPairs(
      {{"alertname", "HighLatency"}, {"severity", "page"}, {"instance", "a:9100"}});
  high.annotations = {{"summary", "Latency is high on a:9100 <&>"}, {"value", "1.5"}};
  high.starts_at = now - absl::Minutes(3) + absl::Milliseconds(123);
  high.ends_at = now + absl::Minutes(4);
  high.generator_url =
      "http://vigil:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1";
  Alert low = high;
  low.labels = model::Labels::FromPairs({{"alertname", "Low"}, {"severity", "warning"}});
  low.annotations.clear();
  n.Send({high, low});

  absl::StatusOr<JsonValue> list;
  auto both_there = [&] {
    absl::StatusOr<std::string> body = testing::HttpGet(port, "/api/v2/alerts");
    if (!body.ok()) return false;
    list = tsdb::block::ParseJson(*body);
    return list.ok() && list->items.size() == 2;
  };
  ASSERT_TRUE(testing::WaitUntil(both_there, kWait, {&am})) << am.log;

  const JsonValue* got = FindAlert(*list, "HighLatency");
  ASSERT_NE(got, nullptr);
  const JsonValue* labels = got->Find("labels");
  ASSERT_NE(labels, nullptr);
  EXPECT_EQ(labels->keys, (std::vector<std::string>{"alertname", "cluster", "instance", "severity"}));
  EXPECT_EQ(Label(*got, "cluster"), "eu1");
  EXPECT_EQ(Label(*got, "instance"), "a:9100");
  const JsonValue* ann = got->Find("annotations");
  ASSERT_NE(ann, nullptr);
  EXPECT_EQ(ann->keys, (std::vector<std::string>{"summary", "value"}));
  EXPECT_EQ(Field(*ann, "summary"), "Latency is high on a:9100 <&>");
  EXPECT_EQ(Field(*got, "startsAt"), GoMillis(high.starts_at));
  EXPECT_EQ(Field(*got, "endsAt"), GoMillis(high.ends_at));
  EXPECT_EQ(Field(*got, "generatorURL"), high.generator_url);
  model::LabelsBuilder with_ext(high.labels);
  with_ext.Set("cluster", "eu1");
  EXPECT_EQ(Field(*got, "fingerprint"), FingerprintHex(with_ext.Build()));
  const JsonValue* low_got = FindAlert(*list, "Low");
  ASSERT_NE(low_got, nullptr);
  ASSERT_NE(low_got->Find("annotations"), nullptr);
  EXPECT_TRUE(low_got->Find("annotations")->items.empty());

  // Resolved: sent with its end time, Alertmanager stops listing it.
  Alert resolved = low;
  resolved.ends_at = now - absl::Seconds(1);
  n.Send({resolved});
  auto low_gone = [&] {
    absl::StatusOr<std::string> body = testing::HttpGet(port, "/api/v2/alerts");
    if (!body.ok()) return false;
    list = tsdb::block::ParseJson(*body);
    return list.ok() && list->items.size() == 1 && FindAlert(*list, "HighLatency") != nullptr;
  };
  EXPECT_TRUE(testing::WaitUntil(low_gone, kWait, {&am})) << am.log;
  EXPECT_EQ(n.Stats().alertmanagers.begin()->second.errors, 0u);

  n.Stop();
  testing::StopProcess(&am, SIGTERM, absl::Seconds(10));
  RemoveAll(tmp).IgnoreError();
}

}  // namespace
}  // namespace vigil::alerting
