#include "promql/parser/lexer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/goformat.h"

namespace vigil::promql {
namespace {

constexpr int32_t kRuneError = 0xFFFD;

struct Keyword {
  absl::string_view word;
  Tok tok;
};
constexpr Keyword kKeywords[] = {
    {"and", Tok::kLand},
    {"or", Tok::kLor},
    {"unless", Tok::kLunless},
    {"atan2", Tok::kAtan2},
    {"sum", Tok::kSum},
    {"avg", Tok::kAvg},
    {"count", Tok::kCount},
    {"min", Tok::kMin},
    {"max", Tok::kMax},
    {"group", Tok::kGroup},
    {"stddev", Tok::kStddev},
    {"stdvar", Tok::kStdvar},
    {"topk", Tok::kTopk},
    {"bottomk", Tok::kBottomk},
    {"count_values", Tok::kCountValues},
    {"quantile", Tok::kQuantile},
    {"offset", Tok::kOffset},
    {"by", Tok::kBy},
    {"without", Tok::kWithout},
    {"on", Tok::kOn},
    {"ignoring", Tok::kIgnoring},
    {"group_left", Tok::kGroupLeft},
    {"group_right", Tok::kGroupRight},
    {"bool", Tok::kBool},
    {"start", Tok::kStart},
    {"end", Tok::kEnd},
    {"inf", Tok::kNumber},
    {"nan", Tok::kNumber},
};

bool LookupKeyword(absl::string_view word, Tok* tok) {
  std::string lower = absl::AsciiStrToLower(std::string(word));
  for (const Keyword& k : kKeywords) {
    if (k.word == lower) {
      *tok = k.tok;
      return true;
    }
  }
  return false;
}

bool IsSpace(int32_t r) {
  return r == ' ' || r == '\t' || r == '\n' || r == '\r';
}
bool IsEndOfLine(int32_t r) { return r == '\r' || r == '\n'; }
bool IsDigit(int32_t r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int32_t r) {
  return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
}
bool IsAlphaNumeric(int32_t r) { return IsAlpha(r) || IsDigit(r); }

// Decodes one UTF-8 rune as Go does: invalid bytes give RuneError, width 1.
int32_t DecodeRune(absl::string_view s, int* width) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  if (c < 0x80) {
    *width = 1;
    return c;
  }
  int n = 0;
  int32_t r = 0;
  int32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, r = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, r = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, r = c & 0x07, min = 0x10000;
  } else {
    *width = 1;
    return kRuneError;
  }
  if (s.size() < static_cast<size_t>(n)) {
    *width = 1;
    return kRuneError;
  }
  for (int i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) {
      *width = 1;
      return kRuneError;
    }
    r = (r << 6) | (b(i) & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) {
    *width = 1;
    return kRuneError;
  }
  *width = n;
  return r;
}

void AppendUtf8(int32_t r, std::string* out) {
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

bool IsPrintableRune(int32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  return true;
}

// Go's %#U: "U+0041 'A'".
std::string FormatRuneU(int32_t r) {
  std::string out = absl::StrFormat("U+%04X", r);
  if (IsPrintableRune(r)) {
    out += " '";
    AppendUtf8(r, &out);
    out += "'";
  }
  return out;
}

int DigitVal(int32_t ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return 16;
}

}  // namespace

std::string QuoteRune(int32_t r) {
  std::string out = "'";
  switch (r) {
    case '\a':
      out += "\\a";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\v':
      out += "\\v";
      break;
    case '\'':
      out += "\\'";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      if (r < 0x20 || r == 0x7F) {
        out += absl::StrFormat("\\x%02x", r);
      } else if (r >= 0x80 && r < 0xA0) {
        out += absl::StrFormat("\\u%04x", r);
      } else {
        AppendUtf8(r, &out);
      }
  }
  out += "'";
  return out;
}

std::string TokenDesc(const Token& t) {
  auto quoted = [](const std::string& v) {
    std::string out;
    if (v.size() > 10) {
      // Go's %.10q: the first ten runes, quoted, then "...".
      size_t i = 0;
      for (int n = 0; n < 10 && i < v.size(); ++n) {
        int w = 0;
        DecodeRune(absl::string_view(v).substr(i), &w);
        i += w;
      }
      AppendGoQuoted(v.substr(0, i), &out);
      out += "...";
    } else {
      AppendGoQuoted(v, &out);
    }
    return out;
  };
  switch (t.type) {
    case Tok::kEOF:
      return "end of input";
    case Tok::kError:
      return "error " + t.val;
    case Tok::kComment:
      return "comment " + quoted(t.val);
    case Tok::kIdentifier: {
      std::string out = "identifier ";
      AppendGoQuoted(t.val, &out);
      return out;
    }
    case Tok::kMetricIdentifier: {
      std::string out = "metric identifier ";
      AppendGoQuoted(t.val, &out);
      return out;
    }
    case Tok::kString:
      return "string " + quoted(t.val);
    case Tok::kNumber:
      return "number " + quoted(t.val);
    case Tok::kDuration:
      return "duration " + quoted(t.val);
    default:
      break;
  }
  // "@" is missing from Prometheus 2.42's item-name table, so it is described
  // by its numeric item type.
  if (t.type == Tok::kAt)
    return absl::StrCat("\"<Item 57385>\" <op:", t.val, ">");
  if (IsKeywordTok(t.type)) return absl::StrCat("<", t.val, ">");
  if (IsOperatorTok(t.type)) return absl::StrCat("<op:", t.val, ">");
  if (IsAggregatorTok(t.type)) return absl::StrCat("<aggr:", t.val, ">");
  return quoted(t.val);
}

int32_t Lexer::NextRune() {
  if (pos_ >= static_cast<int>(input_.size())) {
    width_ = 0;
    return kEof;
  }
  int32_t r = DecodeRune(input_.substr(pos_), &width_);
  pos_ += width_;
  return r;
}

int32_t Lexer::PeekRune() {
  int32_t r = NextRune();
  Backup();
  return r;
}

bool Lexer::Accept(absl::string_view valid) {
  int32_t r = NextRune();
  if (r >= 0 && r < 0x80 &&
      valid.find(static_cast<char>(r)) != absl::string_view::npos) {
    return true;
  }
  Backup();
  return false;
}

void Lexer::AcceptRun(absl::string_view valid) {
  while (Accept(valid)) {
  }
}

Token Lexer::Emit(Tok t) {
  Token tok{t, start_, std::string(input_.substr(start_, pos_ - start_))};
  start_ = pos_;
  return tok;
}

Token Lexer::Errorf(std::string msg) {
  state_ = State::kDone;
  return Token{Tok::kError, start_, std::move(msg)};
}

void Lexer::SkipSpaces() {
  while (IsSpace(PeekRune())) NextRune();
  start_ = pos_;
}

Token Lexer::Next() {
  Token out;
  for (;;) {
    switch (state_) {
      case State::kDone:
        start_ = pos_;
        return Token{Tok::kEOF, pos_, ""};
      case State::kStatements:
        if (LexStatements(&out)) return out;
        break;
      case State::kInsideBraces:
        if (LexInsideBraces(&out)) return out;
        break;
      case State::kValueSequence:
        if (LexValueSequence(&out)) return out;
        break;
      case State::kDuration:
        return LexDuration();
    }
  }
}

Token Lexer::LexLineComment() {
  pos_ += 1;
  int32_t r = NextRune();
  while (!IsEndOfLine(r) && r != kEof) r = NextRune();
  Backup();
  return Emit(Tok::kComment);
}

bool Lexer::LexStatements(Token* out) {
  if (brace_open_) {
    state_ = State::kInsideBraces;
    return false;
  }
  if (absl::StartsWith(input_.substr(pos_), "#")) {
    *out = LexLineComment();
    return true;
  }
  int32_t r = NextRune();
  switch (r) {
    case kEof:
      if (paren_depth_ != 0) {
        *out = Errorf("unclosed left parenthesis");
      } else if (bracket_open_) {
        *out = Errorf("unclosed left bracket");
      } else {
        *out = Emit(Tok::kEOF);
        state_ = State::kDone;
      }
      return true;
    case ',':
      *out = Emit(Tok::kComma);
      return true;
    case '*':
      *out = Emit(Tok::kMul);
      return true;
    case '/':
      *out = Emit(Tok::kDiv);
      return true;
    case '%':
      *out = Emit(Tok::kMod);
      return true;
    case '+':
      *out = Emit(Tok::kAdd);
      return true;
    case '-':
      *out = Emit(Tok::kSub);
      return true;
    case '^':
      *out = Emit(Tok::kPow);
      return true;
    case '@':
      *out = Emit(Tok::kAt);
      return true;
    case '=': {
      int32_t t = PeekRune();
      if (t == '=') {
        NextRune();
        *out = Emit(Tok::kEqlc);
      } else if (t == '~') {
        *out = Errorf("unexpected character after '=': " + QuoteRune(t));
      } else {
        *out = Emit(Tok::kEql);
      }
      return true;
    }
    case '!': {
      int32_t t = NextRune();
      if (t != '=') {
        *out = Errorf("unexpected character after '!': " + QuoteRune(t));
      } else {
        *out = Emit(Tok::kNeq);
      }
      return true;
    }
    case '<':
      if (PeekRune() == '=') {
        NextRune();
        *out = Emit(Tok::kLte);
      } else {
        *out = Emit(Tok::kLss);
      }
      return true;
    case '>':
      if (PeekRune() == '=') {
        NextRune();
        *out = Emit(Tok::kGte);
      } else {
        *out = Emit(Tok::kGtr);
      }
      return true;
    case '"':
    case '\'':
      *out = LexString(r);
      return true;
    case '`':
      *out = LexRawString();
      return true;
    case '(':
      *out = Emit(Tok::kLeftParen);
      ++paren_depth_;
      return true;
    case ')':
      *out = Emit(Tok::kRightParen);
      --paren_depth_;
      if (paren_depth_ < 0) {
        // Prometheus reports this error (after the ")") instead of the token.
        *out = Errorf("unexpected right parenthesis " + QuoteRune(r));
      }
      return true;
    case '{':
      *out = Emit(Tok::kLeftBrace);
      brace_open_ = true;
      state_ = State::kInsideBraces;
      return true;
    case '[':
      if (bracket_open_) {
        *out = Errorf("unexpected left bracket " + QuoteRune(r));
        return true;
      }
      got_colon_ = false;
      *out = Emit(Tok::kLeftBracket);
      if (IsSpace(PeekRune())) SkipSpaces();
      bracket_open_ = true;
      state_ = State::kDuration;
      return true;
    case ']':
      if (!bracket_open_) {
        *out = Errorf("unexpected right bracket " + QuoteRune(r));
        return true;
      }
      *out = Emit(Tok::kRightBracket);
      bracket_open_ = false;
      return true;
    default:
      break;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(PeekRune()))) {
    Backup();
    if (ScanNumber()) {
      *out = Emit(Tok::kNumber);
    } else if (AcceptRemainingDuration()) {
      Backup();
      *out = Emit(Tok::kDuration);
    } else {
      std::string msg = "bad number or duration syntax: ";
      AppendGoQuoted(input_.substr(start_, pos_ - start_), &msg);
      *out = Errorf(msg);
    }
    return true;
  }
  if (IsAlpha(r) || r == ':') {
    if (!bracket_open_) {
      Backup();
      *out = LexKeywordOrIdentifier();
      return true;
    }
    if (got_colon_) {
      *out = Errorf("unexpected colon " + QuoteRune(r));
      return true;
    }
    *out = Emit(Tok::kColon);
    got_colon_ = true;
    return true;
  }
  *out = Errorf("unexpected character: " + QuoteRune(r));
  return true;
}

bool Lexer::LexInsideBraces(Token* out) {
  if (absl::StartsWith(input_.substr(pos_), "#")) {
    *out = LexLineComment();
    return true;
  }
  int32_t r = NextRune();
  if (r == kEof) {
    *out = Errorf("unexpected end of input inside braces");
    return true;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  if (IsAlpha(r)) {
    while (IsAlphaNumeric(NextRune())) {
    }
    Backup();
    *out = Emit(Tok::kIdentifier);
    return true;
  }
  switch (r) {
    case ',':
      *out = Emit(Tok::kComma);
      return true;
    case '"':
    case '\'':
      *out = LexString(r);
      return true;
    case '`':
      *out = LexRawString();
      return true;
    case '=':
      if (NextRune() == '~') {
        *out = Emit(Tok::kEqlRegex);
      } else {
        Backup();
        *out = Emit(Tok::kEql);
      }
      return true;
    case '!': {
      int32_t nr = NextRune();
      if (nr == '~') {
        *out = Emit(Tok::kNeqRegex);
      } else if (nr == '=') {
        *out = Emit(Tok::kNeq);
      } else {
        *out = Errorf("unexpected character after '!' inside braces: " +
                      QuoteRune(nr));
      }
      return true;
    }
    case '{':
      *out = Errorf("unexpected left brace " + QuoteRune(r));
      return true;
    case '}':
      *out = Emit(Tok::kRightBrace);
      brace_open_ = false;
      state_ = series_desc_ ? State::kValueSequence : State::kStatements;
      return true;
    default:
      *out = Errorf("unexpected character inside braces: " + QuoteRune(r));
      return true;
  }
}

bool Lexer::LexValueSequence(Token* out) {
  int32_t r = NextRune();
  if (r == kEof) {
    state_ = State::kStatements;
    return false;
  }
  if (IsSpace(r)) {
    *out = Emit(Tok::kSpace);
    SkipSpaces();
    return true;
  }
  switch (r) {
    case '+':
      *out = Emit(Tok::kAdd);
      return true;
    case '-':
      *out = Emit(Tok::kSub);
      return true;
    case 'x':
      *out = Emit(Tok::kTimes);
      return true;
    case '_':
      *out = Emit(Tok::kBlank);
      return true;
    default:
      break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(PeekRune()))) {
    Backup();
    if (!ScanNumber()) {
      std::string msg = "bad number syntax: ";
      AppendGoQuoted(input_.substr(start_, pos_ - start_), &msg);
      *out = Errorf(msg);
      return true;
    }
    *out = Emit(Tok::kNumber);
    return true;
  }
  if (IsAlpha(r)) {
    Backup();
    *out = LexKeywordOrIdentifier();
    return true;
  }
  *out = Errorf("unexpected character in series sequence: " + QuoteRune(r));
  return true;
}

Token Lexer::LexDuration() {
  state_ = State::kStatements;
  if (ScanNumber()) return Errorf("missing unit character in duration");
  if (!AcceptRemainingDuration()) {
    std::string msg = "bad duration syntax: ";
    AppendGoQuoted(input_.substr(start_, pos_ - start_), &msg);
    return Errorf(msg);
  }
  Backup();
  return Emit(Tok::kDuration);
}

bool Lexer::ScanNumber() {
  absl::string_view digits = "0123456789";
  if (!series_desc_ && Accept("0") && Accept("xX"))
    digits = "0123456789abcdefABCDEF";
  AcceptRun(digits);
  if (Accept(".")) AcceptRun(digits);
  if (Accept("eE")) {
    Accept("+-");
    AcceptRun("0123456789");
  }
  int32_t r = PeekRune();
  return (series_desc_ && r == 'x') || !IsAlphaNumeric(r);
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");
  while (Accept("0123456789")) {
    while (Accept("0123456789")) {
    }
    if (!Accept("smhdw")) return false;
    Accept("s");
  }
  return !IsAlphaNumeric(NextRune());
}

bool Lexer::LexEscape(int32_t quote, Token* err) {
  int32_t ch = NextRune();
  int n = 0;
  uint32_t base = 0;
  uint32_t max = 0;
  switch (ch) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\':
      return true;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
      n = 3, base = 8, max = 255;
      break;
    case 'x':
      ch = NextRune();
      n = 2, base = 16, max = 255;
      break;
    case 'u':
      ch = NextRune();
      n = 4, base = 16, max = 0x10FFFF;
      break;
    case 'U':
      ch = NextRune();
      n = 8, base = 16, max = 0x10FFFF;
      break;
    case kEof:
      *err = Errorf("escape sequence not terminated");
      return false;
    default:
      if (ch == quote) return true;
      *err = Errorf("unknown escape sequence " + FormatRuneU(ch));
      return false;
  }
  uint32_t x = 0;
  while (n > 0) {
    uint32_t d = ch < 0 ? 16 : static_cast<uint32_t>(DigitVal(ch));
    if (d >= base) {
      if (ch == kEof) {
        *err = Errorf("escape sequence not terminated");
      } else {
        *err = Errorf("illegal character " + FormatRuneU(ch) +
                      " in escape sequence");
      }
      return false;
    }
    x = x * base + d;
    --n;
    if (n > 0) ch = NextRune();
  }
  if (x > max || (x >= 0xD800 && x < 0xE000)) {
    *err = Errorf("escape sequence is an invalid Unicode code point");
    return false;
  }
  return true;
}

Token Lexer::LexString(int32_t quote) {
  for (;;) {
    int32_t r = NextRune();
    if (r == '\\') {
      Token err;
      if (!LexEscape(quote, &err)) return err;
      continue;
    }
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEof || r == '\n') return Errorf("unterminated quoted string");
    if (r == quote) break;
  }
  Token t = Emit(Tok::kString);
  state_ = brace_open_ ? State::kInsideBraces : State::kStatements;
  return t;
}

Token Lexer::LexRawString() {
  for (;;) {
    int32_t r = NextRune();
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEof) return Errorf("unterminated raw string");
    if (r == '`') break;
  }
  Token t = Emit(Tok::kString);
  state_ = brace_open_ ? State::kInsideBraces : State::kStatements;
  return t;
}

Token Lexer::LexKeywordOrIdentifier() {
  for (;;) {
    int32_t r = NextRune();
    if (IsAlphaNumeric(r) || r == ':') continue;
    Backup();
    break;
  }
  absl::string_view word = input_.substr(start_, pos_ - start_);
  Tok kw;
  Token t;
  if (LookupKeyword(word, &kw)) {
    t = Emit(kw);
  } else if (word.find(':') == absl::string_view::npos) {
    t = Emit(Tok::kIdentifier);
  } else {
    t = Emit(Tok::kMetricIdentifier);
  }
  if (series_desc_ && PeekRune() != '{') {
    state_ = State::kValueSequence;
  } else {
    state_ = State::kStatements;
  }
  return t;
}

}  // namespace vigil::promql
