#include "core/session/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include <zlib.h>

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/serialize.h>

#include "core/io/file.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {
constexpr const char* kFormat = "otcs-checkpoint";
constexpr int64_t kFormatVersion = 1;

uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }

// Checks the zip structure of an archive before LibTorch reads it: LibTorch (miniz) allocates what the headers
// claim before it checks anything (fuzzing found a 1.8 KB file that made it malloc 4 GiB), and a torn or
// bit-flipped file should be named as such. Every member must lie inside the file, claim no more than deflate
// can produce, and stored members must match their CRC.
void check_zip_structure(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 22) throw std::runtime_error("no zip directory");
  size_t eocd = std::string::npos;
  for (size_t i = n - 22;; --i) {
    if (le32(p + i) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0 || n - i > 22 + 65535) break;
  }
  if (eocd == std::string::npos) throw std::runtime_error("no zip directory");
  const size_t entries = le16(p + eocd + 10);
  size_t cd = le32(p + eocd + 16);
  if (entries == 0xffff || cd == 0xffffffffu) return;  // zip64 (archives over 4 GiB): left to LibTorch
  for (size_t e = 0; e < entries; ++e) {
    if (cd > n || n - cd < 46 || le32(p + cd) != 0x02014b50) throw std::runtime_error("corrupt zip directory");
    const unsigned method = le16(p + cd + 10);
    const uint32_t crc = le32(p + cd + 16);
    const size_t csize = le32(p + cd + 20), usize = le32(p + cd + 24);
    const size_t name_len = le16(p + cd + 28), extra_len = le16(p + cd + 30), comment_len = le16(p + cd + 32);
    const size_t local = le32(p + cd + 42);
    if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu) return;  // zip64 sizes
    cd += 46 + name_len + extra_len + comment_len;
    if (local > n || n - local < 30 || le32(p + local) != 0x04034b50) throw std::runtime_error("corrupt zip member");
    const size_t data_at = local + 30 + le16(p + local + 26) + le16(p + local + 28);
    if (data_at > n || n - data_at < csize) throw std::runtime_error("a member ends past the end of the file");
    if (method == 0) {
      if (usize != csize) throw std::runtime_error("zip member sizes disagree");
      if (crc32(0L, p + data_at, uInt(csize)) != crc) throw std::runtime_error("CRC mismatch");
    } else if (method == 8) {
      if (usize / 1032 > csize + 1) throw std::runtime_error("implausible zip member size");
    } else {
      throw std::runtime_error("unknown zip compression method");
    }
  }
}

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
    check_zip_structure(bytes);
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
    if (f.step > step) fs::remove(f.path, ec);
    else current.push_back(f);
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
      if (hash != config_hash)
        throw std::runtime_error("written for a different configuration of this stage");
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
