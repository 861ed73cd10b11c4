#include "tsdb/index/reader.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/status_macros.h"

namespace vigil::tsdb::index {
namespace {

// As Prometheus: one symbol position and one postings offset table entry
// per label name in 32 stay in memory.
constexpr uint32_t kSymbolSampleEvery = 32;
constexpr size_t kOffsetSampleEvery = 32;

}  // namespace

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::Open(
    const std::string& path, const ReaderOptions& options) {
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  std::unique_ptr<IndexReader> r(new IndexReader(file.data(), path, options));
  r->file_ = std::move(file);  // Moving keeps the mapping (and data_) valid.
  RETURN_IF_ERROR(r->Init());
  return r;
}

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::FromBytes(
    absl::string_view data, std::string name, const ReaderOptions& options) {
  std::unique_ptr<IndexReader> r(
      new IndexReader(data, std::move(name), options));
  RETURN_IF_ERROR(r->Init());
  return r;
}

absl::Status IndexReader::Corrupt(uint64_t offset,
                                  absl::string_view what) const {
  return absl::DataLossError(
      absl::StrCat("index ", name_, ": offset ", offset, ": ", what));
}

absl::Status IndexReader::Init() {
  if (data_.size() < kHeaderSize + kTocSize) {
    return Corrupt(0,
                   absl::StrCat("file too short (", data_.size(), " bytes)"));
  }
  if (GetBE32(data_.data()) != kMagic) return Corrupt(0, "bad magic number");
  uint8_t version = static_cast<uint8_t>(data_[4]);
  if (version == 1) {
    return absl::UnimplementedError(absl::StrCat(
        "index ", name_, ": format v1 is not supported (only v2)"));
  }
  if (version != kFormatV2) {
    return Corrupt(4, absl::StrCat("unknown format version ", version));
  }
  toc_start_ = data_.size() - kTocSize;
  const char* toc = data_.data() + toc_start_;
  if (options_.verify_checksums &&
      Crc32c(absl::string_view(toc, kTocEntries * 8)) !=
          GetBE32(toc + kTocEntries * 8)) {
    return Corrupt(toc_start_, "TOC checksum mismatch");
  }
  uint64_t* fields[kTocEntries] = {
      &toc_.symbols,       &toc_.series,
      &toc_.label_indices, &toc_.label_offset_table,
      &toc_.postings,      &toc_.postings_offset_table};
  for (size_t i = 0; i < kTocEntries; ++i) {
    *fields[i] = GetBE64(toc + 8 * i);
    if (*fields[i] != 0 &&
        (*fields[i] < kHeaderSize || *fields[i] > toc_start_)) {
      return Corrupt(toc_start_, absl::StrCat("TOC entry ", i, " (", *fields[i],
                                              ") outside the file"));
    }
  }
  // The series section ends where the next section starts.
  if (toc_.series != 0) {
    series_end_ = toc_start_;
    for (uint64_t* f : fields) {
      if (*f > toc_.series) series_end_ = std::min(series_end_, *f);
    }
  }
  RETURN_IF_ERROR(ReadSymbols());
  return ReadPostingsOffsetTable();
}

absl::StatusOr<absl::string_view> IndexReader::Section(
    uint64_t offset, absl::string_view what) const {
  if (offset < kHeaderSize || offset > toc_start_ || toc_start_ - offset < 8) {
    return Corrupt(offset, absl::StrCat(what, " outside the file"));
  }
  uint64_t len = GetBE32(data_.data() + offset);
  if (len > toc_start_ - offset - 8) {
    return Corrupt(offset,
                   absl::StrCat(what, " length ", len, " runs past the end"));
  }
  absl::string_view body = data_.substr(offset + 4, len);
  if (options_.verify_checksums &&
      Crc32c(body) != GetBE32(data_.data() + offset + 4 + len)) {
    return Corrupt(offset, absl::StrCat(what, " checksum mismatch"));
  }
  return body;
}

absl::Status IndexReader::ReadSymbols() {
  if (toc_.symbols == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(absl::string_view body,
                   Section(toc_.symbols, "symbol table"));
  const auto* base = reinterpret_cast<const uint8_t*>(data_.data());
  Decoder d(body);
  uint32_t count = d.BE32();
  if (!d.ok() || count > body.size()) {
    return Corrupt(toc_.symbols, "symbol table count does not fit its length");
  }
  symbol_offsets_.reserve(count / kSymbolSampleEvery + 1);
  absl::string_view prev;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t at = static_cast<uint64_t>(d.position() - base);
    if (i % kSymbolSampleEvery == 0) symbol_offsets_.push_back(at);
    absl::string_view s = d.UvarintBytes();
    if (!d.ok()) return Corrupt(at, absl::StrCat("symbol ", i, " truncated"));
    if (i > 0 && s <= prev) return Corrupt(at, "symbols not sorted");
    prev = s;
  }
  if (d.remaining() != 0)
    return Corrupt(toc_.symbols, "trailing bytes in symbol table");
  num_symbols_ = count;
  symbols_end_ = toc_.symbols + 4 + body.size();
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> IndexReader::Symbol(uint32_t ref) const {
  if (ref >= num_symbols_) {
    return absl::DataLossError(absl::StrCat("index ", name_, ": symbol ", ref,
                                            " out of range (", num_symbols_,
                                            " symbols)"));
  }
  uint64_t start = symbol_offsets_[ref / kSymbolSampleEvery];
  Decoder d(data_.substr(start, symbols_end_ - start));
  for (uint32_t skip = ref % kSymbolSampleEvery; skip > 0; --skip)
    d.UvarintBytes();
  absl::string_view s = d.UvarintBytes();
  if (!d.ok()) return Corrupt(start, "symbol table changed under the reader");
  return s;
}

absl::StatusOr<IndexReader::OffsetEntry> IndexReader::ReadOffsetEntry(
    uint64_t offset) const {
  if (offset < table_entries_start_ || offset >= table_entries_end_) {
    return Corrupt(offset, "postings offset table entry out of bounds");
  }
  Decoder d(data_.substr(offset, table_entries_end_ - offset));
  uint8_t n = d.Byte();
  OffsetEntry e;
  e.name = d.UvarintBytes();
  e.value = d.UvarintBytes();
  e.postings_offset = d.Uvarint();
  if (!d.ok()) return Corrupt(offset, "truncated postings offset table entry");
  if (n != 2) {
    return Corrupt(offset, absl::StrCat("postings offset table entry has ", n,
                                        " strings, want 2"));
  }
  e.next = table_entries_end_ - d.remaining();
  return e;
}

absl::Status IndexReader::ReadPostingsOffsetTable() {
  if (toc_.postings_offset_table == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(absl::string_view body, Section(toc_.postings_offset_table,
                                                   "postings offset table"));
  if (body.size() < 4)
    return Corrupt(toc_.postings_offset_table,
                   "postings offset table too short");
  table_entries_ = GetBE32(body.data());
  table_entries_start_ = toc_.postings_offset_table + 8;
  table_entries_end_ = toc_.postings_offset_table + 4 + body.size();
  uint64_t off = table_entries_start_;
  absl::string_view prev_name, prev_value;
  size_t in_name = 0;
  for (uint32_t i = 0; i < table_entries_; ++i) {
    ASSIGN_OR_RETURN(OffsetEntry e, ReadOffsetEntry(off));
    bool new_name = i == 0 || e.name != prev_name;
    if (i > 0 && (e.name < prev_name || (!new_name && e.value <= prev_value))) {
      return Corrupt(off, "postings offset table not sorted");
    }
    if (new_name) {
      names_.push_back(LabelName{std::string(e.name), {}});
      in_name = 0;
    }
    if (in_name++ % kOffsetSampleEvery == 0) {
      names_.back().sampled.push_back(SampledEntry{std::string(e.value), off});
    }
    prev_name = e.name;
    prev_value = e.value;
    off = e.next;
  }
  if (off != table_entries_end_)
    return Corrupt(off, "trailing bytes in postings offset table");
  return absl::OkStatus();
}

const IndexReader::LabelName* IndexReader::FindName(
    absl::string_view name) const {
  auto it = std::lower_bound(
      names_.begin(), names_.end(), name,
      [](const LabelName& n, absl::string_view want) { return n.name < want; });
  if (it == names_.end() || it->name != name) return nullptr;
  return &*it;
}

template <typename Fn>
absl::Status IndexReader::ScanName(absl::string_view name, uint64_t from,
                                   Fn fn) const {
  for (uint64_t off = from; off < table_entries_end_;) {
    ASSIGN_OR_RETURN(OffsetEntry e, ReadOffsetEntry(off));
    if (e.name != name) break;
    ASSIGN_OR_RETURN(bool more, fn(e));
    if (!more) break;
    off = e.next;
  }
  return absl::OkStatus();
}

absl::StatusOr<Postings> IndexReader::ReadPostings(uint64_t offset) const {
  ASSIGN_OR_RETURN(absl::string_view body, Section(offset, "postings list"));
  if (body.size() < 4 ||
      body.size() != 4 + 4 * uint64_t{GetBE32(body.data())}) {
    return Corrupt(offset, "postings list length does not match its count");
  }
  size_t n = (body.size() - 4) / 4;
  Postings p;
  p.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    SeriesRef ref = GetBE32(body.data() + 4 + 4 * i);
    if (!p.empty() && ref <= p.back())
      return Corrupt(offset, "postings list not ascending");
    p.push_back(ref);
  }
  return p;
}

absl::StatusOr<Postings> IndexReader::Get(absl::string_view name,
                                          absl::string_view value) const {
  const LabelName* ln = FindName(name);
  if (ln == nullptr) return Postings{};
  // The last sampled entry at or before `value`, then a short scan.
  auto it = std::upper_bound(ln->sampled.begin(), ln->sampled.end(), value,
                             [](absl::string_view want, const SampledEntry& s) {
                               return want < s.value;
                             });
  if (it == ln->sampled.begin()) return Postings{};
  std::optional<uint64_t> found;
  RETURN_IF_ERROR(ScanName(name, std::prev(it)->entry_offset,
                           [&](const OffsetEntry& e) -> absl::StatusOr<bool> {
                             if (e.value == value) found = e.postings_offset;
                             return e.value < value;
                           }));
  if (!found.has_value()) return Postings{};
  return ReadPostings(*found);
}

absl::StatusOr<Postings> IndexReader::All() const {
  return Get(kAllPostingsName, kAllPostingsValue);
}

absl::StatusOr<Postings> IndexReader::ForValues(
    absl::string_view name,
    const std::function<bool(absl::string_view)>& pred) const {
  return ForValuesWithPrefix(name, "", pred);
}

absl::StatusOr<Postings> IndexReader::ForValuesWithPrefix(
    absl::string_view name, absl::string_view prefix,
    const std::function<bool(absl::string_view)>& pred) const {
  const LabelName* ln = FindName(name);
  if (ln == nullptr) return Postings{};
  // From the last sampled entry before the prefix to the first value past
  // the values with it.
  auto it = std::lower_bound(ln->sampled.begin(), ln->sampled.end(), prefix,
                             [](const SampledEntry& s, absl::string_view want) {
                               return s.value < want;
                             });
  if (it != ln->sampled.begin()) --it;
  std::vector<Postings> lists;
  RETURN_IF_ERROR(ScanName(name, it->entry_offset,
                           [&](const OffsetEntry& e) -> absl::StatusOr<bool> {
                             if (!absl::StartsWith(e.value, prefix)) return e.value < prefix;
                             if (!pred(e.value)) return true;
                             ASSIGN_OR_RETURN(Postings p, ReadPostings(e.postings_offset));
                             lists.push_back(std::move(p));
                             return true;
                           }));
  return MergePostings(std::move(lists));
}

std::vector<std::string> IndexReader::LabelNames() const {
  std::vector<std::string> out;
  out.reserve(names_.size());
  for (const LabelName& n : names_) {
    if (!n.name.empty()) out.push_back(n.name);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> IndexReader::LabelValues(
    absl::string_view name) const {
  std::vector<std::string> out;
  const LabelName* ln = FindName(name);
  if (ln == nullptr) return out;
  RETURN_IF_ERROR(ScanName(name, ln->sampled.front().entry_offset,
                           [&](const OffsetEntry& e) -> absl::StatusOr<bool> {
                             out.emplace_back(e.value);
                             return true;
                           }));
  return out;
}

absl::Status IndexReader::Series(SeriesRef ref, model::Labels* labels,
                                 std::vector<ChunkMeta>* chunks) const {
  if (toc_.series == 0 ||
      ref > std::numeric_limits<uint64_t>::max() / kSeriesAlignment ||
      ref * kSeriesAlignment < toc_.series ||
      ref * kSeriesAlignment >= series_end_) {
    return Corrupt(toc_.series, absl::StrCat("series ref ", ref,
                                             " outside the series section"));
  }
  const uint64_t off = ref * kSeriesAlignment;
  Decoder d(data_.substr(off, series_end_ - off));
  uint64_t len = d.Uvarint();
  absl::string_view body = d.Bytes(len);
  uint32_t crc = d.BE32();
  if (!d.ok()) return Corrupt(off, "series entry truncated");
  if (options_.verify_checksums && Crc32c(body) != crc) {
    return Corrupt(off, "series entry checksum mismatch");
  }
  Decoder b(body);
  uint64_t num_labels = b.Uvarint();
  if (!b.ok() || num_labels > b.remaining() / 2) {
    return Corrupt(off, "series entry label count does not fit");
  }
  std::vector<model::Label> ls;
  ls.reserve(num_labels);
  absl::string_view prev_name;
  for (uint64_t i = 0; i < num_labels; ++i) {
    uint64_t name_ref = b.Uvarint();
    uint64_t value_ref = b.Uvarint();
    if (!b.ok() || name_ref >= num_symbols_ || value_ref >= num_symbols_) {
      return Corrupt(off, "series entry has a bad symbol reference");
    }
    ASSIGN_OR_RETURN(absl::string_view name,
                     Symbol(static_cast<uint32_t>(name_ref)));
    ASSIGN_OR_RETURN(absl::string_view value,
                     Symbol(static_cast<uint32_t>(value_ref)));
    if (i > 0 && name <= prev_name)
      return Corrupt(off, "series labels not sorted");
    prev_name = name;
    ls.push_back(model::Label{model::Symbol::Intern(name),
                              model::Symbol::Intern(value)});
  }
  *labels = model::Labels::FromSortedUnchecked(std::move(ls));
  uint64_t num_chunks = b.Uvarint();
  if (!b.ok() || num_chunks > b.remaining() / 3) {
    return Corrupt(off, "series entry chunk count does not fit");
  }
  chunks->clear();
  chunks->reserve(num_chunks);
  // Unsigned arithmetic: deltas are stored modulo 2^64.
  uint64_t mint = 0, maxt = 0, cref = 0;
  for (uint64_t i = 0; i < num_chunks; ++i) {
    if (i == 0) {
      mint = static_cast<uint64_t>(b.Varint());
      maxt = mint + b.Uvarint();
      cref = b.Uvarint();
    } else {
      mint = maxt + b.Uvarint();
      maxt = mint + b.Uvarint();
      cref += static_cast<uint64_t>(b.Varint());
    }
    ChunkMeta c{cref, static_cast<int64_t>(mint), static_cast<int64_t>(maxt)};
    if (!b.ok()) return Corrupt(off, "series entry chunk metas truncated");
    if (c.maxt < c.mint || (i > 0 && c.mint < chunks->back().maxt)) {
      return Corrupt(off, "series entry chunk metas out of order");
    }
    chunks->push_back(c);
  }
  if (b.remaining() != 0) return Corrupt(off, "trailing bytes in series entry");
  return absl::OkStatus();
}

absl::Status IndexReader::Verify() const {
  ASSIGN_OR_RETURN(Postings all, All());
  if (!all.empty() && table_entries_ == 0)
    return Corrupt(0, "no postings offset table");
  // Expected postings, rebuilt from the series entries.
  absl::flat_hash_map<std::pair<model::Symbol, model::Symbol>, Postings>
      expected;
  model::Labels labels, prev;
  std::vector<ChunkMeta> chunks;
  for (size_t i = 0; i < all.size(); ++i) {
    RETURN_IF_ERROR(Series(all[i], &labels, &chunks));
    if (labels.empty())
      return Corrupt(all[i] * kSeriesAlignment, "series without labels");
    if (i > 0 && !(prev < labels)) {
      return Corrupt(all[i] * kSeriesAlignment, "series not in label order");
    }
    for (const model::Label& l : labels)
      expected[{l.name, l.value}].push_back(all[i]);
    prev = std::move(labels);
  }
  // Every postings list must be exactly the series with its label pair.
  size_t matched = 0;
  for (uint64_t off = table_entries_start_; off < table_entries_end_;) {
    ASSIGN_OR_RETURN(OffsetEntry e, ReadOffsetEntry(off));
    ASSIGN_OR_RETURN(Postings got, ReadPostings(e.postings_offset));
    const Postings* want = nullptr;
    if (e.name == kAllPostingsName && e.value == kAllPostingsValue) {
      want = &all;
    } else {
      std::optional<model::Symbol> n = model::Symbol::Lookup(e.name);
      std::optional<model::Symbol> v = model::Symbol::Lookup(e.value);
      if (n.has_value() && v.has_value()) {
        auto it = expected.find(std::make_pair(*n, *v));
        if (it != expected.end()) {
          want = &it->second;
          ++matched;
        }
      }
    }
    if (want == nullptr || *want != got) {
      return Corrupt(e.postings_offset,
                     absl::StrCat("postings list of ", e.name, "=\"", e.value,
                                  "\" disagrees with the series entries"));
    }
    off = e.next;
  }
  if (matched != expected.size()) {
    return Corrupt(toc_.postings_offset_table,
                   "postings offset table misses label pairs of some series");
  }
  return VerifyLabelIndices();
}

absl::Status IndexReader::VerifyLabelIndices() const {
  std::vector<std::string> names = LabelNames();
  if (toc_.label_offset_table == 0) {
    return names.empty() ? absl::OkStatus()
                         : Corrupt(0, "no label offset table");
  }
  ASSIGN_OR_RETURN(absl::string_view body,
                   Section(toc_.label_offset_table, "label offset table"));
  const auto* base = reinterpret_cast<const uint8_t*>(data_.data());
  Decoder d(body);
  uint32_t count = d.BE32();
  if (!d.ok() || count != names.size()) {
    return Corrupt(toc_.label_offset_table,
                   "label offset table lists other names than the postings");
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t at = static_cast<uint64_t>(d.position() - base);
    uint8_t n = d.Byte();
    absl::string_view name = d.UvarintBytes();
    uint64_t index_off = d.Uvarint();
    if (!d.ok() || n != 1) return Corrupt(at, "bad label offset table entry");
    if (name != names[i]) {
      return Corrupt(at,
                     "label offset table lists other names than the postings");
    }
    ASSIGN_OR_RETURN(absl::string_view li, Section(index_off, "label index"));
    if (li.size() < 8 || GetBE32(li.data()) != 1 ||
        li.size() != 8 + 4 * uint64_t{GetBE32(li.data() + 4)}) {
      return Corrupt(index_off, "label index malformed");
    }
    ASSIGN_OR_RETURN(std::vector<std::string> want, LabelValues(name));
    size_t entries = (li.size() - 8) / 4;
    bool same = entries == want.size();
    for (size_t k = 0; same && k < entries; ++k) {
      absl::StatusOr<absl::string_view> v =
          Symbol(GetBE32(li.data() + 8 + 4 * k));
      same = v.ok() && *v == want[k];
    }
    if (!same) {
      return Corrupt(index_off, absl::StrCat("label index of ", name,
                                             " disagrees with the postings"));
    }
  }
  if (d.remaining() != 0)
    return Corrupt(toc_.label_offset_table,
                   "trailing bytes in label offset table");
  return absl::OkStatus();
}

}  // namespace vigil::tsdb::index
