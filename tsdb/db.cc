#include "tsdb/db.h"

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "tsdb/head/head.h"
#include "tsdb/wal/wal.h"

namespace vigil::tsdb {

class DB::Impl {
 public:
  Options options;
  std::optional<DirLock> lock;
  std::unique_ptr<wal::Wal> wal;
  std::unique_ptr<Head> head;
  bool closed = false;
};

absl::StatusOr<std::unique_ptr<DB>> DB::Open(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  RETURN_IF_ERROR(CreateDirs(options.dir));
  ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(options.dir));
  impl->lock.emplace(std::move(lock));

  HeadOptions ho;
  ho.chunk_range = options.block_duration;
  ho.samples_per_chunk = options.samples_per_chunk;
  ho.require_metric_name = options.require_metric_name;
  ho.max_series = options.max_series;
  std::string wal_dir = options.dir + "/wal";
  if (options.enable_wal) {
    RETURN_IF_ERROR(CreateDirs(wal_dir));
    // The head needs the WAL pointer for commits; replay first, then open
    // the WAL for writing (Open starts a fresh segment).
    auto head = std::make_unique<Head>(ho, nullptr);
    RETURN_IF_ERROR(head->Replay(wal_dir));
    wal::Options wo;
    wo.dir = wal_dir;
    wo.segment_size = options.wal_segment_size;
    wo.fsync_mode = options.wal_fsync == WalFsync::kAlways ? wal::FsyncMode::kAlways
                                                            : wal::FsyncMode::kInterval;
    wo.fsync_interval = options.wal_fsync_interval;
    ASSIGN_OR_RETURN(impl->wal, wal::Wal::Open(wo));
    impl->head = std::move(head);
    impl->head->AttachWal(impl->wal.get());
  } else {
    impl->head = std::make_unique<Head>(ho, nullptr);
  }
  LogInfo("tsdb", "database open")
      .Kv("dir", options.dir)
      .Kv("series", impl->head->NumSeries());
  return std::unique_ptr<DB>(new DB(std::move(impl)));
}

DB::DB(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DB::~DB() {
  absl::Status s = Close();
  if (!s.ok()) LogError("tsdb", "close failed").Kv("err", s);
}

std::unique_ptr<tsdb::Appender> DB::Appender(const AppenderOptions& options) {
  return impl_->head->NewAppender(options);
}
std::unique_ptr<tsdb::Querier> DB::Querier() { return impl_->head->NewQuerier(); }

absl::Status DB::TruncateHead(int64_t mint) { return impl_->head->Truncate(mint); }

absl::Status DB::Close() {
  if (impl_->closed) return absl::OkStatus();
  impl_->closed = true;
  absl::Status s;
  if (impl_->wal != nullptr) s = impl_->wal->Close();
  impl_->lock.reset();
  return s;
}

const Options& DB::options() const { return impl_->options; }
const HeadStats& DB::head_stats() const { return impl_->head->stats(); }
const WalStats* DB::wal_stats() const {
  return impl_->wal == nullptr ? nullptr : &impl_->wal->stats();
}
size_t DB::NumSeries() const { return impl_->head->NumSeries(); }
size_t DB::NumChunks() const { return impl_->head->NumChunks(); }
int64_t DB::MinTime() const { return impl_->head->MinTime(); }
int64_t DB::MaxTime() const { return impl_->head->MaxTime(); }

}  // namespace vigil::tsdb
