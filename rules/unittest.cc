#include "rules/unittest.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/goformat.h"
#include "base/status_macros.h"
#include "config/config.h"
#include "config/rule_file.h"
#include "model/labels.h"
#include "promql/engine.h"
#include "promql/parser/parser.h"
#include "rules/group.h"
#include "rules/rule.h"
#include "rules/template.h"
#include "tsdb/db.h"
#include "yaml-cpp/yaml.h"

namespace vigil::rules {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The test file, as promtool's unitTestFile and its parts.
struct InputSeries {
  std::string series;
  std::string values;
};
struct ExpAlert {
  Pairs labels;  // Sorted by name; empty values kept, as labels.FromMap.
  Pairs annotations;
};
struct AlertTest {
  absl::Duration eval_time = absl::ZeroDuration();
  std::string alertname;
  std::vector<ExpAlert> exp_alerts;
};
struct ExpSample {
  std::string labels;
  double value = 0;
};
struct ExprTest {
  std::string expr;
  absl::Duration eval_time = absl::ZeroDuration();
  std::vector<ExpSample> exp_samples;
};
struct TestGroup {
  // Zero when unset: promtool 2.42 does not default it, so every sample of
  // a series lands at time 0 and the first one wins.
  absl::Duration interval = absl::ZeroDuration();
  std::vector<InputSeries> input_series;
  std::vector<AlertTest> alert_tests;
  std::vector<ExprTest> expr_tests;
  std::map<std::string, std::string> external_labels;
  std::string external_url;
  std::string name;
};
struct TestFile {
  std::vector<std::string> rule_files;
  absl::Duration evaluation_interval = absl::Minutes(1);
  std::vector<std::string> group_eval_order;
  std::vector<TestGroup> tests;
};

// ---- Parsing, with yaml.v2's strict-unmarshal error texts. ----

int LineOf(const YAML::Node& n) {
  return n.Mark().is_null() ? 0 : n.Mark().line + 1;
}

absl::Status UnmarshalError(const YAML::Node& n, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("yaml: unmarshal errors:\n  line ", LineOf(n), ": ", what));
}

std::string YamlTag(const YAML::Node& n) {
  if (n.IsSequence()) return "!!seq";
  if (n.IsMap()) return "!!map";
  return "!!str";
}

// Calls `fn(key, value)` for each entry of the mapping `n` (null: none);
// `fn` returns false for a field `type` does not have.
absl::Status Fields(const YAML::Node& n, absl::string_view type,
                    const std::function<absl::StatusOr<bool>(
                        const std::string&, const YAML::Node&)>& fn) {
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  if (!n.IsMap()) {
    return UnmarshalError(
        n, absl::StrCat("cannot unmarshal ", YamlTag(n), " into ", type));
  }
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    ASSIGN_OR_RETURN(bool known, fn(key, kv.second));
    if (!known) {
      return UnmarshalError(
          kv.first, absl::StrCat("field ", key, " not found in type ", type));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Str(const YAML::Node& n) {
  if (n.IsNull()) return std::string();
  if (!n.IsScalar()) {
    return UnmarshalError(
        n, absl::StrCat("cannot unmarshal ", YamlTag(n), " into string"));
  }
  return n.Scalar();
}

absl::StatusOr<absl::Duration> Dur(const YAML::Node& n) {
  ASSIGN_OR_RETURN(std::string s, Str(n));
  if (s.empty()) return absl::ZeroDuration();
  absl::StatusOr<absl::Duration> d = config::ParseDuration(s);
  if (!d.ok()) {
    std::string q;
    AppendGoQuoted(s, &q);
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid duration string: ", q));
  }
  return *d;
}

absl::StatusOr<double> Float(const YAML::Node& n) {
  ASSIGN_OR_RETURN(std::string s, Str(n));
  if (s.empty()) return 0.0;
  const std::string l = absl::AsciiStrToLower(s);
  if (l == ".inf" || l == "+.inf") return INFINITY;
  if (l == "-.inf") return -INFINITY;
  if (l == ".nan") return NAN;
  double v = 0;
  if (!absl::SimpleAtod(s, &v) || l.find("inf") != std::string::npos ||
      l.find("nan") != std::string::npos) {
    return UnmarshalError(
        n, absl::StrCat("cannot unmarshal !!str `", s, "` into float64"));
  }
  return v;
}

absl::StatusOr<std::vector<std::string>> StrList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) {
    return UnmarshalError(
        n, absl::StrCat("cannot unmarshal ", YamlTag(n), " into []string"));
  }
  for (const YAML::Node& e : n) {
    ASSIGN_OR_RETURN(std::string s, Str(e));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> StrMap(const YAML::Node& n) {
  std::map<std::string, std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsMap()) {
    return UnmarshalError(n, absl::StrCat("cannot unmarshal ", YamlTag(n),
                                          " into map[string]string"));
  }
  for (const auto& kv : n) {
    ASSIGN_OR_RETURN(std::string v, Str(kv.second));
    out[kv.first.Scalar()] = std::move(v);
  }
  return out;
}

// Calls `fn` for each element of the sequence `n` (null: none).
absl::Status Each(const YAML::Node& n, absl::string_view type,
                  const std::function<absl::Status(const YAML::Node&)>& fn) {
  if (n.IsNull()) return absl::OkStatus();
  if (!n.IsSequence()) {
    return UnmarshalError(
        n, absl::StrCat("cannot unmarshal ", YamlTag(n), " into []", type));
  }
  for (const YAML::Node& e : n) RETURN_IF_ERROR(fn(e));
  return absl::OkStatus();
}

Pairs ToPairs(const std::map<std::string, std::string>& m) {
  return Pairs(m.begin(), m.end());
}

absl::Status ParseAlertTest(const YAML::Node& n, AlertTest* t) {
  return Fields(
      n, "main.alertTestCase",
      [&](const std::string& k, const YAML::Node& v) -> absl::StatusOr<bool> {
        if (k == "eval_time") {
          ASSIGN_OR_RETURN(t->eval_time, Dur(v));
        } else if (k == "alertname") {
          ASSIGN_OR_RETURN(t->alertname, Str(v));
        } else if (k == "exp_alerts") {
          RETURN_IF_ERROR(Each(v, "main.alert", [&](const YAML::Node& e) {
            ExpAlert a;
            RETURN_IF_ERROR(
                Fields(e, "main.alert",
                       [&](const std::string& k2,
                           const YAML::Node& v2) -> absl::StatusOr<bool> {
                         if (k2 == "exp_labels") {
                           ASSIGN_OR_RETURN(auto m, StrMap(v2));
                           a.labels = ToPairs(m);
                         } else if (k2 == "exp_annotations") {
                           ASSIGN_OR_RETURN(auto m, StrMap(v2));
                           a.annotations = ToPairs(m);
                         } else {
                           return false;
                         }
                         return true;
                       }));
            t->exp_alerts.push_back(std::move(a));
            return absl::OkStatus();
          }));
        } else {
          return false;
        }
        return true;
      });
}

absl::Status ParseExprTest(const YAML::Node& n, ExprTest* t) {
  return Fields(
      n, "main.promqlTestCase",
      [&](const std::string& k, const YAML::Node& v) -> absl::StatusOr<bool> {
        if (k == "expr") {
          ASSIGN_OR_RETURN(t->expr, Str(v));
        } else if (k == "eval_time") {
          ASSIGN_OR_RETURN(t->eval_time, Dur(v));
        } else if (k == "exp_samples") {
          RETURN_IF_ERROR(Each(v, "main.sample", [&](const YAML::Node& e) {
            ExpSample s;
            RETURN_IF_ERROR(
                Fields(e, "main.sample",
                       [&](const std::string& k2,
                           const YAML::Node& v2) -> absl::StatusOr<bool> {
                         if (k2 == "labels") {
                           ASSIGN_OR_RETURN(s.labels, Str(v2));
                         } else if (k2 == "value") {
                           ASSIGN_OR_RETURN(s.value, Float(v2));
                         } else {
                           return false;
                         }
                         return true;
                       }));
            t->exp_samples.push_back(std::move(s));
            return absl::OkStatus();
          }));
        } else {
          return false;
        }
        return true;
      });
}

absl::Status ParseTestGroup(const YAML::Node& n, TestGroup* g) {
  return Fields(
      n, "main.testGroup",
      [&](const std::string& k, const YAML::Node& v) -> absl::StatusOr<bool> {
        if (k == "interval") {
          ASSIGN_OR_RETURN(g->interval, Dur(v));
        } else if (k == "input_series") {
          RETURN_IF_ERROR(Each(v, "main.series", [&](const YAML::Node& e) {
            InputSeries s;
            RETURN_IF_ERROR(
                Fields(e, "main.series",
                       [&](const std::string& k2,
                           const YAML::Node& v2) -> absl::StatusOr<bool> {
                         if (k2 == "series") {
                           ASSIGN_OR_RETURN(s.series, Str(v2));
                         } else if (k2 == "values") {
                           ASSIGN_OR_RETURN(s.values, Str(v2));
                         } else {
                           return false;
                         }
                         return true;
                       }));
            g->input_series.push_back(std::move(s));
            return absl::OkStatus();
          }));
        } else if (k == "alert_rule_test") {
          RETURN_IF_ERROR(
              Each(v, "main.alertTestCase", [&](const YAML::Node& e) {
                AlertTest t;
                RETURN_IF_ERROR(ParseAlertTest(e, &t));
                g->alert_tests.push_back(std::move(t));
                return absl::OkStatus();
              }));
        } else if (k == "promql_expr_test") {
          RETURN_IF_ERROR(
              Each(v, "main.promqlTestCase", [&](const YAML::Node& e) {
                ExprTest t;
                RETURN_IF_ERROR(ParseExprTest(e, &t));
                g->expr_tests.push_back(std::move(t));
                return absl::OkStatus();
              }));
        } else if (k == "external_labels") {
          ASSIGN_OR_RETURN(g->external_labels, StrMap(v));
        } else if (k == "external_url") {
          ASSIGN_OR_RETURN(g->external_url, Str(v));
        } else if (k == "name") {
          ASSIGN_OR_RETURN(g->name, Str(v));
        } else {
          return false;
        }
        return true;
      });
}

absl::StatusOr<TestFile> ParseTestFile(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "yaml: line ", e.mark.is_null() ? 0 : e.mark.line + 1, ": ", e.msg));
  }
  TestFile f;
  absl::Status s;
  // yaml-cpp throws on conversions of malformed nodes; none may escape.
  try {
    s = Fields(
        root, "main.unitTestFile",
        [&](const std::string& k, const YAML::Node& v) -> absl::StatusOr<bool> {
          if (k == "rule_files") {
            ASSIGN_OR_RETURN(f.rule_files, StrList(v));
          } else if (k == "evaluation_interval") {
            ASSIGN_OR_RETURN(f.evaluation_interval, Dur(v));
          } else if (k == "group_eval_order") {
            ASSIGN_OR_RETURN(f.group_eval_order, StrList(v));
          } else if (k == "tests") {
            RETURN_IF_ERROR(Each(v, "main.testGroup", [&](const YAML::Node& e) {
              TestGroup g;
              RETURN_IF_ERROR(ParseTestGroup(e, &g));
              f.tests.push_back(std::move(g));
              return absl::OkStatus();
            }));
          } else {
            return false;
          }
          return true;
        });
  } catch (const std::exception& e) {
    s = absl::InvalidArgumentError(absl::StrCat("yaml: ", e.what()));
  }
  RETURN_IF_ERROR(s);
  if (f.evaluation_interval == absl::ZeroDuration())
    f.evaluation_interval = absl::Minutes(1);
  return f;
}

// ---- Text as promtool prints it. ----

std::string PairsString(const Pairs& p) {
  std::string out = "{";
  for (size_t i = 0; i < p.size(); ++i) {
    if (i > 0) out += ", ";
    absl::StrAppend(&out, p[i].first, "=");
    AppendGoQuoted(p[i].second, &out);
  }
  return out + "}";
}

// Every line but the first prefixed with `indent`.
std::string IndentLines(absl::string_view s, absl::string_view indent) {
  std::vector<absl::string_view> lines = absl::StrSplit(s, '\n');
  return absl::StrJoin(lines, absl::StrCat("\n", indent));
}

struct AlertView {
  Pairs labels;
  Pairs annotations;
  friend bool operator==(const AlertView& a, const AlertView& b) {
    return a.labels == b.labels && a.annotations == b.annotations;
  }
  friend bool operator<(const AlertView& a, const AlertView& b) {
    if (a.labels != b.labels) return a.labels < b.labels;
    return a.annotations < b.annotations;
  }
};

std::string AlertsString(const std::vector<AlertView>& as) {
  if (as.empty()) return "[]";
  std::string out = "[";
  for (size_t i = 0; i < as.size(); ++i) {
    absl::StrAppend(
        &out, i > 0 ? ",\n" : "\n", i, ":",
        IndentLines(
            absl::StrCat("\nLabels:", PairsString(as[i].labels),
                         "\nAnnotations:", PairsString(as[i].annotations)),
            "  "));
  }
  return out + "\n]";
}

struct SampleView {
  model::Labels labels;
  double value = 0;
};

std::string SamplesString(const std::vector<SampleView>& ss) {
  if (ss.empty()) return "nil";
  std::string out;
  for (size_t i = 0; i < ss.size(); ++i) {
    absl::StrAppend(&out, i > 0 ? ", " : "", ss[i].labels.ToString(), " ",
                    FormatFloatE(ss[i].value));
  }
  return out;
}

std::string Quoted(absl::string_view s) {
  std::string q;
  AppendGoQuoted(s, &q);
  return q;
}

// ---- Running. ----

// A database in a fresh temporary directory, removed on destruction.
class TempDB {
 public:
  ~TempDB() {
    if (db_ != nullptr) (void)db_->Close();
    db_.reset();
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }
  absl::Status Open() {
    char tmpl[] = "/tmp/vigil-ruletest.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      return absl::InternalError("mkdtemp failed");
    dir_ = tmpl;
    tsdb::Options o;
    o.dir = dir_;
    o.enable_wal = false;
    o.background_compaction = false;
    o.retention_time = 0;
    ASSIGN_OR_RETURN(db_, tsdb::DB::Open(o));
    return absl::OkStatus();
  }
  tsdb::DB* db() { return db_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<tsdb::DB> db_;
};

// Appends the input series' samples at 0, interval, ... up to `maxt_ms`. A
// series listed twice keeps its last definition; of samples at one
// timestamp (interval 0) the first is kept.
absl::Status LoadSeries(const TestGroup& tg, int64_t maxt_ms, tsdb::DB* db) {
  std::map<model::Labels, std::vector<promql::SequenceValue>> series;
  for (const InputSeries& in : tg.input_series) {
    absl::StatusOr<promql::SeriesDesc> d =
        promql::ParseSeriesDesc(absl::StrCat(in.series, " ", in.values));
    if (!d.ok()) return d.status();
    series[d->labels] = std::move(d->values);
  }
  const int64_t step = absl::ToInt64Milliseconds(tg.interval);
  std::unique_ptr<tsdb::Appender> app = db->Appender();
  for (const auto& [labels, values] : series) {
    int64_t last = -1;
    for (size_t i = 0; i < values.size(); ++i) {
      const int64_t t = static_cast<int64_t>(i) * step;
      if (t > maxt_ms) break;
      if (values[i].omitted || t <= last) continue;
      last = t;
      absl::StatusOr<tsdb::SeriesRef> ref =
          app->Append(labels, t, values[i].value);
      if (!ref.ok()) return ref.status();
    }
  }
  return app->Commit();
}

// The rule groups of all rule files, in evaluation order.
absl::StatusOr<std::vector<std::unique_ptr<Group>>> BuildAllGroups(
    const TestFile& file, const std::vector<config::RuleFile>& rule_files) {
  std::vector<std::unique_ptr<Group>> groups;
  for (const config::RuleFile& rf : rule_files) {
    ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Group>> gs,
                     BuildGroups(rf, file.evaluation_interval));
    for (auto& g : gs) groups.push_back(std::move(g));
  }
  // As promtool: groups not in group_eval_order sort as if listed first.
  std::map<std::string, int> order;
  for (size_t i = 0; i < file.group_eval_order.size(); ++i) {
    order[file.group_eval_order[i]] = static_cast<int>(i);
  }
  auto rank = [&order](const std::unique_ptr<Group>& g) {
    auto it = order.find(g->name());
    return it == order.end() ? 0 : it->second;
  };
  std::stable_sort(
      groups.begin(), groups.end(),
      [&rank](const std::unique_ptr<Group>& a,
              const std::unique_ptr<Group>& b) { return rank(a) < rank(b); });
  return groups;
}

Pairs LabelPairs(const model::Labels& ls) {
  Pairs p;
  for (const model::Label& l : ls)
    p.emplace_back(l.name.view(), l.value.view());
  return p;
}

std::vector<std::string> RunTestGroup(
    const TestFile& file, const TestGroup& tg,
    const std::vector<config::RuleFile>& rule_files) {
  std::vector<std::string> errs;
  const auto fail = [&errs](const absl::Status& s) {
    errs.emplace_back(s.message());
    return errs;
  };

  absl::Duration maxd = absl::ZeroDuration();
  std::map<absl::Duration, std::vector<const AlertTest*>> alert_tests;
  for (const AlertTest& at : tg.alert_tests) {
    if (at.alertname.empty()) {
      return {
          absl::StrCat("an item under alert_rule_test misses required "
                       "attribute alertname at eval_time ",
                       config::FormatPromDuration(at.eval_time))};
    }
    alert_tests[at.eval_time].push_back(&at);
    maxd = std::max(maxd, at.eval_time);
  }
  for (const ExprTest& et : tg.expr_tests) maxd = std::max(maxd, et.eval_time);
  const int64_t maxt = absl::ToInt64Milliseconds(maxd);
  const int64_t interval = absl::ToInt64Milliseconds(file.evaluation_interval);

  absl::StatusOr<std::vector<std::unique_ptr<Group>>> groups =
      BuildAllGroups(file, rule_files);
  if (!groups.ok()) return fail(groups.status());

  TempDB tmp;
  if (absl::Status s = tmp.Open(); !s.ok()) return fail(s);
  tsdb::DB* db = tmp.db();
  if (absl::Status s = LoadSeries(tg, maxt, db); !s.ok()) return fail(s);

  promql::EngineOptions eo;
  eo.default_subquery_step_ms = interval;
  const promql::Engine engine(eo);
  GroupEnv env;
  env.query = EngineQueryFunc(&engine, [db] { return db->Querier(); });
  env.appender = [db] { return db->Appender(); };
  env.external_labels = tg.external_labels;
  env.external_url = tg.external_url;

  auto next_alert_time = alert_tests.begin();
  for (int64_t ts = 0; ts <= maxt; ts += interval) {
    std::vector<std::string> eval_errs;
    for (const std::unique_ptr<Group>& g : *groups) {
      g->Eval(absl::FromUnixMillis(ts), env);
      for (const std::unique_ptr<Rule>& r : g->rules()) {
        const RuleEvalStatus st = r->eval_status();
        if (st.health != RuleHealth::kBad) continue;
        eval_errs.push_back(
            absl::StrCat("    rule: ", r->name(),
                         ", time: ", GoDurationString(absl::Milliseconds(ts)),
                         ", err: ", st.last_error.message()));
      }
    }
    if (!eval_errs.empty()) {
      errs.insert(errs.end(), eval_errs.begin(), eval_errs.end());
      return errs;
    }

    // Alert tests whose eval_time falls in [ts, ts + interval).
    for (; next_alert_time != alert_tests.end(); ++next_alert_time) {
      const int64_t t = absl::ToInt64Milliseconds(next_alert_time->first);
      if (t < ts || t >= ts + interval) break;
      std::map<std::string, std::vector<AlertView>> got;
      for (const AlertTest* at : next_alert_time->second) got[at->alertname];
      for (const std::unique_ptr<Group>& g : *groups) {
        for (const std::unique_ptr<Rule>& r : g->rules()) {
          const auto* ar = dynamic_cast<const AlertingRule*>(r.get());
          if (ar == nullptr || got.find(ar->name()) == got.end()) continue;
          for (const Alert& a : ar->Alerts()) {
            if (a.state != AlertState::kFiring) continue;
            got[ar->name()].push_back(
                AlertView{LabelPairs(a.labels), a.annotations});
          }
        }
      }
      for (const AlertTest* at : next_alert_time->second) {
        std::vector<AlertView> want;
        for (const ExpAlert& ea : at->exp_alerts) {
          std::map<std::string, std::string> ls(ea.labels.begin(),
                                                ea.labels.end());
          ls["alertname"] = at->alertname;
          want.push_back(AlertView{ToPairs(ls), ea.annotations});
        }
        std::vector<AlertView>& have = got[at->alertname];
        std::sort(want.begin(), want.end());
        std::sort(have.begin(), have.end());
        if (want == have) continue;
        std::string name;
        if (!tg.name.empty()) name = absl::StrCat("    name: ", tg.name, ",\n");
        errs.push_back(absl::StrCat(
            name, "    alertname: ", at->alertname,
            ", time: ", config::FormatPromDuration(at->eval_time),
            ", \n        exp:", IndentLines(AlertsString(want), "            "),
            ", \n        got:",
            IndentLines(AlertsString(have), "            ")));
      }
    }
  }

  for (const ExprTest& et : tg.expr_tests) {
    const std::string head =
        absl::StrCat("    expr: ", Quoted(et.expr),
                     ", time: ", config::FormatPromDuration(et.eval_time));
    absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(et.expr);
    absl::StatusOr<promql::Vector> res =
        expr.ok() ? env.query(**expr, absl::ToInt64Milliseconds(et.eval_time))
                  : absl::StatusOr<promql::Vector>(expr.status());
    if (!res.ok()) {
      errs.push_back(absl::StrCat(head, ", err: ", res.status().message()));
      continue;
    }
    std::vector<SampleView> have;
    for (const promql::Sample& s : *res)
      have.push_back(SampleView{s.metric, s.point.v});
    std::vector<SampleView> want;
    bool bad_labels = false;
    for (const ExpSample& es : et.exp_samples) {
      absl::StatusOr<promql::SeriesDesc> d = promql::ParseSeriesDesc(es.labels);
      if (!d.ok()) {
        errs.push_back(absl::StrCat(head, ", err: labels ", Quoted(es.labels),
                                    ": ", d.status().message()));
        bad_labels = true;
        break;
      }
      want.push_back(SampleView{d->labels, es.value});
    }
    if (bad_labels) continue;
    const auto by_labels = [](const SampleView& a, const SampleView& b) {
      return Compare(a.labels, b.labels) < 0;
    };
    std::stable_sort(want.begin(), want.end(), by_labels);
    std::stable_sort(have.begin(), have.end(), by_labels);
    bool equal = want.size() == have.size();
    for (size_t i = 0; equal && i < want.size(); ++i) {
      // Exact comparison, as promtool's reflect.DeepEqual (NaN never
      // equals).
      equal =
          want[i].labels == have[i].labels && want[i].value == have[i].value;
    }
    if (equal) continue;
    errs.push_back(absl::StrCat(head, ",\n        exp: ", SamplesString(want),
                                "\n        got: ", SamplesString(have)));
  }
  return errs;
}

config::RuleChecks ContentChecks() {
  config::RuleChecks checks;
  checks.expr = [](absl::string_view e) {
    return promql::ParseExpr(e).status();
  };
  checks.tmpl = [](absl::string_view name, absl::string_view text) {
    return CheckRuleTemplate(name, text);
  };
  return checks;
}

// Go's filepath.Dir-then-Join for a rule file pattern.
std::string JoinToDir(const std::string& test_file,
                      const std::string& pattern) {
  if (!pattern.empty() && pattern[0] == '/') return pattern;
  const size_t slash = test_file.rfind('/');
  if (slash == std::string::npos) return pattern;
  return absl::StrCat(test_file.substr(0, slash + 1), pattern);
}

}  // namespace

std::string GoDurationString(absl::Duration d) {
  int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  // "<int>[.<frac>]" for `v` in units of 10^digits.
  const auto fixed = [](int64_t v, int digits) {
    int64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    std::string s = std::to_string(v / scale);
    std::string frac = std::to_string(v % scale);
    frac = std::string(digits - frac.size(), '0') + frac;
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    if (!frac.empty()) absl::StrAppend(&s, ".", frac);
    return s;
  };
  constexpr int64_t kSecond = 1000000000;
  if (ns < 1000) return absl::StrCat(out, ns, "ns");
  if (ns < 1000000) return absl::StrCat(out, fixed(ns, 3), "µs");
  if (ns < kSecond) return absl::StrCat(out, fixed(ns, 6), "ms");
  const int64_t h = ns / (3600 * kSecond);
  const int64_t m = ns / (60 * kSecond) % 60;
  const int64_t s = ns % (60 * kSecond);
  if (h > 0) absl::StrAppend(&out, h, "h");
  if (h > 0 || m > 0) absl::StrAppend(&out, m, "m");
  return absl::StrCat(out, fixed(s, 9), "s");
}

std::string FormatFloatE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r =
      std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  for (char& c : s) {
    if (c == 'e') c = 'E';
  }
  return s;
}

RuleTestResult RunRuleTestFile(const std::string& path) {
  RuleTestResult result;
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    result.errors.emplace_back(text.status().message());
    return result;
  }
  absl::StatusOr<TestFile> file = ParseTestFile(*text);
  if (!file.ok()) {
    result.errors.emplace_back(file.status().message());
    return result;
  }

  std::vector<std::string> rule_paths;
  for (const std::string& pattern : file->rule_files) {
    const std::string joined = JoinToDir(path, pattern);
    glob_t g{};
    const int rc = ::glob(joined.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i)
        rule_paths.emplace_back(g.gl_pathv[i]);
    } else {
      result.unmatched_patterns.push_back(joined);
    }
    ::globfree(&g);
  }
  std::vector<config::RuleFile> rule_files;
  std::vector<std::string> load_errors;
  for (const std::string& p : rule_paths) {
    absl::StatusOr<config::RuleFile> rf =
        config::LoadRuleFile(p, ContentChecks());
    if (!rf.ok()) {
      for (absl::string_view line :
           absl::StrSplit(rf.status().message(), '\n')) {
        load_errors.emplace_back(line);
      }
      continue;
    }
    rule_files.push_back(*std::move(rf));
  }

  for (const TestGroup& tg : file->tests) {
    if (!load_errors.empty()) {
      // promtool loads the rule files per test group and reports their
      // errors for each.
      result.errors.insert(result.errors.end(), load_errors.begin(),
                           load_errors.end());
      continue;
    }
    std::vector<std::string> errs = RunTestGroup(*file, tg, rule_files);
    result.errors.insert(result.errors.end(), errs.begin(), errs.end());
  }
  return result;
}

}  // namespace vigil::rules
