#include "scrape/scrape_loop.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/value.h"

namespace vigil::scrape {
namespace {

// What Prometheus 2.42 sends: OpenMetrics first, then the text format.
constexpr absl::string_view kAcceptHeader =
    "application/openmetrics-text;version=1.0.0,application/"
    "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/"
    "*;q=0.1";

constexpr absl::string_view kReportNames[] = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
};

int64_t ToMillis(absl::Time t) { return absl::ToUnixMillis(t); }

// Go's %.50s: at most 50 bytes.
absl::string_view Trunc50(absl::string_view s) { return s.substr(0, 50); }

}  // namespace

absl::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp: return "up";
    case TargetHealth::kDown: return "down";
    case TargetHealth::kUnknown: break;
  }
  return "unknown";
}

ScrapeLoop::ScrapeLoop(std::shared_ptr<const JobState> job, TargetSpec target,
                       AppenderFactory appender)
    : job_(std::move(job)), target_(std::move(target)), appender_(std::move(appender)) {
  status_.spec = target_;
  status_.job = job_->config.job_name;
}

HttpClient::Request ScrapeLoop::MakeRequest() const {
  HttpClient::Request req;
  req.url = target_.url;
  req.headers.emplace_back("Accept", std::string(kAcceptHeader));
  req.headers.emplace_back("X-Prometheus-Scrape-Timeout-Seconds",
                           absl::StrCat(absl::ToDoubleSeconds(target_.timeout)));
  req.timeout = target_.timeout;
  req.body_size_limit = job_->config.body_size_limit;
  req.accept_gzip = true;
  req.http = job_->config.http;
  return req;
}

absl::Status ScrapeLoop::Process(const absl::StatusOr<HttpClient::Response>& response,
                                 absl::Time start, absl::Duration took) {
  // The client words its errors as Go's does (`Get "<url>": ...`, or the
  // bare "body size limit exceeded"), which is what Prometheus shows.
  if (!response.ok()) return ProcessError(response.status(), start, took);
  if (response->status != 200) {
    return ProcessError(absl::UnavailableError(absl::StrCat("server returned HTTP status ",
                                                            response->status, " ",
                                                            HttpStatusText(response->status))),
                        start, took);
  }
  return ProcessBody(response->content_type, response->body, start, took);
}

absl::Status ScrapeLoop::ProcessError(const absl::Status& err, absl::Time start,
                                      absl::Duration took) {
  std::unique_ptr<tsdb::Appender> app = appender_();
  counts_ = ScrapeCounts{};
  const int64_t t = ToMillis(start);
  MarkStale(app.get(), t);
  Report(app.get(), t, false, took);
  (void)app->Commit();
  Finish(err, start, took);
  return err;
}

absl::Status ScrapeLoop::ProcessBody(absl::string_view content_type, absl::string_view body,
                                     absl::Time start, absl::Duration took) {
  const int64_t t = ToMillis(start);
  ++iter_;
  counts_ = ScrapeCounts{};
  cur_refs_.clear();
  // Built during the scrape and kept only if it succeeds; between scrapes
  // a loop holds one order and one arena (1M series: ~100 MB saved).
  next_order_.clear();
  next_arena_.clear();
  next_order_.reserve(order_.size());
  next_arena_.reserve(arena_.size());
  all_hit_ = true;
  std::unique_ptr<tsdb::Appender> app = appender_();
  absl::Status err = AppendBody(content_type, body, t, app.get());
  if (err.ok()) {
    // Series of the previous scrape missing from this one end here. A page
    // of the same shape appends the same refs: nothing to compare.
    if (!all_hit_ || next_order_.size() != order_.size()) {
      absl::flat_hash_set<tsdb::SeriesRef> cur(cur_refs_.begin(), cur_refs_.end());
      for (tsdb::SeriesRef ref : prev_refs_) {
        if (!cur.contains(ref)) (void)app->Append(ref, t, model::StaleNaN());
      }
    }
    std::swap(prev_refs_, cur_refs_);
    // The cache keeps only what the last successful scrape saw.
    if (!all_hit_ || cache_.size() != next_order_.size()) {
      for (Slot& s : next_order_) s.entry->iter = iter_;
      absl::erase_if(cache_, [this](const auto& kv) { return kv.second.iter != iter_; });
    }
    std::swap(order_, next_order_);
    std::swap(arena_, next_arena_);
    absl::MutexLock l(&mu_);
    absl::erase_if(metadata_, [this](const auto& kv) { return kv.second.iter != iter_; });
  } else {
    app->Rollback();
    app = appender_();
    MarkStale(app.get(), t);
  }
  std::vector<Slot>().swap(next_order_);
  std::string().swap(next_arena_);
  Report(app.get(), t, err.ok(), took);
  if (absl::Status s = app->Commit(); !s.ok() && err.ok()) err = s;
  Finish(err, start, took);
  return err;
}

void ScrapeLoop::Finish(const absl::Status& s, absl::Time start, absl::Duration took) {
  absl::MutexLock l(&mu_);
  status_.health = s.ok() ? TargetHealth::kUp : TargetHealth::kDown;
  status_.last_error = s.ok() ? "" : std::string(s.message());
  status_.last_scrape = start;
  status_.last_duration = took;
  ++status_.scrapes;
}

absl::Status ScrapeLoop::AppendBody(absl::string_view content_type, absl::string_view body,
                                    int64_t t, tsdb::Appender* app) {
  const config::ScrapeConfig& cfg = job_->config;
  std::unique_ptr<Parser> p = NewParser(content_type, body);
  absl::Status limit_err;
  Entry e;
  while (true) {
    absl::StatusOr<bool> more = p->Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (e != Entry::kSeries) {
      if (e != Entry::kEof && e != Entry::kComment) UpdateMetadata(*p, e);
      continue;
    }
    ++counts_.scraped;
    int64_t ts = t;
    if (cfg.honor_timestamps) {
      if (std::optional<int64_t> pt = p->TimestampMs(); pt.has_value()) ts = *pt;
    }
    const double v = p->Value();
    absl::StatusOr<Slot*> slot = Lookup(*p, static_cast<size_t>(counts_.scraped - 1));
    if (!slot.ok()) return slot.status();
    if ((*slot)->dropped) continue;  // Dropped by metric relabeling.
    ++counts_.post_relabel;
    if (cfg.sample_limit > 0 && static_cast<uint64_t>(counts_.post_relabel) > cfg.sample_limit) {
      // Keep counting so that scrape_samples_scraped is the whole body.
      limit_err = absl::ResourceExhaustedError("sample limit exceeded");
      continue;
    }
    bool ok = true;
    AppendSample(app, *p, *slot, ts, v, &ok);
    if (!ok) return absl::InternalError("append failed");
  }
  if (!limit_err.ok()) return limit_err;
  return absl::OkStatus();
}

absl::StatusOr<ScrapeLoop::Slot*> ScrapeLoop::Lookup(const Parser& p, size_t pos) {
  const absl::string_view text = p.SeriesText();
  if (all_hit_ && pos < order_.size()) {
    const Slot& prev = order_[pos];
    if (prev.size == text.size() &&
        std::memcmp(arena_.data() + prev.offset, text.data(), text.size()) == 0) {
      Slot next = prev;
      next.offset = static_cast<uint32_t>(next_arena_.size());
      next_arena_.append(text.data(), text.size());
      next_order_.push_back(next);
      return &next_order_.back();
    }
  }
  all_hit_ = false;
  auto it = cache_.find(text);
  if (it == cache_.end()) {
    p.Labels(&pairs_);
    model::Labels lset = SampleLabels(pairs_);
    CacheEntry entry;
    entry.dropped = lset.empty();
    if (!lset.empty()) {
      if (!lset.Has(model::kMetricName)) {
        return absl::InvalidArgumentError("__name__ label is missing");
      }
      if (absl::Status s = lset.Validate(true); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid metric name or label names: ", s.message()));
      }
      if (absl::Status s = CheckLabelLimits(lset); !s.ok()) return s;
      ++counts_.series_added;
    }
    it = cache_.emplace(std::string(text), entry).first;
  }
  CacheEntry* e = &it->second;
  next_order_.push_back(Slot{e, e->ref, static_cast<uint32_t>(next_arena_.size()),
                             static_cast<uint32_t>(text.size()), e->dropped});
  next_arena_.append(text.data(), text.size());
  return &next_order_.back();
}

void ScrapeLoop::AppendSample(tsdb::Appender* app, const Parser& p, Slot* slot, int64_t t,
                              double v, bool* ok) {
  absl::Status s;
  if (slot->ref != 0) {
    s = app->Append(slot->ref, t, v);
    if (!s.ok() && tsdb::GetAppendError(s) == tsdb::AppendError::kNotFound) slot->ref = 0;
  }
  if (slot->ref == 0) {
    // A new series, or one the storage no longer has (or never took): the
    // labels are built again from the line, as on a cache miss (the cache
    // keeps no label sets, which would be most of its memory).
    CacheEntry* e = slot->entry;
    p.Labels(&pairs_);
    absl::StatusOr<tsdb::SeriesRef> ref = app->Append(SampleLabels(pairs_), t, v);
    if (ref.ok()) {
      slot->ref = *ref;
      s = absl::OkStatus();
    } else {
      slot->ref = 0;
      s = ref.status();
    }
    e->ref = slot->ref;
  }
  if (s.ok()) {
    cur_refs_.push_back(slot->ref);
    return;
  }
  switch (tsdb::GetAppendError(s)) {
    case tsdb::AppendError::kOutOfOrder: ++counts_.out_of_order; break;
    case tsdb::AppendError::kDuplicate: ++counts_.duplicate; break;
    case tsdb::AppendError::kOutOfBounds: ++counts_.out_of_bounds; break;
    default: *ok = false; return;
  }
  // The series is still exposed: it must not be marked stale.
  if (slot->ref != 0) cur_refs_.push_back(slot->ref);
}

model::Labels ScrapeLoop::SampleLabels(const std::vector<LabelPair>& scraped) const {
  const model::Labels& tl = target_.labels;
  std::vector<std::pair<absl::string_view, absl::string_view>> out;
  out.reserve(scraped.size() + tl.size());
  auto scraped_get = [&scraped](absl::string_view name) -> absl::string_view {
    for (const LabelPair& p : scraped) {
      if (p.first == name) return p.second;
    }
    return {};
  };
  std::vector<std::string> renamed;  // Owns exported_ names.
  renamed.reserve(tl.size());
  if (job_->config.honor_labels) {
    out.assign(scraped.begin(), scraped.end());
    for (const model::Label& l : tl) {
      if (scraped_get(l.name.view()).empty()) out.emplace_back(l.name.view(), l.value.view());
    }
  } else {
    for (const LabelPair& p : scraped) {
      if (tl.Has(p.first)) continue;  // Renamed below.
      out.push_back(p);
    }
    for (const model::Label& l : tl) {
      absl::string_view exposed = scraped_get(l.name.view());
      if (!exposed.empty()) {
        std::string name = absl::StrCat("exported_", l.name.view());
        while (tl.Has(name) || !scraped_get(name).empty()) name = absl::StrCat("exported_", name);
        renamed.push_back(std::move(name));
        out.emplace_back(renamed.back(), exposed);
      }
      out.emplace_back(l.name.view(), l.value.view());
    }
  }
  model::Labels lset = model::Labels::FromPairs(out);
  if (job_->metric_relabel.empty()) return lset;
  std::optional<model::Labels> r = job_->metric_relabel.Process(lset);
  if (!r.has_value()) return model::Labels();
  return *std::move(r);
}

absl::Status ScrapeLoop::CheckLabelLimits(const model::Labels& lset) const {
  const config::ScrapeConfig& cfg = job_->config;
  // Prometheus names the metric, not the series.
  absl::string_view metric = lset.MetricName();
  if (cfg.label_limit > 0 && lset.size() > cfg.label_limit) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("label_limit exceeded (metric: %s, number of labels: %d, limit: %d)",
                        Trunc50(metric), lset.size(), cfg.label_limit));
  }
  if (cfg.label_name_length_limit == 0 && cfg.label_value_length_limit == 0) {
    return absl::OkStatus();
  }
  for (const model::Label& l : lset) {
    if (cfg.label_name_length_limit > 0 && l.name.size() > cfg.label_name_length_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "label_name_length_limit exceeded (metric: %s, label name: %s, length: %d, limit: "
          "%d)",
          Trunc50(metric), Trunc50(l.name.view()), l.name.size(), cfg.label_name_length_limit));
    }
    if (cfg.label_value_length_limit > 0 && l.value.size() > cfg.label_value_length_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "label_value_length_limit exceeded (metric: %s, label name: %s, value: \"%s\", "
          "length: %d, limit: %d)",
          Trunc50(metric), Trunc50(l.name.view()), Trunc50(l.value.view()), l.value.size(),
          cfg.label_value_length_limit));
    }
  }
  return absl::OkStatus();
}

void ScrapeLoop::MarkStale(tsdb::Appender* app, int64_t t) {
  for (tsdb::SeriesRef ref : prev_refs_) (void)app->Append(ref, t, model::StaleNaN());
  prev_refs_.clear();
}

void ScrapeLoop::Report(tsdb::Appender* app, int64_t t, bool up, absl::Duration took) {
  const double values[] = {
      up ? 1.0 : 0.0,
      absl::ToDoubleSeconds(took),
      static_cast<double>(counts_.scraped),
      static_cast<double>(counts_.post_relabel),
      static_cast<double>(counts_.series_added),
  };
  constexpr size_t kN = sizeof(values) / sizeof(values[0]);
  if (report_refs_.size() != kN) report_refs_.assign(kN, 0);
  for (size_t i = 0; i < kN; ++i) {
    if (report_refs_[i] != 0 && app->Append(report_refs_[i], t, values[i]).ok()) continue;
    model::LabelsBuilder b(target_.labels);
    b.Set(model::kMetricName, kReportNames[i]);
    absl::StatusOr<tsdb::SeriesRef> ref = app->Append(b.Build(), t, values[i]);
    report_refs_[i] = ref.ok() ? *ref : 0;
  }
}

void ScrapeLoop::Stop(absl::Time now) {
  const int64_t t = ToMillis(now);
  std::unique_ptr<tsdb::Appender> app = appender_();
  MarkStale(app.get(), t);
  for (tsdb::SeriesRef ref : report_refs_) {
    if (ref != 0) (void)app->Append(ref, t, model::StaleNaN());
  }
  (void)app->Commit();
}

void ScrapeLoop::HandOver(ScrapeLoop* next) {
  next->prev_refs_ = std::move(prev_refs_);
  next->report_refs_ = std::move(report_refs_);
  const config::ScrapeConfig& a = job_->config;
  const config::ScrapeConfig& b = next->job_->config;
  const bool same_labels = a.honor_labels == b.honor_labels &&
                           a.label_limit == b.label_limit &&
                           a.label_name_length_limit == b.label_name_length_limit &&
                           a.label_value_length_limit == b.label_value_length_limit &&
                           config::SameRelabelConfigs(a.metric_relabel_configs, b.metric_relabel_configs) &&
                           target_.labels == next->target_.labels;
  if (same_labels) {
    next->cache_ = std::move(cache_);
    next->order_ = std::move(order_);
    next->arena_ = std::move(arena_);
    next->iter_ = iter_;
  }
  absl::MutexLock l(&mu_);
  absl::MutexLock l2(&next->mu_);
  next->metadata_ = metadata_;
}

void ScrapeLoop::UpdateMetadata(const Parser& p, Entry e) {
  absl::string_view name = p.MetricName();
  absl::MutexLock l(&mu_);
  auto it = metadata_.find(name);
  if (it == metadata_.end()) {
    it = metadata_.emplace(std::string(name), MetadataEntry{}).first;
    it->second.md.metric = std::string(name);
  }
  MetricMetadata& md = it->second.md;
  if (it->second.iter != iter_) {
    // First line of this family in this scrape: forget the old fields.
    it->second.iter = iter_;
    md.type = MetricType::kUnknown;
    md.help.clear();
    md.unit.clear();
  }
  switch (e) {
    case Entry::kType: md.type = p.Type(); break;
    case Entry::kHelp:
      if (md.help != p.Help()) md.help.assign(p.Help().data(), p.Help().size());
      break;
    case Entry::kUnit:
      if (md.unit != p.Unit()) md.unit.assign(p.Unit().data(), p.Unit().size());
      break;
    default: break;
  }
}

TargetStatus ScrapeLoop::Status() const {
  absl::MutexLock l(&mu_);
  return status_;
}

std::vector<MetricMetadata> ScrapeLoop::Metadata() const {
  absl::MutexLock l(&mu_);
  std::vector<MetricMetadata> out;
  out.reserve(metadata_.size());
  for (const auto& [name, e] : metadata_) out.push_back(e.md);
  std::sort(out.begin(), out.end(),
            [](const MetricMetadata& a, const MetricMetadata& b) { return a.metric < b.metric; });
  return out;
}

}  // namespace vigil::scrape
