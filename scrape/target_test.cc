#include "scrape/target.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigil::scrape {
namespace {

using config::RelabelAction;
using config::RelabelConfig;
using config::ScrapeConfig;
using model::Labels;

ScrapeConfig Job(std::string name = "node") {
  ScrapeConfig cfg;
  cfg.job_name = std::move(name);
  return cfg;
}

RelabelConfig Set(std::string target, std::string value) {
  RelabelConfig c;
  c.target_label = std::move(target);
  c.replacement = std::move(value);
  return c;
}

Labels Addr(absl::string_view address) {
  return Labels::FromPairs({{"__address__", address}});
}

// PopulateTarget with `cfg.relabel_configs` compiled.
absl::StatusOr<TargetSpec> Populate(const ScrapeConfig& cfg,
                                    const Labels& target,
                                    const Labels& group = Labels()) {
  absl::StatusOr<Relabeler> r = Relabeler::Compile(cfg.relabel_configs);
  if (!r.ok()) return r.status();
  return PopulateTarget(cfg, *r, group, target);
}

std::string ErrorOf(const ScrapeConfig& cfg, const Labels& target) {
  absl::StatusOr<TargetSpec> s = Populate(cfg, target);
  if (s.ok()) return "ok";
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.status().message());
}

TEST(PopulateTargetTest, AppliesJobDefaults) {
  absl::StatusOr<TargetSpec> s = Populate(Job(), Addr("h:9100"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->kept);
  EXPECT_EQ(s->discovered.ToString(),
            "{__address__=\"h:9100\", __metrics_path__=\"/metrics\", "
            "__scheme__=\"http\", __scrape_interval__=\"1m\", "
            "__scrape_timeout__=\"10s\", job=\"node\"}");
  EXPECT_EQ(s->full.ToString(),
            "{__address__=\"h:9100\", __metrics_path__=\"/metrics\", "
            "__scheme__=\"http\", __scrape_interval__=\"1m\", "
            "__scrape_timeout__=\"10s\", instance=\"h:9100\", job=\"node\"}");
  EXPECT_EQ(s->labels.ToString(), "{instance=\"h:9100\", job=\"node\"}");
  EXPECT_EQ(s->url, "http://h:9100/metrics");
  EXPECT_EQ(s->interval, absl::Minutes(1));
  EXPECT_EQ(s->timeout, absl::Seconds(10));
}

TEST(PopulateTargetTest, JobSettingsBecomeLabels) {
  ScrapeConfig cfg = Job("api");
  cfg.scheme = "https";
  cfg.metrics_path = "/m";
  cfg.scrape_interval = absl::Seconds(90);
  cfg.scrape_timeout = absl::Milliseconds(1500);
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->discovered.Get("__scrape_interval__"), "1m30s");
  EXPECT_EQ(s->discovered.Get("__scrape_timeout__"), "1s500ms");
  EXPECT_EQ(s->url, "https://h:1/m");
  EXPECT_EQ(s->interval, absl::Seconds(90));
  EXPECT_EQ(s->timeout, absl::Milliseconds(1500));
}

TEST(PopulateTargetTest, TargetLabelsWinOverGroupLabelsAndDefaults) {
  Labels group = Labels::FromPairs(
      {{"env", "g"}, {"x", "group"}, {"job", "custom"}, {"__metrics_path__", "/p"}});
  Labels target = Labels::FromPairs({{"__address__", "h:1"}, {"x", "target"}});
  absl::StatusOr<TargetSpec> s = Populate(Job(), target, group);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->labels.ToString(),
            "{env=\"g\", instance=\"h:1\", job=\"custom\", x=\"target\"}");
  EXPECT_EQ(s->url, "http://h:1/p");
}

TEST(PopulateTargetTest, ParamsBecomeLabelsAndLabelsOverrideFirstValue) {
  ScrapeConfig cfg = Job();
  cfg.params = {{"module", {"a b&c", "second"}}, {"z", {"1"}}, {"none", {}}};
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->discovered.Get("__param_module"), "a b&c");
  EXPECT_EQ(s->discovered.Get("__param_z"), "1");
  EXPECT_FALSE(s->discovered.Has("__param_none"));
  EXPECT_EQ(s->url, "http://h:1/metrics?module=a+b%26c&module=second&z=1");

  cfg.relabel_configs = {Set("__param_module", "q"), Set("__param_extra", "é/")};
  s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->url,
            "http://h:1/metrics?extra=%C3%A9%2F&module=q&module=second&z=1");
}

TEST(PopulateTargetTest, ConfigParamsOverrideDiscoveredParamLabels) {
  ScrapeConfig cfg = Job();
  cfg.params = {{"a", {"cfg"}}};
  Labels group = Labels::FromPairs({{"__param_a", "group"}, {"__param_b", "g"}});
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:1"), group);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->url, "http://h:1/metrics?a=cfg&b=g");
}

TEST(PopulateTargetTest, PathIsEscapedAsGoDoes) {
  ScrapeConfig cfg = Job();
  cfg.metrics_path = "/a b!*'()%?#é$&+,:;=@";
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->url, "http://h:1/a%20b%21%2A%27%28%29%25%3F%23%C3%A9$&+,:;=@");
  cfg.metrics_path = "rel";
  s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->url, "http://h:1/rel");
}

TEST(PopulateTargetTest, AddsDefaultPortForScheme) {
  auto url_of = [](const ScrapeConfig& cfg, absl::string_view addr) {
    absl::StatusOr<TargetSpec> s = Populate(cfg, Addr(addr));
    if (!s.ok()) return std::string(s.status().message());
    return std::string(s->full.Get("instance")) + " " + s->url;
  };
  ScrapeConfig cfg = Job();
  EXPECT_EQ(url_of(cfg, "h"), "h:80 http://h:80/metrics");
  EXPECT_EQ(url_of(cfg, "[::1]"), "[::1]:80 http://[::1]:80/metrics");
  EXPECT_EQ(url_of(cfg, "::1"), "::1 http://::1/metrics");  // Not fixable.
  EXPECT_EQ(url_of(cfg, "h:"), "h: http://h:/metrics");     // Empty port.
  cfg.scheme = "https";
  EXPECT_EQ(url_of(cfg, "h"), "h:443 https://h:443/metrics");
}

TEST(PopulateTargetTest, UnknownSchemeWithoutPortIsAnError) {
  ScrapeConfig cfg = Job();
  cfg.relabel_configs = {Set("__scheme__", "ftp")};
  // Prometheus names the job's scheme in this message.
  EXPECT_EQ(ErrorOf(cfg, Addr("h")), "invalid scheme: \"http\"");
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:21"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->url, "ftp://h:21/metrics");
}

TEST(PopulateTargetTest, InstanceDefaultsToAddressUnlessSet) {
  ScrapeConfig cfg = Job();
  cfg.relabel_configs = {Set("instance", "mine")};
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->labels.Get("instance"), "mine");
}

TEST(PopulateTargetTest, DroppedTargetKeepsDiscoveredLabels) {
  ScrapeConfig cfg = Job();
  RelabelConfig drop;
  drop.action = RelabelAction::kDrop;
  drop.source_labels = {"__address__"};
  drop.regex = "h:.*";
  cfg.relabel_configs = {drop};
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->kept);
  EXPECT_EQ(s->discovered.Get("__address__"), "h:1");
  EXPECT_EQ(s->discovered.Get("job"), "node");
  s = Populate(cfg, Addr("other:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->kept);
}

TEST(PopulateTargetTest, MetaLabelsRemovedReservedKeptInFull) {
  Labels group = Labels::FromPairs({{"__meta_x", "1"}, {"__tmp_y", "2"}});
  absl::StatusOr<TargetSpec> s = Populate(Job(), Addr("h:1"), group);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->discovered.Get("__meta_x"), "1");
  EXPECT_FALSE(s->full.Has("__meta_x"));
  EXPECT_EQ(s->full.Get("__tmp_y"), "2");
  EXPECT_FALSE(s->labels.Has("__tmp_y"));
}

TEST(PopulateTargetTest, NoAddressIsAnError) {
  ScrapeConfig cfg = Job();
  cfg.relabel_configs = {Set("__address__", "")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")), "no address");
}

TEST(PopulateTargetTest, AddressWithSlashIsAnError) {
  ScrapeConfig cfg = Job();
  cfg.relabel_configs = {Set("__address__", "h/x")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")), "\"h/x:80\" is not a valid hostname");
}

TEST(PopulateTargetTest, IntervalAndTimeoutFromLabels) {
  ScrapeConfig cfg = Job();
  cfg.relabel_configs = {Set("__scrape_interval__", "30s"),
                         Set("__scrape_timeout__", "5s")};
  absl::StatusOr<TargetSpec> s = Populate(cfg, Addr("h:1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->interval, absl::Seconds(30));
  EXPECT_EQ(s->timeout, absl::Seconds(5));
}

TEST(PopulateTargetTest, BadDurationsGivePrometheusErrors) {
  ScrapeConfig cfg = Job();
  cfg.relabel_configs = {Set("__scrape_interval__", "abc")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")),
            "error parsing scrape interval: not a valid duration string: \"abc\"");
  cfg.relabel_configs = {Set("__scrape_interval__", "")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")),
            "error parsing scrape interval: empty duration string");
  cfg.relabel_configs = {Set("__scrape_interval__", "0s")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")), "scrape interval cannot be 0");
  cfg.relabel_configs = {Set("__scrape_timeout__", "1.5s")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")),
            "error parsing scrape timeout: not a valid duration string: \"1.5s\"");
  cfg.relabel_configs = {Set("__scrape_timeout__", "0")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")), "scrape timeout cannot be 0");
}

TEST(PopulateTargetTest, TimeoutAboveIntervalIsAnError) {
  ScrapeConfig cfg = Job();
  cfg.relabel_configs = {Set("__scrape_timeout__", "2m")};
  EXPECT_EQ(ErrorOf(cfg, Addr("h:1")),
            "scrape timeout cannot be greater than scrape interval "
            "(\"2m\" > \"1m\")");
}

TEST(PopulateTargetTest, InvalidUtf8ValueIsAnError) {
  Labels target = Labels::FromPairs({{"__address__", "h:1"}, {"bad", "a\xff"}});
  EXPECT_EQ(ErrorOf(Job(), target), "invalid label value for \"bad\": \"a\\xff\"");
}

TEST(TargetHashTest, StableAndSensitiveToLabelsAndJob) {
  absl::StatusOr<TargetSpec> a = Populate(Job("a"), Addr("h:1"));
  absl::StatusOr<TargetSpec> a2 = Populate(Job("a"), Addr("h:1"));
  absl::StatusOr<TargetSpec> b = Populate(Job("a"), Addr("h:2"));
  ScrapeConfig other = Job("b");
  other.relabel_configs = {Set("job", "a")};  // Same labels, other job.
  absl::StatusOr<TargetSpec> c = Populate(other, Addr("h:1"));
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->full, c->full);
  EXPECT_EQ(TargetHash(*a), TargetHash(*a2));
  EXPECT_NE(TargetHash(*a), TargetHash(*b));
  EXPECT_NE(TargetHash(*a), TargetHash(*c));
}

}  // namespace
}  // namespace vigil::scrape
