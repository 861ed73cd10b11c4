// Function calls: range-vector functions over windows, per-sample math,
// and the functions with their own rules (labels, histograms, time).
#include <algorithm>
#include <cmath>
#include <ctime>
#include <numbers>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "model/value.h"
#include "promql/eval.h"
#include "promql/functions.h"
#include "promql/parser/functions.h"
#include "re2/re2.h"

namespace vigil::promql::internal {
namespace {


// Go's math.Max / math.Min: NaN wins.
double GoMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && b == 0) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
double GoMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && b == 0) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

bool ValidLabelName(absl::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (i > 0 && c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// Expands $1, ${1}, $name, ${name} and $$ in `tmpl` as Go's
// regexp.Expand does.
std::string Expand(absl::string_view tmpl, const RE2& re, const std::vector<re2::StringPiece>& groups) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size()) {
      out.push_back(tmpl[i]);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    size_t j = i + 1;
    std::string name;
    bool braced = false;
    if (tmpl[j] == '{') {
      braced = true;
      size_t close = tmpl.find('}', j);
      if (close == absl::string_view::npos) {
        out.push_back('$');
        continue;
      }
      name = std::string(tmpl.substr(j + 1, close - j - 1));
      j = close + 1;
    } else {
      while (j < tmpl.size() && (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_')) {
        ++j;
      }
      name = std::string(tmpl.substr(i + 1, j - i - 1));
    }
    if (name.empty() && !braced) {
      out.push_back('$');
      continue;
    }
    int idx = -1;
    if (absl::SimpleAtoi(name, &idx) && !name.empty() &&
        std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    } else {
      idx = -1;
      auto it = re.NamedCapturingGroups().find(name);
      if (it != re.NamedCapturingGroups().end()) idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size()) {
      out.append(groups[idx].data(), groups[idx].size());
    }
    i = j - 1;
  }
  return out;
}

std::tm UtcOf(double seconds) {
  const auto t = static_cast<std::time_t>(std::floor(seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

int DaysInMonth(int year, int month0) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month0 == 1 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month0];
}

// Date functions of a value in seconds since the epoch.
double DatePart(std::string_view name, double v) {
  if (std::isnan(v) || std::isinf(v)) return v;
  const std::tm tm = UtcOf(v);
  if (name == "day_of_month") return tm.tm_mday;
  if (name == "day_of_week") return tm.tm_wday;
  if (name == "day_of_year") return tm.tm_yday + 1;
  if (name == "hour") return tm.tm_hour;
  if (name == "minute") return tm.tm_min;
  if (name == "month") return tm.tm_mon + 1;
  if (name == "year") return tm.tm_year + 1900;
  return DaysInMonth(tm.tm_year + 1900, tm.tm_mon);  // days_in_month
}

bool IsDateFunction(std::string_view n) {
  return n == "day_of_month" || n == "day_of_week" || n == "day_of_year" || n == "hour" ||
         n == "minute" || n == "month" || n == "year" || n == "days_in_month";
}

// Labels for absent()/absent_over_time(): the selector's equality
// matchers, except __name__ and names matched more than once.
model::Labels AbsentLabels(const Expr& arg) {
  const Expr& e = Unparen(arg);
  const VectorSelector* vs = std::get_if<VectorSelector>(&e.node);
  if (const auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    vs = &std::get<VectorSelector>(ms->vector_selector->node);
  }
  if (vs == nullptr) return model::Labels();
  absl::flat_hash_map<std::string, int> seen;
  for (const model::Matcher& m : vs->matchers) seen[m.name()]++;
  model::LabelsBuilder b{model::Labels()};
  for (const model::Matcher& m : vs->matchers) {
    if (m.type() == model::MatchType::kEqual && seen[m.name()] == 1 &&
        m.name() != model::kMetricName) {
      b.Set(m.name(), m.value());
    }
  }
  return b.Build();
}

// The index of the call's range-vector argument, or -1.
int MatrixArg(const Call& c) {
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (TypeOf(*c.args[i]) == ValueType::kMatrix) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

bool Evaluator::DistinctRangeCallLabels(const Call& c) {
  const std::string_view name = c.func->name;
  if (name == "absent_over_time") return false;
  const int matrix_arg = MatrixArg(c);
  if (matrix_arg < 0 || LookupRangeFunction(name) == nullptr) return false;
  // Series from storage have distinct labels; dropping the name keeps them
  // distinct when the selector allows only one name.
  const auto* ms = std::get_if<MatrixSelector>(&Unparen(*c.args[matrix_arg]).node);
  if (ms == nullptr) return false;
  if (name == "last_over_time") return true;
  const auto& vs = std::get<VectorSelector>(ms->vector_selector->node);
  return std::any_of(vs.matchers.begin(), vs.matchers.end(), [](const model::Matcher& m) {
    return m.name() == model::kMetricName && m.type() == model::MatchType::kEqual;
  });
}

absl::Status Evaluator::RangeCallEach(const Call& c, const EmitSeries& emit) {
  const std::string_view name = c.func->name;
  const int64_t n = NumSteps();
  const int matrix_arg = MatrixArg(c);
  RangeFunction fn = LookupRangeFunction(name);
  if (matrix_arg < 0 || fn == nullptr || name == "absent_over_time") {
    return absl::UnimplementedError(absl::StrCat("function ", std::string(name)));
  }
  std::vector<EvalResult> scalars;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (static_cast<int>(i) == matrix_arg) continue;
    ASSIGN_OR_RETURN(EvalResult r, Eval(*c.args[i]));
    scalars.push_back(std::move(r));
  }
  const bool keep_name = name == "last_over_time";
  std::vector<double> args(scalars.size());
  std::vector<Point> outp;
  RangeInput in;
  // One series at a time: its window points are dropped once its steps
  // are computed.
  return EvalRangeEach(*c.args[matrix_arg], &in, [&](Series&& s) -> absl::Status {
    const model::Labels metric = keep_name ? s.metric : DropMetricName(s.metric);
    outp.clear();
    size_t lo = 0, hi = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t maxt = in.window_end[i], mint = maxt - in.range_ms;
      if (i > 0 && maxt < in.window_end[i - 1]) lo = hi = 0;
      while (lo < s.points.size() && s.points[lo].t < mint) ++lo;
      if (hi < lo) hi = lo;
      while (hi < s.points.size() && s.points[hi].t <= maxt) ++hi;
      if (hi == lo) continue;
      for (size_t k = 0; k < scalars.size(); ++k) args[k] = scalars[k].matrix[0].points[i].v;
      if (name == "holt_winters") {
        if (!(args[0] > 0 && args[0] < 1)) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", args[0]));
        }
        if (!(args[1] > 0 && args[1] < 1)) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "invalid trend factor. Expected: 0 < tf < 1, got: %f", args[1]));
        }
      }
      RangeContext ctx;
      ctx.eval_t = StepTime(i);
      ctx.range_start = mint;
      ctx.range_end = maxt;
      ctx.args = args;
      std::optional<double> v = fn(std::span<const Point>(s.points.data() + lo, hi - lo), ctx);
      if (v.has_value()) outp.push_back(Point{StepTime(i), *v});
    }
    if (outp.empty()) return absl::OkStatus();
    return emit(metric, outp);
  });
}

absl::StatusOr<EvalResult> Evaluator::EvalCall(const Call& c, const Expr& whole) {
  (void)whole;
  const std::string_view name = c.func->name;
  const int64_t n = NumSteps();
  EvalResult out;
  out.type = c.func->return_type;
  SeriesBuilder builder;

  auto scalar_series = [&](std::function<double(int64_t)> f) {
    Series s;
    for (int64_t i = 0; i < n; ++i) s.points.push_back(Point{StepTime(i), f(StepTime(i))});
    out.type = ValueType::kScalar;
    out.matrix.push_back(std::move(s));
    return out;
  };
  if (name == "time") {
    return scalar_series([](int64_t t) { return static_cast<double>(t) / 1000; });
  }
  if (name == "pi") return scalar_series([](int64_t) { return std::numbers::pi; });

  // Functions over a range vector.
  const int matrix_arg = MatrixArg(c);
  if (matrix_arg >= 0) {
    out.type = ValueType::kVector;
    if (name == "absent_over_time") {
      RangeInput in;
      const model::Labels labels = AbsentLabels(*c.args[matrix_arg]);
      std::vector<bool> any(static_cast<size_t>(n), false);
      RETURN_IF_ERROR(EvalRangeEach(*c.args[matrix_arg], &in, [&](Series&& s) -> absl::Status {
        for (int64_t i = 0; i < n; ++i) {
          const int64_t maxt = in.window_end[i], mint = maxt - in.range_ms;
          auto it = std::lower_bound(s.points.begin(), s.points.end(), mint,
                                     [](const Point& p, int64_t t) { return p.t < t; });
          if (it != s.points.end() && it->t <= maxt) any[i] = true;
        }
        return absl::OkStatus();
      }));
      for (int64_t i = 0; i < n; ++i) {
        if (!any[i]) builder.Add(labels, StepTime(i), 1);
      }
      out.matrix = builder.Take();
      return out;
    }
    RETURN_IF_ERROR(RangeCallEach(
        c, [&](const model::Labels& metric, std::span<const Point> points) -> absl::Status {
          for (const Point& p : points) {
            if (!builder.Add(metric, p.t, p.v)) return DuplicateLabelsetError();
          }
          return Charge(static_cast<int64_t>(points.size()));
        }));
    out.matrix = builder.Take();
    return out;
  }

  if (name == "timestamp") {
    const Expr& arg = Unparen(*c.args[0]);
    if (const auto* vs = std::get_if<VectorSelector>(&arg.node)) {
      ASSIGN_OR_RETURN(EvalResult r, EvalVectorSelector(*vs, true));
      for (Series& s : r.matrix) s.metric = DropMetricName(s.metric);
      // Name dropping may merge series: check.
      for (Series& s : r.matrix) {
        for (const Point& p : s.points) {
          if (!builder.Add(s.metric, p.t, p.v)) return DuplicateLabelsetError();
        }
      }
      out.matrix = builder.Take();
      return out;
    }
  }

  // Evaluate every argument.
  std::vector<EvalResult> args;
  for (const ExprPtr& a : c.args) {
    ASSIGN_OR_RETURN(EvalResult r, Eval(*a));
    args.push_back(std::move(r));
  }
  auto scalar_arg = [&](size_t k, int64_t i) { return args[k].matrix[0].points[i].v; };
  auto map_vector = [&](const EvalResult& v, bool drop,
                        const std::function<std::optional<double>(double, int64_t)>& f)
      -> absl::StatusOr<EvalResult> {
    for (const Series& s : v.matrix) {
      const model::Labels metric = drop ? DropMetricName(s.metric) : s.metric;
      for (const Point& p : s.points) {
        std::optional<double> r = f(p.v, (p.t - start_) / interval_);
        if (!r.has_value()) continue;
        if (!builder.Add(metric, p.t, *r)) return DuplicateLabelsetError();
      }
    }
    EvalResult o;
    o.type = ValueType::kVector;
    o.matrix = builder.Take();
    return o;
  };

  if (ScalarMath math = LookupScalarMath(name)) {
    return map_vector(args[0], true, [math](double v, int64_t) { return math(v); });
  }
  if (IsDateFunction(name)) {
    if (args.empty()) {
      Series s;
      for (int64_t i = 0; i < n; ++i) {
        s.points.push_back(Point{StepTime(i), DatePart(name, static_cast<double>(StepTime(i)) / 1000)});
      }
      out.type = ValueType::kVector;
      out.matrix.push_back(std::move(s));
      return out;
    }
    return map_vector(args[0], true, [name](double v, int64_t) { return DatePart(name, v); });
  }
  if (name == "timestamp") {
    return map_vector(args[0], true, [this](double, int64_t i) {
      return static_cast<double>(StepTime(i)) / 1000;
    });
  }
  if (name == "vector") {
    Series s;
    s.points = args[0].matrix[0].points;
    out.type = ValueType::kVector;
    out.matrix.push_back(std::move(s));
    return out;
  }
  if (name == "scalar") {
    StepCursor cur(args[0].matrix);
    std::vector<StepCursor::Entry> es;
    return scalar_series([&](int64_t t) {
      cur.At(t, &es);
      return es.size() == 1 ? es[0].v : std::nan("");
    });
  }
  if (name == "sort" || name == "sort_desc") {
    EvalResult r = std::move(args[0]);
    const bool desc = name == "sort_desc";
    if (n == 1) {
      std::stable_sort(r.matrix.begin(), r.matrix.end(), [desc](const Series& a, const Series& b) {
        const double x = a.points[0].v, y = b.points[0].v;
        // NaN sorts last both ways, as Prometheus 2.42.
        if (std::isnan(y)) return !std::isnan(x);
        if (std::isnan(x)) return false;
        return desc ? x > y : x < y;
      });
    }
    return r;
  }
  if (name == "clamp" || name == "clamp_min" || name == "clamp_max") {
    return map_vector(args[0], true, [&](double v, int64_t i) -> std::optional<double> {
      if (name == "clamp_min") return GoMax(v, scalar_arg(1, i));
      if (name == "clamp_max") return GoMin(v, scalar_arg(1, i));
      const double lo = scalar_arg(1, i), hi = scalar_arg(2, i);
      if (hi < lo) return std::nullopt;
      return GoMax(lo, GoMin(hi, v));
    });
  }
  if (name == "round") {
    return map_vector(args[0], true, [&](double v, int64_t i) -> std::optional<double> {
      const double to = args.size() > 1 ? scalar_arg(1, i) : 1;
      const double inv = 1.0 / to;
      return std::floor(v * inv + 0.5) / inv;
    });
  }
  if (name == "absent") {
    const model::Labels labels = AbsentLabels(*c.args[0]);
    StepCursor cur(args[0].matrix);
    std::vector<StepCursor::Entry> es;
    for (int64_t i = 0; i < n; ++i) {
      cur.At(StepTime(i), &es);
      if (es.empty()) builder.Add(labels, StepTime(i), 1);
    }
    out.type = ValueType::kVector;
    out.matrix = builder.Take();
    return out;
  }
  if (name == "label_replace") {
    const std::string& dst = args[1].str;
    const std::string& repl = args[2].str;
    const std::string& src = args[3].str;
    RE2 re("^(?:" + args[4].str + ")$", RE2::Quiet);
    if (!re.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid regular expression in label_replace(): ", args[4].str));
    }
    if (!ValidLabelName(dst)) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid destination label name in label_replace(): ", dst));
    }
    std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
    for (const Series& s : args[0].matrix) {
      model::Labels metric = s.metric;
      absl::string_view sv = s.metric.Get(src);
      if (re.Match(re2::StringPiece(sv.data(), sv.size()), 0, sv.size(), RE2::UNANCHORED, groups.data(),
                   static_cast<int>(groups.size()))) {
        const std::string res = Expand(repl, re, groups);
        model::LabelsBuilder lb(s.metric);
        if (res.empty()) {
          lb.Del(dst);
        } else {
          lb.Set(dst, res);
        }
        metric = lb.Build();
      }
      for (const Point& p : s.points) {
        if (!builder.Add(metric, p.t, p.v)) return DuplicateLabelsetError();
      }
    }
    out.type = ValueType::kVector;
    out.matrix = builder.Take();
    return out;
  }
  if (name == "label_join") {
    const std::string& dst = args[1].str;
    const std::string& sep = args[2].str;
    if (!ValidLabelName(dst)) {
      return absl::FailedPreconditionError(absl::StrCat("invalid destination label name in label_join(): ", dst));
    }
    for (const Series& s : args[0].matrix) {
      std::string joined;
      for (size_t k = 3; k < args.size(); ++k) {
        if (k > 3) joined.append(sep);
        absl::StrAppend(&joined, s.metric.Get(args[k].str));
      }
      model::LabelsBuilder lb(s.metric);
      if (joined.empty()) {
        lb.Del(dst);
      } else {
        lb.Set(dst, joined);
      }
      const model::Labels metric = lb.Build();
      for (const Point& p : s.points) {
        if (!builder.Add(metric, p.t, p.v)) return DuplicateLabelsetError();
      }
    }
    out.type = ValueType::kVector;
    out.matrix = builder.Take();
    return out;
  }
  if (name == "histogram_quantile") {
    // Group bucket series by their labels without `le` and the name.
    struct Group {
      model::Labels metric;
      std::vector<std::pair<double, const Series*>> buckets;
    };
    absl::flat_hash_map<std::string, size_t> index;
    std::vector<Group> groups;
    for (const Series& s : args[1].matrix) {
      double le;
      absl::string_view les = s.metric.Get("le");
      if (les == "+Inf" || les == "Inf" || les == "inf" || les == "+inf") {
        le = INFINITY;
      } else if (!absl::SimpleAtod(les, &le)) {
        continue;
      }
      // Grouped by all labels but `le` (the name too); the output drops
      // the name, so two metrics with the same labels collide, as in
      // Prometheus.
      const std::string key = model::LabelsBuilder(s.metric).Del("le").Build().ToString();
      model::Labels metric = model::LabelsBuilder(s.metric).Del("le").Del(model::kMetricName).Build();
      auto [it, fresh] = index.try_emplace(key, groups.size());
      if (fresh) groups.push_back(Group{metric, {}});
      groups[it->second].buckets.emplace_back(le, &s);
    }
    for (const Group& g : groups) {
      std::vector<size_t> pos(g.buckets.size(), 0);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t t = StepTime(i);
        std::vector<Bucket> bs;
        for (size_t k = 0; k < g.buckets.size(); ++k) {
          const auto& pts = g.buckets[k].second->points;
          while (pos[k] < pts.size() && pts[pos[k]].t < t) ++pos[k];
          if (pos[k] < pts.size() && pts[pos[k]].t == t) {
            bs.push_back(Bucket{g.buckets[k].first, pts[pos[k]].v});
          }
        }
        if (bs.empty()) continue;
        if (!builder.Add(g.metric, t, BucketQuantile(scalar_arg(0, i), std::move(bs)))) {
          return DuplicateLabelsetError();
        }
      }
    }
    out.type = ValueType::kVector;
    out.matrix = builder.Take();
    return out;
  }
  return absl::UnimplementedError(
      absl::StrCat("function ", std::string(name), " is not implemented"));
}

}  // namespace vigil::promql::internal
