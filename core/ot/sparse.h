#pragma once
// The compatibility matrix H as a CSR sparse matrix (rows = source samples, columns = target samples),
// stored as scipy.sparse.save_npz writes it, so `scipy.sparse.load_npz(path)` reads our files (RUN/bridge/H.npz, the
// H of `otcs ot`: core/run/layout.h).
#include <cstdint>
#include <string>

#include <torch/types.h>

namespace otcs::ot {

struct SparseMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  torch::Tensor indptr;   // int64 [rows + 1]
  torch::Tensor indices;  // int64 [nnz], column of each entry, sorted within a row
  torch::Tensor values;   // float32 [nnz]

  int64_t nnz() const { return indices.defined() ? indices.numel() : 0; }
  int64_t row_nnz(int64_t row) const;
  // Rows without any entry (the released code silently skips them; we report them).
  torch::Tensor empty_rows() const;
  torch::Tensor to_dense() const;  // float32 [rows, cols]; for small matrices and tests
  static SparseMatrix from_dense(const torch::Tensor& dense, double threshold = 0.0);
  void check() const;  // throws std::runtime_error if the structure is inconsistent
};

void save_sparse(const std::string& path, const SparseMatrix& m);
SparseMatrix load_sparse(const std::string& path);  // throws UserError naming the file

}  // namespace otcs::ot
