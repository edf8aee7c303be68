#include "core/ot/potentials.h"

#include <sstream>

#include <cmath>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/io/archive.h"
#include "core/io/file.h"
#include "core/common/error.h"

namespace otcs::ot {

namespace {

torch::Tensor activate(const torch::Tensor& x, Activation a) {
  switch (a) {
    case Activation::SiLU:
      return torch::silu(x);
    case Activation::ReLU:
      return torch::relu(x);
    case Activation::Tanh:
      return torch::tanh(x);
    case Activation::LeakyReLU:
      return torch::leaky_relu(x, 0.01);
    case Activation::GELU:
      return torch::gelu(x);
  }
  return x;
}

class MlpPotential : public Potential {
 public:
  MlpPotential(const PotentialSpec& spec, uint64_t seed) : spec_(spec) {
    if (spec.input_dim <= 0 || spec.width <= 0 || spec.depth < 0)
      throw std::invalid_argument("mlp potential: input_dim and width must be positive, depth >= 0");
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    auto add = [&](int64_t in, int64_t out) {
      auto layer =
          register_module("fc" + std::to_string(layers_.size()), torch::nn::Linear(torch::nn::LinearOptions(in, out)));
      // nn.Linear's default: kaiming_uniform(a = sqrt(5)) on the weight, i.e. U(-1/sqrt(in), 1/sqrt(in)),
      // and the same bound for the bias; drawn from our own generator for reproducibility.
      torch::NoGradGuard guard;
      const double bound = 1.0 / std::sqrt(double(in));
      layer->weight.uniform_(-bound, bound, gen);
      layer->bias.uniform_(-bound, bound, gen);
      layers_.push_back(layer);
    };
    add(spec.input_dim, spec.width);
    for (int64_t i = 0; i < spec.depth; ++i) add(spec.width, spec.width);
    add(spec.width, 1);
    to(spec.dtype);
  }

  torch::Tensor forward(const torch::Tensor& features, const torch::Tensor&) override {
    if (!features.defined() || features.dim() != 2 || features.size(1) != spec_.input_dim)
      throw std::invalid_argument(fmt::format("mlp potential: expected features [B, {}]", spec_.input_dim));
    auto h = features.scalar_type() == spec_.dtype ? features : features.to(spec_.dtype);
    for (size_t i = 0; i + 1 < layers_.size(); ++i) h = activate(layers_[i]->forward(h), spec_.activation);
    return layers_.back()->forward(h).squeeze(1);
  }
  const PotentialSpec& spec() const override { return spec_; }

 private:
  PotentialSpec spec_;
  std::vector<torch::nn::Linear> layers_;
};

class TabularPotential : public Potential {
 public:
  explicit TabularPotential(const PotentialSpec& spec) : spec_(spec) {
    if (spec.size <= 0) throw std::invalid_argument("tabular potential: size must be positive");
    values_ = register_parameter("values", torch::zeros({spec.size}, torch::TensorOptions().dtype(spec.dtype)));
  }
  torch::Tensor forward(const torch::Tensor&, const torch::Tensor& indices) override {
    if (!indices.defined()) return values_;
    return values_.index_select(0, indices);
  }
  const PotentialSpec& spec() const override { return spec_; }

 private:
  PotentialSpec spec_;
  torch::Tensor values_;
};

}  // namespace

std::shared_ptr<Potential> make_potential(const PotentialSpec& spec, uint64_t seed) {
  if (spec.kind == PotentialKind::Mlp) return std::make_shared<MlpPotential>(spec, seed);
  return std::make_shared<TabularPotential>(spec);
}

torch::Tensor evaluate_potential(Potential& potential, const torch::Tensor& features, int64_t chunk) {
  torch::NoGradGuard no_grad;
  if (!potential.needs_features()) return potential.forward({}, {}).detach().clone();
  if (!features.defined()) throw std::invalid_argument("evaluate_potential: an MLP potential needs features");
  if (chunk <= 0) chunk = 4096;
  const int64_t n = features.size(0);
  auto out = torch::empty({n}, torch::TensorOptions().dtype(potential.spec().dtype));
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk);
    out.slice(0, b, e).copy_(potential.forward(features.slice(0, b, e), {}));
  }
  return out;
}

void save_potential(const std::string& path, Potential& potential) {
  torch::serialize::OutputArchive archive;
  const auto& s = potential.spec();
  archive.write("otcs_potential_spec", torch::tensor({int64_t(s.kind), s.input_dim, s.width, s.depth,
                                                      int64_t(s.activation), s.size, int64_t(s.dtype)},
                                                     torch::kInt64));
  potential.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  io::write_file_atomic(path, out.str());
}

std::shared_ptr<Potential> load_potential(const std::string& path) {
  torch::serialize::InputArchive archive;
  io::load_archive_file(path, archive);
  torch::Tensor t;
  if (!archive.try_read("otcs_potential_spec", t) || t.numel() != 7) fail("{}: not a potential file (no spec)", path);
  auto a = t.to(torch::kInt64);
  auto p = a.data_ptr<int64_t>();
  PotentialSpec s;
  if (p[0] < 0 || p[0] > 1 || p[4] < 0 || p[4] > 4) fail("{}: invalid potential spec", path);
  s.kind = PotentialKind(p[0]);
  s.input_dim = p[1];
  s.width = p[2];
  s.depth = p[3];
  s.activation = Activation(p[4]);
  s.size = p[5];
  s.dtype = torch::ScalarType(p[6]);
  if (s.dtype != torch::kFloat32 && s.dtype != torch::kFloat64) fail("{}: invalid potential dtype", path);
  std::shared_ptr<Potential> pot;
  try {
    pot = make_potential(s, 0);
    pot->load(archive);
  } catch (const std::exception& e) {
    fail("{}: potential parameters do not match its spec ({})", path, e.what());
  }
  return pot;
}

}  // namespace otcs::ot
