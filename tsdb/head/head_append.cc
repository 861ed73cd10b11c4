// The head's Appender: validation, ordering checks, WAL-then-apply commit.
#include <bit>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tsdb/head/head.h"
#include "tsdb/wal/record.h"

namespace vigil::tsdb {

class HeadAppender final : public Appender {
 public:
  HeadAppender(Head* head, const AppenderOptions& options)
      : head_(head), options_(options) {}
  ~HeadAppender() override { Rollback(); }

  absl::StatusOr<SeriesRef> Append(const model::Labels& labels, int64_t t,
                                   double v) override {
    uint64_t hash = labels.Hash();
    MemSeries* s = head_->LookupPinned(hash, labels);
    if (s == nullptr) {
      absl::Status valid = labels.Validate(head_->options_.require_metric_name);
      if (!valid.ok()) {
        head_->stats_.invalid_labels.fetch_add(1, std::memory_order_relaxed);
        return MakeAppendError(AppendError::kInvalidLabels, valid.message());
      }
      RETURN_IF_ERROR(CheckSeriesLimits());
      bool created;
      s = head_->GetOrCreatePinned(hash, labels, 0, &created);
      if (created) ++new_series_;
    }
    SeriesRef ref = s->ref;  // AddPinned may unpin (and so free) s.
    RETURN_IF_ERROR(AddPinned(s, t, v));
    return ref;
  }

  absl::Status Append(SeriesRef ref, int64_t t, double v) override {
    // The common case (the series exists, t is new) takes the stripe lock
    // once: lookup, order check and pin together. Anything else goes the
    // long way, which re-checks and builds the error.
    MemSeries* s;
    {
      Head::Stripe& st = head_->RefStripe(ref);
      absl::MutexLock lock(&st.mu);
      auto it = st.by_ref.find(ref);
      if (it == st.by_ref.end()) {
        return MakeAppendError(AppendError::kNotFound,
                               absl::StrCat("unknown series ref ", ref));
      }
      s = it->second.get();
      s->pins.fetch_add(1, std::memory_order_acq_rel);
      if ((!s->has_last || t > s->last_t) && t >= head_->MinValidTime()) {
        pending_.push_back(Pending{s, t, v});
        return absl::OkStatus();
      }
    }
    return AddPinned(s, t, v);
  }

  absl::Status Commit() override;
  void Rollback() override {
    for (const Pending& p : pending_) Head::Unpin(p.s);
    pending_.clear();
  }

 private:
  struct Pending {
    MemSeries* s;  // Pinned until Commit or Rollback.
    int64_t t;
    double v;
  };

  // Checks `t` against the series' committed samples and queues the
  // sample. Takes over the pin: on error it is released.
  absl::Status AddPinned(MemSeries* s, int64_t t, double v);

  absl::Status CheckSeriesLimits() const {
    if (options_.max_new_series > 0 && new_series_ >= options_.max_new_series) {
      return MakeAppendError(
          AppendError::kNewSeriesLimit,
          absl::StrCat("too many new series in one request (limit ", options_.max_new_series, ")"));
    }
    int64_t max = head_->options_.max_series;
    if (max > 0 && static_cast<int64_t>(head_->NumSeries()) >= max) {
      return MakeAppendError(AppendError::kSeriesLimit,
                             absl::StrCat("series limit of ", max, " reached"));
    }
    return absl::OkStatus();
  }

  Head* const head_;
  const AppenderOptions options_;
  int64_t new_series_ = 0;  // Created by this appender (all commits).
  std::vector<Pending> pending_;
  // Reused across commits to avoid allocations.
  std::vector<wal::RefSample> wal_samples_;
  std::vector<wal::Record> records_;
};

absl::Status HeadAppender::AddPinned(MemSeries* s, int64_t t, double v) {
  HeadStats& stats = head_->stats_;
  if (t < head_->MinValidTime()) {
    Head::Unpin(s);
    stats.out_of_bounds.fetch_add(1, std::memory_order_relaxed);
    return MakeAppendError(AppendError::kOutOfBounds,
                           absl::StrCat("out of bounds: sample at ", t,
                                        " is older than the head's minimum ",
                                        head_->MinValidTime()));
  }
  enum class Check { kOk, kExactDuplicate, kOutOfOrder, kDuplicate };
  Check check = Check::kOk;
  int64_t last_t;
  {
    Head::Stripe& st = head_->RefStripe(s->ref);
    absl::MutexLock lock(&st.mu);
    last_t = s->last_t;
    if (!s->has_last) {
      check = Check::kOk;
    } else if (t < last_t) {
      check = Check::kOutOfOrder;
    } else if (t == last_t) {
      check = s->last_v_bits == std::bit_cast<uint64_t>(v) ? Check::kExactDuplicate
                                                            : Check::kDuplicate;
    }
  }
  if (check == Check::kOk) {
    pending_.push_back(Pending{s, t, v});
    return absl::OkStatus();
  }
  absl::Status err;
  switch (check) {
    case Check::kOk:
    case Check::kExactDuplicate:  // Accepted and ignored, as in Prometheus.
      break;
    case Check::kOutOfOrder:
      stats.out_of_order.fetch_add(1, std::memory_order_relaxed);
      err = MakeAppendError(AppendError::kOutOfOrder,
                            absl::StrCat("out of order sample: t=", t,
                                         " is older than the last sample t=", last_t,
                                         " of ", s->labels.ToString()));
      break;
    case Check::kDuplicate:
      stats.duplicates.fetch_add(1, std::memory_order_relaxed);
      err = MakeAppendError(
          AppendError::kDuplicate,
          absl::StrCat("duplicate sample for timestamp ", t,
                       " with a different value, series ", s->labels.ToString()));
      break;
  }
  Head::Unpin(s);  // Last use of s: it may be collected from here on.
  return err;
}

absl::Status HeadAppender::Commit() {
  if (pending_.empty()) return absl::OkStatus();
  HeadStats& stats = head_->stats_;
  std::vector<MemSeries*> newly_logged;
  if (head_->wal_ != nullptr) {
    records_.clear();
    wal_samples_.clear();
    wal_samples_.reserve(pending_.size());
    std::string series_payload;
    absl::flat_hash_set<SeriesRef> in_batch;
    for (const Pending& p : pending_) {
      if (!p.s->wal_logged.load(std::memory_order_acquire) &&
          in_batch.insert(p.s->ref).second) {
        wal::EncodeSeries(p.s->ref, p.s->labels, &series_payload);
        newly_logged.push_back(p.s);
      }
      wal_samples_.push_back(wal::RefSample{p.s->ref, p.t, p.v});
    }
    if (!series_payload.empty()) {
      records_.push_back(wal::Record{wal::RecordType::kSeries, std::move(series_payload)});
    }
    std::string samples_payload;
    wal::EncodeSamples(wal_samples_, &samples_payload);
    records_.push_back(wal::Record{wal::RecordType::kSamples, std::move(samples_payload)});
    absl::Status s = head_->wal_->Log(records_);
    if (!s.ok()) {
      stats.commit_failures.fetch_add(1, std::memory_order_relaxed);
      Rollback();
      return s;
    }
    for (MemSeries* m : newly_logged) m->wal_logged.store(true, std::memory_order_release);
  }
  int64_t mint = std::numeric_limits<int64_t>::max();
  int64_t maxt = std::numeric_limits<int64_t>::min();
  uint64_t appended = 0, ooo = 0, oob = 0;
  for (const Pending& p : pending_) {
    {
      Head::Stripe& st = head_->RefStripe(p.s->ref);
      absl::MutexLock lock(&st.mu);
      if (p.t < head_->MinValidTime()) {
        ++oob;  // A Truncate ran between Append and Commit.
      } else if (!p.s->has_last || p.t > p.s->last_t) {
        p.s->AppendSample(p.t, p.v, head_->options_, &stats);
        ++appended;
        mint = std::min(mint, p.t);
        maxt = std::max(maxt, p.t);
      } else if (p.t < p.s->last_t ||
                 p.s->last_v_bits != std::bit_cast<uint64_t>(p.v)) {
        ++ooo;  // Lost a race with another appender, or unordered batch.
      }
    }
    Head::Unpin(p.s);
  }
  pending_.clear();
  if (appended > 0) head_->NoteTimeRange(mint, maxt);
  stats.samples_appended.fetch_add(appended, std::memory_order_relaxed);
  stats.out_of_order.fetch_add(ooo, std::memory_order_relaxed);
  stats.out_of_bounds.fetch_add(oob, std::memory_order_relaxed);
  stats.commits.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

std::unique_ptr<Appender> Head::NewAppender(const AppenderOptions& options) {
  return std::make_unique<HeadAppender>(this, options);
}

}  // namespace vigil::tsdb
