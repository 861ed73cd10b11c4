#include "promql/parser/printer.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/goformat.h"
#include "model/labels.h"
#include "promql/parser/functions.h"

namespace vigil::promql {
namespace {

constexpr size_t kMaxCharactersPerLine = 100;

std::string Indent(int level) {
  return std::string(static_cast<size_t>(level) * 2, ' ');
}

std::string MatcherString(const model::Matcher& m) {
  const char* op = "=";
  switch (m.type()) {
    case model::MatchType::kEqual:
      op = "=";
      break;
    case model::MatchType::kNotEqual:
      op = "!=";
      break;
    case model::MatchType::kRegexMatch:
      op = "=~";
      break;
    case model::MatchType::kRegexNoMatch:
      op = "!~";
      break;
  }
  std::string out = absl::StrCat(m.name(), op);
  AppendGoQuoted(m.value(), &out);
  return out;
}

std::string AtString(const AtModifier& at) {
  switch (at.kind) {
    case AtModifier::Kind::kTimestamp:
      return absl::StrFormat(" @ %.3f",
                             static_cast<double>(at.timestamp_ms) / 1000.0);
    case AtModifier::Kind::kStart:
      return " @ start()";
    case AtModifier::Kind::kEnd:
      return " @ end()";
    case AtModifier::Kind::kNone:
      break;
  }
  return "";
}

std::string OffsetString(int64_t offset_ms) {
  if (offset_ms > 0) return " offset " + FormatDurationMs(offset_ms);
  if (offset_ms < 0) return " offset -" + FormatDurationMs(-offset_ms);
  return "";
}

// The selector without its @ and offset.
std::string SelectorBody(const VectorSelector& vs) {
  std::vector<std::string> parts;
  for (const model::Matcher& m : vs.matchers) {
    if (m.name() == model::kMetricName &&
        m.type() == model::MatchType::kEqual && m.value() == vs.name) {
      continue;
    }
    parts.push_back(MatcherString(m));
  }
  if (parts.empty()) return vs.name;
  std::sort(parts.begin(), parts.end());
  return absl::StrCat(vs.name, "{", absl::StrJoin(parts, ","), "}");
}

std::string SubqueryTimeSuffix(const SubqueryExpr& sq) {
  std::string step = sq.step_ms != 0 ? FormatDurationMs(sq.step_ms) : "";
  return absl::StrCat("[", FormatDurationMs(sq.range_ms), ":", step, "]",
                      AtString(sq.at), OffsetString(sq.offset_ms));
}

std::string AggregateOpString(const AggregateExpr& a) {
  std::string s = AggregateOpName(a.op);
  if (a.without) {
    absl::StrAppend(&s, " without (", absl::StrJoin(a.grouping, ", "), ") ");
  } else if (!a.grouping.empty()) {
    absl::StrAppend(&s, " by (", absl::StrJoin(a.grouping, ", "), ") ");
  }
  return s;
}

std::string MatchingString(const BinaryExpr& b) {
  if (!b.matching.has_value()) return "";
  const VectorMatching& vm = *b.matching;
  if (vm.matching_labels.empty() && !vm.on) return "";
  std::string s = absl::StrCat(" ", vm.on ? "on" : "ignoring", " (",
                               absl::StrJoin(vm.matching_labels, ", "), ")");
  if (vm.card == VectorMatching::Card::kManyToOne ||
      vm.card == VectorMatching::Card::kOneToMany) {
    absl::StrAppend(
        &s, " group_",
        vm.card == VectorMatching::Card::kManyToOne ? "left" : "right", " (",
        absl::StrJoin(vm.include, ", "), ")");
  }
  return s;
}

struct FormatVisitor {
  std::string operator()(const NumberLiteral& n) const {
    std::string out;
    AppendGoFloat(n.value, &out);
    return out;
  }
  std::string operator()(const StringLiteral& s) const {
    std::string out;
    AppendGoQuoted(s.value, &out);
    return out;
  }
  std::string operator()(const VectorSelector& vs) const {
    return absl::StrCat(SelectorBody(vs), AtString(vs.at),
                        OffsetString(vs.offset_ms));
  }
  std::string operator()(const MatrixSelector& ms) const {
    const auto& vs = std::get<VectorSelector>(ms.vector_selector->node);
    return absl::StrCat(SelectorBody(vs), "[", FormatDurationMs(ms.range_ms),
                        "]", AtString(vs.at), OffsetString(vs.offset_ms));
  }
  std::string operator()(const SubqueryExpr& sq) const {
    return Format(*sq.expr) + SubqueryTimeSuffix(sq);
  }
  std::string operator()(const Call& c) const {
    std::string s = absl::StrCat(
        c.func != nullptr ? std::string(c.func->name) : std::string(), "(");
    for (size_t i = 0; i < c.args.size(); ++i) {
      if (i > 0) s += ", ";
      s += Format(*c.args[i]);
    }
    return s + ")";
  }
  std::string operator()(const AggregateExpr& a) const {
    std::string s = AggregateOpString(a) + "(";
    if (AggregateHasParam(a.op) && a.param != nullptr)
      absl::StrAppend(&s, Format(*a.param), ", ");
    return absl::StrCat(s, Format(*a.expr), ")");
  }
  std::string operator()(const BinaryExpr& b) const {
    return absl::StrCat(Format(*b.lhs), " ", BinaryOpName(b.op),
                        b.return_bool ? " bool" : "", MatchingString(b), " ",
                        Format(*b.rhs));
  }
  std::string operator()(const UnaryExpr& u) const {
    return absl::StrCat(u.negate ? "-" : "+", Format(*u.expr));
  }
  std::string operator()(const ParenExpr& p) const {
    return absl::StrCat("(", Format(*p.expr), ")");
  }
};

std::string PrettyAt(const Expr& e, int level);

bool NeedsSplit(const Expr& e, std::string* flat) {
  *flat = Format(e);
  return flat->size() > kMaxCharactersPerLine;
}

struct PrettyVisitor {
  const Expr& e;
  int level;

  std::string operator()(const AggregateExpr& a) const {
    std::string flat;
    if (!NeedsSplit(e, &flat)) return Indent(level) + flat;
    std::string s = Indent(level) + AggregateOpString(a) + "(\n";
    if (AggregateHasParam(a.op) && a.param != nullptr) {
      absl::StrAppend(&s, PrettyAt(*a.param, level + 1), ",\n");
    }
    absl::StrAppend(&s, PrettyAt(*a.expr, level + 1), "\n", Indent(level), ")");
    return s;
  }
  std::string operator()(const BinaryExpr& b) const {
    std::string flat;
    if (!NeedsSplit(e, &flat)) return Indent(level) + flat;
    return absl::StrCat(PrettyAt(*b.lhs, level + 1), "\n", Indent(level),
                        BinaryOpName(b.op), b.return_bool ? " bool" : "",
                        MatchingString(b), "\n", PrettyAt(*b.rhs, level + 1));
  }
  std::string operator()(const Call& c) const {
    std::string flat;
    if (!NeedsSplit(e, &flat)) return Indent(level) + flat;
    std::string s = absl::StrCat(
        Indent(level),
        c.func != nullptr ? std::string(c.func->name) : std::string(), "(\n");
    for (size_t i = 0; i < c.args.size(); ++i) {
      if (i > 0) s += ",\n";
      s += PrettyAt(*c.args[i], level + 1);
    }
    return absl::StrCat(s, "\n", Indent(level), ")");
  }
  std::string operator()(const ParenExpr& p) const {
    std::string flat;
    if (!NeedsSplit(e, &flat)) return Indent(level) + flat;
    return absl::StrCat(Indent(level), "(\n", PrettyAt(*p.expr, level + 1),
                        "\n", Indent(level), ")");
  }
  std::string operator()(const SubqueryExpr& sq) const {
    std::string flat;
    if (!NeedsSplit(e, &flat))
      return flat;  // Prometheus 2.42 does not indent it.
    return PrettyAt(*sq.expr, level) + SubqueryTimeSuffix(sq);
  }
  std::string operator()(const UnaryExpr& u) const {
    std::string child = PrettyAt(*u.expr, level);
    size_t b = child.find_first_not_of(" \t\n\r");
    size_t end = child.find_last_not_of(" \t\n\r");
    child = b == std::string::npos ? "" : child.substr(b, end - b + 1);
    return absl::StrCat(Indent(level), u.negate ? "-" : "+", child);
  }
  template <typename T>
  std::string operator()(const T&) const {
    return Indent(level) + Format(e);
  }
};

std::string PrettyAt(const Expr& e, int level) {
  return std::visit(PrettyVisitor{e, level}, e.node);
}

}  // namespace

std::string Format(const Expr& e) {
  return std::visit(FormatVisitor{}, e.node);
}

std::string Pretty(const Expr& e) { return PrettyAt(e, 0); }

std::string FormatDurationMs(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    const char* name;
    int64_t ms;
    bool exact;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000, true},
                                    {"w", 7LL * 24 * 3600 * 1000, true},
                                    {"d", 24LL * 3600 * 1000, false},
                                    {"h", 3600LL * 1000, false},
                                    {"m", 60LL * 1000, false},
                                    {"s", 1000, false},
                                    {"ms", 1, false}};
  for (const Unit& u : kUnits) {
    if (u.exact && ms % u.ms != 0) continue;
    if (int64_t v = ms / u.ms; v > 0) {
      absl::StrAppend(&out, v, u.name);
      ms -= v * u.ms;
    }
  }
  return out;
}

}  // namespace vigil::promql
