#include "core/run/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "core/common/error.h"

namespace fs = std::filesystem;

namespace otcs::run {

namespace {

// The PID written into an open lock file; 0 when it is empty or unreadable.
long read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  char* end = nullptr;
  const long pid = std::strtol(buf, &end, 10);
  return end != buf && pid > 0 ? pid : 0;
}

// The holder writes its PID just after taking the lock: give it a moment before reporting "unknown".
long holder_pid(int fd) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (const long pid = read_pid(fd)) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

}  // namespace

WriterLock::WriterLock(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) fail("{}: exists and is not a directory", dir);
  if (!fs::exists(dir, ec)) {
    created_dir_ = fs::create_directories(dir, ec);
    if (ec) fail("{}: cannot create the directory ({})", dir, ec.message());
  }
  const std::string path = (fs::path(dir) / kLockFile).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("{}: cannot open the writer lock {} ({})", dir, path, std::strerror(errno));
  int rc = 0, err = 0;
  // A reader's probe (writer_active) holds a shared lock for a moment: retry briefly before calling it a writer.
  for (int attempt = 0; attempt < 5; ++attempt) {
    do {
      rc = ::flock(fd_, LOCK_EX | LOCK_NB);
      err = rc != 0 ? errno : 0;
    } while (rc != 0 && err == EINTR);
    if (rc == 0 || err != EWOULDBLOCK) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (rc != 0) {
    const long pid = err == EWOULDBLOCK ? holder_pid(fd_) : 0;
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) fail("{}: cannot lock {} ({})", dir, path, std::strerror(err));
    if (pid > 0)
      fail("{} is being written by another process (PID {}); wait for it to finish or choose another directory", dir,
           pid);
    fail(
        "{} is being written by another process (its PID is not recorded in {}); wait for it to finish or choose "
        "another directory",
        dir, path);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    // The lock itself is held; only the PID for a second writer's message is missing. Not worth failing a run.
  }
}

bool writer_active(const std::string& dir) {
  const std::string path = (fs::path(dir) / kLockFile).string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int rc;
  do {
    rc = ::flock(fd, LOCK_SH | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  const bool held = rc != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops the probe's shared lock, if it got one
  return held;
}

WriterLock::~WriterLock() {
  // The file stays: removing it would race with a writer that opened it and waits for the lock.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace otcs::run
