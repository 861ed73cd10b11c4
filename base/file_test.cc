#include "base/file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"

namespace vigil {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/vigil_file_test_XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d;
}

TEST(FileTest, WriteAtomicAndRead) {
  std::string dir = TempDir();
  std::string path = dir + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, "hello").ok());
  auto got = ReadFile(path);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "hello");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto names = ListDir(dir);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
  EXPECT_TRUE(RemoveAll(dir).ok());
}

TEST(FileTest, ReadMissingIsNotFound) {
  auto got = ReadFile("/nonexistent/vigil/file");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
}

TEST(FileTest, DirLockExcludesOtherProcess) {
  std::string dir = TempDir();
  auto lock = DirLock::Acquire(dir);
  ASSERT_TRUE(lock.ok()) << lock.status();
  pid_t child = fork();
  if (child == 0) {
    auto other = DirLock::Acquire(dir);
    // Exit 0 only if the lock was refused with a message naming our parent.
    bool ok = !other.ok() &&
              other.status().code() == absl::StatusCode::kFailedPrecondition &&
              other.status().message().find(std::to_string(getppid())) !=
                  std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  // After release the lock can be taken again.
  *lock = std::move(*DirLock::Acquire(TempDir()));
  auto again = DirLock::Acquire(dir);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(FileTest, MappedFileMapsWholeFile) {
  std::string dir = TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/f", "mapped bytes").ok());
  auto m = MappedFile::Open(dir + "/f");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->data(), "mapped bytes");
  MappedFile moved = std::move(*m);
  EXPECT_EQ(moved.data(), "mapped bytes");
  EXPECT_EQ(moved.path(), dir + "/f");
  EXPECT_TRUE(m->data().empty());
  EXPECT_TRUE(RemoveAll(dir).ok());
}

TEST(FileTest, MappedFileEmptyAndMissing) {
  std::string dir = TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/empty", "").ok());
  auto m = MappedFile::Open(dir + "/empty");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), 0u);
  EXPECT_EQ(MappedFile::Open(dir + "/missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(RemoveAll(dir).ok());
}

TEST(FileTest, FileWriterBuffersPadsAndSyncs) {
  std::string dir = TempDir();
  auto w = FileWriter::Create(dir + "/out", 8);  // Tiny buffer: many flushes.
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->Append("abc").ok());
  ASSERT_TRUE((*w)->PadTo(8).ok());
  EXPECT_EQ((*w)->position(), 8u);
  ASSERT_TRUE((*w)->Append(std::string(20, 'x')).ok());
  ASSERT_TRUE((*w)->PadTo(4).ok());
  EXPECT_EQ((*w)->position(), 28u);
  ASSERT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_FALSE((*w)->Append("late").ok());
  auto got = ReadFile(dir + "/out");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::string("abc") + std::string(5, '\0') +
                      std::string(20, 'x'));
  EXPECT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace vigil
