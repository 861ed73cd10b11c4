// Postings lists (sorted series refs) and the evaluation of label matchers
// against any index that can list the series of a label pair. The block
// index reader implements PostingsIndex; the head's in-memory postings can
// be adapted to it so that both share one matcher evaluation.
#ifndef VIGIL_TSDB_INDEX_POSTINGS_H_
#define VIGIL_TSDB_INDEX_POSTINGS_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/matcher.h"
#include "tsdb/storage.h"

namespace vigil::tsdb::index {

using Postings = std::vector<SeriesRef>;  // Ascending, no duplicates.

// Set operations on postings lists.
Postings IntersectPostings(std::vector<Postings> lists);
Postings MergePostings(std::vector<Postings> lists);
Postings SubtractPostings(const Postings& a, const Postings& b);

// An inverted index: label pair -> postings list. Implementations may read
// from disk, hence the status.
class PostingsIndex {
 public:
  virtual ~PostingsIndex() = default;
  // The series with label `name`="`value`" (empty when there are none).
  virtual absl::StatusOr<Postings> Get(absl::string_view name,
                                       absl::string_view value) const = 0;
  // Every series.
  virtual absl::StatusOr<Postings> All() const = 0;
  // The union of the lists of the values of `name` for which `pred` holds.
  virtual absl::StatusOr<Postings> ForValues(
      absl::string_view name,
      const std::function<bool(absl::string_view)>& pred) const = 0;
  // As ForValues, for a `pred` that can only hold for values starting with
  // `prefix`: a sorted index reads just that range of values.
  virtual absl::StatusOr<Postings> ForValuesWithPrefix(
      absl::string_view name, absl::string_view prefix,
      const std::function<bool(absl::string_view)>& pred) const {
    (void)prefix;
    return ForValues(name, pred);
  }
};

// The series matching every matcher, with Prometheus's semantics: a matcher
// that matches the empty string also matches series without the label.
// Empty for no matchers.
absl::StatusOr<Postings> PostingsForMatchers(
    const PostingsIndex& index, const std::vector<model::Matcher>& matchers);

}  // namespace vigil::tsdb::index

#endif  // VIGIL_TSDB_INDEX_POSTINGS_H_
