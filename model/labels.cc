#include "model/labels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/hash.h"
#include "base/json.h"
#include "base/strings.h"

namespace vigil::model {
namespace {

bool NameLess(const Label& a, const Label& b) { return a.name < b.name; }


template <typename Pairs>
Labels BuildFromPairs(const Pairs& pairs) {
  std::vector<Label> v;
  v.reserve(pairs.size());
  for (const auto& [n, val] : pairs) {
    if (val.empty()) continue;
    v.push_back(Label{Symbol::Intern(n), Symbol::Intern(val)});
  }
  std::stable_sort(v.begin(), v.end(), NameLess);
  return Labels::FromSortedUnchecked(std::move(v));
}

}  // namespace

Labels Labels::FromPairs(
    const std::vector<std::pair<absl::string_view, absl::string_view>>& p) {
  return BuildFromPairs(p);
}

Labels Labels::FromPairs(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> p) {
  return BuildFromPairs(p);
}

Labels Labels::FromSortedUnchecked(std::vector<Label> labels) {
  Labels l;
  l.labels_ = std::move(labels);
  l.labels_.shrink_to_fit();
  return l;
}

absl::string_view Labels::Get(absl::string_view name) const {
  for (const Label& l : labels_) {
    if (l.name.view() == name) return l.value.view();
  }
  return "";
}

bool Labels::Has(absl::string_view name) const {
  for (const Label& l : labels_) {
    if (l.name.view() == name) return true;
  }
  return false;
}

uint64_t Labels::Hash() const {
  LabelHasher h;
  for (const Label& l : labels_) h.Add(l.name.view(), l.value.view());
  return h.hash();
}

void LabelHasher::Add(absl::string_view name, absl::string_view value) {
  // Chaining with different seeds keeps ("ab","c") apart from ("a","bc").
  h_ = StableHash(value.data(), value.size(),
                  StableHash(name.data(), name.size(), h_) ^ 0xff);
}

std::string Labels::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (i > 0) out += ", ";
    absl::string_view n = labels_[i].name.view();
    out.append(n.data(), n.size());
    out += "=";
    AppendQuoted(&out, labels_[i].value.view());
  }
  out += "}";
  return out;
}

int Compare(const Labels& a, const Labels& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i].name != b[i].name) return a[i].name.view() < b[i].name.view() ? -1 : 1;
    if (a[i].value != b[i].value) return a[i].value.view() < b[i].value.view() ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool IsValidLabelName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < n + 1) return false;  // Truncated sequence.
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

absl::Status Labels::Validate(bool require_metric_name) const {
  if (labels_.empty()) {
    return absl::InvalidArgumentError("empty label set");
  }
  for (size_t i = 0; i < labels_.size(); ++i) {
    absl::string_view n = labels_[i].name.view();
    absl::string_view v = labels_[i].value.view();
    if (n.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty label name in ", ToString()));
    }
    if (!IsValidLabelName(n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid label name \"", n, "\" in ", ToString()));
    }
    if (i > 0 && labels_[i - 1].name == labels_[i].name) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate label name \"", n, "\" in ", ToString()));
    }
    if (!IsValidUtf8(v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label \"", n, "\" has a value that is not valid UTF-8"));
    }
  }
  if (require_metric_name) {
    absl::string_view name = MetricName();
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("series has no metric name (__name__): ", ToString()));
    }
    if (!IsValidMetricName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid metric name \"", name, "\""));
    }
  }
  return absl::OkStatus();
}

LabelsBuilder::LabelsBuilder(const Labels& base)
    : labels_(base.begin(), base.end()) {}

void LabelsBuilder::Reset(const Labels& base) {
  labels_.assign(base.begin(), base.end());
}

absl::string_view LabelsBuilder::Get(absl::string_view name) const {
  auto it = std::lower_bound(
      labels_.begin(), labels_.end(), name,
      [](const Label& l, absl::string_view n) { return l.name.view() < n; });
  if (it != labels_.end() && it->name.view() == name) return it->value.view();
  return "";
}

bool LabelsBuilder::Has(absl::string_view name) const {
  return !Get(name).empty();
}

LabelsBuilder& LabelsBuilder::Set(absl::string_view name,
                                  absl::string_view value) {
  if (value.empty()) return Del(name);
  Label l{Symbol::Intern(name), Symbol::Intern(value)};
  auto it = std::lower_bound(labels_.begin(), labels_.end(), l, NameLess);
  if (it != labels_.end() && it->name == l.name) {
    it->value = l.value;
  } else {
    labels_.insert(it, l);
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(absl::string_view name) {
  labels_.erase(std::remove_if(labels_.begin(), labels_.end(),
                               [&](const Label& l) { return l.name.view() == name; }),
                labels_.end());
  return *this;
}

Labels LabelsBuilder::Build() const { return Labels::FromSortedUnchecked(labels_); }

void AppendLabelsJson(const Labels& ls, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const Label& l : ls) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(l.name.view(), out);
    out->push_back(':');
    AppendJsonString(l.value.view(), out);
  }
  out->push_back('}');
}

}  // namespace vigil::model
