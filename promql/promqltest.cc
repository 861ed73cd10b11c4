#include "promql/promqltest.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "base/goformat.h"
#include "base/status_macros.h"
#include "model/value.h"
#include "promql/engine.h"
#include "promql/parser/functions.h"
#include "promql/parser/parser.h"
#include "tsdb/db.h"

namespace vigil::promql {
namespace {

constexpr int64_t kMinute = 60 * 1000;

bool AlmostEqual(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  constexpr double kEpsilon = 1e-6;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || diff < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / (std::fabs(a) + std::fabs(b)) < kEpsilon;
}

std::string G(double v) {
  std::string s;
  AppendGoFloat(v, &s);
  return s;
}

struct Expected {
  bool is_scalar = false;
  double scalar = 0;
  std::vector<std::pair<model::Labels, double>> series;  // In listed order.
};

// Sets `@ ts` on every selector and subquery that has none, not going
// below a subquery; false when the query uses a function whose result
// depends on the evaluation time (no variants then, as Prometheus).
bool SetAt(Expr* e, int64_t ts) {
  static constexpr std::string_view kUnsafe[] = {
      "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute",
      "month",         "year",         "predict_linear", "time",      "timestamp"};
  AtModifier at{AtModifier::Kind::kTimestamp, ts};
  if (auto* vs = std::get_if<VectorSelector>(&e->node)) {
    if (vs->at.kind == AtModifier::Kind::kNone) vs->at = at;
    return true;
  }
  if (auto* ms = std::get_if<MatrixSelector>(&e->node)) return SetAt(ms->vector_selector.get(), ts);
  if (auto* sq = std::get_if<SubqueryExpr>(&e->node)) {
    if (sq->at.kind == AtModifier::Kind::kNone) sq->at = at;
    // Below a subquery with @ nothing changes, but unsafe functions still
    // rule variants out.
    struct Probe {
      static bool Safe(const Expr& x) {
        if (const auto* c = std::get_if<Call>(&x.node)) {
          for (std::string_view u : kUnsafe) {
            if (c->func->name == u) return false;
          }
          for (const ExprPtr& a : c->args) {
            if (!Safe(*a)) return false;
          }
          return true;
        }
        if (const auto* p = std::get_if<ParenExpr>(&x.node)) return Safe(*p->expr);
        if (const auto* u = std::get_if<UnaryExpr>(&x.node)) return Safe(*u->expr);
        if (const auto* s = std::get_if<SubqueryExpr>(&x.node)) return Safe(*s->expr);
        if (const auto* a = std::get_if<AggregateExpr>(&x.node)) {
          return Safe(*a->expr) && (a->param == nullptr || Safe(*a->param));
        }
        if (const auto* b = std::get_if<BinaryExpr>(&x.node)) return Safe(*b->lhs) && Safe(*b->rhs);
        return true;
      }
    };
    return Probe::Safe(*sq->expr);
  }
  if (auto* c = std::get_if<Call>(&e->node)) {
    bool ok = true;
    for (std::string_view u : kUnsafe) {
      if (c->func->name == u) ok = false;
    }
    for (ExprPtr& a : c->args) ok = SetAt(a.get(), ts) && ok;
    return ok;
  }
  if (auto* p = std::get_if<ParenExpr>(&e->node)) return SetAt(p->expr.get(), ts);
  if (auto* u = std::get_if<UnaryExpr>(&e->node)) return SetAt(u->expr.get(), ts);
  if (auto* a = std::get_if<AggregateExpr>(&e->node)) {
    bool ok = SetAt(a->expr.get(), ts);
    if (a->param != nullptr) ok = SetAt(a->param.get(), ts) && ok;
    return ok;
  }
  if (auto* b = std::get_if<BinaryExpr>(&e->node)) {
    const bool l = SetAt(b->lhs.get(), ts);
    return SetAt(b->rhs.get(), ts) && l;
  }
  return true;
}

// Compares an instant result with the expectation; "" when equal.
std::string Compare(const Value& got, const Expected& want, bool ordered) {
  if (want.is_scalar) {
    if (got.type != ValueType::kScalar) {
      return absl::StrCat("expected scalar ", G(want.scalar), ", got ", ValueTypeName(got.type));
    }
    if (!AlmostEqual(got.scalar.v, want.scalar)) {
      return absl::StrCat("expected scalar ", G(want.scalar), ", got ", G(got.scalar.v));
    }
    return "";
  }
  if (got.type != ValueType::kVector) {
    return absl::StrCat("expected an instant vector, got ", ValueTypeName(got.type));
  }
  if (got.vector.size() != want.series.size()) {
    std::string s = absl::StrCat("expected ", want.series.size(), " series, got ",
                                 got.vector.size(), ":");
    for (const Sample& x : got.vector) absl::StrAppend(&s, " ", x.metric.ToString(), "=", G(x.point.v));
    return s;
  }
  for (size_t i = 0; i < want.series.size(); ++i) {
    const auto& [labels, value] = want.series[i];
    const Sample* found = nullptr;
    if (ordered) {
      if (got.vector[i].metric == labels) found = &got.vector[i];
    } else {
      for (const Sample& x : got.vector) {
        if (x.metric == labels) found = &x;
      }
    }
    if (found == nullptr) {
      std::string s =
          absl::StrCat(ordered ? "expected at position " + std::to_string(i) + " " : "expected ",
                       labels.ToString(), ", not in the result:");
      for (const Sample& x : got.vector) {
        absl::StrAppend(&s, " ", x.metric.ToString(), "=", G(x.point.v));
      }
      return s;
    }
    if (!AlmostEqual(found->point.v, value)) {
      return absl::StrCat(labels.ToString(), ": expected ", G(value), ", got ",
                          G(found->point.v));
    }
  }
  return "";
}

class Runner {
 public:
  explicit Runner(absl::string_view name) : name_(name) {
    EngineOptions o;
    o.lookback_delta_ms = 5 * kMinute;
    o.max_samples = 10000;
    o.default_subquery_step_ms = kMinute;
    engine_ = std::make_unique<Engine>(o);
  }
  ~Runner() { Close(); }

  absl::Status Clear() {
    Close();
    char tmpl[] = "/tmp/vigil-promqltest.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
    dir_ = tmpl;
    tsdb::Options o;
    o.dir = dir_;
    o.enable_wal = false;
    o.background_compaction = false;
    o.retention_time = 0;
    ASSIGN_OR_RETURN(db_, tsdb::DB::Open(o));
    return absl::OkStatus();
  }

  absl::Status Load(int64_t step, const std::vector<std::pair<int, std::string>>& lines) {
    if (db_ == nullptr) RETURN_IF_ERROR(Clear());
    // A series defined twice in one load keeps its last definition, as
    // Prometheus's runner does.
    std::vector<std::pair<int, SeriesDesc>> descs;
    absl::flat_hash_map<std::string, size_t> index;
    for (const auto& [lineno, text] : lines) {
      absl::StatusOr<SeriesDesc> desc = ParseSeriesDesc(text);
      if (!desc.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ":", lineno, ": ", desc.status().message()));
      }
      auto [it, fresh] = index.try_emplace(desc->labels.ToString(), descs.size());
      if (fresh) {
        descs.emplace_back(lineno, *std::move(desc));
      } else {
        descs[it->second] = {lineno, *std::move(desc)};
      }
    }
    std::unique_ptr<tsdb::Appender> app = db_->Appender();
    for (const auto& [lineno, desc] : descs) {
      for (size_t i = 0; i < desc.values.size(); ++i) {
        if (desc.values[i].omitted) continue;
        absl::StatusOr<tsdb::SeriesRef> ref =
            app->Append(desc.labels, static_cast<int64_t>(i) * step, desc.values[i].value);
        if (!ref.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(name_, ":", lineno, ": ", ref.status().message()));
        }
      }
    }
    return app->Commit();
  }

  // Runs one eval; returns "" when it passes, else what failed.
  std::string Eval(const std::string& query, int64_t t, const Expected& want, bool ordered,
                   bool fail) {
    if (db_ == nullptr) {
      if (absl::Status s = Clear(); !s.ok()) return std::string(s.message());
    }
    absl::StatusOr<ExprPtr> expr = ParseExpr(query);
    if (!expr.ok()) {
      if (fail) return "";
      return absl::StrCat("parse error: ", expr.status().message());
    }
    std::unique_ptr<tsdb::Querier> q = db_->Querier();
    absl::StatusOr<Value> got = engine_->Instant(q.get(), **expr, t);
    if (fail) return got.ok() ? "expected an error, got a result" : "";
    if (!got.ok()) return absl::StrCat("error: ", got.status().ToString());
    if (std::string d = Compare(*got, want, ordered); !d.empty()) return d;

    // Range mode: t-1m .. t+1m, the middle step.
    if (got->type == ValueType::kVector || got->type == ValueType::kScalar) {
      absl::StatusOr<Value> r = engine_->Range(q.get(), **expr, t - kMinute, t + kMinute, kMinute);
      if (!r.ok()) return absl::StrCat("range mode: error: ", r.status().ToString());
      if (!ordered) {
        Value mid;
        mid.type = got->type;
        for (const Series& s : r->matrix) {
          for (const Point& p : s.points) {
            if (p.t == t) mid.vector.push_back(Sample{s.metric, p});
          }
        }
        if (got->type == ValueType::kScalar) {
          mid.scalar = mid.vector.empty() ? Point{t, std::nan("")} : mid.vector[0].point;
          mid.vector.clear();
        }
        if (std::string d = Compare(mid, want, false); !d.empty()) return "range mode: " + d;
      }
    }

    // @ variants.
    absl::StatusOr<ExprPtr> at_expr = ParseExpr(query);
    if (at_expr.ok() && SetAt(at_expr->get(), t)) {
      std::vector<int64_t> times = {-10 * t, 0, t / 5, t, 10 * t};
      if (t == 0) times = {-1000, 0, 1000};
      for (int64_t et : times) {
        absl::StatusOr<Value> r = engine_->Instant(q.get(), **at_expr, et);
        if (!r.ok()) return absl::StrCat("@ variant at ", et, ": error: ", r.status().ToString());
        if (std::string d = Compare(*r, want, ordered); !d.empty()) {
          return absl::StrCat("@ variant at ", et, ": ", d);
        }
      }
    }
    return "";
  }

 private:
  void Close() {
    if (db_ != nullptr) {
      (void)db_->Close();
      db_.reset();
    }
    if (!dir_.empty()) (void)RemoveAll(dir_);
    dir_.clear();
  }

  std::string name_;
  std::string dir_;
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<Engine> engine_;
};

bool Indented(absl::string_view line) {
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

}  // namespace

absl::StatusOr<ScriptResult> RunTestScript(absl::string_view name, absl::string_view content) {
  std::vector<std::string> lines = absl::StrSplit(content, '\n');
  Runner runner(name);
  ScriptResult result;
  auto error = [&](size_t i, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(name, ":", i + 1, ": ", what));
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = absl::StripAsciiWhitespace(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    if (line == "clear") {
      RETURN_IF_ERROR(runner.Clear());
      continue;
    }
    if (absl::StartsWith(line, "load ")) {
      absl::StatusOr<int64_t> step = ParseDurationMs(absl::StripAsciiWhitespace(line.substr(5)));
      if (!step.ok()) return error(i, step.status().message());
      std::vector<std::pair<int, std::string>> defs;
      while (i + 1 < lines.size() && Indented(lines[i + 1]) &&
             !absl::StripAsciiWhitespace(lines[i + 1]).empty()) {
        ++i;
        defs.emplace_back(static_cast<int>(i + 1), std::string(absl::StripAsciiWhitespace(lines[i])));
      }
      RETURN_IF_ERROR(runner.Load(*step, defs));
      continue;
    }
    bool ordered = false, fail = false;
    absl::string_view rest;
    if (absl::ConsumePrefix(&line, "eval_ordered instant at ")) {
      ordered = true;
    } else if (absl::ConsumePrefix(&line, "eval_fail instant at ")) {
      fail = true;
    } else if (!absl::ConsumePrefix(&line, "eval instant at ")) {
      return error(i, absl::StrCat("unknown command: ", line));
    }
    const size_t sp = line.find(' ');
    if (sp == absl::string_view::npos) return error(i, "eval without an expression");
    absl::StatusOr<int64_t> at = ParseDurationMs(line.substr(0, sp));
    if (!at.ok()) return error(i, at.status().message());
    const std::string query(absl::StripAsciiWhitespace(line.substr(sp + 1)));
    const size_t eval_line = i + 1;
    Expected want;
    while (i + 1 < lines.size() && Indented(lines[i + 1]) &&
           !absl::StripAsciiWhitespace(lines[i + 1]).empty()) {
      ++i;
      absl::string_view def = absl::StripAsciiWhitespace(lines[i]);
      double num;
      if (absl::SimpleAtod(def, &num) || def == "NaN" || def == "Inf" || def == "+Inf" ||
          def == "-Inf") {
        want.is_scalar = true;
        if (def == "NaN") num = std::nan("");
        want.scalar = num;
        continue;
      }
      absl::StatusOr<SeriesDesc> desc = ParseSeriesDesc(def);
      if (!desc.ok()) return error(i, desc.status().message());
      if (desc->values.size() != 1) return error(i, "expected one value");
      want.series.emplace_back(desc->labels, desc->values[0].value);
    }
    std::string diff = runner.Eval(query, *at, want, ordered, fail);
    if (diff.empty()) {
      ++result.passed;
    } else {
      ++result.failed;
      result.failures.push_back(absl::StrCat(name, ":", eval_line, ": ", query, ": ", diff));
    }
  }
  return result;
}

}  // namespace vigil::promql
