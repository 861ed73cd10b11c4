// main() for fuzz targets in normal (non-libFuzzer) builds, so that every
// target compiles and runs in `make test`: each target gets its files from
// argv, or else a deterministic set of random and truncated inputs. Real
// fuzzing uses libFuzzer's main instead (`make fuzz`).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional: a target may offer well-formed seed inputs to mutate.
extern "C" __attribute__((weak)) void VigilFuzzSeeds(std::vector<std::string>* seeds);

int main(int argc, char** argv) {
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    ++runs;
  }
  if (argc > 1) {
    std::printf("fuzz driver: %zu inputs ran\n", runs);
    return 0;
  }
  std::vector<std::string> seeds;
  if (VigilFuzzSeeds != nullptr) VigilFuzzSeeds(&seeds);
  std::mt19937_64 rng(12345);
  auto run = [&](const std::string& s) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    ++runs;
  };
  for (const std::string& seed : seeds) {
    run(seed);
    for (size_t cut = 0; cut < seed.size(); cut += 1 + seed.size() / 64) run(seed.substr(0, cut));
    for (int m = 0; m < 300; ++m) {  // Bit flips and byte stores.
      std::string s = seed;
      if (s.empty()) break;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        size_t pos = rng() % s.size();
        if (rng() % 2) {
          s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
        } else {
          s[pos] = static_cast<char>(rng());
        }
      }
      run(s);
    }
  }
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 512, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    run(s);
  }
  std::printf("fuzz driver: %zu inputs ran\n", runs);
  return 0;
}
