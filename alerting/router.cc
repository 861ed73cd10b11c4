#include "alerting/router.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "alerting/codec.h"
#include "base/coding.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"

namespace vigil::alerting {

namespace {

constexpr absl::string_view kStoreMagic = "VIGILALR1\n";
constexpr absl::string_view kStoreFile = "alerts";
// The alert store is rewritten at most this often while it changes.
constexpr absl::Duration kPersistEvery = absl::Seconds(1);
// Silences and the notification log are garbage-collected this often.
constexpr absl::Duration kGcEvery = absl::Minutes(15);
// The timer thread wakes at least this often.
constexpr absl::Duration kMaxSleep = absl::Seconds(1);
// A delivery gets at least this long before its deadline.
constexpr absl::Duration kMinDeliveryTimeout = absl::Seconds(10);

bool AllMatch(const std::vector<model::Matcher>& ms,
              const model::Labels& labels) {
  for (const model::Matcher& m : ms) {
    if (!m.Matches(labels.Get(m.name()))) return false;
  }
  return true;
}

// Alertmanager's Matchers.String(): sorted, comma-separated, in braces.
std::string MatchersKey(std::vector<model::Matcher> ms) {
  std::sort(ms.begin(), ms.end(),
            [](const model::Matcher& a, const model::Matcher& b) {
              if (a.name() != b.name()) return a.name() < b.name();
              if (a.value() != b.value()) return a.value() < b.value();
              return a.type() < b.type();
            });
  std::vector<std::string> parts;
  for (const model::Matcher& m : ms) parts.push_back(m.ToString());
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string GroupId(absl::string_view receiver, absl::string_view key) {
  return absl::StrCat(receiver, absl::string_view("\0", 1), key);
}

}  // namespace

struct Router::RouteNode {
  std::string key;
  std::string receiver;
  std::vector<model::Matcher> matchers;
  std::vector<std::string> group_by;
  bool group_by_all = false;
  bool continue_matching = false;
  absl::Duration group_wait;
  absl::Duration group_interval;
  absl::Duration repeat_interval;
  std::vector<std::unique_ptr<RouteNode>> children;
};

struct Router::InhibitRule {
  std::vector<model::Matcher> source;
  std::vector<model::Matcher> target;
  std::vector<std::string> equal;
  absl::flat_hash_set<uint64_t> sources;  // Stored alerts matching `source`.
};

struct Router::StoredAlert {
  Alert alert;
  absl::Time updated_at;
  bool timeout = false;  // ends_at was set from resolve_timeout.
  int groups = 0;        // Groups holding it.
};

struct Router::Group {
  std::string id;
  std::string key;
  std::string receiver;
  model::Labels labels;
  const RouteNode* route = nullptr;
  std::set<uint64_t> alerts;
  absl::Time next_flush;
  bool has_flushed = false;
  // The last flush whose deliveries are awaited.
  uint64_t flush_seq = 0;
  int outstanding = 0;
  bool flush_failed = false;
  // Resolved alerts of that flush with their updated_at: removed once all
  // deliveries succeeded, unless changed meanwhile.
  std::vector<std::pair<uint64_t, absl::Time>> resolved_in_flush;
};

struct Router::Job {
  std::string group_id;
  std::string group_key;
  uint64_t flush_seq = 0;
  std::shared_ptr<const Notification> notification;
  std::vector<uint64_t> firing;
  std::vector<uint64_t> resolved;
  absl::Duration repeat_interval;
  absl::Duration timeout;  // Notify's deadline: this long after it starts.
};

// One integration and the threads that deliver to it: several groups at
// once, one job per group at a time, at most one more waiting per group.
class Router::Worker {
 public:
  Worker(Router* router, std::string receiver, int index,
         std::unique_ptr<Integration> in)
      : router_(router),
        receiver_(std::move(receiver)),
        index_(index),
        integration_(std::move(in)) {}
  ~Worker() { Join(); }

  void Start(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }

  enum class EnqueueResult { kQueued, kReplaced, kRefused };
  // Queues `job`. While a job of the same group runs, `job` waits for it
  // (deliveries of one group never overlap); a job of the same group that
  // has not started yet is replaced by `job` (kReplaced: the old one will
  // not run). kRefused after Cancel().
  EnqueueResult Enqueue(Job job) {
    absl::MutexLock l(&mu_);
    if (stop_) return EnqueueResult::kRefused;
    if (running_.contains(job.group_id)) {
      auto [it, inserted] = deferred_.try_emplace(job.group_id);
      it->second = std::move(job);
      return inserted ? EnqueueResult::kQueued : EnqueueResult::kReplaced;
    }
    for (Job& queued : queue_) {
      if (queued.group_id == job.group_id) {
        queued = std::move(job);
        return EnqueueResult::kReplaced;
      }
    }
    queue_.push_back(std::move(job));
    return EnqueueResult::kQueued;
  }

  // Sets the cancel flag for the running deliveries and drops the jobs that
  // have not started.
  void Cancel() {
    std::vector<Job> dropped;
    {
      absl::MutexLock l(&mu_);
      stop_ = true;
      cancel_.store(true);
      for (Job& j : queue_) dropped.push_back(std::move(j));
      for (auto& [id, j] : deferred_) dropped.push_back(std::move(j));
      queue_.clear();
      deferred_.clear();
    }
    for (Job& j : dropped) router_->JobDone(j.group_id, j.flush_seq, false);
  }

  void Join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  const std::string& receiver() const { return receiver_; }
  int index() const { return index_; }
  Integration& integration() { return *integration_; }
  const std::atomic<bool>* cancel() const { return &cancel_; }

 private:
  void Run() {
    for (;;) {
      Job job;
      {
        absl::MutexLock l(&mu_);
        mu_.Await(absl::Condition(
            +[](Worker* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
              return w->stop_ || !w->queue_.empty();
            },
            this));
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        running_.insert(job.group_id);
      }
      const bool ok = router_->RunJob(*this, job);
      {
        absl::MutexLock l(&mu_);
        running_.erase(job.group_id);
        auto it = deferred_.find(job.group_id);
        if (it != deferred_.end()) {
          queue_.push_back(std::move(it->second));
          deferred_.erase(it);
        }
      }
      router_->JobDone(job.group_id, job.flush_seq, ok);
    }
  }

  friend class Router;
  Router* const router_;
  const std::string receiver_;
  const int index_;
  std::unique_ptr<Integration> integration_;
  std::atomic<bool> cancel_{false};
  absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> running_ ABSL_GUARDED_BY(mu_);
  // Per group: the job waiting for the group's running one.
  absl::flat_hash_map<std::string, Job> deferred_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

struct Router::Tree {
  std::unique_ptr<RouteNode> root;
  std::vector<InhibitRule> inhibit;
  std::map<std::string, std::vector<std::unique_ptr<Worker>>> workers;
  absl::Duration retry_give_up;

  void StartWorkers(int threads) {
    for (auto& [name, ws] : workers) {
      for (auto& w : ws) w->Start(threads);
    }
  }
  void CancelAndJoinWorkers() {
    for (auto& [name, ws] : workers) {
      for (auto& w : ws) w->Cancel();
    }
    for (auto& [name, ws] : workers) {
      for (auto& w : ws) w->Join();
    }
  }
};

// ---------------------------------------------------------------------------
// Construction, configuration, shutdown.

Router::Router(RouterOptions options) : options_(std::move(options)) {}

Router::~Router() { Stop(); }

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    const config::NotificationsConfig& cfg, RouterOptions options) {
  if (options.data_dir.empty())
    return absl::InvalidArgumentError("router: no data directory");
  if (!options.factory)
    return absl::InvalidArgumentError("router: no integration factory");
  if (!options.clock) options.clock = [] { return absl::Now(); };
  std::unique_ptr<Router> r(new Router(std::move(options)));
  RETURN_IF_ERROR(r->Init(cfg));
  return r;
}

absl::Status Router::Init(const config::NotificationsConfig& cfg) {
  RETURN_IF_ERROR(CreateDirs(options_.data_dir));
  ASSIGN_OR_RETURN(silences_,
                   Silences::Open(options_.data_dir, options_.clock));
  ASSIGN_OR_RETURN(nflog_, NotificationLog::Open(options_.data_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<Tree> tree, BuildTree(cfg));
  const absl::Time now = Now();
  RETURN_IF_ERROR(LoadStore());
  tree->StartWorkers(std::max(1, options_.delivery_threads));
  {
    absl::MutexLock l(&mu_);
    InstallTreeLocked(std::move(tree), now);
    last_gc_ = now;
  }
  if (!options_.manual_tick) timer_ = std::thread([this] { TimerLoop(); });
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Router::Tree>> Router::BuildTree(
    const config::NotificationsConfig& cfg) {
  auto tree = std::make_unique<Tree>();
  tree->retry_give_up = cfg.retry_give_up;
  std::map<std::string, const config::ReceiverConfig*> receivers;
  for (const config::ReceiverConfig& rc : cfg.receivers)
    receivers[rc.name] = &rc;

  absl::Status err;
  std::function<std::unique_ptr<RouteNode>(const config::Route&,
                                           const RouteNode*)>
      build = [&](const config::Route& r,
                  const RouteNode* parent) -> std::unique_ptr<RouteNode> {
    auto n = std::make_unique<RouteNode>();
    n->receiver =
        r.receiver.empty() && parent != nullptr ? parent->receiver : r.receiver;
    if (err.ok() && receivers.count(n->receiver) == 0) {
      err = absl::InvalidArgumentError(absl::StrCat("route (line ", r.line,
                                                    ") has unknown receiver \"",
                                                    n->receiver, "\""));
    }
    n->matchers = r.matchers;
    n->key = parent == nullptr
                 ? MatchersKey(r.matchers)
                 : absl::StrCat(parent->key, "/", MatchersKey(r.matchers));
    n->group_by = r.group_by;
    n->group_by_all = r.group_by_all;
    n->continue_matching = r.continue_matching;
    n->group_wait = r.group_wait;
    n->group_interval = r.group_interval;
    n->repeat_interval = r.repeat_interval;
    for (const config::Route& c : r.routes)
      n->children.push_back(build(c, n.get()));
    return n;
  };
  tree->root = build(cfg.route, nullptr);
  RETURN_IF_ERROR(err);

  for (const config::InhibitRule& ir : cfg.inhibit_rules) {
    InhibitRule rule;
    rule.source = ir.source_matchers;
    rule.target = ir.target_matchers;
    rule.equal = ir.equal;
    tree->inhibit.push_back(std::move(rule));
  }
  for (const config::ReceiverConfig& rc : cfg.receivers) {
    absl::StatusOr<std::vector<std::unique_ptr<Integration>>> ins =
        options_.factory(rc);
    if (!ins.ok()) {
      return absl::Status(
          ins.status().code(),
          absl::StrCat("receiver \"", rc.name, "\": ", ins.status().message()));
    }
    auto& ws = tree->workers[rc.name];
    for (size_t i = 0; i < ins->size(); ++i) {
      ws.push_back(std::make_unique<Worker>(this, rc.name, static_cast<int>(i),
                                            std::move((*ins)[i])));
    }
  }
  return tree;
}

void Router::InstallTreeLocked(std::unique_ptr<Tree> tree, absl::Time now) {
  tree_ = std::move(tree);
  groups_.clear();
  for (auto& [fp, sa] : store_) sa.groups = 0;
  for (InhibitRule& rule : tree_->inhibit) {
    for (const auto& [fp, sa] : store_) {
      if (AllMatch(rule.source, sa.alert.labels)) rule.sources.insert(fp);
    }
  }
  for (auto& [fp, sa] : store_) RouteAlertLocked(fp, sa, now);
  wake_ = true;
}

absl::Status Router::ApplyConfig(const config::NotificationsConfig& cfg) {
  ASSIGN_OR_RETURN(std::unique_ptr<Tree> tree, BuildTree(cfg));
  std::unique_ptr<Tree> old;
  {
    absl::MutexLock l(&mu_);
    if (stopped_) return absl::FailedPreconditionError("router is stopped");
    tree->StartWorkers(std::max(1, options_.delivery_threads));
    old = std::move(tree_);
    InstallTreeLocked(std::move(tree), Now());
  }
  // Deliveries of the old tree are cancelled; what they did not deliver is
  // not in the notification log, so the new groups deliver it.
  if (old != nullptr) old->CancelAndJoinWorkers();
  return absl::OkStatus();
}

void Router::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (timer_.joinable()) timer_.join();
  std::unique_ptr<Tree> tree;
  {
    absl::MutexLock l(&mu_);
    tree = std::move(tree_);
  }
  if (tree != nullptr) tree->CancelAndJoinWorkers();
  std::string data;
  {
    absl::MutexLock l(&mu_);
    groups_.clear();
    data = EncodeStoreLocked();
    store_dirty_ = false;
  }
  PersistStore(std::move(data));
}

// ---------------------------------------------------------------------------
// Alert store and routing.

void Router::Receive(std::vector<Alert> alerts) {
  const absl::Time now = Now();
  uint64_t received = 0;
  {
    absl::MutexLock l(&mu_);
    if (stopped_ || tree_ == nullptr) return;
    for (Alert& a : alerts) {
      if (a.labels.empty()) continue;
      ++received;
      if (a.starts_at == absl::InfinitePast()) {
        a.starts_at = a.ends_at == absl::InfinitePast() ? now : a.ends_at;
      }
      bool timeout = false;
      if (a.ends_at == absl::InfinitePast()) {
        a.ends_at = now + options_.resolve_timeout;
        timeout = true;
      }
      const uint64_t fp = Fingerprint(a.labels);
      auto [it, inserted] = store_.try_emplace(fp);
      StoredAlert& sa = it->second;
      if (!inserted) {
        const Alert& old = sa.alert;
        // Alertmanager merges when the activity ranges overlap: the newer
        // alert wins, keeping the earliest start and a later explicit end.
        bool overlap =
            (a.ends_at > old.starts_at && a.ends_at < old.ends_at) ||
            (a.starts_at > old.starts_at && a.starts_at < old.ends_at);
        if (overlap) {
          if (old.starts_at < a.starts_at) a.starts_at = old.starts_at;
          if (a.ResolvedAt(now)) {
            if (old.ResolvedAt(now) && old.ends_at > a.ends_at)
              a.ends_at = old.ends_at;
          } else if (old.ends_at > a.ends_at && !sa.timeout) {
            a.ends_at = old.ends_at;
            timeout = false;
          }
        }
      } else {
        for (InhibitRule& rule : tree_->inhibit) {
          if (AllMatch(rule.source, a.labels)) rule.sources.insert(fp);
        }
      }
      sa.alert = std::move(a);
      sa.updated_at = now;
      sa.timeout = timeout;
      RouteAlertLocked(fp, sa, now);
    }
    store_dirty_ = true;
    wake_ = true;
  }
  absl::MutexLock l(&stats_mu_);
  stats_.alerts_received += received;
}

namespace {

// Alertmanager's Route.Match: the routes that handle `labels` below `n`
// (appended to `out`); false when `n` itself does not match.
template <typename Node>
bool MatchTree(const Node& n, const model::Labels& labels,
               std::vector<const Node*>* out) {
  if (!AllMatch(n.matchers, labels)) return false;
  const size_t before = out->size();
  for (const auto& c : n.children) {
    if (MatchTree(*c, labels, out) && !c->continue_matching) break;
  }
  if (out->size() == before) out->push_back(&n);
  return true;
}

}  // namespace

void Router::RouteAlertLocked(uint64_t fp, StoredAlert& sa, absl::Time now) {
  std::vector<const RouteNode*> nodes;
  MatchTree(*tree_->root, sa.alert.labels, &nodes);
  for (const RouteNode* node : nodes) {
    model::Labels glabels;
    if (node->group_by_all) {
      glabels = sa.alert.labels;
    } else {
      std::vector<std::pair<absl::string_view, absl::string_view>> pairs;
      for (const std::string& name : node->group_by) {
        absl::string_view v = sa.alert.labels.Get(name);
        if (!v.empty()) pairs.emplace_back(name, v);
      }
      glabels = model::Labels::FromPairs(pairs);
    }
    std::string key = absl::StrCat(node->key, ":", glabels.ToString());
    std::string id = GroupId(node->receiver, key);
    std::unique_ptr<Group>& gp = groups_[id];
    if (gp == nullptr) {
      gp = std::make_unique<Group>();
      gp->id = id;
      gp->key = std::move(key);
      gp->receiver = node->receiver;
      gp->labels = std::move(glabels);
      gp->route = node;
      gp->next_flush = now + node->group_wait;
    }
    Group& g = *gp;
    if (g.alerts.insert(fp).second) ++sa.groups;
    // An alert that started more than group_wait ago need not wait.
    if (!g.has_flushed && sa.alert.starts_at + node->group_wait < now &&
        g.next_flush > now) {
      g.next_flush = now;
    }
  }
}

void Router::RemoveFromGroupLocked(Group& g, uint64_t fp) {
  if (g.alerts.erase(fp) == 0) return;
  auto it = store_.find(fp);
  if (it == store_.end()) return;
  if (--it->second.groups > 0) return;
  for (InhibitRule& rule : tree_->inhibit) rule.sources.erase(fp);
  store_.erase(it);
  store_dirty_ = true;
}

bool Router::Inhibited(const model::Labels& labels) const {
  absl::MutexLock l(&mu_);
  if (tree_ == nullptr) return false;
  return InhibitedLocked(labels, Now());
}

bool Router::InhibitedLocked(const model::Labels& labels,
                             absl::Time now) const {
  for (const InhibitRule& rule : tree_->inhibit) {
    if (!AllMatch(rule.target, labels)) continue;
    // An alert matching both sides is not inhibited by alerts that also
    // match both sides (Alertmanager: no two-sided self-inhibition).
    const bool both_sides = AllMatch(rule.source, labels);
    for (uint64_t fp : rule.sources) {
      auto it = store_.find(fp);
      if (it == store_.end()) continue;
      const Alert& src = it->second.alert;
      if (src.ResolvedAt(now)) continue;
      bool equal = true;
      for (const std::string& name : rule.equal) {
        if (src.labels.Get(name) != labels.Get(name)) {
          equal = false;
          break;
        }
      }
      if (!equal) continue;
      if (both_sides && AllMatch(rule.target, src.labels)) continue;
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Flushing and delivery.

void Router::Tick() {
  const absl::Time now = Now();
  std::string data;
  bool persist = false;
  {
    absl::MutexLock l(&mu_);
    if (stopped_ || tree_ == nullptr) return;
    std::vector<std::string> due;
    for (const auto& [id, g] : groups_) {
      if (g->next_flush <= now) due.push_back(id);
    }
    for (const std::string& id : due) {
      auto it = groups_.find(id);
      if (it == groups_.end()) continue;
      Group& g = *it->second;
      g.next_flush += g.route->group_interval;
      if (g.next_flush <= now) g.next_flush = now + g.route->group_interval;
      FlushLocked(g, now);
    }
    MaintainLocked(now);
    const absl::Time real_now = absl::Now();
    if (store_dirty_ &&
        (options_.manual_tick || real_now - last_persist_ >= kPersistEvery)) {
      data = EncodeStoreLocked();
      store_dirty_ = false;
      last_persist_ = real_now;
      persist = true;
    }
  }
  if (persist) PersistStore(std::move(data));
}

void Router::FlushLocked(Group& g, absl::Time now) {
  g.has_flushed = true;
  g.flush_seq = next_flush_seq_++;
  g.outstanding = 0;
  g.flush_failed = false;
  g.resolved_in_flush.clear();

  auto notification = std::make_shared<Notification>();
  notification->receiver = g.receiver;
  notification->group_key = g.key;
  notification->group_labels = g.labels;
  notification->now = now;
  notification->external_url = options_.external_url;
  std::vector<uint64_t> firing, resolved;
  uint64_t silenced = 0, inhibited = 0;
  for (uint64_t fp : g.alerts) {
    auto it = store_.find(fp);
    if (it == store_.end()) continue;
    const StoredAlert& sa = it->second;
    const bool is_resolved = sa.alert.ResolvedAt(now);
    if (is_resolved) g.resolved_in_flush.emplace_back(fp, sa.updated_at);
    if (InhibitedLocked(sa.alert.labels, now)) {
      ++inhibited;
      continue;
    }
    if (silences_->Mutes(sa.alert.labels, now)) {
      ++silenced;
      continue;
    }
    (is_resolved ? resolved : firing).push_back(fp);
    notification->alerts.push_back(sa.alert);
  }
  if (silenced + inhibited > 0) {
    absl::MutexLock l(&stats_mu_);
    stats_.alerts_silenced += silenced;
    stats_.alerts_inhibited += inhibited;
  }
  std::sort(notification->alerts.begin(), notification->alerts.end(),
            [](const Alert& a, const Alert& b) { return a.labels < b.labels; });

  auto wit = tree_->workers.find(g.receiver);
  if (!notification->alerts.empty() && wit != tree_->workers.end()) {
    const absl::Duration timeout =
        std::min(std::max(g.route->group_interval, kMinDeliveryTimeout),
                 tree_->retry_give_up);
    for (auto& w : wit->second) {
      Job job;
      job.group_id = g.id;
      job.group_key = g.key;
      job.flush_seq = g.flush_seq;
      job.notification = notification;
      job.firing = firing;
      job.resolved = resolved;
      job.repeat_interval = g.route->repeat_interval;
      job.timeout = timeout;
      {
        absl::MutexLock l(&idle_mu_);
        ++jobs_pending_;
      }
      switch (w->Enqueue(std::move(job))) {
        case Worker::EnqueueResult::kQueued:
          ++g.outstanding;
          break;
        case Worker::EnqueueResult::kReplaced: {
          // The replaced job belonged to an earlier flush of this group.
          ++g.outstanding;
          absl::MutexLock l(&idle_mu_);
          --jobs_pending_;
          break;
        }
        case Worker::EnqueueResult::kRefused: {
          g.flush_failed = true;
          absl::MutexLock l(&idle_mu_);
          --jobs_pending_;
          break;
        }
      }
    }
  }
  if (g.outstanding == 0 && !g.flush_failed) {
    // Nothing to deliver (all muted, or no integrations): the flush is done.
    JobDoneLocked(g);
  }
}

void Router::JobDoneLocked(Group& g) {
  for (const auto& [fp, updated] : g.resolved_in_flush) {
    auto it = store_.find(fp);
    if (it == store_.end() || it->second.updated_at != updated) continue;
    RemoveFromGroupLocked(g, fp);
  }
  g.resolved_in_flush.clear();
  if (g.alerts.empty()) {
    const std::string id = g.id;
    groups_.erase(id);  // Destroys g.
  }
}

bool Router::RunJob(Worker& w, Job& job) {
  const Notification& n = *job.notification;
  Integration& integration = w.integration();
  const bool send_resolved = integration.send_resolved();
  std::optional<NflogEntry> entry =
      nflog_->Get(w.receiver(), w.index(), job.group_key);
  if (!NeedsUpdate(entry ? &*entry : nullptr, job.firing, job.resolved,
                   send_resolved, job.repeat_interval, n.now)) {
    return true;
  }
  std::shared_ptr<const Notification> to_send = job.notification;
  if (!send_resolved) {
    auto filtered = std::make_shared<Notification>(n);
    filtered->alerts.erase(
        std::remove_if(filtered->alerts.begin(), filtered->alerts.end(),
                       [&](const Alert& a) { return a.ResolvedAt(n.now); }),
        filtered->alerts.end());
    to_send = filtered;
  }
  NflogEntry logged{job.firing, job.resolved, n.now};
  if (to_send->alerts.empty()) {
    // Only resolved alerts and the integration does not want them: record
    // them so the log forgets the firing ones.
    absl::Status st =
        nflog_->Log(w.receiver(), w.index(), job.group_key, std::move(logged));
    if (!st.ok())
      LogWarn("router", "writing the notification log failed").Kv("err", st);
    return true;
  }
  if (w.cancel()->load()) return false;

  DeliveryRecord rec;
  rec.time = Now();
  rec.receiver = w.receiver();
  rec.integration = integration.kind();
  rec.integration_index = w.index();
  rec.group_key = job.group_key;
  rec.firing = to_send->Firing();
  rec.alerts = static_cast<int>(to_send->alerts.size());
  const absl::Time start = absl::Now();
  absl::Status st = integration.Notify(*to_send, start + job.timeout,
                                       w.cancel(), &rec.attempts);
  rec.duration = absl::Now() - start;
  rec.ok = st.ok();
  if (!st.ok()) rec.error = std::string(st.message());
  if (st.ok()) {
    absl::Status ls =
        nflog_->Log(w.receiver(), w.index(), job.group_key, std::move(logged));
    if (!ls.ok())
      LogWarn("router", "writing the notification log failed").Kv("err", ls);
  } else {
    LogWarn("router", "notification failed")
        .Kv("receiver", rec.receiver)
        .Kv("integration",
            absl::StrCat(rec.integration, "[", rec.integration_index, "]"))
        .Kv("group", rec.group_key)
        .Kv("attempts", rec.attempts)
        .Kv("err", st);
  }
  absl::MutexLock l(&stats_mu_);
  (st.ok() ? stats_.notifications_sent
           : stats_.notifications_failed)[rec.integration]++;
  recent_.push_back(std::move(rec));
  while (recent_.size() > options_.max_recent_deliveries) recent_.pop_front();
  return st.ok();
}

void Router::JobDone(const std::string& group_id, uint64_t flush_seq, bool ok) {
  {
    absl::MutexLock l(&mu_);
    auto it = groups_.find(group_id);
    if (!stopped_ && it != groups_.end() &&
        it->second->flush_seq == flush_seq) {
      Group& g = *it->second;
      if (!ok) g.flush_failed = true;
      if (--g.outstanding == 0 && !g.flush_failed) JobDoneLocked(g);
    }
  }
  absl::MutexLock l(&idle_mu_);
  --jobs_pending_;
}

bool Router::WaitIdle(absl::Duration timeout) {
  absl::MutexLock l(&idle_mu_);
  return idle_mu_.AwaitWithTimeout(
      absl::Condition(
          +[](int* n) { return *n == 0; }, &jobs_pending_),
      timeout);
}

// ---------------------------------------------------------------------------
// Maintenance and persistence.

void Router::MaintainLocked(absl::Time now) {
  // Resolved alerts no group holds (normally removed with their last group).
  std::vector<uint64_t> drop;
  for (const auto& [fp, sa] : store_) {
    if (sa.groups == 0 && sa.alert.ResolvedAt(now)) drop.push_back(fp);
  }
  for (uint64_t fp : drop) {
    for (InhibitRule& rule : tree_->inhibit) rule.sources.erase(fp);
    store_.erase(fp);
    store_dirty_ = true;
  }
  if (now - last_gc_ >= kGcEvery) {
    last_gc_ = now;
    silences_->Gc(now, options_.retention);
    if (absl::Status st = nflog_->Gc(now, options_.retention); !st.ok()) {
      LogWarn("router", "compacting the notification log failed").Kv("err", st);
    }
  }
}

std::string Router::EncodeStoreLocked() const {
  std::string payload;
  PutUvarint(&payload, store_.size());
  for (const auto& [fp, sa] : store_) {
    codec::PutAlert(&payload, sa.alert);
    codec::PutTime(&payload, sa.updated_at);
    PutUvarint(&payload, sa.timeout ? 1 : 0);
  }
  return codec::Frame(kStoreMagic, payload);
}

absl::Status Router::LoadStore() {
  const std::string path = absl::StrCat(options_.data_dir, "/", kStoreFile);
  absl::StatusOr<std::string> data = ReadFile(path);
  if (absl::IsNotFound(data.status())) return absl::OkStatus();
  if (!data.ok()) return data.status();
  absl::string_view payload;
  if (!codec::Unframe(kStoreMagic, *data, &payload)) {
    // The file is replaced atomically, so this is not a torn write: start
    // empty rather than refuse to run; the rule evaluator re-sends firing
    // alerts within a minute.
    LogError("router", "alert store file is damaged; starting with no alerts")
        .Kv("file", path);
    return absl::OkStatus();
  }
  codec::Reader r(payload);
  uint64_t n = r.Uvarint();
  absl::MutexLock l(&mu_);
  for (uint64_t i = 0; r.ok() && i < n; ++i) {
    StoredAlert sa;
    sa.alert = r.ReadAlert();
    sa.updated_at = r.Time();
    sa.timeout = r.Uvarint() != 0;
    if (!r.ok() || sa.alert.labels.empty()) break;
    store_[Fingerprint(sa.alert.labels)] = std::move(sa);
  }
  if (!r.ok()) {
    LogError("router",
             "alert store file is damaged; some alerts were not loaded")
        .Kv("file", path);
  }
  return absl::OkStatus();
}

void Router::PersistStore(std::string data) {
  absl::MutexLock l(&persist_mu_);
  const std::string path = absl::StrCat(options_.data_dir, "/", kStoreFile);
  if (absl::Status st = WriteFileAtomic(path, data); !st.ok()) {
    LogError("router", "persisting the alert store failed").Kv("err", st);
    absl::MutexLock ml(&mu_);
    store_dirty_ = true;
  }
}

void Router::TimerLoop() {
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (stopped_) return;
      absl::Time deadline = Now() + kMaxSleep;
      for (const auto& [id, g] : groups_)
        deadline = std::min(deadline, g->next_flush);
      mu_.AwaitWithDeadline(
          absl::Condition(
              +[](Router* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
                return r->wake_ || r->stopped_;
              },
              this),
          deadline);
      if (stopped_) return;
      wake_ = false;
    }
    Tick();
  }
}

// ---------------------------------------------------------------------------
// Introspection.

std::vector<DeliveryRecord> Router::RecentDeliveries() const {
  absl::MutexLock l(&stats_mu_);
  return std::vector<DeliveryRecord>(recent_.begin(), recent_.end());
}

RouterStats Router::Stats() const {
  absl::MutexLock l(&stats_mu_);
  return stats_;
}

std::vector<GroupInfo> Router::Groups() const {
  absl::MutexLock l(&mu_);
  std::vector<GroupInfo> out;
  for (const auto& [id, g] : groups_) {
    GroupInfo gi;
    gi.key = g->key;
    gi.receiver = g->receiver;
    gi.labels = g->labels;
    gi.next_flush = g->next_flush;
    for (uint64_t fp : g->alerts) {
      auto it = store_.find(fp);
      if (it != store_.end()) gi.alerts.push_back(it->second.alert);
    }
    std::sort(
        gi.alerts.begin(), gi.alerts.end(),
        [](const Alert& a, const Alert& b) { return a.labels < b.labels; });
    out.push_back(std::move(gi));
  }
  std::sort(out.begin(), out.end(), [](const GroupInfo& a, const GroupInfo& b) {
    return a.key < b.key;
  });
  return out;
}

std::vector<Alert> Router::Alerts() const {
  absl::MutexLock l(&mu_);
  std::vector<Alert> out;
  for (const auto& [fp, sa] : store_) out.push_back(sa.alert);
  std::sort(out.begin(), out.end(),
            [](const Alert& a, const Alert& b) { return a.labels < b.labels; });
  return out;
}

}  // namespace vigil::alerting
