#include "core/session/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/serialize.h>

#include "core/io/archive.h"
#include "core/io/file.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {
constexpr const char* kFormat = "otcs-checkpoint";
constexpr int64_t kFormatVersion = 1;

std::string first_line(std::string s) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}
}  // namespace

CheckpointStore::CheckpointStore(std::string dir, std::string prefix, int64_t keep)
    : dir_(std::move(dir)), prefix_(std::move(prefix)), keep_(std::max<int64_t>(1, keep)) {}

std::vector<CheckpointFile> CheckpointStore::list() const {
  std::vector<CheckpointFile> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  const std::regex pattern(prefix_ + "-([0-9]+)\\.pt");
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, pattern)) out.push_back({entry.path().string(), std::stoll(m[1].str())});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

void CheckpointStore::open(const std::string& path, torch::serialize::InputArchive& archive, int64_t* step,
                           std::string* config_hash) {
  open_bytes(io::read_file(path), archive, step, config_hash);
}

void CheckpointStore::open_bytes(const std::string& bytes, torch::serialize::InputArchive& archive, int64_t* step,
                                 std::string* config_hash) {
  if (bytes.empty()) throw std::runtime_error("the file is empty");
  try {
    io::check_zip_archive(bytes);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("truncated or corrupt archive (") + e.what() + ")");
  }
  c10::IValue format, version, s, hash;
  // Records are read lazily, so a corrupt archive can fail in try_read as well as in load_from.
  try {
    std::istringstream in(bytes);
    archive.load_from(in);
    if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != kFormat)
      throw std::runtime_error("not an otcs checkpoint");
    if (!archive.try_read("format_version", version) || !version.isInt() || version.toInt() != kFormatVersion)
      throw std::runtime_error("unsupported checkpoint format version");
    if (!archive.try_read("step", s) || !s.isInt()) throw std::runtime_error("missing 'step'");
    if (!archive.try_read("config_hash", hash) || !hash.isString()) throw std::runtime_error("missing 'config_hash'");
  } catch (const c10::Error& e) {
    throw std::runtime_error("truncated or corrupt archive (" + first_line(e.what_without_backtrace()) + ")");
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    // LibTorch's unpickler also lets std::out_of_range and the like escape on corrupt data (found by fuzzing).
    throw std::runtime_error("truncated or corrupt archive (" + first_line(e.what()) + ")");
  }
  if (step) *step = s.toInt();
  if (config_hash) *config_hash = hash.toStringRef();
}

std::string CheckpointStore::save(int64_t step, const std::string& config_hash,
                                  const std::function<void(torch::serialize::OutputArchive&)>& fill) const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormat)));
  archive.write("format_version", c10::IValue(kFormatVersion));
  archive.write("step", c10::IValue(step));
  archive.write("config_hash", c10::IValue(config_hash));
  archive.write("global_rng", at::detail::getDefaultCPUGenerator().get_state());
  fill(archive);
  std::ostringstream out;
  archive.save_to(out);
  const std::string path = (fs::path(dir_) / fmt::format("{}-{:09d}.pt", prefix_, step)).string();
  io::write_file_atomic(path, out.str());
  {
    torch::serialize::InputArchive check;
    int64_t back = -1;
    open(path, check, &back);  // throws if what landed on disk cannot be read back
    if (back != step) throw std::runtime_error(fmt::format("{}: read back step {} instead of {}", path, back, step));
  }
  // Files with a later step than this one are stale: a usable one would have been resumed from (they were
  // written for another configuration, or are corrupt). Remove them first, so pruning by step never deletes the
  // checkpoint just written; then keep the newest `keep`.
  auto files = list();
  std::vector<CheckpointFile> current;
  for (const auto& f : files) {
    if (f.step > step)
      fs::remove(f.path, ec);
    else
      current.push_back(f);
  }
  for (size_t i = 0; i + size_t(keep_) < current.size(); ++i) fs::remove(current[i].path, ec);
  return path;
}

std::optional<CheckpointStore::Loaded> CheckpointStore::load_latest(
    const std::string& config_hash, const std::function<void(torch::serialize::InputArchive&)>& restore,
    std::vector<std::string>* rejected_out) const {
  Loaded loaded;
  auto files = list();
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    const std::string name = fs::path(it->path).filename().string();
    try {
      torch::serialize::InputArchive archive;
      int64_t step = 0;
      std::string hash;
      open(it->path, archive, &step, &hash);
      if (hash != config_hash) throw std::runtime_error("written for a different configuration of this stage");
      torch::Tensor rng;
      if (!archive.try_read("global_rng", rng)) throw std::runtime_error("missing 'global_rng'");
      restore(archive);
      at::Generator global = at::detail::getDefaultCPUGenerator();  // a handle sharing the global state
      global.set_state(rng);
      loaded.path = it->path;
      loaded.step = step;
      if (rejected_out) *rejected_out = loaded.rejected;
      return loaded;
    } catch (const std::exception& e) {
      loaded.rejected.push_back(fmt::format("{}: cannot be used ({})", it->path, first_line(e.what())));
    }
  }
  if (rejected_out) *rejected_out = loaded.rejected;
  return std::nullopt;
}

void CheckpointStore::clear() const {
  std::error_code ec;
  for (const auto& f : list()) fs::remove(f.path, ec);
}

}  // namespace otcs::session
