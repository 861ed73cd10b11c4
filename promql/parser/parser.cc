// A recursive-descent parser that accepts Prometheus 2.42's yacc grammar
// (promql/parser/generated_parser.y) and reports the same first error.
// Where yacc's error recovery decides the wording ("in aggregation", "in
// label matching, expected string"), the matching context is passed
// explicitly at the point where yacc's state would hold that error rule.
#include "promql/parser/parser.h"

#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/goformat.h"
#include "model/value.h"
#include "promql/parser/functions.h"
#include "promql/parser/lexer.h"
#include "re2/re2.h"

namespace vigil::promql {
namespace {

constexpr int kPowPrecedence = 6;

int Precedence(Tok t) {
  switch (t) {
    case Tok::kLor:
      return 1;
    case Tok::kLand:
    case Tok::kLunless:
      return 2;
    case Tok::kEqlc:
    case Tok::kNeq:
    case Tok::kGtr:
    case Tok::kLss:
    case Tok::kGte:
    case Tok::kLte:
      return 3;
    case Tok::kAdd:
    case Tok::kSub:
      return 4;
    case Tok::kMul:
    case Tok::kDiv:
    case Tok::kMod:
    case Tok::kAtan2:
      return 5;
    case Tok::kPow:
      return kPowPrecedence;
    default:
      return -1;
  }
}

BinaryOp ToBinaryOp(Tok t) {
  switch (t) {
    case Tok::kAdd:
      return BinaryOp::kAdd;
    case Tok::kSub:
      return BinaryOp::kSub;
    case Tok::kMul:
      return BinaryOp::kMul;
    case Tok::kDiv:
      return BinaryOp::kDiv;
    case Tok::kMod:
      return BinaryOp::kMod;
    case Tok::kPow:
      return BinaryOp::kPow;
    case Tok::kAtan2:
      return BinaryOp::kAtan2;
    case Tok::kEqlc:
      return BinaryOp::kEql;
    case Tok::kNeq:
      return BinaryOp::kNeq;
    case Tok::kGtr:
      return BinaryOp::kGtr;
    case Tok::kLss:
      return BinaryOp::kLss;
    case Tok::kGte:
      return BinaryOp::kGte;
    case Tok::kLte:
      return BinaryOp::kLte;
    case Tok::kLand:
      return BinaryOp::kAnd;
    case Tok::kLor:
      return BinaryOp::kOr;
    default:
      return BinaryOp::kUnless;
  }
}

AggregateOp ToAggregateOp(Tok t) {
  switch (t) {
    case Tok::kAvg:
      return AggregateOp::kAvg;
    case Tok::kBottomk:
      return AggregateOp::kBottomk;
    case Tok::kCount:
      return AggregateOp::kCount;
    case Tok::kCountValues:
      return AggregateOp::kCountValues;
    case Tok::kGroup:
      return AggregateOp::kGroup;
    case Tok::kMax:
      return AggregateOp::kMax;
    case Tok::kMin:
      return AggregateOp::kMin;
    case Tok::kQuantile:
      return AggregateOp::kQuantile;
    case Tok::kStddev:
      return AggregateOp::kStddev;
    case Tok::kStdvar:
      return AggregateOp::kStdvar;
    case Tok::kTopk:
      return AggregateOp::kTopk;
    default:
      return AggregateOp::kSum;
  }
}

// Tokens the grammar accepts as a metric name (metric_identifier).
bool IsMetricIdentifierTok(Tok t) {
  switch (t) {
    case Tok::kIdentifier:
    case Tok::kMetricIdentifier:
    case Tok::kBy:
    case Tok::kLand:
    case Tok::kLor:
    case Tok::kLunless:
    case Tok::kOffset:
    case Tok::kWithout:
    case Tok::kStart:
    case Tok::kEnd:
      return true;
    default:
      return IsAggregatorTok(t);
  }
}

// Tokens the grammar accepts as a label name in grouping lists (maybe_label).
bool IsMaybeLabelTok(Tok t) {
  switch (t) {
    case Tok::kBool:
    case Tok::kGroupLeft:
    case Tok::kGroupRight:
    case Tok::kIgnoring:
    case Tok::kOn:
    case Tok::kAtan2:
      return true;
    default:
      return IsMetricIdentifierTok(t);
  }
}

bool IsLabelName(absl::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || absl::ascii_isalpha(static_cast<unsigned char>(c)) ||
              (i > 0 && absl::ascii_isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}

std::string GoQuote(absl::string_view s) {
  std::string out;
  AppendGoQuoted(s, &out);
  return out;
}

// Go's strconv.ParseInt(s, 0, 64) for the forms the lexer produces.
bool ParseGoInt(absl::string_view s, int64_t* out) {
  int base = 10;
  absl::string_view digits = s;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    digits = s.substr(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    digits = s.substr(1);
  }
  if (digits.empty()) return false;
  uint64_t v = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
    if (v >
        (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / base)
      return false;
    v = v * base + d;
  }
  *out = static_cast<int64_t>(v);
  return true;
}

// Go's strconv.ParseFloat(s, 64); on failure returns Go's error text.
bool ParseGoFloat(absl::string_view s, double* out, std::string* err) {
  std::string lower = absl::AsciiStrToLower(std::string(s));
  absl::string_view body = lower;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  auto invalid = [&]() {
    *err = absl::StrCat("strconv.ParseFloat: parsing ", GoQuote(s),
                        ": invalid syntax");
    return false;
  };
  if (body == "inf" || body == "infinity") {
    *out = neg ? -std::numeric_limits<double>::infinity()
               : std::numeric_limits<double>::infinity();
    return true;
  }
  if (body == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  bool hex = body.size() >= 2 && body[0] == '0' && body[1] == 'x';
  size_t i = hex ? 2 : 0;
  auto is_digit = [&](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
           (hex && c >= 'a' && c <= 'f');
  };
  int mantissa_digits = 0;
  while (i < body.size() && is_digit(body[i])) ++i, ++mantissa_digits;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && is_digit(body[i])) ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return invalid();
  char exp_char = hex ? 'p' : 'e';
  if (i < body.size() && body[i] == exp_char) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    int exp_digits = 0;
    while (i < body.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(body[i]))) {
      ++i, ++exp_digits;
    }
    if (exp_digits == 0) return invalid();
  } else if (hex) {
    return invalid();  // Go requires a 'p' exponent in hex floats.
  }
  if (i != body.size()) return invalid();
  std::string copy(lower);
  double v = std::strtod(copy.c_str(), nullptr);
  if (std::isinf(v)) {
    *err = absl::StrCat("strconv.ParseFloat: parsing ", GoQuote(s),
                        ": value out of range");
    return false;
  }
  *out = v;
  return true;
}

void AppendUtf8Rune(uint32_t r, std::string* out) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

// Unquotes a string token the lexer has already validated ("…", '…', `…`).
std::string Unquote(absl::string_view tok) {
  if (tok.size() < 2) return std::string();
  char quote = tok[0];
  absl::string_view s = tok.substr(1, tok.size() - 2);
  if (quote == '`') return std::string(s);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    auto hex_run = [&](int n) {
      uint32_t v = 0;
      for (int k = 0; k < n && i + 1 < s.size(); ++k) {
        char h = s[++i];
        v = v * 16 + static_cast<uint32_t>(
                         absl::ascii_isdigit(static_cast<unsigned char>(h))
                             ? h - '0'
                             : (absl::ascii_tolower(h) - 'a' + 10));
      }
      return v;
    };
    switch (c) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
        out.push_back(static_cast<char>(hex_run(2)));
        break;
      case 'u':
        AppendUtf8Rune(hex_run(4), &out);
        break;
      case 'U':
        AppendUtf8Rune(hex_run(8), &out);
        break;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        uint32_t v = static_cast<uint32_t>(c - '0');
        for (int k = 0; k < 2 && i + 1 < s.size(); ++k)
          v = v * 8 + (s[++i] - '0');
        out.push_back(static_cast<char>(v));
        break;
      }
      default:
        out.push_back(c);
        break;  // \\, \" or \'.
    }
  }
  return out;
}

// Go's regexp error text for a regex RE2 rejects, or "" when it compiles.
std::string RegexError(const std::string& value) {
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(absl::StrCat("^(?:", value, ")$"), opts);
  if (re.ok()) return "";
  const char* what = nullptr;
  switch (re.error_code()) {
    case RE2::ErrorBadEscape:
      what = "invalid escape sequence";
      break;
    case RE2::ErrorBadCharClass:
      what = "invalid character class";
      break;
    case RE2::ErrorBadCharRange:
      what = "invalid character class range";
      break;
    case RE2::ErrorMissingBracket:
      what = "missing closing ]";
      break;
    case RE2::ErrorMissingParen:
      what = "missing closing )";
      break;
    case RE2::ErrorUnexpectedParen:
      what = "unexpected )";
      break;
    case RE2::ErrorTrailingBackslash:
      what = "trailing backslash at end of expression";
      break;
    case RE2::ErrorRepeatArgument:
      what = "missing argument to repetition operator";
      break;
    case RE2::ErrorRepeatSize:
      what = "invalid repeat count";
      break;
    case RE2::ErrorRepeatOp:
      what = "invalid nested repetition operator";
      break;
    case RE2::ErrorBadPerlOp:
      what = "invalid or unsupported Perl syntax";
      break;
    case RE2::ErrorBadUTF8:
      what = "invalid UTF-8";
      break;
    case RE2::ErrorBadNamedCapture:
      what = "invalid named capture";
      break;
    case RE2::ErrorPatternTooLarge:
      what = "expression too large";
      break;
    default:
      return absl::StrCat("error parsing regexp: ", re.error());
  }
  return absl::StrCat("error parsing regexp: ", what, ": `", re.error_arg(),
                      "`");
}

// Prometheus's model.ParseDuration.
absl::StatusOr<int64_t> ParseModelDuration(absl::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");
  static constexpr struct {
    absl::string_view unit;
    int64_t ms;
  } kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                {"w", 7LL * 24 * 3600 * 1000},
                {"d", 24LL * 3600 * 1000},
                {"h", 3600LL * 1000},
                {"m", 60LL * 1000},
                {"s", 1000},
                {"ms", 1}};
  auto invalid = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid duration string: ", GoQuote(s)));
  };
  size_t i = 0;
  size_t next_unit = 0;
  int64_t total = 0;
  bool overflow = false;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(s[j])))
      ++j;
    if (j == i) return invalid();
    size_t k = j;
    while (k < s.size() &&
           absl::ascii_isalpha(static_cast<unsigned char>(s[k])))
      ++k;
    absl::string_view unit = s.substr(j, k - j);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].unit != unit) ++u;
    if (u == std::size(kUnits)) return invalid();
    next_unit = u + 1;
    absl::string_view num = s.substr(i, j - i);
    uint64_t n = 0;
    if (!absl::SimpleAtoi(num, &n) ||
        n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() /
                                  kUnits[u].ms)) {
      overflow = true;
    } else {
      int64_t add = static_cast<int64_t>(n) * kUnits[u].ms;
      if (total > std::numeric_limits<int64_t>::max() - add) {
        overflow = true;
      } else {
        total += add;
      }
    }
    i = k;
  }
  if (overflow) return absl::InvalidArgumentError("duration out of range");
  return total;
}

ExprPtr MakeExpr(auto node, int start, int end) {
  auto e = std::make_unique<Expr>();
  e->node = std::move(node);
  e->pos = PositionRange{start, end};
  return e;
}

class Parser {
 public:
  Parser(absl::string_view input, bool series_desc)
      : input_(input), lexer_(input, series_desc) {}

  ExprPtr ParseTop();
  absl::StatusOr<std::vector<model::Matcher>> ParseSelectorTop();
  absl::StatusOr<SeriesDesc> ParseSeriesTop();

  bool failed() const { return error_.has_value(); }
  absl::Status status() const;

 private:
  const Token& Peek(size_t k = 0);
  Token Take();
  void AddError(int pos, std::string msg);
  void Unexpected(const Token& t, absl::string_view context,
                  absl::string_view expected);
  void UnexpectedHere(const Token& t) {
    Unexpected(t, agg_depth_ > 0 ? "aggregation" : "", "");
  }

  ExprPtr ParseExpr(int min_prec);
  ExprPtr ParseUnary();
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr e);
  ExprPtr ParseVectorSelector(const Token* name);
  ExprPtr ParseCall();
  ExprPtr ParseAggregate();
  bool ParseArgs(std::vector<ExprPtr>* args);
  bool ParseGroupingLabels(std::vector<std::string>* out);
  bool ParseLabelMatchers(std::vector<model::Matcher>* out, int* end);
  bool ParseDurationTok(const Token& t, int64_t* ms);
  bool Number(const Token& t, double* v);
  void AddOffset(Expr& e, int64_t offset);
  AtModifier* AtTarget(Expr& e);

  ValueType Check(Expr& e);
  void ExpectType(Expr& e, ValueType want, absl::string_view context);
  int OpStart(const Expr& lhs) const;

  absl::string_view input_;
  Lexer lexer_;
  std::deque<Token> lookahead_;
  std::optional<std::pair<int, std::string>> error_;
  int last_closing_ = 0;
  int agg_depth_ = 0;
};

absl::Status Parser::status() const {
  if (!error_) return absl::OkStatus();
  int pos = error_->first;
  std::string where;
  if (pos < 0 || pos > static_cast<int>(input_.size())) {
    where = "invalid position:";
  } else {
    int line = 1;
    int last_break = -1;
    for (int i = 0; i < pos; ++i) {
      if (input_[i] == '\n') {
        last_break = i;
        ++line;
      }
    }
    where = absl::StrCat(line, ":", pos - last_break, ":");
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, " parse error: ", error_->second));
}

const Token& Parser::Peek(size_t k) {
  while (lookahead_.size() <= k) {
    Token t;
    do {
      t = lexer_.Next();
    } while (t.type == Tok::kComment);
    switch (t.type) {
      case Tok::kError:
        AddError(t.pos, t.val);
        t = Token{Tok::kEOF, t.pos, ""};
        break;
      case Tok::kRightBrace:
      case Tok::kRightParen:
      case Tok::kRightBracket:
      case Tok::kDuration:
      case Tok::kNumber:
        last_closing_ = t.pos + static_cast<int>(t.val.size());
        break;
      default:
        break;
    }
    lookahead_.push_back(std::move(t));
  }
  return lookahead_[k];
}

Token Parser::Take() {
  Peek();
  Token t = std::move(lookahead_.front());
  lookahead_.pop_front();
  return t;
}

void Parser::AddError(int pos, std::string msg) {
  if (!error_) error_.emplace(pos, std::move(msg));
}

void Parser::Unexpected(const Token& t, absl::string_view context,
                        absl::string_view expected) {
  std::string msg = absl::StrCat("unexpected ", TokenDesc(t));
  if (!context.empty()) absl::StrAppend(&msg, " in ", context);
  if (!expected.empty()) absl::StrAppend(&msg, ", expected ", expected);
  AddError(t.pos, std::move(msg));
}

ExprPtr Parser::ParseTop() {
  if (Peek().type == Tok::kEOF) {
    AddError(0, "no expression found in input");
    return nullptr;
  }
  ExprPtr e = ParseExpr(0);
  if (e == nullptr || failed()) return nullptr;
  if (Peek().type != Tok::kEOF) {
    UnexpectedHere(Peek());
    return nullptr;
  }
  if (failed()) return nullptr;
  Check(*e);
  if (failed()) return nullptr;
  return e;
}

ExprPtr Parser::ParseExpr(int min_prec) {
  ExprPtr lhs = ParseUnary();
  if (lhs == nullptr) return nullptr;
  for (;;) {
    int prec = Precedence(Peek().type);
    if (prec < 0 || prec < min_prec) break;
    Token op = Take();
    BinaryExpr b;
    b.op = ToBinaryOp(op.type);
    VectorMatching vm;
    if (Peek().type == Tok::kBool) {
      Take();
      b.return_bool = true;
    }
    if (Peek().type == Tok::kOn || Peek().type == Tok::kIgnoring) {
      vm.on = Take().type == Tok::kOn;
      vm.has_matching = true;
      if (!ParseGroupingLabels(&vm.matching_labels)) return nullptr;
      if (Peek().type == Tok::kGroupLeft || Peek().type == Tok::kGroupRight) {
        vm.card = Take().type == Tok::kGroupLeft
                      ? VectorMatching::Card::kManyToOne
                      : VectorMatching::Card::kOneToMany;
        if (Peek().type == Tok::kLeftParen && !ParseGroupingLabels(&vm.include))
          return nullptr;
      }
    }
    ExprPtr rhs = ParseExpr(op.type == Tok::kPow ? prec : prec + 1);
    if (rhs == nullptr) return nullptr;
    b.matching = std::move(vm);
    int start = lhs->pos.start;
    int end = rhs->pos.end;
    b.lhs = std::move(lhs);
    b.rhs = std::move(rhs);
    lhs = MakeExpr(std::move(b), start, end);
  }
  return lhs;
}

ExprPtr Parser::ParseUnary() {
  Tok t = Peek().type;
  if (t != Tok::kAdd && t != Tok::kSub) {
    ExprPtr e = ParsePrimary();
    if (e == nullptr) return nullptr;
    return ParsePostfix(std::move(e));
  }
  Token op = Take();
  ExprPtr operand = ParseExpr(kPowPrecedence);
  if (operand == nullptr) return nullptr;
  if (auto* n = std::get_if<NumberLiteral>(&operand->node)) {
    if (op.type == Tok::kSub) n->value = -n->value;
    operand->pos.start = op.pos;
    return operand;
  }
  int end = operand->pos.end;
  return MakeExpr(UnaryExpr{op.type == Tok::kSub, std::move(operand)}, op.pos,
                  end);
}

bool Parser::Number(const Token& t, double* v) {
  int64_t i = 0;
  if (ParseGoInt(t.val, &i)) {
    *v = static_cast<double>(i);
    return true;
  }
  std::string err;
  if (ParseGoFloat(t.val, v, &err)) return true;
  AddError(t.pos, "error parsing number: " + err);
  return false;
}

ExprPtr Parser::ParsePrimary() {
  const Token& t = Peek();
  switch (t.type) {
    case Tok::kNumber: {
      Token n = Take();
      double v = 0;
      if (!Number(n, &v)) return nullptr;
      return MakeExpr(NumberLiteral{v}, n.pos,
                      n.pos + static_cast<int>(n.val.size()));
    }
    case Tok::kString: {
      Token s = Take();
      return MakeExpr(StringLiteral{Unquote(s.val)}, s.pos,
                      s.pos + static_cast<int>(s.val.size()));
    }
    case Tok::kLeftParen: {
      Token lp = Take();
      ExprPtr inner = ParseExpr(0);
      if (inner == nullptr) return nullptr;
      if (Peek().type != Tok::kRightParen) {
        UnexpectedHere(Peek());
        return nullptr;
      }
      Token rp = Take();
      return MakeExpr(ParenExpr{std::move(inner)}, lp.pos, rp.pos + 1);
    }
    case Tok::kLeftBrace:
      return ParseVectorSelector(nullptr);
    case Tok::kIdentifier:
      if (Peek(1).type == Tok::kLeftParen) return ParseCall();
      break;
    default:
      if (IsAggregatorTok(t.type)) {
        Tok next = Peek(1).type;
        if (next == Tok::kLeftParen || next == Tok::kBy ||
            next == Tok::kWithout) {
          return ParseAggregate();
        }
      }
      break;
  }
  if (IsMetricIdentifierTok(Peek().type)) {
    Token name = Take();
    return ParseVectorSelector(&name);
  }
  UnexpectedHere(Peek());
  return nullptr;
}

ExprPtr Parser::ParseVectorSelector(const Token* name) {
  VectorSelector vs;
  int start = 0;
  int end = 0;
  if (name != nullptr) {
    vs.name = name->val;
    start = name->pos;
    end = name->pos + static_cast<int>(name->val.size());
  }
  if (Peek().type == Tok::kLeftBrace) {
    Token lb = Take();
    if (name == nullptr) start = lb.pos;
    if (!ParseLabelMatchers(&vs.matchers, &end)) return nullptr;
  }
  if (name != nullptr) {
    auto m = model::Matcher::Create(model::MatchType::kEqual,
                                    model::kMetricName, vs.name);
    if (!m.ok()) {
      AddError(start, std::string(m.status().message()));
      return nullptr;
    }
    vs.matchers.push_back(*std::move(m));
  }
  return MakeExpr(std::move(vs), start, end);
}

bool Parser::ParseLabelMatchers(std::vector<model::Matcher>* out, int* end) {
  if (Peek().type == Tok::kRightBrace) {
    *end = Take().pos + 1;
    return true;
  }
  for (;;) {
    if (Peek().type != Tok::kIdentifier) {
      Unexpected(Peek(), "label matching", "identifier or \"}\"");
      return false;
    }
    Token id = Take();
    Tok op = Peek().type;
    model::MatchType type;
    switch (op) {
      case Tok::kEql:
        type = model::MatchType::kEqual;
        break;
      case Tok::kNeq:
        type = model::MatchType::kNotEqual;
        break;
      case Tok::kEqlRegex:
        type = model::MatchType::kRegexMatch;
        break;
      case Tok::kNeqRegex:
        type = model::MatchType::kRegexNoMatch;
        break;
      default:
        Unexpected(Peek(), "label matching", "label matching operator");
        return false;
    }
    Take();
    if (Peek().type != Tok::kString) {
      Unexpected(Peek(), "label matching", "string");
      return false;
    }
    Token val = Take();
    std::string value = Unquote(val.val);
    if (type == model::MatchType::kRegexMatch ||
        type == model::MatchType::kRegexNoMatch) {
      std::string err = RegexError(value);
      if (!err.empty()) {
        AddError(id.pos, err);
        return false;
      }
    }
    auto m = model::Matcher::Create(type, id.val, value);
    if (!m.ok()) {
      AddError(id.pos, std::string(m.status().message()));
      return false;
    }
    out->push_back(*std::move(m));
    Tok next = Peek().type;
    if (next == Tok::kComma) {
      Take();
      if (Peek().type == Tok::kRightBrace) {
        *end = Take().pos + 1;
        return true;
      }
      continue;
    }
    if (next == Tok::kRightBrace) {
      *end = Take().pos + 1;
      return true;
    }
    Unexpected(Peek(), "label matching", "\",\" or \"}\"");
    return false;
  }
}

bool Parser::ParseGroupingLabels(std::vector<std::string>* out) {
  out->clear();
  if (Peek().type != Tok::kLeftParen) {
    Unexpected(Peek(), "grouping opts", "\"(\"");
    return false;
  }
  Take();
  if (Peek().type == Tok::kRightParen) {
    Take();
    return true;
  }
  for (;;) {
    const Token& l = Peek();
    if (!IsMaybeLabelTok(l.type) || !IsLabelName(l.val)) {
      Unexpected(l, "grouping opts", "label");
      return false;
    }
    out->push_back(Take().val);
    Tok next = Peek().type;
    if (next == Tok::kComma) {
      Take();
      if (Peek().type == Tok::kRightParen) {
        Take();
        return true;
      }
      continue;
    }
    if (next == Tok::kRightParen) {
      Take();
      return true;
    }
    Unexpected(Peek(), "grouping opts", "\",\" or \")\"");
    return false;
  }
}

bool Parser::ParseArgs(std::vector<ExprPtr>* args) {
  // The "(" has been taken.
  if (Peek().type == Tok::kRightParen) {
    Take();
    return true;
  }
  for (;;) {
    ExprPtr e = ParseExpr(0);
    if (e == nullptr) return false;
    args->push_back(std::move(e));
    Tok next = Peek().type;
    if (next == Tok::kComma) {
      Token comma = Take();
      if (Peek().type == Tok::kRightParen) {
        AddError(comma.pos,
                 "trailing commas not allowed in function call args");
        return false;
      }
      continue;
    }
    if (next == Tok::kRightParen) {
      Take();
      return true;
    }
    UnexpectedHere(Peek());
    return false;
  }
}

ExprPtr Parser::ParseCall() {
  Token id = Take();
  Take();  // "("
  Call call;
  if (!ParseArgs(&call.args)) return nullptr;
  call.func = LookupFunction(id.val);
  if (call.func == nullptr) {
    AddError(id.pos,
             absl::StrCat("unknown function with name ", GoQuote(id.val)));
    return nullptr;
  }
  return MakeExpr(std::move(call), id.pos, last_closing_);
}

ExprPtr Parser::ParseAggregate() {
  Token op = Take();
  AggregateExpr agg;
  agg.op = ToAggregateOp(op.type);
  ++agg_depth_;
  auto grouping = [&]() {
    agg.without = Take().type == Tok::kWithout;
    agg.has_grouping = true;
    return ParseGroupingLabels(&agg.grouping);
  };
  if ((Peek().type == Tok::kBy || Peek().type == Tok::kWithout) && !grouping())
    return nullptr;
  if (Peek().type != Tok::kLeftParen) {
    UnexpectedHere(Peek());
    return nullptr;
  }
  Take();
  std::vector<ExprPtr> args;
  if (!ParseArgs(&args)) return nullptr;
  --agg_depth_;
  if (!agg.has_grouping &&
      (Peek().type == Tok::kBy || Peek().type == Tok::kWithout) &&
      !grouping()) {
    return nullptr;
  }
  if (args.empty()) {
    AddError(op.pos, "no arguments for aggregate expression provided");
    return nullptr;
  }
  size_t want = AggregateHasParam(agg.op) ? 2 : 1;
  if (args.size() != want) {
    AddError(op.pos,
             absl::StrCat("wrong number of arguments for aggregate expression "
                          "provided, expected ",
                          want, ", got ", args.size()));
    return nullptr;
  }
  if (want == 2) agg.param = std::move(args[0]);
  agg.expr = std::move(args[want - 1]);
  return MakeExpr(std::move(agg), op.pos, last_closing_);
}

bool Parser::ParseDurationTok(const Token& t, int64_t* ms) {
  auto d = ParseModelDuration(t.val);
  if (!d.ok()) {
    AddError(t.pos, std::string(d.status().message()));
    return false;
  }
  if (*d == 0) {
    AddError(t.pos, "duration must be greater than 0");
    return false;
  }
  *ms = *d;
  return true;
}

void Parser::AddOffset(Expr& e, int64_t offset) {
  int64_t* target = nullptr;
  if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
    target = &vs->offset_ms;
  } else if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    target = &std::get<VectorSelector>(ms->vector_selector->node).offset_ms;
  } else if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    target = &sq->offset_ms;
  } else {
    AddError(e.pos.start,
             "offset modifier must be preceded by an instant vector selector "
             "or range vector "
             "selector or a subquery");
    return;
  }
  if (*target != 0) {
    AddError(e.pos.start, "offset may not be set multiple times");
    return;
  }
  *target = offset;
  e.pos.end = last_closing_;
}

AtModifier* Parser::AtTarget(Expr& e) {
  AtModifier* at = nullptr;
  if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
    at = &vs->at;
  } else if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    at = &std::get<VectorSelector>(ms->vector_selector->node).at;
  } else if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    at = &sq->at;
  } else {
    AddError(e.pos.start,
             "@ modifier must be preceded by an instant vector selector or "
             "range vector "
             "selector or a subquery");
    return nullptr;
  }
  if (at->kind != AtModifier::Kind::kNone) {
    AddError(e.pos.start, "@ <timestamp> may not be set multiple times");
    return nullptr;
  }
  return at;
}

ExprPtr Parser::ParsePostfix(ExprPtr e) {
  for (;;) {
    switch (Peek().type) {
      case Tok::kLeftBracket: {
        Token lb = Take();
        if (Peek().type != Tok::kDuration) {
          Unexpected(Peek(), "subquery selector", "duration");
          return nullptr;
        }
        int64_t range = 0;
        if (!ParseDurationTok(Take(), &range)) return nullptr;
        if (Peek().type == Tok::kRightBracket) {
          Take();
          const char* err = nullptr;
          auto* vs = std::get_if<VectorSelector>(&e->node);
          if (vs == nullptr) {
            err = "ranges only allowed for vector selectors";
          } else if (vs->offset_ms != 0) {
            err = "no offset modifiers allowed before range";
          } else if (vs->at.kind == AtModifier::Kind::kTimestamp) {
            // Prometheus 2.42 checks only the timestamp: `x @ end() [5m]` is
            // allowed.
            err = "no @ modifiers allowed before range";
          }
          if (err != nullptr) {
            AddError(lb.pos, err);
            return nullptr;
          }
          int start = e->pos.start;
          e = MakeExpr(MatrixSelector{std::move(e), range}, start,
                       last_closing_);
          continue;
        }
        if (Peek().type != Tok::kColon) {
          Unexpected(Peek(), "subquery or range", "\":\" or \"]\"");
          return nullptr;
        }
        Take();
        int64_t step = 0;
        if (Peek().type == Tok::kDuration) {
          if (!ParseDurationTok(Take(), &step)) return nullptr;
          if (Peek().type != Tok::kRightBracket) {
            Unexpected(Peek(), "subquery selector", "\"]\"");
            return nullptr;
          }
        } else if (Peek().type != Tok::kRightBracket) {
          Unexpected(Peek(), "subquery selector", "duration or \"]\"");
          return nullptr;
        }
        Token rb = Take();
        SubqueryExpr sq;
        sq.range_ms = range;
        sq.step_ms = step;
        int start = e->pos.start;
        sq.expr = std::move(e);
        e = MakeExpr(std::move(sq), start, rb.pos + 1);
        continue;
      }
      case Tok::kOffset: {
        Take();
        bool negative = false;
        if (Peek().type == Tok::kSub) {
          Take();
          negative = true;
        }
        if (Peek().type != Tok::kDuration) {
          Unexpected(Peek(), "offset", "duration");
          return nullptr;
        }
        int64_t d = 0;
        if (!ParseDurationTok(Take(), &d)) return nullptr;
        AddOffset(*e, negative ? -d : d);
        if (failed()) return nullptr;
        continue;
      }
      case Tok::kAt: {
        Take();
        Tok t = Peek().type;
        if (t == Tok::kStart || t == Tok::kEnd) {
          Take();
          if (Peek().type != Tok::kLeftParen) {
            Unexpected(Peek(), "@", "timestamp");
            return nullptr;
          }
          Take();
          if (Peek().type != Tok::kRightParen) {
            Unexpected(Peek(), "@", "timestamp");
            return nullptr;
          }
          Take();
          AtModifier* at = AtTarget(*e);
          if (at == nullptr) return nullptr;
          at->kind = t == Tok::kStart ? AtModifier::Kind::kStart
                                      : AtModifier::Kind::kEnd;
          e->pos.end = last_closing_;
          continue;
        }
        bool negative = false;
        if (t == Tok::kAdd || t == Tok::kSub) {
          negative = Take().type == Tok::kSub;
        }
        if (Peek().type != Tok::kNumber) {
          Unexpected(Peek(), "@", "timestamp");
          return nullptr;
        }
        double ts = 0;
        if (!Number(Take(), &ts)) return nullptr;
        if (negative) ts = -ts;
        if (std::isinf(ts) || std::isnan(ts) ||
            ts >= static_cast<double>(std::numeric_limits<int64_t>::max()) ||
            ts <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
          AddError(e->pos.start,
                   absl::StrFormat("timestamp out of bounds for @ modifier: %f",
                                   ts));
          return nullptr;
        }
        AtModifier* at = AtTarget(*e);
        if (at == nullptr) return nullptr;
        at->kind = AtModifier::Kind::kTimestamp;
        at->timestamp_ms = static_cast<int64_t>(std::round(ts * 1000.0));
        e->pos.end = last_closing_;
        continue;
      }
      default:
        return e;
    }
  }
}

int Parser::OpStart(const Expr& lhs) const {
  int r = lhs.pos.end;
  while (r < static_cast<int>(input_.size()) &&
         (input_[r] == ' ' || input_[r] == '\t' || input_[r] == '\n' ||
          input_[r] == '\r')) {
    ++r;
  }
  return r;
}

void Parser::ExpectType(Expr& e, ValueType want, absl::string_view context) {
  ValueType t = Check(e);
  if (t != want) {
    AddError(e.pos.start,
             absl::StrCat("expected type ", ValueTypeName(want), " in ",
                          context, ", got ", ValueTypeName(t)));
  }
}

// Prometheus's checkAST: type checks after a successful parse.
ValueType Parser::Check(Expr& e) {
  ValueType type = TypeOf(e);
  if (auto* agg = std::get_if<AggregateExpr>(&e.node)) {
    ExpectType(*agg->expr, ValueType::kVector, "aggregation expression");
    if (agg->op == AggregateOp::kTopk || agg->op == AggregateOp::kBottomk ||
        agg->op == AggregateOp::kQuantile) {
      ExpectType(*agg->param, ValueType::kScalar, "aggregation parameter");
    }
    if (agg->op == AggregateOp::kCountValues) {
      ExpectType(*agg->param, ValueType::kString, "aggregation parameter");
    }
  } else if (auto* b = std::get_if<BinaryExpr>(&e.node)) {
    ValueType lt = Check(*b->lhs);
    ValueType rt = Check(*b->rhs);
    if (b->return_bool && !IsComparison(b->op)) {
      AddError(OpStart(*b->lhs),
               "bool modifier can only be used on comparison operators");
    }
    if (IsComparison(b->op) && !b->return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      AddError(OpStart(*b->lhs),
               "comparisons between scalars must use BOOL modifier");
    }
    VectorMatching& vm = *b->matching;
    if (IsSetOperator(b->op) && vm.card == VectorMatching::Card::kOneToOne) {
      vm.card = VectorMatching::Card::kManyToMany;
    }
    for (const std::string& l1 : vm.matching_labels) {
      for (const std::string& l2 : vm.include) {
        if (l1 == l2 && vm.on) {
          AddError(
              OpStart(*b->lhs),
              absl::StrCat("label ", GoQuote(l1),
                           " must not occur in ON and GROUP clause at once"));
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      AddError(b->lhs->pos.start,
               "binary expression must contain only scalar and instant vector "
               "types");
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      AddError(b->rhs->pos.start,
               "binary expression must contain only scalar and instant vector "
               "types");
    }
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!vm.matching_labels.empty()) {
        AddError(e.pos.start,
                 "vector matching only allowed between instant vectors");
      }
      b->matching.reset();
    } else if (IsSetOperator(b->op)) {
      if (vm.card == VectorMatching::Card::kOneToMany ||
          vm.card == VectorMatching::Card::kManyToOne) {
        AddError(e.pos.start,
                 absl::StrCat("no grouping allowed for ",
                              GoQuote(BinaryOpName(b->op)), " operation"));
      }
      if (vm.card != VectorMatching::Card::kManyToMany) {
        AddError(e.pos.start, "set operations must always be many-to-many");
      }
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) &&
        IsSetOperator(b->op)) {
      AddError(e.pos.start,
               absl::StrCat("set operator ", GoQuote(BinaryOpName(b->op)),
                            " not allowed in binary scalar expression"));
    }
  } else if (auto* c = std::get_if<Call>(&e.node)) {
    const FunctionInfo& f = *c->func;
    int nargs = static_cast<int>(f.arg_types.size());
    int got = static_cast<int>(c->args.size());
    std::string name = GoQuote(std::string(f.name));
    if (f.variadic == 0) {
      if (nargs != got) {
        AddError(e.pos.start,
                 absl::StrCat("expected ", nargs, " argument(s) in call to ",
                              name, ", got ", got));
      }
    } else {
      int na = nargs - 1;
      if (na > got) {
        AddError(e.pos.start,
                 absl::StrCat("expected at least ", na,
                              " argument(s) in call to ", name, ", got ", got));
      } else if (f.variadic > 0 && na + f.variadic < got) {
        AddError(e.pos.start,
                 absl::StrCat("expected at most ", na + f.variadic,
                              " argument(s) in call to ", name, ", got ", got));
      }
    }
    for (int i = 0; i < got; ++i) {
      int idx = i;
      if (i >= nargs) {
        if (f.variadic == 0) break;
        idx = nargs - 1;
      }
      ExpectType(*c->args[i], f.arg_types[idx],
                 absl::StrCat("call to function ", name));
    }
  } else if (auto* p = std::get_if<ParenExpr>(&e.node)) {
    Check(*p->expr);
  } else if (auto* u = std::get_if<UnaryExpr>(&e.node)) {
    ValueType t = Check(*u->expr);
    if (t != ValueType::kScalar && t != ValueType::kVector) {
      AddError(
          e.pos.start,
          absl::StrCat("unary expression only allowed on expressions of type "
                       "scalar or instant vector, got ",
                       GoQuote(ValueTypeName(t))));
    }
  } else if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    ValueType t = Check(*sq->expr);
    if (t != ValueType::kVector) {
      const char* go_name = t == ValueType::kMatrix   ? "matrix"
                            : t == ValueType::kScalar ? "scalar"
                            : t == ValueType::kString ? "string"
                                                      : "none";
      AddError(e.pos.start,
               absl::StrCat("subquery is only allowed on instant vector, got ",
                            go_name, " instead"));
    }
  } else if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    Check(*ms->vector_selector);
  } else if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
    if (!vs->name.empty()) {
      for (size_t i = 0; i + 1 < vs->matchers.size(); ++i) {
        if (vs->matchers[i].name() == model::kMetricName) {
          AddError(e.pos.start,
                   absl::StrCat(
                       "metric name must not be set twice: ", GoQuote(vs->name),
                       " or ", GoQuote(vs->matchers[i].value())));
        }
      }
    } else {
      bool not_empty = false;
      for (const model::Matcher& m : vs->matchers) {
        if (!m.Matches("")) {
          not_empty = true;
          break;
        }
      }
      if (!not_empty) {
        AddError(e.pos.start,
                 "vector selector must contain at least one non-empty matcher");
      }
    }
  }
  return type;
}

absl::StatusOr<std::vector<model::Matcher>> Parser::ParseSelectorTop() {
  ExprPtr e;
  const Token& t = Peek();
  if (t.type == Tok::kLeftBrace) {
    e = ParseVectorSelector(nullptr);
  } else if (IsMetricIdentifierTok(t.type)) {
    Token name = Take();
    e = ParseVectorSelector(&name);
  } else {
    Unexpected(t, "", "");
  }
  if (e != nullptr && !failed() && Peek().type != Tok::kEOF)
    Unexpected(Peek(), "", "");
  // No type checks, as Prometheus's ParseMetricSelector: a selector of
  // only empty matchers is the caller's to refuse.
  if (failed()) return status();
  return std::move(std::get<VectorSelector>(e->node).matchers);
}

absl::StatusOr<SeriesDesc> Parser::ParseSeriesTop() {
  SeriesDesc desc;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string name;
  bool has_name = false;
  if (IsMetricIdentifierTok(Peek().type)) {
    name = Take().val;
    has_name = true;
  }
  if (Peek().type == Tok::kLeftBrace) {
    Take();
    while (!failed() && Peek().type != Tok::kRightBrace) {
      if (Peek().type != Tok::kIdentifier) {
        Unexpected(Peek(), "label set", "identifier or \"}\"");
        break;
      }
      std::string label = Take().val;
      if (Peek().type != Tok::kEql) {
        Unexpected(Peek(), "label set", "\"=\"");
        break;
      }
      Take();
      if (Peek().type != Tok::kString) {
        Unexpected(Peek(), "label set", "string");
        break;
      }
      pairs.emplace_back(label, Unquote(Take().val));
      if (Peek().type == Tok::kComma) {
        Take();
      } else if (Peek().type != Tok::kRightBrace) {
        Unexpected(Peek(), "label set", "\",\" or \"}\"");
        break;
      }
    }
    if (!failed()) Take();
  }
  if (failed()) return status();
  if (has_name) {
    std::erase_if(pairs,
                  [](const auto& p) { return p.first == model::kMetricName; });
    pairs.emplace_back(std::string(model::kMetricName), name);
  }
  std::vector<std::pair<absl::string_view, absl::string_view>> views(
      pairs.begin(), pairs.end());
  desc.labels = model::Labels::FromPairs(views);

  auto value = [&](double* v) {
    Tok t = Peek().type;
    if (t == Tok::kIdentifier) {
      Token id = Take();
      if (id.val != "stale") {
        Unexpected(id, "series values", "number or \"stale\"");
        return false;
      }
      *v = model::StaleNaN();
      return true;
    }
    bool negative = false;
    if (t == Tok::kAdd || t == Tok::kSub) negative = Take().type == Tok::kSub;
    if (Peek().type != Tok::kNumber) {
      Unexpected(Peek(), "series values", "number or \"stale\"");
      return false;
    }
    if (!Number(Take(), v)) return false;
    if (negative) *v = -*v;
    return true;
  };
  auto repetitions = [&](uint64_t* n) {
    if (Peek().type != Tok::kNumber) {
      Unexpected(Peek(), "series values", "number");
      return false;
    }
    Token t = Take();
    if (!absl::SimpleAtoi(t.val, n)) {
      AddError(t.pos,
               absl::StrCat(
                   "invalid repetition in series values: strconv.ParseUint: "
                   "parsing ",
                   GoQuote(t.val), ": invalid syntax"));
      return false;
    }
    return true;
  };
  constexpr uint64_t kMaxValues = 1 << 24;  // Bounds memory on hostile input.
  while (!failed() && Peek().type == Tok::kSpace) {
    Take();
    Tok t = Peek().type;
    if (t == Tok::kEOF) break;
    if (t == Tok::kBlank) {
      Take();
      uint64_t n = 1;
      if (Peek().type == Tok::kTimes) {
        Take();
        if (!repetitions(&n)) break;
      }
      if (n > kMaxValues) {
        AddError(0, "too many values in series description");
        break;
      }
      for (uint64_t i = 0; i < n; ++i)
        desc.values.push_back(SequenceValue{0, true});
      continue;
    }
    double v = 0;
    if (!value(&v)) break;
    Tok next = Peek().type;
    if (next == Tok::kTimes || next == Tok::kAdd || next == Tok::kSub) {
      double step = 0;
      if (next != Tok::kTimes) {
        bool negative = Take().type == Tok::kSub;
        if (Peek().type != Tok::kNumber) {
          Unexpected(Peek(), "series values", "number");
          break;
        }
        if (!Number(Take(), &step)) break;
        if (negative) step = -step;
      }
      if (Peek().type != Tok::kTimes) {
        Unexpected(Peek(), "series values", "\"x\"");
        break;
      }
      Take();
      uint64_t n = 0;
      if (!repetitions(&n)) break;
      if (n >= kMaxValues) {
        AddError(0, "too many values in series description");
        break;
      }
      for (uint64_t i = 0; i <= n; ++i) {
        desc.values.push_back(SequenceValue{v, false});
        v += step;
      }
      continue;
    }
    desc.values.push_back(SequenceValue{v, false});
  }
  if (!failed() && Peek().type != Tok::kEOF)
    Unexpected(Peek(), "series values", "");
  if (failed()) return status();
  return desc;
}

}  // namespace

absl::StatusOr<ExprPtr> ParseExpr(absl::string_view query) {
  Parser p(query, false);
  ExprPtr e = p.ParseTop();
  if (p.failed()) return p.status();
  return e;
}

absl::StatusOr<std::vector<model::Matcher>> ParseMetricSelector(
    absl::string_view selector) {
  Parser p(selector, false);
  return p.ParseSelectorTop();
}

absl::StatusOr<SeriesDesc> ParseSeriesDesc(absl::string_view input) {
  Parser p(input, true);
  return p.ParseSeriesTop();
}

absl::StatusOr<int64_t> ParseDurationMs(absl::string_view d) {
  return ParseModelDuration(d);
}

}  // namespace vigil::promql
