// Constants and plain types of Prometheus's index file format v2
// (prometheus/prometheus tsdb/docs/format/index.md; docs/blocks.md says
// what Vigil writes and checks).
#ifndef VIGIL_TSDB_INDEX_FORMAT_H_
#define VIGIL_TSDB_INDEX_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace vigil::tsdb::index {

inline constexpr uint32_t kMagic = 0xBAAAD700;
inline constexpr uint8_t kFormatV2 = 2;
inline constexpr size_t kHeaderSize = 5;  // Magic, version.
inline constexpr size_t kTocEntries = 6;
inline constexpr size_t kTocSize = kTocEntries * 8 + 4;  // Offsets, CRC32C.
// A series entry starts at a multiple of 16; its ref is offset / 16.
inline constexpr uint64_t kSeriesAlignment = 16;
// Label index and postings sections start at multiples of 4.
inline constexpr uint64_t kSectionAlignment = 4;
// The postings offset table entry of the list of every series.
inline constexpr char kAllPostingsName[] = "";
inline constexpr char kAllPostingsValue[] = "";

// Where the sections are: byte offsets in the index file, 0 for absent.
struct Toc {
  uint64_t symbols = 0;
  uint64_t series = 0;
  uint64_t label_indices = 0;
  uint64_t label_offset_table = 0;
  uint64_t postings = 0;
  uint64_t postings_offset_table = 0;
};

// A chunk of a series as the index records it: a reference into the chunk
// segment files and the times of its first and last samples.
struct ChunkMeta {
  uint64_t ref = 0;
  int64_t mint = 0;
  int64_t maxt = 0;
  friend bool operator==(const ChunkMeta& a, const ChunkMeta& b) {
    return a.ref == b.ref && a.mint == b.mint && a.maxt == b.maxt;
  }
};

}  // namespace vigil::tsdb::index

#endif  // VIGIL_TSDB_INDEX_FORMAT_H_
