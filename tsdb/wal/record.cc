#include "tsdb/wal/record.h"

#include <bit>

#include "base/coding.h"

namespace vigil::tsdb::wal {

void EncodeSeries(uint64_t ref, const model::Labels& labels, std::string* dst) {
  PutUvarint(dst, ref);
  PutUvarint(dst, labels.size());
  for (const model::Label& l : labels) {
    absl::string_view n = l.name.view(), v = l.value.view();
    PutUvarint(dst, n.size());
    dst->append(n.data(), n.size());
    PutUvarint(dst, v.size());
    dst->append(v.data(), v.size());
  }
}

void EncodeSamples(const std::vector<RefSample>& samples, std::string* dst) {
  uint64_t prev_ref = 0;
  int64_t prev_t = 0;
  for (const RefSample& s : samples) {
    PutVarint(dst, static_cast<int64_t>(s.ref - prev_ref));
    PutVarint(dst, s.t - prev_t);
    PutBE64(dst, std::bit_cast<uint64_t>(s.v));
    prev_ref = s.ref;
    prev_t = s.t;
  }
}

void EncodeTombstones(const std::vector<RefTombstone>& tombstones,
                      std::string* dst) {
  for (const RefTombstone& t : tombstones) {
    PutUvarint(dst, t.ref);
    PutVarint(dst, t.mint);
    PutVarint(dst, t.maxt);
  }
}

absl::Status DecodeSeries(absl::string_view payload, std::vector<RefSeries>* out) {
  Decoder d(payload);
  while (d.ok() && d.remaining() > 0) {
    RefSeries s;
    s.ref = d.Uvarint();
    uint64_t n = d.Uvarint();
    if (n > d.remaining()) d.Fail();  // Each label takes >= 2 bytes.
    for (uint64_t i = 0; i < n && d.ok(); ++i) {
      absl::string_view name = d.UvarintBytes();
      absl::string_view value = d.UvarintBytes();
      s.labels.emplace_back(name, value);
    }
    if (!d.ok()) break;
    out->push_back(std::move(s));
  }
  if (!d.ok()) return absl::DataLossError("malformed series record");
  return absl::OkStatus();
}

absl::Status DecodeSamples(absl::string_view payload, std::vector<RefSample>* out) {
  Decoder d(payload);
  uint64_t ref = 0;
  int64_t t = 0;
  while (d.ok() && d.remaining() > 0) {
    ref += static_cast<uint64_t>(d.Varint());
    t += d.Varint();
    double v = std::bit_cast<double>(d.BE64());
    if (!d.ok()) break;
    out->push_back(RefSample{ref, t, v});
  }
  if (!d.ok()) return absl::DataLossError("malformed samples record");
  return absl::OkStatus();
}

absl::Status DecodeTombstones(absl::string_view payload,
                              std::vector<RefTombstone>* out) {
  Decoder d(payload);
  while (d.ok() && d.remaining() > 0) {
    RefTombstone ts;
    ts.ref = d.Uvarint();
    ts.mint = d.Varint();
    ts.maxt = d.Varint();
    if (!d.ok()) break;
    out->push_back(ts);
  }
  if (!d.ok()) return absl::DataLossError("malformed tombstones record");
  return absl::OkStatus();
}

}  // namespace vigil::tsdb::wal
