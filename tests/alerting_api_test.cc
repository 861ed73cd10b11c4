// The alerting HTTP API (api/alerting_api.h) served by a real
// api::HttpServer on 127.0.0.1: /api/v1/alertmanagers from a Notifier,
// /api/v1/notifications and /api/v1/silences from a Router (data in a temp
// dir, in-memory integrations, ticked by hand).
#include "api/alerting_api.h"

#include <stdlib.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "alerting/notifier.h"
#include "alerting/router.h"
#include "api/http_server.h"
#include "api/http_test_client.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/block/json.h"

namespace vigil::api {
namespace {

using testing::Fetch;
using testing::TestResponse;
using tsdb::block::JsonValue;

// An integration that records what it is asked to deliver, or fails with
// `fail` when that is set.
class MemoryIntegration final : public alerting::Integration {
 public:
  explicit MemoryIntegration(absl::Status fail) : fail_(std::move(fail)) {}
  const char* kind() const override { return "webhook"; }
  bool send_resolved() const override { return true; }
  absl::Status Notify(const alerting::Notification&, absl::Time,
                      const std::atomic<bool>*, int* attempts) override {
    if (attempts != nullptr) *attempts = 1;
    return fail_;
  }

 private:
  const absl::Status fail_;
};

std::string TempDir() {
  char tmpl[] = "/tmp/alerting_api_test.XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d == nullptr ? "/tmp" : d;
}

// The parsed body of `r`, which must be JSON.
JsonValue Json(const TestResponse& r) {
  absl::StatusOr<JsonValue> v = tsdb::block::ParseJson(r.body);
  EXPECT_TRUE(v.ok()) << v.status() << " in " << r.body;
  return v.ok() ? *std::move(v) : JsonValue{};
}

// The text of the string member `key` of `v` ("<missing>" when absent).
std::string Str(const JsonValue& v, absl::string_view key) {
  const JsonValue* m = v.Find(key);
  return m == nullptr ? "<missing>" : m->text;
}

// The "data" member of a success envelope.
JsonValue Data(const TestResponse& r) {
  JsonValue v = Json(r);
  EXPECT_EQ(Str(v, "status"), "success") << r.body;
  const JsonValue* d = v.Find("data");
  return d == nullptr ? JsonValue{} : *d;
}

// Milliseconds, as Alertmanager clients send them.
std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string SilenceBody(absl::string_view matchers, absl::Time ends) {
  return absl::StrCat("{\"matchers\":", matchers, ",\"endsAt\":\"",
                      Rfc3339(ends),
                      "\",\"createdBy\":\"ap\",\"comment\":\"maintenance\"}");
}

class AlertingApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(o);
    api_.RegisterRoutes(server_.get());
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Shutdown(absl::Seconds(1));
    api_.SetRouter(nullptr);
    api_.SetNotifier(nullptr);
    if (router_ != nullptr) router_->Stop();
    (void)RemoveAll(dir_);
  }

  // A router on the real clock with one route per receiver name in
  // `failing` (true: its integration fails): the root goes to "ok", alerts
  // with team="broken" to "broken". group_wait 0 so that a Tick() right
  // after Receive() delivers.
  void StartRouter() {
    config::NotificationsConfig cfg;
    cfg.enabled = true;
    cfg.route.receiver = "ok";
    cfg.route.group_by = {"alertname"};
    cfg.route.group_wait = absl::ZeroDuration();
    config::Route broken = cfg.route;
    broken.receiver = "broken";
    broken.matchers = {
        model::Matcher::Create(model::MatchType::kEqual, "team", "broken")
            .value()};
    cfg.route.routes = {broken};
    for (const char* name : {"ok", "broken"}) {
      config::ReceiverConfig rc;
      rc.name = name;
      rc.webhook_configs.resize(1);
      rc.webhook_configs[0].url = "http://127.0.0.1:1/";
      cfg.receivers.push_back(rc);
    }
    alerting::RouterOptions ro;
    ro.data_dir = dir_;
    ro.manual_tick = true;
    ro.factory = [](const config::ReceiverConfig& rc)
        -> absl::StatusOr<std::vector<std::unique_ptr<alerting::Integration>>> {
      std::vector<std::unique_ptr<alerting::Integration>> out;
      out.push_back(std::make_unique<MemoryIntegration>(
          rc.name == "broken"
              ? absl::FailedPreconditionError("webhook: HTTP 400: no")
              : absl::OkStatus()));
      return out;
    };
    auto r = alerting::Router::Create(cfg, std::move(ro));
    ASSERT_TRUE(r.ok()) << r.status();
    router_ = *std::move(r);
    api_.SetRouter(router_.get());
  }

  // Sends a firing alert and delivers what is due.
  void Fire(
      std::initializer_list<std::pair<absl::string_view, absl::string_view>>
          labels) {
    alerting::Alert a;
    a.labels = model::Labels::FromPairs(labels);
    a.starts_at = absl::Now();
    a.ends_at = absl::Now() + absl::Hours(1);
    router_->Receive({a});
    router_->Tick();
    ASSERT_TRUE(router_->WaitIdle(absl::Seconds(10)));
  }

  TestResponse Do(absl::string_view method, absl::string_view path,
                  absl::string_view body = "") {
    return Fetch(server_->port(), method, path, body);
  }

  // Creates a silence through the API; returns its id.
  std::string CreateSilence(absl::string_view matchers) {
    TestResponse r = Do("POST", "/api/v1/silences",
                        SilenceBody(matchers, absl::Now() + absl::Hours(1)));
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(Data(r), "silenceID");
  }

  std::string dir_;
  AlertingApi api_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<alerting::Router> router_;
};

constexpr absl::string_view kMatcherX =
    R"([{"name":"alertname","value":"X","isRegex":false,"isEqual":true}])";

// --- /api/v1/alertmanagers --------------------------------------------------

TEST_F(AlertingApiTest, AlertmanagersEmptyWithoutNotifier) {
  TestResponse r = Do("GET", "/api/v1/alertmanagers");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}})");
}

TEST_F(AlertingApiTest, AlertmanagersListsActiveAndDropped) {
  alerting::Notifier notifier(alerting::NotifierOptions{});
  alerting::AlertmanagerSet set;
  set.urls = {"http://127.0.0.1:9093/api/v2/alerts",
              "http://am2:9093/p/api/v2/alerts"};
  set.dropped_urls = {"http://dropped:9093/api/v2/alerts"};
  notifier.SetAlertmanagers({set});
  api_.SetNotifier(&notifier);
  TestResponse r = Do("GET", "/api/v1/alertmanagers");
  api_.SetNotifier(nullptr);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body,
            "{\"status\":\"success\",\"data\":{\"activeAlertmanagers\":["
            "{\"url\":\"http://127.0.0.1:9093/api/v2/alerts\"},"
            "{\"url\":\"http://am2:9093/p/api/v2/alerts\"}],"
            "\"droppedAlertmanagers\":[{\"url\":\"http://dropped:9093/api/v2/"
            "alerts\"}]}}");
}

// --- /api/v1/notifications --------------------------------------------------

TEST_F(AlertingApiTest, NotificationsEmptyWithoutRouter) {
  TestResponse r = Do("GET", "/api/v1/notifications");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"success","data":[]})");
}

TEST_F(AlertingApiTest, NotificationsListDeliveriesNewestFirst) {
  StartRouter();
  const absl::Time before = absl::Now();
  Fire({{"alertname", "X"}});
  Fire({{"alertname", "Y"}, {"team", "broken"}});
  TestResponse r = Do("GET", "/api/v1/notifications");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue d = Data(r);
  ASSERT_EQ(d.type, JsonValue::Type::kArray) << r.body;
  ASSERT_EQ(d.items.size(), 2u) << r.body;

  const JsonValue& failed = d.items[0];  // Newest first.
  EXPECT_EQ(Str(failed, "receiver"), "broken");
  EXPECT_EQ(Str(failed, "groupKey"), "{}/{team=\"broken\"}:{alertname=\"Y\"}");
  EXPECT_EQ(Str(failed, "outcome"), "error");
  EXPECT_EQ(Str(failed, "error"), "webhook: HTTP 400: no");

  const JsonValue& ok = d.items[1];
  EXPECT_EQ(Str(ok, "receiver"), "ok");
  EXPECT_EQ(Str(ok, "integration"), "webhook");
  ASSERT_NE(ok.Find("index"), nullptr);
  EXPECT_EQ(ok.Find("index")->text, "0");
  EXPECT_EQ(Str(ok, "groupKey"), "{}:{alertname=\"X\"}");
  EXPECT_EQ(Str(ok, "status"), "firing");
  ASSERT_NE(ok.Find("alerts"), nullptr);
  EXPECT_EQ(ok.Find("alerts")->text, "1");
  EXPECT_EQ(Str(ok, "outcome"), "ok");
  EXPECT_EQ(Str(ok, "error"), "");
  ASSERT_NE(ok.Find("attempts"), nullptr);
  EXPECT_EQ(ok.Find("attempts")->text, "1");
  ASSERT_NE(ok.Find("durationSeconds"), nullptr);
  EXPECT_EQ(ok.Find("durationSeconds")->type, JsonValue::Type::kNumber);
  absl::Time t;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, Str(ok, "time"), &t, &err))
      << err;
  EXPECT_GE(t, before);
  EXPECT_LE(t, absl::Now());
}

TEST_F(AlertingApiTest, NotificationsLimit) {
  StartRouter();
  Fire({{"alertname", "X"}});
  Fire({{"alertname", "Y"}});
  JsonValue d = Data(Do("GET", "/api/v1/notifications?limit=1"));
  ASSERT_EQ(d.items.size(), 1u);
  EXPECT_EQ(Str(d.items[0], "groupKey"), "{}:{alertname=\"Y\"}");
  EXPECT_EQ(Do("GET", "/api/v1/notifications?limit=-1").status, 400);
}

// --- /api/v1/silences -------------------------------------------------------

TEST_F(AlertingApiTest, SilencesUnavailableWithoutRouter) {
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/silences"},
           {"POST", "/api/v1/silences"},
           {"GET", "/api/v1/silence/abc"},
           {"DELETE", "/api/v1/silence/abc"}}) {
    TestResponse r = Do(method, path, "{}");
    EXPECT_EQ(r.status, 503) << method << " " << path;
    JsonValue v = Json(r);
    EXPECT_EQ(Str(v, "errorType"), "unavailable");
    EXPECT_NE(Str(v, "error").find("notifications"), std::string::npos)
        << r.body;
  }
}

TEST_F(AlertingApiTest, CreateListAndExpireSilence) {
  StartRouter();
  const absl::Time ends = absl::Now() + absl::Hours(2);
  TestResponse created = Do(
      "POST", "/api/v1/silences",
      SilenceBody(
          R"([{"name":"alertname","value":"X","isRegex":false,"isEqual":true},
                      {"name":"instance","value":"db.*","isRegex":true,"isEqual":false}])",
          ends));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = Str(Data(created), "silenceID");
  EXPECT_EQ(id.size(), 36u) << created.body;

  JsonValue list = Data(Do("GET", "/api/v1/silences"));
  ASSERT_EQ(list.items.size(), 1u);
  const JsonValue& s = list.items[0];
  EXPECT_EQ(Str(s, "id"), id);
  ASSERT_NE(s.Find("status"), nullptr);
  EXPECT_EQ(Str(*s.Find("status"), "state"), "active");
  EXPECT_EQ(Str(s, "createdBy"), "ap");
  EXPECT_EQ(Str(s, "comment"), "maintenance");
  EXPECT_EQ(Str(s, "endsAt"), Rfc3339(ends));
  const JsonValue* ms = s.Find("matchers");
  ASSERT_NE(ms, nullptr);
  ASSERT_EQ(ms->items.size(), 2u);
  EXPECT_EQ(Str(ms->items[1], "name"), "instance");
  EXPECT_EQ(Str(ms->items[1], "value"), "db.*");
  EXPECT_TRUE(ms->items[1].Find("isRegex")->boolean);
  EXPECT_FALSE(ms->items[1].Find("isEqual")->boolean);
  EXPECT_FALSE(ms->items[0].Find("isRegex")->boolean);
  EXPECT_TRUE(ms->items[0].Find("isEqual")->boolean);

  TestResponse one = Do("GET", "/api/v1/silence/" + id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Str(Data(one), "id"), id);

  TestResponse expired = Do("DELETE", "/api/v1/silence/" + id);
  EXPECT_EQ(expired.status, 200) << expired.body;
  list = Data(Do("GET", "/api/v1/silences"));
  ASSERT_EQ(list.items.size(), 1u);
  EXPECT_EQ(Str(*list.items[0].Find("status"), "state"), "expired");
}

TEST_F(AlertingApiTest, ExpireUnderSilencesPathToo) {
  StartRouter();
  const std::string id = CreateSilence(kMatcherX);
  EXPECT_EQ(Do("DELETE", "/api/v1/silences/" + id).status, 200);
  EXPECT_EQ(
      Str(*Data(Do("GET", "/api/v1/silences/" + id)).Find("status"), "state"),
      "expired");
}

TEST_F(AlertingApiTest, ExpiringTwiceIsBadData) {
  StartRouter();
  const std::string id = CreateSilence(kMatcherX);
  ASSERT_EQ(Do("DELETE", "/api/v1/silence/" + id).status, 200);
  TestResponse r = Do("DELETE", "/api/v1/silence/" + id);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Str(Json(r), "errorType"), "bad_data");
}

TEST_F(AlertingApiTest, UnknownIdIsNotFound) {
  StartRouter();
  for (const char* method : {"GET", "DELETE"}) {
    TestResponse r = Do(method, "/api/v1/silence/0000-nope");
    EXPECT_EQ(r.status, 404) << method << " " << r.body;
    EXPECT_EQ(Str(Json(r), "errorType"), "not_found");
  }
  // Replacing an unknown silence.
  TestResponse r =
      Do("POST", "/api/v1/silences",
         absl::StrCat(R"({"id":"0000-nope","matchers":)", kMatcherX,
                      R"(,"endsAt":")", Rfc3339(absl::Now() + absl::Hours(1)),
                      R"(","createdBy":"ap","comment":"c"})"));
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(AlertingApiTest, PostWithIdReplacesTheSilence) {
  StartRouter();
  const std::string old_id = CreateSilence(kMatcherX);
  TestResponse r =
      Do("POST", "/api/v1/silences",
         absl::StrCat(R"({"id":")", old_id, R"(","matchers":)", kMatcherX,
                      R"(,"endsAt":")", Rfc3339(absl::Now() + absl::Hours(3)),
                      R"(","createdBy":"ap","comment":"longer"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string new_id = Str(Data(r), "silenceID");
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(Str(*Data(Do("GET", "/api/v1/silence/" + old_id)).Find("status"),
                "state"),
            "expired");
  EXPECT_EQ(Str(*Data(Do("GET", "/api/v1/silence/" + new_id)).Find("status"),
                "state"),
            "active");
}

TEST_F(AlertingApiTest, BadSilencesAreBadData) {
  StartRouter();
  const absl::Time later = absl::Now() + absl::Hours(1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "invalid JSON"},
      {"[]", "JSON object"},
      {R"({"matchers":{}})", "matchers must be an array"},
      {SilenceBody(R"([{"name":"a","value":"(","isRegex":true}])", later),
       "matchers[0].value"},
      {SilenceBody(R"([{"name":"1a","value":"x"}])", later),
       "invalid label name"},
      {SilenceBody(R"([{"name":"a","value":"x","isRegex":"yes"}])", later),
       "matchers[0].isRegex must be a boolean"},
      {SilenceBody("[]", later), ""},  // No matchers.
      {SilenceBody(kMatcherX, absl::Now() - absl::Hours(1)),
       ""},  // Ends in the past.
      {absl::StrCat(R"({"matchers":)", kMatcherX, R"(,"endsAt":"tomorrow"})"),
       "endsAt"},
      {absl::StrCat(R"({"matchers":)", kMatcherX, R"(,"endsAt":")",
                    Rfc3339(later), R"(","comment":"c"})"),
       ""},  // No createdBy.
  };
  for (const auto& [body, want] : cases) {
    TestResponse r = Do("POST", "/api/v1/silences", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    JsonValue v = Json(r);
    EXPECT_EQ(Str(v, "errorType"), "bad_data") << body;
    EXPECT_FALSE(Str(v, "error").empty()) << body;
    EXPECT_NE(Str(v, "error").find(want), std::string::npos)
        << body << " -> " << r.body;
  }
  EXPECT_TRUE(Data(Do("GET", "/api/v1/silences")).items.empty());
}

TEST_F(AlertingApiTest, SilenceCreatedThroughApiMutesDelivery) {
  StartRouter();
  CreateSilence(kMatcherX);
  Fire({{"alertname", "X"}});
  Fire({{"alertname", "Z"}});
  JsonValue d = Data(Do("GET", "/api/v1/notifications"));
  ASSERT_EQ(d.items.size(), 1u);
  EXPECT_EQ(Str(d.items[0], "groupKey"), "{}:{alertname=\"Z\"}");
}

TEST_F(AlertingApiTest, SilencesSurviveARouterRestart) {
  StartRouter();
  const std::string id = CreateSilence(kMatcherX);
  api_.SetRouter(nullptr);
  router_->Stop();
  router_.reset();
  StartRouter();
  JsonValue list = Data(Do("GET", "/api/v1/silences"));
  ASSERT_EQ(list.items.size(), 1u);
  EXPECT_EQ(Str(list.items[0], "id"), id);
}

}  // namespace
}  // namespace vigil::api
