#include "tsdb/index/postings.h"

#include <algorithm>
#include <iterator>
#include <queue>
#include <utility>

#include "base/status_macros.h"

namespace vigil::tsdb::index {

Postings IntersectPostings(std::vector<Postings> lists) {
  if (lists.empty()) return {};
  // Shortest first: the result only shrinks, and probing a long list with
  // a short one is a binary search per element.
  std::sort(
      lists.begin(), lists.end(),
      [](const Postings& a, const Postings& b) { return a.size() < b.size(); });
  Postings acc = std::move(lists.front());
  for (size_t i = 1; i < lists.size() && !acc.empty(); ++i) {
    const Postings& probe = lists[i];
    size_t kept = 0;
    auto from = probe.begin();
    for (SeriesRef ref : acc) {
      from = std::lower_bound(from, probe.end(), ref);
      if (from == probe.end()) break;
      if (*from == ref) acc[kept++] = ref;
    }
    acc.resize(kept);
  }
  return acc;
}

Postings MergePostings(std::vector<Postings> lists) {
  lists.erase(std::remove_if(lists.begin(), lists.end(),
                             [](const Postings& p) { return p.empty(); }),
              lists.end());
  if (lists.empty()) return {};
  if (lists.size() == 1) return std::move(lists.front());
  // k-way merge with a min-heap of (head value, list index).
  using Head = std::pair<SeriesRef, size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap;
  std::vector<size_t> pos(lists.size(), 0);
  size_t total = 0;
  for (size_t i = 0; i < lists.size(); ++i) {
    heap.emplace(lists[i][0], i);
    total += lists[i].size();
  }
  Postings out;
  out.reserve(total);
  while (!heap.empty()) {
    auto [ref, i] = heap.top();
    heap.pop();
    if (out.empty() || out.back() != ref) out.push_back(ref);
    if (++pos[i] < lists[i].size()) heap.emplace(lists[i][pos[i]], i);
  }
  return out;
}

Postings SubtractPostings(const Postings& a, const Postings& b) {
  Postings out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

namespace {

bool MatchesEverything(const model::Matcher& m) {
  return m.type() == model::MatchType::kRegexMatch && m.value() == ".*";
}

// The union of the lists of the values v of the matcher's label for which
// m.Matches(v) == want. Literal sets are looked up directly.
absl::StatusOr<Postings> ListsWhere(const PostingsIndex& index,
                                    const model::Matcher& m, bool want) {
  bool positive = m.type() == model::MatchType::kEqual ||
                  m.type() == model::MatchType::kRegexMatch;
  const std::vector<std::string>* literals = m.SetMatches();
  if (literals != nullptr && positive == want) {
    std::vector<Postings> lists;
    lists.reserve(literals->size());
    for (const std::string& v : *literals) {
      if (v.empty()) continue;  // A stored label never has an empty value.
      ASSIGN_OR_RETURN(Postings p, index.Get(m.name(), v));
      lists.push_back(std::move(p));
    }
    return MergePostings(std::move(lists));
  }
  auto pred = [&](absl::string_view v) { return m.Matches(v) == want; };
  if (absl::string_view prefix = m.LiteralPrefix(); positive == want && !prefix.empty()) {
    return index.ForValuesWithPrefix(m.name(), prefix, pred);
  }
  return index.ForValues(m.name(), pred);
}

}  // namespace

absl::StatusOr<Postings> PostingsForMatchers(
    const PostingsIndex& index, const std::vector<model::Matcher>& matchers) {
  if (matchers.empty()) return Postings{};
  std::vector<Postings> required;  // Lists a matching series must be in.
  std::vector<Postings> excluded;  // Lists a matching series must not be in.
  for (const model::Matcher& m : matchers) {
    if (MatchesEverything(m)) continue;
    if (!m.Matches("")) {
      ASSIGN_OR_RETURN(Postings p, ListsWhere(index, m, true));
      if (p.empty()) return Postings{};
      required.push_back(std::move(p));
    } else {
      // Series without the label match; drop those whose value does not.
      ASSIGN_OR_RETURN(Postings p, ListsWhere(index, m, false));
      if (!p.empty()) excluded.push_back(std::move(p));
    }
  }
  Postings base;
  if (required.empty()) {
    ASSIGN_OR_RETURN(base, index.All());
  } else {
    base = IntersectPostings(std::move(required));
  }
  if (excluded.empty()) return base;
  return SubtractPostings(base, MergePostings(std::move(excluded)));
}

}  // namespace vigil::tsdb::index
