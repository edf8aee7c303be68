#pragma once
// Point clouds for OT problems: rows = samples. `.npy` (float32/float64, 1-D taken as one column) or headerless
// CSV (one sample a line, comma-separated numbers). Every reader checks what it parses and throws UserError
// naming the file: missing, empty, ragged rows, non-numbers, NaN/Inf.
#include <string>

#include <torch/types.h>

namespace otcs::io {

// Returns float32 or float64 [n, d] (CSV gives float64), n >= 1, d >= 1, all finite.
torch::Tensor read_points(const std::string& path);
torch::Tensor parse_points_csv(const std::string& text, const std::string& name_for_errors);

}  // namespace otcs::io
