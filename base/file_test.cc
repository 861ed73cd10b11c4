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

}  // namespace
}  // namespace vigil
