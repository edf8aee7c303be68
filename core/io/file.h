#pragma once
// Files that are never torn: every write goes to a temporary file beside the target, is flushed to disk and
// renamed over it, so a crash or a full disk leaves the previous version intact.
#include <string>
#include <vector>

namespace otcs::io {

// Throws UserError when missing, unreadable, a directory, or larger than the memory available (require_memory).
std::string read_file(const std::string& path);

// Memory this process may still take: MemAvailable from /proc/meminfo, or OTCS_MEMORY_LIMIT_MB when that is set
// (a budget a user can give; the tests use it to exercise the refusals). 0 when neither is known.
unsigned long long available_memory_bytes();
// Refuses (UserError "<what> needs X of memory but only Y is available (...); <advice>") when `bytes` exceeds 90%
// of available_memory_bytes(), instead of letting the kernel kill the process without a word.
void require_memory(unsigned long long bytes, const std::string& what, const std::string& advice);
std::string human_bytes(unsigned long long bytes);
void write_file_atomic(const std::string& path, const std::string& bytes);

// Collects the outputs of one command: the directory is created on demand, and unless commit() is called
// every file written through it (and the directory, if this object created it) is removed again, so a failed
// command leaves nothing half-written behind.
class OutputDir {
 public:
  explicit OutputDir(std::string dir);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const;
  // Registers a file name that will be written (so it is removed on failure) and returns its path.
  std::string claim(const std::string& name);
  void write(const std::string& name, const std::string& bytes);
  void commit() { committed_ = true; }

 private:
  void ensure_dir();
  std::string dir_;
  bool created_ = false;
  bool committed_ = false;
  std::vector<std::string> written_;
};

}  // namespace otcs::io
