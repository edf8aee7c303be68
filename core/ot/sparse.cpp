#include "core/ot/sparse.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/npy.h"

namespace otcs::ot {

int64_t SparseMatrix::row_nnz(int64_t row) const {
  auto p = indptr.data_ptr<int64_t>();
  return p[row + 1] - p[row];
}

torch::Tensor SparseMatrix::empty_rows() const {
  auto counts = indptr.slice(0, 1) - indptr.slice(0, 0, rows);
  return torch::nonzero(counts == 0).flatten();
}

torch::Tensor SparseMatrix::to_dense() const {
  auto dense = torch::zeros({rows, cols}, torch::kFloat32);
  auto counts = indptr.slice(0, 1) - indptr.slice(0, 0, rows);
  auto row_ids = torch::repeat_interleave(torch::arange(rows, torch::kInt64), counts);
  if (nnz() > 0) dense.index_put_({row_ids, indices}, values.to(torch::kFloat32));
  return dense;
}

SparseMatrix SparseMatrix::from_dense(const torch::Tensor& dense_in, double threshold) {
  auto dense = dense_in.to(torch::kFloat32).contiguous();
  SparseMatrix m;
  m.rows = dense.size(0);
  m.cols = dense.size(1);
  auto mask = dense > threshold;
  auto nz = torch::nonzero(mask);  // row-major order: sorted by row, then column
  m.indices = nz.select(1, 1).contiguous();
  m.values = dense.index({mask}).contiguous();
  auto counts = mask.sum(1, false, torch::kInt64);
  m.indptr = torch::cat({torch::zeros({1}, torch::kInt64), counts.cumsum(0)});
  return m;
}

void SparseMatrix::check() const {
  if (!indptr.defined() || indptr.scalar_type() != torch::kInt64 || indptr.dim() != 1 || indptr.numel() != rows + 1)
    throw std::runtime_error("sparse matrix: indptr must be int64 [rows + 1]");
  if (!indices.defined() || indices.scalar_type() != torch::kInt64 || !values.defined() ||
      values.numel() != indices.numel())
    throw std::runtime_error("sparse matrix: indices and values must have the same length");
  auto p = indptr.data_ptr<int64_t>();
  if (p[0] != 0 || p[rows] != indices.numel()) throw std::runtime_error("sparse matrix: indptr does not span nnz");
  if (rows > 0 && (indptr.slice(0, 1) < indptr.slice(0, 0, rows)).any().item<bool>())
    throw std::runtime_error("sparse matrix: indptr is not monotone");
  if (indices.numel() > 0 && (indices.min().item<int64_t>() < 0 || indices.max().item<int64_t>() >= cols))
    throw std::runtime_error("sparse matrix: column index out of range");
}

void save_sparse(const std::string& path, const SparseMatrix& m) {
  m.check();
  std::map<std::string, std::string> members{
      {"indices", io::npy_bytes(m.indices)},
      {"indptr", io::npy_bytes(m.indptr)},
      {"data", io::npy_bytes(m.values.to(torch::kFloat32))},
      {"shape", io::npy_bytes(torch::tensor({m.rows, m.cols}, torch::kInt64))},
      {"format", io::npy_bytes_string("csr")},
  };
  io::write_npz_members(path, members);
}

SparseMatrix load_sparse(const std::string& path) {
  auto arrays = io::read_npz(path);
  for (const char* key : {"indices", "indptr", "data", "shape"})
    if (!arrays.count(key)) fail("{}: not a sparse matrix file (no '{}' member)", path, key);
  if (arrays.count("format")) {
    auto f = arrays["format"];
    std::string format(reinterpret_cast<const char*>(f.data_ptr()), size_t(f.numel()));
    if (format != "csr") fail("{}: sparse format '{}' is not supported (expected csr)", path, format);
  }
  SparseMatrix m;
  auto shape = arrays["shape"].to(torch::kInt64);
  if (shape.numel() != 2) fail("{}: sparse matrix shape must have 2 entries", path);
  m.rows = shape[0].item<int64_t>();
  m.cols = shape[1].item<int64_t>();
  m.indptr = arrays["indptr"].to(torch::kInt64).contiguous();
  m.indices = arrays["indices"].to(torch::kInt64).contiguous();
  m.values = arrays["data"].to(torch::kFloat32).contiguous();
  try {
    m.check();
  } catch (const std::runtime_error& e) {
    fail("{}: {}", path, e.what());
  }
  return m;
}

}  // namespace otcs::ot
