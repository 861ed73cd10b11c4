// One target's scraping state, as Prometheus 2.42's scrape loop: turns each
// scraped body into appended samples and report series, with the scrape
// cache, honor_labels handling, metric relabeling, limits and staleness.
//
// The loop does no networking and no scheduling of its own: the manager
// (scrape/manager.h) fetches the body with the HTTP client and hands the
// result to Process() on a worker thread. That keeps this class testable
// with bodies in memory.
//
// Scrape cache: each distinct series text ("foo{a=\"b\"}") seen in a
// target's scrapes maps to its series ref and final labels (or to "dropped
// by metric relabeling"), so a series that was already scraped costs a hash
// lookup and an Append by ref: no label parsing, relabeling or hashing.
// Entries not seen in a successful scrape are evicted.
//
// Staleness: the refs appended by the previous scrape that the current one
// did not append get a stale marker at the current scrape's timestamp; a
// failed scrape (HTTP error, parse error, limit breach) marks every series of
// the previous scrape stale. Stop() marks the last scrape's series and the
// report series stale.
//
// Thread-safety: Process() and Stop() are called by one thread at a time
// (the manager serialises a loop's scrapes); the status and metadata
// accessors may be called from any thread.
#ifndef VIGIL_SCRAPE_SCRAPE_LOOP_H_
#define VIGIL_SCRAPE_SCRAPE_LOOP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/scrape_config.h"
#include "model/labels.h"
#include "scrape/http_client.h"
#include "scrape/parser.h"
#include "scrape/relabel.h"
#include "scrape/target.h"
#include "tsdb/storage.h"

namespace vigil::scrape {

using AppenderFactory = std::function<std::unique_ptr<tsdb::Appender>()>;

// What the loops of one job share.
struct JobState {
  config::ScrapeConfig config;
  Relabeler target_relabel;
  Relabeler metric_relabel;
};

enum class TargetHealth { kUnknown, kUp, kDown };
// "unknown", "up", "down" as in /api/v1/targets.
absl::string_view TargetHealthName(TargetHealth h);

// A target's state for /api/v1/targets.
struct TargetStatus {
  TargetSpec spec;
  std::string job;
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  absl::Time last_scrape = absl::InfinitePast();  // Never scraped.
  absl::Duration last_duration = absl::ZeroDuration();
  int64_t scrapes = 0;  // Done by this loop (a reload that replaces the
                        // loop starts over).
};

// One metric family's metadata as a target exposed it.
struct MetricMetadata {
  std::string metric;  // Family name.
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
};

// Counts of one scrape, for the report series.
struct ScrapeCounts {
  int64_t scraped = 0;       // Samples in the body.
  int64_t post_relabel = 0;  // Samples appended after metric relabeling.
  int64_t series_added = 0;  // New scrape cache entries.
  int64_t out_of_order = 0;  // Refused by the storage and skipped.
  int64_t duplicate = 0;
  int64_t out_of_bounds = 0;
};

class ScrapeLoop {
 public:
  ScrapeLoop(std::shared_ptr<const JobState> job, TargetSpec target,
             AppenderFactory appender);
  ScrapeLoop(const ScrapeLoop&) = delete;
  ScrapeLoop& operator=(const ScrapeLoop&) = delete;

  // The request for one scrape of this target: URL, Accept negotiation
  // (OpenMetrics, then text 0.0.4), the scrape-timeout header, timeout, body
  // size limit and the job's auth/TLS settings.
  HttpClient::Request MakeRequest() const;

  // Handles one scrape started at `start` that took `took`: appends the
  // body's samples (or nothing, on error), staleness markers and the report
  // series (up, scrape_duration_seconds, scrape_samples_scraped,
  // scrape_samples_post_metric_relabeling, scrape_series_added) in one
  // commit. Returns the scrape's error (also kept as the last error).
  absl::Status Process(const absl::StatusOr<HttpClient::Response>& response,
                       absl::Time start, absl::Duration took);

  // A scrape that failed before a body was read (or was not attempted):
  // every series of the last scrape ends, `up` is 0, `err` is kept.
  absl::Status ProcessError(const absl::Status& err, absl::Time start,
                            absl::Duration took);

  // Appends one body directly (tests and benchmarks): Process() without
  // the HTTP layer.
  absl::Status ProcessBody(absl::string_view content_type,
                           absl::string_view body, absl::Time start,
                           absl::Duration took);

  // The target goes away: stale markers at `now` for the series of the last
  // scrape and the report series. The loop must not be used afterwards.
  void Stop(absl::Time now);

  // Hands this loop's cache and staleness state to `next`, the loop that
  // replaces it for the same target after a reload (so series that vanish
  // across the reload still end). The cache moves only when `next`'s job
  // turns scraped series into the same labels (same honor_labels, metric
  // relabeling and target labels).
  void HandOver(ScrapeLoop* next);

  const TargetSpec& target() const { return target_; }
  const std::shared_ptr<const JobState>& job() const { return job_; }
  TargetStatus Status() const;
  std::vector<MetricMetadata> Metadata() const;
  const ScrapeCounts& last_counts() const { return counts_; }
  size_t cache_size() const { return cache_.size(); }

 private:
  // No label set is kept: a series that needs its labels again (a new
  // ref) has them rebuilt from its line.
  struct CacheEntry {
    tsdb::SeriesRef ref = 0;
    uint64_t iter = 0;     // Eviction pass marker.
    bool dropped = false;  // By metric relabeling.
  };
  // One sample line of a scrape, in page order. Pages rarely change shape
  // between scrapes, so sample i of a scrape is first compared with slot i
  // of the previous one (series texts kept back to back in an arena): a
  // sequential memcmp instead of a hash lookup, and the ref is read from
  // the slot without touching the entry.
  struct Slot {
    CacheEntry* entry;
    tsdb::SeriesRef ref;
    uint32_t offset;  // Of the series text in the arena.
    uint32_t size;
    bool dropped;
  };

  // Looks up (or creates, for a cache miss) the entry of the series at
  // page position `pos`, and records it in the next order.
  absl::StatusOr<Slot*> Lookup(const Parser& p, size_t pos);
  // Appends the body's samples; on error the caller rolls back.
  absl::Status AppendBody(absl::string_view content_type,
                          absl::string_view body, int64_t t,
                          tsdb::Appender* app);
  // Labels of a cache miss: target labels applied (honor_labels or
  // exported_ prefixes), then metric relabeling. Empty when dropped.
  model::Labels SampleLabels(const std::vector<LabelPair>& scraped) const;
  absl::Status CheckLabelLimits(const model::Labels& labels) const;
  // Appends the current sample of `p`.
  void AppendSample(tsdb::Appender* app, const Parser& p, Slot* slot, int64_t t,
                    double v, bool* ok);
  void MarkStale(tsdb::Appender* app, int64_t t);
  void Report(tsdb::Appender* app, int64_t t, bool up, absl::Duration took);
  void UpdateMetadata(const Parser& p, Entry e);
  void Finish(const absl::Status& s, absl::Time start, absl::Duration took);

  const std::shared_ptr<const JobState> job_;
  const TargetSpec target_;
  const AppenderFactory appender_;

  // Node map: slots point at entries, which must not move.
  absl::node_hash_map<std::string, CacheEntry> cache_;
  uint64_t iter_ = 0;
  // The last successful scrape's samples in page order, and the one being
  // read.
  std::vector<Slot> order_;
  std::string arena_;
  std::vector<Slot> next_order_;
  std::string next_arena_;
  // True while every sample of the current scrape matched its slot.
  bool all_hit_ = true;
  // Refs appended by the previous and the current scrape (page order).
  std::vector<tsdb::SeriesRef> prev_refs_;
  std::vector<tsdb::SeriesRef> cur_refs_;
  std::vector<tsdb::SeriesRef> report_refs_;
  std::vector<LabelPair> pairs_;  // Scratch for cache misses.
  ScrapeCounts counts_;

  mutable absl::Mutex mu_;
  TargetStatus status_ ABSL_GUARDED_BY(mu_);
  // Metadata by family, updated in place as lines are parsed (unchanged
  // lines cost a lookup and a compare, no allocation); families a
  // successful scrape did not mention are dropped.
  struct MetadataEntry {
    MetricMetadata md;
    uint64_t iter = 0;
  };
  absl::flat_hash_map<std::string, MetadataEntry> metadata_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_SCRAPE_LOOP_H_
