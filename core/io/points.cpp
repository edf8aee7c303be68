#include "core/io/points.h"

#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/io/parse_number.h"

namespace otcs::io {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_finite(const torch::Tensor& t, const std::string& name) {
  auto bad = torch::logical_not(torch::isfinite(t));
  if (bad.any().item<bool>()) {
    auto where = torch::nonzero(bad)[0];
    fail("{}: row {} column {} is not a finite number (NaN or Inf)", name, where[0].item<int64_t>() + 1,
         where[1].item<int64_t>() + 1);
  }
}
}  // namespace

torch::Tensor parse_points_csv(const std::string& text, const std::string& name) {
  std::vector<double> values;
  int64_t cols = -1, rows = 0;
  size_t pos = 0, line_no = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      if (end == text.size()) break;
      continue;
    }
    int64_t count = 0;
    size_t b = 0;
    while (true) {
      size_t comma = line.find(',', b);
      std::string field = line.substr(b, comma == std::string::npos ? std::string::npos : comma - b);
      const auto fb = field.find_first_not_of(" \t");
      const auto fe = field.find_last_not_of(" \t");
      if (fb == std::string::npos) fail("{}: line {}: empty field {}", name, line_no, count + 1);
      field = field.substr(fb, fe - fb + 1);
      double x = 0;
      if (!parse_double(field, x))
        fail("{}: line {}: field {} ('{}') is not a number", name, line_no, count + 1, field);
      if (!std::isfinite(x))
        fail("{}: line {}: field {} is not a finite number (NaN or Inf)", name, line_no, count + 1);
      values.push_back(x);
      ++count;
      if (comma == std::string::npos) break;
      b = comma + 1;
    }
    if (cols < 0)
      cols = count;
    else if (count != cols)
      fail("{}: line {} has {} values but the first line has {} (ragged CSV)", name, line_no, count, cols);
    ++rows;
    if (end == text.size()) break;
  }
  if (rows == 0) fail("{}: no samples (empty file)", name);
  return torch::tensor(values, torch::kFloat64).reshape({rows, cols});
}

torch::Tensor read_points(const std::string& path) {
  torch::Tensor t;
  if (ends_with(path, ".npy")) {
    t = read_npy(path);
    if (t.scalar_type() != torch::kFloat32 && t.scalar_type() != torch::kFloat64)
      fail("{}: point clouds must be float32 or float64 arrays", path);
    if (t.dim() == 1) t = t.unsqueeze(1);
    if (t.dim() != 2) fail("{}: expected a 2-D array (samples x features), got {} dimensions", path, t.dim());
    if (t.size(0) == 0 || t.size(1) == 0) fail("{}: no samples (empty array)", path);
    check_finite(t, path);
    return t.contiguous();
  }
  if (ends_with(path, ".csv") || ends_with(path, ".txt")) return parse_points_csv(read_file(path), path);
  fail("{}: unknown point-cloud format (expected .npy or .csv)", path);
}

}  // namespace otcs::io
