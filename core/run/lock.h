#pragma once
// One writer per run directory: an advisory lock (flock(2)) on DIR/.lock, a file that holds the holder's PID.
// The kernel drops the lock when the holder's descriptor closes, however the process ends (kill -9 included),
// so a lock is never stale. Readers (the GUI loading a run, `otcs translate --run`) take no lock.
// Free of LibTorch: GUI translation units include it.
#include <string>

namespace otcs::run {

class WriterLock {
 public:
  // Creates DIR when missing and takes its lock. Throws UserError, one sentence naming the holder's PID, when
  // another writer (another process, or another WriterLock in this one) holds it.
  explicit WriterLock(const std::string& dir);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  const std::string& dir() const { return dir_; }
  // Whether this lock created DIR (a command that fails may then remove what it made).
  bool created_dir() const { return created_dir_; }

 private:
  std::string dir_;
  int fd_ = -1;
  bool created_dir_ = false;
};

// Whether a writer holds DIR's lock now (a probe that takes and drops the lock at once; false when DIR has no lock
// file). A run.json that says "running" while no writer holds the lock belongs to a writer that was killed
// before it could record its outcome (kill -9, power loss).
bool writer_active(const std::string& dir);

// The lock file's name inside a run directory.
inline constexpr const char* kLockFile = ".lock";

}  // namespace otcs::run
