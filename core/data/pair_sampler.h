#pragma once
// The Stage II data sampler (OTCS "resampling by compatibility", OTCS:datasets/datasets_factory.py):
//   otcs         source i from an epoch permutation (uniform), then target j with probability proportional to
//                H(x_i, y_j) over the stored entries of row i of the sparse H. A row without entries follows
//                the bridge's redirect: -1 skips the source (keep_empty), another row uses that source and its
//                entries instead (next_source, the released behaviour).
//   paired       the true pairs (i, i) of paired data, for ablations.
//   independent  j uniform over all targets, ignoring H.
// Batches are a continuous stream over epochs (a batch can span two). Its own generator drives every draw;
// the permutation, cursor and generator state are saved with the checkpoint so a resume is exact.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include "core/data/specs.h"
#include "core/ot/sparse.h"

namespace otcs::data {

class PairSampler {
 public:
  // otcs: H [n, m] and redirect int64 [n] (undefined: every row must have entries or is skipped).
  PairSampler(PairMode mode, int64_t n_source, int64_t n_target, uint64_t seed, const ot::SparseMatrix* H = nullptr,
              torch::Tensor redirect = {});

  // Source and target indices, int64 [batch] each.
  std::pair<torch::Tensor, torch::Tensor> next(int64_t batch);
  // Draws one target for source row `row` (otcs mode; the row must have entries).
  int64_t draw_target(int64_t row, double u) const;

  int64_t epoch() const { return epoch_; }
  int64_t usable_sources() const { return usable_; }

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  void new_epoch();
  PairMode mode_;
  int64_t n_, m_;
  at::Generator gen_;
  std::vector<int64_t> indptr_, indices_;
  std::vector<double> cumulative_;  // running sum of H within each row
  std::vector<int64_t> row_of_;     // the row a source resolves to (redirect), -1: skipped
  int64_t usable_ = 0;
  torch::Tensor perm_;
  int64_t cursor_ = 0, epoch_ = 0;
};

}  // namespace otcs::data
