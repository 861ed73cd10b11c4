// Engine entry points, the evaluator's dispatch, selectors and subqueries.
#include "promql/engine.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "model/value.h"
#include "promql/eval.h"

namespace vigil::promql {
namespace internal {

bool SeriesBuilder::Add(const model::Labels& metric, int64_t t, double v) {
  auto append = [&](size_t i) {
    if (!out_[i].points.empty() && out_[i].points.back().t == t) return false;
    out_[i].points.push_back(Point{t, v});
    ++points_;
    last_ = i;
    return true;
  };
  if (last_ < out_.size() && out_[last_].metric == metric) return append(last_);
  const uint64_t h = metric.Hash();
  std::vector<size_t>& slots = index_[h];
  for (size_t i : slots) {
    if (out_[i].metric == metric) return append(i);
  }
  slots.push_back(out_.size());
  last_ = out_.size();
  out_.push_back(Series{metric, {Point{t, v}}});
  ++points_;
  return true;
}

void StepCursor::At(int64_t t, std::vector<Entry>* out) {
  out->clear();
  for (size_t i = 0; i < m_->size(); ++i) {
    const std::vector<Point>& pts = (*m_)[i].points;
    size_t& p = pos_[i];
    while (p < pts.size() && pts[p].t < t) ++p;
    if (p < pts.size() && pts[p].t == t) out->push_back(Entry{&(*m_)[i], pts[p].v});
  }
}

absl::Status DuplicateLabelsetError() {
  return absl::FailedPreconditionError("vector cannot contain metrics with the same labelset");
}

const Expr& Unparen(const Expr& e) {
  if (const auto* p = std::get_if<ParenExpr>(&e.node)) return Unparen(*p->expr);
  return e;
}

model::Labels DropMetricName(const model::Labels& ls) {
  if (!ls.Has(model::kMetricName)) return ls;
  return model::LabelsBuilder(ls).Del(model::kMetricName).Build();
}

std::string GroupingKey(const model::Labels& ls, const std::vector<std::string>& names, bool on) {
  std::string key;
  for (const model::Label& l : ls) {
    const bool listed = std::find(names.begin(), names.end(), l.name.view()) != names.end();
    if (on ? !listed : (listed || l.name.view() == model::kMetricName)) continue;
    absl::StrAppend(&key, l.name.view(), "\xff", l.value.view(), "\xfe");
  }
  return key;
}

absl::Status Evaluator::CheckAlive() {
  if (qo_.cancel != nullptr && qo_.cancel->load(std::memory_order_relaxed)) {
    return absl::CancelledError("query was canceled");
  }
  if (absl::Now() > deadline_) {
    return absl::DeadlineExceededError("query timed out in query execution");
  }
  return absl::OkStatus();
}

absl::Status Evaluator::Charge(int64_t n) {
  if (parent_ != nullptr) return parent_->Charge(n);
  samples_ += n;
  if (samples_ > opts_.max_samples) {
    return absl::ResourceExhaustedError(
        "query processing would load too many samples into memory in query execution");
  }
  if ((++checks_ & 0x3f) == 0) return CheckAlive();
  return absl::OkStatus();
}

void Evaluator::Release(int64_t n) { Root()->samples_ -= n; }

int64_t Evaluator::RefTime(int64_t t, const AtModifier& at, int64_t offset) const {
  switch (at.kind) {
    case AtModifier::Kind::kNone: return t - offset;
    case AtModifier::Kind::kTimestamp: return at.timestamp_ms - offset;
    case AtModifier::Kind::kStart: return query_start_ - offset;
    case AtModifier::Kind::kEnd: return query_end_ - offset;
  }
  return t - offset;
}

absl::Status Evaluator::SelectEach(const VectorSelector& vs, int64_t mint, int64_t maxt,
                                   const std::function<absl::Status(Series&&)>& fn) {
  RETURN_IF_ERROR(CheckAlive());
  std::unique_ptr<tsdb::SeriesSet> set = querier_->Select(vs.matchers, mint, maxt);
  Series s;
  while (set->Next()) {
    s.metric = set->At().labels();
    s.points.clear();
    std::unique_ptr<tsdb::SampleIterator> it = set->At().Iterator();
    it->DrainTo(mint, maxt, &s.points);
    RETURN_IF_ERROR(it->Err());
    if (!s.points.empty()) RETURN_IF_ERROR(fn(std::move(s)));
  }
  return set->Err();
}

absl::StatusOr<EvalResult> Evaluator::EvalVectorSelector(const VectorSelector& vs,
                                                         bool timestamps) {
  const int64_t n = NumSteps();
  std::vector<int64_t> refs(n);
  for (int64_t i = 0; i < n; ++i) refs[i] = RefTime(StepTime(i), vs.at, vs.offset_ms);
  const int64_t maxt = *std::max_element(refs.begin(), refs.end());
  const int64_t mint = *std::min_element(refs.begin(), refs.end()) - opts_.lookback_delta_ms;
  EvalResult r;
  r.type = ValueType::kVector;
  // One series at a time: its raw samples are dropped once its steps are
  // taken, so only the steps' points stay in memory (and are charged).
  RETURN_IF_ERROR(SelectEach(vs, mint, maxt, [&](Series&& s) -> absl::Status {
    Series o;
    o.metric = std::move(s.metric);
    o.points.reserve(static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(s.points.size()))));
    size_t j = 0;
    bool have = false;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t ref = refs[i];
      // Refs only grow (or stay put with @), so j only moves forward.
      if (i > 0 && ref < refs[i - 1]) {
        j = 0;
        have = false;
      }
      while (j < s.points.size() && s.points[j].t <= ref) {
        ++j;
        have = true;
      }
      if (!have || j == 0) continue;
      const Point& p = s.points[j - 1];
      if (p.t < ref - opts_.lookback_delta_ms || model::IsStaleNaN(p.v)) continue;
      o.points.push_back(Point{StepTime(i), timestamps ? static_cast<double>(p.t) / 1000 : p.v});
    }
    if (o.points.empty()) return absl::OkStatus();
    RETURN_IF_ERROR(Charge(static_cast<int64_t>(o.points.size())));
    r.matrix.push_back(std::move(o));
    return absl::OkStatus();
  }));
  return r;
}

absl::Status Evaluator::EvalRangeEach(const Expr& e, RangeInput* meta,
                                      const std::function<absl::Status(Series&&)>& fn) {
  if (const auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    const auto& vs = std::get<VectorSelector>(ms->vector_selector->node);
    meta->range_ms = ms->range_ms;
    const int64_t n = NumSteps();
    meta->window_end.resize(n);
    for (int64_t i = 0; i < n; ++i) meta->window_end[i] = RefTime(StepTime(i), vs.at, vs.offset_ms);
    const int64_t maxt = *std::max_element(meta->window_end.begin(), meta->window_end.end());
    const int64_t mint =
        *std::min_element(meta->window_end.begin(), meta->window_end.end()) - ms->range_ms;
    // Each series' points count while fn has them, so a huge selection
    // stops at the limit and only one series is held at a time.
    return SelectEach(vs, mint, maxt, [&](Series&& s) -> absl::Status {
      std::erase_if(s.points, [](const Point& p) { return model::IsStaleNaN(p.v); });
      if (s.points.empty()) return absl::OkStatus();
      const int64_t held = static_cast<int64_t>(s.points.size());
      RETURN_IF_ERROR(Charge(held));
      absl::Status st = fn(std::move(s));
      Release(held);
      return st;
    });
  }
  if (const auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    ASSIGN_OR_RETURN(RangeInput in, EvalSubqueryRange(*sq));
    meta->range_ms = in.range_ms;
    meta->window_end = std::move(in.window_end);
    for (Series& s : in.series) RETURN_IF_ERROR(fn(std::move(s)));
    return absl::OkStatus();
  }
  if (const auto* p = std::get_if<ParenExpr>(&e.node)) return EvalRangeEach(*p->expr, meta, fn);
  return absl::InvalidArgumentError("expected a range vector");
}

absl::StatusOr<Evaluator::RangeInput> Evaluator::EvalRange(const Expr& e) {
  RangeInput in;
  RETURN_IF_ERROR(EvalRangeEach(e, &in, [&](Series&& s) -> absl::Status {
    RETURN_IF_ERROR(Charge(static_cast<int64_t>(s.points.size())));
    in.series.push_back(std::move(s));
    return absl::OkStatus();
  }));
  return in;
}

absl::StatusOr<Evaluator::RangeInput> Evaluator::EvalSubqueryRange(const SubqueryExpr& sq) {
  RangeInput in;
  in.range_ms = sq.range_ms;
  const int64_t n = NumSteps();
  in.window_end.resize(n);
  for (int64_t i = 0; i < n; ++i) in.window_end[i] = RefTime(StepTime(i), sq.at, sq.offset_ms);
  const int64_t maxt = *std::max_element(in.window_end.begin(), in.window_end.end());
  const int64_t lo = *std::min_element(in.window_end.begin(), in.window_end.end()) - sq.range_ms;
  const int64_t step = sq.step_ms > 0 ? sq.step_ms : opts_.default_subquery_step_ms;
  // The first step-aligned time at or after lo.
  int64_t first = (lo / step) * step;
  if (first < lo) first += step;
  if (first > maxt) return in;
  Evaluator sub(opts_, querier_, first, maxt, step, qo_, deadline_);
  sub.query_start_ = query_start_;
  sub.query_end_ = query_end_;
  sub.parent_ = this;
  ASSIGN_OR_RETURN(EvalResult r, sub.Eval(*sq.expr));
  if (r.type == ValueType::kScalar) {
    for (Series& s : r.matrix) s.metric = model::Labels();
  }
  in.series = std::move(r.matrix);
  return in;
}

absl::StatusOr<EvalResult> Evaluator::Eval(const Expr& e) {
  Evaluator* root = Root();
  const int64_t before = root->samples_;
  absl::StatusOr<EvalResult> r = EvalNode(e);
  if (r.ok()) {
    int64_t points = 0;
    for (const Series& s : r->matrix) points += static_cast<int64_t>(s.points.size());
    root->samples_ = before + points;
  }
  return r;
}

absl::StatusOr<EvalResult> Evaluator::EvalNode(const Expr& e) {
  RETURN_IF_ERROR(CheckAlive());
  const int64_t n = NumSteps();
  if (const auto* num = std::get_if<NumberLiteral>(&e.node)) {
    EvalResult r;
    r.type = ValueType::kScalar;
    Series s;
    s.points.reserve(n);
    for (int64_t i = 0; i < n; ++i) s.points.push_back(Point{StepTime(i), num->value});
    RETURN_IF_ERROR(Charge(n));
    r.matrix.push_back(std::move(s));
    return r;
  }
  if (const auto* str = std::get_if<StringLiteral>(&e.node)) {
    EvalResult r;
    r.type = ValueType::kString;
    r.str = str->value;
    return r;
  }
  if (const auto* p = std::get_if<ParenExpr>(&e.node)) return Eval(*p->expr);
  if (const auto* u = std::get_if<UnaryExpr>(&e.node)) {
    ASSIGN_OR_RETURN(EvalResult r, Eval(*u->expr));
    if (!u->negate) return r;
    if (r.type == ValueType::kScalar) {
      for (Point& pt : r.matrix[0].points) pt.v = -pt.v;
      return r;
    }
    // Dropping the name may make two series one: an error, as Prometheus.
    SeriesBuilder b;
    for (const Series& s : r.matrix) {
      const model::Labels metric = DropMetricName(s.metric);
      for (const Point& pt : s.points) {
        if (!b.Add(metric, pt.t, -pt.v)) {
          return DuplicateLabelsetError();
        }
      }
    }
    r.matrix = b.Take();
    return r;
  }
  if (const auto* vs = std::get_if<VectorSelector>(&e.node)) return EvalVectorSelector(*vs, false);
  if (const auto* c = std::get_if<Call>(&e.node)) return EvalCall(*c, e);
  if (const auto* a = std::get_if<AggregateExpr>(&e.node)) return EvalAggregate(*a);
  if (const auto* b = std::get_if<BinaryExpr>(&e.node)) return EvalBinary(*b);
  if (std::holds_alternative<MatrixSelector>(e.node) ||
      std::holds_alternative<SubqueryExpr>(e.node)) {
    // Only instant queries return range vectors; Engine handles that.
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid expression type \"range vector\" for range query, must be Scalar or "
        "instant Vector"));
  }
  return absl::InternalError("unknown expression node");
}

}  // namespace internal

namespace {

bool IsRangeExpr(const Expr& e) {
  if (const auto* p = std::get_if<ParenExpr>(&e.node)) return IsRangeExpr(*p->expr);
  return std::holds_alternative<MatrixSelector>(e.node) ||
         std::holds_alternative<SubqueryExpr>(e.node);
}

}  // namespace

absl::StatusOr<Value> Engine::Instant(tsdb::Querier* querier, const Expr& expr, int64_t t,
                                      const QueryOptions& qo) const {
  internal::Evaluator ev(options_, querier, t, t, 1, qo, absl::Now() + options_.timeout);
  Value v;
  if (IsRangeExpr(expr)) {
    ASSIGN_OR_RETURN(internal::Evaluator::RangeInput in, ev.EvalRange(expr));
    v.type = ValueType::kMatrix;
    const int64_t maxt = in.window_end[0], mint = maxt - in.range_ms;
    for (Series& s : in.series) {
      std::erase_if(s.points, [&](const Point& p) { return p.t < mint || p.t > maxt; });
      if (!s.points.empty()) v.matrix.push_back(std::move(s));
    }
    std::sort(v.matrix.begin(), v.matrix.end(),
              [](const Series& a, const Series& b) { return a.metric < b.metric; });
    return v;
  }
  ASSIGN_OR_RETURN(internal::EvalResult r, ev.Eval(expr));
  v.type = r.type;
  switch (r.type) {
    case ValueType::kScalar:
      v.scalar = r.matrix.empty() || r.matrix[0].points.empty() ? Point{t, 0}
                                                                 : r.matrix[0].points[0];
      break;
    case ValueType::kString:
      v.string = std::move(r.str);
      v.scalar.t = t;
      break;
    default:
      v.type = ValueType::kVector;
      for (Series& s : r.matrix) {
        if (!s.points.empty()) v.vector.push_back(Sample{std::move(s.metric), s.points[0]});
      }
      break;
  }
  return v;
}

absl::StatusOr<Value> Engine::Range(tsdb::Querier* querier, const Expr& expr, int64_t start,
                                    int64_t end, int64_t step, const QueryOptions& qo) const {
  const ValueType t = TypeOf(expr);
  if (t != ValueType::kScalar && t != ValueType::kVector) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid expression type \"", ValueTypeName(t),
                     "\" for range query, must be Scalar or instant Vector"));
  }
  internal::Evaluator ev(options_, querier, start, end, step, qo, absl::Now() + options_.timeout);
  ASSIGN_OR_RETURN(internal::EvalResult r, ev.Eval(expr));
  Value v;
  v.type = ValueType::kMatrix;
  v.matrix = std::move(r.matrix);
  std::erase_if(v.matrix, [](const Series& s) { return s.points.empty(); });
  std::sort(v.matrix.begin(), v.matrix.end(),
            [](const Series& a, const Series& b) { return a.metric < b.metric; });
  return v;
}

}  // namespace vigil::promql
