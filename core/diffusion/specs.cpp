#include "core/diffusion/specs.h"

#include "core/common/error.h"

namespace otcs::diffusion {

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "ddpm") return ScheduleKind::Ddpm;
  if (name == "vp") return ScheduleKind::VpSde;
  if (name == "ve") return ScheduleKind::VeSde;
  fail("unknown schedule '{}' (expected ddpm, vp or ve)", name);
}

std::string schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Ddpm:
      return "ddpm";
    case ScheduleKind::VpSde:
      return "vp";
    case ScheduleKind::VeSde:
      return "ve";
  }
  return "?";
}

NetworkKind parse_network_kind(const std::string& name) {
  if (name == "mlp") return NetworkKind::Mlp;
  if (name == "unet") return NetworkKind::UNet;
  fail("unknown network '{}' (expected mlp or unet)", name);
}

std::string network_kind_name(NetworkKind kind) { return kind == NetworkKind::Mlp ? "mlp" : "unet"; }

TimeEmbedding parse_time_embedding(const std::string& name) {
  if (name == "fourier") return TimeEmbedding::Fourier;
  if (name == "sinusoidal") return TimeEmbedding::Sinusoidal;
  fail("unknown time embedding '{}' (expected fourier or sinusoidal)", name);
}

Prediction parse_prediction(const std::string& name) {
  if (name == "eps") return Prediction::Eps;
  if (name == "score") return Prediction::Score;
  fail("unknown prediction '{}' (expected eps or score)", name);
}

std::string prediction_name(Prediction p) { return p == Prediction::Eps ? "eps" : "score"; }

SamplerKind parse_sampler_kind(const std::string& name) {
  if (name == "ancestral") return SamplerKind::Ancestral;
  if (name == "ddim") return SamplerKind::Ddim;
  if (name == "em") return SamplerKind::EulerMaruyama;
  if (name == "heun") return SamplerKind::Heun;
  if (name == "dpm-solver++") return SamplerKind::DpmSolverPP;
  if (name == "dpm-solver++-sde") return SamplerKind::DpmSolverPPSde;
  fail("unknown sampler '{}' (expected ancestral, ddim, em, heun, dpm-solver++ or dpm-solver++-sde)", name);
}

std::string sampler_kind_name(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::Ancestral:
      return "ancestral";
    case SamplerKind::Ddim:
      return "ddim";
    case SamplerKind::EulerMaruyama:
      return "em";
    case SamplerKind::Heun:
      return "heun";
    case SamplerKind::DpmSolverPP:
      return "dpm-solver++";
    case SamplerKind::DpmSolverPPSde:
      return "dpm-solver++-sde";
  }
  return "?";
}

bool sampler_supports_consistency(SamplerKind kind) {
  return kind == SamplerKind::Ancestral || kind == SamplerKind::Ddim || kind == SamplerKind::DpmSolverPP ||
         kind == SamplerKind::DpmSolverPPSde;
}

}  // namespace otcs::diffusion
