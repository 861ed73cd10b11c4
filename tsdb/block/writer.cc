#include "tsdb/block/writer.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "tsdb/block/block.h"

namespace vigil::tsdb::block {

absl::StatusOr<std::unique_ptr<BlockWriter>> BlockWriter::Create(
    const std::string& parent_dir, int64_t min_time, int64_t max_time,
    std::vector<std::string> symbols, const BlockWriterOptions& options) {
  if (min_time >= max_time) {
    return absl::InvalidArgumentError(
        absl::StrCat("block range [", min_time, ", ", max_time, ") is empty"));
  }
  std::unique_ptr<BlockWriter> w(new BlockWriter());
  BlockMeta& m = w->meta_;
  m.ulid = options.ulid.has_value() ? *options.ulid : Ulid::Now();
  m.min_time = min_time;
  m.max_time = max_time;
  m.compaction_level = options.compaction_level;
  m.sources =
      options.sources.empty() ? std::vector<Ulid>{m.ulid} : options.sources;
  m.parents = options.parents;
  w->dir_ = absl::StrCat(parent_dir, "/", m.ulid.ToString());
  w->tmp_dir_ = w->dir_ + kTmpForCreationSuffix;
  // From here on the destructor removes the temporary directory on error.
  RETURN_IF_ERROR(RemoveAll(w->tmp_dir_));
  RETURN_IF_ERROR(CreateDirs(w->tmp_dir_));
  ASSIGN_OR_RETURN(
      w->chunks_,
      ChunkWriter::Create(absl::StrCat(w->tmp_dir_, "/", kChunksDirname),
                          options.segment_size));
  ASSIGN_OR_RETURN(
      w->index_,
      index::IndexWriter::Create(absl::StrCat(w->tmp_dir_, "/", kIndexFilename),
                                 std::move(symbols)));
  return w;
}

BlockWriter::~BlockWriter() {
  if (!finished_ && !tmp_dir_.empty()) RemoveAll(tmp_dir_).IgnoreError();
}

absl::Status BlockWriter::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

absl::StatusOr<SeriesRef> BlockWriter::AddSeries(
    const model::Labels& labels, const std::vector<ChunkData>& chunks) {
  if (!status_.ok()) return status_;
  if (finished_) return absl::FailedPreconditionError("AddSeries after Finish");
  if (chunks.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("block: series ", labels.ToString(), " has no chunks")));
  }
  uint64_t samples = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkData& c = chunks[i];
    absl::string_view problem;
    if (c.encoding != chunkenc::Encoding::kXOR) {
      problem = "is not XOR encoded";
    } else if (c.bytes.size() < 2 || GetBE16(c.bytes.data()) == 0) {
      problem = "has no samples";
    } else if (c.mint > c.maxt || (i > 0 && c.mint < chunks[i - 1].maxt)) {
      problem = "is out of time order";
    } else if (c.mint < meta_.min_time || c.maxt >= meta_.max_time) {
      problem = "is outside the block's time range";
    }
    if (!problem.empty()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("block: chunk ", i, " [", c.mint, ", ", c.maxt, "] of ",
                       labels.ToString(), " ", problem)));
    }
    samples += GetBE16(c.bytes.data());
  }
  metas_.clear();
  for (const ChunkData& c : chunks) {
    absl::StatusOr<uint64_t> ref = chunks_->Write(c.encoding, c.bytes);
    if (!ref.ok()) return Fail(ref.status());
    metas_.push_back(index::ChunkMeta{*ref, c.mint, c.maxt});
  }
  absl::StatusOr<SeriesRef> ref = index_->AddSeries(labels, metas_);
  if (!ref.ok()) return Fail(ref.status());
  meta_.stats.num_series++;
  meta_.stats.num_chunks += chunks.size();
  meta_.stats.num_samples += samples;
  return *ref;
}

absl::StatusOr<BlockMeta> BlockWriter::Finish() {
  if (!status_.ok()) return status_;
  if (finished_)
    return absl::FailedPreconditionError("block: Finish called twice");
  meta_.stats.num_tombstones = tombstones_.NumIntervals();
  absl::Status s = chunks_->Finish();
  if (s.ok()) s = index_->Finish();
  if (s.ok()) s = WriteTombstones(tmp_dir_, tombstones_);
  if (s.ok()) s = WriteMeta(tmp_dir_, meta_);  // Also fsyncs tmp_dir_.
  if (s.ok() && std::filesystem::exists(dir_)) {
    s = absl::AlreadyExistsError(
        absl::StrCat("block directory ", dir_, " already exists"));
  }
  if (s.ok() && std::rename(tmp_dir_.c_str(), dir_.c_str()) != 0) {
    s = ErrnoStatus(errno, "rename", tmp_dir_);
  }
  if (!s.ok()) return Fail(s);
  finished_ = true;
  // The block is in place; this makes the rename durable.
  RETURN_IF_ERROR(FsyncDir(std::filesystem::path(dir_).parent_path().string()));
  return meta_;
}

}  // namespace vigil::tsdb::block
