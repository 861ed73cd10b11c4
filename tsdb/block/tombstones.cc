#include "tsdb/block/tombstones.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/file.h"
#include "base/status_macros.h"

namespace vigil::tsdb::block {
namespace {

constexpr size_t kHeaderSize = 5;
constexpr size_t kCrcSize = 4;

// Whether b starts at or before the instant after a ends (so they merge).
bool Touches(const Interval& a, const Interval& b) {
  return a.maxt == std::numeric_limits<int64_t>::max() || b.mint <= a.maxt + 1;
}

}  // namespace

void AddInterval(Intervals* list, Interval in) {
  // First interval that may merge with `in`: the first whose end reaches
  // the instant before in.mint.
  auto first = std::lower_bound(
      list->begin(), list->end(), in,
      [](const Interval& a, const Interval& b) { return !Touches(a, b); });
  auto last = first;
  while (last != list->end() && Touches(in, *last)) {
    in.mint = std::min(in.mint, last->mint);
    in.maxt = std::max(in.maxt, last->maxt);
    ++last;
  }
  first = list->erase(first, last);
  list->insert(first, in);
}

bool Covers(const Intervals& list, int64_t mint, int64_t maxt) {
  for (const Interval& in : list) {
    if (in.mint <= mint && maxt <= in.maxt) return true;
  }
  return false;
}

uint64_t Tombstones::NumIntervals() const {
  uint64_t n = 0;
  for (const auto& [ref, list] : by_ref_) n += list.size();
  return n;
}

std::string EncodeTombstones(const Tombstones& t) {
  std::string out;
  PutBE32(&out, kTombstonesMagic);
  out.push_back(static_cast<char>(kTombstonesFormatV1));
  for (const auto& [ref, list] : t.all()) {
    for (const Interval& in : list) {
      PutUvarint(&out, ref);
      PutVarint(&out, in.mint);
      PutVarint(&out, in.maxt);
    }
  }
  uint32_t crc = Crc32c(absl::string_view(out).substr(kHeaderSize));
  PutBE32(&out, crc);
  return out;
}

absl::StatusOr<Tombstones> DecodeTombstones(absl::string_view data,
                                            absl::string_view name) {
  auto corrupt = [&](uint64_t off, absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat("tombstones ", name, ": offset ", off, ": ", what));
  };
  if (data.size() < kHeaderSize + kCrcSize) return corrupt(0, "file too short");
  if (GetBE32(data.data()) != kTombstonesMagic)
    return corrupt(0, "bad magic number");
  if (static_cast<uint8_t>(data[4]) != kTombstonesFormatV1) {
    return corrupt(
        4, absl::StrCat("unknown format version ", static_cast<int>(data[4])));
  }
  absl::string_view body =
      data.substr(kHeaderSize, data.size() - kHeaderSize - kCrcSize);
  if (Crc32c(body) != GetBE32(data.data() + data.size() - kCrcSize)) {
    return corrupt(data.size() - kCrcSize, "checksum mismatch");
  }
  Tombstones t;
  Decoder d(body);
  while (d.remaining() > 0) {
    uint64_t at = kHeaderSize + body.size() - d.remaining();
    uint64_t ref = d.Uvarint();
    int64_t mint = d.Varint();
    int64_t maxt = d.Varint();
    if (!d.ok()) return corrupt(at, "truncated entry");
    if (maxt < mint) return corrupt(at, "interval ends before it starts");
    t.Add(ref, Interval{mint, maxt});
  }
  return t;
}

absl::StatusOr<Tombstones> ReadTombstones(const std::string& dir) {
  std::string path = absl::StrCat(dir, "/", kTombstonesFilename);
  absl::StatusOr<std::string> data = ReadFile(path);
  if (absl::IsNotFound(data.status())) return Tombstones();
  if (!data.ok()) return data.status();
  return DecodeTombstones(*data, path);
}

absl::Status WriteTombstones(const std::string& dir, const Tombstones& t) {
  return WriteFileAtomic(absl::StrCat(dir, "/", kTombstonesFilename),
                         EncodeTombstones(t));
}

}  // namespace vigil::tsdb::block
