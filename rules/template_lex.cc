// The text/template lexer: text, {{ }} actions with their trim markers,
// comments, and the tokens inside actions.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rules/template_parse.h"
#include "rules/template_strconv.h"

namespace vigil::rules::tmpl {
namespace {

constexpr absl::string_view kLeftDelim = "{{";
constexpr absl::string_view kRightDelim = "}}";
constexpr absl::string_view kLeftComment = "/*";
constexpr absl::string_view kRightComment = "*/";
constexpr size_t kTrimMarkerLen = 2;  // "- " or " -".

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// "- " after a left delimiter.
bool HasLeftTrimMarker(absl::string_view s) {
  return s.size() >= 2 && s[0] == '-' && IsSpace(s[1]);
}

// " -" before a right delimiter.
bool HasRightTrimMarker(absl::string_view s) {
  return s.size() >= 2 && IsSpace(s[0]) && s[1] == '-';
}

Tok Keyword(absl::string_view word) {
  static constexpr struct {
    absl::string_view word;
    Tok tok;
  } kKeywords[] = {
      {"block", Tok::kBlock},
      {"break", Tok::kBreak},
      {"continue", Tok::kContinue},
      {"define", Tok::kDefine},
      {"else", Tok::kElse},
      {"end", Tok::kEnd},
      {"if", Tok::kIf},
      {"nil", Tok::kNil},
      {"range", Tok::kRange},
      {"template", Tok::kTemplate},
      {"with", Tok::kWith},
  };
  for (const auto& k : kKeywords) {
    if (k.word == word) return k.tok;
  }
  return Tok::kIdentifier;
}

class Lexer {
 public:
  explicit Lexer(absl::string_view in) : in_(in) {}

  std::vector<Token> Run() {
    bool ok = true;
    while (ok) ok = LexText() && LexInsideAction();
    return std::move(tokens_);
  }

 private:
  // Emits in_[start_, pos_) as a token of type `t`.
  void Emit(Tok t) {
    tokens_.push_back(
        Token{t, start_, LineAt(start_), std::string(in_.substr(start_, pos_ - start_))});
    start_ = pos_;
  }

  // Emits an error token at start_; always false (lexing stops).
  bool Error(std::string msg) {
    tokens_.push_back(Token{Tok::kError, start_, LineAt(start_), std::move(msg)});
    return false;
  }

  int LineAt(size_t pos) {
    // Tokens start at non-decreasing offsets: count on from the last one.
    if (pos < line_pos_) {
      line_pos_ = 0;
      line_ = 1;
    }
    for (; line_pos_ < pos && line_pos_ < in_.size(); ++line_pos_) {
      if (in_[line_pos_] == '\n') ++line_;
    }
    return line_;
  }

  bool AtEnd() const { return pos_ >= in_.size(); }

  // The rune at pos_ (0 at the end) and its length.
  uint32_t PeekRune(size_t* len) const {
    if (AtEnd()) {
      *len = 0;
      return 0;
    }
    uint32_t r;
    *len = DecodeRune(in_, pos_, &r);
    return r;
  }

  bool Accept(absl::string_view valid) {
    if (!AtEnd() && valid.find(in_[pos_]) != absl::string_view::npos) {
      ++pos_;
      return true;
    }
    return false;
  }

  void AcceptRun(absl::string_view valid) {
    while (Accept(valid)) {
    }
  }

  // At "}}" or " -}}"; *trim tells which.
  bool AtRightDelim(bool* trim) const {
    const absl::string_view rest = in_.substr(pos_);
    if (HasRightTrimMarker(rest) && absl::StartsWith(rest.substr(kTrimMarkerLen), kRightDelim)) {
      *trim = true;
      return true;
    }
    *trim = false;
    return absl::StartsWith(rest, kRightDelim);
  }

  // Whether the next rune may follow an identifier, field or variable.
  bool AtTerminator() const {
    if (AtEnd()) return true;
    const char c = in_[pos_];
    if (IsSpace(c)) return true;
    switch (c) {
      case '.':
      case ',':
      case '|':
      case ':':
      case ')':
      case '(':
        return true;
      default:
        return absl::StartsWith(in_.substr(pos_), kRightDelim);
    }
  }

  // Text up to the next action; false when lexing is over.
  bool LexText() {
    const size_t x = in_.find(kLeftDelim, pos_);
    if (x == absl::string_view::npos) {
      pos_ = in_.size();
      if (pos_ > start_) Emit(Tok::kText);
      Emit(Tok::kEOF);
      return false;
    }
    size_t text_end = x;
    if (HasLeftTrimMarker(in_.substr(x + kLeftDelim.size()))) {
      while (text_end > start_ && IsSpace(in_[text_end - 1])) --text_end;
    }
    pos_ = text_end;
    if (pos_ > start_) Emit(Tok::kText);
    pos_ = start_ = x;
    return LexLeftDelim();
  }

  // At "{{": a comment or the start of an action.
  bool LexLeftDelim() {
    pos_ += kLeftDelim.size();
    const size_t after_marker = HasLeftTrimMarker(in_.substr(pos_)) ? kTrimMarkerLen : 0;
    if (absl::StartsWith(in_.substr(pos_ + after_marker), kLeftComment)) {
      pos_ += after_marker;
      start_ = pos_;
      return LexComment();
    }
    Emit(Tok::kLeftDelim);
    pos_ += after_marker;
    start_ = pos_;
    paren_depth_ = 0;
    return true;
  }

  // At "/*"; comments produce no token.
  bool LexComment() {
    pos_ += kLeftComment.size();
    const size_t x = in_.find(kRightComment, pos_);
    if (x == absl::string_view::npos) return Error("unclosed comment");
    pos_ = x + kRightComment.size();
    bool trim;
    if (!AtRightDelim(&trim)) return Error("comment ends before closing delimiter");
    if (trim) pos_ += kTrimMarkerLen;
    pos_ += kRightDelim.size();
    if (trim) SkipLeadingSpace();
    start_ = pos_;
    return LexText();
  }

  void SkipLeadingSpace() {
    while (!AtEnd() && IsSpace(in_[pos_])) ++pos_;
  }

  // At "}}" or " -}}".
  void LexRightDelim() {
    bool trim;
    AtRightDelim(&trim);
    if (trim) {
      pos_ += kTrimMarkerLen;
      start_ = pos_;
    }
    pos_ += kRightDelim.size();
    Emit(Tok::kRightDelim);
    if (trim) {
      SkipLeadingSpace();
      start_ = pos_;
    }
  }

  // Tokens inside an action, up to its right delimiter; false on error.
  bool LexInsideAction() {
    for (;;) {
      bool trim;
      if (AtRightDelim(&trim)) {
        if (paren_depth_ != 0) return Error("unclosed left paren");
        LexRightDelim();
        return true;
      }
      if (AtEnd()) return Error("unclosed action");
      size_t len;
      const uint32_t r = PeekRune(&len);
      if (r < 0x80 && IsSpace(static_cast<char>(r))) {
        LexSpace();
        continue;
      }
      pos_ += len;
      bool ok = true;
      switch (r) {
        case '=':
          Emit(Tok::kAssign);
          break;
        case ':':
          if (AtEnd() || in_[pos_] != '=') return Error("expected :=");
          ++pos_;
          Emit(Tok::kDeclare);
          break;
        case '|':
          Emit(Tok::kPipe);
          break;
        case '"':
          ok = LexQuote('"', Tok::kString, "unterminated quoted string");
          break;
        case '\'':
          ok = LexQuote('\'', Tok::kCharConstant, "unterminated character constant");
          break;
        case '`':
          ok = LexRawQuote();
          break;
        case '$':
          ok = LexFieldOrVariable(Tok::kVariable);
          break;
        case '(':
          Emit(Tok::kLeftParen);
          ++paren_depth_;
          break;
        case ')':
          Emit(Tok::kRightParen);
          if (--paren_depth_ < 0) return Error("unexpected right paren " + DescribeRune(r));
          break;
        case '.':
          if (!AtEnd() && (in_[pos_] < '0' || in_[pos_] > '9')) {
            ok = LexFieldOrVariable(Tok::kField);
            break;
          }
          [[fallthrough]];  // ".5" is a number.
        default:
          if (r == '.' || r == '+' || r == '-' || (r >= '0' && r <= '9')) {
            pos_ -= len;
            ok = LexNumber();
          } else if (IsAlphaNumericRune(r)) {
            pos_ -= len;
            ok = LexIdentifier();
          } else if (r < 0x80 && IsPrintRune(r)) {
            Emit(Tok::kChar);
          } else {
            return Error("unrecognized character in action: " + DescribeRune(r));
          }
      }
      if (!ok) return false;
    }
  }

  // A run of spaces; a single space before "-}}" belongs to the delimiter.
  void LexSpace() {
    size_t n = 0;
    while (!AtEnd() && IsSpace(in_[pos_])) {
      ++pos_;
      ++n;
    }
    const absl::string_view last = in_.substr(pos_ - 1);
    if (HasRightTrimMarker(last) && absl::StartsWith(last.substr(kTrimMarkerLen), kRightDelim)) {
      --pos_;
      if (n == 1) return;  // Only the marker's space: no token.
    }
    Emit(Tok::kSpace);
  }

  bool LexQuote(char quote, Tok tok, const char* unterminated) {
    for (;;) {
      if (AtEnd()) return Error(unterminated);
      const char c = in_[pos_++];
      if (c == '\\') {
        if (AtEnd() || in_[pos_] == '\n') return Error(unterminated);
        ++pos_;
      } else if (c == '\n') {
        return Error(unterminated);
      } else if (c == quote) {
        break;
      }
    }
    Emit(tok);
    return true;
  }

  bool LexRawQuote() {
    const size_t x = in_.find('`', pos_);
    if (x == absl::string_view::npos) return Error("unterminated raw quoted string");
    pos_ = x + 1;
    Emit(Tok::kRawString);
    return true;
  }

  // After '$' or '.': a variable or field name, or '$' or '.' alone.
  bool LexFieldOrVariable(Tok tok) {
    if (AtTerminator()) {
      Emit(tok == Tok::kVariable ? Tok::kVariable : Tok::kDot);
      return true;
    }
    uint32_t r = 0;
    for (;;) {
      size_t len;
      r = PeekRune(&len);
      if (len == 0 || !IsAlphaNumericRune(r)) break;
      pos_ += len;
    }
    if (!AtTerminator()) return Error("bad character " + DescribeRune(r));
    Emit(tok);
    return true;
  }

  bool LexIdentifier() {
    uint32_t r = 0;
    for (;;) {
      size_t len;
      r = PeekRune(&len);
      if (len == 0 || !IsAlphaNumericRune(r)) break;
      pos_ += len;
    }
    if (!AtTerminator()) return Error("bad character " + DescribeRune(r));
    const absl::string_view word = in_.substr(start_, pos_ - start_);
    const Tok k = Keyword(word);
    if (k != Tok::kIdentifier) {
      Emit(k);
    } else if (word == "true" || word == "false") {
      Emit(Tok::kBool);
    } else {
      Emit(Tok::kIdentifier);
    }
    return true;
  }

  // Scans a number's characters; false when a letter or digit follows.
  bool ScanNumber() {
    Accept("+-");
    absl::string_view digits = "0123456789_";
    if (Accept("0")) {
      if (Accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (Accept("oO")) {
        digits = "01234567_";
      } else if (Accept("bB")) {
        digits = "01_";
      }
    }
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (digits.size() == 11 && Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    if (digits.size() == 23 && Accept("pP")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    Accept("i");
    size_t len;
    const uint32_t r = PeekRune(&len);
    if (len > 0 && IsAlphaNumericRune(r)) {
      pos_ += len;
      return false;
    }
    return true;
  }

  bool LexNumber() {
    auto bad = [&] {
      return Error("bad number syntax: " + GoQuote(in_.substr(start_, pos_ - start_), false));
    };
    if (!ScanNumber()) return bad();
    if (!AtEnd() && (in_[pos_] == '+' || in_[pos_] == '-')) {
      // A complex number: 1+2i.
      if (!ScanNumber() || in_[pos_ - 1] != 'i') return bad();
      Emit(Tok::kComplex);
      return true;
    }
    Emit(Tok::kNumber);
    return true;
  }

  const absl::string_view in_;
  size_t pos_ = 0;
  size_t start_ = 0;
  int paren_depth_ = 0;
  size_t line_pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> Lex(absl::string_view text) { return Lexer(text).Run(); }

}  // namespace vigil::rules::tmpl
