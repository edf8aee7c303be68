#pragma once
// A dataset pack: images as one uint8 tensor plus labels, sample names and a content hash. Importers
// (MNIST idx here, image folders and Chinese-MNIST in core/imaging) produce packs; packs load in milliseconds
// from an .npz file and are cached by the hash of their inputs.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace otcs::data {

struct Pack {
  torch::Tensor images;            // uint8 [N, C, H, W]
  torch::Tensor labels;            // int64 [N]; -1 where a sample has no label
  std::vector<std::string> names;  // one identifier per sample (file name, or "index:<i>")
  std::string content_hash;        // hex, over the pixels, labels and names

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  // Float images in [-1, 1], [N, C, H, W].
  torch::Tensor as_float() const;
  // The subset at the given indices (hash recomputed).
  Pack subset(const torch::Tensor& indices) const;
};

// The content hash (core/common/hash.h) over the shape, pixels, labels and names.
std::string pack_hash(const Pack& pack);

void save_pack(const std::string& path, const Pack& pack);
Pack load_pack(const std::string& path);  // verifies the stored hash against the contents
Pack parse_pack(const std::string& bytes, const std::string& name_for_errors);

// MNIST idx images + labels as a pack (names "index:<i>").
Pack import_idx(const std::string& images_path, const std::string& labels_path);

// The pack cache directory ($OTCS_CACHE_DIR, else $XDG_CACHE_HOME/otcs/packs, else ~/.cache/otcs/packs).
std::string pack_cache_dir();

}  // namespace otcs::data
