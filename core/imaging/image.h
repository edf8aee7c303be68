#pragma once
// Image files in and out: decoding with validation (a corrupt or truncated file is a UserError naming it),
// PNG encoding, and the conversions between 8-bit images and float tensors in [-1, 1].
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace otcs::imaging {

// Decodes an image file to a uint8 tensor of shape [H, W, C] with C = channels (1 or 3; 0 keeps the file's).
torch::Tensor read_image(const std::string& path, int channels = 0);

// Encodes a uint8 [H, W, C] (C = 1, 3) or [H, W] tensor as PNG, written atomically.
void write_png(const std::string& path, const torch::Tensor& image);

// uint8 [H, W, C] <-> float [C, H, W] in [-1, 1].
torch::Tensor to_float_chw(const torch::Tensor& hwc_uint8);
torch::Tensor to_uint8_hwc(const torch::Tensor& chw_float);

}  // namespace otcs::imaging
