// An immutable on-disk block in Prometheus's format:
//   <dir>/meta.json   identity, time range, stats (meta.h)
//   <dir>/index       series, labels and postings (tsdb/index/)
//   <dir>/chunks/     chunk segment files (chunks.h)
//   <dir>/tombstones  deleted intervals (tombstones.h)
// Opening maps the index and chunk files and checks what can be checked
// cheaply (meta.json, headers, TOC, symbol and postings offset table
// CRCs); the rest is checked as it is read. Corruption is kDataLoss and is
// never served as data.
//
// A Block is shared (std::shared_ptr): queriers keep it, and so its maps,
// alive. All methods are const and thread-safe.
#ifndef VIGIL_TSDB_BLOCK_BLOCK_H_
#define VIGIL_TSDB_BLOCK_BLOCK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tsdb/block/chunks.h"
#include "tsdb/block/meta.h"
#include "tsdb/block/tombstones.h"
#include "tsdb/index/reader.h"
#include "tsdb/storage.h"

namespace vigil::tsdb::block {

inline constexpr char kIndexFilename[] = "index";
inline constexpr char kChunksDirname[] = "chunks";

struct BlockOptions {
  // As index::ReaderOptions::verify_checksums; only fuzzing turns it off.
  bool verify_checksums = true;
};

class Block : public std::enable_shared_from_this<Block> {
 public:
  // Opens the block in `dir`. kNotFound when there is no meta.json (an
  // interrupted write: the caller may delete the directory); kDataLoss for
  // a damaged block, naming the file and offset.
  static absl::StatusOr<std::shared_ptr<Block>> Open(
      const std::string& dir, const BlockOptions& options = {});
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  const std::string& dir() const { return dir_; }
  const BlockMeta& meta() const { return meta_; }
  const index::IndexReader& index() const { return *index_; }
  const ChunkReader& chunks() const { return *chunks_; }
  const Tombstones& tombstones() const { return tombstones_; }
  // Bytes of the index, chunk segments, tombstones and meta.json.
  uint64_t size() const { return size_; }

  // Whether the block may hold samples with mint <= t <= maxt.
  bool Overlaps(int64_t mint, int64_t maxt) const {
    return mint < meta_.max_time && maxt >= meta_.min_time;
  }

  // A Querier over this block (deleted intervals hidden). It shares
  // ownership of the block.
  std::unique_ptr<Querier> NewQuerier() const;

  // Reads and checks everything: the index (IndexReader::Verify), every
  // chunk (checksum, decodes, first/last sample times match the index,
  // inside the block's range), tombstones refer to series, and the stats
  // in meta.json match. For `tsdb check`.
  absl::Status Verify() const;

 private:
  Block() = default;

  std::string dir_;
  BlockMeta meta_;
  std::unique_ptr<index::IndexReader> index_;
  std::unique_ptr<ChunkReader> chunks_;
  Tombstones tombstones_;
  uint64_t size_ = 0;
};

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_BLOCK_H_
