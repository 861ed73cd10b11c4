#include "tsdb/block/chunks.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/status_macros.h"

namespace vigil::tsdb::block {
namespace {

// Offsets are 32 bits in a chunk reference.
constexpr uint64_t kMaxSegmentSize = std::numeric_limits<uint32_t>::max();

bool IsSegmentName(absl::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isdigit(c);
  });
}

}  // namespace

std::string SegmentName(size_t index) {
  return absl::StrFormat("%06d", index + 1);
}

absl::StatusOr<std::unique_ptr<ChunkWriter>> ChunkWriter::Create(
    const std::string& dir, uint64_t segment_size) {
  RETURN_IF_ERROR(CreateDirs(dir));
  return std::unique_ptr<ChunkWriter>(
      new ChunkWriter(dir, std::min(segment_size, kMaxSegmentSize)));
}

ChunkWriter::~ChunkWriter() = default;

absl::Status ChunkWriter::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

absl::Status ChunkWriter::Cut() {
  if (file_ != nullptr) {
    RETURN_IF_ERROR(file_->Sync());
    RETURN_IF_ERROR(file_->Close());
  }
  ASSIGN_OR_RETURN(file_, FileWriter::Create(
                              absl::StrCat(dir_, "/", SegmentName(segments_))));
  ++segments_;
  std::string header;
  PutBE32(&header, kChunksMagic);
  header.push_back(static_cast<char>(kChunksFormatV1));
  header.append(3, '\0');
  bytes_ += header.size();
  return file_->Append(header);
}

absl::StatusOr<uint64_t> ChunkWriter::Write(chunkenc::Encoding encoding,
                                            absl::string_view data) {
  if (!status_.ok()) return status_;
  std::string head;
  PutUvarint(&head, data.size());
  head.push_back(static_cast<char>(encoding));
  const uint64_t total = head.size() + data.size() + 4;
  bool cut = file_ == nullptr || (file_->position() + total > segment_size_ &&
                                  file_->position() > kSegmentHeaderSize);
  if (cut) {
    if (absl::Status s = Cut(); !s.ok()) return Fail(s);
  }
  uint64_t ref = ChunkRef(static_cast<uint32_t>(segments_ - 1),
                          static_cast<uint32_t>(file_->position()));
  uint32_t crc =
      Crc32cExtend(Crc32c(absl::string_view(head).substr(head.size() - 1)),
                   data.data(), data.size());
  std::string tail;
  PutBE32(&tail, crc);
  for (absl::string_view part :
       {absl::string_view(head), data, absl::string_view(tail)}) {
    if (absl::Status s = file_->Append(part); !s.ok()) return Fail(s);
  }
  bytes_ += total;
  return ref;
}

absl::Status ChunkWriter::Finish() {
  if (!status_.ok()) return status_;
  if (file_ != nullptr) {
    absl::Status s = file_->Sync();
    if (s.ok()) s = file_->Close();
    if (!s.ok()) return Fail(s);
    file_.reset();
  }
  return Fail(FsyncDir(dir_));
}

absl::StatusOr<std::unique_ptr<ChunkReader>> ChunkReader::Open(
    const std::string& dir, const Options& options) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  std::vector<std::pair<uint64_t, std::string>> numbered;
  for (const std::string& n : names) {
    uint64_t seq;
    if (IsSegmentName(n) && absl::SimpleAtoi(n, &seq))
      numbered.emplace_back(seq, n);
  }
  std::sort(numbered.begin(), numbered.end());
  std::unique_ptr<ChunkReader> r(new ChunkReader(dir, options));
  for (size_t i = 0; i < numbered.size(); ++i) {
    if (numbered[i].first != i + 1) {
      return absl::DataLossError(
          absl::StrCat("chunks ", dir, ": segment ", SegmentName(i),
                       " is missing (found ", numbered[i].second, ")"));
    }
    ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(absl::StrCat(
                                       dir, "/", numbered[i].second)));
    r->segments_.push_back(f.data());
    r->files_.push_back(std::move(f));
  }
  RETURN_IF_ERROR(r->CheckHeaders());
  return r;
}

absl::StatusOr<std::unique_ptr<ChunkReader>> ChunkReader::FromBytes(
    std::vector<absl::string_view> segments, std::string name,
    const Options& options) {
  std::unique_ptr<ChunkReader> r(new ChunkReader(std::move(name), options));
  r->segments_ = std::move(segments);
  RETURN_IF_ERROR(r->CheckHeaders());
  return r;
}

absl::Status ChunkReader::Corrupt(size_t segment, uint64_t offset,
                                  absl::string_view what) const {
  return absl::DataLossError(absl::StrCat("chunks ", name_, "/",
                                          SegmentName(segment), ": offset ",
                                          offset, ": ", what));
}

absl::Status ChunkReader::CheckHeaders() const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    absl::string_view s = segments_[i];
    if (s.size() < kSegmentHeaderSize)
      return Corrupt(i, 0, "segment shorter than its header");
    if (GetBE32(s.data()) != kChunksMagic)
      return Corrupt(i, 0, "bad magic number");
    if (static_cast<uint8_t>(s[4]) != kChunksFormatV1) {
      return Corrupt(
          i, 4,
          absl::StrCat("unknown format version ", static_cast<int>(s[4])));
    }
  }
  return absl::OkStatus();
}

uint64_t ChunkReader::size() const {
  uint64_t n = 0;
  for (absl::string_view s : segments_) n += s.size();
  return n;
}

absl::StatusOr<Chunk> ChunkReader::ReadAt(size_t index, uint64_t offset,
                                          uint64_t* next) const {
  absl::string_view seg = segments_[index];
  if (offset < kSegmentHeaderSize || offset >= seg.size()) {
    return Corrupt(index, offset, "chunk reference outside the segment");
  }
  Decoder d(seg.substr(offset));
  uint64_t len = d.Uvarint();
  if (!d.ok() || len >= d.remaining())
    return Corrupt(index, offset, "chunk truncated");
  absl::string_view body = d.Bytes(len + 1);  // Encoding byte and data.
  uint32_t crc = d.BE32();
  if (!d.ok()) return Corrupt(index, offset, "chunk truncated");
  if (options_.verify_checksums && Crc32c(body) != crc) {
    return Corrupt(index, offset, "chunk checksum mismatch");
  }
  *next = seg.size() - d.remaining();
  return Chunk{static_cast<chunkenc::Encoding>(body[0]), body.substr(1)};
}

absl::StatusOr<Chunk> ChunkReader::Read(uint64_t ref) const {
  uint64_t index = ref >> 32;
  if (index >= segments_.size()) {
    return absl::DataLossError(absl::StrCat("chunks ", name_, ": reference ",
                                            ref, " names segment ", index + 1,
                                            " of ", segments_.size()));
  }
  uint64_t next;
  return ReadAt(index, ref & 0xffffffff, &next);
}

absl::Status ChunkReader::ForEach(
    size_t index, const std::function<void(uint64_t, const Chunk&)>& fn) const {
  if (index >= segments_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("no segment ", index));
  }
  for (uint64_t off = kSegmentHeaderSize; off < segments_[index].size();) {
    uint64_t next;
    ASSIGN_OR_RETURN(Chunk c, ReadAt(index, off, &next));
    fn(ChunkRef(static_cast<uint32_t>(index), static_cast<uint32_t>(off)), c);
    off = next;
  }
  return absl::OkStatus();
}

}  // namespace vigil::tsdb::block
