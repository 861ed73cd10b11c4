#include "model/symbol.h"

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"

namespace vigil::model {
namespace {

constexpr size_t kShards = 64;
constexpr size_t kArenaBlock = 64 * 1024;

// Length-prefixed empty string.
alignas(4) constexpr char kEmpty[sizeof(uint32_t)] = {0, 0, 0, 0};

std::atomic<size_t> g_bytes{0};

// One shard: a set of views into its own arena.
class Shard {
 public:
  const char* Find(absl::string_view s) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = set_.find(s);
    return it == set_.end() ? nullptr : it->data() - sizeof(uint32_t);
  }

  const char* Intern(absl::string_view s) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = set_.find(s);
    if (it != set_.end()) return it->data() - sizeof(uint32_t);
    char* p = Allocate(sizeof(uint32_t) + s.size());
    uint32_t n = static_cast<uint32_t>(s.size());
    std::memcpy(p, &n, sizeof(n));
    std::memcpy(p + sizeof(n), s.data(), s.size());
    set_.insert(absl::string_view(p + sizeof(n), s.size()));
    return p;
  }

 private:
  char* Allocate(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    n = (n + 3) & ~size_t{3};  // Keep length prefixes aligned.
    if (n > kArenaBlock / 4) {  // Large strings get their own block.
      blocks_.push_back(std::make_unique<char[]>(n));
      g_bytes += n;
      return blocks_.back().get();
    }
    if (used_ + n > kArenaBlock || current_ == nullptr) {
      blocks_.push_back(std::make_unique<char[]>(kArenaBlock));
      current_ = blocks_.back().get();
      used_ = 0;
      g_bytes += kArenaBlock;
    }
    char* p = current_ + used_;
    used_ += n;
    return p;
  }

  absl::Mutex mu_;
  absl::flat_hash_set<absl::string_view> set_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<char[]>> blocks_ ABSL_GUARDED_BY(mu_);
  char* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t used_ ABSL_GUARDED_BY(mu_) = 0;
};

std::array<Shard, kShards>& Shards() {
  static auto* shards = new std::array<Shard, kShards>();
  return *shards;
}

}  // namespace

Symbol::Symbol() : p_(kEmpty) {}

Symbol Symbol::Intern(absl::string_view s) {
  if (s.empty()) return Symbol();
  size_t h = absl::HashOf(s);
  // Top bits pick the shard; the set inside uses the low bits.
  return Symbol(Shards()[(h >> 58) % kShards].Intern(s));
}

std::optional<Symbol> Symbol::Lookup(absl::string_view s) {
  if (s.empty()) return Symbol();
  size_t h = absl::HashOf(s);
  const char* p = Shards()[(h >> 58) % kShards].Find(s);
  if (p == nullptr) return std::nullopt;
  return Symbol(p);
}

size_t Symbol::InternedBytes() { return g_bytes.load(); }

}  // namespace vigil::model
