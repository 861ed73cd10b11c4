// ULIDs name blocks: 128 bits, a 48-bit Unix time in milliseconds followed
// by 80 random bits, written as 26 characters of Crockford's base32. The
// text sorts like the time, so block directories list oldest first.
#ifndef VIGIL_TSDB_BLOCK_ULID_H_
#define VIGIL_TSDB_BLOCK_ULID_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vigil::tsdb::block {

class Ulid {
 public:
  static constexpr size_t kTextSize = 26;

  // The zero ULID ("00000000000000000000000000").
  Ulid() : bytes_{} {}
  // A new ULID for time `unix_ms` with random bits from the kernel.
  static Ulid Generate(uint64_t unix_ms);
  // A new ULID for the current time.
  static Ulid Now();
  // From a time and 80 given random bits (tests).
  static Ulid FromParts(uint64_t unix_ms,
                        const std::array<uint8_t, 10>& entropy);
  // Parses the text form (case-insensitive). kInvalidArgument when it is
  // not 26 base32 characters or overflows 128 bits.
  static absl::StatusOr<Ulid> Parse(absl::string_view text);

  uint64_t time_ms() const;
  std::string ToString() const;
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }

  friend bool operator==(const Ulid& a, const Ulid& b) {
    return a.bytes_ == b.bytes_;
  }
  friend bool operator!=(const Ulid& a, const Ulid& b) { return !(a == b); }
  friend bool operator<(const Ulid& a, const Ulid& b) {
    return a.bytes_ < b.bytes_;
  }

 private:
  std::array<uint8_t, 16> bytes_;  // Big-endian: time first.
};

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_ULID_H_
