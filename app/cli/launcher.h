#pragma once
// `otcs run --nproc N` on one machine: this process becomes rank 0 of N and starts ranks 1..N-1 as copies of
// itself (same arguments) with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
// MASTER_ADDR=127.0.0.1, MASTER_PORT=a free port). A rank that fails brings the others down and its exit status becomes
// the run's; children die with the parent (PR_SET_PDEATHSIG), so none is left behind, and they ignore Ctrl-C: rank 0
// stops at a step boundary with a checkpoint and then ends them.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace otcs::cli {

class LocalLauncher {
 public:
  // Spawns the children and sets this process's own environment to rank 0. Throws on failure.
  explicit LocalLauncher(int nproc);
  ~LocalLauncher();  // ends children still running (SIGTERM, then SIGKILL)
  LocalLauncher(const LocalLauncher&) = delete;
  LocalLauncher& operator=(const LocalLauncher&) = delete;

  // Rank 0 is done with status `own`: on success waits for the children and returns the first failing
  // child's status (or 0); otherwise ends the children and returns `own`.
  int finish(int own);

  // True in a process this launcher started (OTCS_LAUNCHED_RANK is set).
  static bool is_child();

 private:
  void monitor();
  void terminate_children(pid_t except);
  void remove_scratch();

  std::string scratch_root_;
  std::vector<pid_t> children_;
  std::vector<bool> reaped_;
  std::thread monitor_;
  std::atomic<bool> finishing_{false};
  std::mutex mutex_;
};

}  // namespace otcs::cli
