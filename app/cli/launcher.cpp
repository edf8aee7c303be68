#include "app/cli/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

extern char** environ;

namespace otcs::cli {

namespace {

// A port the kernel calls free now (bound to port 0 on loopback, then released), as torchrun picks one.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("launcher: cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  if (port <= 0) throw std::runtime_error("launcher: cannot find a free port on 127.0.0.1");
  return port;
}

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string cur;
  for (char c : all) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) args.push_back(cur);
  if (args.empty()) throw std::runtime_error("launcher: cannot read /proc/self/cmdline");
  return args;
}

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

bool LocalLauncher::is_child() {
  const char* r = std::getenv("OTCS_LAUNCHED_RANK");
  return r && *r;
}

LocalLauncher::LocalLauncher(int nproc) {
  const int port = free_port();
  const std::string world = std::to_string(nproc), port_s = std::to_string(port);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", port_s.c_str(), 1);
  ::setenv("WORLD_SIZE", world.c_str(), 1);
  ::setenv("LOCAL_WORLD_SIZE", world.c_str(), 1);  // every rank runs here: they share the cores (runtime.h)
  ::setenv("RANK", "0", 1);
  ::setenv("LOCAL_RANK", "0", 1);
  // The children's scratch runs live under one directory that this process removes once they are gone,
  // however they ended (a SIGTERMed or crashed child cannot clean up after itself).
  scratch_root_ = (std::filesystem::temp_directory_path() / fmt::format("otcs-ranks-{}", ::getpid())).string();
  ::setenv("OTCS_SCRATCH_ROOT", scratch_root_.c_str(), 1);
  const auto args = own_command_line();
  const pid_t parent = ::getpid();
  for (int rank = 1; rank < nproc; ++rank) {
    // Everything the child needs is prepared before fork: between fork and exec only async-signal-safe calls.
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      if (kv.rfind("RANK=", 0) == 0 || kv.rfind("LOCAL_RANK=", 0) == 0) continue;
      env_store.push_back(kv);
    }
    env_store.push_back("RANK=" + std::to_string(rank));
    env_store.push_back("LOCAL_RANK=" + std::to_string(rank));
    env_store.push_back("OTCS_LAUNCHED_RANK=" + std::to_string(rank));
    std::vector<char*> envp, argv;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> arg_store = args;
    for (auto& s : arg_store) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      terminate_children(0);
      throw std::runtime_error("launcher: fork failed");
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
      ::signal(SIGINT, SIG_IGN);              // Ctrl-C is rank 0's to handle; it ends the children
      ::execve("/proc/self/exe", argv.data(), envp.data());
      ::_exit(127);
    }
    children_.push_back(pid);
    reaped_.push_back(false);
  }
  monitor_ = std::thread([this] { monitor(); });
}

LocalLauncher::~LocalLauncher() {
  finishing_ = true;
  if (monitor_.joinable()) monitor_.join();
  terminate_children(0);
  remove_scratch();
}

void LocalLauncher::remove_scratch() {
  std::error_code ec;
  if (!scratch_root_.empty()) std::filesystem::remove_all(scratch_root_, ec);
}

void LocalLauncher::terminate_children(pid_t except) {
  for (size_t i = 0; i < children_.size(); ++i)
    if (!reaped_[i] && children_[i] != except) ::kill(children_[i], SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (size_t i = 0; i < children_.size(); ++i) {
    if (reaped_[i]) continue;
    int status = 0;
    while (::waitpid(children_[i], &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(children_[i], SIGKILL);
        ::waitpid(children_[i], &status, 0);
        break;
      }
      ::usleep(20000);
    }
    reaped_[i] = true;
  }
}

void LocalLauncher::monitor() {
  while (!finishing_.load()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < children_.size(); ++i) {
        if (reaped_[i]) continue;
        int status = 0;
        if (::waitpid(children_[i], &status, WNOHANG) != children_[i]) continue;
        reaped_[i] = true;
        const int code = status_code(status);
        if (code != 0) {
          // A rank failed: the collectives of the others can never complete. End them all, with its status.
          std::fprintf(stderr, "otcs: error: rank %zu exited with status %d; stopping the other ranks\n", i + 1, code);
          terminate_children(0);
          remove_scratch();
          spdlog::default_logger()->flush();
          std::_Exit(code);
        }
      }
    }
    ::usleep(100000);
  }
}

int LocalLauncher::finish(int own) {
  finishing_ = true;
  if (monitor_.joinable()) monitor_.join();
  if (own != 0) {
    // Rank 0 failing in a collective usually means a child died first (Gloo: "Connection reset by peer"): the
    // child's status is the cause, so it is the run's.
    int cause = 0;
    for (size_t i = 0; i < children_.size(); ++i) {
      int status = 0;
      if (reaped_[i] || ::waitpid(children_[i], &status, WNOHANG) != children_[i]) continue;
      reaped_[i] = true;
      const int code = status_code(status);
      if (code != 0 && cause == 0) {
        cause = code;
        std::fprintf(stderr, "otcs: error: rank %zu exited with status %d; stopping the other ranks\n", i + 1, code);
      }
    }
    terminate_children(0);
    return cause != 0 ? cause : own;
  }
  int result = 0;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (reaped_[i]) continue;
    int status = 0;
    ::waitpid(children_[i], &status, 0);
    reaped_[i] = true;
    const int code = status_code(status);
    if (code != 0 && result == 0) {
      result = code;
      std::fprintf(stderr, "otcs: error: rank %zu exited with status %d\n", i + 1, code);
      terminate_children(0);
    }
  }
  return result;
}

}  // namespace otcs::cli
