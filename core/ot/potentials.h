#pragma once
// Dual potentials u(x) (source side) and v(y) (target side) behind one interface, so the trainer, the bridge
// and checkpoints do not care whether a potential is a network of the features or a table indexed by sample.
#include <cstdint>
#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "core/ot/kinds.h"

namespace otcs::ot {

// Everything needed to rebuild a potential before loading its parameters (stored in checkpoints).
struct PotentialSpec {
  PotentialKind kind = PotentialKind::Mlp;
  // MLP, as OTCS:functions/models.py Potential: Linear(input_dim, width) + act, then `depth` x
  // [Linear(width, width) + act], then Linear(width, 1). The CelebA run is width 512, depth 5, SiLU.
  int64_t input_dim = 0;
  int64_t width = 512;
  int64_t depth = 2;
  Activation activation = Activation::SiLU;
  // Tabular: one learnable value per sample of a finite set (initialised to 0).
  int64_t size = 0;
  torch::ScalarType dtype = torch::kFloat32;
};

class Potential : public torch::nn::Module {
 public:
  // features: [B, d] rows of the samples (ignored by tabular; may be undefined for it);
  // indices: [B] int64 positions of those samples in their set (ignored by the MLP; may be undefined for it).
  // Returns [B].
  virtual torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& indices) = 0;
  virtual const PotentialSpec& spec() const = 0;
  bool needs_features() const { return spec().kind == PotentialKind::Mlp; }
  bool needs_indices() const { return spec().kind == PotentialKind::Tabular; }
};

// Builds a potential; MLP weights use PyTorch's default nn.Linear initialisation drawn from a generator
// seeded with `seed`, so construction is deterministic and does not touch the global RNG.
std::shared_ptr<Potential> make_potential(const PotentialSpec& spec, uint64_t seed);

// u or v for every row of `features` (or every index 0..size-1 for tabular, when features is undefined),
// in chunks of `chunk` rows under NoGradGuard. Returns [n] in the potential's dtype.
torch::Tensor evaluate_potential(Potential& potential, const torch::Tensor& features, int64_t chunk = 4096);

// Parameters plus the spec, in one file (torch::serialize archive).
void save_potential(const std::string& path, Potential& potential);
std::shared_ptr<Potential> load_potential(const std::string& path);  // throws UserError naming the file

}  // namespace otcs::ot
