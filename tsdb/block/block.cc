#include "tsdb/block/block.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "tsdb/chunkenc/xor.h"

namespace vigil::tsdb::block {
namespace {

// A required file that is missing makes the block damaged, not absent.
absl::Status MissingIsDataLoss(absl::Status s, const std::string& dir) {
  if (absl::IsNotFound(s)) {
    return absl::DataLossError(
        absl::StrCat("block ", dir, " is incomplete: ", s.message()));
  }
  return s;
}

}  // namespace

absl::StatusOr<std::shared_ptr<Block>> Block::Open(
    const std::string& dir, const BlockOptions& options) {
  std::shared_ptr<Block> b(new Block());
  b->dir_ = dir;
  ASSIGN_OR_RETURN(b->meta_, ReadMeta(dir));
  // A block directory is named by its ULID; a mismatch means meta.json
  // was damaged or belongs elsewhere.
  std::string base = std::filesystem::path(dir).filename().string();
  if (base.empty())
    base = std::filesystem::path(dir).parent_path().filename().string();
  if (absl::StatusOr<Ulid> named = Ulid::Parse(base);
      named.ok() && *named != b->meta_.ulid) {
    return absl::DataLossError(absl::StrCat(
        dir, "/", kMetaFilename, ": ulid ", b->meta_.ulid.ToString(),
        " does not match the directory name"));
  }
  index::ReaderOptions index_options;
  index_options.verify_checksums = options.verify_checksums;
  absl::StatusOr<std::unique_ptr<index::IndexReader>> ir =
      index::IndexReader::Open(absl::StrCat(dir, "/", kIndexFilename),
                               index_options);
  if (!ir.ok()) return MissingIsDataLoss(ir.status(), dir);
  b->index_ = std::move(*ir);
  ChunkReader::Options chunk_options;
  chunk_options.verify_checksums = options.verify_checksums;
  absl::StatusOr<std::unique_ptr<ChunkReader>> cr =
      ChunkReader::Open(absl::StrCat(dir, "/", kChunksDirname), chunk_options);
  if (!cr.ok()) return MissingIsDataLoss(cr.status(), dir);
  b->chunks_ = std::move(*cr);
  ASSIGN_OR_RETURN(b->tombstones_, ReadTombstones(dir));
  b->size_ = b->index_->size() + b->chunks_->size();
  for (const char* name : {kMetaFilename, kTombstonesFilename}) {
    absl::StatusOr<int64_t> n = FileSize(absl::StrCat(dir, "/", name));
    if (n.ok()) b->size_ += static_cast<uint64_t>(*n);
  }
  return b;
}

absl::Status Block::Verify() const {
  RETURN_IF_ERROR(index_->Verify());
  ASSIGN_OR_RETURN(index::Postings all, index_->All());
  BlockStats seen;
  model::Labels labels;
  std::vector<index::ChunkMeta> metas;
  for (SeriesRef ref : all) {
    RETURN_IF_ERROR(index_->Series(ref, &labels, &metas));
    ++seen.num_series;
    for (const index::ChunkMeta& c : metas) {
      ASSIGN_OR_RETURN(Chunk chunk, chunks_->Read(c.ref));
      std::unique_ptr<chunkenc::Iterator> it =
          chunkenc::NewIterator(chunk.encoding, chunk.data);
      int64_t first = 0, last = 0;
      uint64_t n = 0;
      while (it->Next()) {
        if (n++ == 0) first = it->AtT();
        last = it->AtT();
      }
      auto bad = [&](absl::string_view what) {
        return absl::DataLossError(absl::StrCat("block ", dir_, ": series ",
                                                labels.ToString(), ", chunk ",
                                                c.ref, ": ", what));
      };
      if (!it->Err().ok()) return bad(it->Err().message());
      if (n == 0 || first != c.mint || last != c.maxt) {
        return bad(absl::StrCat("samples span [", first, ", ", last,
                                "], index says [", c.mint, ", ", c.maxt, "]"));
      }
      if (c.mint < meta_.min_time || c.maxt >= meta_.max_time) {
        return bad("outside the block's time range");
      }
      ++seen.num_chunks;
      seen.num_samples += n;
    }
  }
  for (const auto& [ref, list] : tombstones_.all()) {
    if (!std::binary_search(all.begin(), all.end(), ref)) {
      return absl::DataLossError(
          absl::StrCat("block ", dir_, ": tombstone for unknown series ", ref));
    }
  }
  // numTombstones follows deletions, not the data: not compared.
  seen.num_tombstones = meta_.stats.num_tombstones;
  if (seen != meta_.stats) {
    return absl::DataLossError(absl::StrCat(
        "block ", dir_, ": meta.json stats (series ", meta_.stats.num_series,
        ", chunks ", meta_.stats.num_chunks, ", samples ",
        meta_.stats.num_samples, ") disagree with the data (", seen.num_series,
        ", ", seen.num_chunks, ", ", seen.num_samples, ")"));
  }
  return absl::OkStatus();
}

}  // namespace vigil::tsdb::block
