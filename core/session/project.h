#pragma once
// Project files: everything a run needs (datasets, keypoint pairs, stage settings, seeds) and nothing
// machine-specific. JSON with "schema_version"; file paths are relative to the project file. Parsing is
// strict: an unknown key, a wrong type or an out-of-range value is a UserError naming the file and the JSON
// path, e.g. "toy.json: /stages/score/lr: expected a number, got string".
// Public and free of LibTorch, so GUI translation units can include it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/common/precision.h"
#include "core/data/specs.h"
#include "core/diffusion/specs.h"
#include "core/ot/kinds.h"

namespace otcs::session {

constexpr int kProjectSchemaVersion = 1;

// An image dataset ("images" in a dataset object): what to import and how to preprocess it. Paths are absolute
// (resolved against the project file).
struct ImageSetSpec {
  std::string format;                 // idx | chinese_mnist | folder | pack
  std::string images, labels;         // idx: images + labels files; folder: directory + optional labels CSV; pack: .npz
  int suite_from = 1, suite_to = 90;  // chinese_mnist: volunteer suites kept
  int64_t size = 0;                   // square resize (0: keep)
  int channels = 0;                   // 1 or 3 (0: keep)
  int crop = 0;                       // centre crop before resizing (-1: largest square)
  bool fit_content = false;           // crop to the strokes' bounding box, fit into 20/28 of the frame (as MNIST)
  bool normalise_contrast = false;    // per-image min..max stretch (faint Chinese-MNIST strokes)
  bool invert = false;
  std::vector<int64_t> classes;  // keep only these labels (empty: all)
  int64_t limit = 0;             // keep a random subset of this size (0: all)
  uint64_t limit_seed = 0;
  int downsample = 1;  // > 1: shrink by this factor (area) after preprocessing (low-resolution sources)
  int upsample = 0;    // > 0: then resize back up to this size (bicubic), as a degraded input
  int64_t range_from = 0, range_to = 0;  // > 0: keep samples first..last (1-based, in import order: sorted names)
  // After the range: keep every sample whose file number (the digits of its file name, e.g. 000042.jpg -> 42)
  // is even (parity 2), or odd (parity 1); 0 keeps all. CelebA's unpaired split by file number.
  int parity = 0;
  bool defined() const { return !format.empty(); }
};

struct DatasetSpec {
  std::string file;                             // absolute path (resolved against the project file); or
  std::vector<data::MixtureComponent> mixture;  // a generated Gaussian mixture of n points from seed; or
  ImageSetSpec images;                          // an image dataset
  int64_t n = 0;
  uint64_t seed = 0;
  bool generated() const { return file.empty() && !images.defined(); }
  bool is_images() const { return images.defined(); }
};

// A keypoint pair: either indices into the two sets, or two points appended to them (in order).
struct KeypointSpec {
  int64_t source_index = -1, target_index = -1;
  std::vector<double> source_point, target_point;
};

struct OtStageSpec {
  ot::OtSolver solver = ot::OtSolver::Exact;
  ot::CostKind cost = ot::CostKind::L2;
  double epsilon = 1e-3;
  double tau = 0.1;                               // keypoint relation temperature (source side)
  double tau_target = 0;                          // <= 0: tau
  double alpha = 1.0;                             // G = (1 - alpha) C + alpha g (1: pure guiding, as released)
  ot::Relation relation = ot::Relation::Softmax;  // keypoint relation vectors: softmax (released) | kNN propagation
  int64_t neighbors = 10;                         // propagation: k of the cosine kNN graph
  double propagation_alpha = 0.99;                // propagation: F = a S F + (1 - a) Y
  int64_t propagation_iterations = 200;
  int64_t adam_steps = 0;      // dense solver: full-gradient Adam steps (lr) before the coordinate sweeps
  int64_t iterations = 20000;  // stochastic solvers
  int64_t batch = 64;
  double lr = 1e-4;
  uint64_t seed = 0;
  int64_t width = 256, depth = 2;  // mlp potentials
  ot::Activation activation = ot::Activation::SiLU;
  int64_t checkpoint_every = 2000;
  Precision precision = Precision::Fp32;  // the stochastic solvers' potentials (tabular, mlp)
};

struct BridgeStageSpec {
  double threshold = 0.1;
  int64_t row_cap = 0;
  ot::EmptyRowPolicy empty_rows = ot::EmptyRowPolicy::NextSource;
  bool apply_mask = false;
};

struct ScoreStageSpec {
  data::PairMode mode = data::PairMode::Otcs;
  diffusion::ScheduleSpec schedule;
  diffusion::NetworkSpec network;
  diffusion::TrainerSpec trainer;
  int64_t steps = 5000;
  int64_t batch = 128;
  int64_t checkpoint_every = 1000;
  int64_t keep_checkpoints = 3;
  int64_t log_every = 50;
  // Warm start: another run (or its score/model.pt) whose EMA weights initialise the network and its EMA; the
  // optimiser and the step counter start fresh. Resolved against the project's folder; empty: from scratch.
  std::string init_from;
  // Live previews: every `preview_every` steps (0: none) the EMA model translates `preview_sources` fixed sources
  // with the same noise each time (score/previews/step_<step>.png and previews.json).
  int64_t preview_every = 0;
  int64_t preview_sources = 8;
  int64_t preview_steps = 20;  // DDIM steps of a preview (image projects; 2-D previews sample with the same count)
};

struct SampleStageSpec {
  diffusion::SamplerSpec sampler;
  std::vector<int64_t> sources;  // explicit source indices; empty: `source_count` spread over the set
  int64_t source_count = 6;
  int64_t per_source = 200;
  int64_t trajectory_frames = 11;  // recorded steps (the first and the last always)
  int64_t trajectory_paths = 8;    // samples per source whose paths are kept
  int64_t trajectory_sources = 8;  // image projects: sources whose reverse process is recorded (one path each)
  uint64_t seed = 0;
};

// Paired image eval: a further sampler scored beside the main one, on all test inputs or an evenly spread subset
// (stages.eval.also: e.g. the released slow sampler on 200 of the faces next to a fast one on all).
struct ExtraEvalSampler {
  std::string name;  // [a-z0-9_-]+, unique; its metrics are metrics["also"][name], its CSV columns name_*
  diffusion::SamplerSpec sampler;
  int64_t subset = 0;   // > 0: this many test inputs, spread evenly (input k * N / subset); 0: all
  int64_t average = 1;  // also score the mean of this many samples per input
};

struct EvalStageSpec {
  bool enabled = true;
  int64_t sources = 20;  // evaluation sources, spread over the reference's non-keypoint sources
  int64_t per_source = 500;
  int64_t fine_size = 2000;  // generated data: points per side of the reference's fine discretisation
  uint64_t fine_seed = 0;
  bool has_sampler = false;  // else the sample stage's sampler
  diffusion::SamplerSpec sampler;
  uint64_t seed = 0;
  int64_t batch = 250;       // paired images: test inputs per batch, the unit a stopped eval resumes from
  int64_t bootstrap = 2000;  // paired images: resamples of the test inputs for the 95 % intervals (0: none)
  std::vector<ExtraEvalSampler> also;
};

// How keypoint pairs are chosen when the project gives a rule rather than a list.
struct KeypointRule {
  std::string rule;  // "" (explicit list) | class_medoid: per class, the sample nearest its class mean
  std::string file;  // or a keypoint pairs file (JSON, schema_version 1, both datasets' content
                     // hashes; pairs by index and sample name), checked against the loaded data
  std::vector<std::pair<int64_t, int64_t>> class_pairs;  // source class -> target class (empty: identity on 0..9)
};

// Image projects: held-out data for the eval stage (test inputs and the classifier's data).
struct ImageEvalSpec {
  DatasetSpec test_source;  // translated by the eval stage (labels give the intended target class)
  DatasetSpec test_target;  // the classifier's held-out test split (its training split is the target set)
  int64_t classifier_epochs = 6;
  int64_t grid = 10;  // samples per class in the figure grids
  // Paired test sets (super-resolution): test_target[i] is the ground truth of test_source[i]; the eval reports
  // PSNR and SSIM of the translations against it beside the input's own (the bicubic baseline), no classifier.
  bool paired = false;
  int64_t average = 1;  // paired: also score the mean of this many samples per input (posterior mean)
};

struct Project {
  int schema_version = kProjectSchemaVersion;
  std::string name, description;
  std::string path, dir;  // the project file and its directory
  DatasetSpec source, target;
  std::vector<KeypointSpec> keypoints;
  KeypointRule keypoint_rule;
  ImageEvalSpec image_eval;
  bool images() const { return source.is_images(); }
  OtStageSpec ot;
  BridgeStageSpec bridge;
  ScoreStageSpec score;
  SampleStageSpec sample;
  EvalStageSpec eval;
  // Canonical JSON of each part ("data", "ot", "bridge", "score", "sample", "eval"), for config hashes.
  std::map<std::string, std::string> canonical;
  std::string text;  // the file as read
};

Project load_project(const std::string& path);

// The folder a project file's relative data paths are resolved against: its own folder, except for a run's copy
// (RUN/project.json) beside which the run recorded the original project's folder (RUN/project.base).
std::string project_base_dir(const std::string& project_path);
// Records `base_dir` beside a run's copy of its project, for project_base_dir.
void record_project_base_dir(const std::string& run_dir, const std::string& base_dir);
// Parses project text; `name_for_errors` prefixes messages, `base_dir` resolves relative data paths.
Project parse_project(const std::string& text, const std::string& name_for_errors, const std::string& base_dir);

// Multiplies the stochastic iteration counts (OT iterations, score steps, checkpoint and log intervals) by f.
void scale_steps(Project& project, double f);
// Sets the precision of the ot, score and sample stages (otcs run --precision), their canonical JSON with it:
// a stage's precision is part of its configuration hash when it is not fp32 (an fp32 stage hashes as before).
void set_precision(Project& project, Precision precision);

// The content hash (core/common/hash.h) of a string with the seed the stage hashes use, as 16 hex digits.
std::string stable_hash(const std::string& text);

}  // namespace otcs::session
