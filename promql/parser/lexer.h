// The PromQL lexer (private to the parser): the token stream Prometheus
// 2.42's lexer produces, with the same error messages, including its
// quirks (inside `[...]` any letter lexes as ":"; hex only outside series
// descriptions).
#ifndef VIGIL_PROMQL_PARSER_LEXER_H_
#define VIGIL_PROMQL_PARSER_LEXER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace vigil::promql {

enum class Tok : uint8_t {
  kEOF,
  kError,
  kComment,
  kIdentifier,
  kMetricIdentifier,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kEql,
  kColon,
  kNumber,
  kString,
  kDuration,
  kBlank,
  kTimes,
  kSpace,
  // Operators.
  kAdd,
  kDiv,
  kEqlc,
  kEqlRegex,
  kGte,
  kGtr,
  kLand,
  kLor,
  kLss,
  kLte,
  kLunless,
  kMod,
  kMul,
  kNeq,
  kNeqRegex,
  kPow,
  kSub,
  kAt,
  kAtan2,
  // Aggregators.
  kAvg,
  kBottomk,
  kCount,
  kCountValues,
  kGroup,
  kMax,
  kMin,
  kQuantile,
  kStddev,
  kStdvar,
  kSum,
  kTopk,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  // Preprocessors.
  kStart,
  kEnd,
};

inline bool IsOperatorTok(Tok t) { return t >= Tok::kAdd && t <= Tok::kAtan2; }
inline bool IsAggregatorTok(Tok t) { return t >= Tok::kAvg && t <= Tok::kTopk; }
inline bool IsKeywordTok(Tok t) {
  return t >= Tok::kBool && t <= Tok::kWithout;
}

struct Token {
  Tok type = Tok::kEOF;
  int pos = 0;      // Byte offset of the first character.
  std::string val;  // The text; for kError the message.
};

// How Prometheus names a token in "unexpected ..." errors (Item.desc()).
std::string TokenDesc(const Token& t);

// Go's %q of a rune ('a', '\n', '$').
std::string QuoteRune(int32_t r);

// Produces tokens one at a time. After kEOF or kError, returns kEOF.
class Lexer {
 public:
  Lexer(absl::string_view input, bool series_desc)
      : input_(input), series_desc_(series_desc) {}
  Lexer(const Lexer&) = delete;
  Lexer& operator=(const Lexer&) = delete;

  Token Next();

 private:
  enum class State {
    kStatements,
    kInsideBraces,
    kValueSequence,
    kDuration,
    kDone
  };
  static constexpr int32_t kEof = -1;

  int32_t NextRune();
  int32_t PeekRune();
  void Backup() { pos_ -= width_; }
  bool Accept(absl::string_view valid);
  void AcceptRun(absl::string_view valid);
  Token Emit(Tok t);
  Token Errorf(std::string msg);
  void SkipSpaces();
  bool ScanNumber();
  bool AcceptRemainingDuration();

  // Each returns true when it produced *out.
  bool LexStatements(Token* out);
  bool LexInsideBraces(Token* out);
  bool LexValueSequence(Token* out);
  Token LexDuration();
  Token LexString(int32_t quote);
  Token LexRawString();
  bool LexEscape(int32_t quote, Token* err);
  Token LexKeywordOrIdentifier();
  Token LexLineComment();

  absl::string_view input_;
  bool series_desc_;
  State state_ = State::kStatements;
  int start_ = 0;
  int pos_ = 0;
  int width_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
};

}  // namespace vigil::promql

#endif  // VIGIL_PROMQL_PARSER_LEXER_H_
