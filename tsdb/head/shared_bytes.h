// An immutable, reference-counted byte buffer: 8 bytes per handle and one
// allocation per buffer. Sealed head chunks are SharedBytes so that queries
// can keep reading a chunk that truncation removes from the head.
// Thread-safe: copies may be made and dropped concurrently.
#ifndef VIGIL_TSDB_HEAD_SHARED_BYTES_H_
#define VIGIL_TSDB_HEAD_SHARED_BYTES_H_

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/strings/string_view.h"

namespace vigil::tsdb {

class SharedBytes {
 public:
  SharedBytes() = default;
  explicit SharedBytes(absl::string_view data) {
    rep_ = static_cast<Rep*>(std::malloc(sizeof(Rep) + data.size()));
    if (rep_ == nullptr) throw std::bad_alloc();
    new (&rep_->refs) std::atomic<uint32_t>(1);
    rep_->size = static_cast<uint32_t>(data.size());
    std::memcpy(rep_->data, data.data(), data.size());
  }
  SharedBytes(const SharedBytes& o) : rep_(o.rep_) { Ref(); }
  SharedBytes(SharedBytes&& o) noexcept : rep_(o.rep_) { o.rep_ = nullptr; }
  SharedBytes& operator=(SharedBytes o) noexcept {
    std::swap(rep_, o.rep_);
    return *this;
  }
  ~SharedBytes() { Unref(); }

  absl::string_view view() const {
    return rep_ == nullptr ? absl::string_view()
                           : absl::string_view(rep_->data, rep_->size);
  }
  // Heap bytes of the buffer (shared between copies).
  size_t HeapBytes() const { return rep_ == nullptr ? 0 : sizeof(Rep) + rep_->size; }

 private:
  struct Rep {
    std::atomic<uint32_t> refs;
    uint32_t size;
    char data[];
  };
  void Ref() {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void Unref() {
    if (rep_ != nullptr && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::free(rep_);
    }
    rep_ = nullptr;
  }
  Rep* rep_ = nullptr;
};

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_HEAD_SHARED_BYTES_H_
