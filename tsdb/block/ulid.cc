#include "tsdb/block/ulid.h"

#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"

namespace vigil::tsdb::block {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr uint64_t kMaxTime = (uint64_t{1} << 48) - 1;

// The value of a base32 character, or -1.
int DecodeChar(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

void FillRandom(uint8_t* p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(p + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += static_cast<size_t>(r);
  }
  if (got < n) {  // No getrandom: fall back to the C++ source.
    std::random_device rd;
    for (size_t i = got; i < n; ++i) p[i] = static_cast<uint8_t>(rd());
  }
}

}  // namespace

Ulid Ulid::FromParts(uint64_t unix_ms, const std::array<uint8_t, 10>& entropy) {
  Ulid u;
  unix_ms &= kMaxTime;
  for (int i = 0; i < 6; ++i)
    u.bytes_[i] = static_cast<uint8_t>(unix_ms >> (40 - 8 * i));
  for (int i = 0; i < 10; ++i) u.bytes_[6 + i] = entropy[i];
  return u;
}

Ulid Ulid::Generate(uint64_t unix_ms) {
  std::array<uint8_t, 10> entropy;
  FillRandom(entropy.data(), entropy.size());
  return FromParts(unix_ms, entropy);
}

Ulid Ulid::Now() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return Generate(static_cast<uint64_t>(ms.count()));
}

uint64_t Ulid::time_ms() const {
  uint64_t t = 0;
  for (int i = 0; i < 6; ++i) t = t << 8 | bytes_[i];
  return t;
}

// 128 bits as 26 groups of 5 bits, most significant first; the first
// character carries only the top 3 bits (2 leading zero bits of padding).
std::string Ulid::ToString() const {
  std::string out(kTextSize, '0');
  for (size_t c = 0; c < kTextSize; ++c) {
    int value = 0;
    for (int b = 0; b < 5; ++b) {
      int bit = static_cast<int>(c) * 5 + b - 2;  // Index into the 128 bits.
      int v = bit < 0 ? 0 : (bytes_[bit / 8] >> (7 - bit % 8)) & 1;
      value = value << 1 | v;
    }
    out[c] = kAlphabet[value];
  }
  return out;
}

absl::StatusOr<Ulid> Ulid::Parse(absl::string_view text) {
  if (text.size() != kTextSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("ULID \"", text, "\": want ", kTextSize, " characters"));
  }
  Ulid u;
  for (size_t c = 0; c < kTextSize; ++c) {
    int value = DecodeChar(text[c]);
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ULID \"", text, "\": invalid character at ", c));
    }
    if (c == 0 && value > 7) {
      return absl::InvalidArgumentError(
          absl::StrCat("ULID \"", text, "\" overflows 128 bits"));
    }
    for (int b = 0; b < 5; ++b) {
      int bit = static_cast<int>(c) * 5 + b - 2;
      if (bit < 0) continue;
      if ((value >> (4 - b)) & 1)
        u.bytes_[bit / 8] |= static_cast<uint8_t>(1 << (7 - bit % 8));
    }
  }
  return u;
}

}  // namespace vigil::tsdb::block
