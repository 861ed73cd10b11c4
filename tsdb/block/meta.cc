#include "tsdb/block/meta.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "tsdb/block/json.h"

namespace vigil::tsdb::block {
namespace {

// Builds the tab-indented layout of Go's json.MarshalIndent(v, "", "\t").
class MetaEncoder {
 public:
  void Open(absl::string_view key, char bracket) {
    Key(key);
    out_.push_back(bracket);
    first_.push_back(true);
  }
  void Close(char bracket) {
    bool empty = first_.back();
    first_.pop_back();
    if (!empty) NewLine();
    out_.push_back(bracket);
  }
  void Int(absl::string_view key, int64_t v) {
    Key(key);
    absl::StrAppend(&out_, v);
  }
  void Uint(absl::string_view key, uint64_t v) {
    Key(key);
    absl::StrAppend(&out_, v);
  }
  void Str(absl::string_view key, absl::string_view v) {
    Key(key);
    AppendJsonString(&out_, v);
  }
  void Bool(absl::string_view key, bool v) {
    Key(key);
    out_ += v ? "true" : "false";
  }
  std::string Take() { return std::move(out_); }

 private:
  // Starts a member (or an array element when `key` is empty).
  void Key(absl::string_view key) {
    if (first_.empty()) return;  // The document itself.
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
    NewLine();
    if (!key.empty()) {
      AppendJsonString(&out_, key);
      out_ += ": ";
    }
  }
  void NewLine() {
    out_.push_back('\n');
    out_.append(first_.size(), '\t');
  }

  std::string out_;
  std::vector<bool> first_;  // Per open container: no member yet.
};

class MetaParser {
 public:
  explicit MetaParser(absl::string_view name) : name_(name) {}

  absl::Status Error(const JsonValue* at, absl::string_view what) const {
    return absl::DataLossError(absl::StrCat(
        name_, ": offset ", at == nullptr ? 0 : at->offset, ": ", what));
  }

  absl::StatusOr<const JsonValue*> Member(const JsonValue& obj,
                                          absl::string_view key,
                                          JsonValue::Type type,
                                          bool required) const {
    const JsonValue* v = obj.Find(key);
    if (v == nullptr) {
      if (required) return Error(&obj, absl::StrCat("missing \"", key, "\""));
      return nullptr;
    }
    if (v->type != type)
      return Error(v, absl::StrCat("\"", key, "\" has the wrong type"));
    return v;
  }

  template <typename Int>
  absl::Status Integer(const JsonValue& obj, absl::string_view key,
                       bool required, Int* out) const {
    ASSIGN_OR_RETURN(const JsonValue* v,
                     Member(obj, key, JsonValue::Type::kNumber, required));
    if (v == nullptr) return absl::OkStatus();
    bool integral = v->text.find_first_of(".eE") == std::string::npos;
    if (!integral || !absl::SimpleAtoi(v->text, out)) {
      return Error(v, absl::StrCat("\"", key, "\" is not a ", sizeof(Int) * 8,
                                   "-bit integer"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Ulid> UlidOf(const JsonValue& v) const {
    if (v.type != JsonValue::Type::kString)
      return Error(&v, "ULID is not a string");
    absl::StatusOr<Ulid> u = Ulid::Parse(v.text);
    if (!u.ok()) return Error(&v, u.status().message());
    return *u;
  }

 private:
  absl::string_view name_;
};

}  // namespace

std::string EncodeMeta(const BlockMeta& meta) {
  MetaEncoder e;
  e.Open("", '{');
  e.Str("ulid", meta.ulid.ToString());
  e.Int("minTime", meta.min_time);
  e.Int("maxTime", meta.max_time);
  e.Open("stats", '{');
  if (meta.stats.num_samples != 0) e.Uint("numSamples", meta.stats.num_samples);
  if (meta.stats.num_series != 0) e.Uint("numSeries", meta.stats.num_series);
  if (meta.stats.num_chunks != 0) e.Uint("numChunks", meta.stats.num_chunks);
  if (meta.stats.num_tombstones != 0)
    e.Uint("numTombstones", meta.stats.num_tombstones);
  e.Close('}');
  e.Open("compaction", '{');
  e.Int("level", meta.compaction_level);
  if (!meta.sources.empty()) {
    e.Open("sources", '[');
    for (const Ulid& u : meta.sources) e.Str("", u.ToString());
    e.Close(']');
  }
  if (meta.deletable) e.Bool("deletable", true);
  if (!meta.parents.empty()) {
    e.Open("parents", '[');
    for (const BlockDesc& p : meta.parents) {
      e.Open("", '{');
      e.Str("ulid", p.ulid.ToString());
      e.Int("minTime", p.min_time);
      e.Int("maxTime", p.max_time);
      e.Close('}');
    }
    e.Close(']');
  }
  if (meta.compaction_failed) e.Bool("failed", true);
  if (!meta.hints.empty()) {
    e.Open("hints", '[');
    for (const std::string& h : meta.hints) e.Str("", h);
    e.Close(']');
  }
  e.Close('}');
  e.Int("version", kMetaVersion);
  e.Close('}');
  return e.Take();
}

absl::StatusOr<BlockMeta> ParseMeta(absl::string_view json,
                                    absl::string_view name) {
  MetaParser p(name);
  absl::StatusOr<JsonValue> doc = ParseJson(json);
  if (!doc.ok()) {
    return absl::DataLossError(
        absl::StrCat(name, ": malformed JSON: ", doc.status().message()));
  }
  using Type = JsonValue::Type;
  if (doc->type != Type::kObject) return p.Error(&*doc, "not a JSON object");
  BlockMeta meta;
  int64_t version = 0;
  RETURN_IF_ERROR(p.Integer(*doc, "version", true, &version));
  if (version != kMetaVersion) {
    return p.Error(doc->Find("version"),
                   absl::StrCat("unsupported version ", version));
  }
  ASSIGN_OR_RETURN(const JsonValue* ulid,
                   p.Member(*doc, "ulid", Type::kString, true));
  ASSIGN_OR_RETURN(meta.ulid, p.UlidOf(*ulid));
  RETURN_IF_ERROR(p.Integer(*doc, "minTime", true, &meta.min_time));
  RETURN_IF_ERROR(p.Integer(*doc, "maxTime", true, &meta.max_time));
  if (meta.min_time > meta.max_time)
    return p.Error(&*doc, "minTime after maxTime");

  ASSIGN_OR_RETURN(const JsonValue* stats,
                   p.Member(*doc, "stats", Type::kObject, true));
  RETURN_IF_ERROR(
      p.Integer(*stats, "numSamples", false, &meta.stats.num_samples));
  RETURN_IF_ERROR(
      p.Integer(*stats, "numSeries", false, &meta.stats.num_series));
  RETURN_IF_ERROR(
      p.Integer(*stats, "numChunks", false, &meta.stats.num_chunks));
  RETURN_IF_ERROR(
      p.Integer(*stats, "numTombstones", false, &meta.stats.num_tombstones));

  ASSIGN_OR_RETURN(const JsonValue* comp,
                   p.Member(*doc, "compaction", Type::kObject, true));
  int64_t level = 0;
  RETURN_IF_ERROR(p.Integer(*comp, "level", true, &level));
  if (level < 1 || level > 1000) {
    return p.Error(comp->Find("level"),
                   absl::StrCat("implausible compaction level ", level));
  }
  meta.compaction_level = static_cast<int>(level);
  ASSIGN_OR_RETURN(const JsonValue* sources,
                   p.Member(*comp, "sources", Type::kArray, false));
  if (sources != nullptr) {
    for (const JsonValue& s : sources->items) {
      ASSIGN_OR_RETURN(Ulid u, p.UlidOf(s));
      meta.sources.push_back(u);
    }
  }
  ASSIGN_OR_RETURN(const JsonValue* parents,
                   p.Member(*comp, "parents", Type::kArray, false));
  if (parents != nullptr) {
    for (const JsonValue& item : parents->items) {
      if (item.type != Type::kObject)
        return p.Error(&item, "parent is not an object");
      BlockDesc d;
      ASSIGN_OR_RETURN(const JsonValue* u,
                       p.Member(item, "ulid", Type::kString, true));
      ASSIGN_OR_RETURN(d.ulid, p.UlidOf(*u));
      RETURN_IF_ERROR(p.Integer(item, "minTime", true, &d.min_time));
      RETURN_IF_ERROR(p.Integer(item, "maxTime", true, &d.max_time));
      meta.parents.push_back(d);
    }
  }
  ASSIGN_OR_RETURN(const JsonValue* deletable,
                   p.Member(*comp, "deletable", Type::kBool, false));
  meta.deletable = deletable != nullptr && deletable->boolean;
  ASSIGN_OR_RETURN(const JsonValue* failed,
                   p.Member(*comp, "failed", Type::kBool, false));
  meta.compaction_failed = failed != nullptr && failed->boolean;
  ASSIGN_OR_RETURN(const JsonValue* hints,
                   p.Member(*comp, "hints", Type::kArray, false));
  if (hints != nullptr) {
    for (const JsonValue& h : hints->items) {
      if (h.type != Type::kString) return p.Error(&h, "hint is not a string");
      meta.hints.push_back(h.text);
    }
  }
  return meta;
}

absl::StatusOr<BlockMeta> ReadMeta(const std::string& dir) {
  std::string path = absl::StrCat(dir, "/", kMetaFilename);
  ASSIGN_OR_RETURN(std::string json, ReadFile(path));
  return ParseMeta(json, path);
}

absl::Status WriteMeta(const std::string& dir, const BlockMeta& meta) {
  return WriteFileAtomic(absl::StrCat(dir, "/", kMetaFilename),
                         EncodeMeta(meta));
}

}  // namespace vigil::tsdb::block
