#include "tsdb/chunkenc/xor.h"

#include <bit>

#include "absl/strings/str_cat.h"
#include "base/coding.h"

namespace vigil::tsdb::chunkenc {
namespace {

constexpr size_t kHeaderBytes = 2;
// As Prometheus: most chunks end between 128 and 256 bytes, so this saves
// two reallocations per chunk.
constexpr size_t kInitialCapacity = 128;

// Whether `dod` fits the signed `nbits`-wide bucket of the timestamp
// encoding. The ranges are asymmetric (one more positive value), as in
// Prometheus.
bool FitsBits(int64_t dod, int nbits) {
  return -((int64_t{1} << (nbits - 1)) - 1) <= dod &&
         dod <= (int64_t{1} << (nbits - 1));
}

class ErrIterator final : public Iterator {
 public:
  explicit ErrIterator(absl::Status s) : s_(std::move(s)) {}
  bool Next() override { return false; }
  bool Seek(int64_t) override { return false; }
  int64_t AtT() const override { return 0; }
  double AtV() const override { return 0; }
  absl::Status Err() const override { return s_; }

 private:
  absl::Status s_;
};

}  // namespace

std::unique_ptr<Iterator> NewIterator(Encoding encoding, absl::string_view bytes) {
  if (encoding == Encoding::kXOR) return std::make_unique<XorIterator>(bytes);
  return std::make_unique<ErrIterator>(absl::DataLossError(
      absl::StrCat("unsupported chunk encoding ", static_cast<int>(encoding))));
}

XorChunk::XorChunk() {
  b_.reserve(kInitialCapacity);
  b_.resize(kHeaderBytes, 0);
}

void XorChunk::WriteBits(uint64_t bits, int n) {
  if (n < 64) bits &= (uint64_t{1} << n) - 1;
  // Top up the partial last byte.
  if (free_bits_ > 0) {
    int take = n < free_bits_ ? n : free_bits_;
    b_.back() |= static_cast<uint8_t>((bits >> (n - take)) << (free_bits_ - take));
    free_bits_ = static_cast<uint8_t>(free_bits_ - take);
    n -= take;
    if (n == 0) return;
  }
  // Whole bytes, then the remainder left-aligned in a new byte.
  size_t old = b_.size();
  size_t add = static_cast<size_t>((n + 7) / 8);
  b_.resize(old + add);
  uint8_t* p = b_.data() + old;
  while (n >= 8) {
    n -= 8;
    *p++ = static_cast<uint8_t>(bits >> n);
  }
  if (n > 0) {
    *p = static_cast<uint8_t>(bits << (8 - n));
    free_bits_ = static_cast<uint8_t>(8 - n);
  }
}

void XorChunk::WriteValue(double v) {
  uint64_t bits = std::bit_cast<uint64_t>(v);
  uint64_t delta = bits ^ v_bits_;
  v_bits_ = bits;
  if (delta == 0) {
    WriteBit(false);
    return;
  }
  WriteBit(true);
  uint8_t leading = static_cast<uint8_t>(std::countl_zero(delta));
  uint8_t trailing = static_cast<uint8_t>(std::countr_zero(delta));
  if (leading >= 32) leading = 31;  // Leading count is stored in 5 bits.
  if (leading_ != 0xff && leading >= leading_ && trailing >= trailing_) {
    // Fits the previous window: reuse it.
    WriteBit(false);
    WriteBits(delta >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = leading;
  trailing_ = trailing;
  WriteBit(true);
  WriteBits(leading, 5);
  int sigbits = 64 - leading - trailing;
  // 64 significant bits do not fit 6 bits; 0 stands for 64 (0 itself can't
  // occur because delta != 0).
  WriteBits(static_cast<uint64_t>(sigbits) & 0x3f, 6);
  WriteBits(delta >> trailing, sigbits);
}

void XorChunk::Append(int64_t t, double v) {
  int n = NumSamples();
  uint8_t buf[kMaxVarintLen64];
  if (n == 0) {
    int len = EncodeUvarint(buf, ZigZagEncode(t));
    b_.insert(b_.end(), buf, buf + len);
    uint64_t bits = std::bit_cast<uint64_t>(v);
    WriteBits(bits, 64);
    v_bits_ = bits;
    t_delta_ = 0;
  } else if (n == 1) {
    t_delta_ = static_cast<uint64_t>(t - t_);
    // The stream is byte-aligned here: header, varint and 64 bits so far.
    int len = EncodeUvarint(buf, t_delta_);
    b_.insert(b_.end(), buf, buf + len);
    WriteValue(v);
  } else {
    uint64_t delta = static_cast<uint64_t>(t - t_);
    int64_t dod = static_cast<int64_t>(delta - t_delta_);
    if (dod == 0) {
      WriteBit(false);
    } else if (FitsBits(dod, 14)) {
      WriteBits(0b10, 2);
      WriteBits(static_cast<uint64_t>(dod), 14);
    } else if (FitsBits(dod, 17)) {
      WriteBits(0b110, 3);
      WriteBits(static_cast<uint64_t>(dod), 17);
    } else if (FitsBits(dod, 20)) {
      WriteBits(0b1110, 4);
      WriteBits(static_cast<uint64_t>(dod), 20);
    } else {
      WriteBits(0b1111, 4);
      WriteBits(static_cast<uint64_t>(dod), 64);
    }
    t_delta_ = delta;
    WriteValue(v);
  }
  t_ = t;
  num_ = static_cast<uint16_t>(n + 1);
  b_[0] = static_cast<uint8_t>(num_ >> 8);
  b_[1] = static_cast<uint8_t>(num_);
}

void XorIterator::Reset(absl::string_view bytes) {
  data_ = reinterpret_cast<const uint8_t*>(bytes.data());
  size_bits_ = bytes.size() * 8;
  pos_ = kHeaderBytes * 8;
  read_ = 0;
  t_ = 0;
  t_delta_ = 0;
  v_bits_ = 0;
  leading_ = 0;
  trailing_ = 0;
  err_ = absl::OkStatus();
  total_ = 0;
  if (bytes.size() < kHeaderBytes) {
    Fail("chunk shorter than its header");
    return;
  }
  total_ = GetBE16(data_);
}

bool XorIterator::Fail(absl::string_view what) {
  if (err_.ok()) {
    err_ = absl::DataLossError(absl::StrCat("corrupt XOR chunk: ", what,
                                            " (sample ", read_, " of ", total_, ")"));
  }
  total_ = read_;  // Stop iterating.
  return false;
}

bool XorIterator::ReadBit(bool* out) {
  if (pos_ >= size_bits_) return Fail("truncated");
  *out = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1;
  ++pos_;
  return true;
}

bool XorIterator::ReadBits(int n, uint64_t* out) {
  if (n == 0) {
    *out = 0;
    return true;
  }
  if (pos_ + static_cast<size_t>(n) > size_bits_) return Fail("truncated");
  if (n > 56) {  // Split so a single 8-byte window always suffices.
    uint64_t hi, lo;
    ReadBits(n - 32, &hi);
    ReadBits(32, &lo);
    *out = (hi << 32) | lo;
    return true;
  }
  size_t byte = pos_ >> 3;
  int off = static_cast<int>(pos_ & 7);
  uint64_t w;
  size_t avail = (size_bits_ >> 3) - byte;
  if (avail >= 8) {
    w = GetBE64(data_ + byte);
  } else {
    w = 0;
    for (size_t i = 0; i < avail; ++i) w |= uint64_t{data_[byte + i]} << (56 - 8 * i);
  }
  *out = (w << off) >> (64 - n);
  pos_ += static_cast<size_t>(n);
  return true;
}

bool XorIterator::ReadUvarint(uint64_t* out) {
  // Only used while the stream is byte-aligned.
  size_t byte = pos_ >> 3;
  const uint8_t* end = data_ + (size_bits_ >> 3);
  const uint8_t* next = DecodeUvarint(data_ + byte, end, out);
  if (next == nullptr) return Fail("bad varint");
  pos_ = static_cast<size_t>(next - data_) * 8;
  return true;
}

bool XorIterator::ReadValue() {
  bool bit = false;
  if (!ReadBit(&bit)) return false;
  if (!bit) return true;  // Same value.
  if (!ReadBit(&bit)) return false;
  if (bit) {
    uint64_t leading, sigbits;
    if (!ReadBits(5, &leading) || !ReadBits(6, &sigbits)) return false;
    if (sigbits == 0) sigbits = 64;
    if (leading + sigbits > 64) return Fail("bad XOR window");
    leading_ = static_cast<uint8_t>(leading);
    trailing_ = static_cast<uint8_t>(64 - leading - sigbits);
  } else if (leading_ + trailing_ >= 64) {
    return Fail("XOR window reused before being set");
  }
  uint64_t bits;
  if (!ReadBits(64 - leading_ - trailing_, &bits)) return false;
  v_bits_ ^= bits << trailing_;
  return true;
}

bool XorIterator::Next() {
  if (read_ >= total_) return false;
  if (read_ == 0) {
    uint64_t zz;
    if (!ReadUvarint(&zz) || !ReadBits(64, &v_bits_)) return false;
    t_ = ZigZagDecode(zz);
  } else if (read_ == 1) {
    if (!ReadUvarint(&t_delta_)) return false;
    t_ += static_cast<int64_t>(t_delta_);
    if (!ReadValue()) return false;
  } else {
    int prefix = 0;
    while (prefix < 4) {
      bool bit = false;
      if (!ReadBit(&bit)) return false;
      if (!bit) break;
      ++prefix;
    }
    static constexpr int kWidths[] = {0, 14, 17, 20, 64};
    int width = kWidths[prefix];
    int64_t dod = 0;
    if (width > 0) {
      uint64_t bits;
      if (!ReadBits(width, &bits)) return false;
      if (width < 64 && bits > (uint64_t{1} << (width - 1))) {
        bits -= uint64_t{1} << width;  // Sign-extend.
      }
      dod = static_cast<int64_t>(bits);
    }
    t_delta_ = static_cast<uint64_t>(static_cast<int64_t>(t_delta_) + dod);
    t_ += static_cast<int64_t>(t_delta_);
    if (!ReadValue()) return false;
  }
  ++read_;
  return true;
}

bool XorIterator::Seek(int64_t t) {
  while (read_ == 0 || t_ < t) {
    if (!Next()) return false;
  }
  return true;
}

double XorIterator::AtV() const { return std::bit_cast<double>(v_bits_); }

}  // namespace vigil::tsdb::chunkenc
