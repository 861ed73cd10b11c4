#include "api/self_metrics.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "api/self_metrics_family.h"
#include "prometheus/text_serializer.h"
#include "tsdb/stats.h"

namespace vigil::api {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

#if defined(__clang__)
constexpr char kCompiler[] = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr char kCompiler[] = "gcc " __VERSION__;
#else
constexpr char kCompiler[] = "unknown";
#endif

constexpr absl::string_view kHttpRejectReasons[] = {
    "max_connections", "max_requests", "timeout", "body_too_large",
    "bad_request"};
constexpr absl::string_view kRemoteWriteIgnoredKinds[] = {"exemplar",
                                                          "histogram"};

constexpr double kNanosPerSecond = 1e9;

// A monotonically increasing storage counter exposed as it is.
template <typename Stats>
struct CounterField {
  const char* name;
  const char* help;
  std::atomic<uint64_t> Stats::*field;
};

constexpr CounterField<tsdb::HeadStats> kHeadCounters[] = {
    {"vigil_tsdb_head_series_created_total", "Series created in the head.",
     &tsdb::HeadStats::series_created},
    {"vigil_tsdb_head_series_removed_total",
     "Series removed from the head: no samples left after a truncation or "
     "replay.",
     &tsdb::HeadStats::series_removed},
    {"vigil_tsdb_head_samples_appended_total", "Samples committed to the head.",
     &tsdb::HeadStats::samples_appended},
    {"vigil_tsdb_head_chunks_created_total", "Chunks created in the head.",
     &tsdb::HeadStats::chunks_created},
    {"vigil_tsdb_head_chunks_removed_total",
     "Chunks removed from the head by truncation.",
     &tsdb::HeadStats::chunks_removed},
    {"vigil_tsdb_commits_total", "Appender commits that succeeded.",
     &tsdb::HeadStats::commits},
    {"vigil_tsdb_commit_failures_total",
     "Appender commits that failed (nothing of the batch was stored).",
     &tsdb::HeadStats::commit_failures},
    {"vigil_tsdb_wal_corruptions_total",
     "Corrupt or undecodable WAL records found during replay.",
     &tsdb::HeadStats::wal_corruptions},
    {"vigil_tsdb_wal_replay_unknown_refs_total",
     "Samples dropped during WAL replay because no series record named their "
     "ref.",
     &tsdb::HeadStats::wal_replay_unknown_refs},
    {"vigil_tsdb_checkpoints_total", "WAL checkpoints written.",
     &tsdb::HeadStats::checkpoints},
};

constexpr CounterField<tsdb::WalStats> kWalCounters[] = {
    {"vigil_tsdb_wal_records_written_total", "Records written to the WAL.",
     &tsdb::WalStats::records_written},
    {"vigil_tsdb_wal_bytes_written_total",
     "Bytes written to WAL segments, framing included.",
     &tsdb::WalStats::bytes_written},
    {"vigil_tsdb_wal_write_errors_total", "Failed WAL writes.",
     &tsdb::WalStats::write_errors},
    {"vigil_tsdb_wal_segments_created_total", "WAL segment files created.",
     &tsdb::WalStats::segments_created},
};

constexpr CounterField<tsdb::DbStats> kDbCounters[] = {
    {"vigil_tsdb_blocks_loaded_total", "Blocks loaded when the database opened.",
     &tsdb::DbStats::blocks_loaded},
    {"vigil_tsdb_blocks_corrupt_total",
     "Blocks found damaged (checksums, structure) and skipped.",
     &tsdb::DbStats::blocks_corrupt},
    {"vigil_tsdb_head_compactions_total", "Blocks written from the head.",
     &tsdb::DbStats::head_compactions},
    {"vigil_tsdb_compactions_total", "Block compactions (several blocks merged or one rewritten).",
     &tsdb::DbStats::compactions},
    {"vigil_tsdb_compactions_failed_total", "Compaction rounds that failed (retried later).",
     &tsdb::DbStats::compaction_failures},
};

// Why the head refused a sample, as the `reason` label values.
struct RejectField {
  const char* reason;
  std::atomic<uint64_t> tsdb::HeadStats::*field;
};
constexpr RejectField kRejectReasons[] = {
    {"out_of_order", &tsdb::HeadStats::out_of_order},
    {"duplicate", &tsdb::HeadStats::duplicates},
    {"out_of_bounds", &tsdb::HeadStats::out_of_bounds},
    {"invalid_labels", &tsdb::HeadStats::invalid_labels},
};

double Load(const std::atomic<uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

template <typename Stats>
void AddCounters(const Stats& stats,
                 absl::Span<const CounterField<Stats>> fields,
                 std::vector<MetricFamily>* out) {
  for (const CounterField<Stats>& f : fields) {
    out->push_back(
        SingleValue(MetricType::Counter, f.name, f.help, Load(stats.*f.field)));
  }
}

}  // namespace

void StorageCollector::Attach(const tsdb::DB* db) {
  absl::MutexLock lock(&mu_);
  db_ = db;
}

std::vector<MetricFamily> StorageCollector::Collect() const {
  absl::MutexLock lock(&mu_);
  if (db_ == nullptr) return {};
  std::vector<MetricFamily> out;
  const tsdb::HeadStats& head = db_->head_stats();

  out.push_back(SingleValue(MetricType::Gauge, "vigil_tsdb_head_series",
                            "Series in the head.",
                            static_cast<double>(db_->NumSeries())));
  out.push_back(SingleValue(MetricType::Gauge, "vigil_tsdb_head_chunks",
                            "Chunks in the head, open ones included.",
                            static_cast<double>(db_->NumChunks())));
  AddCounters<tsdb::HeadStats>(head, kHeadCounters, &out);

  MetricFamily rejected =
      NewFamily(MetricType::Counter, "vigil_tsdb_samples_rejected_total",
                "Samples the storage refused, by reason.");
  for (const RejectField& r : kRejectReasons) {
    AddSample(&rejected, Load(head.*r.field), {{"reason", r.reason}});
  }
  out.push_back(std::move(rejected));

  // An empty head has min > max (the sentinels); say nothing rather than
  // expose the sentinels as timestamps.
  const int64_t min_time = db_->MinTime();
  const int64_t max_time = db_->MaxTime();
  if (min_time <= max_time) {
    out.push_back(SingleValue(
        MetricType::Gauge, "vigil_tsdb_head_min_time",
        "Lowest timestamp in the head, in milliseconds since the epoch.",
        static_cast<double>(min_time)));
    out.push_back(SingleValue(
        MetricType::Gauge, "vigil_tsdb_head_max_time",
        "Highest timestamp in the head, in milliseconds since the epoch.",
        static_cast<double>(max_time)));
  }
  out.push_back(SingleValue(MetricType::Gauge,
                            "vigil_tsdb_wal_replay_duration_seconds",
                            "Time the WAL replay took at startup.",
                            Load(head.wal_replay_nanos) / kNanosPerSecond));

  const tsdb::DbStats& dbs = db_->db_stats();
  AddCounters<tsdb::DbStats>(dbs, kDbCounters, &out);
  MetricFamily retention = NewFamily(MetricType::Counter,
                                     "vigil_tsdb_retention_deleted_blocks_total",
                                     "Blocks deleted by retention, by the limit that applied.");
  AddSample(&retention, Load(dbs.retention_time_deletions), {{"reason", "time"}});
  AddSample(&retention, Load(dbs.retention_size_deletions), {{"reason", "size"}});
  out.push_back(std::move(retention));
  std::vector<tsdb::BlockSummary> blocks = db_->Blocks();
  uint64_t block_bytes = 0;
  for (const tsdb::BlockSummary& b : blocks) block_bytes += b.bytes;
  out.push_back(SingleValue(MetricType::Gauge, "vigil_tsdb_blocks",
                            "Blocks currently served.", static_cast<double>(blocks.size())));
  out.push_back(SingleValue(MetricType::Gauge, "vigil_tsdb_storage_blocks_bytes",
                            "Bytes of all blocks on disk.", static_cast<double>(block_bytes)));
  if (!blocks.empty()) {
    out.push_back(SingleValue(MetricType::Gauge, "vigil_tsdb_lowest_timestamp",
                              "Lowest timestamp in the blocks, in milliseconds since the epoch.",
                              static_cast<double>(blocks.front().min_time)));
  }

  const tsdb::WalStats* wal = db_->wal_stats();
  if (wal == nullptr) return out;  // WAL disabled.
  AddCounters<tsdb::WalStats>(*wal, kWalCounters, &out);
  MetricFamily fsync =
      NewFamily(MetricType::Summary, "vigil_tsdb_wal_fsync_duration_seconds",
                "Duration of WAL fsyncs.");
  prometheus::ClientMetric& m = fsync.metric.emplace_back();
  m.summary.sample_count = wal->fsyncs.load(std::memory_order_relaxed);
  m.summary.sample_sum = Load(wal->fsync_nanos) / kNanosPerSecond;
  out.push_back(std::move(fsync));
  return out;
}

SelfMetrics::SelfMetrics(absl::string_view version)
    : http_requests_(
          prometheus::BuildCounter()
              .Name("vigil_http_requests_total")
              .Help("HTTP requests answered, by route and status code.")
              .Register(registry_)),
      http_duration_(
          prometheus::BuildHistogram()
              .Name("vigil_http_request_duration_seconds")
              .Help("Time from a parsed HTTP request to its written response, "
                    "by route.")
              .Register(registry_)),
      http_in_flight_(prometheus::BuildGauge()
                          .Name("vigil_http_requests_in_flight")
                          .Help("HTTP requests being handled.")
                          .Register(registry_)
                          .Add({})),
      http_connections_(prometheus::BuildGauge()
                            .Name("vigil_http_connections")
                            .Help("Open HTTP connections.")
                            .Register(registry_)
                            .Add({})),
      http_rejected_(
          prometheus::BuildCounter()
              .Name("vigil_http_rejected_total")
              .Help("HTTP connections or requests refused or dropped before a "
                    "handler ran, by reason.")
              .Register(registry_)),
      rw_samples_(prometheus::BuildCounter()
                      .Name("vigil_remote_write_samples_total")
                      .Help("Remote-write samples accepted into storage.")
                      .Register(registry_)
                      .Add({})),
      rw_rejected_(prometheus::BuildCounter()
                       .Name("vigil_remote_write_samples_rejected_total")
                       .Help("Remote-write samples refused, by reason.")
                       .Register(registry_)),
      rw_ignored_(
          prometheus::BuildCounter()
              .Name("vigil_remote_write_ignored_total")
              .Help("Remote-write exemplars and native histograms received but "
                    "not stored, by kind.")
              .Register(registry_)),
      rw_metadata_(prometheus::BuildCounter()
                       .Name("vigil_remote_write_metadata_total")
                       .Help("Remote-write metric metadata entries received.")
                       .Register(registry_)
                       .Add({})),
      ready_(
          prometheus::BuildGauge()
              .Name("vigil_ready")
              .Help(
                  "1 when Vigil is ready to serve queries and writes, else 0.")
              .Register(registry_)
              .Add({})) {
  prometheus::BuildGauge()
      .Name("vigil_build_info")
      .Help(
          "A metric with a constant '1' value labeled by the version and the "
          "compiler Vigil was built with.")
      .Register(registry_)
      .Add({{"version", std::string(version)}, {"compiler", kCompiler}})
      .Set(1);
  // Known label values start at 0 so that rate() sees their first increase.
  for (absl::string_view reason : kHttpRejectReasons) {
    http_rejected_.Add({{"reason", std::string(reason)}});
  }
  for (absl::string_view kind : kRemoteWriteIgnoredKinds) {
    rw_ignored_.Add({{"kind", std::string(kind)}});
  }
}

void SelfMetrics::ObserveHttpRequest(absl::string_view handler, int code,
                                     double seconds) {
  prometheus::Histogram* duration;
  prometheus::Counter* requests;
  {
    absl::MutexLock lock(&http_mu_);
    auto it = http_series_.find(handler);
    if (it == http_series_.end()) {
      const prometheus::Histogram::BucketBoundaries buckets(
          std::begin(kHttpDurationBuckets), std::end(kHttpDurationBuckets));
      prometheus::Histogram& h =
          http_duration_.Add({{"handler", std::string(handler)}}, buckets);
      it = http_series_.emplace(std::string(handler), HandlerSeries{&h, {}})
               .first;
    }
    prometheus::Counter*& counter = it->second.requests[code];
    if (counter == nullptr) {
      counter = &http_requests_.Add(
          {{"handler", std::string(handler)}, {"code", absl::StrCat(code)}});
    }
    duration = it->second.duration;
    requests = counter;
  }
  requests->Increment();
  duration->Observe(seconds);
}

void SelfMetrics::SetHttpInFlight(int64_t n) {
  http_in_flight_.Set(static_cast<double>(n));
}

void SelfMetrics::SetHttpConnections(int64_t n) {
  http_connections_.Set(static_cast<double>(n));
}

void SelfMetrics::IncHttpRejected(absl::string_view reason) {
  http_rejected_.Add({{"reason", std::string(reason)}}).Increment();
}

void SelfMetrics::AddRemoteWriteSamples(uint64_t n) {
  rw_samples_.Increment(static_cast<double>(n));
}

void SelfMetrics::AddRemoteWriteRejected(absl::string_view reason, uint64_t n) {
  rw_rejected_.Add({{"reason", std::string(reason)}})
      .Increment(static_cast<double>(n));
}

void SelfMetrics::AddRemoteWriteIgnored(absl::string_view kind, uint64_t n) {
  rw_ignored_.Add({{"kind", std::string(kind)}})
      .Increment(static_cast<double>(n));
}

void SelfMetrics::AddRemoteWriteMetadata(uint64_t n) {
  rw_metadata_.Increment(static_cast<double>(n));
}

void SelfMetrics::AttachDb(const tsdb::DB* db) { storage_.Attach(db); }

void SelfMetrics::AddSource(std::function<std::vector<MetricFamily>()> source) {
  absl::MutexLock l(&sources_mu_);
  sources_.push_back(std::move(source));
}

void SelfMetrics::SetReady(bool ready) { ready_.Set(ready ? 1 : 0); }

std::vector<MetricFamily> SelfMetrics::Collect() const {
  std::vector<MetricFamily> families = registry_.Collect();
  for (const prometheus::Collectable* c :
       {static_cast<const prometheus::Collectable*>(&process_),
        static_cast<const prometheus::Collectable*>(&storage_)}) {
    std::vector<MetricFamily> more = c->Collect();
    std::move(more.begin(), more.end(), std::back_inserter(families));
  }
  {
    absl::MutexLock l(&sources_mu_);
    for (const auto& source : sources_) {
      std::vector<MetricFamily> more = source();
      std::move(more.begin(), more.end(), std::back_inserter(families));
    }
  }
  // Sorted output is stable from scrape to scrape and easy to read and diff;
  // prometheus-cpp keeps series in hash maps.
  for (MetricFamily& f : families) {
    std::sort(
        f.metric.begin(), f.metric.end(),
        [](const prometheus::ClientMetric& a,
           const prometheus::ClientMetric& b) { return a.label < b.label; });
  }
  std::stable_sort(families.begin(), families.end(),
                   [](const MetricFamily& a, const MetricFamily& b) {
                     return a.name < b.name;
                   });
  return families;
}

std::string SelfMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

}  // namespace vigil::api
