// A fixed set of threads running submitted closures in FIFO order. CPU work
// that a request needs (decoding, appending, password checks) runs here so
// that network threads only move bytes.
//
// Thread-safe. The destructor (or Shutdown) runs every closure already
// submitted, then joins the threads.
#ifndef VIGIL_BASE_WORKER_POOL_H_
#define VIGIL_BASE_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace vigil {

class WorkerPool {
 public:
  WorkerPool(int threads, std::string name);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // REQUIRES: Shutdown() has not been called.
  void Submit(std::function<void()> fn);
  // Finishes the queued work and joins the threads. Idempotent.
  void Shutdown();
  size_t queued() const;

 private:
  void Run();

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace vigil

#endif  // VIGIL_BASE_WORKER_POOL_H_
