// The storage engine's public interfaces: Appender (write), Querier (read),
// and the cursors they return. Implemented by the head today and by the
// head + blocks together later; callers see only these.
#ifndef VIGIL_TSDB_STORAGE_H_
#define VIGIL_TSDB_STORAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/value.h"

namespace vigil::tsdb {

// Identifies a series inside one database for its lifetime in the head.
using SeriesRef = uint64_t;

// Why Append refused a sample. Carried in the absl::Status returned by
// Append; read it back with GetAppendError().
enum class AppendError {
  kNone = 0,
  kOutOfOrder,     // t older than the series' last sample.
  kDuplicate,      // Same t as the last sample, different value.
  kOutOfBounds,    // t older than what the head still accepts.
  kInvalidLabels,  // Empty/duplicate/invalid label names, bad UTF-8, no name.
  kNotFound,       // Append(ref, ...) with a ref the head no longer has.
  kSeriesLimit,    // A new series would exceed the database's series limit.
  kNewSeriesLimit, // A new series would exceed this appender's limit.
};

// Per-appender limits (for one remote-write request, one scrape...).
struct AppenderOptions {
  // Series this appender may create; 0 means no limit.
  int64_t max_new_series = 0;
};

// The AppendError of a status returned by Append (kNone for OK or other
// errors).
AppendError GetAppendError(const absl::Status& s);
absl::Status MakeAppendError(AppendError kind, absl::string_view message);

// Buffers samples and makes them durable and visible together on Commit().
// One appender is used by one thread at a time; many appenders may run
// concurrently. An appender may be reused after Commit or Rollback.
class Appender {
 public:
  virtual ~Appender() = default;  // Rolls back anything uncommitted.

  // Adds a sample for the series `labels`, creating the series if it does
  // not exist, and returns its ref for use with the fast path. An exact
  // duplicate of the series' last sample (same t, same value bits) is
  // accepted and ignored, as in Prometheus. A refused sample leaves the
  // rest of the batch unaffected.
  virtual absl::StatusOr<SeriesRef> Append(const model::Labels& labels,
                                           int64_t t, double v) = 0;
  // Fast path for a series already known by ref. kNotFound (AppendError)
  // when the series has left the head: call the labels form instead.
  virtual absl::Status Append(SeriesRef ref, int64_t t, double v) = 0;

  // Writes the batch to the WAL, then makes it visible to queries. On error
  // nothing of the batch is visible or durable and the appender is empty;
  // the caller may retry. A sample that became out of order between Append
  // and Commit (another appender committed a newer one) is dropped and
  // counted, as in Prometheus.
  virtual absl::Status Commit() = 0;
  // Discards the batch.
  virtual void Rollback() = 0;
};

// A forward-only cursor over one series' samples, in time order.
// Use: while (it->Next()) { it->AtT(); it->AtV(); }  then check Err().
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  virtual bool Next() = 0;
  // Advances to the first sample with timestamp >= t (staying put if the
  // current sample already qualifies); false if there is none.
  virtual bool Seek(int64_t t) = 0;
  virtual int64_t AtT() const = 0;
  virtual double AtV() const = 0;
  virtual absl::Status Err() const = 0;
  // For an iterator not yet advanced: appends its samples with mint <= t
  // <= maxt to `out` (one virtual call instead of three per sample); then
  // only Err() may be called.
  virtual void DrainTo(int64_t mint, int64_t maxt, std::vector<model::Sample>* out) {
    DrainSamples(this, mint, maxt, out);
  }

 protected:
  // DrainTo's loop; a final class passing itself gets it without virtual
  // calls.
  template <typename It>
  static void DrainSamples(It* it, int64_t mint, int64_t maxt,
                           std::vector<model::Sample>* out) {
    if (!it->Seek(mint)) return;
    do {
      const int64_t t = it->AtT();
      if (t > maxt) return;
      out->push_back(model::Sample{t, it->AtV()});
    } while (it->Next());
  }
};

class Series {
 public:
  virtual ~Series() = default;
  virtual const model::Labels& labels() const = 0;
  // A new iterator over the series' samples within the query's range.
  virtual std::unique_ptr<SampleIterator> Iterator() const = 0;
};

// A cursor over series sorted by labels (model::Compare).
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  virtual bool Next() = 0;
  // REQUIRES: the last Next() returned true. Valid until the next Next().
  virtual const Series& At() const = 0;
  virtual absl::Status Err() const = 0;
};

// Reads committed data. Safe to use concurrently with appenders; sees
// samples committed before each series is reached by SeriesSet::Next().
class Querier {
 public:
  virtual ~Querier() = default;

  // Series matching all `matchers` that have samples in [mint, maxt]
  // (inclusive, milliseconds), sorted by labels. Matcher semantics are
  // Prometheus's: a matcher that matches the empty string also matches
  // series without that label. With no matchers, nothing is selected.
  virtual std::unique_ptr<SeriesSet> Select(
      const std::vector<model::Matcher>& matchers, int64_t mint,
      int64_t maxt) = 0;

  // Sorted label names of the series matching `matchers` (all series when
  // empty).
  virtual absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<model::Matcher>& matchers) = 0;
  // Sorted values of label `name` over the series matching `matchers`.
  virtual absl::StatusOr<std::vector<std::string>> LabelValues(
      absl::string_view name, const std::vector<model::Matcher>& matchers) = 0;
};

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_STORAGE_H_
