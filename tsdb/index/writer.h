// Writes a Prometheus index file (format v2) in one pass: the symbol table
// first, then the series in label order as they arrive, then label indices,
// postings, the two offset tables and the TOC. Memory held while writing is
// the symbol table plus 4 bytes per (series, label) for the postings.
//
// Not thread-safe. Typical use:
//   auto w = IndexWriter::Create(path, symbols);
//   for each series in label order: (*w)->AddSeries(labels, chunk_metas);
//   (*w)->Finish();
#ifndef VIGIL_TSDB_INDEX_WRITER_H_
#define VIGIL_TSDB_INDEX_WRITER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/file.h"
#include "model/labels.h"
#include "tsdb/index/format.h"
#include "tsdb/storage.h"

namespace vigil::tsdb::index {

class IndexWriter {
 public:
  // Creates `path` and writes the header and the symbol table. `symbols`
  // must hold every label name and value of the series that will be added
  // (extra strings are allowed and written); it is sorted and deduplicated
  // here.
  static absl::StatusOr<std::unique_ptr<IndexWriter>> Create(
      const std::string& path, std::vector<std::string> symbols);
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;
  ~IndexWriter();

  // Writes one series entry and returns its ref (offset / 16), which is
  // what postings lists and tombstones refer to.
  // REQUIRES: `labels` non-empty and greater (model::Compare) than the
  // previous series'; every label string is in the symbol table; `chunks`
  // ordered by time with each chunk's mint >= the previous chunk's maxt.
  // Violations fail with kInvalidArgument and leave the writer failed.
  absl::StatusOr<SeriesRef> AddSeries(const model::Labels& labels,
                                      const std::vector<ChunkMeta>& chunks);

  // Writes the rest of the file, fsyncs and closes it.
  // REQUIRES: Finish() has not been called.
  absl::Status Finish();

  uint64_t num_series() const { return all_.size(); }

 private:
  IndexWriter(std::unique_ptr<FileWriter> file,
              std::vector<std::string> symbols);
  absl::Status WriteSymbols();
  absl::Status WriteLabelIndices(const std::vector<uint64_t>& keys);
  absl::Status WritePostings(const std::vector<uint64_t>& keys);
  absl::Status WriteLabelOffsetTable();
  absl::Status WritePostingsOffsetTable();
  absl::Status WriteToc();
  // Appends a "len <4b> | body | CRC32C <4b>" section whose len counts the
  // body.
  absl::Status WriteSection(absl::string_view body);
  absl::Status Fail(absl::Status s);

  std::unique_ptr<FileWriter> file_;
  std::vector<std::string> symbols_;  // Sorted; index = symbol ref.
  absl::flat_hash_map<absl::string_view, uint32_t> symbol_refs_;
  model::Labels last_labels_;
  // (name ref << 32 | value ref) -> series refs in ascending order.
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> postings_;
  std::vector<uint32_t> all_;
  // Filled while finishing: name ref -> label index offset, and one
  // (name ref, value ref, offset) per postings list, in write order.
  std::vector<std::pair<uint32_t, uint64_t>> label_index_offsets_;
  struct PostingsOffset {
    uint64_t key;
    uint64_t offset;
  };
  std::vector<PostingsOffset> postings_offsets_;
  uint64_t all_postings_offset_ = 0;
  Toc toc_;
  std::string scratch_;
  bool finished_ = false;
  absl::Status status_;
};

}  // namespace vigil::tsdb::index

#endif  // VIGIL_TSDB_INDEX_WRITER_H_
