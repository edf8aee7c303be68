#pragma once
// The pieces shared by the generation commands (otcs gen-train, aot-compare, dpmot): the project's data as
// float images, EDM training with or without AOT into a run directory, the model archive, the target-domain
// classifier, and the sample scores (Fréchet distance on the classifier's penultimate features, MMR).
// Internal to the generation jobs (gen_jobs.h; LibTorch).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/diffusion/edm.h"
#include "core/io/file.h"
#include "core/metrics/classifier.h"
#include "core/session/gen_project.h"

namespace otcs::session {

struct GenData {
  torch::Tensor train_x, train_y, test_x, test_y;  // float [N, C, H, W] in [-1, 1]; int64 labels
  int64_t classes = 10;
};
GenData load_gen_data(const GenProject& project);

struct GenTrainSettings {
  bool assign = false;  // false: plain EDM (the chunk's draws paired by index); true: AOT
  int64_t chunk = 512;  // images per chunk, for both (so both runs draw the same images and noises)
  int64_t steps = 0;
  int64_t batch = 0;
  int64_t fd_every = 0;  // > 0: GenTrainHooks::fd every fd_every steps and at the last (fd.csv)
};

// What the training loop reports, and how it is stopped.
struct GenTrainHooks {
  std::function<void(const std::string&)> log;
  std::function<bool()> stop;  // polled before every step (it may block while paused); true ends the training
  std::function<void(int64_t step, int64_t total, double loss)> step;  // after every step
  std::function<void(int64_t step, double mean)> window;  // every log_every steps: the mean loss since the last
  // The Fréchet distance of the EMA model now (settings.fd_every > 0); fd_point gets each value as it is made.
  std::function<double(const diffusion::EdmModel&)> fd;
  std::function<void(int64_t step, double fd)> fd_point;
  // A stop saves the training's whole state here and a later training with the same settings resumes from it
  // (removed once the model is written); empty: a stop loses the steps done.
  std::string checkpoint;
};

// Trains and writes, through `out`: model.pt (EMA weights + specs + meta), loss.csv (step,loss),
// aot_chunks.csv (chunk,assigned_cost,random_cost,seconds), train.json (GenRunFiles), and fd.csv
// (step,frechet,wall_time) when settings.fd_every > 0. The FD probes draw from their own generator and leave the
// training's state alone: the model is the same with and without them. Returns train.json's
// content, or nothing when stopped (nothing but the checkpoint is written then).
std::optional<nlohmann::json> train_gen_model(const GenProject& project, const GenData& data,
                                              const GenTrainSettings& settings, io::OutputDir& out,
                                              const GenTrainHooks& hooks);

// What model.pt's meta records about how it was trained (compared before a run directory is reused).
nlohmann::json gen_model_meta(const GenProject& project, const GenTrainSettings& settings);

void save_edm_model(const std::string& path, const diffusion::EdmTrainer& trainer, const nlohmann::json& meta);
diffusion::EdmModel load_edm_model(const std::string& path, nlohmann::json* meta = nullptr);  // UserError on bad files

// The target-domain classifier: loaded from `path` when it exists, else trained on the training images,
// tested on the test split, and saved there.
metrics::Classifier gen_classifier(const GenProject& project, const GenData& data, const std::string& path,
                                   double* test_accuracy, const std::function<void(const std::string&)>& log);

// FD (classifier features vs the test split's) and MMR at θ 0.1, 0.2, 0.3, 0.4 of samples in [-1, 1] (clamped).
nlohmann::json score_samples(metrics::Classifier& classifier, const torch::Tensor& samples,
                             const torch::Tensor& reference_features);

// The FD probe of a training: `samples` images by deterministic Heun at `nfe` evaluations (odd) from one fixed
// noise (eval.seed), the classes balanced when conditional, scored against the reference features.
std::function<double(const diffusion::EdmModel&)> fd_probe(const GenProject& project, const GenData& data,
                                                           metrics::Classifier& classifier,
                                                           const torch::Tensor& reference_features);

// Balanced labels 0, 1, ..., classes − 1, 0, ... (conditional sampling), undefined when unconditional.
torch::Tensor balanced_labels(int64_t n, int64_t classes, bool conditional);

}  // namespace otcs::session
