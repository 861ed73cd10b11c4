// End-to-end: the real `vigil serve` binary starts, refuses a second
// instance on the same data directory, and stops cleanly on SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/file.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

struct Proc {
  pid_t pid = -1;
  int err_fd = -1;  // The child's stderr.
  std::string log;
};

Proc Start(const std::vector<std::string>& args) {
  int p[2];
  EXPECT_EQ(pipe(p), 0);
  Proc proc;
  proc.pid = fork();
  if (proc.pid == 0) {
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(VIGIL_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(VIGIL_BINARY, argv.data());
    _exit(127);
  }
  close(p[1]);
  proc.err_fd = p[0];
  return proc;
}

// Reads the child's stderr until `needle` appears or the deadline passes.
bool WaitForLog(Proc* proc, const std::string& needle, int timeout_ms = 20000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (proc->log.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    struct pollfd pfd = {proc->err_fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = read(proc->err_fd, buf, sizeof(buf));
    if (n <= 0) return proc->log.find(needle) != std::string::npos;
    proc->log.append(buf, static_cast<size_t>(n));
  }
  return true;
}

int Wait(Proc* proc) {
  int status = 0;
  waitpid(proc->pid, &status, 0);
  WaitForLog(proc, "\x01", 100);  // Drain what is left.
  close(proc->err_fd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ServeTest, StartsRefusesSecondInstanceAndStopsOnSigterm) {
  char tmpl[] = "/tmp/vigil_serve_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  Proc server = Start({"serve", "--data_dir=" + dir});
  ASSERT_TRUE(WaitForLog(&server, "msg=\"vigil started\"")) << server.log;
  EXPECT_NE(server.log.find("data_dir=" + dir), std::string::npos) << server.log;
  EXPECT_NE(server.log.find("replay_duration="), std::string::npos) << server.log;

  Proc second = Start({"serve", "--data_dir=" + dir});
  EXPECT_EQ(Wait(&second), 1);
  EXPECT_NE(second.log.find("in use by another process"), std::string::npos) << second.log;

  kill(server.pid, SIGTERM);
  EXPECT_EQ(Wait(&server), 0) << server.log;
  EXPECT_NE(server.log.find("shutdown complete"), std::string::npos) << server.log;
  (void)RemoveAll(dir);
}

TEST(ServeTest, BadFlagsAreClearErrors) {
  Proc p = Start({"serve", "--data_dir=/tmp/x", "--wal_fsync=sometimes"});
  EXPECT_EQ(Wait(&p), 2);
  EXPECT_NE(p.log.find("--wal_fsync"), std::string::npos) << p.log;
  Proc q = Start({"frobnicate"});
  EXPECT_EQ(Wait(&q), 2);
  EXPECT_NE(q.log.find("unknown command"), std::string::npos) << q.log;
}

}  // namespace
}  // namespace vigil
