// The head's inverted index: label name -> value -> sorted series refs, and
// the set operations that evaluate label matchers against it.
#ifndef VIGIL_TSDB_HEAD_POSTINGS_H_
#define VIGIL_TSDB_HEAD_POSTINGS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "tsdb/stats.h"
#include "tsdb/storage.h"

namespace vigil::tsdb {

using Postings = std::vector<SeriesRef>;  // Sorted ascending, no duplicates.


Postings Intersect(std::vector<Postings> lists);
Postings Union(std::vector<Postings> lists);
Postings Without(const Postings& a, const Postings& b);

// Thread-safe: readers share a lock; Add and Delete take it exclusively.
class MemPostings {
 public:
  void Add(SeriesRef ref, const model::Labels& labels) ABSL_LOCKS_EXCLUDED(mu_);
  // Removes `refs`, which had the label pairs `labels` between them.
  void Delete(const absl::flat_hash_set<SeriesRef>& refs,
              const std::vector<model::Label>& labels) ABSL_LOCKS_EXCLUDED(mu_);

  Postings Get(absl::string_view name, absl::string_view value) const;
  Postings All() const;
  // Union of the lists of the values of `name` for which `pred` holds.
  Postings ForValues(absl::string_view name,
                     const std::function<bool(absl::string_view)>& pred) const;

  std::vector<std::string> LabelNames() const;
  std::vector<std::string> LabelValues(absl::string_view name) const;
  // Number of (name, value) pairs, for stats.
  size_t NumPairs() const;
  PostingsStats Stats(size_t limit) const;

 private:
  using ValueMap = absl::flat_hash_map<model::Symbol, Postings>;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<model::Symbol, ValueMap> index_ ABSL_GUARDED_BY(mu_);
  Postings all_ ABSL_GUARDED_BY(mu_);
};

// The refs of the series that match every matcher (Prometheus semantics: a
// matcher that matches "" also matches series without the label). Empty
// for no matchers.
Postings PostingsForMatchers(const MemPostings& index,
                             const std::vector<model::Matcher>& matchers);

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_HEAD_POSTINGS_H_
