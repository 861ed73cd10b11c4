// Runs the real `vigil` binary as a child process for end-to-end tests:
// start with flags, wait for log lines, learn the HTTP port, stop.
#ifndef VIGIL_TESTS_VIGIL_PROCESS_H_
#define VIGIL_TESTS_VIGIL_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vigil::testing {

struct Proc {
  pid_t pid = -1;
  int err_fd = -1;  // The child's stderr.
  std::string log;
};

// Starts `binary` with `args` (without argv[0]); stderr is captured.
inline Proc StartProcess(const std::string& binary, const std::vector<std::string>& args) {
  int p[2];
  if (pipe(p) != 0) return Proc{};
  Proc proc;
  proc.pid = fork();
  if (proc.pid == 0) {
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(p[1]);
  proc.err_fd = p[0];
  return proc;
}

// Reads the child's stderr until `needle` appears or the deadline passes.
inline bool WaitForLog(Proc* proc, const std::string& needle, int timeout_ms = 20000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (proc->log.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
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

// Reads the child's stderr until `deadline`, or until the child closes it
// (returns false then).
inline bool ReadLogUntil(Proc* proc, absl::Time deadline) {
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    struct pollfd pfd = {proc->err_fd, POLLIN, 0};
    int ms = static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
    if (poll(&pfd, 1, ms) <= 0) continue;
    char buf[4096];
    ssize_t n = read(proc->err_fd, buf, sizeof(buf));
    if (n <= 0) return false;
    proc->log.append(buf, static_cast<size_t>(n));
  }
}

// Waits for the child to exit; its exit code (128 + signal if killed).
inline int WaitExit(Proc* proc) {
  int status = 0;
  waitpid(proc->pid, &status, 0);
  WaitForLog(proc, "\x01", 100);  // Drain what is left.
  close(proc->err_fd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Reads whatever the child has written to stderr so far, without waiting,
// so that a chatty child never stalls on a full pipe.
inline void DrainLog(Proc* p) {
  if (p->err_fd < 0) return;
  for (;;) {
    pollfd pfd = {p->err_fd, POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0) return;
    char buf[4096];
    ssize_t n = read(p->err_fd, buf, sizeof(buf));
    if (n <= 0) return;
    p->log.append(buf, static_cast<size_t>(n));
  }
}

// Sends `sig` (none when 0) and waits up to `timeout` for the child to exit,
// reading its log meanwhile; kills it past the deadline. Returns its exit
// code (128 + signal if a signal ended it), or -1 if it had to be killed or
// was not running.
inline int StopProcess(Proc* p, int sig, absl::Duration timeout) {
  if (p->pid <= 0) return -1;
  if (sig != 0) kill(p->pid, sig);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, p->pid, 0));
  bool exited = false;
  absl::Time deadline = absl::Now() + timeout;
  while (pidfd >= 0 && !exited) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) < 0) break;
    DrainLog(p);
    exited = (fds[0].revents & POLLIN) != 0;
  }
  if (pidfd >= 0) close(pidfd);
  if (!exited) kill(p->pid, SIGKILL);
  int code = WaitExit(p);
  p->pid = -1;
  p->err_fd = -1;
  return exited ? code : -1;
}

// The value of `key=` in the first log line containing `line_needle`, or "".
inline std::string LogValue(const Proc& proc, const std::string& line_needle,
                            const std::string& key) {
  size_t at = proc.log.find(line_needle);
  if (at == std::string::npos) return "";
  size_t eol = proc.log.find('\n', at);
  std::string line = proc.log.substr(at, eol == std::string::npos ? eol : eol - at);
  size_t k = line.find(" " + key + "=");
  if (k == std::string::npos) return "";
  size_t start = k + key.size() + 2;
  size_t end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? end : end - start);
}

// Starts `vigil serve` on 127.0.0.1 with an OS-chosen port and waits until
// it is ready; *port receives the port (0 on failure; see proc.log).
inline Proc StartVigil(const std::string& binary, std::vector<std::string> args, int* port) {
  args.insert(args.begin(), {"serve", "--listen=127.0.0.1:0"});
  Proc p = StartProcess(binary, args);
  *port = 0;
  if (WaitForLog(&p, "msg=\"vigil started\"")) {
    (void)absl::SimpleAtoi(LogValue(p, "msg=\"vigil started\"", "port"), port);
  }
  return p;
}

}  // namespace vigil::testing

#endif  // VIGIL_TESTS_VIGIL_PROCESS_H_
