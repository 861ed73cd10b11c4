// CRC32 with the Castagnoli polynomial, as used by Prometheus's index and
// chunk files and by Vigil's WAL.
#ifndef VIGIL_BASE_CRC32C_H_
#define VIGIL_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include "absl/strings/string_view.h"

namespace vigil {

// Extends `crc` (the CRC of earlier bytes, 0 to start) over `data`.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

inline uint32_t Crc32c(absl::string_view data) {
  return Crc32cExtend(0, data.data(), data.size());
}

}  // namespace vigil

#endif  // VIGIL_BASE_CRC32C_H_
