// Fixed-width big-endian and varint coding. Varints follow the Protobuf/Go
// encoding (base-128, little-endian groups); signed varints are zigzag
// encoded, like Go's binary.PutVarint.
#ifndef VIGIL_BASE_CODING_H_
#define VIGIL_BASE_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include "absl/strings/string_view.h"

namespace vigil {

constexpr int kMaxVarintLen64 = 10;

inline void PutBE16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  dst->append(b, 2);
}
inline void PutBE32(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (24 - 8 * i));
  dst->append(b, 4);
}
inline void PutBE64(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  dst->append(b, 8);
}
inline uint16_t GetBE16(const void* p) {
  const auto* b = static_cast<const uint8_t*>(p);
  return static_cast<uint16_t>((b[0] << 8) | b[1]);
}
inline uint32_t GetBE32(const void* p) {
  const auto* b = static_cast<const uint8_t*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
         (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}
inline uint64_t GetBE64(const void* p) {
  return (uint64_t{GetBE32(p)} << 32) |
         GetBE32(static_cast<const uint8_t*>(p) + 4);
}

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writes `v` as a uvarint into `buf` (at least kMaxVarintLen64 bytes);
// returns the number of bytes written.
inline int EncodeUvarint(uint8_t* buf, uint64_t v) {
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<uint8_t>(v);
  return n;
}
inline void PutUvarint(std::string* dst, uint64_t v) {
  uint8_t buf[kMaxVarintLen64];
  dst->append(reinterpret_cast<char*>(buf), EncodeUvarint(buf, v));
}
inline void PutVarint(std::string* dst, int64_t v) {
  PutUvarint(dst, ZigZagEncode(v));
}
inline int UvarintLen(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Decodes a uvarint from [p, end). Returns the position after it, or nullptr
// when the input is truncated or the varint overflows 64 bits.
const uint8_t* DecodeUvarint(const uint8_t* p, const uint8_t* end,
                             uint64_t* v);

// Decoder reads values from a byte buffer and remembers the first error
// (truncation or overflow): after an error every read returns zero, so
// callers may check ok() once after a sequence of reads.
class Decoder {
 public:
  explicit Decoder(absl::string_view data)
      : p_(reinterpret_cast<const uint8_t*>(data.data())),
        end_(p_ + data.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const { return p_; }

  // Inline: index and chunk readers decode millions of these per query.
  uint8_t Byte() {
    if (p_ == end_) {
      Fail();
      return 0;
    }
    return *p_++;
  }
  uint16_t BE16();
  uint32_t BE32() {
    if (remaining() < 4) {
      Fail();
      return 0;
    }
    const uint32_t v = GetBE32(p_);
    p_ += 4;
    return v;
  }
  uint64_t BE64();
  uint64_t Uvarint() {
    if (p_ != end_ && *p_ < 0x80) return *p_++;  // Most are one byte.
    return SlowUvarint();
  }
  int64_t Varint() { return ZigZagDecode(Uvarint()); }
  // A uvarint length followed by that many bytes.
  absl::string_view UvarintBytes() {
    const uint64_t n = Uvarint();
    if (!ok_) return {};
    return Bytes(n);
  }
  absl::string_view Bytes(size_t n) {
    if (remaining() < n) {
      Fail();
      return {};
    }
    absl::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  void Fail() {
    ok_ = false;
    p_ = end_;
  }

 private:
  uint64_t SlowUvarint();

  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

}  // namespace vigil

#endif  // VIGIL_BASE_CODING_H_
