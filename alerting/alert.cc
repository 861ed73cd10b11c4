#include "alerting/alert.h"

#include "absl/strings/str_format.h"

namespace vigil::alerting {

uint64_t Fingerprint(const model::Labels& labels) {
  // FNV-1a, 64 bit.
  uint64_t h = 14695981039346656037ULL;
  auto add = [&h](absl::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const model::Label& l : labels) {
    add(l.name.view());
    add(l.value.view());
  }
  return h;
}

std::string FingerprintHex(const model::Labels& labels) {
  return absl::StrFormat("%016x", Fingerprint(labels));
}

}  // namespace vigil::alerting
