// Writes a new block: chunks stream into chunks/ and series into the
// index as they arrive (in label order), so memory stays at the index
// writer's postings. Everything goes to `<parent>/<ULID>.tmp-for-creation/`;
// Finish writes meta.json and an empty tombstones file, fsyncs every file
// and directory and renames the directory to `<parent>/<ULID>/`, so a
// crash leaves either no block or a whole one (plus, at worst, a temporary
// directory that the opener ignores and may delete).
//
// Not thread-safe. Use:
//   auto w = BlockWriter::Create(parent, mint, maxt, symbols, {});
//   for each series in label order: (*w)->AddSeries(labels, chunks);
//   absl::StatusOr<BlockMeta> meta = (*w)->Finish();
#ifndef VIGIL_TSDB_BLOCK_WRITER_H_
#define VIGIL_TSDB_BLOCK_WRITER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "tsdb/block/chunks.h"
#include "tsdb/block/meta.h"
#include "tsdb/block/tombstones.h"
#include "tsdb/chunkenc/chunk.h"
#include "tsdb/index/writer.h"

namespace vigil::tsdb::block {

inline constexpr char kTmpForCreationSuffix[] = ".tmp-for-creation";

// One encoded chunk of a series, exactly as the head holds it
// (tsdb/head/head.h ChunkSpan: bytes.view()).
struct ChunkData {
  int64_t mint;  // Time of its first sample.
  int64_t maxt;  // Time of its last sample.
  absl::string_view bytes;
  chunkenc::Encoding encoding = chunkenc::Encoding::kXOR;
};

struct BlockWriterOptions {
  uint64_t segment_size = kDefaultSegmentSize;
  // meta.json's compaction section. Empty `sources` means the block's own
  // ULID (a level-1 block).
  int compaction_level = 1;
  std::vector<Ulid> sources;
  std::vector<BlockDesc> parents;
  // The block's ULID; generated from the current time when unset.
  std::optional<Ulid> ulid;
};

class BlockWriter {
 public:
  // Starts a block for samples in [min_time, max_time) (max exclusive, as
  // meta.json). `symbols`: every label name and value of the series to
  // come (see index::IndexWriter::Create).
  static absl::StatusOr<std::unique_ptr<BlockWriter>> Create(
      const std::string& parent_dir, int64_t min_time, int64_t max_time,
      std::vector<std::string> symbols, const BlockWriterOptions& options = {});
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;
  // Removes the temporary directory unless Finish succeeded.
  ~BlockWriter();

  // Writes a series and its chunks; returns its ref in the block (what
  // tombstones refer to).
  // REQUIRES: labels strictly increasing from call to call; at least one
  // chunk; chunks in time order, not overlapping, XOR encoded, each inside
  // [min_time, max_time). Violations are kInvalidArgument. After any error
  // the writer is failed and Finish returns that error.
  absl::StatusOr<SeriesRef> AddSeries(const model::Labels& labels,
                                      const std::vector<ChunkData>& chunks);

  // Deletes [in.mint, in.maxt] of series `ref` (a ref AddSeries returned):
  // written to the tombstones file instead of an empty one.
  void AddTombstone(SeriesRef ref, Interval in) { tombstones_.Add(ref, in); }

  // Completes the block and moves it into place; returns its meta.
  absl::StatusOr<BlockMeta> Finish();

  const Ulid& ulid() const { return meta_.ulid; }
  // `<parent>/<ULID>` (where the block is once Finish succeeds).
  const std::string& dir() const { return dir_; }

 private:
  BlockWriter() = default;
  absl::Status Fail(absl::Status s);

  std::string dir_;
  std::string tmp_dir_;
  BlockMeta meta_;
  std::unique_ptr<ChunkWriter> chunks_;
  std::unique_ptr<index::IndexWriter> index_;
  Tombstones tombstones_;
  std::vector<index::ChunkMeta> metas_;  // Scratch.
  bool finished_ = false;
  absl::Status status_;
};

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_WRITER_H_
