// A small, strict JSON reader (RFC 8259) for meta.json: the whole document
// becomes a tree. Numbers keep their text so that 64-bit integers are read
// exactly. Rejects trailing bytes, duplicate object keys, invalid escapes,
// control characters in strings and nesting deeper than 64.
#ifndef VIGIL_TSDB_BLOCK_JSON_H_
#define VIGIL_TSDB_BLOCK_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vigil::tsdb::block {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // kString: the decoded string; kNumber: as written.
  std::vector<JsonValue> items;   // kArray elements; kObject member values.
  std::vector<std::string> keys;  // kObject member names, parallel to items.
  size_t offset = 0;              // Where the value starts in the document.

  // The member `key` of an object, or null.
  const JsonValue* Find(absl::string_view key) const;
};

// kInvalidArgument with the byte offset of the first error.
absl::StatusOr<JsonValue> ParseJson(absl::string_view doc);

// Appends `s` as a JSON string literal.
void AppendJsonString(std::string* out, absl::string_view s);

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_JSON_H_
