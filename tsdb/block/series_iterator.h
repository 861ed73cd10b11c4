// The samples of one block series: its chunks read from the segment
// files, limited to [mint, maxt], without deleted intervals.
#ifndef VIGIL_TSDB_BLOCK_SERIES_ITERATOR_H_
#define VIGIL_TSDB_BLOCK_SERIES_ITERATOR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "tsdb/block/chunks.h"
#include "tsdb/block/tombstones.h"
#include "tsdb/chunkenc/xor.h"
#include "tsdb/index/format.h"
#include "tsdb/storage.h"

namespace vigil::tsdb::block {

class SeriesIterator final : public SampleIterator {
 public:
  // `chunks` in time order, each overlapping [mint, maxt]; `deleted` as
  // Tombstones::Get. `keep_alive` owns `reader` (may be null in tests).
  SeriesIterator(const ChunkReader* reader,
                 std::shared_ptr<const void> keep_alive,
                 std::vector<index::ChunkMeta> chunks, Intervals deleted,
                 int64_t mint, int64_t maxt);

  bool Next() override;
  bool Seek(int64_t t) override;
  int64_t AtT() const override { return it_.AtT(); }
  double AtV() const override { return it_.AtV(); }
  void DrainTo(int64_t mint, int64_t maxt, std::vector<model::Sample>* out) override;
  // kDataLoss when a chunk failed its checksum or did not decode.
  absl::Status Err() const override { return err_; }

 private:
  // Moves to the next chunk that can hold a sample to return.
  bool OpenNextChunk();
  // Whether the current sample is to be skipped (deleted); advances the
  // tombstone cursor (times only grow).
  bool Deleted(int64_t t);
  // Settles on the current decoded sample or a later one; false at the end.
  bool Settle();
  bool Finish(absl::Status s = absl::OkStatus());

  const ChunkReader* reader_;
  std::shared_ptr<const void> keep_alive_;
  std::vector<index::ChunkMeta> chunks_;
  Intervals deleted_;
  const int64_t mint_, maxt_;
  size_t next_chunk_ = 0;
  size_t next_deleted_ = 0;
  chunkenc::XorIterator it_{absl::string_view()};
  bool in_chunk_ = false;
  bool positioned_ = false;  // it_ is at a sample this iterator returned.
  bool done_ = false;
  absl::Status err_;
};

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_SERIES_ITERATOR_H_
