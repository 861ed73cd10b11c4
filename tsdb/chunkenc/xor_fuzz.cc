// Fuzzes the XOR chunk decoder on arbitrary bytes, and the encoder/decoder
// pair on arbitrary samples (which must round-trip bit for bit).
#include <bit>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <string>
#include <vector>

#include "tsdb/chunkenc/xor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::tsdb::chunkenc::XorChunk;
  using vigil::tsdb::chunkenc::XorIterator;
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  XorIterator it(bytes);
  while (it.Next()) {
  }
  XorIterator seeker(bytes);
  if (size >= 8) {
    int64_t t;
    std::memcpy(&t, data, 8);
    seeker.Seek(t);
  }

  // Round trip: 16 bytes per sample (t delta, value bits).
  XorChunk c;
  std::vector<std::pair<int64_t, uint64_t>> in;
  int64_t t = 0;
  for (size_t i = 0; i + 16 <= size && in.size() < 1000; i += 16) {
    uint64_t dt, v;
    std::memcpy(&dt, data + i, 8);
    std::memcpy(&v, data + i + 8, 8);
    t += static_cast<int64_t>(dt % (uint64_t{1} << 40)) + 1;
    in.emplace_back(t, v);
    c.Append(t, std::bit_cast<double>(v));
  }
  XorIterator rt(c.Bytes());
  for (const auto& [ts, v] : in) {
    if (!rt.Next() || rt.AtT() != ts || std::bit_cast<uint64_t>(rt.AtV()) != v) abort();
  }
  if (rt.Next() || !rt.Err().ok()) abort();
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  vigil::tsdb::chunkenc::XorChunk c;
  for (int i = 0; i < 200; ++i) c.Append(i * 15000 + i % 7, i * 0.25);
  seeds->emplace_back(c.Bytes());
}
