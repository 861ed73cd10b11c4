#include "api/remote_write_decode.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace vigil::api {
namespace {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

constexpr int kMaxGroupDepth = 64;

// A cursor over one message's bytes.
class Reader {
 public:
  explicit Reader(absl::string_view buf)
      : p_(reinterpret_cast<const uint8_t*>(buf.data())), end_(p_ + buf.size()) {}

  bool done() const { return p_ == end_; }

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      uint8_t b = *p_++;
      // As protobuf: bits past the 64th are dropped.
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);  // Little-endian on the wire and on x86-64.
    p_ += 8;
    return true;
  }
  bool Bytes(absl::string_view* v) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *v = absl::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  // Reads a field key; false at a malformed key.
  bool Key(uint32_t* field, uint32_t* wire) {
    uint64_t k;
    if (!Varint(&k) || k > UINT32_MAX) return false;
    *field = static_cast<uint32_t>(k >> 3);
    *wire = static_cast<uint32_t>(k & 7);
    return *field != 0;
  }
  // Skips the value of a field with wire type `wire` (and number `field`,
  // for groups).
  bool Skip(uint32_t field, uint32_t wire, int depth = 0) {
    uint64_t u;
    absl::string_view s;
    switch (wire) {
      case kVarint:
        return Varint(&u);
      case kFixed64:
        return Fixed64(&u);
      case kLengthDelimited:
        return Bytes(&s);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) return false;
        for (;;) {
          uint32_t f, w;
          if (!Key(&f, &w)) return false;
          if (w == kEndGroup) return f == field;
          if (!Skip(f, w, depth + 1)) return false;
        }
      }
      default:
        return false;  // Stray end-group or wire types 6, 7.
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("proto: cannot parse WriteRequest: malformed ", what));
}

bool DecodeLabel(absl::string_view buf, RwLabel* out) {
  Reader r(buf);
  *out = RwLabel{};
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return false;
    if (f == 1 && w == kLengthDelimited) {
      if (!r.Bytes(&out->name)) return false;
    } else if (f == 2 && w == kLengthDelimited) {
      if (!r.Bytes(&out->value)) return false;
    } else if (!r.Skip(f, w)) {
      return false;
    }
  }
  return true;
}

bool DecodeSample(absl::string_view buf, RwSample* out) {
  Reader r(buf);
  *out = RwSample{0, 0.0};
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return false;
    if (f == 1 && w == kFixed64) {
      uint64_t bits;
      if (!r.Fixed64(&bits)) return false;
      std::memcpy(&out->value, &bits, sizeof(bits));
    } else if (f == 2 && w == kVarint) {
      uint64_t v;
      if (!r.Varint(&v)) return false;
      out->timestamp = static_cast<int64_t>(v);
    } else if (!r.Skip(f, w)) {
      return false;
    }
  }
  return true;
}

// Exemplars: labels (1), value (2), timestamp (3). Checked, not kept.
bool CheckExemplar(absl::string_view buf) {
  Reader r(buf);
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return false;
    if (f == 1 && w == kLengthDelimited) {
      absl::string_view l;
      RwLabel label;
      if (!r.Bytes(&l) || !DecodeLabel(l, &label)) return false;
    } else if (!r.Skip(f, w)) {
      return false;
    }
  }
  return true;
}

// Native histograms: only the framing is checked.
bool CheckMessage(absl::string_view buf) {
  Reader r(buf);
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w) || !r.Skip(f, w)) return false;
  }
  return true;
}

absl::Status DecodeSeries(absl::string_view buf, WriteRequestView* out) {
  RwSeries s{};
  s.labels_begin = static_cast<uint32_t>(out->labels.size());
  s.samples_begin = static_cast<uint32_t>(out->samples.size());
  Reader r(buf);
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return Malformed("TimeSeries");
    absl::string_view sub;
    if (w == kLengthDelimited && f >= 1 && f <= 4) {
      if (!r.Bytes(&sub)) return Malformed("TimeSeries");
      switch (f) {
        case 1:
          if (!DecodeLabel(sub, &out->labels.emplace_back())) return Malformed("Label");
          break;
        case 2:
          if (!DecodeSample(sub, &out->samples.emplace_back())) return Malformed("Sample");
          break;
        case 3:
          if (!CheckExemplar(sub)) return Malformed("Exemplar");
          ++s.exemplars;
          break;
        case 4:
          if (!CheckMessage(sub)) return Malformed("Histogram");
          ++s.histograms;
          break;
      }
    } else if (!r.Skip(f, w)) {
      return Malformed("TimeSeries");
    }
  }
  s.labels_end = static_cast<uint32_t>(out->labels.size());
  s.samples_end = static_cast<uint32_t>(out->samples.size());
  out->series.push_back(s);
  return absl::OkStatus();
}

bool DecodeMetadata(absl::string_view buf, RwMetadata* out) {
  Reader r(buf);
  *out = RwMetadata{};
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return false;
    if (f == 1 && w == kVarint) {
      uint64_t v;
      if (!r.Varint(&v)) return false;
      out->type = static_cast<int32_t>(v);
    } else if (f == 2 && w == kLengthDelimited) {
      if (!r.Bytes(&out->family)) return false;
    } else if (f == 4 && w == kLengthDelimited) {
      if (!r.Bytes(&out->help)) return false;
    } else if (f == 5 && w == kLengthDelimited) {
      if (!r.Bytes(&out->unit)) return false;
    } else if (!r.Skip(f, w)) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status DecodeWriteRequest(absl::string_view body, WriteRequestView* out) {
  out->Clear();
  Reader r(body);
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return Malformed("WriteRequest");
    absl::string_view sub;
    if (f == 1 && w == kLengthDelimited) {
      if (!r.Bytes(&sub)) return Malformed("WriteRequest");
      if (auto s = DecodeSeries(sub, out); !s.ok()) return s;
    } else if (f == 3 && w == kLengthDelimited) {
      if (!r.Bytes(&sub) || !DecodeMetadata(sub, &out->metadata.emplace_back())) {
        return Malformed("MetricMetadata");
      }
    } else if (!r.Skip(f, w)) {
      return Malformed("WriteRequest");
    }
  }
  return absl::OkStatus();
}

}  // namespace vigil::api
