// Binary operators: scalar/scalar, vector/scalar, vector/vector with
// one-to-one, many-to-one and one-to-many matching, and the set operators.
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "promql/eval.h"

namespace vigil::promql::internal {
namespace {

// (value, keep): arithmetic always keeps; comparisons keep when true and
// return the left value.
std::pair<double, bool> ElemBinop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd: return {l + r, true};
    case BinaryOp::kSub: return {l - r, true};
    case BinaryOp::kMul: return {l * r, true};
    case BinaryOp::kDiv: return {l / r, true};
    case BinaryOp::kPow: return {std::pow(l, r), true};
    case BinaryOp::kMod: return {std::fmod(l, r), true};
    case BinaryOp::kAtan2: return {std::atan2(l, r), true};
    case BinaryOp::kEql: return {l, l == r};
    case BinaryOp::kNeq: return {l, l != r};
    case BinaryOp::kGtr: return {l, l > r};
    case BinaryOp::kLss: return {l, l < r};
    case BinaryOp::kGte: return {l, l >= r};
    case BinaryOp::kLte: return {l, l <= r};
    default: return {0, false};
  }
}

// As Prometheus 2.42: arithmetic drops the name, atan2 (like comparisons)
// keeps it.
bool DropsName(BinaryOp op) {
  return !IsComparison(op) && !IsSetOperator(op) && op != BinaryOp::kAtan2;
}

std::string LabelsText(const model::Labels& ls) { return ls.ToString(); }

// The labels a match group is printed with in errors: the `on` labels, or
// all labels but the ignored ones and the name.
model::Labels MatchedLabels(const model::Labels& ls, const VectorMatching& m) {
  model::LabelsBuilder b(ls);
  for (const model::Label& l : ls) {
    const bool listed = std::find(m.matching_labels.begin(), m.matching_labels.end(),
                                  l.name.view()) != m.matching_labels.end();
    if (m.on ? !listed : (listed || l.name.view() == model::kMetricName)) b.Del(l.name.view());
  }
  return b.Build();
}


}  // namespace

absl::StatusOr<EvalResult> Evaluator::EvalBinary(const BinaryExpr& b) {
  ASSIGN_OR_RETURN(EvalResult lhs, Eval(*b.lhs));
  ASSIGN_OR_RETURN(EvalResult rhs, Eval(*b.rhs));
  const int64_t n = NumSteps();
  EvalResult out;
  SeriesBuilder builder;

  // scalar op scalar.
  if (lhs.type == ValueType::kScalar && rhs.type == ValueType::kScalar) {
    out.type = ValueType::kScalar;
    Series s;
    const auto& lp = lhs.matrix[0].points;
    const auto& rp = rhs.matrix[0].points;
    for (int64_t i = 0; i < n; ++i) {
      auto [v, keep] = ElemBinop(b.op, lp[i].v, rp[i].v);
      if (IsComparison(b.op)) v = keep ? 1 : 0;
      s.points.push_back(Point{StepTime(i), v});
    }
    out.matrix.push_back(std::move(s));
    return out;
  }
  out.type = ValueType::kVector;

  // vector op scalar, scalar op vector.
  if (lhs.type == ValueType::kScalar || rhs.type == ValueType::kScalar) {
    const bool swap = lhs.type == ValueType::kScalar;
    const EvalResult& vec = swap ? rhs : lhs;
    const std::vector<Point>& sp = (swap ? lhs : rhs).matrix[0].points;
    const bool drop = DropsName(b.op) || b.return_bool;
    for (const Series& s : vec.matrix) {
      const model::Labels metric = drop ? DropMetricName(s.metric) : s.metric;
      for (const Point& p : s.points) {
        const double scalar = sp[(p.t - start_) / interval_].v;
        double l = p.v, r = scalar;
        if (swap) std::swap(l, r);
        auto [v, keep] = ElemBinop(b.op, l, r);
        if (IsComparison(b.op) && swap) v = r;  // Keep the vector's value.
        if (b.return_bool) {
          v = keep ? 1 : 0;
        } else if (!keep) {
          continue;
        }
        if (!builder.Add(metric, p.t, v)) return DuplicateLabelsetError();
      }
    }
    RETURN_IF_ERROR(Charge(static_cast<int64_t>(builder.NumPoints())));
    out.matrix = builder.Take();
    return out;
  }

  // vector op vector.
  const VectorMatching match = b.matching.value_or(VectorMatching{});
  auto sig_cache = [&](const Matrix& m) {
    absl::flat_hash_map<const Series*, std::string> sigs;
    for (const Series& s : m) sigs[&s] = GroupingKey(s.metric, match.matching_labels, match.on);
    return sigs;
  };
  const auto lsigs = sig_cache(lhs.matrix);
  const auto rsigs = sig_cache(rhs.matrix);
  StepCursor lc(lhs.matrix), rc(rhs.matrix);
  std::vector<StepCursor::Entry> le, re;

  if (IsSetOperator(b.op)) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = StepTime(i);
      lc.At(t, &le);
      rc.At(t, &re);
      absl::flat_hash_set<std::string> right;
      for (const auto& e : re) right.insert(rsigs.at(e.series));
      switch (b.op) {
        case BinaryOp::kAnd:
          for (const auto& e : le) {
            if (right.contains(lsigs.at(e.series)) && !builder.Add(e.series->metric, t, e.v)) {
              return DuplicateLabelsetError();
            }
          }
          break;
        case BinaryOp::kOr: {
          absl::flat_hash_set<std::string> left;
          for (const auto& e : le) {
            left.insert(lsigs.at(e.series));
            if (!builder.Add(e.series->metric, t, e.v)) return DuplicateLabelsetError();
          }
          for (const auto& e : re) {
            if (!left.contains(rsigs.at(e.series)) && !builder.Add(e.series->metric, t, e.v)) {
              return DuplicateLabelsetError();
            }
          }
          break;
        }
        default:  // unless
          for (const auto& e : le) {
            if (!right.contains(lsigs.at(e.series)) && !builder.Add(e.series->metric, t, e.v)) {
              return DuplicateLabelsetError();
            }
          }
      }
    }
    RETURN_IF_ERROR(Charge(static_cast<int64_t>(builder.NumPoints())));
    out.matrix = builder.Take();
    return out;
  }

  // The "one" side is rhs unless group_right swaps the sides.
  const bool swap = match.card == VectorMatching::Card::kOneToMany;
  absl::flat_hash_map<std::pair<const Series*, const Series*>, model::Labels> metrics;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = StepTime(i);
    lc.At(t, &le);
    rc.At(t, &re);
    const auto& many = swap ? re : le;
    const auto& one = swap ? le : re;
    const auto& many_sigs = swap ? rsigs : lsigs;
    const auto& one_sigs = swap ? lsigs : rsigs;
    absl::flat_hash_map<std::string, const StepCursor::Entry*> right;
    for (const auto& e : one) {
      auto [it, inserted] = right.emplace(one_sigs.at(e.series), &e);
      if (!inserted) {
        return absl::FailedPreconditionError(absl::StrCat(
            "found duplicate series for the match group ",
            LabelsText(MatchedLabels(e.series->metric, match)), " on the ",
            swap ? "left" : "right", " hand-side of the operation: [",
            LabelsText(e.series->metric), ", ", LabelsText(it->second->series->metric),
            "];many-to-many matching not allowed: matching labels must be unique on one side"));
      }
    }
    absl::flat_hash_set<std::string> matched;
    absl::flat_hash_map<std::string, absl::flat_hash_set<uint64_t>> inserted_metrics;
    for (const auto& e : many) {
      const std::string& sig = many_sigs.at(e.series);
      auto it = right.find(sig);
      if (it == right.end()) continue;
      const StepCursor::Entry& r = *it->second;
      double lv = e.v, rv = r.v;
      if (swap) std::swap(lv, rv);
      auto [v, keep] = ElemBinop(b.op, lv, rv);
      if (b.return_bool) {
        v = keep ? 1 : 0;
      } else if (!keep) {
        continue;
      }
      auto key = std::make_pair(e.series, r.series);
      auto mit = metrics.find(key);
      if (mit == metrics.end()) {
        model::LabelsBuilder lb(e.series->metric);
        if (DropsName(b.op) || b.return_bool) lb.Del(model::kMetricName);
        if (match.card == VectorMatching::Card::kOneToOne) {
          for (const model::Label& l : e.series->metric) {
            const bool listed = std::find(match.matching_labels.begin(),
                                          match.matching_labels.end(),
                                          l.name.view()) != match.matching_labels.end();
            if (match.on ? !listed : listed) lb.Del(l.name.view());
          }
        }
        for (const std::string& ln : match.include) {
          absl::string_view v1 = r.series->metric.Get(ln);
          if (!v1.empty()) {
            lb.Set(ln, v1);
          } else {
            lb.Del(ln);
          }
        }
        mit = metrics.emplace(key, lb.Build()).first;
      }
      const model::Labels& metric = mit->second;
      if (match.card == VectorMatching::Card::kOneToOne) {
        if (!matched.insert(sig).second) {
          return absl::FailedPreconditionError(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
      } else if (!inserted_metrics[sig].insert(metric.Hash()).second) {
        return absl::FailedPreconditionError(
            "multiple matches for labels: grouping labels must ensure unique matches");
      }
      if (!builder.Add(metric, t, v)) return DuplicateLabelsetError();
    }
  }
  RETURN_IF_ERROR(Charge(static_cast<int64_t>(builder.NumPoints())));
  out.matrix = builder.Take();
  return out;
}

}  // namespace vigil::promql::internal
