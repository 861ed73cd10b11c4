// Fuzzes the parsers of a block's small files: meta.json (and the JSON
// reader under it) and tombstones. A meta that parses must re-encode to
// text that parses to the same meta.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tsdb/block/meta.h"
#include "tsdb/block/tombstones.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::tsdb::block;
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto meta = ParseMeta(bytes, "fuzz");
  if (meta.ok()) {
    auto again = ParseMeta(EncodeMeta(*meta), "re-encoded");
    if (!again.ok() || !(*again == *meta)) abort();
  }
  auto t = DecodeTombstones(bytes, "fuzz");
  if (t.ok()) {
    auto again = DecodeTombstones(EncodeTombstones(*t), "re-encoded");
    if (!again.ok() || !(*again == *t)) abort();
  }
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  using namespace vigil::tsdb::block;
  BlockMeta m;
  m.ulid = Ulid::Generate(1600000000000);
  m.min_time = 1600000000000;
  m.max_time = 1600007200000;
  m.stats = {1000, 10, 20, 1};
  m.compaction_level = 2;
  m.sources = {Ulid::Generate(1), Ulid::Generate(2)};
  m.parents = {{Ulid::Generate(3), 1, 2}};
  m.hints = {"h"};
  seeds->push_back(EncodeMeta(m));
  Tombstones t;
  t.Add(4, {10, 20});
  t.Add(4, {30, 40});
  t.Add(1000, {-5, 5});
  seeds->push_back(EncodeTombstones(t));
}
