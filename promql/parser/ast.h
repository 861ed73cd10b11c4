// The PromQL abstract syntax tree (Prometheus 2.42's grammar). Produced by
// ParseExpr (parser.h), printed by Format/Pretty (printer.h), evaluated by
// the engine (promql/engine.h). Nodes own their children.
#ifndef VIGIL_PROMQL_PARSER_AST_H_
#define VIGIL_PROMQL_PARSER_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/matcher.h"

namespace vigil::promql {

// The type an expression evaluates to. Names as Prometheus prints them in
// errors ("scalar", "instant vector", "range vector", "string").
enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };
const char* ValueTypeName(ValueType t);

// Byte offsets [start, end) into the query text.
struct PositionRange {
  int start = 0;
  int end = 0;
};

enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,  // Arithmetic.
  kEql, kNeq, kGtr, kLss, kGte, kLte,          // Comparison.
  kAnd, kOr, kUnless,                          // Set.
};
const char* BinaryOpName(BinaryOp op);  // "+", "==", "and", "atan2", ...
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggregateOp {
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar,
  kTopk, kBottomk, kCountValues, kQuantile,
};
const char* AggregateOpName(AggregateOp op);  // "sum", "count_values", ...
// Whether the aggregation takes a parameter before the expression.
bool AggregateHasParam(AggregateOp op);

// `@ <timestamp>`, `@ start()`, `@ end()`.
struct AtModifier {
  enum class Kind { kNone, kTimestamp, kStart, kEnd };
  Kind kind = Kind::kNone;
  int64_t timestamp_ms = 0;  // For kTimestamp.
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral {
  double value = 0;
};

struct StringLiteral {
  std::string value;  // Unquoted.
};

// metric{a="b", c=~"d"} [offset <d>] [@ <t>]
struct VectorSelector {
  std::string name;  // The metric name if given outside the braces, else "".
  // Every matcher, including __name__="name" when a name was given.
  std::vector<model::Matcher> matchers;
  int64_t offset_ms = 0;  // May be negative.
  AtModifier at;
};

// <vector selector>[<range>]. offset and @ live on the vector selector.
struct MatrixSelector {
  ExprPtr vector_selector;  // Always a VectorSelector.
  int64_t range_ms = 0;
};

// <expr>[<range>:<step>] [offset <d>] [@ <t>]
struct SubqueryExpr {
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;  // 0: not given (the engine's default step).
  int64_t offset_ms = 0;
  AtModifier at;
};

struct FunctionInfo;  // parser/functions.h

struct Call {
  const FunctionInfo* func = nullptr;
  std::vector<ExprPtr> args;
};

struct AggregateExpr {
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile/count_values; null otherwise.
  std::vector<std::string> grouping;  // by (...) or without (...) labels.
  bool without = false;
  // Whether `by`/`without` was written at all (`sum by () (x)` prints so).
  bool has_grouping = false;
};

struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Card card = Card::kOneToOne;
  // on(...) labels when `on`, else ignoring(...) labels.
  std::vector<std::string> matching_labels;
  bool on = false;
  // Written with on()/ignoring() at all (`on()` differs from nothing).
  bool has_matching = false;
  // group_left(...)/group_right(...) labels.
  std::vector<std::string> include;
};

struct BinaryExpr {
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  // Set when both sides are vectors (set operators: many-to-many).
  std::optional<VectorMatching> matching;
  bool return_bool = false;  // The `bool` modifier of comparisons.
};

struct UnaryExpr {
  bool negate = false;  // `-x`; `+x` has negate=false.
  ExprPtr expr;
};

struct ParenExpr {
  ExprPtr expr;
};

struct Expr {
  std::variant<NumberLiteral, StringLiteral, VectorSelector, MatrixSelector, SubqueryExpr, Call,
               AggregateExpr, BinaryExpr, UnaryExpr, ParenExpr>
      node;
  PositionRange pos;
};

// The type `e` evaluates to.
ValueType TypeOf(const Expr& e);

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_PARSER_AST_H_
