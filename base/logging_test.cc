#include "base/logging.h"

#include <unistd.h>

#include "gtest/gtest.h"

namespace vigil {
namespace {

std::string Capture(const std::function<void()>& fn) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  SetLogFd(fds[1]);
  fn();
  SetLogFd(2);
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fds[0]);
  return out;
}

TEST(LoggingTest, Logfmt) {
  std::string out = Capture([] {
    LogInfo("wal", "replay done").Kv("segments", 3).Kv("path", "a b");
  });
  EXPECT_NE(out.find("level=info component=wal msg=\"replay done\" segments=3 "
                     "path=\"a b\"\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.rfind("ts=", 0), 0u);
}

TEST(LoggingTest, LevelFilters) {
  std::string out = Capture([] { LogDebug("x", "hidden"); });
  EXPECT_EQ(out, "");
}

TEST(LoggingTest, Json) {
  SetLogFormat(LogFormat::kJson);
  std::string out = Capture([] { LogWarn("db", "q\"x").Kv("n", 1); });
  SetLogFormat(LogFormat::kLogfmt);
  EXPECT_NE(out.find("\"level\":\"warn\",\"component\":\"db\",\"msg\":\"q\\\"x\","
                     "\"n\":\"1\"}"),
            std::string::npos)
      << out;
}

TEST(LoggingTest, BadNames) {
  EXPECT_FALSE(SetLogLevelByName("loud").ok());
  EXPECT_FALSE(SetLogFormatByName("xml").ok());
  EXPECT_TRUE(SetLogLevelByName("INFO").ok());
}

}  // namespace
}  // namespace vigil
