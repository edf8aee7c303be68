#include "core/run/run_meta.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/common/runtime.h"
#include "core/io/file.h"
#include "core/run/json_text.h"
#include "core/run/lock.h"

namespace fs = std::filesystem;

namespace otcs::run {

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto b = line.find_first_not_of(" \t", colon + 1);
    return b == std::string::npos ? std::string() : line.substr(b);
  }
  return {};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

bool is_run_metadata_file(const std::string& file_name) { return file_name == kRunMetaFile || file_name == kLockFile; }

namespace {

// The names under DIR (recursively) other than the run's metadata and its log: what a command added shows here.
std::set<std::string> contents(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it.depth() == 0 && (is_run_metadata_file(name) || name == "otcs.log")) continue;
    names.insert(it->path().lexically_relative(dir).string());
  }
  return names;
}

std::optional<std::string> read_if_exists(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

struct RunRecord::Impl {
  explicit Impl(const std::string& d)
      : lock_file_existed(fs::exists(fs::path(d) / kLockFile)),
        lock(d),
        dir(d),
        previous_meta(read_if_exists(dir / kRunMetaFile)),
        before(contents(dir)) {}
  bool lock_file_existed;
  WriterLock lock;
  fs::path dir;
  std::optional<std::string> previous_meta;  // run.json as an earlier writer left it
  std::set<std::string> before;              // what DIR held when this writer started
  nlohmann::json meta;
  bool finished = false;

  // Leaves DIR as this writer found it: the previous run.json (or none), no lock file it did not find, and no
  // directory it created.
  void restore() {
    std::error_code ec;
    if (previous_meta)
      io::write_file_atomic((dir / kRunMetaFile).string(), *previous_meta);
    else
      fs::remove(dir / kRunMetaFile, ec);
    if (!lock_file_existed) fs::remove(dir / kLockFile, ec);
    if (lock.created_dir()) fs::remove(dir, ec);  // only when empty
  }
};

RunRecord::RunRecord(const std::string& dir, std::vector<std::string> command_line, std::string device)
    : impl_(std::make_unique<Impl>(dir)) {
  const RuntimeInfo info = runtime_info();
  auto& m = impl_->meta;
  m["schema_version"] = 1;
  m["otcs_version"] = info.otcs_version;
  m["git_revision"] = git_revision();
  m["command_line"] = std::move(command_line);
  m["host"] = host_name();
  m["cpu_model"] = cpu_model();
  m["threads"] = info.torch_threads;
  m["blas"] = {{"name", info.blas_name}, {"config", info.blas_detail}, {"library", info.blas_library}};
  m["device"] = std::move(device);
  m["pid"] = long(::getpid());
  m["started"] = iso8601_utc(std::chrono::system_clock::now());
  m["ended"] = nullptr;
  m["status"] = "running";
  m["exit_code"] = nullptr;
  write_json_atomic((impl_->dir / kRunMetaFile).string(), m);
}

RunRecord::~RunRecord() = default;

bool RunRecord::created_dir() const { return impl_->lock.created_dir(); }

void RunRecord::finish(int exit_code) {
  if (impl_->finished) return;
  impl_->finished = true;
  try {
    std::error_code ec;
    if (!fs::is_directory(impl_->dir, ec)) return;
    // A failed command that added nothing is no run of this directory: in a directory it created (any failure),
    // or refused for bad input (exit 2: "nothing half-written left behind") in one that existed.
    if (exit_code != 0 && (created_dir() || exit_code == 2) && contents(impl_->dir) == impl_->before) {
      impl_->restore();
      return;
    }
    auto& m = impl_->meta;
    m["threads"] = torch::get_num_threads();  // a command may have changed it after the start (see otcs run)
    m["ended"] = iso8601_utc(std::chrono::system_clock::now());
    m["status"] = exit_code == 0 ? "finished" : exit_code == 130 ? "stopped" : "failed";
    m["exit_code"] = exit_code;
    write_json_atomic((impl_->dir / kRunMetaFile).string(), m);
  } catch (const std::exception& e) {
    spdlog::warn("{}: could not record the run's end in {} ({})", impl_->dir.string(), kRunMetaFile, e.what());
  }
}

}  // namespace otcs::run
