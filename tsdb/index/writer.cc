#include "tsdb/index/writer.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/status_macros.h"

namespace vigil::tsdb::index {
namespace {

constexpr uint64_t kMaxSectionLen = std::numeric_limits<uint32_t>::max();

uint32_t NameRef(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
uint32_t ValueRef(uint64_t key) { return static_cast<uint32_t>(key); }

void PutString(std::string* dst, absl::string_view s) {
  PutUvarint(dst, s.size());
  dst->append(s.data(), s.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<IndexWriter>> IndexWriter::Create(
    const std::string& path, std::vector<std::string> symbols) {
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  if (symbols.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "index ", path, ": too many symbols (", symbols.size(), ")"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> file, FileWriter::Create(path));
  std::unique_ptr<IndexWriter> w(
      new IndexWriter(std::move(file), std::move(symbols)));
  std::string header;
  PutBE32(&header, kMagic);
  header.push_back(static_cast<char>(kFormatV2));
  RETURN_IF_ERROR(w->file_->Append(header));
  RETURN_IF_ERROR(w->WriteSymbols());
  // As Prometheus: the series section starts where the symbols end; the
  // first entry follows after alignment padding.
  w->toc_.series = w->file_->position();
  return w;
}

IndexWriter::IndexWriter(std::unique_ptr<FileWriter> file,
                         std::vector<std::string> symbols)
    : file_(std::move(file)), symbols_(std::move(symbols)) {
  symbol_refs_.reserve(symbols_.size());
  for (size_t i = 0; i < symbols_.size(); ++i) {
    symbol_refs_.emplace(symbols_[i], static_cast<uint32_t>(i));
  }
}

IndexWriter::~IndexWriter() = default;

absl::Status IndexWriter::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

absl::Status IndexWriter::WriteSymbols() {
  toc_.symbols = file_->position();
  uint64_t body_len = 4;
  for (const std::string& s : symbols_)
    body_len += UvarintLen(s.size()) + s.size();
  if (body_len > kMaxSectionLen) {
    return absl::InvalidArgumentError(
        absl::StrCat("index ", file_->path(), ": symbol table over 4 GiB"));
  }
  // Streamed rather than built in memory: the table can be large.
  std::string piece;
  PutBE32(&piece, static_cast<uint32_t>(body_len));
  RETURN_IF_ERROR(file_->Append(piece));
  piece.clear();
  PutBE32(&piece, static_cast<uint32_t>(symbols_.size()));
  uint32_t crc = Crc32c(piece);
  RETURN_IF_ERROR(file_->Append(piece));
  for (const std::string& s : symbols_) {
    piece.clear();
    PutString(&piece, s);
    crc = Crc32cExtend(crc, piece.data(), piece.size());
    RETURN_IF_ERROR(file_->Append(piece));
  }
  piece.clear();
  PutBE32(&piece, crc);
  return file_->Append(piece);
}

absl::Status IndexWriter::WriteSection(absl::string_view body) {
  if (body.size() > kMaxSectionLen) {
    return absl::ResourceExhaustedError(
        absl::StrCat("index ", file_->path(), ": section of ", body.size(),
                     " bytes exceeds the format's 4 GiB limit"));
  }
  std::string len;
  PutBE32(&len, static_cast<uint32_t>(body.size()));
  RETURN_IF_ERROR(file_->Append(len));
  RETURN_IF_ERROR(file_->Append(body));
  std::string crc;
  PutBE32(&crc, Crc32c(body));
  return file_->Append(crc);
}

absl::StatusOr<SeriesRef> IndexWriter::AddSeries(
    const model::Labels& labels, const std::vector<ChunkMeta>& chunks) {
  if (!status_.ok()) return status_;
  if (finished_) return absl::FailedPreconditionError("AddSeries after Finish");
  if (labels.empty()) {
    return Fail(absl::InvalidArgumentError("index: series without labels"));
  }
  if (!all_.empty() && Compare(labels, last_labels_) <= 0) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("index: series ", labels.ToString(),
                     " added out of order after ", last_labels_.ToString())));
  }
  scratch_.clear();
  PutUvarint(&scratch_, labels.size());
  std::vector<uint64_t> keys;
  keys.reserve(labels.size());
  for (const model::Label& l : labels) {
    auto n = symbol_refs_.find(l.name.view());
    auto v = symbol_refs_.find(l.value.view());
    if (n == symbol_refs_.end() || v == symbol_refs_.end()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("index: label of ", labels.ToString(),
                       " missing from the symbol table")));
    }
    PutUvarint(&scratch_, n->second);
    PutUvarint(&scratch_, v->second);
    keys.push_back(uint64_t{n->second} << 32 | v->second);
  }
  PutUvarint(&scratch_, chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkMeta& c = chunks[i];
    bool ordered = c.maxt >= c.mint && (i == 0 || c.mint >= chunks[i - 1].maxt);
    if (!ordered) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("index: chunks of ", labels.ToString(),
                       " out of order at chunk ", i)));
    }
    // Differences are computed in unsigned arithmetic: the format stores
    // them modulo 2^64, so extreme timestamps round-trip without overflow.
    uint64_t span =
        static_cast<uint64_t>(c.maxt) - static_cast<uint64_t>(c.mint);
    if (i == 0) {
      PutVarint(&scratch_, c.mint);
      PutUvarint(&scratch_, span);
      PutUvarint(&scratch_, c.ref);
    } else {
      const ChunkMeta& p = chunks[i - 1];
      PutUvarint(&scratch_,
                 static_cast<uint64_t>(c.mint) - static_cast<uint64_t>(p.maxt));
      PutUvarint(&scratch_, span);
      PutVarint(&scratch_, static_cast<int64_t>(c.ref - p.ref));
    }
  }
  if (absl::Status s = file_->PadTo(kSeriesAlignment); !s.ok()) return Fail(s);
  uint64_t ref = file_->position() / kSeriesAlignment;
  if (ref > std::numeric_limits<uint32_t>::max()) {
    return Fail(absl::ResourceExhaustedError(
        absl::StrCat("index ", file_->path(),
                     ": series section exceeds the format's 64 GiB limit")));
  }
  std::string head;
  PutUvarint(&head, scratch_.size());
  std::string crc;
  PutBE32(&crc, Crc32c(scratch_));
  for (absl::string_view part :
       {absl::string_view(head), absl::string_view(scratch_),
        absl::string_view(crc)}) {
    if (absl::Status s = file_->Append(part); !s.ok()) return Fail(s);
  }
  for (uint64_t key : keys)
    postings_[key].push_back(static_cast<uint32_t>(ref));
  all_.push_back(static_cast<uint32_t>(ref));
  last_labels_ = labels;
  return SeriesRef{ref};
}

absl::Status IndexWriter::WriteLabelIndices(const std::vector<uint64_t>& keys) {
  toc_.label_indices = file_->position();
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && NameRef(keys[j]) == NameRef(keys[i])) ++j;
    RETURN_IF_ERROR(file_->PadTo(kSectionAlignment));
    label_index_offsets_.emplace_back(NameRef(keys[i]), file_->position());
    std::string body;
    PutBE32(&body, 1);  // One label name per index, as Prometheus writes.
    PutBE32(&body, static_cast<uint32_t>(j - i));
    for (size_t k = i; k < j; ++k) PutBE32(&body, ValueRef(keys[k]));
    RETURN_IF_ERROR(WriteSection(body));
    i = j;
  }
  return absl::OkStatus();
}

absl::Status IndexWriter::WritePostings(const std::vector<uint64_t>& keys) {
  toc_.postings = file_->position();
  auto write_list = [&](const std::vector<uint32_t>& refs) {
    std::string body;
    body.reserve(4 + 4 * refs.size());
    PutBE32(&body, static_cast<uint32_t>(refs.size()));
    for (uint32_t r : refs) PutBE32(&body, r);
    return WriteSection(body);
  };
  RETURN_IF_ERROR(file_->PadTo(kSectionAlignment));
  all_postings_offset_ = file_->position();
  RETURN_IF_ERROR(write_list(all_));
  postings_offsets_.reserve(keys.size());
  for (uint64_t key : keys) {
    RETURN_IF_ERROR(file_->PadTo(kSectionAlignment));
    postings_offsets_.push_back({key, file_->position()});
    auto it = postings_.find(key);
    RETURN_IF_ERROR(write_list(it->second));
    std::vector<uint32_t>().swap(it->second);  // Written: free it now.
  }
  return absl::OkStatus();
}

absl::Status IndexWriter::WriteLabelOffsetTable() {
  toc_.label_offset_table = file_->position();
  std::string body;
  PutBE32(&body, static_cast<uint32_t>(label_index_offsets_.size()));
  for (const auto& [name, offset] : label_index_offsets_) {
    body.push_back(1);  // Number of strings in the key.
    PutString(&body, symbols_[name]);
    PutUvarint(&body, offset);
  }
  return WriteSection(body);
}

absl::Status IndexWriter::WritePostingsOffsetTable() {
  toc_.postings_offset_table = file_->position();
  std::string body;
  PutBE32(&body, static_cast<uint32_t>(postings_offsets_.size() + 1));
  auto put_entry = [&](absl::string_view name, absl::string_view value,
                       uint64_t off) {
    body.push_back(2);  // Number of strings in the key.
    PutString(&body, name);
    PutString(&body, value);
    PutUvarint(&body, off);
  };
  put_entry(kAllPostingsName, kAllPostingsValue, all_postings_offset_);
  for (const PostingsOffset& p : postings_offsets_) {
    put_entry(symbols_[NameRef(p.key)], symbols_[ValueRef(p.key)], p.offset);
  }
  return WriteSection(body);
}

absl::Status IndexWriter::WriteToc() {
  std::string toc;
  for (uint64_t off :
       {toc_.symbols, toc_.series, toc_.label_indices, toc_.label_offset_table,
        toc_.postings, toc_.postings_offset_table}) {
    PutBE64(&toc, off);
  }
  PutBE32(&toc, Crc32c(toc));
  return file_->Append(toc);
}

absl::Status IndexWriter::Finish() {
  if (!status_.ok()) return status_;
  if (finished_)
    return absl::FailedPreconditionError("index: Finish called twice");
  finished_ = true;
  std::vector<uint64_t> keys;
  keys.reserve(postings_.size());
  for (const auto& [key, refs] : postings_) keys.push_back(key);
  // Symbol refs follow string order, so this orders by (name, value).
  std::sort(keys.begin(), keys.end());
  absl::Status s = WriteLabelIndices(keys);
  if (s.ok()) s = WritePostings(keys);
  if (s.ok()) s = WriteLabelOffsetTable();
  if (s.ok()) s = WritePostingsOffsetTable();
  if (s.ok()) s = WriteToc();
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  return Fail(s);
}

}  // namespace vigil::tsdb::index
