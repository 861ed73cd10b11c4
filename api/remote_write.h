// The remote write 1.0 receiver (POST /api/v1/write): snappy-compressed
// prometheus.WriteRequest bodies appended to the database.
//
// Responses, as the remote-write spec asks, so senders retry only what a
// retry can fix:
//   204  everything stored;
//   400  malformed body, bad snappy/protobuf, or some samples refused (out
//        of order, out of bounds, duplicate, invalid or oversized labels,
//        too many new series in one request); the other samples of the
//        request ARE stored;
//   413  body larger than the limit once decompressed;
//   415  Content-Type or Content-Encoding other than protobuf/snappy;
//   429  the database's series limit is reached;
//   500  the storage failed (e.g. the WAL write): nothing of the request
//        was stored and a retry may succeed.
// Exemplars and native histograms are accepted, counted and dropped.
//
// Thread-safe: Handle may run on many threads at once.
#ifndef VIGIL_API_REMOTE_WRITE_H_
#define VIGIL_API_REMOTE_WRITE_H_

#include <atomic>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "api/http_server.h"
#include "api/self_metrics.h"
#include "tsdb/db.h"

namespace vigil::api {

struct RemoteWriteOptions {
  uint64_t max_decompressed_bytes = 64 << 20;
  int max_labels_per_series = 128;
  int max_label_name_length = 1024;
  int max_label_value_length = 8192;
  int64_t max_new_series_per_request = 50000;  // 0: no limit.
  // Metric families whose metadata is kept (for /api/v1/metadata).
  size_t max_metadata = 100000;
  // Entries of the series-ref cache (about 40 bytes each).
  size_t max_cached_series = 20000000;
};

// Metric metadata last received for each metric family.
struct MetricMetadata {
  std::string type;  // "counter", "gauge", ... as Prometheus's API prints.
  std::string help;
  std::string unit;
};

// Maps a hash of a series' labels, as a sender sends them, to the series'
// ref, so that a known series skips validation, interning and the head's
// label lookup (like Prometheus's scrape cache). Keys are two independent
// 64-bit hashes; entries whose series left the head are dropped when the
// head answers kNotFound. Bounded; thread-safe.
class SeriesRefCache {
 public:
  using Key = std::pair<uint64_t, uint64_t>;
  explicit SeriesRefCache(size_t max_entries) : max_per_shard_(max_entries / kShards + 1) {}

  std::optional<tsdb::SeriesRef> Get(const Key& k) const;
  void Put(const Key& k, tsdb::SeriesRef ref);
  void Erase(const Key& k);
  void Clear();
  size_t size() const;

 private:
  static constexpr size_t kShards = 64;
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.second; }
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<Key, tsdb::SeriesRef, KeyHash> map ABSL_GUARDED_BY(mu);
  };
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

class RemoteWriteHandler {
 public:
  // `metrics` must outlive the handler.
  RemoteWriteHandler(const RemoteWriteOptions& options, SelfMetrics* metrics);

  // Sets the database to write to; until then requests get 503. `db` must
  // outlive the handler or be reset to null first.
  void SetDb(tsdb::DB* db);

  void Handle(const HttpRequest& req, HttpResponse* resp);

  // A copy of the metadata received so far.
  absl::flat_hash_map<std::string, MetricMetadata> Metadata() const;

 private:
  struct Outcome;
  void Append(tsdb::DB* db, const struct WriteRequestView& req, Outcome* out);
  void AppendSeries(tsdb::Appender* app, const struct WriteRequestView& req,
                    const struct RwSeries& s, Outcome* out, uint64_t* pending);
  // Appends the samples of `s` after the one at `first_index` (default:
  // the first sample, whose append gave `first`) by ref.
  void AppendRest(tsdb::Appender* app, const struct WriteRequestView& req,
                  const struct RwSeries& s, tsdb::SeriesRef ref, const absl::Status& first,
                  Outcome* out, uint64_t* pending, uint32_t first_index = UINT32_MAX);
  void KeepMetadata(const struct WriteRequestView& req);

  const RemoteWriteOptions options_;
  SelfMetrics* const metrics_;
  std::atomic<tsdb::DB*> db_{nullptr};
  SeriesRefCache cache_;
  mutable absl::Mutex metadata_mu_;
  absl::flat_hash_map<std::string, MetricMetadata> metadata_ ABSL_GUARDED_BY(metadata_mu_);
};

}  // namespace vigil::api

#endif  // VIGIL_API_REMOTE_WRITE_H_
