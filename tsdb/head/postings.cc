#include "tsdb/head/postings.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

namespace vigil::tsdb {
namespace {

// Inserts keeping order; refs almost always arrive in increasing order.
void InsertSorted(Postings* p, SeriesRef ref) {
  if (p->empty() || p->back() < ref) {
    p->push_back(ref);
    return;
  }
  auto it = std::lower_bound(p->begin(), p->end(), ref);
  if (it == p->end() || *it != ref) p->insert(it, ref);
}

void RemoveRefs(Postings* p, const absl::flat_hash_set<SeriesRef>& refs) {
  p->erase(std::remove_if(p->begin(), p->end(),
                          [&](SeriesRef r) { return refs.contains(r); }),
           p->end());
}

}  // namespace

Postings Intersect(std::vector<Postings> lists) {
  if (lists.empty()) return {};
  std::sort(lists.begin(), lists.end(),
            [](const Postings& a, const Postings& b) { return a.size() < b.size(); });
  Postings result = std::move(lists[0]);
  for (size_t i = 1; i < lists.size() && !result.empty(); ++i) {
    const Postings& other = lists[i];
    Postings next;
    next.reserve(result.size());
    auto it = other.begin();
    for (SeriesRef r : result) {
      it = std::lower_bound(it, other.end(), r);
      if (it == other.end()) break;
      if (*it == r) next.push_back(r);
    }
    result = std::move(next);
  }
  return result;
}

Postings Union(std::vector<Postings> lists) {
  if (lists.empty()) return {};
  // Pairwise merging: O(n log k) for k lists of n refs in total.
  while (lists.size() > 1) {
    std::vector<Postings> next;
    next.reserve((lists.size() + 1) / 2);
    for (size_t i = 0; i + 1 < lists.size(); i += 2) {
      Postings m;
      m.reserve(lists[i].size() + lists[i + 1].size());
      std::set_union(lists[i].begin(), lists[i].end(), lists[i + 1].begin(),
                     lists[i + 1].end(), std::back_inserter(m));
      next.push_back(std::move(m));
    }
    if (lists.size() % 2 == 1) next.push_back(std::move(lists.back()));
    lists = std::move(next);
  }
  return std::move(lists[0]);
}

Postings Without(const Postings& a, const Postings& b) {
  Postings out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

void MemPostings::Add(SeriesRef ref, const model::Labels& labels) {
  absl::MutexLock lock(&mu_);
  for (const model::Label& l : labels) InsertSorted(&index_[l.name][l.value], ref);
  InsertSorted(&all_, ref);
}

void MemPostings::Delete(const absl::flat_hash_set<SeriesRef>& refs,
                         const std::vector<model::Label>& labels) {
  absl::MutexLock lock(&mu_);
  for (const model::Label& l : labels) {
    auto n = index_.find(l.name);
    if (n == index_.end()) continue;
    auto v = n->second.find(l.value);
    if (v == n->second.end()) continue;
    RemoveRefs(&v->second, refs);
    if (v->second.empty()) n->second.erase(v);
    if (n->second.empty()) index_.erase(n);
  }
  RemoveRefs(&all_, refs);
}

Postings MemPostings::Get(absl::string_view name, absl::string_view value) const {
  // Lookup, not Intern: query strings must not grow the interner.
  std::optional<model::Symbol> n = model::Symbol::Lookup(name);
  std::optional<model::Symbol> v = model::Symbol::Lookup(value);
  if (!n.has_value() || !v.has_value()) return {};
  absl::ReaderMutexLock lock(&mu_);
  auto it = index_.find(*n);
  if (it == index_.end()) return {};
  auto vit = it->second.find(*v);
  if (vit == it->second.end()) return {};
  return vit->second;
}

Postings MemPostings::All() const {
  absl::ReaderMutexLock lock(&mu_);
  return all_;
}

Postings MemPostings::ForValues(
    absl::string_view name, const std::function<bool(absl::string_view)>& pred) const {
  std::optional<model::Symbol> n = model::Symbol::Lookup(name);
  if (!n.has_value()) return {};
  std::vector<Postings> lists;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = index_.find(*n);
    if (it == index_.end()) return {};
    for (const auto& [value, refs] : it->second) {
      if (pred(value.view())) lists.push_back(refs);
    }
  }
  return Union(std::move(lists));
}

std::vector<std::string> MemPostings::LabelNames() const {
  std::vector<std::string> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    out.reserve(index_.size());
    for (const auto& [name, values] : index_) out.emplace_back(name.view());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> MemPostings::LabelValues(absl::string_view name) const {
  std::vector<std::string> out;
  std::optional<model::Symbol> n = model::Symbol::Lookup(name);
  if (!n.has_value()) return out;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = index_.find(*n);
    if (it == index_.end()) return out;
    out.reserve(it->second.size());
    for (const auto& [value, refs] : it->second) out.emplace_back(value.view());
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t MemPostings::NumPairs() const {
  absl::ReaderMutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [name, values] : index_) n += values.size();
  return n;
}

namespace {

void KeepTop(size_t limit, PostingsStats::List* list) {
  auto larger = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (list->size() > limit) {
    std::partial_sort(list->begin(), list->begin() + static_cast<ptrdiff_t>(limit), list->end(),
                      larger);
    list->resize(limit);
  } else {
    std::sort(list->begin(), list->end(), larger);
  }
}

}  // namespace

PostingsStats MemPostings::Stats(size_t limit) const {
  PostingsStats st;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, values] : index_) {
      uint64_t bytes = 0;
      for (const auto& [value, refs] : values) {
        bytes += value.size() * refs.size();
        st.series_by_label_value_pair.emplace_back(
            absl::StrCat(name.view(), "=", value.view()), refs.size());
        if (name.view() == model::kMetricName) {
          st.series_by_metric_name.emplace_back(std::string(value.view()), refs.size());
        }
      }
      st.values_by_label_name.emplace_back(std::string(name.view()), values.size());
      st.memory_by_label_name.emplace_back(std::string(name.view()), bytes);
    }
  }
  KeepTop(limit, &st.series_by_metric_name);
  KeepTop(limit, &st.values_by_label_name);
  KeepTop(limit, &st.memory_by_label_name);
  KeepTop(limit, &st.series_by_label_value_pair);
  return st;
}

namespace {

bool IsPositive(const model::Matcher& m) {
  return m.type() == model::MatchType::kEqual ||
         m.type() == model::MatchType::kRegexMatch;
}

// Union of the lists of the values v of m.name() with m.Matches(v) == want.
// Direct lookups when that is membership in the matcher's literal set.
Postings ValuesWhere(const MemPostings& index, const model::Matcher& m, bool want) {
  const std::vector<std::string>* set = m.SetMatches();
  // Matches(v) == want is "v in set" when the positive form's set decides
  // and the polarity lines up.
  if (set != nullptr && IsPositive(m) == want) {
    std::vector<Postings> lists;
    for (const std::string& v : *set) {
      if (v.empty()) continue;  // No series has an empty value.
      lists.push_back(index.Get(m.name(), v));
    }
    return Union(std::move(lists));
  }
  return index.ForValues(m.name(), [&](absl::string_view v) { return m.Matches(v) == want; });
}

}  // namespace

Postings PostingsForMatchers(const MemPostings& index,
                             const std::vector<model::Matcher>& matchers) {
  if (matchers.empty()) return {};
  std::vector<Postings> its, not_its;
  for (const model::Matcher& m : matchers) {
    if (!m.Matches("")) {
      // The label must be present with a matching value.
      its.push_back(ValuesWhere(index, m, true));
      if (its.back().empty()) return {};
    } else {
      // Matches series without the label; exclude those whose value fails.
      not_its.push_back(ValuesWhere(index, m, false));
    }
  }
  Postings base = its.empty() ? index.All() : Intersect(std::move(its));
  if (not_its.empty()) return base;
  return Without(base, Union(std::move(not_its)));
}

}  // namespace vigil::tsdb
