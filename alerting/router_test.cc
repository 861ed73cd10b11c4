#include "alerting/router.h"

#include <stdlib.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/file.h"
#include "gtest/gtest.h"

namespace vigil::alerting {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;

// What an in-memory integration received, and how it behaves.
struct Sink {
  absl::Mutex mu;
  std::vector<Notification> got ABSL_GUARDED_BY(mu);
  absl::Status fail ABSL_GUARDED_BY(mu);  // Returned instead of delivering.
  bool hang ABSL_GUARDED_BY(mu) = false;  // Block until cancelled.
  std::string hang_group ABSL_GUARDED_BY(mu);  // Block for this group only.
  int calls ABSL_GUARDED_BY(mu) = 0;
  absl::Time last_deadline ABSL_GUARDED_BY(mu);

  size_t Count() {
    absl::MutexLock l(&mu);
    return got.size();
  }
  Notification Last() {
    absl::MutexLock l(&mu);
    return got.empty() ? Notification{} : got.back();
  }
  void SetFail(absl::Status st) {
    absl::MutexLock l(&mu);
    fail = std::move(st);
  }
  int Calls() {
    absl::MutexLock l(&mu);
    return calls;
  }
  // Waits (with a deadline) until `n` notifications arrived.
  bool WaitCount(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock l(&mu);
    auto cond = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return got.size() >= n;
    };
    return mu.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }
};

class RecordingIntegration final : public Integration {
 public:
  RecordingIntegration(std::shared_ptr<Sink> sink, bool send_resolved)
      : sink_(std::move(sink)), send_resolved_(send_resolved) {}
  const char* kind() const override { return "webhook"; }
  bool send_resolved() const override { return send_resolved_; }
  absl::Status Notify(const Notification& n, absl::Time deadline,
                      const std::atomic<bool>* cancel, int* attempts) override {
    if (attempts != nullptr) *attempts = 1;
    bool hang;
    {
      absl::MutexLock l(&sink_->mu);
      ++sink_->calls;
      sink_->last_deadline = deadline;
      hang = sink_->hang || sink_->hang_group == n.group_key;
    }
    if (hang) {
      // Simulates an endpoint that never answers: only the cancel flag or
      // the deadline ends the call.
      while (!cancel->load() && absl::Now() < deadline)
        absl::SleepFor(absl::Milliseconds(5));
      return absl::CancelledError("cancelled");
    }
    absl::MutexLock l(&sink_->mu);
    if (!sink_->fail.ok()) return sink_->fail;
    sink_->got.push_back(n);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<Sink> sink_;
  bool send_resolved_;
};

std::string TempDir() {
  char tmpl[] = "/tmp/router_test.XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d == nullptr ? "/tmp" : d;
}

Matcher M(absl::string_view name, absl::string_view value,
          MatchType type = MatchType::kEqual) {
  return Matcher::Create(type, name, value).value();
}

config::Route MakeRoute(std::string receiver,
                        std::vector<Matcher> matchers = {},
                        std::vector<config::Route> children = {},
                        bool cont = false) {
  config::Route r;
  r.receiver = std::move(receiver);
  r.matchers = std::move(matchers);
  r.group_by = {"alertname"};
  r.routes = std::move(children);
  r.continue_matching = cont;
  return r;
}

config::ReceiverConfig Receiver(std::string name,
                                std::vector<bool> send_resolved = {true}) {
  config::ReceiverConfig rc;
  rc.name = std::move(name);
  for (bool sr : send_resolved) {
    config::WebhookReceiverConfig w;
    w.url = "http://127.0.0.1:1/";
    w.send_resolved = sr;
    rc.webhook_configs.push_back(w);
  }
  return rc;
}

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr absl::Duration kInterval = absl::Minutes(5);
constexpr absl::Duration kRepeat = absl::Hours(1);

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    now_ = absl::FromUnixSeconds(1700000000);
    cfg_.enabled = true;
    cfg_.route = MakeRoute("default");
    cfg_.receivers = {Receiver("default")};
  }
  void TearDown() override {
    if (router_ != nullptr) router_->Stop();
    router_.reset();
    (void)RemoveAll(dir_);
  }

  // The sink of integration `index` of `receiver` (shared by every Router
  // of the test).
  std::shared_ptr<Sink> SinkFor(const std::string& receiver, int index = 0) {
    absl::MutexLock l(&sinks_mu_);
    auto& s = sinks_[absl::StrCat(receiver, "/", index)];
    if (s == nullptr) s = std::make_shared<Sink>();
    return s;
  }

  IntegrationFactory Factory() {
    return [this](const config::ReceiverConfig& rc)
               -> absl::StatusOr<std::vector<std::unique_ptr<Integration>>> {
      std::vector<std::unique_ptr<Integration>> out;
      for (size_t i = 0; i < rc.webhook_configs.size(); ++i) {
        out.push_back(std::make_unique<RecordingIntegration>(
            SinkFor(rc.name, static_cast<int>(i)),
            rc.webhook_configs[i].send_resolved));
      }
      return out;
    };
  }

  RouterOptions Options() {
    RouterOptions o;
    o.data_dir = dir_;
    o.external_url = "http://vigil.example:9090";
    o.factory = Factory();
    o.clock = [this] {
      absl::MutexLock l(&clock_mu_);
      return now_;
    };
    o.manual_tick = true;
    return o;
  }

  void Start() {
    if (router_ != nullptr) router_->Stop();
    router_.reset();
    auto r = Router::Create(cfg_, Options());
    ASSERT_TRUE(r.ok()) << r.status();
    router_ = std::move(*r);
  }

  absl::Time Now() {
    absl::MutexLock l(&clock_mu_);
    return now_;
  }
  // Moves the clock, runs the router's timers and waits for deliveries.
  void Advance(absl::Duration d) {
    {
      absl::MutexLock l(&clock_mu_);
      now_ += d;
    }
    router_->Tick();
    ASSERT_TRUE(router_->WaitIdle(absl::Seconds(10)));
  }

  // A firing alert as the rule evaluator sends it: valid for 4 minutes.
  Alert Firing(
      std::initializer_list<std::pair<absl::string_view, absl::string_view>>
          labels) {
    Alert a;
    a.labels = Labels::FromPairs(labels);
    a.starts_at = Now();
    a.ends_at = Now() + absl::Minutes(4);
    return a;
  }
  // Keeps `a` firing (as the evaluator's resend would): ends_at far ahead.
  Alert LongFiring(
      std::initializer_list<std::pair<absl::string_view, absl::string_view>>
          labels) {
    Alert a = Firing(labels);
    a.ends_at = Now() + absl::Hours(48);
    return a;
  }
  // Sends a long-firing alert X and runs the clock to its first
  // notification, which `sink` must receive.
  Alert FireAndNotify(Sink& sink) {
    Alert a = LongFiring({{"alertname", "X"}});
    router_->Receive({a});
    Advance(kWait);
    EXPECT_EQ(sink.Count(), 1u);
    return a;
  }
  Alert Resolved(Alert a) {
    a.ends_at = Now();
    return a;
  }

  std::vector<std::string> GroupKeys() {
    std::vector<std::string> out;
    for (const GroupInfo& g : router_->Groups())
      out.push_back(g.receiver + " " + g.key);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
  config::NotificationsConfig cfg_;
  std::unique_ptr<Router> router_;
  absl::Mutex clock_mu_;
  absl::Time now_ ABSL_GUARDED_BY(clock_mu_);
  absl::Mutex sinks_mu_;
  std::map<std::string, std::shared_ptr<Sink>> sinks_
      ABSL_GUARDED_BY(sinks_mu_);
};

// --- Routing and group keys -------------------------------------------------

TEST_F(RouterTest, GroupKeysOfRootAndChild) {
  cfg_.route =
      MakeRoute("chat", {}, {MakeRoute("pager", {M("severity", "page")})});
  cfg_.receivers = {Receiver("chat"), Receiver("pager")};
  Start();
  router_->Receive({Firing({{"alertname", "X"}, {"severity", "page"}}),
                    Firing({{"alertname", "Y"}, {"severity", "warning"}})});
  EXPECT_EQ(GroupKeys(),
            (std::vector<std::string>{
                "chat {}:{alertname=\"Y\"}",
                "pager {}/{severity=\"page\"}:{alertname=\"X\"}"}));
}

TEST_F(RouterTest, RouteKeySortsMatchersAndNests) {
  config::Route inner = MakeRoute("b", {M("team", "db")});
  config::Route outer = MakeRoute(
      "a", {M("zone", "eu"), M("env", "prod|stage", MatchType::kRegexMatch)},
      {inner});
  cfg_.route = MakeRoute("default", {}, {outer});
  cfg_.receivers = {Receiver("default"), Receiver("a"), Receiver("b")};
  Start();
  router_->Receive({Firing(
      {{"alertname", "X"}, {"zone", "eu"}, {"env", "prod"}, {"team", "db"}})});
  EXPECT_EQ(GroupKeys(),
            (std::vector<std::string>{"b "
                                      "{}/{env=~\"prod|stage\",zone=\"eu\"}/"
                                      "{team=\"db\"}:{alertname=\"X\"}"}));
}

TEST_F(RouterTest, FirstMatchingChildWinsWithoutContinue) {
  cfg_.route =
      MakeRoute("default", {},
                {MakeRoute("a", {M("team", "a")}),
                 MakeRoute("b", {M("team", "a|b", MatchType::kRegexMatch)})});
  cfg_.receivers = {Receiver("default"), Receiver("a"), Receiver("b")};
  Start();
  router_->Receive({Firing({{"alertname", "X"}, {"team", "a"}})});
  EXPECT_EQ(GroupKeys(),
            (std::vector<std::string>{"a {}/{team=\"a\"}:{alertname=\"X\"}"}));
}

TEST_F(RouterTest, ContinueAndNestedRoutes) {
  config::Route a = MakeRoute("a", {M("team", "a")},
                              {MakeRoute("a-page", {M("severity", "page")})},
                              /*cont=*/true);
  config::Route b = MakeRoute("b", {M("team", "a|b", MatchType::kRegexMatch)});
  cfg_.route = MakeRoute("default", {}, {a, b});
  cfg_.receivers = {Receiver("default"), Receiver("a"), Receiver("a-page"),
                    Receiver("b")};
  Start();
  router_->Receive(
      {Firing({{"alertname", "P"}, {"team", "a"}, {"severity", "page"}}),
       Firing({{"alertname", "L"}, {"team", "a"}, {"severity", "low"}}),
       Firing({{"alertname", "B"}, {"team", "b"}}),
       Firing({{"alertname", "C"}, {"team", "c"}})});
  EXPECT_EQ(GroupKeys(),
            (std::vector<std::string>{
                "a {}/{team=\"a\"}:{alertname=\"L\"}",
                "a-page {}/{team=\"a\"}/{severity=\"page\"}:{alertname=\"P\"}",
                "b {}/{team=~\"a|b\"}:{alertname=\"B\"}",
                "b {}/{team=~\"a|b\"}:{alertname=\"L\"}",
                "b {}/{team=~\"a|b\"}:{alertname=\"P\"}",
                "default {}:{alertname=\"C\"}",
            }));
}

TEST_F(RouterTest, GroupByAllUsesEveryLabel) {
  cfg_.route.group_by.clear();
  cfg_.route.group_by_all = true;
  Start();
  router_->Receive({Firing({{"alertname", "X"}, {"instance", "i1"}}),
                    Firing({{"alertname", "X"}, {"instance", "i2"}})});
  EXPECT_EQ(GroupKeys(), (std::vector<std::string>{
                             "default {}:{alertname=\"X\", instance=\"i1\"}",
                             "default {}:{alertname=\"X\", instance=\"i2\"}"}));
}

TEST_F(RouterTest, MissingGroupByLabelsAreLeftOut) {
  cfg_.route.group_by = {"alertname", "cluster"};
  Start();
  router_->Receive({Firing({{"alertname", "X"}, {"instance", "i1"}})});
  EXPECT_EQ(GroupKeys(),
            (std::vector<std::string>{"default {}:{alertname=\"X\"}"}));
}

TEST_F(RouterTest, UnknownReceiverIsAnError) {
  cfg_.route = MakeRoute("nope");
  auto r = Router::Create(cfg_, Options());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

// --- Grouping and timing ----------------------------------------------------

TEST_F(RouterTest, SeveralAlertsGoOutInOneNotification) {
  Start();
  auto sink = SinkFor("default");
  router_->Receive({Firing({{"alertname", "X"}, {"instance", "i2"}})});
  Advance(absl::Seconds(10));
  router_->Receive({Firing({{"alertname", "X"}, {"instance", "i1"}}),
                    Firing({{"alertname", "X"}, {"instance", "i3"}})});
  Advance(absl::Seconds(20));
  ASSERT_EQ(sink->Count(), 1u);
  Notification n = sink->Last();
  EXPECT_EQ(n.receiver, "default");
  EXPECT_EQ(n.group_key, "{}:{alertname=\"X\"}");
  EXPECT_EQ(n.group_labels, Labels::FromPairs({{"alertname", "X"}}));
  EXPECT_EQ(n.external_url, "http://vigil.example:9090");
  ASSERT_EQ(n.alerts.size(), 3u);
  EXPECT_EQ(n.alerts[0].labels.Get("instance"), "i1");
  EXPECT_EQ(n.alerts[1].labels.Get("instance"), "i2");
  EXPECT_EQ(n.alerts[2].labels.Get("instance"), "i3");
  EXPECT_TRUE(n.Firing());
}

TEST_F(RouterTest, GroupWaitsGroupWait) {
  Start();
  auto sink = SinkFor("default");
  router_->Receive({Firing({{"alertname", "X"}})});
  Advance(kWait - absl::Seconds(1));
  EXPECT_EQ(sink->Count(), 0u);
  Advance(absl::Seconds(1));
  EXPECT_EQ(sink->Count(), 1u);
}

TEST_F(RouterTest, OldAlertFlushesAtOnce) {
  Start();
  auto sink = SinkFor("default");
  Alert a = Firing({{"alertname", "X"}});
  a.starts_at = Now() - absl::Minutes(10);
  router_->Receive({a});
  Advance(absl::ZeroDuration());
  EXPECT_EQ(sink->Count(), 1u);
}

TEST_F(RouterTest, NewAlertWaitsForGroupInterval) {
  Start();
  auto sink = SinkFor("default");
  router_->Receive({LongFiring({{"alertname", "X"}, {"instance", "a"}})});
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 1u);
  Advance(absl::Minutes(1));
  router_->Receive({LongFiring({{"alertname", "X"}, {"instance", "b"}})});
  Advance(kInterval - absl::Minutes(1) - absl::Seconds(1));
  EXPECT_EQ(sink->Count(), 1u);
  Advance(absl::Seconds(1));
  ASSERT_EQ(sink->Count(), 2u);
  EXPECT_EQ(sink->Last().alerts.size(), 2u);
}

TEST_F(RouterTest, UnchangedGroupIsRepeatedAfterRepeatInterval) {
  cfg_.route.repeat_interval = kRepeat;
  Start();
  auto sink = SinkFor("default");
  router_->Receive({LongFiring({{"alertname", "X"}})});
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 1u);
  // Flushes every group_interval find nothing new until the repeat interval
  // has passed (strictly, as Alertmanager: the first flush after it).
  for (int i = 0; i < 12; ++i) Advance(kInterval);
  EXPECT_EQ(sink->Count(), 1u);
  Advance(kInterval);
  EXPECT_EQ(sink->Count(), 2u);
  for (int i = 0; i < 12; ++i) Advance(kInterval);
  EXPECT_EQ(sink->Count(), 2u);
}

// --- Resolution -------------------------------------------------------------

TEST_F(RouterTest, ResolvedNotificationThenGroupDeleted) {
  Start();
  auto sink = SinkFor("default");
  Alert a = FireAndNotify(*sink);
  Advance(absl::Minutes(1));
  router_->Receive({Resolved(a)});
  Advance(kInterval - absl::Minutes(1));
  ASSERT_EQ(sink->Count(), 2u);
  Notification n = sink->Last();
  EXPECT_FALSE(n.Firing());
  ASSERT_EQ(n.alerts.size(), 1u);
  EXPECT_EQ(n.alerts[0].starts_at, a.starts_at);
  EXPECT_TRUE(router_->Groups().empty());
  EXPECT_TRUE(router_->Alerts().empty());
  Advance(kInterval);
  EXPECT_EQ(sink->Count(), 2u);
}

TEST_F(RouterTest, AlertNotResentResolvesWhenEndsAtPasses) {
  Start();
  auto sink = SinkFor("default");
  router_->Receive({Firing({{"alertname", "X"}})});  // ends_at = now + 4m
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 1u);
  Advance(kInterval);
  ASSERT_EQ(sink->Count(), 2u);
  EXPECT_FALSE(sink->Last().Firing());
}

TEST_F(RouterTest, ResolvedAlertStaysInGroupWithFiringOnes) {
  Start();
  auto sink = SinkFor("default");
  Alert a = LongFiring({{"alertname", "X"}, {"instance", "a"}});
  Alert b = LongFiring({{"alertname", "X"}, {"instance", "b"}});
  router_->Receive({a, b});
  Advance(kWait);
  router_->Receive({Resolved(a)});
  Advance(kInterval);
  ASSERT_EQ(sink->Count(), 2u);
  Notification n = sink->Last();
  EXPECT_TRUE(n.Firing());
  ASSERT_EQ(n.alerts.size(), 2u);
  EXPECT_TRUE(n.alerts[0].ResolvedAt(n.now));
  EXPECT_FALSE(n.alerts[1].ResolvedAt(n.now));
  // The resolved one was notified and left the group.
  ASSERT_EQ(router_->Groups().size(), 1u);
  EXPECT_EQ(router_->Groups()[0].alerts.size(), 1u);
}

TEST_F(RouterTest, NoResolvedNotificationWithoutSendResolved) {
  cfg_.receivers = {Receiver("default", {false, true})};
  Start();
  auto quiet = SinkFor("default", 0);
  auto loud = SinkFor("default", 1);
  Alert a = LongFiring({{"alertname", "X"}});
  router_->Receive({a});
  Advance(kWait);
  router_->Receive({Resolved(a)});
  Advance(kInterval);
  EXPECT_EQ(quiet->Count(), 1u);
  EXPECT_EQ(loud->Count(), 2u);
  EXPECT_TRUE(router_->Groups().empty());
}

TEST_F(RouterTest, FiringAgainAfterResolutionIsNotified) {
  Start();
  auto sink = SinkFor("default");
  Alert a = LongFiring({{"alertname", "X"}});
  router_->Receive({a});
  Advance(kWait);
  router_->Receive({Resolved(a)});
  Advance(kInterval);
  ASSERT_EQ(sink->Count(), 2u);
  router_->Receive({LongFiring({{"alertname", "X"}})});
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 3u);
  EXPECT_TRUE(sink->Last().Firing());
}

// --- Inhibition -------------------------------------------------------------

TEST_F(RouterTest, InhibitionWithEqualLabels) {
  config::InhibitRule rule;
  rule.source_matchers = {M("severity", "page")};
  rule.target_matchers = {M("severity", "warning")};
  rule.equal = {"instance"};
  cfg_.inhibit_rules = {rule};
  Start();
  auto sink = SinkFor("default");
  Alert src = LongFiring(
      {{"alertname", "Down"}, {"severity", "page"}, {"instance", "i1"}});
  router_->Receive({src,
                    LongFiring({{"alertname", "Slow"},
                                {"severity", "warning"},
                                {"instance", "i1"}}),
                    LongFiring({{"alertname", "Slow"},
                                {"severity", "warning"},
                                {"instance", "i2"}})});
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 2u);  // Down and Slow (i2 only).
  std::vector<Notification> got;
  {
    absl::MutexLock l(&sink->mu);
    got = sink->got;
  }
  for (const Notification& n : got) {
    for (const Alert& a : n.alerts) {
      EXPECT_FALSE(a.labels.Get("alertname") == "Slow" &&
                   a.labels.Get("instance") == "i1");
    }
  }
  EXPECT_GT(router_->Stats().alerts_inhibited, 0u);
  EXPECT_TRUE(router_->Inhibited(Labels::FromPairs(
      {{"alertname", "Slow"}, {"severity", "warning"}, {"instance", "i1"}})));
  // The source resolves: the target is notified at the next flush.
  router_->Receive({Resolved(src)});
  Advance(kInterval);
  EXPECT_FALSE(router_->Inhibited(Labels::FromPairs(
      {{"alertname", "Slow"}, {"severity", "warning"}, {"instance", "i1"}})));
  bool saw_i1 = false;
  {
    absl::MutexLock l(&sink->mu);
    for (const Alert& a : sink->got.back().alerts)
      saw_i1 |= a.labels.Get("instance") == "i1";
  }
  EXPECT_TRUE(saw_i1);
}

TEST_F(RouterTest, AlertMatchingBothSidesDoesNotInhibitItself) {
  config::InhibitRule rule;
  rule.source_matchers = {M("alertname", "X")};
  rule.target_matchers = {M("alertname", "X")};
  cfg_.inhibit_rules = {rule};
  Start();
  auto sink = SinkFor("default");
  router_->Receive({LongFiring({{"alertname", "X"}, {"instance", "a"}}),
                    LongFiring({{"alertname", "X"}, {"instance", "b"}})});
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 1u);
  EXPECT_EQ(sink->Last().alerts.size(), 2u);
}

// --- Silences ---------------------------------------------------------------

Silence MakeSilence(absl::Time now, std::vector<Matcher> ms) {
  Silence s;
  s.matchers = std::move(ms);
  s.starts_at = now;
  s.ends_at = now + absl::Hours(1);
  s.created_by = "tester";
  s.comment = "maintenance";
  return s;
}

TEST_F(RouterTest, SilenceValidation) {
  Start();
  Silences& sil = router_->silences();
  EXPECT_EQ(sil.Create(MakeSilence(Now(), {})).status().code(),
            absl::StatusCode::kInvalidArgument);
  Silence s = MakeSilence(Now(), {M("alertname", "X")});
  s.ends_at = s.starts_at - absl::Minutes(1);
  EXPECT_EQ(sil.Create(s).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      sil.Create(MakeSilence(Now(), {M("alertname", "", MatchType::kEqual)}))
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sil.Expire("no-such-id").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(sil.List().empty());
}

TEST_F(RouterTest, SilenceCreateListExpire) {
  Start();
  Silences& sil = router_->silences();
  auto s = sil.Create(MakeSilence(Now(), {M("alertname", "X")}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->id.size(), 36u);
  auto pending =
      sil.Create(MakeSilence(Now() + absl::Hours(1), {M("alertname", "Y")}));
  ASSERT_TRUE(pending.ok());
  EXPECT_NE(s->id, pending->id);
  std::vector<Silence> all = sil.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(sil.Get(s->id)->StateAt(Now()), SilenceState::kActive);
  EXPECT_EQ(sil.Get(pending->id)->StateAt(Now()), SilenceState::kPending);
  ASSERT_TRUE(sil.Expire(s->id).ok());
  EXPECT_EQ(sil.Get(s->id)->StateAt(Now()), SilenceState::kExpired);
  EXPECT_EQ(sil.Expire(s->id).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RouterTest, SilencedAlertIsNotNotifiedUntilExpired) {
  Start();
  auto sink = SinkFor("default");
  auto s = router_->silences().Create(MakeSilence(Now(), {M("instance", "a")}));
  ASSERT_TRUE(s.ok());
  router_->Receive({LongFiring({{"alertname", "X"}, {"instance", "a"}}),
                    LongFiring({{"alertname", "Y"}, {"instance", "b"}})});
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 1u);
  EXPECT_EQ(sink->Last().alerts[0].labels.Get("alertname"), "Y");
  EXPECT_GT(router_->Stats().alerts_silenced, 0u);
  ASSERT_TRUE(router_->silences().Expire(s->id).ok());
  Advance(kInterval);
  ASSERT_EQ(sink->Count(), 2u);
  EXPECT_EQ(sink->Last().alerts[0].labels.Get("alertname"), "X");
}

TEST_F(RouterTest, SilencesPersistAcrossRestart) {
  Start();
  auto s =
      router_->silences().Create(MakeSilence(Now(), {M("alertname", "X")}));
  ASSERT_TRUE(s.ok());
  Start();  // A new Router on the same directory.
  auto sink = SinkFor("default");
  std::vector<Silence> all = router_->silences().List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, s->id);
  EXPECT_EQ(all[0].created_by, "tester");
  EXPECT_EQ(all[0].comment, "maintenance");
  EXPECT_EQ(all[0].ends_at, s->ends_at);
  ASSERT_EQ(all[0].matchers.size(), 1u);
  EXPECT_EQ(all[0].matchers[0].ToString(), "alertname=\"X\"");
  router_->Receive({LongFiring({{"alertname", "X"}})});
  Advance(kWait);
  EXPECT_EQ(sink->Count(), 0u);
}

// --- Notification log and restarts ----------------------------------------

TEST_F(RouterTest, NeedsUpdateFollowsDedupStage) {
  NflogEntry e{{1, 2}, {3}, absl::FromUnixSeconds(1000)};
  const absl::Time t = absl::FromUnixSeconds(1100);
  const absl::Duration rep = absl::Hours(1);
  EXPECT_TRUE(NeedsUpdate(nullptr, {1}, {}, true, rep, t));
  EXPECT_FALSE(NeedsUpdate(nullptr, {}, {1}, true, rep, t));
  EXPECT_FALSE(NeedsUpdate(&e, {1, 2}, {3}, true, rep, t));
  EXPECT_FALSE(NeedsUpdate(&e, {1}, {3}, false, rep, t));
  EXPECT_TRUE(NeedsUpdate(&e, {1, 2, 4}, {3}, true, rep, t));
  EXPECT_TRUE(NeedsUpdate(&e, {1}, {2, 3}, true, rep, t));
  EXPECT_FALSE(NeedsUpdate(&e, {1}, {2, 3}, false, rep, t));
  EXPECT_TRUE(NeedsUpdate(&e, {}, {1, 2}, false, rep, t));
  EXPECT_TRUE(NeedsUpdate(&e, {1, 2}, {3}, true, rep, t + rep));
}

TEST_F(RouterTest, NflogSurvivesReopen) {
  {
    auto log = NotificationLog::Open(dir_);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)
                    ->Log("r", 1, "{}:{a=\"b\"}",
                          {{5, 7}, {9}, absl::FromUnixSeconds(77)})
                    .ok());
    ASSERT_TRUE(
        (*log)
            ->Log("r", 1, "{}:{a=\"b\"}", {{5}, {7}, absl::FromUnixSeconds(88)})
            .ok());
  }
  auto log = NotificationLog::Open(dir_);
  ASSERT_TRUE(log.ok());
  auto e = (*log)->Get("r", 1, "{}:{a=\"b\"}");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->firing, std::vector<uint64_t>{5});
  EXPECT_EQ(e->resolved, std::vector<uint64_t>{7});
  EXPECT_EQ(e->time, absl::FromUnixSeconds(88));
  EXPECT_FALSE((*log)->Get("r", 0, "{}:{a=\"b\"}").has_value());
}

TEST_F(RouterTest, NflogConcurrentLogsAreAllDurable) {
  {
    auto log = NotificationLog::Open(dir_);
    ASSERT_TRUE(log.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 50; ++i) {
          EXPECT_TRUE((*log)
                          ->Log("r", t, absl::StrCat("k", i),
                                {{uint64_t(i)}, {}, absl::FromUnixSeconds(i)})
                          .ok());
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  auto log = NotificationLog::Open(dir_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->size(), 400u);
  auto e = (*log)->Get("r", 7, "k49");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->firing, std::vector<uint64_t>{49});
}

TEST_F(RouterTest, NflogDropsTornTail) {
  {
    auto log = NotificationLog::Open(dir_);
    ASSERT_TRUE(
        (*log)->Log("r", 0, "k1", {{1}, {}, absl::FromUnixSeconds(1)}).ok());
    ASSERT_TRUE(
        (*log)->Log("r", 0, "k2", {{2}, {}, absl::FromUnixSeconds(2)}).ok());
  }
  std::string path = dir_ + "/nflog";
  std::string data = *ReadFile(path);
  ASSERT_TRUE(WriteFileAtomic(path, data.substr(0, data.size() - 3)).ok());
  auto log = NotificationLog::Open(dir_);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->size(), 1u);
}

TEST_F(RouterTest, RestartDoesNotResendWithinRepeatInterval) {
  cfg_.route.repeat_interval = kRepeat;
  Start();
  auto sink = SinkFor("default");
  FireAndNotify(*sink);
  Start();  // Restart: alerts come back from the store into new groups.
  Advance(absl::Minutes(1));
  EXPECT_EQ(router_->Groups().size(), 1u);
  for (int i = 0; i < 11; ++i) Advance(kInterval);
  EXPECT_EQ(sink->Count(), 1u);
  Advance(kInterval);
  EXPECT_EQ(sink->Count(), 2u);
}

TEST_F(RouterTest, RestartDeliversNotificationThatFailed) {
  Start();
  auto sink = SinkFor("default");
  sink->SetFail(absl::UnavailableError("connection refused"));
  router_->Receive({LongFiring({{"alertname", "X"}})});
  Advance(kWait);
  EXPECT_EQ(sink->Calls(), 1);
  std::vector<DeliveryRecord> recs = router_->RecentDeliveries();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_FALSE(recs[0].ok);
  EXPECT_EQ(recs[0].error, "connection refused");
  EXPECT_EQ(recs[0].integration, "webhook");
  EXPECT_EQ(recs[0].group_key, "{}:{alertname=\"X\"}");
  EXPECT_EQ(router_->Stats().notifications_failed["webhook"], 1u);
  sink->SetFail(absl::OkStatus());
  Start();  // The alert comes back from the store; its new group waits.
  Advance(kWait - absl::Seconds(1));
  EXPECT_EQ(sink->Count(), 0u);
  Advance(absl::Seconds(1));
  ASSERT_EQ(sink->Count(), 1u);
  EXPECT_TRUE(sink->Last().Firing());
  EXPECT_EQ(router_->Stats().notifications_sent["webhook"], 1u);
}

TEST_F(RouterTest, FailedDeliveryIsRetriedAtNextFlush) {
  Start();
  auto sink = SinkFor("default");
  sink->SetFail(absl::UnavailableError("down"));
  router_->Receive({LongFiring({{"alertname", "X"}})});
  Advance(kWait);
  EXPECT_EQ(sink->Count(), 0u);
  sink->SetFail(absl::OkStatus());
  Advance(kInterval);
  EXPECT_EQ(sink->Count(), 1u);
  Advance(kInterval);
  EXPECT_EQ(sink->Count(), 1u);
}

TEST_F(RouterTest, RestartDeliversPendingResolvedNotification) {
  Start();
  auto sink = SinkFor("default");
  Alert a = FireAndNotify(*sink);
  router_->Receive({Resolved(a)});
  router_->Tick();  // Persists the store; the group is not due yet.
  ASSERT_EQ(sink->Count(), 1u);
  Start();
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 2u);
  EXPECT_FALSE(sink->Last().Firing());
  EXPECT_TRUE(router_->Alerts().empty());
}

TEST_F(RouterTest, ApplyConfigKeepsStateAndDoesNotResend) {
  Start();
  auto sink = SinkFor("default");
  router_->Receive({LongFiring({{"alertname", "X"}, {"severity", "page"}})});
  Advance(kWait);
  ASSERT_EQ(sink->Count(), 1u);
  config::NotificationsConfig next = cfg_;
  next.route.routes = {MakeRoute("pager", {M("severity", "page")})};
  next.receivers.push_back(Receiver("pager"));
  ASSERT_TRUE(router_->ApplyConfig(next).ok());
  auto pager = SinkFor("pager");
  Advance(kWait);
  EXPECT_EQ(pager->Count(), 1u);  // A new group key: a new notification.
  EXPECT_EQ(sink->Count(), 1u);
  ASSERT_TRUE(router_->ApplyConfig(next).ok());
  Advance(kWait);
  EXPECT_EQ(pager->Count(), 1u);  // Same key, already delivered.
  EXPECT_EQ(router_->Alerts().size(), 1u);
}

// --- Delivery isolation -----------------------------------------------------

TEST_F(RouterTest, HangingIntegrationDoesNotBlockOthers) {
  cfg_.route = MakeRoute(
      "default", {},
      {MakeRoute("hang", {}, {}, /*cont=*/true), MakeRoute("ok", {})});
  cfg_.receivers = {Receiver("default"), Receiver("hang"), Receiver("ok")};
  auto hang = SinkFor("hang");
  {
    absl::MutexLock l(&hang->mu);
    hang->hang = true;
  }
  Start();
  auto ok = SinkFor("ok");
  router_->Receive({LongFiring({{"alertname", "X"}})});
  {
    absl::MutexLock l(&clock_mu_);
    now_ += kWait;
  }
  router_->Tick();
  ASSERT_TRUE(ok->WaitCount(1));
  // Receive and Tick still work while the other delivery hangs.
  router_->Receive({LongFiring({{"alertname", "Y"}})});
  {
    absl::MutexLock l(&clock_mu_);
    now_ += kWait;
  }
  router_->Tick();
  ASSERT_TRUE(ok->WaitCount(2));
  EXPECT_EQ(hang->Count(), 0u);
  EXPECT_GE(hang->Calls(), 1);
  // The deadline handed to Notify is finite (group_interval ahead).
  {
    absl::MutexLock l(&hang->mu);
    EXPECT_LT(hang->last_deadline, absl::Now() + kInterval + absl::Seconds(1));
  }
  // Stop cancels the hanging delivery instead of waiting for it.
  const absl::Time start = absl::Now();
  router_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

TEST_F(RouterTest, HangingGroupDoesNotBlockOtherGroupsOfTheIntegration) {
  Start();
  auto sink = SinkFor("default");
  {
    absl::MutexLock l(&sink->mu);
    sink->hang_group = "{}:{alertname=\"X\"}";
  }
  router_->Receive(
      {LongFiring({{"alertname", "X"}}), LongFiring({{"alertname", "Y"}})});
  {
    absl::MutexLock l(&clock_mu_);
    now_ += kWait;
  }
  router_->Tick();
  ASSERT_TRUE(sink->WaitCount(1));
  EXPECT_EQ(sink->Last().group_key, "{}:{alertname=\"Y\"}");
  // A new alert in Y is delivered at the next flush although X still hangs.
  router_->Receive({LongFiring({{"alertname", "Y"}, {"instance", "b"}})});
  {
    absl::MutexLock l(&clock_mu_);
    now_ += kInterval;
  }
  router_->Tick();
  ASSERT_TRUE(sink->WaitCount(2));
  EXPECT_EQ(sink->Last().alerts.size(), 2u);
  // X once: its next flush waits for the running delivery.
  EXPECT_EQ(sink->Calls(), 3);
}

TEST_F(RouterTest, RealTimerThreadDelivers) {
  cfg_.route.group_wait = absl::Milliseconds(50);
  RouterOptions o = Options();
  o.manual_tick = false;
  o.clock = nullptr;
  auto r = Router::Create(cfg_, std::move(o));
  ASSERT_TRUE(r.ok());
  router_ = std::move(*r);
  auto sink = SinkFor("default");
  Alert a;
  a.labels = Labels::FromPairs({{"alertname", "X"}});
  a.starts_at = absl::Now();
  a.ends_at = absl::Now() + absl::Minutes(4);
  router_->Receive({a});
  EXPECT_TRUE(sink->WaitCount(1));
}

TEST_F(RouterTest, RecentDeliveriesAreBounded) {
  RouterOptions o = Options();
  o.max_recent_deliveries = 2;
  auto r = Router::Create(cfg_, std::move(o));
  ASSERT_TRUE(r.ok());
  router_ = std::move(*r);
  router_->Receive({LongFiring({{"alertname", "A"}}),
                    LongFiring({{"alertname", "B"}}),
                    LongFiring({{"alertname", "C"}})});
  Advance(kWait);
  std::vector<DeliveryRecord> recs = router_->RecentDeliveries();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_TRUE(recs[1].ok);
  EXPECT_EQ(recs[1].alerts, 1);
  EXPECT_TRUE(recs[1].firing);
  EXPECT_EQ(recs[1].receiver, "default");
  EXPECT_EQ(router_->Stats().alerts_received, 3u);
  EXPECT_EQ(router_->Stats().notifications_sent["webhook"], 3u);
}

}  // namespace
}  // namespace vigil::alerting
