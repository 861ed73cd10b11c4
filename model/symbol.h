// Interned strings. Every distinct label name and value is stored once for
// the life of the process; a Symbol is a pointer-sized handle to it, so
// copying labels copies pointers and comparing symbols for equality is a
// pointer compare.
//
// Interned strings are never freed: memory grows with the number of
// distinct strings ever seen (label churn), not with series count.
//
// Thread-safe: Intern() may be called from any thread.
#ifndef VIGIL_MODEL_SYMBOL_H_
#define VIGIL_MODEL_SYMBOL_H_

#include <cstdint>
#include <cstring>
#include <optional>

#include "absl/strings/string_view.h"

namespace vigil::model {

class Symbol {
 public:
  // The empty string.
  Symbol();
  static Symbol Intern(absl::string_view s);
  // The symbol for `s` if it has been interned, without interning it (for
  // lookups driven by untrusted input, such as query strings).
  static std::optional<Symbol> Lookup(absl::string_view s);

  absl::string_view view() const {
    uint32_t n;
    std::memcpy(&n, p_, sizeof(n));
    return absl::string_view(p_ + sizeof(n), n);
  }
  size_t size() const { return view().size(); }
  bool empty() const { return size() == 0; }

  friend bool operator==(Symbol a, Symbol b) { return a.p_ == b.p_; }
  friend bool operator!=(Symbol a, Symbol b) { return a.p_ != b.p_; }
  // Orders by string content (bytewise), not by address.
  friend bool operator<(Symbol a, Symbol b) {
    return a.p_ != b.p_ && a.view() < b.view();
  }
  template <typename H>
  friend H AbslHashValue(H h, Symbol s) {
    return H::combine(std::move(h), s.p_);
  }

  // Total bytes held by the interner (for self-metrics).
  static size_t InternedBytes();

 private:
  explicit Symbol(const char* p) : p_(p) {}
  // Points at a 4-byte length prefix followed by the characters.
  const char* p_;
};

}  // namespace vigil::model

#endif  // VIGIL_MODEL_SYMBOL_H_
