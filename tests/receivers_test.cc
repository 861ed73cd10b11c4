// The webhook, chat and pager integrations (alerting/receivers.h) over the
// real HTTP client (api::HttpSender) against local sinks (api::HttpServer on
// 127.0.0.1): payloads checked field by field with jq, retries on 500 and
// 429 (Retry-After), no retry on 400, cancel, and endpoints that hang or
// refuse connections.
#include "alerting/receivers.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "api/http_sender.h"
#include "api/http_server.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/http_sink.h"
#include "tests/prometheus_api.h"

namespace vigil {
namespace {

using alerting::Alert;
using alerting::Notification;
using testing::Jq;
using testing::kJq;
using testing::MissingBinaries;

const absl::Time kStart = absl::FromUnixMillis(1700000000250);

using testing::Sink;
using testing::Statuses;

Alert MakeAlert(std::initializer_list<std::pair<absl::string_view, absl::string_view>> labels,
                bool resolved, absl::Time now) {
  Alert a;
  a.labels = model::Labels::FromPairs(labels);
  a.annotations = {{"summary", "p99 latency above 500ms"}, {"value", "0.93"}};
  a.starts_at = kStart;
  a.ends_at = resolved ? now - absl::Seconds(1) : now + absl::Minutes(4);
  a.generator_url = "http://vigil:9090/graph?g0.expr=latency&g0.tab=1";
  return a;
}

Notification MakeNotification(bool resolved) {
  Notification n;
  n.receiver = "ops";
  n.group_key = R"({}/{severity="page"}:{alertname="HighLatency"})";
  n.group_labels = model::Labels::FromPairs({{"alertname", "HighLatency"}});
  n.now = absl::Now();
  n.external_url = "http://vigil.example:9090";
  n.alerts = {
      MakeAlert({{"alertname", "HighLatency"}, {"instance", "api-1:8080"}, {"severity", "page"}},
                resolved, n.now),
      MakeAlert({{"alertname", "HighLatency"}, {"instance", "api-2:8080"}, {"severity", "page"}},
                resolved, n.now),
  };
  return n;
}

class ReceiversTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingBinaries({kJq});
    if (!missing.empty()) GTEST_SKIP() << missing;
    dir_ = ::testing::TempDir() + "/receivers_test_" + std::to_string(getpid());
    ASSERT_TRUE(CreateDirs(dir_).ok());
  }

  // jq `program` over `json`; "ERROR: ..." on failure so that comparisons
  // show it.
  std::string J(const std::string& json, const std::string& program) {
    std::string file = absl::StrCat(dir_, "/body", files_++, ".json");
    absl::Status w = WriteFileAtomic(file, json);
    if (!w.ok()) return absl::StrCat("ERROR: ", w.ToString());
    absl::StatusOr<std::string> out = Jq(program, file);
    return out.ok() ? *out : absl::StrCat("ERROR: ", out.status().ToString());
  }

  alerting::WebhookIntegration Webhook(const std::string& url) {
    config::WebhookReceiverConfig c;
    c.url = url;
    c.timeout = absl::Seconds(5);
    return alerting::WebhookIntegration(c, &sender_, fast_);
  }

  api::HttpSender sender_{1};
  alerting::RetryPolicy fast_{absl::Milliseconds(10), absl::Milliseconds(50)};
  std::string dir_;
  int files_ = 0;
};

// ---- payloads as received ------------------------------------------------

TEST_F(ReceiversTest, WebhookPayloadFieldByField) {
  Sink sink(Statuses({}));
  config::WebhookReceiverConfig c;
  c.url = sink.url();
  c.max_alerts = 1;
  c.headers = {{"X-Token", "secret-1"}};
  alerting::WebhookIntegration w(c, &sender_, fast_);
  Notification n = MakeNotification(/*resolved=*/false);
  int attempts = 0;
  ASSERT_TRUE(w.Notify(n, absl::Now() + absl::Seconds(10), nullptr, &attempts).ok());
  EXPECT_EQ(attempts, 1);
  std::vector<Sink::Received> got = sink.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(got[0].token, "secret-1");
  const std::string& b = got[0].body;
  EXPECT_EQ(J(b, ".version"), "4");
  EXPECT_EQ(J(b, ".groupKey"), R"({}/{severity="page"}:{alertname="HighLatency"})");
  EXPECT_EQ(J(b, ".truncatedAlerts"), "1");
  EXPECT_EQ(J(b, ".status"), "firing");
  EXPECT_EQ(J(b, ".receiver"), "ops");
  EXPECT_EQ(J(b, ".groupLabels|tojson"), R"({"alertname":"HighLatency"})");
  EXPECT_EQ(J(b, ".commonLabels|tojson"),
            R"({"alertname":"HighLatency","instance":"api-1:8080","severity":"page"})");
  EXPECT_EQ(J(b, ".commonAnnotations.summary"), "p99 latency above 500ms");
  EXPECT_EQ(J(b, ".externalURL"), "http://vigil.example:9090");
  EXPECT_EQ(J(b, ".alerts|length"), "1");
  EXPECT_EQ(J(b, ".alerts[0].status"), "firing");
  EXPECT_EQ(J(b, ".alerts[0].labels.instance"), "api-1:8080");
  EXPECT_EQ(J(b, ".alerts[0].annotations.value"), "0.93");
  EXPECT_EQ(J(b, ".alerts[0].startsAt"), "2023-11-14T22:13:20.25Z");
  EXPECT_EQ(J(b, ".alerts[0].endsAt"), "0001-01-01T00:00:00Z");
  EXPECT_EQ(J(b, ".alerts[0].generatorURL"), "http://vigil:9090/graph?g0.expr=latency&g0.tab=1");
  EXPECT_EQ(J(b, ".alerts[0].fingerprint"), alerting::FingerprintHex(n.alerts[0].labels));
  EXPECT_EQ(J(b, "keys_unsorted|join(\",\")"),
            "receiver,status,alerts,groupLabels,commonLabels,commonAnnotations,externalURL,"
            "version,groupKey,truncatedAlerts");
}

TEST_F(ReceiversTest, WebhookResolvedAlertsCarryEndTime) {
  Sink sink(Statuses({}));
  alerting::WebhookIntegration w = Webhook(sink.url());
  Notification n = MakeNotification(/*resolved=*/true);
  ASSERT_TRUE(w.Notify(n, absl::Now() + absl::Seconds(10), nullptr, nullptr).ok());
  ASSERT_EQ(sink.count(), 1u);
  const std::string b = sink.received()[0].body;
  EXPECT_EQ(J(b, ".status"), "resolved");
  EXPECT_EQ(J(b, "[.alerts[].status]|join(\",\")"), "resolved,resolved");
  EXPECT_EQ(J(b, ".alerts[0].endsAt"), alerting::GoTime(n.alerts[0].ends_at));
  EXPECT_EQ(J(b, ".truncatedAlerts"), "0");
}

TEST_F(ReceiversTest, ChatPayloadFieldByField) {
  Sink sink(Statuses({}));
  config::ChatReceiverConfig c;
  c.url = sink.url();
  c.channel = "#oncall";
  alerting::ChatIntegration chat(c, &sender_, fast_, nullptr);
  ASSERT_TRUE(chat.Notify(MakeNotification(false), absl::Now() + absl::Seconds(10), nullptr,
                          nullptr)
                  .ok());
  ASSERT_EQ(sink.count(), 1u);
  const std::string b = sink.received()[0].body;
  EXPECT_EQ(J(b, ".channel"), "#oncall");
  EXPECT_EQ(J(b, ".text|split(\"\\n\")[0]"), "[FIRING:2] HighLatency");
  EXPECT_EQ(J(b, ".blocks|length"), "2");
  EXPECT_EQ(J(b, ".blocks[0].type"), "header");
  EXPECT_EQ(J(b, ".blocks[0].text.type"), "plain_text");
  EXPECT_EQ(J(b, ".blocks[0].text.text"), "[FIRING:2] HighLatency");
  EXPECT_EQ(J(b, ".blocks[1].type"), "section");
  EXPECT_EQ(J(b, ".blocks[1].text.type"), "mrkdwn");
  std::string text = J(b, ".blocks[1].text.text");
  EXPECT_TRUE(absl::StrContains(text, "*HighLatency* (page) on api-1:8080\n"
                                      "p99 latency above 500ms\nValue: 0.93\n"
                                      "<http://vigil:9090/graph?g0.expr=latency&amp;g0.tab=1|Source>"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "api-2:8080")) << text;
}

TEST_F(ReceiversTest, ChatResolvedMessage) {
  Sink sink(Statuses({}));
  config::ChatReceiverConfig c;
  c.url = sink.url();
  alerting::ChatIntegration chat(c, &sender_, fast_, nullptr);
  ASSERT_TRUE(
      chat.Notify(MakeNotification(true), absl::Now() + absl::Seconds(10), nullptr, nullptr).ok());
  ASSERT_EQ(sink.count(), 1u);
  const std::string b = sink.received()[0].body;
  EXPECT_EQ(J(b, ".blocks[0].text.text"), "[RESOLVED] HighLatency");
  EXPECT_EQ(J(b, "has(\"channel\")"), "false");
}

TEST_F(ReceiversTest, PagerTriggerThenResolveWithSameDedupKey) {
  Sink sink(Statuses({202, 202}));  // PagerDuty answers 202 Accepted.
  config::PagerReceiverConfig c;
  c.url = sink.url();
  c.routing_key = "0123456789abcdef0123456789abcdef";
  alerting::PagerIntegration pager(c, &sender_, fast_);
  ASSERT_TRUE(
      pager.Notify(MakeNotification(false), absl::Now() + absl::Seconds(10), nullptr, nullptr)
          .ok());
  ASSERT_TRUE(
      pager.Notify(MakeNotification(true), absl::Now() + absl::Seconds(10), nullptr, nullptr)
          .ok());
  std::vector<Sink::Received> got = sink.received();
  ASSERT_EQ(got.size(), 2u);
  const std::string& t = got[0].body;
  EXPECT_EQ(J(t, ".routing_key"), c.routing_key);
  EXPECT_EQ(J(t, ".event_action"), "trigger");
  EXPECT_EQ(J(t, ".dedup_key|length"), "32");
  EXPECT_EQ(J(t, ".payload.summary"), "[FIRING:2] HighLatency: p99 latency above 500ms");
  EXPECT_EQ(J(t, ".payload.source"), "api-1:8080");
  EXPECT_EQ(J(t, ".payload.severity"), "critical");
  EXPECT_EQ(J(t, ".payload.custom_details.num_firing"), "2");
  EXPECT_EQ(J(t, ".payload.custom_details.num_resolved"), "0");
  EXPECT_EQ(J(t, ".payload.custom_details.alerts[1].labels.instance"), "api-2:8080");
  EXPECT_EQ(J(t, ".payload.custom_details.alerts[0].annotations.summary"),
            "p99 latency above 500ms");
  EXPECT_EQ(J(t, ".client"), "Vigil");
  EXPECT_EQ(J(t, ".client_url"), "http://vigil.example:9090");
  const std::string& r = got[1].body;
  EXPECT_EQ(J(r, "keys|join(\",\")"), "dedup_key,event_action,routing_key");
  EXPECT_EQ(J(r, ".event_action"), "resolve");
  EXPECT_EQ(J(r, ".dedup_key"), J(t, ".dedup_key"));
}

// ---- delivery ----------------------------------------------------------------

TEST_F(ReceiversTest, RetriesOn500ThenSucceeds) {
  Sink sink(Statuses({500, 500, 200}));
  alerting::WebhookIntegration w = Webhook(sink.url());
  int attempts = 0;
  absl::Status s = w.Notify(MakeNotification(false), absl::Now() + absl::Seconds(30), nullptr,
                            &attempts);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(attempts, 3);
  std::vector<Sink::Received> got = sink.received();
  ASSERT_EQ(got.size(), 3u);
  // The same payload every time.
  EXPECT_EQ(got[0].body, got[2].body);
}

TEST_F(ReceiversTest, HonoursRetryAfterOn429) {
  Sink sink([](int i, api::HttpResponse* r) {
    if (i == 0) {
      r->status = 429;
      r->headers.emplace_back("Retry-After", "1");
      r->body = "rate limited";
    }
  });
  alerting::WebhookIntegration w = Webhook(sink.url());
  int attempts = 0;
  absl::Status s = w.Notify(MakeNotification(false), absl::Now() + absl::Seconds(30), nullptr,
                            &attempts);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(attempts, 2);
  std::vector<Sink::Received> got = sink.received();
  ASSERT_EQ(got.size(), 2u);
  // The backoff alone would be at most 10 ms.
  EXPECT_GE(got[1].at - got[0].at, absl::Milliseconds(990));
}

TEST_F(ReceiversTest, NoRetryOn400) {
  Sink sink([](int, api::HttpResponse* r) {
    r->status = 400;
    r->body = R"({"status":"invalid event","errors":["'routing_key' is invalid"]})";
  });
  alerting::WebhookIntegration w = Webhook(sink.url());
  int attempts = 0;
  absl::Status s = w.Notify(MakeNotification(false), absl::Now() + absl::Seconds(30), nullptr,
                            &attempts);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(sink.count(), 1u);
  EXPECT_TRUE(absl::StrContains(s.message(), "HTTP 400")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "'routing_key' is invalid")) << s;
}

TEST_F(ReceiversTest, CancelStopsPromptly) {
  Sink sink([](int, api::HttpResponse* r) { r->status = 503; });
  config::WebhookReceiverConfig c;
  c.url = sink.url();
  alerting::RetryPolicy slow{absl::Seconds(30), absl::Minutes(1)};
  alerting::WebhookIntegration w(c, &sender_, slow);
  std::atomic<bool> cancel{false};
  absl::Time cancelled_at = absl::InfiniteFuture();
  std::thread canceller([&] {
    // Cancels once the first attempt has been answered and a wait began.
    testing::WaitUntil([&] { return sink.count() >= 1; }, absl::Seconds(10), {},
                       absl::Milliseconds(5));
    cancelled_at = absl::Now();
    cancel = true;
  });
  int attempts = 0;
  absl::Status s = w.Notify(MakeNotification(false), absl::Now() + absl::Minutes(10), &cancel,
                            &attempts);
  absl::Time returned_at = absl::Now();
  canceller.join();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(attempts, 1);
  EXPECT_LT(returned_at - cancelled_at, absl::Milliseconds(500));
}

TEST_F(ReceiversTest, HangingEndpointTimesOutThenRetries) {
  Sink* sink_ptr = nullptr;
  Sink sink([&sink_ptr](int i, api::HttpResponse* r) {
    if (i == 0) sink_ptr->Hang(absl::Seconds(20));
    r->status = 200;
  });
  sink_ptr = &sink;
  config::WebhookReceiverConfig c;
  c.url = sink.url();
  c.timeout = absl::Milliseconds(300);
  alerting::WebhookIntegration w(c, &sender_, fast_);
  int attempts = 0;
  absl::Time start = absl::Now();
  absl::Status s = w.Notify(MakeNotification(false), start + absl::Seconds(30), nullptr, &attempts);
  absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(attempts, 2);
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_F(ReceiversTest, HangingEndpointGivesUpAtDeadline) {
  Sink* sink_ptr = nullptr;
  Sink sink([&sink_ptr](int, api::HttpResponse*) { sink_ptr->Hang(absl::Seconds(20)); });
  sink_ptr = &sink;
  alerting::WebhookIntegration w = Webhook(sink.url());  // 5 s timeout per attempt.
  int attempts = 0;
  absl::Time start = absl::Now();
  absl::Status s =
      w.Notify(MakeNotification(false), start + absl::Milliseconds(700), nullptr, &attempts);
  absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_EQ(attempts, 1);
  EXPECT_LT(took, absl::Seconds(3));
}

TEST_F(ReceiversTest, ConnectionRefusedRetriedUntilDeadline) {
  int port = testing::FreePort();
  alerting::WebhookIntegration w = Webhook(absl::StrCat("http://127.0.0.1:", port, "/hook"));
  int attempts = 0;
  absl::Status s = w.Notify(MakeNotification(false), absl::Now() + absl::Milliseconds(500),
                            nullptr, &attempts);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_GE(attempts, 2);
}

}  // namespace
}  // namespace vigil
