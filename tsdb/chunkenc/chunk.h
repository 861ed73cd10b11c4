// Chunk encodings. A chunk is a compressed run of (timestamp, value)
// samples of one series. The numbering of encodings is Prometheus's, so a
// chunk is written into a block unchanged (docs/chunks.md).
#ifndef VIGIL_TSDB_CHUNKENC_CHUNK_H_
#define VIGIL_TSDB_CHUNKENC_CHUNK_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vigil::tsdb::chunkenc {

enum class Encoding : uint8_t {
  kNone = 0,
  kXOR = 1,  // Prometheus's EncXOR: Gorilla float samples.
};

// A sample-by-sample cursor over one chunk.
// Use: while (it->Next()) { it->AtT(); it->AtV(); }  then check Err().
class Iterator {
 public:
  virtual ~Iterator() = default;
  // Advances to the next sample; false at the end or on error.
  virtual bool Next() = 0;
  // Advances to the first sample with timestamp >= t (staying put if the
  // current sample already qualifies); false if there is none.
  virtual bool Seek(int64_t t) = 0;
  virtual int64_t AtT() const = 0;
  virtual double AtV() const = 0;
  virtual absl::Status Err() const = 0;
};

// Returns an iterator over `bytes` (which must outlive it) for `encoding`;
// for an unknown encoding, an iterator whose Err() says so.
std::unique_ptr<Iterator> NewIterator(Encoding encoding, absl::string_view bytes);

}  // namespace vigil::tsdb::chunkenc

#endif  // VIGIL_TSDB_CHUNKENC_CHUNK_H_
