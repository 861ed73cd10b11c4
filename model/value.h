// Sample values and timestamps.
#ifndef VIGIL_MODEL_VALUE_H_
#define VIGIL_MODEL_VALUE_H_

#include <bit>
#include <cstdint>

namespace vigil::model {

// Milliseconds since the Unix epoch, as in Prometheus.
using Timestamp = int64_t;

// Prometheus's staleness marker: a NaN with a specific bit pattern that
// marks a series as ended. An ordinary NaN (e.g. 0/0) is a value, not a
// marker, so code must compare bits, never use isnan.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
// The NaN Go's math.NaN() returns; Prometheus writes it for a plain NaN.
inline constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) {
  return std::bit_cast<uint64_t>(v) == kStaleNaNBits;
}

struct Sample {
  Timestamp t = 0;
  double v = 0;
};

}  // namespace vigil::model

#endif  // VIGIL_MODEL_VALUE_H_
