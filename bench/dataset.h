// A deterministic, node_exporter-like dataset shared by the storage
// benchmarks. Series are grouped by host ("host-N:9100"); every host exposes
// the same catalogue of ~1,070 series (dataset.cc): counters with irregular
// increments and rare resets (~60%), gauges that wander or jitter (~30%), and
// constants (~10%). A host is scraped every 15 s at its own phase; all of a
// host's series share each scrape's timestamp, so one scrape of one host is
// the natural append batch.
//
// Nothing is materialised: SeriesLabels() builds one label set, and a
// SeriesCursor generates one series' samples in order from O(1) state, so
// 1M series x 120 samples needs ~50 MB of cursors, not 2 GB of samples.
//
// Thread-safe: a Dataset is immutable after construction; a SeriesCursor is
// used by one thread at a time.
#ifndef VIGIL_BENCH_DATASET_H_
#define VIGIL_BENCH_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "model/value.h"

namespace vigil::bench {

inline constexpr int64_t kScrapeIntervalMs = 15000;
// 2023-11-14 22:00:00 UTC, a multiple of the 2 h block duration, so that the
// 120 samples (30 min) of every series fit in one head chunk.
inline constexpr int64_t kDefaultStartMs = 1699999200000;

// How scrape timestamps deviate from start + phase + i * interval.
enum class Jitter {
  // Prometheus with its default --scrape.timestamp-tolerance (2 ms): most
  // scrapes start within 2 ms of schedule and are snapped onto it;
  // `late_fraction` of them start 3..max_jitter_ms late and keep their real
  // time. The default, and what the storage targets assume.
  kAligned,
  // Every scrape 0..max_jitter_ms late, nothing snapped (pre-2.22
  // Prometheus, or another agent): the worst case for timestamp encoding.
  kRaw,
  // Perfectly regular timestamps (recording rules, the best case).
  kNone,
};

struct DatasetOptions {
  int num_series = 10000;
  int samples_per_series = 120;  // For callers; cursors can go further.
  int64_t start_ms = kDefaultStartMs;
  uint64_t seed = 1;
  Jitter jitter = Jitter::kAligned;
  int max_jitter_ms = 50;
  double late_fraction = 0.1;
};

enum class SeriesKind { kCounter, kGauge, kConstant };

struct Family;

class Dataset;

// Generates the samples of one series, in time order, from sample 0 on.
class SeriesCursor {
 public:
  SeriesCursor() = default;
  model::Sample Next();
  int index() const { return i_; }

 private:
  friend class Dataset;
  double NextValue();
  double Uniform();

  const Dataset* ds_ = nullptr;
  const Family* family_ = nullptr;
  uint64_t rng_ = 0;
  double value_ = 0;
  double param_ = 0;  // Rate per second (counters) or level (gauges).
  float activity_ = 0;  // Chance that the value changes at a scrape.
  uint32_t series_ = 0;
  int32_t i_ = 0;
};

class Dataset {
 public:
  explicit Dataset(const DatasetOptions& options);
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;

  const DatasetOptions& options() const { return options_; }
  int num_series() const { return options_.num_series; }
  int series_per_host() const { return static_cast<int>(slots_.size()); }
  int num_hosts() const;
  // Series [HostBegin(h), HostEnd(h)) belong to host h.
  int HostBegin(int host) const { return host * series_per_host(); }
  int HostEnd(int host) const;
  int HostOf(int series) const { return series / series_per_host(); }

  model::Labels SeriesLabels(int series) const;
  // The same labels as name/value pairs (for building matchers).
  std::vector<std::pair<std::string, std::string>> SeriesPairs(int series) const;
  absl::string_view MetricName(int series) const;
  SeriesKind Kind(int series) const;
  static std::string Instance(int host);

  // Timestamp of scrape `i` of the host of `series`.
  int64_t Timestamp(int series, int i) const;
  SeriesCursor Cursor(int series) const;

  // How many series of one host have metric `name` (0 if none).
  int SeriesPerHostWithName(absl::string_view name) const;
  // Fraction of a host's series of each kind.
  double KindFraction(SeriesKind kind) const;

 private:
  struct Slot {
    const Family* family;
    std::string name;
    absl::string_view label1, value1, label2, value2;
  };

  const DatasetOptions options_;
  std::vector<Slot> slots_;  // One host's series.
};

// splitmix64: the dataset's only source of randomness.
uint64_t Mix64(uint64_t x);

}  // namespace vigil::bench

#endif  // VIGIL_BENCH_DATASET_H_
