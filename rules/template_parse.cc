// The text/template parser. Its order of checks follows Go's, so that the
// first error reported for a broken template, and the line it cites, are
// the ones Prometheus reports.
#include "rules/template_parse.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "rules/template_funcs.h"

namespace vigil::rules::tmpl {
namespace {

bool IsKeyword(Tok t) { return t >= Tok::kBlock; }

// A token as Go's parser quotes it in "unexpected ..." errors.
std::string TokenString(const Token& t) {
  if (t.type == Tok::kEOF) return "EOF";
  if (t.type == Tok::kError) return t.val;
  if (IsKeyword(t.type)) return absl::StrCat("<", t.val, ">");
  if (RuneCount(t.val) > 10) {
    size_t i = 0;
    for (int n = 0; n < 10; ++n) {
      uint32_t r;
      i += DecodeRune(t.val, i, &r);
    }
    return GoQuote(absl::string_view(t.val).substr(0, i), false) + "...";
  }
  return GoQuote(t.val, false);
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// A tree that holds nothing but whitespace text may be redefined.
bool IsEmptyTree(const ListNode& list) {
  for (const NodePtr& n : list.nodes) {
    if (n->type != NodeType::kText) return false;
    for (char c : static_cast<const TextNode&>(*n).text) {
      if (!IsAsciiSpace(c)) return false;
    }
  }
  return true;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, TemplateSet* set) : tokens_(std::move(tokens)), set_(set) {}

  absl::Status Parse(absl::string_view name, const std::vector<std::string>& predeclared) {
    vars_ = {"$"};
    vars_.insert(vars_.end(), predeclared.begin(), predeclared.end());
    auto root = std::make_unique<ListNode>(Peek().pos);
    while (Peek().type != Tok::kEOF) {
      if (Peek().type == Tok::kLeftDelim) {
        const size_t delim = pos_;
        Next();
        if (NextNonSpace().type == Tok::kDefine) {
          RETURN_IF_ERROR(ParseDefinition());
          continue;
        }
        pos_ = delim;
      }
      ASSIGN_OR_RETURN(NodePtr n, TextOrAction());
      if (n->type == NodeType::kEnd || n->type == NodeType::kElse) {
        return Errorf(absl::StrCat("unexpected ", n->String()));
      }
      root->nodes.push_back(std::move(n));
    }
    return AddTree(std::string(name), std::move(root));
  }

 private:
  // --- Tokens. ---

  const Token& Next() {
    const size_t i = std::min(pos_, tokens_.size() - 1);
    high_water_ = std::max(high_water_, i);
    ++pos_;
    return tokens_[i];
  }
  const Token& Peek() {
    const size_t i = std::min(pos_, tokens_.size() - 1);
    high_water_ = std::max(high_water_, i);
    return tokens_[i];
  }
  void Backup() { --pos_; }
  const Token& NextNonSpace() {
    for (;;) {
      const Token& t = Next();
      if (t.type != Tok::kSpace) return t;
    }
  }
  const Token& PeekNonSpace() {
    const Token& t = NextNonSpace();
    Backup();
    return t;
  }

  // --- Errors. ---

  // "template: <name>:<line>: <msg>", the line being that of the furthest
  // token read.
  absl::Status Errorf(absl::string_view msg) const {
    return absl::InvalidArgumentError(
        absl::StrCat("template: ", set_->parse_name, ":", tokens_[high_water_].line, ": ", msg));
  }

  absl::Status Unexpected(const Token& t, absl::string_view context) const {
    if (t.type == Tok::kError) {
      std::string extra;
      if (action_line_ != 0 && action_line_ != t.line) {
        extra = absl::StrCat(" in action started at ", set_->parse_name, ":", action_line_);
        if (absl::EndsWith(t.val, " action")) extra.erase(0, std::string(" in action").size());
      }
      return Errorf(t.val + extra);
    }
    return Errorf(absl::StrCat("unexpected ", TokenString(t), " in ", context));
  }

  // --- Templates. ---

  absl::Status AddTree(const std::string& name, std::unique_ptr<ListNode> root) {
    auto it = set_->trees.find(name);
    if (it == set_->trees.end() || IsEmptyTree(*it->second)) {
      set_->trees[name] = std::move(root);
      return absl::OkStatus();
    }
    if (!IsEmptyTree(*root)) {
      return Errorf(
          absl::StrCat("template: multiple definition of template ", GoQuote(name, false)));
    }
    return absl::OkStatus();
  }

  // Parser state of one tree: a define or block body starts afresh.
  struct TreeState {
    std::vector<std::string> vars;
    int range_depth;
    int action_line;
  };
  TreeState EnterTree() {
    TreeState saved{std::move(vars_), range_depth_, action_line_};
    vars_ = {"$"};
    range_depth_ = 0;
    action_line_ = 0;
    return saved;
  }
  void LeaveTree(TreeState saved) {
    vars_ = std::move(saved.vars);
    range_depth_ = saved.range_depth;
    action_line_ = saved.action_line;
  }

  // After {{define: "name"}} body {{end}}.
  absl::Status ParseDefinition() {
    constexpr absl::string_view kContext = "define clause";
    TreeState saved = EnterTree();
    const Token& name_tok = NextNonSpace();
    if (name_tok.type != Tok::kString && name_tok.type != Tok::kRawString) {
      return Unexpected(name_tok, kContext);
    }
    absl::StatusOr<std::string> name = GoUnquote(name_tok.val);
    if (!name.ok()) return Errorf(name.status().message());
    const Token& close = NextNonSpace();
    if (close.type != Tok::kRightDelim) return Unexpected(close, kContext);
    NodePtr end;
    ASSIGN_OR_RETURN(std::unique_ptr<ListNode> body, ItemList(&end));
    if (end->type != NodeType::kEnd) {
      return Errorf(absl::StrCat("unexpected ", end->String(), " in ", kContext));
    }
    RETURN_IF_ERROR(AddTree(*name, std::move(body)));
    LeaveTree(std::move(saved));
    return absl::OkStatus();
  }

  // Nodes up to an {{end}} or {{else}}, which goes to *end.
  absl::StatusOr<std::unique_ptr<ListNode>> ItemList(NodePtr* end) {
    auto list = std::make_unique<ListNode>(PeekNonSpace().pos);
    while (PeekNonSpace().type != Tok::kEOF) {
      ASSIGN_OR_RETURN(NodePtr n, TextOrAction());
      if (n->type == NodeType::kEnd || n->type == NodeType::kElse) {
        *end = std::move(n);
        return list;
      }
      list->nodes.push_back(std::move(n));
    }
    return Errorf("unexpected EOF");
  }

  absl::StatusOr<NodePtr> TextOrAction() {
    const Token& t = NextNonSpace();
    if (t.type == Tok::kText) return std::make_unique<TextNode>(t.pos, t.val);
    if (t.type == Tok::kLeftDelim) {
      action_line_ = t.line;
      absl::StatusOr<NodePtr> n = Action();
      action_line_ = 0;
      return n;
    }
    return Unexpected(t, "input");
  }

  // After "{{".
  absl::StatusOr<NodePtr> Action() {
    const Token& t = NextNonSpace();
    switch (t.type) {
      case Tok::kBlock:
        return BlockControl();
      case Tok::kBreak:
        return LoopControl(NodeType::kBreak, t, "{{break}}");
      case Tok::kContinue:
        return LoopControl(NodeType::kContinue, t, "{{continue}}");
      case Tok::kElse:
        return ElseControl();
      case Tok::kEnd:
        return EndControl();
      case Tok::kIf:
        return Control(NodeType::kIf, "if");
      case Tok::kRange:
        return Control(NodeType::kRange, "range");
      case Tok::kTemplate:
        return TemplateControl();
      case Tok::kWith:
        return Control(NodeType::kWith, "with");
      default:
        break;
    }
    Backup();
    const Token& start = Peek();
    const size_t pos = start.pos;
    const int line = start.line;
    ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe, Pipeline("command", Tok::kRightDelim));
    return std::make_unique<ActionNode>(pos, line, std::move(pipe));
  }

  absl::StatusOr<NodePtr> LoopControl(NodeType type, const Token& keyword,
                                      absl::string_view context) {
    const size_t pos = keyword.pos;
    const int line = keyword.line;
    const Token& t = NextNonSpace();
    if (t.type != Tok::kRightDelim) return Unexpected(t, context);
    if (range_depth_ == 0) return Errorf(absl::StrCat(context, " outside {{range}}"));
    return std::make_unique<KeywordNode>(type, pos, line);
  }

  absl::StatusOr<NodePtr> ElseControl() {
    const Token& peek = PeekNonSpace();
    if (peek.type == Tok::kIf) {
      // "{{else if ...": the "if" is left for the enclosing if to parse.
      return std::make_unique<KeywordNode>(NodeType::kElse, peek.pos, peek.line);
    }
    const Token& t = NextNonSpace();
    if (t.type != Tok::kRightDelim) return Unexpected(t, "else");
    return std::make_unique<KeywordNode>(NodeType::kElse, t.pos, t.line);
  }

  absl::StatusOr<NodePtr> EndControl() {
    const Token& t = NextNonSpace();
    if (t.type != Tok::kRightDelim) return Unexpected(t, "end");
    return std::make_unique<KeywordNode>(NodeType::kEnd, t.pos, t.line);
  }

  // if, range and with: pipeline, list, optional else list, end.
  // Variables declared inside live until the end.
  absl::StatusOr<NodePtr> Control(NodeType type, absl::string_view context) {
    const size_t num_vars = vars_.size();
    ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe, Pipeline(context, Tok::kRightDelim));
    if (type == NodeType::kRange) ++range_depth_;
    NodePtr next;
    ASSIGN_OR_RETURN(std::unique_ptr<ListNode> list, ItemList(&next));
    if (type == NodeType::kRange) --range_depth_;
    std::unique_ptr<ListNode> else_list;
    if (next->type == NodeType::kElse) {
      if (type == NodeType::kIf && Peek().type == Tok::kIf) {
        // {{if a}}..{{else if b}}..{{end}} is {{if a}}..{{else}}{{if b}}..{{end}}{{end}}
        // with a single {{end}}.
        Next();
        else_list = std::make_unique<ListNode>(next->pos);
        ASSIGN_OR_RETURN(NodePtr inner, Control(NodeType::kIf, "if"));
        else_list->nodes.push_back(std::move(inner));
      } else {
        NodePtr end;
        ASSIGN_OR_RETURN(else_list, ItemList(&end));
        if (end->type != NodeType::kEnd) {
          return Errorf(absl::StrCat("expected end; found ", end->String()));
        }
      }
    }
    vars_.resize(num_vars);
    auto node = std::make_unique<BranchNode>(type, pipe->pos, pipe->line);
    node->pipe = std::move(pipe);
    node->list = std::move(list);
    node->else_list = std::move(else_list);
    return node;
  }

  absl::StatusOr<std::string> TemplateName(const Token& t, absl::string_view context) {
    if (t.type != Tok::kString && t.type != Tok::kRawString) return Unexpected(t, context);
    absl::StatusOr<std::string> name = GoUnquote(t.val);
    if (!name.ok()) return Errorf(name.status().message());
    return name;
  }

  absl::StatusOr<NodePtr> TemplateControl() {
    constexpr absl::string_view kContext = "template clause";
    const Token& t = NextNonSpace();
    const size_t pos = t.pos;
    const int line = t.line;
    ASSIGN_OR_RETURN(std::string name, TemplateName(t, kContext));
    std::unique_ptr<PipeNode> pipe;
    if (NextNonSpace().type != Tok::kRightDelim) {
      Backup();
      ASSIGN_OR_RETURN(pipe, Pipeline(kContext, Tok::kRightDelim));
    }
    return std::make_unique<TemplateNode>(pos, line, std::move(name), std::move(pipe));
  }

  // {{block "name" pipeline}} body {{end}}: defines "name" and invokes it.
  absl::StatusOr<NodePtr> BlockControl() {
    constexpr absl::string_view kContext = "block clause";
    const Token& t = NextNonSpace();
    const size_t pos = t.pos;
    const int line = t.line;
    ASSIGN_OR_RETURN(std::string name, TemplateName(t, kContext));
    ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe, Pipeline(kContext, Tok::kRightDelim));
    TreeState saved = EnterTree();
    NodePtr end;
    ASSIGN_OR_RETURN(std::unique_ptr<ListNode> body, ItemList(&end));
    if (end->type != NodeType::kEnd) {
      return Errorf(absl::StrCat("unexpected ", end->String(), " in ", kContext));
    }
    RETURN_IF_ERROR(AddTree(name, std::move(body)));
    LeaveTree(std::move(saved));
    return std::make_unique<TemplateNode>(pos, line, std::move(name), std::move(pipe));
  }

  // --- Pipelines. ---

  static bool StartsOperand(Tok t) {
    switch (t) {
      case Tok::kBool:
      case Tok::kCharConstant:
      case Tok::kComplex:
      case Tok::kDot:
      case Tok::kField:
      case Tok::kIdentifier:
      case Tok::kNumber:
      case Tok::kNil:
      case Tok::kRawString:
      case Tok::kString:
      case Tok::kVariable:
      case Tok::kLeftParen:
        return true;
      default:
        return false;
    }
  }

  // [decl :=] command | command ... up to `end`.
  absl::StatusOr<std::unique_ptr<PipeNode>> Pipeline(absl::string_view context, Tok end) {
    const Token& first = PeekNonSpace();
    auto pipe = std::make_unique<PipeNode>(first.pos, first.line);
    while (PeekNonSpace().type == Tok::kVariable) {
      const size_t mark = pos_;
      const Token& v = NextNonSpace();
      const Token& next = PeekNonSpace();
      if (next.type == Tok::kAssign || next.type == Tok::kDeclare) {
        pipe->is_assign = next.type == Tok::kAssign;
        NextNonSpace();
        pipe->decl.push_back(
            std::make_unique<VariableNode>(v.pos, std::vector<std::string>{v.val}));
        vars_.push_back(v.val);
        break;
      }
      if (next.type == Tok::kChar && next.val == ",") {
        NextNonSpace();
        pipe->decl.push_back(
            std::make_unique<VariableNode>(v.pos, std::vector<std::string>{v.val}));
        vars_.push_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          const Tok t = PeekNonSpace().type;
          if (t == Tok::kVariable || t == Tok::kRightDelim || t == Tok::kRightParen) continue;
          return Errorf("range can only initialize variables");
        }
        return Errorf(absl::StrCat("too many declarations in ", context));
      }
      pos_ = mark;  // An operand, not a declaration.
      break;
    }
    for (;;) {
      const Token& t = NextNonSpace();
      if (t.type == end) {
        RETURN_IF_ERROR(CheckPipeline(*pipe, context));
        return pipe;
      }
      if (!StartsOperand(t.type)) return Unexpected(t, context);
      Backup();
      ASSIGN_OR_RETURN(std::unique_ptr<CommandNode> cmd, Command());
      pipe->cmds.push_back(std::move(cmd));
    }
  }

  absl::Status CheckPipeline(const PipeNode& pipe, absl::string_view context) const {
    if (pipe.cmds.empty()) return Errorf(absl::StrCat("missing value for ", context));
    for (size_t i = 1; i < pipe.cmds.size(); ++i) {
      switch (pipe.cmds[i]->args[0]->type) {
        case NodeType::kBool:
        case NodeType::kDot:
        case NodeType::kNil:
        case NodeType::kNumber:
        case NodeType::kString:
          return Errorf(absl::StrCat("non executable command in pipeline stage ", i + 1));
        default:
          break;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<CommandNode>> Command() {
    auto cmd = std::make_unique<CommandNode>(PeekNonSpace().pos);
    for (;;) {
      PeekNonSpace();
      ASSIGN_OR_RETURN(NodePtr operand, Operand());
      if (operand != nullptr) cmd->args.push_back(std::move(operand));
      const Token& t = Next();
      if (t.type == Tok::kSpace) continue;
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
        Backup();
      } else if (t.type != Tok::kPipe) {
        return Unexpected(t, "operand");
      }
      break;
    }
    if (cmd->args.empty()) return Errorf("empty command");
    return cmd;
  }

  // A term and the fields that follow it; null when none starts here.
  absl::StatusOr<NodePtr> Operand() {
    ASSIGN_OR_RETURN(NodePtr node, Term());
    if (node == nullptr || Peek().type != Tok::kField) return node;
    auto chain = std::make_unique<ChainNode>(Peek().pos, nullptr);
    while (Peek().type == Tok::kField) chain->fields.push_back(Next().val.substr(1));
    switch (node->type) {
      case NodeType::kField:
      case NodeType::kVariable: {
        chain->node = std::move(node);
        std::string joined = chain->String();
        const bool is_field = chain->node->type == NodeType::kField;
        std::vector<std::string> idents =
            absl::StrSplit(is_field ? absl::string_view(joined).substr(1) : joined, '.');
        if (is_field) return std::make_unique<FieldNode>(chain->pos, std::move(idents));
        return std::make_unique<VariableNode>(chain->pos, std::move(idents));
      }
      case NodeType::kBool:
      case NodeType::kString:
      case NodeType::kNumber:
      case NodeType::kNil:
      case NodeType::kDot:
        return Errorf(absl::StrCat("unexpected . after term ", GoQuote(node->String(), false)));
      default:
        chain->node = std::move(node);
        return chain;
    }
  }

  absl::StatusOr<NodePtr> Term() {
    const Token& t = NextNonSpace();
    switch (t.type) {
      case Tok::kIdentifier:
        if (FindFunction(t.val, set_->funcs) == nullptr) {
          return Errorf(absl::StrCat("function ", GoQuote(t.val, false), " not defined"));
        }
        return std::make_unique<IdentifierNode>(t.pos, t.val);
      case Tok::kDot:
        return std::make_unique<SimpleNode>(NodeType::kDot, t.pos);
      case Tok::kNil:
        return std::make_unique<SimpleNode>(NodeType::kNil, t.pos);
      case Tok::kVariable:
        if (std::find(vars_.begin(), vars_.end(), t.val) == vars_.end()) {
          return Errorf(absl::StrCat("undefined variable ", GoQuote(t.val, false)));
        }
        return std::make_unique<VariableNode>(t.pos, std::vector<std::string>{t.val});
      case Tok::kField:
        return std::make_unique<FieldNode>(t.pos, std::vector<std::string>{t.val.substr(1)});
      case Tok::kBool:
        return std::make_unique<SimpleNode>(NodeType::kBool, t.pos, t.val == "true");
      case Tok::kCharConstant:
      case Tok::kComplex:
      case Tok::kNumber: {
        absl::StatusOr<NumberLiteral> n = ParseNumberLiteral(t.val, t.type == Tok::kCharConstant);
        if (!n.ok()) return Errorf(n.status().message());
        return std::make_unique<NumberNode>(t.pos, t.val, *n);
      }
      case Tok::kLeftParen: {
        ASSIGN_OR_RETURN(std::unique_ptr<PipeNode> pipe,
                         Pipeline("parenthesized pipeline", Tok::kRightParen));
        return NodePtr(std::move(pipe));
      }
      case Tok::kString:
      case Tok::kRawString: {
        absl::StatusOr<std::string> s = GoUnquote(t.val);
        if (!s.ok()) return Errorf(s.status().message());
        return std::make_unique<StringNode>(t.pos, t.val, std::move(*s));
      }
      default:
        Backup();
        return NodePtr();
    }
  }

  const std::vector<Token> tokens_;
  TemplateSet* const set_;
  size_t pos_ = 0;                 // Next token to read.
  size_t high_water_ = 0;          // Furthest token read: errors cite its line.
  std::vector<std::string> vars_;  // Variables in scope.
  int range_depth_ = 0;
  int action_line_ = 0;  // Line of the action being parsed, 0 outside.
};

}  // namespace

absl::StatusOr<std::unique_ptr<TemplateSet>> ParseTemplateSet(
    absl::string_view name, absl::string_view text, const std::vector<std::string>& predeclared,
    FuncSet funcs) {
  auto set = std::make_unique<TemplateSet>();
  set->funcs = funcs;
  set->text = std::string(text);
  set->parse_name = std::string(name);
  Parser parser(Lex(set->text), set.get());
  RETURN_IF_ERROR(parser.Parse(name, predeclared));
  return set;
}

}  // namespace vigil::rules::tmpl
