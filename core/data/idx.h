#pragma once
// MNIST-style idx files (images idx3-ubyte, labels idx1-ubyte), gzip-compressed or not.
#include <string>

#include <torch/types.h>

namespace otcs::data {

// Reads an idx file of unsigned bytes: returns uint8 [dims...]. Checks the magic number (0x0000080D with
// D = number of dimensions), that the data is complete and that nothing follows it. Throws UserError naming the
// file on anything else (wrong magic, truncated, trailing bytes, corrupt gzip).
torch::Tensor read_idx(const std::string& path);
// The same on the file's bytes (`name_for_errors` prefixes messages).
torch::Tensor parse_idx(const std::string& bytes, const std::string& name_for_errors);

struct LabelledImages {
  torch::Tensor images;  // uint8 [N, 1, H, W]
  torch::Tensor labels;  // int64 [N]
};

// An image file and its label file; their counts must agree.
LabelledImages read_idx_pair(const std::string& images_path, const std::string& labels_path);

}  // namespace otcs::data
