#include "api/remote_write_decode.h"

#include <algorithm>
#include <cstring>
#include <vector>

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
    if (!Varint(&k)) return false;
    // As protobuf: a tag is 32 bits; longer encodings are truncated.
    uint32_t tag = static_cast<uint32_t>(k);
    *field = tag >> 3;
    *wire = tag & 7;
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

absl::Status MalformedV2(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("proto: cannot parse io.prometheus.write.v2.Request: ", what));
}

// Appends the uint32 values of a repeated field occurrence, packed (wire
// type 2) or not (wire type 0).
bool ReadRefs(Reader* r, uint32_t wire, std::vector<uint32_t>* out) {
  uint64_t v;
  if (wire == kVarint) {
    if (!r->Varint(&v)) return false;
    out->push_back(static_cast<uint32_t>(v));
    return true;
  }
  absl::string_view packed;
  if (!r->Bytes(&packed)) return false;
  Reader p(packed);
  while (!p.done()) {
    if (!p.Varint(&v)) return false;
    out->push_back(static_cast<uint32_t>(v));
  }
  return true;
}

// Resolves pairs of symbol references into labels.
absl::Status ResolveLabels(const std::vector<uint32_t>& refs,
                           const std::vector<absl::string_view>& symbols,
                           std::vector<RwLabel>* out) {
  if (refs.size() % 2 != 0) return MalformedV2("odd number of labels_refs");
  for (size_t i = 0; i < refs.size(); i += 2) {
    if (refs[i] >= symbols.size() || refs[i + 1] >= symbols.size()) {
      return MalformedV2(absl::StrCat("symbol reference ", std::max(refs[i], refs[i + 1]),
                                      " out of range (", symbols.size(), " symbols)"));
    }
    out->push_back(RwLabel{symbols[refs[i]], symbols[refs[i + 1]]});
  }
  return absl::OkStatus();
}

absl::Status DecodeSeriesV2(absl::string_view buf, const std::vector<absl::string_view>& symbols,
                            WriteRequestView* out) {
  RwSeries s{};
  s.labels_begin = static_cast<uint32_t>(out->labels.size());
  s.samples_begin = static_cast<uint32_t>(out->samples.size());
  thread_local std::vector<uint32_t> refs;
  refs.clear();
  bool has_metadata = false;
  RwMetadata md{};
  uint32_t help_ref = 0, unit_ref = 0;
  Reader r(buf);
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return MalformedV2("malformed TimeSeries");
    absl::string_view sub;
    if (f == 1 && (w == kVarint || w == kLengthDelimited)) {
      if (!ReadRefs(&r, w, &refs)) return MalformedV2("malformed labels_refs");
    } else if (w == kLengthDelimited && f >= 2 && f <= 5) {
      if (!r.Bytes(&sub)) return MalformedV2("malformed TimeSeries");
      switch (f) {
        case 2:
          if (!DecodeSample(sub, &out->samples.emplace_back())) return MalformedV2("malformed Sample");
          break;
        case 3:
          if (!CheckMessage(sub)) return MalformedV2("malformed Histogram");
          ++s.histograms;
          break;
        case 4:
          if (!CheckMessage(sub)) return MalformedV2("malformed Exemplar");
          ++s.exemplars;
          break;
        case 5: {
          has_metadata = true;
          Reader m(sub);
          while (!m.done()) {
            uint32_t mf, mw;
            uint64_t v;
            if (!m.Key(&mf, &mw)) return MalformedV2("malformed Metadata");
            if (mw == kVarint && (mf == 1 || mf == 3 || mf == 4)) {
              if (!m.Varint(&v)) return MalformedV2("malformed Metadata");
              if (mf == 1) md.type = static_cast<int32_t>(v);
              if (mf == 3) help_ref = static_cast<uint32_t>(v);
              if (mf == 4) unit_ref = static_cast<uint32_t>(v);
            } else if (!m.Skip(mf, mw)) {
              return MalformedV2("malformed Metadata");
            }
          }
          break;
        }
      }
    } else if (!r.Skip(f, w)) {
      return MalformedV2("malformed TimeSeries");
    }
  }
  if (auto st = ResolveLabels(refs, symbols, &out->labels); !st.ok()) return st;
  s.labels_end = static_cast<uint32_t>(out->labels.size());
  s.samples_end = static_cast<uint32_t>(out->samples.size());
  out->series.push_back(s);
  if (has_metadata) {
    if (help_ref >= symbols.size() || unit_ref >= symbols.size()) {
      return MalformedV2("metadata symbol reference out of range");
    }
    md.help = symbols[help_ref];
    md.unit = symbols[unit_ref];
    for (uint32_t i = s.labels_begin; i < s.labels_end; ++i) {
      if (out->labels[i].name == "__name__") md.family = out->labels[i].value;
    }
    if (!md.family.empty() && (md.type != 0 || !md.help.empty() || !md.unit.empty())) {
      out->metadata.push_back(md);
    }
  }
  return absl::OkStatus();
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

namespace vigil::api {

absl::Status DecodeWriteRequestV2(absl::string_view body, WriteRequestView* out) {
  out->Clear();
  // Symbols may come after the series that use them: collect them first.
  thread_local std::vector<absl::string_view> symbols;
  symbols.clear();
  Reader r(body);
  while (!r.done()) {
    uint32_t f, w;
    if (!r.Key(&f, &w)) return MalformedV2("malformed Request");
    if (f == 4 && w == kLengthDelimited) {
      if (!r.Bytes(&symbols.emplace_back())) return MalformedV2("malformed symbols");
    } else if (!r.Skip(f, w)) {
      return MalformedV2("malformed Request");
    }
  }
  if (!symbols.empty() && !symbols[0].empty()) {
    return MalformedV2("symbols[0] must be the empty string");
  }
  Reader series(body);
  while (!series.done()) {
    uint32_t f, w;
    if (!series.Key(&f, &w)) return MalformedV2("malformed Request");
    absl::string_view sub;
    if (f == 5 && w == kLengthDelimited) {
      if (!series.Bytes(&sub)) return MalformedV2("malformed Request");
      if (auto st = DecodeSeriesV2(sub, symbols, out); !st.ok()) return st;
    } else if (!series.Skip(f, w)) {
      return MalformedV2("malformed Request");
    }
  }
  return absl::OkStatus();
}

}  // namespace vigil::api
