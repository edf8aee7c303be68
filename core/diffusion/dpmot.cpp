#include "core/diffusion/dpmot.h"

#include <stdexcept>

#include <torch/torch.h>

namespace otcs::diffusion {

DpmOtSplit dpmot_split(const HeunSpec& spec, int64_t m) {
  if (m < 1 || m >= spec.steps) throw std::invalid_argument("dpmot_split: need 1 <= M < N");
  DpmOtSplit s;
  s.steps = spec.steps;
  s.m = m;
  s.start = spec.steps - m;
  s.sigma = heun_grid(spec)[size_t(s.start)];
  s.nfe = heun_nfe_from(spec.steps, s.start);
  return s;
}

torch::Tensor build_latents(const torch::Tensor& data, double sigma, at::Generator& gen) {
  auto flat = data.reshape({data.size(0), -1}).to(torch::kFloat32);
  return flat + sigma * torch::randn(flat.sizes(), gen, torch::kFloat32);
}

MappedSource map_source(const torch::Tensor& latents, const torch::Tensor& h, ot::SourceKind source, int64_t n,
                        at::Generator& gen) {
  MappedSource m;
  auto x = ot::sample_source(source, n, latents.size(1), gen);
  m.cells = ot::assign_cells(x, latents, h);
  m.latents = latents.index_select(0, m.cells);
  return m;
}

torch::Tensor nearest_distances(const torch::Tensor& a, const torch::Tensor& b, int64_t chunk) {
  auto bf = b.reshape({b.size(0), -1}).to(torch::kFloat32);
  auto af = a.reshape({a.size(0), -1}).to(torch::kFloat32);
  std::vector<torch::Tensor> out;
  for (int64_t lo = 0; lo < af.size(0); lo += chunk)
    out.push_back(std::get<0>(torch::cdist(af.slice(0, lo, std::min(af.size(0), lo + chunk)), bf).min(1)));
  return torch::cat(out, 0);
}

}  // namespace otcs::diffusion
