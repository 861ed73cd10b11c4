#include "alerting/notifier.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "alerting/payloads.h"
#include "base/logging.h"

namespace vigil::alerting {
namespace {

constexpr char kComponent[] = "notifier";

// go-openapi's strfmt.DateTime: RFC 3339 with milliseconds (truncated),
// here always in UTC as Prometheus's evaluation timestamps are. Unset
// (infinite) times are Go's zero time.
void AppendDateTime(absl::Time t, std::string* out) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    out->append("\"0001-01-01T00:00:00.000Z\"");
    return;
  }
  out->push_back('"');
  out->append(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()));
  out->push_back('"');
}

void AppendAlertV2(const Alert& a, std::string* out) {
  out->push_back('{');
  if (!a.annotations.empty()) {
    // A Go map: keys sorted.
    std::vector<const std::pair<std::string, std::string>*> sorted;
    sorted.reserve(a.annotations.size());
    for (const auto& kv : a.annotations) sorted.push_back(&kv);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto* x, const auto* y) { return x->first < y->first; });
    out->append("\"annotations\":{");
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString(sorted[i]->first, out);
      out->push_back(':');
      AppendJsonString(sorted[i]->second, out);
    }
    out->append("},");
  }
  out->append("\"endsAt\":");
  AppendDateTime(a.ends_at, out);
  out->append(",\"startsAt\":");
  AppendDateTime(a.starts_at, out);
  if (!a.generator_url.empty()) {
    out->append(",\"generatorURL\":");
    AppendJsonString(a.generator_url, out);
  }
  out->append(",\"labels\":{");
  bool first = true;
  for (const model::Label& l : a.labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(l.name.view(), out);
    out->push_back(':');
    AppendJsonString(l.value.view(), out);
  }
  out->append("}}");
}

}  // namespace

std::string EncodeAlertsV2(const std::vector<Alert>& alerts) {
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendAlertV2(alerts[i], &out);
  }
  out.push_back(']');
  return out;
}

Notifier::Notifier(NotifierOptions options)
    : options_(std::move(options)), sets_(std::make_shared<const Sets>()) {
  thread_ = std::thread([this] { Run(); });
}

Notifier::~Notifier() { Stop(); }

void Notifier::Send(std::vector<Alert> alerts) {
  std::vector<Alert> kept;
  kept.reserve(alerts.size());
  for (Alert& a : alerts) {
    if (!options_.external_labels.empty()) {
      model::LabelsBuilder b(a.labels);
      for (const model::Label& l : options_.external_labels) {
        if (!a.labels.Has(l.name.view())) b.Set(l.name.view(), l.value.view());
      }
      a.labels = b.Build();
    }
    if (options_.relabel) {
      std::optional<model::Labels> relabeled = options_.relabel(a.labels);
      if (!relabeled.has_value()) continue;
      a.labels = *std::move(relabeled);
    }
    if (a.labels.empty()) continue;
    kept.push_back(std::move(a));
  }
  if (kept.empty()) return;

  const size_t capacity = options_.queue_capacity;
  size_t too_many = 0;   // Of this call's alerts, beyond the capacity.
  size_t overflow = 0;   // Queued alerts pushed out.
  {
    absl::MutexLock l(&mu_);
    if (stopping_) {
      dropped_ += kept.size();
      return;
    }
    if (kept.size() > capacity) too_many = kept.size() - capacity;
    const size_t incoming = kept.size() - too_many;
    if (queue_.size() + incoming > capacity) {
      overflow = queue_.size() + incoming - capacity;
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(overflow));
    }
    dropped_ += too_many + overflow;
    for (size_t i = too_many; i < kept.size(); ++i) queue_.push_back(std::move(kept[i]));
  }
  if (too_many > 0) {
    LogWarn(kComponent, "Alert batch larger than queue capacity, dropping alerts")
        .Kv("num_dropped", too_many);
  }
  if (overflow > 0) {
    LogWarn(kComponent, "Alert notification queue full, dropping alerts")
        .Kv("num_dropped", overflow);
  }
}

void Notifier::SetAlertmanagers(std::vector<AlertmanagerSet> sets) {
  for (AlertmanagerSet& s : sets) {
    absl::flat_hash_set<std::string> seen;
    std::vector<std::string> unique;
    for (std::string& u : s.urls) {
      if (seen.insert(u).second) unique.push_back(std::move(u));
    }
    s.urls = std::move(unique);
  }
  auto fresh = std::make_shared<const Sets>(std::move(sets));
  absl::MutexLock l(&mu_);
  for (const AlertmanagerSet& s : *fresh) {
    for (const std::string& u : s.urls) stats_.try_emplace(u);
  }
  sets_ = std::move(fresh);
}

std::vector<std::string> Notifier::Alertmanagers() const {
  std::shared_ptr<const Sets> sets;
  {
    absl::MutexLock l(&mu_);
    sets = sets_;
  }
  std::vector<std::string> out;
  for (const AlertmanagerSet& s : *sets) out.insert(out.end(), s.urls.begin(), s.urls.end());
  return out;
}

std::vector<std::string> Notifier::DroppedAlertmanagers() const {
  std::shared_ptr<const Sets> sets;
  {
    absl::MutexLock l(&mu_);
    sets = sets_;
  }
  std::vector<std::string> out;
  for (const AlertmanagerSet& s : *sets) {
    out.insert(out.end(), s.dropped_urls.begin(), s.dropped_urls.end());
  }
  return out;
}

NotifierStats Notifier::Stats() const {
  NotifierStats st;
  absl::MutexLock l(&mu_);
  st.alertmanagers = stats_;
  st.dropped_total = dropped_;
  st.queue_length = queue_.size();
  st.queue_capacity = options_.queue_capacity;
  for (const AlertmanagerSet& s : *sets_) st.alertmanagers_discovered += s.urls.size();
  return st;
}

void Notifier::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (!stopping_) LogInfo(kComponent, "Stopping notification manager...");
    stopping_ = true;
  }
  absl::MutexLock j(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

bool Notifier::Stopping() const {
  absl::MutexLock l(&mu_);
  return stopping_;
}

std::vector<Alert> Notifier::NextBatchLocked() {
  const size_t n = std::min(queue_.size(), kMaxAlertBatch);
  std::vector<Alert> batch(std::make_move_iterator(queue_.begin()),
                           std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
  return batch;
}

void Notifier::Run() {
  auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  };
  for (;;) {
    std::vector<Alert> batch;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(&has_work));
      if (stopping_) break;
      batch = NextBatchLocked();
    }
    SendBatch(batch, absl::InfiniteFuture());
  }

  // Shutting down: send what is queued until the drain deadline.
  const absl::Time deadline = absl::Now() + options_.drain_timeout;
  bool announced = false;
  for (;;) {
    std::vector<Alert> batch;
    {
      absl::MutexLock l(&mu_);
      if (queue_.empty()) break;
      if (absl::Now() >= deadline) {
        LogWarn(kComponent, "Drain deadline passed, dropping queued alerts")
            .Kv("num_dropped", queue_.size());
        dropped_ += queue_.size();
        queue_.clear();
        break;
      }
      if (!announced) {
        LogInfo(kComponent, "Draining any remaining notifications...")
            .Kv("count", queue_.size());
        announced = true;
      }
      batch = NextBatchLocked();
    }
    SendBatch(batch, deadline);
  }
  LogInfo(kComponent, "Notification manager stopped");
}

void Notifier::SendBatch(const std::vector<Alert>& batch, absl::Time deadline) {
  if (SendAll(batch, deadline)) return;
  absl::MutexLock l(&mu_);
  dropped_ += batch.size();
}

bool Notifier::SendAll(const std::vector<Alert>& batch, absl::Time deadline) {
  if (batch.empty()) return true;
  std::shared_ptr<const Sets> sets;
  {
    absl::MutexLock l(&mu_);
    sets = sets_;
  }
  struct Target {
    const AlertmanagerSet* set;
    const std::string* url;
  };
  std::vector<Target> targets;
  for (const AlertmanagerSet& s : *sets) {
    for (const std::string& u : s.urls) targets.push_back({&s, &u});
  }
  if (targets.empty()) return false;

  const std::string payload = EncodeAlertsV2(batch);
  const absl::Time begin = absl::Now();
  std::atomic<size_t> successes{0};

  auto post = [&](const Target& t) {
    absl::Status status;
    HttpPost req;
    req.url = *t.url;
    req.body = payload;
    req.timeout = std::min(t.set->timeout, deadline - absl::Now());
    req.http = t.set->http;
    if (!options_.user_agent.empty()) req.headers.emplace_back("User-Agent", options_.user_agent);
    if (options_.sender == nullptr) {
      status = absl::FailedPreconditionError("no HTTP sender");
    } else if (req.timeout <= absl::ZeroDuration()) {
      status = absl::DeadlineExceededError("drain deadline passed");
    } else {
      absl::StatusOr<HttpReply> reply = options_.sender->Post(req);
      if (!reply.ok()) {
        status = reply.status();
      } else if (reply->status / 100 != 2) {
        status = absl::UnavailableError(absl::StrCat("bad response status ", reply->status));
      }
    }
    const absl::Duration took = absl::Now() - begin;
    {
      absl::MutexLock l(&mu_);
      AlertmanagerStats& s = stats_[*t.url];
      s.sent += batch.size();
      if (!status.ok()) ++s.errors;
      s.latency_seconds_sum += absl::ToDoubleSeconds(took);
      ++s.latency_count;
    }
    if (status.ok()) {
      successes.fetch_add(1, std::memory_order_relaxed);
    } else {
      LogError(kComponent, "Error sending alert")
          .Kv("alertmanager", *t.url)
          .Kv("count", batch.size())
          .Kv("err", status);
    }
    if (options_.observe_latency) options_.observe_latency(*t.url, took);
  };

  // One thread per Alertmanager but the first, which this thread serves,
  // so that a slow one delays no other.
  std::vector<std::thread> threads;
  threads.reserve(targets.size() - 1);
  for (size_t i = 1; i < targets.size(); ++i) threads.emplace_back(post, std::cref(targets[i]));
  post(targets[0]);
  for (std::thread& th : threads) th.join();
  return successes.load() > 0;
}

}  // namespace vigil::alerting
