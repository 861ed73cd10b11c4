// Target relabeling and label population against Prometheus 2.42: the same
// jobs (static targets on 127.0.0.1, relabel_configs using every action)
// are given to Prometheus as a config file and to Vigil's PopulateTarget as
// structs; Prometheus's /api/v1/targets (labels, scrape URL, interval and
// timeout of every active target, discovered labels of the dropped ones and
// of every target of a twin job that drops all) and its "Creating target
// failed" log lines must be what Vigil computes. Scrapes fail (nothing listens), which does not
// matter here. Skipped when prometheus, curl or jq is missing.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "config/config.h"
#include "config/scrape_config.h"
#include "gtest/gtest.h"
#include "model/labels.h"
#include "scrape/relabel.h"
#include "scrape/target.h"
#include "tests/prometheus_api.h"

namespace vigil {
namespace {

using config::RelabelAction;
using config::RelabelConfig;
using config::ScrapeConfig;
using config::TargetGroup;
using model::Labels;

constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kTargetsTimeout = absl::Seconds(90);
constexpr absl::Duration kStopTimeout = absl::Seconds(30);

// Separators of the records both sides are turned into.
constexpr char kLabelSep = '\x1f';   // name US value
constexpr char kPairSep = '\x1e';    // label RS label
constexpr char kFieldSep = '\x1d';   // field GS field
constexpr char kRecordSep = '\x1c';  // record FS record

// One record per target: "active" GS pool GS labels GS url GS interval GS
// timeout GS discovered, or "dropped" GS discovered.
constexpr char kJqTargetsProgram[] = R"jq(
def lbl: to_entries | sort_by(.key) | map(.key + "\u001f" + .value) | join("\u001e");
if .status != "success" then error("targets failed") else . end
| (.data.activeTargets[]
   | ["active", .scrapePool, (.labels | lbl), .scrapeUrl, .scrapeInterval,
      .scrapeTimeout, (.discoveredLabels | lbl)]
   | join("\u001d") + "\u001c"),
  (.data.droppedTargets[]
   | ["dropped", (.discoveredLabels | lbl)] | join("\u001d") + "\u001c")
)jq";

std::string LabelsRecord(const Labels& ls) {
  std::vector<std::string> pairs;
  for (const model::Label& l : ls) {
    pairs.push_back(absl::StrCat(l.name.view(), std::string(1, kLabelSep), l.value.view()));
  }
  return absl::StrJoin(pairs, std::string(1, kPairSep));
}

// A record made readable for failure messages.
std::string Readable(absl::string_view record) {
  return absl::StrReplaceAll(record, {{std::string(1, kLabelSep), "="},
                                      {std::string(1, kPairSep), ", "},
                                      {std::string(1, kFieldSep), " | "}});
}

// --- Building the jobs -------------------------------------------------

RelabelConfig Rule(RelabelAction action, std::vector<std::string> sources = {},
                   std::string regex = "(.*)", std::string target = "",
                   std::string replacement = "$1") {
  RelabelConfig c;
  c.action = action;
  c.source_labels = std::move(sources);
  c.regex = std::move(regex);
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  return c;
}

RelabelConfig Replace(std::vector<std::string> sources, std::string regex, std::string target,
                      std::string replacement) {
  return Rule(RelabelAction::kReplace, std::move(sources), std::move(regex), std::move(target),
              std::move(replacement));
}

// Sets `target` to `value` on the target whose __address__ matches
// `address_regex`.
RelabelConfig SetOn(std::string address_regex, std::string target, std::string value) {
  return Replace({"__address__"}, std::move(address_regex), std::move(target), std::move(value));
}

RelabelConfig HashMod(std::vector<std::string> sources, uint64_t modulus, std::string target) {
  RelabelConfig c = Rule(RelabelAction::kHashMod, std::move(sources), "(.*)", std::move(target));
  c.modulus = modulus;
  return c;
}

TargetGroup Group(const std::vector<std::string>& addresses,
                  const std::vector<std::pair<absl::string_view, absl::string_view>>& labels = {}) {
  TargetGroup g;
  for (const std::string& a : addresses) g.targets.push_back(Labels::FromPairs({{"__address__", a}}));
  g.labels = Labels::FromPairs(labels);
  return g;
}

ScrapeConfig Job(std::string name, std::vector<TargetGroup> groups,
                 std::vector<RelabelConfig> rules = {}) {
  ScrapeConfig cfg;
  cfg.job_name = std::move(name);
  cfg.scrape_interval = absl::Hours(1);
  cfg.scrape_timeout = absl::Seconds(10);
  for (size_t i = 0; i < groups.size(); ++i) groups[i].source = absl::StrCat(i);
  cfg.static_configs = std::move(groups);
  cfg.relabel_configs = std::move(rules);
  return cfg;
}

std::vector<ScrapeConfig> Jobs() {
  std::vector<ScrapeConfig> jobs;

  // Defaults, params, default ports, group labels.
  ScrapeConfig defaults = Job(
      "defaults",
      {Group({"127.0.0.1:1", "127.0.0.1", "localhost", "[::1]", "::1", "127.0.0.1:"},
             {{"env", "prod"}, {"__param_q", "x y"}, {"__meta_zone", "z1"}, {"__tmp_keep", "t"}}),
       Group({"127.0.0.1:2"},
             {{"job", "overridden"}, {"instance", "preset"}, {"__metrics_path__", "/other"},
              {"__scheme__", "https"}, {"__param_module", "from-group"}})});
  defaults.metrics_path = "/a b!*'()%?#é$&+,:;=@";
  defaults.params = {{"module", {"a b&c", "second"}}, {"z", {"1"}}};
  jobs.push_back(defaults);

  ScrapeConfig https = Job("https", {Group({"127.0.0.1", "127.0.0.1:3"})});
  https.scheme = "https";
  https.metrics_path = "rel/path";
  https.scrape_interval = absl::Seconds(90);
  https.scrape_timeout = absl::Milliseconds(1500);
  jobs.push_back(https);

  ScrapeConfig replace = Job(
      "replace",
      {Group({"127.0.0.1:4", "127.0.0.1:5", "127.0.0.1:6"},
             {{"src", "foo"}, {"foo", "bar"}, {"num", "1abc"}, {"a", "host-7:80"},
              {"b", "old"}, {"gone", "x"}})},
      {
          Replace({"a"}, "(?P<host>[^:]+):(\\d+)", "host_port", "${host}/$2/${1}/$host"),
          Replace({"a"}, "(.*)", "b", "$1x"),                 // "$1x" is group "1x": empty.
          Replace({"src"}, "(.*)", "${1}", "$2"),             // Empty: deletes "${1}", not foo.
          Replace({"src"}, "(.*)", "l_${1}", "$$1 $-x ${1 $"),
          Replace({"num"}, "(.*)", "$1", "v"),                // "1abc": invalid, skipped.
          Replace({"missing"}, "(.*)", "gone", "$1"),         // Empty: deletes gone.
          Replace({"src", "num", "missing"}, "(.*)", "joined", "[$1]"),
          Replace({"a"}, "nomatch", "b", "never"),
          Replace({"__address__"}, "(.*):(\\d+)", "port", "$2"),
          Replace({"__address__"}, "nomatch)|(:6", "alt", "hit${1}"),
          SetOn("127\\.0\\.0\\.1:5", "__metrics_path__", "/probe"),
          SetOn("127\\.0\\.0\\.1:6", "__param_module", "override"),
          SetOn("127\\.0\\.0\\.1:6", "__param_extra", "é/&"),
          SetOn("127\\.0\\.0\\.1:6", "__scrape_interval__", "30s"),
          SetOn("127\\.0\\.0\\.1:6", "__scrape_timeout__", "5s"),
          SetOn("127\\.0\\.0\\.1:4", "instance", "chosen"),
      });
  replace.params = {{"module", {"m"}}};
  jobs.push_back(replace);

  jobs.push_back(Job("keepdrop", {Group({"127.0.0.1:7", "127.0.0.1:8", "127.0.0.1:9", "127.0.0.1:10"})},
                     {
                         Rule(RelabelAction::kKeep, {"missing"}),
                         Rule(RelabelAction::kKeep, {"__address__"}, ".*:(7|8|9)"),
                         Rule(RelabelAction::kDrop, {"__address__"}, ".*:9"),
                         Rule(RelabelAction::kDrop, {"missing"}, "x"),
                     }));

  jobs.push_back(Job("equal",
                     {Group({"127.0.0.1:11"}, {{"a", "1"}, {"b", "1"}, {"c", "2"}}),
                      Group({"127.0.0.1:12"}, {{"a", "1"}, {"b", "2"}}),
                      Group({"127.0.0.1:13"}, {{"a", "1"}, {"b", "1"}, {"c", "1"}})},
                     {
                         Rule(RelabelAction::kKeepEqual, {"a"}, "(.*)", "b"),
                         Rule(RelabelAction::kDropEqual, {"a"}, "(.*)", "c"),
                     }));

  std::vector<std::string> hash_targets;
  for (int p = 14; p < 30; ++p) hash_targets.push_back(absl::StrCat("127.0.0.1:", p));
  jobs.push_back(Job("hashmod", {Group(hash_targets)},
                     {
                         HashMod({"__address__"}, 3, "__tmp_shard"),
                         Rule(RelabelAction::kKeep, {"__tmp_shard"}, "0|1"),
                         HashMod({"__address__", "job"}, 1000, "shard1000"),
                         HashMod({"__address__"}, UINT64_MAX, "full_hash"),
                     }));

  jobs.push_back(Job("labelmap",
                     {Group({"127.0.0.1:30"}, {{"__meta_pod_label_app", "web"},
                                               {"__meta_pod_label_tier", "front"},
                                               {"__meta_pod_name", "p1"},
                                               {"x_y", "v"}})},
                     {
                         Rule(RelabelAction::kLabelMap, {}, "__meta_pod_label_(.+)"),
                         Rule(RelabelAction::kLabelMap, {}, "__meta_(pod)_(name)", "", "${2}_of_$1"),
                         Rule(RelabelAction::kLabelMap, {}, "(x)_(y)", "", "${2}_${1}"),
                     }));

  jobs.push_back(Job("labeldropkeep",
                     {Group({"127.0.0.1:31"},
                            {{"tmp_a", "1"}, {"tmp_b", "2"}, {"keepme", "3"}, {"other", "4"}})},
                     {
                         Rule(RelabelAction::kLabelDrop, {}, "tmp_.*"),
                         Rule(RelabelAction::kLabelKeep, {}, "__.*|job|keepme|instance"),
                     }));

  jobs.push_back(Job("case",
                     {Group({"127.0.0.1:32"}, {{"x", "ÄÖÜ Straße ǅ İ ſ"}, {"env", "Prod"}})},
                     {
                         Rule(RelabelAction::kLowercase, {"x"}, "(.*)", "lo"),
                         Rule(RelabelAction::kUppercase, {"x", "env"}, "(.*)", "up"),
                         Rule(RelabelAction::kLowercase, {"missing"}, "(.*)", "env"),
                     }));

  // One target per error, plus one kept and one dropped target.
  std::vector<std::string> error_targets;
  for (int p = 40; p <= 50; ++p) error_targets.push_back(absl::StrCat("127.0.0.1:", p));
  jobs.push_back(Job("errors", {Group(error_targets)},
                     {
                         SetOn(".*:40", "__address__", ""),
                         SetOn(".*:41", "__address__", "bad/x"),
                         SetOn(".*:42", "__scrape_interval__", "abc"),
                         SetOn(".*:43", "__scrape_interval__", ""),
                         SetOn(".*:44", "__scrape_timeout__", "2h"),
                         SetOn(".*:45", "__scrape_interval__", "0s"),
                         SetOn(".*:46", "__scheme__", "ftp"),
                         SetOn(".*:46", "__address__", "127.0.0.1"),
                         SetOn(".*:47", "__scrape_interval__", "300y"),
                         SetOn(".*:48", "__scrape_timeout__", "1.5s"),
                         SetOn(".*:49", "__scheme__", "ftp"),  // Has a port: fine.
                         Rule(RelabelAction::kDrop, {"__address__"}, ".*:50"),
                     }));

  // A twin of each job whose only step drops every target: Prometheus
  // shows the discovered labels of those exactly (see the note above ActiveTarget).
  const size_t n = jobs.size();
  for (size_t i = 0; i < n; ++i) {
    ScrapeConfig twin = jobs[i];
    twin.job_name += "_discovered";
    twin.relabel_configs = {Rule(RelabelAction::kDrop)};
    jobs.push_back(std::move(twin));
  }
  return jobs;
}

// --- Writing them for Prometheus ---------------------------------------

// A YAML double-quoted scalar.
std::string Q(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (const std::string& s : items) q.push_back(Q(s));
  return absl::StrCat("[", absl::StrJoin(q, ", "), "]");
}

// Prometheus rejects fields an action does not take, even when they hold
// the default: only what differs from the defaults is written.
std::string ConfigYaml(const std::vector<ScrapeConfig>& jobs) {
  std::string y = "global:\n  scrape_interval: 1h\n  scrape_timeout: 10s\nscrape_configs:\n";
  const RelabelConfig defaults;
  for (const ScrapeConfig& j : jobs) {
    absl::StrAppend(&y, "  - job_name: ", Q(j.job_name), "\n");
    absl::StrAppend(&y, "    scrape_interval: ", config::FormatPromDuration(j.scrape_interval), "\n");
    absl::StrAppend(&y, "    scrape_timeout: ", config::FormatPromDuration(j.scrape_timeout), "\n");
    absl::StrAppend(&y, "    metrics_path: ", Q(j.metrics_path), "\n");
    absl::StrAppend(&y, "    scheme: ", Q(j.scheme), "\n");
    if (!j.params.empty()) {
      y += "    params:\n";
      for (const auto& [k, v] : j.params) absl::StrAppend(&y, "      ", Q(k), ": ", QuotedList(v), "\n");
    }
    y += "    static_configs:\n";
    for (const TargetGroup& g : j.static_configs) {
      std::vector<std::string> addrs;
      for (const Labels& t : g.targets) addrs.emplace_back(t.Get("__address__"));
      absl::StrAppend(&y, "      - targets: ", QuotedList(addrs), "\n");
      if (!g.labels.empty()) {
        y += "        labels:\n";
        for (const model::Label& l : g.labels) {
          absl::StrAppend(&y, "          ", Q(l.name.view()), ": ", Q(l.value.view()), "\n");
        }
      }
    }
    if (j.relabel_configs.empty()) continue;
    y += "    relabel_configs:\n";
    for (const RelabelConfig& r : j.relabel_configs) {
      absl::StrAppend(&y, "      - action: ", config::RelabelActionName(r.action), "\n");
      if (!r.source_labels.empty()) {
        absl::StrAppend(&y, "        source_labels: ", QuotedList(r.source_labels), "\n");
      }
      if (r.separator != defaults.separator) absl::StrAppend(&y, "        separator: ", Q(r.separator), "\n");
      if (r.regex != defaults.regex) absl::StrAppend(&y, "        regex: ", Q(r.regex), "\n");
      if (r.modulus != 0) absl::StrAppend(&y, "        modulus: ", r.modulus, "\n");
      if (!r.target_label.empty()) absl::StrAppend(&y, "        target_label: ", Q(r.target_label), "\n");
      if (r.replacement != defaults.replacement) {
        absl::StrAppend(&y, "        replacement: ", Q(r.replacement), "\n");
      }
    }
  }
  return y;
}

// go-kit's logfmt quoting of a value with quotes or backslashes in it.
std::string LogfmtEscaped(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\"", "\\\""}});
}

// Prometheus 2.42's relabeling rebuilds the label set after each step in
// the memory of the discovered labels, so the discoveredLabels it shows for
// a target that a step changed are partly overwritten (by the labels of a
// later step), whether the target is then kept or dropped. Vigil keeps the
// real discovered labels. The test compares them exactly where 2.42 shows
// them intact (no step changed the labels before the target was kept or
// dropped, and every target of the "_discovered" twin jobs), and otherwise
// only counts the targets by __address__.
//
// An active target as Vigil sees it. `key` is the record without the
// discovered labels: "active" GS pool GS labels GS url GS interval GS
// timeout.
struct ActiveTarget {
  std::string key;
  std::string discovered;
  bool changed = false;  // Relabeling changed the labels.
};

// What Vigil expects: the targets, and the log lines of the targets
// Prometheus refuses.
struct Expected {
  std::vector<ActiveTarget> active;
  // "dropped" GS discovered, sorted: dropped targets whose labels no step
  // changed before the one that dropped them.
  std::vector<std::string> dropped;
  // __address__ of the other dropped targets, sorted.
  std::vector<std::string> dropped_changed;
  std::vector<std::string> failures;
};

// Whether a step of `rules` before the one that drops `discovered` changed
// the labels.
absl::StatusOr<bool> ChangedBeforeDrop(const std::vector<RelabelConfig>& rules,
                                       const Labels& discovered) {
  for (size_t k = 1; k <= rules.size(); ++k) {
    std::vector<RelabelConfig> prefix(rules.begin(), rules.begin() + k);
    absl::StatusOr<scrape::Relabeler> r = scrape::Relabeler::Compile(prefix);
    if (!r.ok()) return r.status();
    std::optional<Labels> out = r->Process(discovered);
    if (!out.has_value()) return false;
    if (*out != discovered) return true;
  }
  return absl::InternalError("not dropped");
}

absl::StatusOr<Expected> VigilTargets(const std::vector<ScrapeConfig>& jobs) {
  Expected e;
  const std::string sep(1, kFieldSep);
  for (const ScrapeConfig& j : jobs) {
    absl::StatusOr<scrape::Relabeler> r = scrape::Relabeler::Compile(j.relabel_configs);
    if (!r.ok()) return r.status();
    for (const TargetGroup& g : j.static_configs) {
      for (size_t i = 0; i < g.targets.size(); ++i) {
        absl::StatusOr<scrape::TargetSpec> s = scrape::PopulateTarget(j, *r, g.labels, g.targets[i]);
        if (!s.ok()) {
          e.failures.push_back(absl::StrCat("scrape_pool=", j.job_name,
                                            " msg=\"Creating target failed\" err=\"instance ", i,
                                            " in group ", g.source, ": ",
                                            LogfmtEscaped(s.status().message()), "\""));
          continue;
        }
        if (!s->kept) {
          absl::StatusOr<bool> changed = ChangedBeforeDrop(j.relabel_configs, s->discovered);
          if (!changed.ok()) return changed.status();
          if (*changed) {
            e.dropped_changed.emplace_back(s->discovered.Get("__address__"));
          } else {
            e.dropped.push_back(absl::StrCat("dropped", sep, LabelsRecord(s->discovered)));
          }
          continue;
        }
        e.active.push_back(ActiveTarget{
            absl::StrJoin({std::string("active"), j.job_name, LabelsRecord(s->labels), s->url,
                           std::string(s->full.Get("__scrape_interval__")),
                           std::string(s->full.Get("__scrape_timeout__"))},
                          sep),
            LabelsRecord(s->discovered), r->Process(s->discovered) != s->discovered});
      }
    }
  }
  std::sort(e.dropped.begin(), e.dropped.end());
  std::sort(e.dropped_changed.begin(), e.dropped_changed.end());
  return e;
}

// The value of `name` in a record's labels field, or "".
std::string LabelIn(absl::string_view labels_field, absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(labels_field, kPairSep)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits(kLabelSep, 1));
    if (kv.first == name) return kv.second;
  }
  return "";
}

// The jobs a set of records names (active: the pool; dropped: the job label
// of the discovered labels).
std::set<std::string> JobsIn(const std::vector<std::string>& records) {
  std::set<std::string> jobs;
  for (const std::string& rec : records) {
    if (rec.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(rec, kFieldSep);
    if (f[0] == "active" && f.size() > 1) {
      jobs.insert(f[1]);
    } else if (f[0] == "dropped" && f.size() > 1) {
      std::string job = LabelIn(f[1], "job");
      if (!job.empty()) jobs.insert(job);
    }
  }
  return jobs;
}

bool ContainsAll(const std::set<std::string>& set, const std::set<std::string>& subset) {
  return std::includes(set.begin(), set.end(), subset.begin(), subset.end());
}

class RelabelPrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing =
        testing::MissingBinaries({testing::kPrometheus, testing::kCurl, testing::kJq});
    if (!missing.empty()) {
      std::fprintf(stderr, "SKIPPED: %s\n", missing.c_str());
      GTEST_SKIP() << missing;
    }
    char tmpl[] = "/tmp/vigil_relabel_prometheus_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    if (prometheus_.pid > 0) (void)testing::StopProcess(&prometheus_, SIGTERM, kStopTimeout);
    if (!root_.empty()) (void)RemoveAll(root_);
  }

  std::string root_;
  testing::Proc prometheus_;
};

TEST_F(RelabelPrometheusTest, SameTargetsLabelsUrlsAndFailures) {
  const std::vector<ScrapeConfig> jobs = Jobs();
  absl::StatusOr<Expected> want = VigilTargets(jobs);
  ASSERT_TRUE(want.ok()) << want.status();
  std::set<std::string> all_jobs;
  for (const ScrapeConfig& j : jobs) all_jobs.insert(j.job_name);
  // Every job keeps or drops at least one target, so every job shows up.
  std::vector<std::string> want_records = want->dropped;  // The twins are all here.
  for (const ActiveTarget& t : want->active) want_records.push_back(t.key);
  ASSERT_TRUE(ContainsAll(JobsIn(want_records), all_jobs));

  const std::string config_file = root_ + "/prometheus.yml";
  ASSERT_TRUE(WriteFileAtomic(config_file, ConfigYaml(jobs)).ok());
  const int port = testing::FreePort();
  prometheus_ = testing::StartPrometheus(config_file, root_ + "/data", port, {}, kStartTimeout);
  ASSERT_TRUE(testing::PrometheusReady(prometheus_)) << prometheus_.log << "\n" << ConfigYaml(jobs);

  // Static targets arrive after discovery's and the scrape manager's
  // 5-second throttles, all jobs in the same update.
  const std::string answer = root_ + "/targets.json";
  std::vector<std::string> got;
  std::string last_error;
  bool all_there = testing::WaitUntil(
      [&] {
        absl::Status s = testing::ApiGet(port, "/api/v1/targets", {{"state", "any"}}, answer);
        absl::StatusOr<std::string> out = s.ok() ? testing::Jq(kJqTargetsProgram, answer)
                                                 : absl::StatusOr<std::string>(s);
        if (!out.ok()) {
          last_error = std::string(out.status().message());
          return false;
        }
        got = absl::StrSplit(*out, kRecordSep, absl::SkipEmpty());
        return ContainsAll(JobsIn(got), all_jobs);
      },
      kTargetsTimeout, {&prometheus_});
  ASSERT_TRUE(all_there) << "not all jobs in /api/v1/targets: " << last_error << "\n"
                         << prometheus_.log;
  testing::DrainLog(&prometheus_);

  std::vector<std::string> got_dropped;
  std::map<std::string, std::string> got_active;  // Key -> discovered.
  for (const std::string& rec : got) {
    if (absl::StartsWith(rec, "dropped")) {
      got_dropped.push_back(rec);
      continue;
    }
    size_t last = rec.rfind(kFieldSep);
    ASSERT_NE(last, std::string::npos) << Readable(rec);
    EXPECT_TRUE(got_active.emplace(rec.substr(0, last), rec.substr(last + 1)).second)
        << "twice: " << Readable(rec);
  }

  // Active targets: the same labels, URL, interval and timeout; the same
  // discovered labels unless relabeling changed the labels (see ActiveTarget).
  size_t overwritten = 0;
  for (const ActiveTarget& t : want->active) {
    auto it = got_active.find(t.key);
    if (it == got_active.end()) {
      ADD_FAILURE() << "only Vigil: " << Readable(t.key);
      continue;
    }
    if (it->second != t.discovered) {
      ++overwritten;
      EXPECT_TRUE(t.changed) << "discovered labels of " << Readable(t.key)
                             << "\nPrometheus: " << Readable(it->second)
                             << "\nVigil: " << Readable(t.discovered);
    }
    got_active.erase(it);
  }
  for (const auto& [key, discovered] : got_active) {
    ADD_FAILURE() << "only Prometheus: " << Readable(key) << " | " << Readable(discovered);
  }

  // Dropped targets: the same discovered labels where Prometheus shows them
  // intact, the same addresses for the others.
  std::sort(got_dropped.begin(), got_dropped.end());
  std::vector<std::string> only_vigil, only_prometheus;
  std::set_difference(want->dropped.begin(), want->dropped.end(), got_dropped.begin(),
                      got_dropped.end(), std::back_inserter(only_vigil));
  std::set_difference(got_dropped.begin(), got_dropped.end(), want->dropped.begin(),
                      want->dropped.end(), std::back_inserter(only_prometheus));
  for (const std::string& r : only_vigil) ADD_FAILURE() << "only Vigil: " << Readable(r);
  std::vector<std::string> other_addresses;
  for (const std::string& r : only_prometheus) {
    other_addresses.push_back(LabelIn(r.substr(r.find(kFieldSep) + 1), "__address__"));
  }
  std::sort(other_addresses.begin(), other_addresses.end());
  EXPECT_EQ(other_addresses, want->dropped_changed)
      << "addresses of the dropped targets whose labels relabeling changed; Prometheus's:\n"
      << absl::StrJoin(only_prometheus, "\n", [](std::string* out, const std::string& r) {
           out->append(Readable(r));
         });

  // Each target Vigil refuses is one Prometheus refuses with the same
  // message, and Prometheus refuses no other.
  for (const std::string& f : want->failures) {
    EXPECT_NE(prometheus_.log.find(f), std::string::npos) << "not in Prometheus's log: " << f;
  }
  size_t prometheus_failures = 0;
  for (absl::string_view line : absl::StrSplit(prometheus_.log, '\n')) {
    if (line.find("msg=\"Creating target failed\"") == absl::string_view::npos) continue;
    ++prometheus_failures;
    bool known = std::any_of(want->failures.begin(), want->failures.end(),
                             [&](const std::string& f) { return line.find(f) != absl::string_view::npos; });
    EXPECT_TRUE(known) << "Prometheus refused a target Vigil accepts: " << line;
  }
  EXPECT_EQ(prometheus_failures, want->failures.size());
  std::printf(
      "compared %zu active targets (%zu with discoveredLabels overwritten by 2.42), %zu dropped "
      "(%zu overwritten) and %zu refused ones with Prometheus\n",
      want->active.size(), overwritten, want->dropped.size() + want->dropped_changed.size(),
      want->dropped_changed.size(), want->failures.size());
}

}  // namespace
}  // namespace vigil
