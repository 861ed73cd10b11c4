// Label sets: sorted (by name) lists of interned name/value pairs that
// identify a series. Copying a Labels copies a small vector of pointers.
#ifndef VIGIL_MODEL_LABELS_H_
#define VIGIL_MODEL_LABELS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "model/symbol.h"

namespace vigil::model {

inline constexpr absl::string_view kMetricName = "__name__";

struct Label {
  Symbol name;
  Symbol value;
  friend bool operator==(const Label& a, const Label& b) {
    return a.name == b.name && a.value == b.value;
  }
};

class Labels {
 public:
  Labels() = default;
  // Builds from unsorted pairs; sorts by name. Pairs with an empty value are
  // dropped (an empty value means "no such label", as in Prometheus).
  // Duplicate names are kept so that Validate() can report them.
  static Labels FromPairs(
      const std::vector<std::pair<absl::string_view, absl::string_view>>& p);
  static Labels FromPairs(
      std::initializer_list<std::pair<absl::string_view, absl::string_view>> p);
  // From labels already sorted by name and interned; no checks.
  static Labels FromSortedUnchecked(std::vector<Label> labels);

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  const Label& operator[](size_t i) const { return labels_[i]; }
  std::vector<Label>::const_iterator begin() const { return labels_.begin(); }
  std::vector<Label>::const_iterator end() const { return labels_.end(); }

  // The value of `name`, or "" when absent.
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const;
  absl::string_view MetricName() const { return Get(kMetricName); }

  // Stable 64-bit hash of the names and values (not of symbol addresses):
  // equal label sets hash equally in every process.
  uint64_t Hash() const;

  // Prometheus's text form: {__name__="up", job="x"}.
  std::string ToString() const;

  // Returns OK if this is a valid series identity: at least one label,
  // names match [a-zA-Z_][a-zA-Z0-9_]*, no duplicate names, values valid
  // UTF-8, and (if require_metric_name) a __name__ matching
  // [a-zA-Z_:][a-zA-Z0-9_:]*. The error says which label is wrong.
  absl::Status Validate(bool require_metric_name) const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.labels_ == b.labels_;
  }
  friend bool operator!=(const Labels& a, const Labels& b) { return !(a == b); }
  // Prometheus's ordering: pairwise by name, then value; a prefix first.
  friend int Compare(const Labels& a, const Labels& b);
  friend bool operator<(const Labels& a, const Labels& b) {
    return Compare(a, b) < 0;
  }

  // Bytes used on the heap by this object (not the interned strings).
  size_t HeapBytes() const { return labels_.capacity() * sizeof(Label); }

 private:
  std::vector<Label> labels_;
};

// Appends `ls` as a JSON object {"name":"value",...} in label order (Go
// sorts map keys the same way), strings escaped as Go does.
void AppendLabelsJson(const Labels& ls, std::string* out);

// Incrementally edits a label set (relabeling, rule outputs, ...).
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base);
  // Starts over from `base`, dropping every edit made so far.
  void Reset(const Labels& base);
  // Sets `name`; an empty value deletes it.
  LabelsBuilder& Set(absl::string_view name, absl::string_view value);
  LabelsBuilder& Del(absl::string_view name);
  Labels Build() const;

  // The current value of `name`, or "" when absent. The view stays valid
  // for the life of the process (values are interned).
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const;

  // The current labels, sorted by name. Set() and Del() invalidate the
  // iterators: to edit while walking, walk a copy (`std::vector<Label>
  // snapshot(b.begin(), b.end())`).
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  std::vector<Label>::const_iterator begin() const { return labels_.begin(); }
  std::vector<Label>::const_iterator end() const { return labels_.end(); }

 private:
  std::vector<Label> labels_;  // Sorted by name.
};

// Hash of (name, value) pairs already sorted by name, equal to
// Labels::Hash() of the same set; lets a caller find a series without
// interning its strings.
class LabelHasher {
 public:
  void Add(absl::string_view name, absl::string_view value);
  uint64_t hash() const { return h_; }

 private:
  uint64_t h_ = 0;
};

bool IsValidLabelName(absl::string_view name);
bool IsValidMetricName(absl::string_view name);
bool IsValidUtf8(absl::string_view s);

}  // namespace vigil::model

#endif  // VIGIL_MODEL_LABELS_H_
