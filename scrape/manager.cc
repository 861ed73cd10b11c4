#include "scrape/manager.h"

#include <algorithm>
#include <optional>
#include <queue>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/logging.h"
#include "base/worker_pool.h"
#include "scrape/discovery.h"
#include "scrape/http_client.h"

namespace vigil::scrape {
namespace {

// What happens to a loop being stopped.
enum class StopMode {
  kStale,     // Its target vanished: stale markers now.
  kSilent,    // Shutdown: no markers.
  kHandOver,  // Replaced by a loop for the same target (config reload).
};

// A loop plus the scheduling state the manager keeps for it.
struct Handle {
  std::shared_ptr<ScrapeLoop> loop;
  uint64_t hash = 0;
  absl::Mutex mu;
  bool running ABSL_GUARDED_BY(mu) = false;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  // Set while running when a stop was asked for; done by the completion.
  std::optional<StopMode> pending_stop ABSL_GUARDED_BY(mu);
  std::shared_ptr<Handle> successor ABSL_GUARDED_BY(mu);
  absl::Time due;  // Scheduler thread only.
};

struct Due {
  absl::Time at;
  std::shared_ptr<Handle> handle;
  bool operator>(const Due& o) const { return at > o.at; }
};

// The first time >= now that is `offset` past a multiple of `interval`.
absl::Time FirstSlot(absl::Time now, absl::Duration interval, uint64_t hash) {
  const int64_t iv = absl::ToInt64Nanoseconds(interval);
  if (iv <= 0) return now;
  const int64_t offset = static_cast<int64_t>(hash % static_cast<uint64_t>(iv));
  const int64_t n = absl::ToUnixNanos(now);
  int64_t base = n - (n % iv) + offset;
  if (base < n) base += iv;
  return absl::FromUnixNanos(base);
}

}  // namespace

class Manager::Impl {
 public:
  explicit Impl(ManagerOptions options)
      : opts_(std::move(options)),
        client_(std::make_unique<HttpClient>(opts_.io_threads)),
        pool_(std::make_unique<WorkerPool>(opts_.worker_threads, "scrape")) {
    discovery_ = std::make_unique<Discovery>(
        client_.get(),
        [this](const std::map<std::string, std::vector<config::TargetGroup>>& groups) {
          OnDiscovery(groups);
        });
    scheduler_ = std::thread([this] { RunScheduler(); });
  }

  ~Impl() { Stop(); }

  absl::Status ApplyConfig(const std::vector<config::ScrapeConfig>& jobs) {
    std::map<std::string, std::shared_ptr<const JobState>> next;
    {
      absl::MutexLock l(&mu_);
      for (const config::ScrapeConfig& cfg : jobs) {
        auto old = jobs_.find(cfg.job_name);
        if (old != jobs_.end() && config::SameScrapeConfig(old->second->config, cfg)) {
          next[cfg.job_name] = old->second;
          continue;
        }
        auto state = std::make_shared<JobState>();
        state->config = cfg;
        absl::StatusOr<Relabeler> tr = Relabeler::Compile(cfg.relabel_configs);
        if (!tr.ok()) return tr.status();
        absl::StatusOr<Relabeler> mr = Relabeler::Compile(cfg.metric_relabel_configs);
        if (!mr.ok()) return mr.status();
        state->target_relabel = *std::move(tr);
        state->metric_relabel = *std::move(mr);
        next[cfg.job_name] = std::move(state);
      }
      // Removed jobs: their targets are gone.
      for (auto& [job, loops] : loops_) {
        if (next.contains(job)) continue;
        for (auto& [hash, h] : loops) StopLoop(h, StopMode::kStale, nullptr);
      }
      for (auto it = loops_.begin(); it != loops_.end();) {
        if (next.contains(it->first)) {
          ++it;
        } else {
          dropped_.erase(it->first);
          it = loops_.erase(it);
        }
      }
      jobs_ = next;
      // Changed jobs re-sync against the groups they had.
      for (auto& [job, groups] : groups_) {
        if (next.contains(job)) SyncJobLocked(job, groups);
      }
      for (auto it = groups_.begin(); it != groups_.end();) {
        it = next.contains(it->first) ? std::next(it) : groups_.erase(it);
      }
    }
    discovery_->ApplyConfig(jobs);
    return absl::OkStatus();
  }

  void RefreshDiscovery() { discovery_->RefreshNow(); }

  void Stop() {
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    discovery_->Stop();
    {
      absl::MutexLock l(&mu_);
      for (auto& [job, loops] : loops_) {
        for (auto& [hash, h] : loops) StopLoop(h, StopMode::kSilent, nullptr);
      }
      loops_.clear();
      sched_cv_.SignalAll();
    }
    scheduler_.join();
    client_.reset();  // Cancels scrapes in flight; their completions are dropped.
    pool_->Shutdown();
  }

  std::vector<TargetStatus> ActiveTargets() const {
    absl::MutexLock l(&mu_);
    std::vector<TargetStatus> out;
    for (const auto& [job, loops] : loops_) {
      for (const auto& [hash, h] : loops) out.push_back(h->loop->Status());
    }
    return out;
  }

  std::vector<DroppedTarget> DroppedTargets() const {
    absl::MutexLock l(&mu_);
    std::vector<DroppedTarget> out;
    for (const auto& [job, specs] : dropped_) {
      for (const model::Labels& d : specs) out.push_back(DroppedTarget{job, d});
    }
    return out;
  }

  std::vector<TargetMetadata> Metadata() const {
    std::vector<std::shared_ptr<ScrapeLoop>> loops;
    {
      absl::MutexLock l(&mu_);
      for (const auto& [job, ls] : loops_) {
        for (const auto& [hash, h] : ls) loops.push_back(h->loop);
      }
    }
    std::vector<TargetMetadata> out;
    for (const auto& loop : loops) {
      for (MetricMetadata& md : loop->Metadata()) {
        out.push_back(TargetMetadata{loop->target().labels, std::move(md)});
      }
    }
    return out;
  }

  ScrapeStats Stats() const {
    absl::MutexLock l(&mu_);
    ScrapeStats s = stats_;
    s.targets = 0;
    for (const auto& [job, loops] : loops_) s.targets += static_cast<int64_t>(loops.size());
    return s;
  }

 private:
  void OnDiscovery(const std::map<std::string, std::vector<config::TargetGroup>>& groups) {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    for (const auto& [job, gs] : groups) {
      if (!jobs_.contains(job)) continue;
      groups_[job] = gs;
      SyncJobLocked(job, gs);
    }
  }

  // Brings `job`'s loops in line with `groups`.
  void SyncJobLocked(const std::string& job, const std::vector<config::TargetGroup>& groups)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::shared_ptr<const JobState>& state = jobs_.at(job);
    std::map<uint64_t, TargetSpec> specs;
    std::vector<model::Labels> dropped;
    for (const config::TargetGroup& g : groups) {
      for (const model::Labels& t : g.targets) {
        absl::StatusOr<TargetSpec> spec =
            PopulateTarget(state->config, state->target_relabel, g.labels, t);
        if (!spec.ok()) {
          LogWarn("scrape", "creating target failed")
              .Kv("job", job)
              .Kv("target", t.ToString())
              .Kv("err", spec.status());
          continue;
        }
        if (!spec->kept) {
          dropped.push_back(spec->discovered);
          continue;
        }
        uint64_t h = TargetHash(*spec);
        specs.emplace(h, *std::move(spec));  // Duplicates collapse, as in Prometheus.
      }
    }
    dropped_[job] = std::move(dropped);
    auto& loops = loops_[job];
    const uint64_t limit = state->config.target_limit;
    if (limit > 0 && specs.size() > limit) {
      // As Prometheus: the targets stay, and each scrape fails without
      // being attempted.
      limit_errors_[job] = absl::ResourceExhaustedError(
          absl::StrCat("target_limit exceeded (number of targets: ", specs.size(),
                       ", limit: ", limit, ")"));
    } else {
      limit_errors_.erase(job);
    }
    // Gone or replaced.
    for (auto it = loops.begin(); it != loops.end();) {
      auto s = specs.find(it->first);
      if (s == specs.end()) {
        StopLoop(it->second, StopMode::kStale, nullptr);
        it = loops.erase(it);
        continue;
      }
      if (it->second->loop->job() != state) {
        auto h = NewHandle(state, s->second, it->first);
        StopLoop(it->second, StopMode::kHandOver, h);
        it->second = h;
      }
      ++it;
    }
    for (auto& [hash, spec] : specs) {
      if (loops.contains(hash)) continue;
      auto h = NewHandle(state, spec, hash);
      loops.emplace(hash, h);
      ScheduleFirstLocked(h);
    }
  }

  std::shared_ptr<Handle> NewHandle(const std::shared_ptr<const JobState>& state,
                                    const TargetSpec& spec, uint64_t hash) {
    auto h = std::make_shared<Handle>();
    h->loop = std::make_shared<ScrapeLoop>(state, spec, opts_.appender);
    h->hash = hash;
    return h;
  }

  // Stops `h`. For kHandOver, `next` takes over its state and is scheduled
  // once the handover is done (now, or when h's scrape in flight ends).
  void StopLoop(const std::shared_ptr<Handle>& h, StopMode mode, std::shared_ptr<Handle> next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::MutexLock hl(&h->mu);
    if (h->stopped) return;
    h->stopped = true;
    if (h->running) {
      h->pending_stop = mode;
      h->successor = std::move(next);
      return;
    }
    FinishStop(h.get(), mode, next);
  }

  // REQUIRES: h->mu held (or h unreachable by others); mu_ held.
  void FinishStop(Handle* h, StopMode mode, const std::shared_ptr<Handle>& next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    switch (mode) {
      case StopMode::kStale: {
        // Markers are appended off the caller's thread.
        std::shared_ptr<ScrapeLoop> loop = h->loop;
        pool_->Submit([loop] { loop->Stop(absl::Now()); });
        break;
      }
      case StopMode::kSilent:
        break;
      case StopMode::kHandOver:
        h->loop->HandOver(next->loop.get());
        ScheduleFirstLocked(next);
        break;
    }
  }

  // A new loop's first scrape: the next slot of its target's grid.
  void ScheduleFirstLocked(const std::shared_ptr<Handle>& h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ScheduleLocked(h, FirstSlot(absl::Now(), h->loop->target().interval,
                                h->hash ^ opts_.offset_seed));
  }

  void ScheduleLocked(const std::shared_ptr<Handle>& h, absl::Time at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    heap_.push(Due{at, h});
    sched_cv_.Signal();
  }

  void RunScheduler() {
    absl::MutexLock l(&mu_);
    while (!stopping_) {
      if (heap_.empty()) {
        sched_cv_.Wait(&mu_);
        continue;
      }
      const absl::Time now = absl::Now();
      if (heap_.top().at > now) {
        sched_cv_.WaitWithDeadline(&mu_, heap_.top().at);
        continue;
      }
      Due d = heap_.top();
      heap_.pop();
      {
        absl::MutexLock hl(&d.handle->mu);
        if (d.handle->stopped) continue;
        d.handle->running = true;
      }
      d.handle->due = d.at;
      StartScrape(d.handle);
    }
    while (!heap_.empty()) heap_.pop();
  }

  void StartScrape(const std::shared_ptr<Handle>& h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time start = absl::Now();
    if (auto it = limit_errors_.find(h->loop->job()->config.job_name);
        it != limit_errors_.end()) {
      absl::Status err = it->second;
      pool_->Submit([this, h, start, err] { Complete(h, start, absl::ZeroDuration(), err, &err); });
      return;
    }
    client_->Get(h->loop->MakeRequest(),
                 [this, h, start](absl::StatusOr<HttpClient::Response> resp) {
                   const absl::Duration took = absl::Now() - start;
                   auto shared = std::make_shared<absl::StatusOr<HttpClient::Response>>(
                       std::move(resp));
                   pool_->Submit([this, h, start, took, shared] {
                     Complete(h, start, took, *shared, nullptr);
                   });
                 });
  }

  void Complete(const std::shared_ptr<Handle>& h, absl::Time start, absl::Duration took,
                const absl::StatusOr<HttpClient::Response>& resp, const absl::Status* forced) {
    // `forced`: the scrape was not attempted (target_limit).
    bool silent;
    {
      absl::MutexLock hl(&h->mu);
      silent = h->stopped && h->pending_stop == StopMode::kSilent;
    }
    absl::Status s;
    if (!silent) {
      s = forced != nullptr ? h->loop->ProcessError(*forced, start, took)
                            : h->loop->Process(resp, start, took);
    }
    absl::MutexLock l(&mu_);
    stats_.scrapes++;
    if (!s.ok()) stats_.failed++;
    stats_.samples += h->loop->last_counts().post_relabel;
    absl::MutexLock hl(&h->mu);
    h->running = false;
    if (h->stopped) {
      if (h->pending_stop.has_value()) {
        FinishStop(h.get(), *h->pending_stop, h->successor);
        h->pending_stop.reset();
        h->successor.reset();
      }
      return;
    }
    // The next slot after now on this target's grid.
    const absl::Duration iv = h->loop->target().interval;
    absl::Time next = h->due + iv;
    const absl::Time now = absl::Now();
    if (next < now && iv > absl::ZeroDuration()) next += iv * ((now - next) / iv + 1);
    ScheduleLocked(h, next);
  }

  const ManagerOptions opts_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<Discovery> discovery_;
  std::thread scheduler_;

  mutable absl::Mutex mu_;
  absl::CondVar sched_cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::shared_ptr<const JobState>> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<config::TargetGroup>> groups_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<uint64_t, std::shared_ptr<Handle>>> loops_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<model::Labels>> dropped_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> limit_errors_ ABSL_GUARDED_BY(mu_);
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> heap_ ABSL_GUARDED_BY(mu_);
  ScrapeStats stats_ ABSL_GUARDED_BY(mu_);
};

Manager::Manager(ManagerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Manager::~Manager() { Stop(); }
absl::Status Manager::ApplyConfig(const std::vector<config::ScrapeConfig>& jobs) {
  return impl_->ApplyConfig(jobs);
}
void Manager::RefreshDiscovery() { impl_->RefreshDiscovery(); }
void Manager::Stop() { impl_->Stop(); }
std::vector<TargetStatus> Manager::ActiveTargets() const { return impl_->ActiveTargets(); }
std::vector<DroppedTarget> Manager::DroppedTargets() const { return impl_->DroppedTargets(); }
std::vector<TargetMetadata> Manager::Metadata() const { return impl_->Metadata(); }
ScrapeStats Manager::Stats() const { return impl_->Stats(); }

}  // namespace vigil::scrape
