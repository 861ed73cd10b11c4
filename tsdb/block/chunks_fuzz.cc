// Fuzzes the chunk segment reader on arbitrary segment files: the header
// check, a walk over every chunk (decoding each), and reads at references
// taken from the input. With and without checksums (see index_fuzz.cc).
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/file.h"
#include "tsdb/block/chunks.h"
#include "tsdb/chunkenc/xor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::tsdb::block::Chunk;
  using vigil::tsdb::block::ChunkReader;
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool verify : {true, false}) {
    ChunkReader::Options opts;
    opts.verify_checksums = verify;
    auto r =
        ChunkReader::FromBytes({bytes, bytes.substr(size / 2)}, "fuzz", opts);
    if (!r.ok()) continue;
    auto decode = [](uint64_t, const Chunk& c) {
      auto it = vigil::tsdb::chunkenc::NewIterator(c.encoding, c.data);
      while (it->Next()) {
      }
    };
    (void)(*r)->ForEach(0, decode);
    (void)(*r)->ForEach(1, decode);
    for (size_t i = 8; i + 8 <= size && i < 8 * 64; i += 8) {
      uint64_t ref;
      std::memcpy(&ref, data + i, sizeof(ref));
      auto c = (*r)->Read(ref % 2 == 0 ? ref : ref & 0x1ffffffff);
      if (c.ok()) decode(ref, *c);
    }
  }
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  char tmpl[] = "/tmp/vigil_chunks_fuzz_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return;
  std::string dir = std::string(tmpl) + "/chunks";
  auto w = vigil::tsdb::block::ChunkWriter::Create(dir);
  if (!w.ok()) return;
  for (int c = 0; c < 4; ++c) {
    vigil::tsdb::chunkenc::XorChunk x;
    for (int i = 0; i < 30; ++i) x.Append(c * 100000 + i * 15000, i * 0.5 + c);
    (void)(*w)->Write(vigil::tsdb::chunkenc::Encoding::kXOR, x.Bytes());
  }
  if ((*w)->Finish().ok()) {
    auto bytes = vigil::ReadFile(dir + "/000001");
    if (bytes.ok()) seeds->push_back(*bytes);
  }
  (void)vigil::RemoveAll(tmpl);
}
