// Chunk encodings. A chunk is a compressed run of (timestamp, value)
// samples of one series. The numbering of encodings is Prometheus's, so a
// chunk is written into a block unchanged (docs/chunks.md).
#ifndef VIGIL_TSDB_CHUNKENC_CHUNK_H_
#define VIGIL_TSDB_CHUNKENC_CHUNK_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tsdb/storage.h"

namespace vigil::tsdb::chunkenc {

enum class Encoding : uint8_t {
  kNone = 0,
  kXOR = 1,  // Prometheus's EncXOR: Gorilla float samples.
};

// Chunk iterators are the storage API's sample cursors.
using Iterator = SampleIterator;

// Returns an iterator over `bytes` (which must outlive it) for `encoding`;
// for an unknown encoding, an iterator whose Err() says so.
std::unique_ptr<Iterator> NewIterator(Encoding encoding, absl::string_view bytes);

}  // namespace vigil::tsdb::chunkenc

#endif  // VIGIL_TSDB_CHUNKENC_CHUNK_H_
