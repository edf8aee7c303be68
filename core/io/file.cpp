#include "core/io/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/common/error.h"
#include "core/io/parse_number.h"

namespace fs = std::filesystem;

namespace otcs::io {

std::string human_bytes(unsigned long long bytes) {
  const double b = double(bytes);
  if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{} bytes", bytes);
}

unsigned long long available_memory_bytes() {
  if (const char* limit = std::getenv("OTCS_MEMORY_LIMIT_MB"); limit && *limit) {
    double mb = 0;
    if (parse_double(limit, mb) && mb > 0) return static_cast<unsigned long long>(mb * 1024.0 * 1024.0);
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  unsigned long long kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024ull;
  return 0;
}

void require_memory(unsigned long long bytes, const std::string& what, const std::string& advice) {
  const unsigned long long available = available_memory_bytes();
  if (available == 0 || bytes <= available / 10 * 9) return;
  const bool budget = std::getenv("OTCS_MEMORY_LIMIT_MB") && *std::getenv("OTCS_MEMORY_LIMIT_MB");
  fail("{}: needs {} of memory but only {} is available ({}); {}", what, human_bytes(bytes), human_bytes(available),
       budget ? "OTCS_MEMORY_LIMIT_MB" : "MemAvailable", advice);
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: file not found", path);
  if (fs::is_directory(path, ec)) fail("{}: is a directory, expected a file", path);
  if (const auto size = fs::file_size(path, ec); !ec)
    require_memory(size, path, "the file is read whole: split it, or subsample it before importing");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open for reading ({})", path, std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("{}: read error", path);
  return buffer.str();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  fs::path target(path);
  std::string tmp =
      (target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(getpid()))).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("{}: cannot write ({})", path, std::strerror(errno));
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("{}: write failed ({}); the previous file is unchanged", path, std::strerror(err));
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("{}: write failed ({}); the previous file is unchanged", path, std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("{}: cannot replace ({})", path, std::strerror(err));
  }
  // The rename itself lives in the directory: without syncing it a power loss can bring back the old name (or
  // none), even though the data was flushed.
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : std::string(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("{}: cannot open its directory to sync the rename ({})", path, std::strerror(errno));
  if (::fsync(dfd) != 0 && errno != EINVAL) {  // EINVAL: a file system that cannot sync directories
    int err = errno;
    ::close(dfd);
    fail("{}: cannot sync its directory ({})", path, std::strerror(err));
  }
  ::close(dfd);
}

OutputDir::OutputDir(std::string dir) : dir_(std::move(dir)) {}

OutputDir::~OutputDir() {
  if (committed_) return;
  std::error_code ec;
  for (const auto& file : written_) fs::remove(file, ec);
  if (created_) fs::remove_all(dir_, ec);
}

void OutputDir::ensure_dir() {
  std::error_code ec;
  if (fs::is_directory(dir_, ec)) return;
  if (fs::exists(dir_, ec)) fail("{}: exists and is not a directory", dir_);
  fs::create_directories(dir_, ec);
  if (ec) fail("{}: cannot create directory ({})", dir_, ec.message());
  created_ = true;
}

std::string OutputDir::path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

std::string OutputDir::claim(const std::string& name) {
  ensure_dir();
  std::string p = path(name);
  written_.push_back(p);
  return p;
}

void OutputDir::write(const std::string& name, const std::string& bytes) { write_file_atomic(claim(name), bytes); }

}  // namespace otcs::io
