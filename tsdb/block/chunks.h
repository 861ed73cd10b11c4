// Chunk segment files (a block's chunks/000001, 000002 ...) in Prometheus's
// format: an 8-byte header (magic 0x85BD40DD, version 1, 3 zero bytes),
// then chunks laid end to end, each "len <uvarint> | encoding <1b> | data |
// CRC32C(encoding, data) <4b>". A chunk is referenced by
// (segment index << 32 | offset), the index counting from 0 for 000001.
#ifndef VIGIL_TSDB_BLOCK_CHUNKS_H_
#define VIGIL_TSDB_BLOCK_CHUNKS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/file.h"
#include "tsdb/chunkenc/chunk.h"

namespace vigil::tsdb::block {

inline constexpr uint32_t kChunksMagic = 0x85BD40DD;
inline constexpr uint8_t kChunksFormatV1 = 1;
inline constexpr size_t kSegmentHeaderSize = 8;
inline constexpr uint64_t kDefaultSegmentSize = uint64_t{512} << 20;

inline uint64_t ChunkRef(uint32_t segment, uint32_t offset) {
  return uint64_t{segment} << 32 | offset;
}

// The name of segment `index` (0-based): "000001" for 0.
std::string SegmentName(size_t index);

// Writes chunks into segment files of at most `segment_size` bytes (a chunk
// larger than that gets a segment of its own). Not thread-safe.
class ChunkWriter {
 public:
  // Creates `dir` (the block's chunks/ directory).
  static absl::StatusOr<std::unique_ptr<ChunkWriter>> Create(
      const std::string& dir, uint64_t segment_size = kDefaultSegmentSize);
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;
  ~ChunkWriter();

  // Appends a chunk; returns its reference.
  absl::StatusOr<uint64_t> Write(chunkenc::Encoding encoding,
                                 absl::string_view data);
  // Fsyncs and closes every segment, then fsyncs the directory.
  // REQUIRES: Finish() has not been called.
  absl::Status Finish();

  size_t num_segments() const { return segments_; }
  uint64_t bytes_written() const { return bytes_; }

 private:
  ChunkWriter(std::string dir, uint64_t segment_size)
      : dir_(std::move(dir)), segment_size_(segment_size) {}
  absl::Status Cut();
  absl::Status Fail(absl::Status s);

  const std::string dir_;
  const uint64_t segment_size_;
  std::unique_ptr<FileWriter> file_;
  size_t segments_ = 0;
  uint64_t bytes_ = 0;
  absl::Status status_;
};

struct Chunk {
  chunkenc::Encoding encoding;
  absl::string_view data;  // Valid while the reader lives.
};

// Reads chunks by reference from memory-mapped segment files. Thread-safe.
class ChunkReader {
 public:
  struct Options {
    // As index::ReaderOptions::verify_checksums.
    bool verify_checksums = true;
  };

  // Maps the segments in `dir` (files named by 6 digits, numbered from
  // 000001 without gaps; other names are ignored) and checks their headers.
  static absl::StatusOr<std::unique_ptr<ChunkReader>> Open(
      const std::string& dir, const Options& options);
  static absl::StatusOr<std::unique_ptr<ChunkReader>> Open(
      const std::string& dir) {
    return Open(dir, Options{});
  }
  // Segments held in memory (tests, fuzzing); they must outlive the reader.
  static absl::StatusOr<std::unique_ptr<ChunkReader>> FromBytes(
      std::vector<absl::string_view> segments, std::string name,
      const Options& options);

  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  // The chunk at `ref`, its CRC checked. kDataLoss naming the segment and
  // offset when `ref` does not point at an intact chunk.
  absl::StatusOr<Chunk> Read(uint64_t ref) const;

  // Walks segment `index` from start to end, calling fn(ref, chunk) for
  // each chunk; kDataLoss at the first damaged chunk.
  absl::Status ForEach(
      size_t index,
      const std::function<void(uint64_t, const Chunk&)>& fn) const;

  size_t num_segments() const { return segments_.size(); }
  uint64_t size() const;

 private:
  ChunkReader(std::string name, const Options& options)
      : name_(std::move(name)), options_(options) {}
  absl::Status CheckHeaders() const;
  absl::Status Corrupt(size_t segment, uint64_t offset,
                       absl::string_view what) const;
  // The chunk at `offset` of segment `index` and the offset after it.
  absl::StatusOr<Chunk> ReadAt(size_t index, uint64_t offset,
                               uint64_t* next) const;

  std::string name_;  // The directory, for errors.
  Options options_;
  std::vector<MappedFile> files_;  // Empty for FromBytes.
  std::vector<absl::string_view> segments_;
};

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_CHUNKS_H_
