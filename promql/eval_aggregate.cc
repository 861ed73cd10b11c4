// Aggregations: sum avg count min max group stddev stdvar topk bottomk
// quantile count_values, with by/without grouping.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/goformat.h"
#include "base/status_macros.h"
#include "promql/eval.h"
#include "promql/functions.h"

namespace vigil::promql::internal {
namespace {

// The running state of sum avg count min max group stddev stdvar
// count_values for one group at one step, updated as Prometheus 2.42 does.
struct Acc {
  double value = 0;
  double mean = 0;
  double count = 0;  // At least 1 once started.
};

// The group's first sample at the step.
void AccStart(AggregateOp op, Acc* g, double v) {
  g->value = v;
  g->mean = v;
  g->count = 1;
  if (op == AggregateOp::kStddev || op == AggregateOp::kStdvar) g->value = 0;
}

// Each further sample, in input order.
void AccAdd(AggregateOp op, Acc* g, double v) {
  switch (op) {
    case AggregateOp::kSum: g->value += v; break;
    case AggregateOp::kAvg:
      g->count++;
      if (std::isinf(g->mean)) {
        if (std::isinf(v) && (g->mean > 0) == (v > 0)) break;
        if (!std::isinf(v) && !std::isnan(v)) break;
      }
      g->mean += v / g->count - g->mean / g->count;
      break;
    case AggregateOp::kCount:
    case AggregateOp::kCountValues: g->count++; break;
    case AggregateOp::kMax:
      if (g->value < v || std::isnan(g->value)) g->value = v;
      break;
    case AggregateOp::kMin:
      if (g->value > v || std::isnan(g->value)) g->value = v;
      break;
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar: {
      g->count++;
      const double delta = v - g->mean;
      g->mean += delta / g->count;
      g->value += delta * (v - g->mean);
      break;
    }
    default: break;  // group; quantile, topk and bottomk keep their own.
  }
}

double AccResult(AggregateOp op, const Acc& g) {
  switch (op) {
    case AggregateOp::kAvg: return g.mean;
    case AggregateOp::kGroup: return 1;
    case AggregateOp::kCount:
    case AggregateOp::kCountValues: return g.count;
    case AggregateOp::kStdvar: return g.value / g.count;
    case AggregateOp::kStddev: return std::sqrt(g.value / g.count);
    default: return g.value;  // sum min max
  }
}

struct Group {
  Acc acc;
  std::vector<double> values;                             // quantile
  std::vector<std::pair<double, const Series*>> heap;     // topk/bottomk (a Go heap)
};

// strconv.FormatFloat(v, 'f', -1, 64).
std::string FormatFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

// topk and bottomk select as Prometheus 2.42 does, with Go's container/heap
// over its vectorByValueHeap (topk: the smallest value on top) or
// vectorByReverseValueHeap (bottomk: the largest on top); NaN sorts first
// in both. Which of several equal values survive depends on the heap's
// shape, so the algorithm is followed step by step.
using HeapEntry = std::pair<double, const Series*>;

bool HeapLess(const std::vector<HeapEntry>& h, size_t i, size_t j, bool top) {
  if (std::isnan(h[i].first)) return true;
  return top ? h[i].first < h[j].first : h[i].first > h[j].first;
}

void HeapUp(std::vector<HeapEntry>* h, size_t j, bool top) {
  while (j > 0) {
    const size_t i = (j - 1) / 2;
    if (!HeapLess(*h, j, i, top)) break;
    std::swap((*h)[i], (*h)[j]);
    j = i;
  }
}

bool HeapDown(std::vector<HeapEntry>* h, size_t i0, bool top) {
  const size_t n = h->size();
  size_t i = i0;
  for (;;) {
    const size_t j1 = 2 * i + 1;
    if (j1 >= n) break;
    size_t j = j1;
    if (j1 + 1 < n && HeapLess(*h, j1 + 1, j1, top)) j = j1 + 1;
    if (!HeapLess(*h, j, i, top)) break;
    std::swap((*h)[i], (*h)[j]);
    i = j;
  }
  return i > i0;
}

// One more sample for a group's heap of at most k entries: Prometheus
// 2.42 pops the top (swap with the last, sift down, drop the last) and
// pushes the newcomer (append, sift up) when the heap is full and the
// newcomer beats the top, or the top is NaN.
void HeapOffer(std::vector<HeapEntry>* h, HeapEntry e, int64_t k, bool top) {
  if (static_cast<int64_t>(h->size()) >= k) {
    const double root = (*h)[0].first;
    const bool replace = (top ? root < e.first : root > e.first) || std::isnan(root);
    if (!replace) return;
    std::swap((*h)[0], h->back());
    h->pop_back();
    HeapDown(h, 0, top);
  }
  h->push_back(e);
  HeapUp(h, h->size() - 1, top);
}

// topk/bottomk's k from the parameter at a step, with Prometheus's bounds:
// the float64 neighbours inside int64's range.
absl::StatusOr<int64_t> SelectK(double p) {
  if (!(p <= 9223372036854774784.0 && p >= -9223372036854775808.0)) {
    std::string msg = "Scalar value ";
    AppendGoFloat(p, &msg);
    return absl::FailedPreconditionError(absl::StrCat(msg, " overflows int64"));
  }
  return static_cast<int64_t>(p);
}

// Orders a topk (top) or bottomk heap as Prometheus outputs it: best first,
// NaN last; equal values keep the heap's order, where Go's unstable sort
// may not (only instant queries show the order).
void SortSelected(std::vector<HeapEntry>* heap, bool top) {
  auto better = [top](const HeapEntry& x, const HeapEntry& y) {
    if (std::isnan(x.first)) return false;
    if (std::isnan(y.first)) return true;
    return top ? x.first > y.first : x.first < y.first;
  };
  std::stable_sort(heap->begin(), heap->end(), better);
}

// Aggregations whose groups fold one value at a time into a fixed state.
bool Fusable(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
    case AggregateOp::kAvg:
    case AggregateOp::kCount:
    case AggregateOp::kMin:
    case AggregateOp::kMax:
    case AggregateOp::kGroup:
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar: return true;
    default: return false;
  }
}

bool ValidLabelName(absl::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<EvalResult> Evaluator::EvalAggregate(const AggregateExpr& a) {
  EvalResult param;
  if (a.param != nullptr) {
    ASSIGN_OR_RETURN(param, Eval(*a.param));
  }
  if (a.op == AggregateOp::kCountValues && !ValidLabelName(param.str)) {
    return absl::FailedPreconditionError(absl::StrCat("invalid label name \"", param.str, "\""));
  }
  const int64_t n = NumSteps();
  // Per input series: its group key and the group's labels.
  struct SeriesGroup {
    std::string key;
    model::Labels metric;
  };
  // count_values sets its label before grouping, and `by` keeps it.
  std::vector<std::string> grouping = a.grouping;
  if (a.op == AggregateOp::kCountValues && !a.without) grouping.push_back(param.str);
  auto group_of = [&](const model::Labels& metric) {
    SeriesGroup g;
    g.key = GroupingKey(metric, grouping, !a.without);
    model::LabelsBuilder lb(metric);
    for (const model::Label& l : metric) {
      const bool listed =
          std::find(grouping.begin(), grouping.end(), l.name.view()) != grouping.end();
      if (a.without ? (listed || l.name.view() == model::kMetricName) : !listed) {
        lb.Del(l.name.view());
      }
    }
    g.metric = lb.Build();
    return g;
  };
  // Groups get small integer ids, so that the per-step work indexes vectors
  // instead of hashing keys. Every series' group is known up front except
  // for count_values, whose groups depend on the value at each step.
  absl::flat_hash_map<std::string, size_t> gid_by_key;
  std::vector<model::Labels> group_metric;
  auto gid_for = [&](SeriesGroup sg) {
    auto [it, fresh] = gid_by_key.try_emplace(std::move(sg.key), group_metric.size());
    if (fresh) group_metric.push_back(std::move(sg.metric));
    return it->second;
  };
  // The scalar parameter (topk, bottomk, quantile) at step i.
  auto param_at = [&](int64_t i) {
    return a.param != nullptr && param.type == ValueType::kScalar ? param.matrix[0].points[i].v
                                                                  : 0.0;
  };
  const bool selects = a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk;
  const auto* call = std::get_if<Call>(&Unparen(*a.expr).node);
  if (call != nullptr && selects && a.grouping.empty() && !a.without &&
      DistinctRangeCallLabels(*call)) {
    // topk(k, rate(x[5m])): one group, so one heap of at most k per step,
    // offered each series' values as they come: per step the same offers
    // in the same order as step by step, so the same survivors.
    const bool top = a.op == AggregateOp::kTopk;
    // k per step; an overflowing k fails the query only at a step with
    // samples, as step by step (below).
    std::vector<int64_t> ks(static_cast<size_t>(n), 0);
    std::vector<bool> seen(static_cast<size_t>(n), false);
    for (int64_t i = 0; i < n; ++i) ks[i] = SelectK(param_at(i)).value_or(0);
    std::deque<Series> kept;  // Labels of the series offered (stable addresses).
    std::vector<std::vector<HeapEntry>> heaps(static_cast<size_t>(n));
    RETURN_IF_ERROR(RangeCallEach(
        *call, [&](const model::Labels& metric, std::span<const Point> points) -> absl::Status {
          const Series* s = nullptr;
          for (const Point& p : points) {
            const auto i = static_cast<size_t>((p.t - start_) / interval_);
            seen[i] = true;
            if (ks[i] < 1) continue;
            if (s == nullptr) s = &kept.emplace_back(Series{metric, {}});
            if (heaps[i].empty()) RETURN_IF_ERROR(Charge(std::min<int64_t>(ks[i], 1024)));
            HeapOffer(&heaps[i], HeapEntry(p.v, s), ks[i], top);
          }
          return absl::OkStatus();
        }));
    SeriesBuilder builder;
    for (int64_t i = 0; i < n; ++i) {
      if (!seen[i]) continue;
      RETURN_IF_ERROR(SelectK(param_at(i)).status());
      SortSelected(&heaps[i], top);
      for (const auto& [v, s] : heaps[i]) {
        if (!builder.Add(s->metric, StepTime(i), v)) {
          return DuplicateLabelsetError();
        }
      }
      std::vector<HeapEntry>().swap(heaps[i]);
    }
    EvalResult out;
    out.type = ValueType::kVector;
    RETURN_IF_ERROR(Charge(static_cast<int64_t>(builder.NumPoints())));
    out.matrix = builder.Take();
    return out;
  }
  if (call != nullptr && Fusable(a.op) && DistinctRangeCallLabels(*call)) {
    // sum by (job) (rate(x[5m])) and the like: each series of the call is
    // folded into its group's steps as it comes, without holding the call's
    // whole output. Per group and step, values arrive in the same (input
    // series) order as step by step, so the arithmetic is the same.
    struct Fold {
      std::vector<Acc> steps;  // count == 0: no sample at that step.
      int64_t first_step;      // Where the group first has a sample, and
      size_t first_series;     // the first input series there: the
                               // step-by-step order of the groups.
    };
    std::vector<Fold> folds;
    size_t series_index = 0;
    RETURN_IF_ERROR(RangeCallEach(
        *call, [&](const model::Labels& metric, std::span<const Point> points) -> absl::Status {
          const size_t gid = gid_for(group_of(metric));
          if (gid == folds.size()) {
            RETURN_IF_ERROR(Charge(n));
            folds.push_back(Fold{std::vector<Acc>(static_cast<size_t>(n)), n, 0});
          }
          Fold& f = folds[gid];
          for (const Point& p : points) {
            const int64_t i = (p.t - start_) / interval_;
            Acc& acc = f.steps[static_cast<size_t>(i)];
            if (acc.count == 0) {
              AccStart(a.op, &acc, p.v);
            } else {
              AccAdd(a.op, &acc, p.v);
            }
          }
          const int64_t i0 = (points.front().t - start_) / interval_;
          if (i0 < f.first_step) {
            f.first_step = i0;
            f.first_series = series_index;
          }
          ++series_index;
          return absl::OkStatus();
        }));
    std::vector<size_t> gids(folds.size());
    for (size_t g = 0; g < gids.size(); ++g) gids[g] = g;
    std::sort(gids.begin(), gids.end(), [&](size_t x, size_t y) {
      return std::pair(folds[x].first_step, folds[x].first_series) <
             std::pair(folds[y].first_step, folds[y].first_series);
    });
    EvalResult out;
    out.type = ValueType::kVector;
    for (const size_t gid : gids) {
      Series s{group_metric[gid], {}};
      const std::vector<Acc>& steps = folds[gid].steps;
      for (int64_t i = 0; i < n; ++i) {
        const Acc& acc = steps[static_cast<size_t>(i)];
        if (acc.count != 0) s.points.push_back(Point{StepTime(i), AccResult(a.op, acc)});
      }
      out.matrix.push_back(std::move(s));
      folds[gid].steps = {};
    }
    return out;
  }

  ASSIGN_OR_RETURN(EvalResult in, Eval(*a.expr));
  std::vector<size_t> gid_of_series;
  if (a.op != AggregateOp::kCountValues) {
    gid_of_series.reserve(in.matrix.size());
    for (const Series& s : in.matrix) gid_of_series.push_back(gid_for(group_of(s.metric)));
  }
  StepCursor cursor(in.matrix);
  std::vector<StepCursor::Entry> entries;
  SeriesBuilder builder;  // topk and bottomk: their output keeps input labels.
  // The other aggregations output one series per group, with distinct
  // labels: appended directly.
  constexpr size_t kNone = static_cast<size_t>(-1);
  Matrix grouped;
  std::vector<size_t> out_of_group;
  int64_t grouped_points = 0;
  std::vector<Group> groups;
  std::vector<int64_t> stamp;  // The step at which each group was last reset.
  std::vector<size_t> order;   // Groups in the order first seen at this step.
  EvalResult out;
  out.type = ValueType::kVector;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = StepTime(i);
    cursor.At(t, &entries);
    if (entries.empty()) continue;
    const double p = param_at(i);
    order.clear();
    int64_t k = 0;
    if (selects) {
      ASSIGN_OR_RETURN(k, SelectK(p));
      if (k < 1) continue;
    }
    for (const StepCursor::Entry& e : entries) {
      size_t gid;
      if (a.op == AggregateOp::kCountValues) {
        gid = gid_for(group_of(
            model::LabelsBuilder(e.series->metric).Set(param.str, FormatFloatF(e.v)).Build()));
      } else {
        gid = gid_of_series[static_cast<size_t>(e.series - in.matrix.data())];
      }
      if (gid >= groups.size()) {
        groups.resize(group_metric.size());
        stamp.resize(group_metric.size(), -1);
        out_of_group.resize(group_metric.size(), kNone);
      }
      Group& g = groups[gid];
      const double v = e.v;
      if (stamp[gid] != i) {
        stamp[gid] = i;
        order.push_back(gid);
        AccStart(a.op, &g.acc, v);
        g.values.clear();
        g.heap.clear();
        if (a.op == AggregateOp::kQuantile) g.values.push_back(v);
        if (selects) g.heap.emplace_back(v, e.series);
        continue;
      }
      if (a.op == AggregateOp::kQuantile) {
        g.values.push_back(v);
      } else if (selects) {
        HeapOffer(&g.heap, HeapEntry(v, e.series), k, a.op == AggregateOp::kTopk);
      } else {
        AccAdd(a.op, &g.acc, v);
      }
    }
    for (const size_t gid : order) {
      Group& g = groups[gid];
      double v = AccResult(a.op, g.acc);
      switch (a.op) {
        case AggregateOp::kQuantile: v = Quantile(p, &g.values); break;
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk: {
          SortSelected(&g.heap, a.op == AggregateOp::kTopk);
          for (const auto& [hv, s] : g.heap) {
            if (!builder.Add(s->metric, t, hv)) {
              return DuplicateLabelsetError();
            }
          }
          continue;
        }
        default: break;
      }
      size_t& idx = out_of_group[gid];
      if (idx == kNone) {
        idx = grouped.size();
        grouped.push_back(Series{group_metric[gid], {}});
      }
      grouped[idx].points.push_back(Point{t, v});
      ++grouped_points;
    }
  }
  if (!selects) {
    RETURN_IF_ERROR(Charge(grouped_points));
    out.matrix = std::move(grouped);
    return out;
  }
  RETURN_IF_ERROR(Charge(static_cast<int64_t>(builder.NumPoints())));
  out.matrix = builder.Take();
  return out;
}

}  // namespace vigil::promql::internal
