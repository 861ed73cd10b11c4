#include "alerting/receivers.h"

#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerting/payloads.h"
#include "gtest/gtest.h"

namespace vigil::alerting {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

Alert MakeAlert(std::initializer_list<std::pair<absl::string_view, absl::string_view>> labels,
                std::vector<std::pair<std::string, std::string>> annotations = {},
                bool resolved = false) {
  Alert a;
  a.labels = model::Labels::FromPairs(labels);
  a.annotations = std::move(annotations);
  a.starts_at = kNow - absl::Minutes(5) + absl::Milliseconds(250);
  a.ends_at = resolved ? kNow - absl::Seconds(30) : kNow + absl::Minutes(4);
  a.generator_url = "http://prom:9090/graph?g0.expr=up&g0.tab=1";
  return a;
}

Notification MakeNotification(std::vector<Alert> alerts) {
  Notification n;
  n.receiver = "team";
  n.group_key = R"({}/{severity="page"}:{alertname="HighLatency"})";
  n.group_labels = model::Labels::FromPairs({{"alertname", "HighLatency"}});
  n.alerts = std::move(alerts);
  n.now = kNow;
  n.external_url = "http://vigil:9090";
  return n;
}

Notification TwoAlerts() {
  return MakeNotification({
      MakeAlert({{"alertname", "HighLatency"}, {"instance", "a:1"}, {"severity", "page"}},
                {{"summary", "latency high"}, {"value", "0.93"}}),
      MakeAlert({{"alertname", "HighLatency"}, {"instance", "b:1"}, {"severity", "page"}},
                {{"summary", "latency high"}}, /*resolved=*/true),
  });
}

// ---- shared pieces ---------------------------------------------------------

TEST(GoTimeTest, ZeroTimeAndFractions) {
  EXPECT_EQ(GoTime(absl::InfinitePast()), "0001-01-01T00:00:00Z");
  EXPECT_EQ(GoTime(absl::FromUnixSeconds(1700000000)), "2023-11-14T22:13:20Z");
  EXPECT_EQ(GoTime(absl::FromUnixMillis(1700000000250)), "2023-11-14T22:13:20.25Z");
  EXPECT_EQ(GoTime(absl::FromUnixNanos(1700000000000000001)),
            "2023-11-14T22:13:20.000000001Z");
}

TEST(JsonStringTest, EscapesLikeGo) {
  std::string out;
  AppendJsonString("a\"b\\c\n\t\r<>&\x01\x7f \xe2\x80\xa8 \xff \xc3\xa9", &out);
  EXPECT_EQ(out,
            "\"a\\\"b\\\\c\\n\\t\\r\\u003c\\u003e\\u0026\\u0001\x7f \\u2028 \\ufffd \xc3\xa9\"");
}

TEST(TruncateCharsTest, CountsCodePointsAndEndsWithEllipsis) {
  EXPECT_EQ(TruncateChars("abc", 3), "abc");
  EXPECT_EQ(TruncateChars("abcd", 3), "ab\xe2\x80\xa6");
  // Two-byte characters are never split.
  EXPECT_EQ(TruncateChars("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3), "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
}

TEST(CommonLabelsTest, KeepsOnlyLabelsEqualEverywhere) {
  Notification n = TwoAlerts();
  EXPECT_EQ(CommonLabels(n.alerts).ToString(), R"({alertname="HighLatency", severity="page"})");
  EXPECT_EQ(CommonLabels({}).size(), 0u);
  auto common = CommonAnnotations(n.alerts);
  ASSERT_EQ(common.size(), 1u);
  EXPECT_EQ(common[0].first, "summary");
}

// ---- webhook ---------------------------------------------------------------

TEST(WebhookPayloadTest, AlertmanagerVersion4) {
  std::string got = BuildWebhookPayload(TwoAlerts(), 0);
  std::string want = absl::StrCat(
      R"({"receiver":"team","status":"firing","alerts":[)",
      R"({"status":"firing","labels":{"alertname":"HighLatency","instance":"a:1","severity":"page"},)",
      R"("annotations":{"summary":"latency high","value":"0.93"},)",
      R"("startsAt":"2023-11-14T22:08:20.25Z","endsAt":"0001-01-01T00:00:00Z",)",
      R"("generatorURL":"http://prom:9090/graph?g0.expr=up\u0026g0.tab=1","fingerprint":")",
      FingerprintHex(TwoAlerts().alerts[0].labels), R"("},)",
      R"({"status":"resolved","labels":{"alertname":"HighLatency","instance":"b:1","severity":"page"},)",
      R"("annotations":{"summary":"latency high"},)",
      R"("startsAt":"2023-11-14T22:08:20.25Z","endsAt":"2023-11-14T22:12:50Z",)",
      R"("generatorURL":"http://prom:9090/graph?g0.expr=up\u0026g0.tab=1","fingerprint":")",
      FingerprintHex(TwoAlerts().alerts[1].labels), R"("}],)",
      R"("groupLabels":{"alertname":"HighLatency"},)",
      R"("commonLabels":{"alertname":"HighLatency","severity":"page"},)",
      R"("commonAnnotations":{"summary":"latency high"},)",
      R"("externalURL":"http://vigil:9090","version":"4",)",
      R"("groupKey":"{}/{severity=\"page\"}:{alertname=\"HighLatency\"}","truncatedAlerts":0})",
      "\n");
  EXPECT_EQ(got, want);
}

TEST(WebhookPayloadTest, FingerprintIsAlertmanagers) {
  // Alertmanager's fingerprint of {alertname="HighLatency", instance="a:1",
  // severity="page"} is FNV-1a over name, 0xff, value, 0xff, ...
  std::string got = BuildWebhookPayload(TwoAlerts(), 0);
  EXPECT_TRUE(absl::StrContains(
      got, absl::StrCat("\"fingerprint\":\"", FingerprintHex(TwoAlerts().alerts[0].labels))));
  EXPECT_EQ(FingerprintHex(model::Labels()), "cbf29ce484222325");
}

TEST(WebhookPayloadTest, ResolvedGroup) {
  Notification n = MakeNotification({MakeAlert({{"alertname", "X"}}, {}, true)});
  std::string got = BuildWebhookPayload(n, 0);
  EXPECT_TRUE(absl::StartsWith(got, R"({"receiver":"team","status":"resolved",)")) << got;
}

TEST(WebhookPayloadTest, MaxAlertsTruncatesAndCounts) {
  Notification n = MakeNotification({
      MakeAlert({{"alertname", "A"}, {"x", "1"}}),
      MakeAlert({{"alertname", "A"}, {"x", "2"}}),
      MakeAlert({{"alertname", "A"}, {"x", "3"}}),
  });
  std::string got = BuildWebhookPayload(n, 1);
  EXPECT_TRUE(absl::EndsWith(got, "\"truncatedAlerts\":2}\n")) << got;
  EXPECT_TRUE(absl::StrContains(got, R"("x":"1")"));
  EXPECT_FALSE(absl::StrContains(got, R"("x":"2")"));
  // Common labels describe the alerts sent: x is common to the one left.
  EXPECT_TRUE(absl::StrContains(got, R"("commonLabels":{"alertname":"A","x":"1"})")) << got;
  EXPECT_TRUE(absl::EndsWith(BuildWebhookPayload(n, 3), "\"truncatedAlerts\":0}\n"));
}

TEST(WebhookPayloadTest, UnsetStartIsZeroTime) {
  Alert a = MakeAlert({{"alertname", "A"}});
  a.starts_at = absl::InfinitePast();
  std::string got = BuildWebhookPayload(MakeNotification({a}), 0);
  EXPECT_TRUE(absl::StrContains(got, R"("startsAt":"0001-01-01T00:00:00Z")")) << got;
}

// ---- chat ------------------------------------------------------------------

TEST(ChatTest, DefaultTitle) {
  Notification n = TwoAlerts();
  EXPECT_EQ(DefaultChatTitle(n), "[FIRING:1] HighLatency");
  n.alerts.push_back(MakeAlert({{"alertname", "HighLatency"}, {"instance", "c:1"}}));
  EXPECT_EQ(DefaultChatTitle(n), "[FIRING:2] HighLatency");
  n.alerts = {MakeAlert({{"alertname", "HighLatency"}}, {}, true)};
  EXPECT_EQ(DefaultChatTitle(n), "[RESOLVED] HighLatency");
  // No group labels: the common alert name.
  n.group_labels = model::Labels();
  EXPECT_EQ(DefaultChatTitle(n), "[RESOLVED] HighLatency");
}

TEST(ChatTest, DefaultTextListsEachAlert) {
  std::string text = DefaultChatText(TwoAlerts());
  EXPECT_EQ(text,
            "*HighLatency* (page) on a:1\nlatency high\nValue: 0.93\n"
            "<http://prom:9090/graph?g0.expr=up&amp;g0.tab=1|Source>\n\n"
            "*HighLatency* (page) on b:1 - resolved\nlatency high\n"
            "<http://prom:9090/graph?g0.expr=up&amp;g0.tab=1|Source>");
}

TEST(ChatTest, DefaultTextFallsBackToDescriptionAndEscapes) {
  Notification n = MakeNotification(
      {MakeAlert({{"alertname", "A<b>"}}, {{"description", "x & y < z"}})});
  n.alerts[0].generator_url = "";
  EXPECT_EQ(DefaultChatText(n), "*A&lt;b&gt;*\nx &amp; y &lt; z");
}

TEST(ChatTest, PayloadBlocks) {
  config::ChatReceiverConfig c;
  c.channel = "#ops";
  std::string got = BuildChatPayload(c, ChatMessage{"[FIRING:1] A", "*A*\nsummary"});
  EXPECT_EQ(got,
            R"({"channel":"#ops","text":"[FIRING:1] A\n*A*\nsummary","blocks":[)"
            R"({"type":"header","text":{"type":"plain_text","text":"[FIRING:1] A","emoji":true}},)"
            R"({"type":"section","text":{"type":"mrkdwn","text":"*A*\nsummary"}}]})");
  c.channel = "";
  EXPECT_TRUE(absl::StartsWith(BuildChatPayload(c, ChatMessage{"t", "x"}), R"({"text":)"));
}

TEST(ChatTest, LongHeaderIsCutTo150Chars) {
  config::ChatReceiverConfig c;
  std::string got = BuildChatPayload(c, ChatMessage{std::string(200, 'x'), "y"});
  EXPECT_TRUE(absl::StrContains(
      got, absl::StrCat(R"("plain_text","text":")", std::string(149, 'x'), "\xe2\x80\xa6\"")))
      << got;
}

// Counts the section blocks and checks each text is within Slack's limit.
int CountSections(const std::string& payload, size_t max_bytes_per_text) {
  int n = 0;
  const std::string marker = R"("type":"mrkdwn","text":")";
  for (size_t p = payload.find(marker); p != std::string::npos;
       p = payload.find(marker, p + 1)) {
    size_t start = p + marker.size();
    size_t end = payload.find("\"}}", start);
    EXPECT_LE(end - start, max_bytes_per_text);
    ++n;
  }
  return n;
}

TEST(ChatTest, LongTextSplitsIntoSectionsAtLineEnds) {
  config::ChatReceiverConfig c;
  std::string line(999, 'a');  // Three lines per section: 999*3 + 2 = 2999.
  std::string text;
  for (int i = 0; i < 7; ++i) absl::StrAppend(&text, i > 0 ? "\n" : "", line);
  std::string got = BuildChatPayload(c, ChatMessage{"t", text});
  // 7 lines of 999 chars (escaped '\n' is 2 bytes in JSON).
  EXPECT_EQ(CountSections(got, 3000 + 2 * 2), 3);
}

TEST(ChatTest, AtMostFiftyBlocks) {
  config::ChatReceiverConfig c;
  std::string text;
  for (int i = 0; i < 200; ++i) absl::StrAppend(&text, std::string(2000, 'b'), "\n");
  std::string got = BuildChatPayload(c, ChatMessage{"t", text});
  EXPECT_EQ(CountSections(got, 3000), 49);
  // The cut is marked.
  EXPECT_TRUE(absl::StrContains(got, "b\xe2\x80\xa6\"}}]}")) << got.substr(got.size() - 50);
}

TEST(ChatTest, TemplatesRenderedWithRenderer) {
  config::ChatReceiverConfig c;
  c.title = "T {{ .Status }}";
  Notification n = TwoAlerts();
  TemplateRenderer render = [](const std::string& tmpl,
                               const Notification& n) -> absl::StatusOr<std::string> {
    return absl::StrCat(tmpl, "|", n.Firing() ? "firing" : "resolved");
  };
  absl::StatusOr<ChatMessage> m = RenderChatMessage(c, n, render);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->title, "T {{ .Status }}|firing");
  EXPECT_EQ(m->text, DefaultChatText(n));  // Not configured: default.
  // No renderer: the raw string.
  m = RenderChatMessage(c, n, nullptr);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->title, "T {{ .Status }}");
}

TEST(ChatTest, RendererErrorIsReported) {
  config::ChatReceiverConfig c;
  c.text = "{{ bad";
  TemplateRenderer render = [](const std::string&, const Notification&)
      -> absl::StatusOr<std::string> { return absl::InvalidArgumentError("unclosed action"); };
  absl::StatusOr<ChatMessage> m = RenderChatMessage(c, TwoAlerts(), render);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(absl::StrContains(m.status().message(), "text template: unclosed action"));
}

// ---- pager -----------------------------------------------------------------

TEST(PagerTest, SeverityMapping) {
  EXPECT_STREQ(PagerSeverity("critical"), "critical");
  EXPECT_STREQ(PagerSeverity("page"), "critical");
  EXPECT_STREQ(PagerSeverity("CRIT"), "critical");
  EXPECT_STREQ(PagerSeverity("error"), "error");
  EXPECT_STREQ(PagerSeverity("err"), "error");
  EXPECT_STREQ(PagerSeverity("warning"), "warning");
  EXPECT_STREQ(PagerSeverity("warn"), "warning");
  EXPECT_STREQ(PagerSeverity("info"), "info");
  EXPECT_STREQ(PagerSeverity("whatever"), "info");
  EXPECT_STREQ(PagerSeverity(""), "info");
}

config::PagerReceiverConfig PagerConfig() {
  config::PagerReceiverConfig c;
  c.routing_key = "0123456789abcdef0123456789abcdef";
  return c;
}

TEST(PagerTest, Trigger) {
  Notification n = TwoAlerts();
  std::string got = BuildPagerPayload(PagerConfig(), n);
  std::string want = absl::StrCat(
      R"({"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger",)",
      R"("dedup_key":")", PagerDedupKey(n), R"(",)",
      R"("payload":{"summary":"[FIRING:1] HighLatency: latency high","source":"a:1",)",
      R"("severity":"critical","timestamp":"2023-11-14T22:08:20.25Z",)",
      R"("custom_details":{"num_firing":1,"num_resolved":1,)",
      R"("group_labels":{"alertname":"HighLatency"},"alerts":[)",
      R"({"status":"firing","labels":{"alertname":"HighLatency","instance":"a:1","severity":"page"},)",
      R"("annotations":{"summary":"latency high","value":"0.93"},)",
      R"("startsAt":"2023-11-14T22:08:20.25Z",)",
      R"("generatorURL":"http://prom:9090/graph?g0.expr=up\u0026g0.tab=1"},)",
      R"({"status":"resolved","labels":{"alertname":"HighLatency","instance":"b:1","severity":"page"},)",
      R"("annotations":{"summary":"latency high"},)",
      R"("startsAt":"2023-11-14T22:08:20.25Z",)",
      R"("generatorURL":"http://prom:9090/graph?g0.expr=up\u0026g0.tab=1"}]}},)",
      R"("client":"Vigil","client_url":"http://vigil:9090"})");
  EXPECT_EQ(got, want);
}

TEST(PagerTest, ResolveCarriesOnlyKeys) {
  Notification n = MakeNotification({MakeAlert({{"alertname", "A"}}, {}, true)});
  EXPECT_EQ(BuildPagerPayload(PagerConfig(), n),
            absl::StrCat(R"({"routing_key":"0123456789abcdef0123456789abcdef",)",
                         R"("event_action":"resolve","dedup_key":")", PagerDedupKey(n), "\"}"));
}

TEST(PagerTest, DedupKeyStablePerGroup) {
  Notification a = TwoAlerts();
  Notification b = MakeNotification({MakeAlert({{"alertname", "Other"}})});
  // Same receiver and group key, other alerts: same key.
  EXPECT_EQ(PagerDedupKey(a), PagerDedupKey(b));
  // A fixed value: the key must not change across versions or restarts.
  EXPECT_EQ(PagerDedupKey(a), "aa990bcdf67ba9a584438dc18804a0a7");
  const std::string k = PagerDedupKey(a);
  b.group_key = "{}:{alertname=\"Other\"}";
  EXPECT_NE(PagerDedupKey(b), k);
  b.group_key = a.group_key;
  b.receiver = "other";
  EXPECT_NE(PagerDedupKey(b), k);
}

TEST(PagerTest, SeverityIsHighestFiringUnlessConfigured) {
  Notification n = MakeNotification({
      MakeAlert({{"alertname", "A"}, {"severity", "warning"}, {"x", "1"}}),
      MakeAlert({{"alertname", "A"}, {"severity", "error"}, {"x", "2"}}),
      MakeAlert({{"alertname", "A"}, {"severity", "critical"}, {"x", "3"}}, {}, true),
  });
  config::PagerReceiverConfig c = PagerConfig();
  EXPECT_TRUE(absl::StrContains(BuildPagerPayload(c, n), R"("severity":"error")"));
  c.severity = "warning";
  EXPECT_TRUE(absl::StrContains(BuildPagerPayload(c, n), R"("severity":"warning")"));
  n.alerts.resize(1);
  n.alerts[0].labels = model::Labels::FromPairs({{"alertname", "A"}});
  c.severity = "";
  EXPECT_TRUE(absl::StrContains(BuildPagerPayload(c, n), R"("severity":"info")"));
}

TEST(PagerTest, SourceFromConfigElseInstanceElseVigil) {
  Notification n = TwoAlerts();
  config::PagerReceiverConfig c = PagerConfig();
  c.source = "db-cluster";
  EXPECT_TRUE(absl::StrContains(BuildPagerPayload(c, n), R"("source":"db-cluster")"));
  c.source = "";
  EXPECT_TRUE(absl::StrContains(BuildPagerPayload(c, n), R"("source":"a:1")"));
  n.alerts[0].labels = model::Labels::FromPairs({{"alertname", "A"}});
  EXPECT_TRUE(absl::StrContains(BuildPagerPayload(c, n), R"("source":"vigil")"));
}

TEST(PagerTest, SummaryAtMost1024Chars) {
  Notification n = TwoAlerts();
  for (Alert& a : n.alerts) a.annotations = {{"summary", std::string(2000, 's')}};
  std::string got = BuildPagerPayload(PagerConfig(), n);
  std::string prefix = "[FIRING:1] HighLatency: ";
  std::string want = absl::StrCat(R"("summary":")", prefix,
                                  std::string(1023 - prefix.size(), 's'), "\xe2\x80\xa6\"");
  EXPECT_TRUE(absl::StrContains(got, want));
}

// ---- delivery --------------------------------------------------------------

// Answers from a script, one entry per request; records the requests.
class ScriptedSender : public HttpSender {
 public:
  explicit ScriptedSender(std::vector<absl::StatusOr<HttpReply>> script)
      : script_(script.begin(), script.end()) {}
  absl::StatusOr<HttpReply> Post(const HttpPost& req) override {
    absl::MutexLock l(&mu_);
    requests_.push_back(req);
    if (script_.empty()) return HttpReply{200, "", {}};
    absl::StatusOr<HttpReply> r = script_.front();
    script_.pop_front();
    return r;
  }
  std::vector<HttpPost> requests() {
    absl::MutexLock l(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::deque<absl::StatusOr<HttpReply>> script_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpPost> requests_ ABSL_GUARDED_BY(mu_);
};

HttpReply Reply(int status, std::string body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
  return HttpReply{status, std::move(body), std::move(headers)};
}

const RetryPolicy kFast{absl::Milliseconds(1), absl::Milliseconds(4)};

HttpPost Post() {
  HttpPost p;
  p.url = "http://127.0.0.1:1/hook";
  p.body = "{}";
  return p;
}

TEST(DeliverTest, RetriesOn5xx429AndTransportErrors) {
  ScriptedSender s({Reply(500), absl::UnavailableError("connection refused"), Reply(429),
                    Reply(502), Reply(204)});
  int attempts = 0;
  absl::Status st = DeliverWithRetry(&s, Post(), kFast, "webhook",
                                     absl::Now() + absl::Seconds(10), nullptr, &attempts);
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(attempts, 5);
}

TEST(DeliverTest, NoRetryOn4xx) {
  ScriptedSender s({Reply(400, "bad payload: missing routing_key")});
  int attempts = 0;
  absl::Status st = DeliverWithRetry(&s, Post(), kFast, "pager",
                                     absl::Now() + absl::Seconds(10), nullptr, &attempts);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_EQ(attempts, 1);
  EXPECT_TRUE(absl::StrContains(st.message(), "HTTP 400")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "bad payload: missing routing_key")) << st;
}

TEST(DeliverTest, ErrorBodyTruncated) {
  ScriptedSender s({Reply(404, std::string(5000, 'z'))});
  absl::Status st = DeliverWithRetry(&s, Post(), kFast, "chat", absl::Now() + absl::Seconds(10),
                                     nullptr, nullptr);
  EXPECT_TRUE(absl::StrContains(st.message(), std::string(512, 'z') + "..."));
  EXPECT_FALSE(absl::StrContains(st.message(), std::string(513, 'z')));
}

TEST(DeliverTest, NoRetryOnInvalidArgument) {
  ScriptedSender s({absl::InvalidArgumentError("bad URL")});
  int attempts = 0;
  absl::Status st = DeliverWithRetry(&s, Post(), kFast, "webhook",
                                     absl::Now() + absl::Seconds(10), nullptr, &attempts);
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_EQ(attempts, 1);
}

TEST(DeliverTest, GivesUpAtDeadlineWithLastError) {
  std::vector<absl::StatusOr<HttpReply>> script(1000, Reply(503, "down"));
  ScriptedSender s(script);
  int attempts = 0;
  absl::Time start = absl::Now();
  absl::Status st = DeliverWithRetry(&s, Post(), kFast, "webhook",
                                     start + absl::Milliseconds(200), nullptr, &attempts);
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "HTTP 503")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "down")) << st;
  EXPECT_GT(attempts, 2);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(DeliverTest, AttemptTimeoutCappedByDeadline) {
  ScriptedSender s({});
  HttpPost p = Post();
  p.timeout = absl::Seconds(30);
  ASSERT_TRUE(DeliverWithRetry(&s, p, kFast, "webhook", absl::Now() + absl::Seconds(5), nullptr,
                               nullptr)
                  .ok());
  ASSERT_EQ(s.requests().size(), 1u);
  EXPECT_LE(s.requests()[0].timeout, absl::Seconds(5));
}

TEST(DeliverTest, RetryAfterBeyondDeadlineGivesUpAtOnce) {
  ScriptedSender s({Reply(429, "slow down", {{"retry-after", "3600"}})});
  int attempts = 0;
  absl::Time start = absl::Now();
  absl::Status st = DeliverWithRetry(&s, Post(), kFast, "chat", start + absl::Seconds(10),
                                     nullptr, &attempts);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(attempts, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(DeliverTest, CancelStopsWaiting) {
  std::vector<absl::StatusOr<HttpReply>> script(10, Reply(500));
  ScriptedSender s(script);
  std::atomic<bool> cancel{false};
  RetryPolicy slow{absl::Seconds(30), absl::Seconds(30)};
  absl::Time start = absl::Now();
  std::thread t([&] {
    // Cancel once the first attempt has been made.
    while (s.requests().empty()) absl::SleepFor(absl::Milliseconds(1));
    cancel = true;
  });
  int attempts = 0;
  absl::Status st = DeliverWithRetry(&s, Post(), slow, "webhook", start + absl::Minutes(5),
                                     &cancel, &attempts);
  t.join();
  EXPECT_TRUE(absl::IsCancelled(st)) << st;
  EXPECT_EQ(attempts, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(RetryAfterTest, SecondsAndDates) {
  absl::Time now = absl::FromUnixSeconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:28:30 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:30 2015", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
}

// ---- integrations ----------------------------------------------------------

TEST(IntegrationTest, WebhookPostsPayloadWithHeadersAndTimeout) {
  ScriptedSender s({});
  config::WebhookReceiverConfig c;
  c.url = "http://127.0.0.1:1/hook";
  c.headers = {{"X-Token", "abc"}};
  c.timeout = absl::Seconds(3);
  c.max_alerts = 1;
  WebhookIntegration w(c, &s, kFast);
  int attempts = -1;
  Notification n = TwoAlerts();
  ASSERT_TRUE(w.Notify(n, absl::Now() + absl::Seconds(10), nullptr, &attempts).ok());
  EXPECT_EQ(attempts, 1);
  std::vector<HttpPost> requests = s.requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpPost& p = requests[0];
  EXPECT_EQ(p.url, c.url);
  EXPECT_EQ(p.content_type, "application/json");
  EXPECT_EQ(p.body, BuildWebhookPayload(n, 1));
  EXPECT_EQ(p.headers, c.headers);
  EXPECT_EQ(p.timeout, absl::Seconds(3));
}

TEST(IntegrationTest, SendResolvedFalseDropsResolvedAlerts) {
  ScriptedSender s({});
  config::WebhookReceiverConfig c;
  c.url = "http://127.0.0.1:1/hook";
  c.send_resolved = false;
  WebhookIntegration w(c, &s, kFast);
  Notification n = TwoAlerts();
  ASSERT_TRUE(w.Notify(n, absl::Now() + absl::Seconds(10), nullptr, nullptr).ok());
  ASSERT_EQ(s.requests().size(), 1u);
  EXPECT_FALSE(absl::StrContains(s.requests()[0].body, "b:1"));
  // A resolved group sends nothing.
  n.alerts = {MakeAlert({{"alertname", "A"}}, {}, true)};
  int attempts = -1;
  ASSERT_TRUE(w.Notify(n, absl::Now() + absl::Seconds(10), nullptr, &attempts).ok());
  EXPECT_EQ(attempts, 0);
  EXPECT_EQ(s.requests().size(), 1u);
}

TEST(IntegrationTest, ChatTemplateErrorFallsBackToDefault) {
  ScriptedSender s({});
  config::ChatReceiverConfig c;
  c.url = "http://127.0.0.1:1/chat";
  c.title = "{{ broken";
  TemplateRenderer render = [](const std::string&, const Notification&)
      -> absl::StatusOr<std::string> { return absl::InvalidArgumentError("broken"); };
  ChatIntegration chat(c, &s, kFast, render);
  ASSERT_TRUE(chat.Notify(TwoAlerts(), absl::Now() + absl::Seconds(10), nullptr, nullptr).ok());
  ASSERT_EQ(s.requests().size(), 1u);
  EXPECT_TRUE(absl::StrContains(s.requests()[0].body, "[FIRING:1] HighLatency"));
}

TEST(IntegrationTest, PagerPostsToConfiguredUrl) {
  ScriptedSender s({});
  config::PagerReceiverConfig c = PagerConfig();
  PagerIntegration pager(c, &s, kFast);
  ASSERT_TRUE(pager.Notify(TwoAlerts(), absl::Now() + absl::Seconds(10), nullptr, nullptr).ok());
  ASSERT_EQ(s.requests().size(), 1u);
  EXPECT_EQ(s.requests()[0].url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(s.requests()[0].body, BuildPagerPayload(c, TwoAlerts()));
}

TEST(IntegrationTest, BuildIntegrationsInConfigOrder) {
  config::ReceiverConfig r;
  r.name = "all";
  r.pager_configs.push_back(PagerConfig());
  r.chat_configs.emplace_back();
  r.webhook_configs.emplace_back();
  r.webhook_configs.emplace_back();
  r.webhook_configs[1].send_resolved = false;
  ScriptedSender s({});
  auto integrations = BuildIntegrations(r, &s, kFast, nullptr);
  ASSERT_EQ(integrations.size(), 4u);
  EXPECT_STREQ(integrations[0]->kind(), "webhook");
  EXPECT_TRUE(integrations[0]->send_resolved());
  EXPECT_STREQ(integrations[1]->kind(), "webhook");
  EXPECT_FALSE(integrations[1]->send_resolved());
  EXPECT_STREQ(integrations[2]->kind(), "chat");
  EXPECT_STREQ(integrations[3]->kind(), "pager");
}

}  // namespace
}  // namespace vigil::alerting
