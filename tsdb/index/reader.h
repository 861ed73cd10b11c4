// Reads a Prometheus index file (format v2) through a memory map without
// loading it: on open only the TOC, the symbol table's positions (every
// 32nd symbol) and every 32nd entry per label name of the postings offset
// table are kept in memory; series entries and postings lists are read
// and checked when asked for.
//
// Checks: the TOC, symbol table and postings offset table CRCs on open;
// each series entry's and postings list's CRC when read; structure and
// bounds everywhere. Any inconsistency is absl::DataLossError naming the
// file and offset. Verify() reads and checks the whole file.
//
// Thread-safe: every method is const and touches no shared mutable state.
#ifndef VIGIL_TSDB_INDEX_READER_H_
#define VIGIL_TSDB_INDEX_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/file.h"
#include "model/labels.h"
#include "tsdb/index/format.h"
#include "tsdb/index/postings.h"

namespace vigil::tsdb::index {

struct ReaderOptions {
  // Whether to check CRC32C checksums. Only fuzzing (to reach the parsers
  // behind the checksums) and forensic tools turn this off; parsing stays
  // bounds-checked either way.
  bool verify_checksums = true;
};

class IndexReader final : public PostingsIndex {
 public:
  static absl::StatusOr<std::unique_ptr<IndexReader>> Open(
      const std::string& path, const ReaderOptions& options = {});
  // Reads an index held in memory; `data` must outlive the reader. `name`
  // is used in error messages.
  static absl::StatusOr<std::unique_ptr<IndexReader>> FromBytes(
      absl::string_view data, std::string name,
      const ReaderOptions& options = {});

  IndexReader(const IndexReader&) = delete;
  IndexReader& operator=(const IndexReader&) = delete;

  // PostingsIndex.
  absl::StatusOr<Postings> Get(absl::string_view name,
                               absl::string_view value) const override;
  absl::StatusOr<Postings> All() const override;
  absl::StatusOr<Postings> ForValues(
      absl::string_view name,
      const std::function<bool(absl::string_view)>& pred) const override;
  absl::StatusOr<Postings> ForValuesWithPrefix(
      absl::string_view name, absl::string_view prefix,
      const std::function<bool(absl::string_view)>& pred) const override;

  // Sorted label names (from the postings offset table).
  std::vector<std::string> LabelNames() const;
  // Sorted values of `name`.
  absl::StatusOr<std::vector<std::string>> LabelValues(
      absl::string_view name) const;

  // Reads the series `ref` (a postings entry): its labels (interned) and
  // chunk metas. DataLoss if `ref` is not a readable, intact entry.
  absl::Status Series(SeriesRef ref, model::Labels* labels,
                      std::vector<ChunkMeta>* chunks) const;

  uint32_t num_symbols() const { return num_symbols_; }
  // The symbol with number `ref`; a view into the file.
  absl::StatusOr<absl::string_view> Symbol(uint32_t ref) const;

  // Reads every section and checks every checksum, the order of symbols,
  // series and postings, that each postings list holds exactly the series
  // with its label pair, and that the label indices agree with the postings
  // offset table. Memory: one entry per (series, label). For `tsdb check`.
  absl::Status Verify() const;

  const Toc& toc() const { return toc_; }
  uint64_t size() const { return data_.size(); }
  const std::string& name() const { return name_; }

 private:
  // A sampled postings offset table entry: its value and its offset.
  struct SampledEntry {
    std::string value;
    uint64_t entry_offset;
  };
  struct LabelName {
    std::string name;
    std::vector<SampledEntry> sampled;  // Every 32nd entry, from the first.
  };
  // One decoded postings offset table entry.
  struct OffsetEntry {
    absl::string_view name;
    absl::string_view value;
    uint64_t postings_offset;
    uint64_t next;  // Offset of the following entry.
  };

  IndexReader(absl::string_view data, std::string name,
              const ReaderOptions& options)
      : data_(data), name_(std::move(name)), options_(options) {}
  absl::Status Init();
  absl::Status ReadSymbols();
  absl::Status ReadPostingsOffsetTable();

  absl::Status Corrupt(uint64_t offset, absl::string_view what) const;
  // The body of the "len <4b> | body | CRC32C <4b>" section at `offset`,
  // with the CRC checked.
  absl::StatusOr<absl::string_view> Section(uint64_t offset,
                                            absl::string_view what) const;
  absl::StatusOr<Postings> ReadPostings(uint64_t offset) const;
  // Decodes the postings offset table entry at `offset` (absolute).
  absl::StatusOr<OffsetEntry> ReadOffsetEntry(uint64_t offset) const;
  const LabelName* FindName(absl::string_view name) const;
  // Calls fn(entry) for each offset table entry of `name`, in value order,
  // starting at `from` (absolute offset of one of its entries); stops early
  // when fn returns false.
  template <typename Fn>
  absl::Status ScanName(absl::string_view name, uint64_t from, Fn fn) const;
  absl::Status VerifyLabelIndices() const;

  MappedFile file_;  // Empty for FromBytes.
  absl::string_view data_;
  std::string name_;
  ReaderOptions options_;
  uint64_t toc_start_ = 0;
  Toc toc_;
  uint32_t num_symbols_ = 0;
  uint64_t symbols_end_ = 0;              // End of the symbol table's entries.
  std::vector<uint64_t> symbol_offsets_;  // Of symbols 0, 32, 64, ...
  uint64_t series_end_ = 0;
  uint64_t table_entries_start_ = 0;  // Postings offset table entries.
  uint64_t table_entries_end_ = 0;
  uint32_t table_entries_ = 0;
  std::vector<LabelName> names_;  // Sorted by name.
};

}  // namespace vigil::tsdb::index

#endif  // VIGIL_TSDB_INDEX_READER_H_
