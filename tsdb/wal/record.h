// Payloads of the WAL's record types (framing is in wal.h). All integers are
// varints; see docs/wal.md "Record payloads".
//
//   series:     { ref <uvarint>, n <uvarint>, n x (name <uvarint-len bytes>,
//                 value <uvarint-len bytes>) } ...
//   samples:    { ref delta <varint>, t delta <varint>, value <8 bytes BE> } ...
//               (deltas from the previous sample in the record; the first
//               sample's are from zero)
//   tombstones: { ref <uvarint>, mint <varint>, maxt <varint> } ...
#ifndef VIGIL_TSDB_WAL_RECORD_H_
#define VIGIL_TSDB_WAL_RECORD_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "model/labels.h"

namespace vigil::tsdb::wal {

struct RefSample {
  uint64_t ref;
  int64_t t;
  double v;
};

struct RefSeries {
  uint64_t ref;
  // Views into the decoded payload.
  std::vector<std::pair<absl::string_view, absl::string_view>> labels;
};

struct RefTombstone {
  uint64_t ref;
  int64_t mint;
  int64_t maxt;
};

void EncodeSeries(uint64_t ref, const model::Labels& labels, std::string* dst);
void EncodeSamples(const std::vector<RefSample>& samples, std::string* dst);
void EncodeTombstones(const std::vector<RefTombstone>& tombstones,
                      std::string* dst);

// Decoders append to `out` (which the caller may reuse) and fail with
// kDataLoss on malformed input, leaving `out` with what decoded before.
absl::Status DecodeSeries(absl::string_view payload, std::vector<RefSeries>* out);
absl::Status DecodeSamples(absl::string_view payload, std::vector<RefSample>* out);
absl::Status DecodeTombstones(absl::string_view payload,
                              std::vector<RefTombstone>* out);

}  // namespace vigil::tsdb::wal

#endif  // VIGIL_TSDB_WAL_RECORD_H_
