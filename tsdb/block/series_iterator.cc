#include "tsdb/block/series_iterator.h"

#include "absl/strings/str_cat.h"

namespace vigil::tsdb::block {

SeriesIterator::SeriesIterator(const ChunkReader* reader,
                               std::shared_ptr<const void> keep_alive,
                               std::vector<index::ChunkMeta> chunks,
                               Intervals deleted, int64_t mint, int64_t maxt)
    : reader_(reader),
      keep_alive_(std::move(keep_alive)),
      chunks_(std::move(chunks)),
      deleted_(std::move(deleted)),
      mint_(mint),
      maxt_(maxt) {}

bool SeriesIterator::Finish(absl::Status s) {
  done_ = true;
  in_chunk_ = false;
  positioned_ = false;
  if (err_.ok()) err_ = std::move(s);
  return false;
}

bool SeriesIterator::Deleted(int64_t t) {
  while (next_deleted_ < deleted_.size() && deleted_[next_deleted_].maxt < t)
    ++next_deleted_;
  return next_deleted_ < deleted_.size() && deleted_[next_deleted_].mint <= t;
}

bool SeriesIterator::OpenNextChunk() {
  while (next_chunk_ < chunks_.size()) {
    const index::ChunkMeta& c = chunks_[next_chunk_++];
    if (c.maxt < mint_ || Covers(deleted_, c.mint, c.maxt)) continue;
    if (c.mint > maxt_) return false;
    absl::StatusOr<Chunk> chunk = reader_->Read(c.ref);
    if (!chunk.ok()) return Finish(chunk.status());
    if (chunk->encoding != chunkenc::Encoding::kXOR) {
      return Finish(absl::DataLossError(
          absl::StrCat("chunk ", c.ref, ": unsupported encoding ",
                       static_cast<int>(chunk->encoding))));
    }
    it_.Reset(chunk->data);
    in_chunk_ = true;
    positioned_ = false;
    return true;
  }
  return false;
}

bool SeriesIterator::Settle() {
  int64_t t = it_.AtT();
  if (t > maxt_) return Finish();
  if (t < mint_ || Deleted(t)) return Next();
  positioned_ = true;
  return true;
}

bool SeriesIterator::Next() {
  while (!done_) {
    if (in_chunk_ && it_.Next()) {
      int64_t t = it_.AtT();
      if (t > maxt_) return Finish();
      if (t < mint_ || Deleted(t)) continue;
      positioned_ = true;
      return true;
    }
    if (in_chunk_ && !it_.Err().ok()) {
      return Finish(absl::DataLossError(absl::StrCat(
          "chunk ", chunks_[next_chunk_ - 1].ref, ": ", it_.Err().message())));
    }
    if (!OpenNextChunk()) return Finish();
  }
  return false;
}

void SeriesIterator::DrainTo(int64_t mint, int64_t maxt, std::vector<model::Sample>* out) {
  // This class is final: Seek, Next and the accessors are called directly.
  DrainSamples(this, mint, maxt, out);
}

bool SeriesIterator::Seek(int64_t t) {
  if (done_) return false;
  if (t < mint_) t = mint_;
  if (positioned_ && it_.AtT() >= t) return true;
  // Whole chunks that end before t are skipped unread.
  while (!in_chunk_ || chunks_[next_chunk_ - 1].maxt < t) {
    if (!OpenNextChunk()) return Finish();
  }
  if (it_.Seek(t)) return Settle();
  if (!it_.Err().ok()) {
    return Finish(absl::DataLossError(absl::StrCat(
        "chunk ", chunks_[next_chunk_ - 1].ref, ": ", it_.Err().message())));
  }
  return Next();
}

}  // namespace vigil::tsdb::block
