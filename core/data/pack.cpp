#include "core/data/pack.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/hash.h"
#include "core/data/idx.h"
#include "core/io/file.h"
#include "core/io/npy.h"

namespace otcs::data {

std::string pack_hash(const Pack& pack) {
  auto images = pack.images.contiguous();
  auto labels = pack.labels.to(torch::kInt64).contiguous();
  std::string shape = fmt::format("{}", fmt::join(images.sizes().vec(), "x"));
  std::string names;
  for (const auto& n : pack.names) names += n + '\n';
  uint64_t h = fnv1a64(shape.data(), shape.size());
  h = fnv1a64(images.data_ptr(), size_t(images.numel()), h);
  h = fnv1a64(labels.data_ptr(), size_t(labels.numel()) * 8, h);
  return hash_hex(names.data(), names.size(), h);
}

torch::Tensor Pack::as_float() const { return images.to(torch::kFloat32).div(127.5).sub(1.0); }

Pack Pack::subset(const torch::Tensor& indices) const {
  Pack out;
  auto idx = indices.to(torch::kInt64).contiguous();
  out.images = images.index_select(0, idx).contiguous();
  out.labels = labels.index_select(0, idx).contiguous();
  auto p = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) out.names.push_back(names.at(size_t(p[i])));
  out.content_hash = pack_hash(out);
  return out;
}

void save_pack(const std::string& path, const Pack& pack) {
  std::string names;
  for (const auto& n : pack.names) names += n + '\n';
  std::map<std::string, std::string> members{
      {"images", io::npy_bytes(pack.images)},
      {"labels", io::npy_bytes(pack.labels)},
      {"names", io::npy_bytes_string(names)},
      {"content_hash", io::npy_bytes_string(pack.content_hash)},
  };
  io::write_npz_members(path, members);
}

Pack load_pack(const std::string& path) { return parse_pack(io::read_file(path), path); }

Pack parse_pack(const std::string& bytes, const std::string& path) {
  auto arrays = io::parse_npz(bytes, path);
  for (const char* key : {"images", "labels", "names", "content_hash"})
    if (!arrays.count(key)) fail("{}: not a dataset pack (no '{}')", path, key);
  auto text = [](const torch::Tensor& t) {
    return std::string(reinterpret_cast<const char*>(t.data_ptr()), size_t(t.numel()));
  };
  Pack pack;
  pack.images = arrays["images"];
  pack.labels = arrays["labels"].to(torch::kInt64);
  std::string names = text(arrays["names"]);
  for (size_t start = 0, end; (end = names.find('\n', start)) != std::string::npos; start = end + 1)
    pack.names.push_back(names.substr(start, end - start));
  pack.content_hash = text(arrays["content_hash"]);
  if (pack.images.scalar_type() != torch::kUInt8 || pack.images.dim() != 4)
    fail("{}: pack images must be uint8 [N, C, H, W]", path);
  if (pack.labels.numel() != pack.images.size(0) || int64_t(pack.names.size()) != pack.images.size(0))
    fail("{}: pack has {} images, {} labels and {} names", path, pack.images.size(0), pack.labels.numel(),
         pack.names.size());
  if (pack_hash(pack) != pack.content_hash) fail("{}: pack contents do not match its hash (corrupt file)", path);
  return pack;
}

Pack import_idx(const std::string& images_path, const std::string& labels_path) {
  auto li = read_idx_pair(images_path, labels_path);
  Pack pack;
  pack.images = li.images;
  pack.labels = li.labels;
  for (int64_t i = 0; i < pack.images.size(0); ++i) pack.names.push_back(fmt::format("index:{}", i));
  pack.content_hash = pack_hash(pack);
  return pack;
}

std::string pack_cache_dir() {
  namespace fs = std::filesystem;
  if (const char* d = std::getenv("OTCS_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "otcs" / "packs").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : "/tmp") / ".cache" / "otcs" / "packs").string();
}

}  // namespace otcs::data
