#pragma once
// Generation projects ("kind": "generation"): unconditional or class-conditional image generation with EDM,
// trained with or without AOT's chunk assignment, and sampled by Heun or by DPM-OT's semi-discrete OT
// expressway. One JSON file, same strictness as the translation projects (project.h); every key with its
// default: docs/PROJECT.md.
//   {"$schema" (ignored), "schema_version": 1, "kind": "generation", "name", "description",
//    "data":  {"train": {"images": {...}}, "test": {"images": {...}}},     image sets as in project.h
//    "model": {"network": {...unet...}, "conditional": false, "sigma_data": 0.5, "p_mean": -1.2, "p_std": 1.2},
//    "train": {"method": "edm"|"aot", "aot": 512, "steps", "batch", "lr", "lr_rampup", "grad_clip",
//              "ema_halflife" (images), "seed", "log_every", "fd_every", "fd_samples", "fd_nfe"},
//    "sample": {"steps": N, "rho": 7},
//    "eval":  {"samples", "classifier_epochs", "seed"},
//    "dpmot": {"latents", "M", "source": "uniform"|"gaussian", "max_iter", "lr", "seed"}}
// Free of LibTorch.
#include <cstdint>
#include <string>

#include "core/diffusion/specs.h"
#include "core/session/project.h"

namespace otcs::session {

struct GenProject {
  std::string name, description, path, dir, text;
  DatasetSpec train, test;
  diffusion::NetworkSpec network;
  bool conditional = false;
  double sigma_data = 0.5, p_mean = -1.2, p_std = 1.2;
  std::string method = "edm";  // edm | aot (train.aot > 0 chunks)
  int64_t aot = 512;           // images per assignment chunk (aot only)
  int64_t steps = 3000, batch = 64, lr_rampup = 200, log_every = 50;
  // The training's Fréchet-distance curve: every fd_every steps (0: off) the EMA model draws fd_samples images
  // with Heun at fd_nfe evaluations from one fixed noise, scored as aot-compare scores them (fd.csv).
  int64_t fd_every = 0, fd_samples = 500, fd_nfe = 35;
  double lr = 1e-3, grad_clip = 1.0, ema_halflife = 20000;
  uint64_t seed = 0;
  int64_t sample_steps = 18;
  double rho = 7;
  int64_t eval_samples = 1000, classifier_epochs = 3;
  uint64_t eval_seed = 1;
  int64_t dpmot_latents = 500, dpmot_m = 3, dpmot_max_iter = 1000;
  std::string dpmot_source = "uniform";
  double dpmot_lr = 0;  // > 0: the semi-discrete OT's released Adam step; 0: its step from the latents' geometry
  uint64_t dpmot_seed = 2;
  std::string canonical_model;  // canonical JSON of data + model + train, to tell a checkpoint's config apart
};

GenProject parse_gen_project(const std::string& text, const std::string& name_for_errors, const std::string& base_dir);
GenProject load_gen_project(const std::string& path);

}  // namespace otcs::session
