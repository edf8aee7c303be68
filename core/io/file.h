#pragma once
// Files that are never torn: every write goes to a temporary file beside the target, is flushed to disk and
// renamed over it, so a crash or a full disk leaves the previous version intact.
#include <string>
#include <vector>

namespace otcs::io {

std::string read_file(const std::string& path);  // throws UserError (missing, unreadable, a directory)
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
