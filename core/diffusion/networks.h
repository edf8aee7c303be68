#pragma once
// Conditional score networks: one interface, forward(x_t, network time, condition), two families.
//   ScoreMlp  vectors (the 2-D toys, feature vectors): a Gaussian-Fourier (the OTCS demos, scale 30) or
//             sinusoidal time embedding plus an MLP embedding of the condition, added into every residual
//             block; the condition is also concatenated to the input.
//   UNet      images, DDIM-style (the OTCS CelebA backbone in miniature): residual blocks with GroupNorm and a
//             time-embedding projection, self-attention at chosen resolutions, sinusoidal time embedding in
//             the DDIM layout ([sin, cos], frequency denominator half - 1). The condition enters as extra
//             input channels (an image, as the CelebA 6-channel conv_in) and/or as a feature vector through
//             Linear-SiLU-Linear added to the time embedding (as the animal task's CLIP features).
// Sizes are all configurable so a 28x28 or 32x32 model trains on two CPU cores.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "core/diffusion/specs.h"

namespace otcs::diffusion {

// All networks: x [B, ...], t [B] (what Schedule::network_time returns), cond [B, ...] or undefined.
class ScoreNetwork : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& cond) = 0;
};

// Sinusoidal embedding, DDIM layout: [sin, cos], frequencies exp(-ln(10000) k / (half - 1)).
torch::Tensor sinusoidal_embedding(const torch::Tensor& t, int64_t dim);

class GaussianFourierImpl : public torch::nn::Module {
 public:
  GaussianFourierImpl(int64_t dim, double scale);
  torch::Tensor forward(const torch::Tensor& t);  // [B] -> [B, dim]: [sin(2 pi t W), cos(2 pi t W)]

 private:
  torch::Tensor w_;  // fixed frequencies, a buffer (saved with the model, never trained)
};
TORCH_MODULE(GaussianFourier);

class ScoreMlpImpl : public ScoreNetwork {
 public:
  explicit ScoreMlpImpl(const NetworkSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& cond) override;

 private:
  NetworkSpec spec_;
  GaussianFourier fourier_{nullptr};
  torch::nn::Linear time_proj_{nullptr}, cond_in_{nullptr}, cond_out_{nullptr}, input_{nullptr}, output_{nullptr};
  torch::nn::ModuleList block_in_, block_emb_, block_out_;
};
TORCH_MODULE(ScoreMlp);

class UNetImpl : public ScoreNetwork {
 public:
  explicit UNetImpl(const NetworkSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& cond) override;

 private:
  NetworkSpec spec_;
  torch::nn::Linear temb0_{nullptr}, temb1_{nullptr}, cemb0_{nullptr}, cemb1_{nullptr};
  torch::nn::Sequential cenc_{nullptr};  // cond_encoder "conv": image -> features before cemb0_
  int64_t cond_side_ = 0;
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr};
  torch::nn::GroupNorm norm_out_{nullptr};
  // Flattened: every stage is a module in order; kinds_ says what each one is.
  torch::nn::ModuleList down_, mid_, up_;
  std::vector<int> down_kind_, up_kind_;  // 0 res block, 1 attention, 2 resample
};
TORCH_MODULE(UNet);

// Builds the network a spec describes (the global RNG draws the initial weights: seed it first).
std::shared_ptr<ScoreNetwork> make_network(const NetworkSpec& spec);
int64_t parameter_count(torch::nn::Module& module);

}  // namespace otcs::diffusion
