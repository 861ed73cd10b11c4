#include "rules/manager.h"

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/hash.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "model/matcher.h"
#include "model/value.h"
#include "promql/parser/parser.h"
#include "promql/parser/printer.h"
#include "rules/template.h"

namespace vigil::rules {

// One loaded group and its scheduling state.
struct RuleManager::Entry {
  std::string file;
  config::RuleGroup spec;  // As loaded (interval defaulted).
  std::string content;     // Canonical text of spec, for change detection.
  std::unique_ptr<Group> group;

  // Guarded by RuleManager::mu_.
  absl::Time next_eval = absl::InfinitePast();  // Unset until scheduled.
  bool running = false;
  bool removed = false;
  bool replaced = false;  // Removed because a changed group took its place.
  int64_t iterations = 0;
  int64_t missed = 0;

  // Only touched by the one running evaluation (or, once the entry is no
  // longer scheduled, by whoever retires it).
  std::set<model::Labels> last_series;  // Written by the last evaluation.
  std::set<model::Labels> current;      // Being written by this one.
  // A changed group's predecessor's last series: marked stale after the
  // first evaluation where not written again.
  std::set<model::Labels> inherited;
  // Restoring `for` state (eval thread only): evaluations left before it,
  // 0 for none; the time of the first evaluation.
  int restore_after = 0;
  absl::Time first_eval = absl::InfinitePast();
};

namespace {

constexpr char kComponent[] = "rules";

// Records the series an evaluation writes (stale markers excluded), once
// committed, in `sink`.
class TrackingAppender final : public tsdb::Appender {
 public:
  TrackingAppender(std::unique_ptr<tsdb::Appender> inner, std::set<model::Labels>* sink)
      : inner_(std::move(inner)), sink_(sink) {}

  absl::StatusOr<tsdb::SeriesRef> Append(const model::Labels& labels, int64_t t,
                                         double v) override {
    absl::StatusOr<tsdb::SeriesRef> r = inner_->Append(labels, t, v);
    if (r.ok() && !model::IsStaleNaN(v)) pending_.push_back(labels);
    return r;
  }
  absl::Status Append(tsdb::SeriesRef ref, int64_t t, double v) override {
    return inner_->Append(ref, t, v);
  }
  absl::Status Commit() override {
    absl::Status s = inner_->Commit();
    if (s.ok()) sink_->insert(pending_.begin(), pending_.end());
    pending_.clear();
    return s;
  }
  void Rollback() override {
    pending_.clear();
    inner_->Rollback();
  }

 private:
  std::unique_ptr<tsdb::Appender> inner_;
  std::set<model::Labels>* sink_;
  std::vector<model::Labels> pending_;
};

void AppendPairs(const std::vector<std::pair<std::string, std::string>>& kv, std::string* out) {
  for (const auto& [k, v] : kv) absl::StrAppend(out, k.size(), ":", k, v.size(), ":", v);
  out->push_back(';');
}

// Everything of a group that affects its evaluation, as text.
std::string GroupContent(const config::RuleGroup& g) {
  std::string out = absl::StrCat(g.name.size(), ":", g.name, absl::FormatDuration(g.interval),
                                 ";", g.limit, ";");
  for (const config::Rule& r : g.rules) {
    absl::StrAppend(&out, r.record.size(), ":", r.record, r.alert.size(), ":", r.alert,
                    r.expr.size(), ":", r.expr, absl::FormatDuration(r.for_), ";",
                    absl::FormatDuration(r.keep_firing_for), ";");
    AppendPairs(r.labels, &out);
    AppendPairs(r.annotations, &out);
  }
  return out;
}

// The first evaluation slot at or after `now`: slots are base + k*interval
// with base's offset in the interval a stable hash of file and group name.
absl::Time FirstSlot(const std::string& file, const std::string& name,
                     absl::Duration interval, absl::Time now) {
  const int64_t iv = absl::ToInt64Nanoseconds(interval);
  const uint64_t h = StableHash(absl::StrCat(name, ";", file));
  const int64_t offset = static_cast<int64_t>(h % static_cast<uint64_t>(iv));
  const int64_t n = absl::ToUnixNanos(now);
  int64_t adj = n - offset;
  int64_t base = adj - (adj % iv + iv) % iv;  // Floor for negative values too.
  int64_t slot = base + offset;
  if (slot < n) slot += iv;
  return absl::FromUnixNanos(slot);
}

std::vector<std::string> ExpandGlob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g;
  // GLOB_PERIOD: like Go's filepath.Glob, '*' matches a leading dot.
  if (glob(pattern.c_str(), GLOB_PERIOD, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

config::RuleChecks ContentChecks() {
  config::RuleChecks checks;
  checks.expr = [](absl::string_view expr) { return promql::ParseExpr(expr).status(); };
  checks.tmpl = [](absl::string_view name, absl::string_view text) {
    return CheckRuleTemplate(name, text);
  };
  return checks;
}

}  // namespace

RuleManager::RuleManager(RuleManagerOptions options)
    : options_(std::move(options)),
      engine_(options_.engine),
      query_(EngineQueryFunc(&engine_, options_.querier)),
      pool_(std::max(1, options_.eval_threads), "rule-eval") {
  scheduler_ = std::thread([this] { SchedulerLoop(); });
}

RuleManager::~RuleManager() { Stop(); }

absl::StatusOr<std::unique_ptr<RuleManager::Prepared>> RuleManager::Prepare(
    const std::vector<std::string>& rule_files, absl::Duration default_interval) {
  auto prepared = std::make_unique<Prepared>();
  std::set<std::string> seen;
  const config::RuleChecks checks = ContentChecks();
  for (const std::string& pattern : rule_files) {
    for (const std::string& path : ExpandGlob(pattern)) {
      if (!seen.insert(path).second) continue;
      ASSIGN_OR_RETURN(config::RuleFile file, config::LoadRuleFile(path, checks));
      ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Group>> groups,
                       BuildGroups(file, default_interval));
      for (size_t i = 0; i < groups.size(); ++i) {
        auto e = std::make_shared<Entry>();
        e->file = path;
        e->spec = std::move(file.groups[i]);
        e->spec.interval = groups[i]->interval();
        e->content = GroupContent(e->spec);
        e->group = std::move(groups[i]);
        prepared->entries.push_back(std::move(e));
      }
    }
  }
  return prepared;
}

void RuleManager::Apply(std::unique_ptr<Prepared> prepared, const model::Labels& external_labels) {
  std::map<std::string, std::string> ext;
  for (const model::Label& l : external_labels) ext[std::string(l.name.view())] = std::string(l.value.view());
  std::vector<std::shared_ptr<Entry>> retire;  // Removed and idle: mark stale here.
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    std::map<std::pair<std::string, std::string>, std::shared_ptr<Entry>> old;
    for (const std::shared_ptr<Entry>& e : entries_) old[{e->file, e->spec.name}] = e;
    std::vector<std::shared_ptr<Entry>> next;
    // Changed groups: (old, new).
    std::vector<std::pair<std::shared_ptr<Entry>, std::shared_ptr<Entry>>> replaced;
    for (std::shared_ptr<Entry>& n : prepared->entries) {
      if (!applied_) n->restore_after = 2;
      auto it = old.find({n->file, n->spec.name});
      if (it == old.end()) {
        next.push_back(std::move(n));
        continue;
      }
      std::shared_ptr<Entry> o = std::move(it->second);
      old.erase(it);
      if (o->content == n->content) {
        next.push_back(std::move(o));  // Unchanged: keeps all state.
        continue;
      }
      o->removed = true;
      o->replaced = true;
      replaced.emplace_back(std::move(o), n);
      next.push_back(std::move(n));
    }
    for (auto& [key, o] : old) {
      o->removed = true;
      if (!o->running) retire.push_back(std::move(o));
    }
    // A changed group takes over its predecessor's state once that is
    // idle (the scheduler starts no removed entry).
    auto idle = [&replaced]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& [o, n] : replaced) {
        if (o->running) return false;
      }
      return true;
    };
    while (!idle()) changed_.Wait(&mu_);
    for (auto& [o, n] : replaced) {
      n->group->CopyStateFrom(*o->group);
      // What the old group wrote and the new one does not write again in
      // its first evaluation gets stale markers then.
      n->inherited = std::move(o->last_series);
      n->iterations = o->iterations;
      n->missed = o->missed;
      n->restore_after = o->restore_after;
      n->first_eval = o->first_eval;
      if (n->group->interval() == o->group->interval()) n->next_eval = o->next_eval;
    }
    entries_ = std::move(next);
    external_labels_ = std::move(ext);
    applied_ = true;
    ++generation_;
    changed_.SignalAll();
  }
  const absl::Time now = absl::Now();
  for (const std::shared_ptr<Entry>& e : retire) MarkStale(e->last_series, now);
}

absl::Status RuleManager::ApplyConfig(const std::vector<std::string>& rule_files,
                                      absl::Duration default_interval,
                                      const model::Labels& external_labels) {
  ASSIGN_OR_RETURN(std::unique_ptr<Prepared> p, Prepare(rule_files, default_interval));
  Apply(std::move(p), external_labels);
  return absl::OkStatus();
}

void RuleManager::MarkStale(const std::set<model::Labels>& series, absl::Time t) {
  if (series.empty()) return;
  std::unique_ptr<tsdb::Appender> app = options_.appender();
  const int64_t ts = absl::ToUnixMillis(t);
  for (const model::Labels& ls : series) (void)app->Append(ls, ts, model::StaleNaN());
  if (absl::Status s = app->Commit(); !s.ok()) {
    LogWarn(kComponent, "writing stale markers failed").Kv("err", s);
  }
}

void RuleManager::SchedulerLoop() {
  absl::MutexLock l(&mu_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    absl::Time wake = now + absl::Hours(1);
    for (const std::shared_ptr<Entry>& e : entries_) {
      if (e->running || e->removed) continue;
      const absl::Duration iv = e->group->interval();
      if (e->next_eval == absl::InfinitePast()) {
        e->next_eval = FirstSlot(e->file, e->spec.name, iv, now);
      }
      if (e->next_eval > now) {
        wake = std::min(wake, e->next_eval);
        continue;
      }
      // Slots that passed while the previous evaluation ran are skipped.
      absl::Duration rem;
      const int64_t skipped = absl::IDivDuration(now - e->next_eval, iv, &rem);
      if (skipped > 0) {
        e->missed += skipped;
        e->next_eval += skipped * iv;
      }
      const absl::Time t = e->next_eval;
      e->next_eval += iv;
      e->running = true;
      ++running_;
      pool_.Submit([this, e, t] { RunEval(e, t); });
    }
    const uint64_t gen = generation_;
    while (!stopping_ && generation_ == gen && absl::Now() < wake) {
      changed_.WaitWithDeadline(&mu_, wake);
    }
  }
}

void RuleManager::RunEval(std::shared_ptr<Entry> e, absl::Time t) {
  GroupEnv env;
  env.query = query_;
  env.appender = [this, e] {
    return std::make_unique<TrackingAppender>(options_.appender(), &e->current);
  };
  env.external_url = options_.external_url;
  env.notify = options_.notify;
  env.resend_delay = options_.resend_delay;
  {
    absl::MutexLock l(&mu_);
    env.external_labels = external_labels_;
  }
  e->current.clear();
  if (e->first_eval == absl::InfinitePast()) e->first_eval = t;
  e->group->Eval(t, env);
  if (e->restore_after > 0 && --e->restore_after == 0) RestoreForState(*e, absl::Now());
  e->last_series = std::move(e->current);
  e->current.clear();
  if (!e->inherited.empty()) {
    std::set<model::Labels> gone;
    for (const model::Labels& ls : e->inherited) {
      if (e->last_series.count(ls) == 0) gone.insert(ls);
    }
    e->inherited.clear();
    MarkStale(gone, t);
  }
  bool retire = false;
  {
    absl::MutexLock l(&mu_);
    e->running = false;
    ++e->iterations;
    --running_;
    retire = e->removed && !e->replaced;
    ++generation_;
    changed_.SignalAll();
  }
  if (retire) MarkStale(e->last_series, absl::Now());
}

void RuleManager::RestoreForState(const Entry& e, absl::Time ts) {
  const int64_t mint = absl::ToUnixMillis(ts - options_.for_outage_tolerance);
  // Our own evaluations write ALERTS_FOR_STATE too: only older samples
  // count.
  const int64_t maxt = absl::ToUnixMillis(e.first_eval) - 1;
  if (maxt < mint) return;
  std::unique_ptr<tsdb::Querier> q = options_.querier();
  model::LabelsBuilder b;
  for (const std::unique_ptr<Rule>& r : e.group->rules()) {
    auto* rule = dynamic_cast<AlertingRule*>(r.get());
    if (rule == nullptr) continue;
    const absl::Duration hold = rule->hold();
    if (hold < options_.for_grace_period) continue;
    std::vector<std::pair<absl::string_view, absl::string_view>> raw(rule->labels().begin(),
                                                                     rule->labels().end());
    const model::Labels rule_labels = model::Labels::FromPairs(raw);
    for (const Alert& a : rule->Alerts()) {
      if (a.state == AlertState::kInactive) continue;
      // The series Eval writes for the alert.
      b.Reset(rule_labels);
      for (const model::Label& l : a.labels) b.Set(l.name.view(), l.value.view());
      b.Set(model::kMetricName, "ALERTS_FOR_STATE");
      const model::Labels want = b.Build();
      std::vector<model::Matcher> matchers;
      for (const model::Label& l : want) {
        absl::StatusOr<model::Matcher> m =
            model::Matcher::Create(model::MatchType::kEqual, l.name.view(), l.value.view());
        if (m.ok()) matchers.push_back(*std::move(m));
      }
      std::unique_ptr<tsdb::SeriesSet> set = q->Select(matchers, mint, maxt);
      bool found = false;
      int64_t last_t = 0;
      double last_v = 0;
      while (set->Next()) {
        if (!(set->At().labels() == want)) continue;
        std::unique_ptr<tsdb::SampleIterator> it = set->At().Iterator();
        while (it->Next()) {
          found = true;
          last_t = it->AtT();
          last_v = it->AtV();
        }
      }
      if (!set->Err().ok()) {
        LogWarn(kComponent, "restoring alert state failed")
            .Kv("alert", rule->name())
            .Kv("err", set->Err());
        continue;
      }
      if (!found || model::IsStaleNaN(last_v) || !std::isfinite(last_v)) continue;
      absl::Time active_at = absl::FromUnixSeconds(static_cast<int64_t>(last_v));
      const absl::Time down_at = absl::FromUnixMillis(last_t);
      const absl::Duration remaining = hold - (down_at - active_at);
      if (remaining <= absl::ZeroDuration()) {
        // It had fired: it fires again at the next evaluation.
      } else if (remaining < options_.for_grace_period) {
        active_at = ts + options_.for_grace_period - hold;
      } else {
        active_at += ts - down_at;
      }
      rule->SetActiveAt(a.labels, active_at);
      LogInfo(kComponent, "restored alert state")
          .Kv("alert", rule->name())
          .Kv("labels", a.labels.ToString())
          .Kv("active_at", absl::FormatTime(active_at, absl::UTCTimeZone()));
    }
  }
}

std::vector<GroupSnapshot> RuleManager::Groups() const {
  std::vector<std::shared_ptr<Entry>> entries;
  std::vector<std::pair<int64_t, int64_t>> counts;
  {
    absl::MutexLock l(&mu_);
    entries = entries_;
    for (const std::shared_ptr<Entry>& e : entries) counts.emplace_back(e->iterations, e->missed);
  }
  std::vector<GroupSnapshot> out;
  out.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = *entries[i];
    GroupSnapshot g;
    g.name = e.spec.name;
    g.file = e.file;
    g.interval = e.group->interval();
    g.limit = e.group->limit();
    g.status = e.group->status();
    g.iterations = counts[i].first;
    g.missed = counts[i].second;
    const std::vector<std::unique_ptr<Rule>>& rules = e.group->rules();
    for (size_t j = 0; j < rules.size(); ++j) {
      const Rule& r = *rules[j];
      RuleSnapshot rs;
      rs.name = r.name();
      rs.status = r.eval_status();
      rs.template_failures = r.template_failures();
      if (j < e.spec.rules.size()) {
        rs.labels = e.spec.rules[j].labels;
        rs.annotations = e.spec.rules[j].annotations;
      }
      if (const auto* a = dynamic_cast<const AlertingRule*>(&r)) {
        rs.alerting = true;
        rs.query = promql::Format(a->expr());
        rs.hold = a->hold();
        rs.keep_firing_for = a->keep_firing_for();
        rs.state = a->State();
        for (Alert& al : a->Alerts()) {
          if (al.state != AlertState::kInactive) rs.alerts.push_back(std::move(al));
        }
      } else if (const auto* rr = dynamic_cast<const RecordingRule*>(&r)) {
        rs.query = promql::Format(rr->expr());
      }
      g.rules.push_back(std::move(rs));
    }
    out.push_back(std::move(g));
  }
  return out;
}

void RuleManager::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_ && !scheduler_.joinable()) return;
    stopping_ = true;
    ++generation_;
    changed_.SignalAll();
  }
  if (scheduler_.joinable()) scheduler_.join();
  pool_.Shutdown();
}

}  // namespace vigil::rules
