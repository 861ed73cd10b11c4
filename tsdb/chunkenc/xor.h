// The XOR (Gorilla) chunk encoding, bit for bit Prometheus's EncXOR:
//   num_samples <be16> | t0 <varint> | v0 <64 bits> | t1-t0 <uvarint> |
//   v1 xor | then per sample: delta-of-delta <varbit_ts>, value <varbit_xor>
// padded with zero bits to a whole byte. See docs/chunks.md.
#ifndef VIGIL_TSDB_CHUNKENC_XOR_H_
#define VIGIL_TSDB_CHUNKENC_XOR_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "tsdb/chunkenc/chunk.h"

namespace vigil::tsdb::chunkenc {

// An appendable XOR chunk with its encoder state inline (56 bytes plus the
// encoded bytes), sized for the head's one open chunk per series.
// Not thread-safe; the head guards it.
class XorChunk {
 public:
  XorChunk();
  XorChunk(XorChunk&&) = default;
  XorChunk& operator=(XorChunk&&) = default;
  XorChunk(const XorChunk&) = delete;
  XorChunk& operator=(const XorChunk&) = delete;

  // REQUIRES: NumSamples() < 65535 and t greater than the last timestamp
  // (the head enforces ordering; the encoding itself accepts any t).
  void Append(int64_t t, double v);

  int NumSamples() const { return num_; }
  // The encoded chunk (header included); valid until the next Append.
  absl::string_view Bytes() const {
    return absl::string_view(reinterpret_cast<const char*>(b_.data()), b_.size());
  }
  int64_t LastTime() const { return t_; }
  // Releases spare capacity (call when the chunk is complete).
  void Compact() { b_.shrink_to_fit(); }
  size_t HeapBytes() const { return b_.capacity(); }
  // Where the next Append writes (its last byte and the header), for
  // prefetching.
  const void* write_position() const { return b_.data() + b_.size() - 1; }
  const void* header() const { return b_.data(); }

 private:
  void WriteBits(uint64_t bits, int n);
  void WriteBit(bool bit) { WriteBits(bit ? 1 : 0, 1); }
  void WriteValue(double v);

  std::vector<uint8_t> b_;
  int64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
  uint8_t leading_ = 0xff;  // 0xff: no previous XOR window.
  uint8_t trailing_ = 0;
  uint8_t free_bits_ = 0;  // Unused low bits in the last byte of b_.
  uint16_t num_ = 0;       // Mirrors the header, so appends never load it.
};

// Decodes an XOR chunk. Detects truncation and bad headers (Err()).
class XorIterator final : public Iterator {
 public:
  explicit XorIterator(absl::string_view bytes) { Reset(bytes); }
  void Reset(absl::string_view bytes);

  bool Next() override;
  bool Seek(int64_t t) override;
  int64_t AtT() const override { return t_; }
  double AtV() const override;
  absl::Status Err() const override { return err_; }

 private:
  bool ReadBits(int n, uint64_t* out);
  bool ReadBit(bool* out);
  bool ReadUvarint(uint64_t* out);
  bool ReadValue();
  bool Fail(absl::string_view what);

  const uint8_t* data_ = nullptr;
  size_t size_bits_ = 0;
  size_t pos_ = 0;  // In bits.
  int total_ = 0;
  int read_ = 0;
  int64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
  uint8_t leading_ = 0;
  uint8_t trailing_ = 0;
  absl::Status err_;
};

}  // namespace vigil::tsdb::chunkenc

#endif  // VIGIL_TSDB_CHUNKENC_XOR_H_
