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
#include "tests/vigil_process.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

using testing::Proc;
using testing::WaitForLog;

Proc Start(std::vector<std::string> args) {
  // Never the default 0.0.0.0:9090: tests must not collide.
  if (!args.empty() && args[0] == "serve") args.insert(args.begin() + 1, "--listen=127.0.0.1:0");
  return testing::StartProcess(VIGIL_BINARY, args);
}
int Wait(Proc* p) { return testing::WaitExit(p); }

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
