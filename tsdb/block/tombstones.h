// Tombstones: per series, the time intervals whose samples are deleted.
// On disk (a block's `tombstones` file, Prometheus's format):
//   magic 0x0130BA30 <4b> | version 1 <1b> |
//   { series ref <uvarint> | mint <varint> | maxt <varint> }* | CRC32C <4b>
// with the CRC over the entries. An interval is inclusive at both ends.
#ifndef VIGIL_TSDB_BLOCK_TOMBSTONES_H_
#define VIGIL_TSDB_BLOCK_TOMBSTONES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tsdb/storage.h"

namespace vigil::tsdb::block {

inline constexpr char kTombstonesFilename[] = "tombstones";
inline constexpr uint32_t kTombstonesMagic = 0x0130BA30;
inline constexpr uint8_t kTombstonesFormatV1 = 1;

struct Interval {
  int64_t mint;
  int64_t maxt;
  bool Contains(int64_t t) const { return mint <= t && t <= maxt; }
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Sorted, non-overlapping, non-adjacent intervals.
using Intervals = std::vector<Interval>;

// Adds `in` to `list`, merging it with the intervals it overlaps or
// touches.
void AddInterval(Intervals* list, Interval in);
// Whether `list` covers every t in [mint, maxt].
bool Covers(const Intervals& list, int64_t mint, int64_t maxt);

// Series ref -> deleted intervals. Not thread-safe to modify; const use
// is.
class Tombstones {
 public:
  void Add(SeriesRef ref, Interval in) { AddInterval(&by_ref_[ref], in); }
  // The intervals of `ref`, or null when it has none.
  const Intervals* Get(SeriesRef ref) const {
    auto it = by_ref_.find(ref);
    return it == by_ref_.end() ? nullptr : &it->second;
  }
  bool empty() const { return by_ref_.empty(); }
  // Number of intervals over all series (meta.json's numTombstones).
  uint64_t NumIntervals() const;
  const std::map<SeriesRef, Intervals>& all() const { return by_ref_; }
  friend bool operator==(const Tombstones&, const Tombstones&) = default;

 private:
  std::map<SeriesRef, Intervals> by_ref_;
};

// The file contents for `t`, series in ref order.
std::string EncodeTombstones(const Tombstones& t);
// Parses a tombstones file; kDataLoss naming `name` on a bad magic,
// version, checksum or entry.
absl::StatusOr<Tombstones> DecodeTombstones(absl::string_view data,
                                            absl::string_view name);

// Reads `<dir>/tombstones`; a missing file means no tombstones, as in
// Prometheus.
absl::StatusOr<Tombstones> ReadTombstones(const std::string& dir);
// Writes `<dir>/tombstones` atomically and durably.
absl::Status WriteTombstones(const std::string& dir, const Tombstones& t);

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_TOMBSTONES_H_
