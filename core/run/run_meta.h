#pragma once
// RUN/run.json: what produced a run directory and how it ended. A RunRecord takes the directory's writer lock
// (core/run/lock.h), writes run.json with status "running" when the writer starts, and rewrites it at the end
// with the end time and the outcome: "finished" (exit code 0), "stopped" (130: Ctrl-C / SIGTERM after a
// checkpoint) or "failed" (any other code). Both writes are atomic. Free of LibTorch (GUI translation units
// include it).
//
// {"schema_version": 1, "otcs_version", "git_revision", "command_line": [argv...], "host", "cpu_model",
//  "threads", "blas": {"name", "config", "library"}, "device", "pid", "started", "ended" (ISO 8601 UTC; null while
//  running), "status", "exit_code" (null while running)}
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace otcs::run {

inline constexpr const char* kRunMetaFile = "run.json";

class RunRecord {
 public:
  // Takes DIR's writer lock (creating DIR when missing; UserError naming the holder's PID when another writer
  // holds it) and writes DIR/run.json with status "running".
  RunRecord(const std::string& dir, std::vector<std::string> command_line, std::string device);
  ~RunRecord();  // releases the lock
  RunRecord(const RunRecord&) = delete;
  RunRecord& operator=(const RunRecord&) = delete;

  // Rewrites run.json with the outcome. A failed command that added nothing to the directory (names compared
  // with the start, run.json, the lock file and otcs.log aside) leaves it as it was found instead (the previous
  // run.json or none, no new lock file, no directory this record created) when the record created the directory
  // or the command was refused for bad input (exit code 2). A directory removed meanwhile (by the command's own
  // cleanup) is left alone. Never throws: a run's result must not be lost to its metadata (failures are logged).
  void finish(int exit_code);

  bool created_dir() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Helpers run.json is made of.
std::string iso8601_utc(std::chrono::system_clock::time_point t);  // "2024-05-01T12:34:56Z"
std::string cpu_model();                                           // "model name" from /proc/cpuinfo; "" when unknown
std::string host_name();
const char* git_revision();  // the source revision when the build tree was configured; "unknown" outside git
// Files a run directory may hold that are not the run's own results (the writer's lock and run.json).
bool is_run_metadata_file(const std::string& file_name);

}  // namespace otcs::run
