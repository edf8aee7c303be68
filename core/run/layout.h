#pragma once
// The run directory described once: every file and folder that a run (`otcs run`, the workbench's Run dock)
// writes, and those of the other commands' output directories (`otcs ot`, `gen-train`, `aot-compare`, `dpmot`,
// `translate`, `compare`). Each name is spelled here and nowhere else; the core, the CLI and the GUI build their
// paths through these types. A layout built without a root gives paths relative to the directory
// ("score/loss.csv"), for messages and help texts. Free of LibTorch and Qt: GUI translation units include it.
//
// RUN/  (otcs run, the workbench)
//   project.json   the project as run           project.base  the original project's folder (relative data paths)
//   run.json       what ran it, how it ended      .lock         the writer's lock
//   otcs.log       the run's log                  metrics.json  the eval stage's metrics (a copy of eval/metrics.json)
//   data/          source.npy, target.npy (point sets), source_labels.npy, target_labels.npy, keypoints.csv,
//                  keypoints.json (image projects: the pairs by name, with both datasets' hashes)
//   ot/            u.npy, v.npy (the potentials at the points), dual.csv, diagnostics.csv, u_potential.pt,
//                  v_potential.pt (neural solvers), ckpt-<step>.pt (stochastic solvers; older runs have
//                  checkpoint.pt and checkpoint.hash, still resumed from)
//   bridge/        H.npz (scipy CSR), redirect.npy
//   score/         model.pt, loss.csv, ckpt-<step>.pt, previews/ (previews.json, step_<step>.png and .npz)
//   sample/        samples.npy, sources.npy (point sets), translations.npz (image projects), trajectories.npz
//   eval/          metrics.json, conditionals.npz (point sets), translations.npz, classifier.pt, classifier.json,
//                  per_face.csv and batches/ (paired image evals: per input scores, finished batches)
//   <stage>/done.json   the stage's configuration hash, written as its last act
//   data.png, potentials.png, H.png, loss.png, trajectories.png, conditionals.png, translations.png,
//   test_translations.png, confusion.png   the run figures
//
// Curves (dual.csv, diagnostics.csv, loss.csv) are "step,<value columns>,wall_time" (core/run/curve.h).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace otcs::run {

// File and folder names, each spelled once. Commands that write through io::OutputDir claim these names.
namespace file {
// the run directory's top level
inline constexpr char kProject[] = "project.json";
inline constexpr char kProjectBase[] = "project.base";
inline constexpr char kLog[] = "otcs.log";
inline constexpr char kMetrics[] = "metrics.json";
inline constexpr char kDataDir[] = "data";
// data/
inline constexpr char kSourcePoints[] = "source.npy";
inline constexpr char kTargetPoints[] = "target.npy";
inline constexpr char kSourceLabels[] = "source_labels.npy";
inline constexpr char kTargetLabels[] = "target_labels.npy";
inline constexpr char kKeypointsCsv[] = "keypoints.csv";
inline constexpr char kKeypointsJson[] = "keypoints.json";
// every stage folder
inline constexpr char kDone[] = "done.json";
// ot/ (and `otcs ot --out DIR`)
inline constexpr char kU[] = "u.npy";
inline constexpr char kV[] = "v.npy";
inline constexpr char kDualCurve[] = "dual.csv";
inline constexpr char kOtDiagnostics[] = "diagnostics.csv";
inline constexpr char kUPotential[] = "u_potential.pt";
inline constexpr char kVPotential[] = "v_potential.pt";
// the potentials' names in older `otcs ot` output directories (still read: find_potential)
inline constexpr char kLegacyUPotential[] = "u.pt";
inline constexpr char kLegacyVPotential[] = "v.pt";
// the OT stage's checkpoint in older runs (read once to resume; new checkpoints are ckpt-<step>.pt)
inline constexpr char kLegacyOtCheckpoint[] = "checkpoint.pt";
inline constexpr char kLegacyOtCheckpointHash[] = "checkpoint.hash";
inline constexpr char kPlan[] = "plan.npy";
// bridge/ (and `otcs ot --out DIR`)
inline constexpr char kH[] = "H.npz";
inline constexpr char kRedirect[] = "redirect.npy";
// score/ (model and loss curve also of a gen-train run)
inline constexpr char kModel[] = "model.pt";
inline constexpr char kLossCurve[] = "loss.csv";
inline constexpr char kCheckpointPrefix[] = "ckpt";  // ckpt-<step, 9 digits>.pt (session/checkpoint.h)
inline constexpr char kPreviewsDir[] = "previews";
inline constexpr char kPreviewsIndex[] = "previews.json";
// sample/ and eval/
inline constexpr char kSamples[] = "samples.npy";
inline constexpr char kSampleSources[] = "sources.npy";
inline constexpr char kTrajectories[] = "trajectories.npz";
inline constexpr char kTranslations[] = "translations.npz";
inline constexpr char kConditionals[] = "conditionals.npz";
inline constexpr char kClassifier[] = "classifier.pt";
inline constexpr char kClassifierMeta[] = "classifier.json";
inline constexpr char kPerFace[] = "per_face.csv";    // eval/ of a paired image eval: per test input scores
inline constexpr char kEvalBatchesDir[] = "batches";  // eval/batches/<config hash>/<sampler>-<batch>.npz
// the run figures
inline constexpr char kDataFigure[] = "data.png";
inline constexpr char kPotentialsFigure[] = "potentials.png";
inline constexpr char kHFigure[] = "H.png";
inline constexpr char kLossFigure[] = "loss.png";
inline constexpr char kTrajectoriesFigure[] = "trajectories.png";
inline constexpr char kConditionalsFigure[] = "conditionals.png";
inline constexpr char kTranslationsFigure[] = "translations.png";
inline constexpr char kTestTranslationsFigure[] = "test_translations.png";
inline constexpr char kConfusionFigure[] = "confusion.png";
// other commands' output directories
inline constexpr char kReport[] = "report.json";               // ot, sdot, aot-compare, dpmot
inline constexpr char kTrainReport[] = "train.json";           // gen-train
inline constexpr char kTrainCheckpoint[] = "train.ckpt";       // gen-train: a stopped training's state, until it ends
inline constexpr char kAotChunks[] = "aot_chunks.csv";         // gen-train
inline constexpr char kFdCurve[] = "fd.csv";                   // gen-train: step,frechet,wall_time (train.fd_every)
inline constexpr char kEdmRun[] = "edm";                       // aot-compare: the plain EDM training
inline constexpr char kAotRun[] = "aot";                       // aot-compare: the AOT training
inline constexpr char kHeights[] = "h.npy";                    // sdot, dpmot
inline constexpr char kCellMeasures[] = "cell_measures.npy";   // dpmot
inline constexpr char kMetricsTable[] = "metrics.csv";         // compare
inline constexpr char kSettingsDiff[] = "settings_diff.json";  // compare
inline constexpr char kLossesFigure[] = "losses.png";          // compare
inline constexpr char kDpmotRunPrefix[] = "dpmot-m";           // the workbench's methods runs: dpmot-m<M>
}  // namespace file

// The stage folders, in pipeline order; each is also the stage's name (session::stage_name).
inline constexpr const char* kStageDirs[] = {"ot", "bridge", "score", "sample", "eval"};

// The curves' value columns (the first column is "step", the last "wall_time").
namespace column {
inline constexpr char kStep[] = "step";
inline constexpr char kWallTime[] = "wall_time";
inline constexpr char kDualObjective[] = "dual_objective";
inline constexpr char kLoss[] = "loss";
}  // namespace column

// A translation run's directory (`otcs run --out RUN`).
class RunLayout {
 public:
  RunLayout() = default;
  explicit RunLayout(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path project() const { return root_ / file::kProject; }
  std::filesystem::path project_base() const { return root_ / file::kProjectBase; }
  std::filesystem::path log() const { return root_ / file::kLog; }
  std::filesystem::path metrics() const { return root_ / file::kMetrics; }

  std::filesystem::path data_dir() const { return root_ / file::kDataDir; }
  std::filesystem::path source_points() const { return data_dir() / file::kSourcePoints; }
  std::filesystem::path target_points() const { return data_dir() / file::kTargetPoints; }
  std::filesystem::path source_labels() const { return data_dir() / file::kSourceLabels; }
  std::filesystem::path target_labels() const { return data_dir() / file::kTargetLabels; }
  std::filesystem::path keypoints_csv() const { return data_dir() / file::kKeypointsCsv; }
  std::filesystem::path keypoints_json() const { return data_dir() / file::kKeypointsJson; }

  // A stage's folder and done marker by the stage's name (one of kStageDirs).
  std::filesystem::path stage_dir(std::string_view stage) const { return root_ / std::string(stage); }
  std::filesystem::path done_marker(std::string_view stage) const { return stage_dir(stage) / file::kDone; }

  std::filesystem::path ot_dir() const { return stage_dir(kStageDirs[0]); }
  std::filesystem::path u() const { return ot_dir() / file::kU; }
  std::filesystem::path v() const { return ot_dir() / file::kV; }
  std::filesystem::path dual_curve() const { return ot_dir() / file::kDualCurve; }
  std::filesystem::path ot_diagnostics() const { return ot_dir() / file::kOtDiagnostics; }
  std::filesystem::path u_potential() const { return ot_dir() / file::kUPotential; }
  std::filesystem::path v_potential() const { return ot_dir() / file::kVPotential; }
  std::filesystem::path legacy_ot_checkpoint() const { return ot_dir() / file::kLegacyOtCheckpoint; }
  std::filesystem::path legacy_ot_checkpoint_hash() const { return ot_dir() / file::kLegacyOtCheckpointHash; }

  std::filesystem::path bridge_dir() const { return stage_dir(kStageDirs[1]); }
  std::filesystem::path h() const { return bridge_dir() / file::kH; }
  std::filesystem::path redirect() const { return bridge_dir() / file::kRedirect; }

  std::filesystem::path score_dir() const { return stage_dir(kStageDirs[2]); }
  std::filesystem::path score_model() const { return score_dir() / file::kModel; }
  std::filesystem::path loss_curve() const { return score_dir() / file::kLossCurve; }
  std::filesystem::path previews_dir() const { return score_dir() / file::kPreviewsDir; }
  std::filesystem::path previews_index() const { return previews_dir() / file::kPreviewsIndex; }
  // score/previews/step_<step, 7 digits>.<extension> ("png", "npz").
  std::filesystem::path preview(int64_t step, std::string_view extension) const;

  std::filesystem::path sample_dir() const { return stage_dir(kStageDirs[3]); }
  std::filesystem::path samples() const { return sample_dir() / file::kSamples; }
  std::filesystem::path sample_sources() const { return sample_dir() / file::kSampleSources; }
  std::filesystem::path trajectories() const { return sample_dir() / file::kTrajectories; }
  std::filesystem::path sample_translations() const { return sample_dir() / file::kTranslations; }

  std::filesystem::path eval_dir() const { return stage_dir(kStageDirs[4]); }
  std::filesystem::path eval_metrics() const { return eval_dir() / file::kMetrics; }
  std::filesystem::path conditionals() const { return eval_dir() / file::kConditionals; }
  std::filesystem::path eval_translations() const { return eval_dir() / file::kTranslations; }
  std::filesystem::path classifier() const { return eval_dir() / file::kClassifier; }
  std::filesystem::path classifier_meta() const { return eval_dir() / file::kClassifierMeta; }
  std::filesystem::path eval_per_face() const { return eval_dir() / file::kPerFace; }
  // A paired eval's finished batches: all of them, and those of one stage configuration hash.
  std::filesystem::path eval_batches_root() const { return eval_dir() / file::kEvalBatchesDir; }
  std::filesystem::path eval_batches(std::string_view config_hash) const {
    return eval_batches_root() / std::string(config_hash);
  }

  // A run figure (one of the file::k*Figure names) in the run's top level.
  std::filesystem::path figure(std::string_view name) const { return root_ / std::string(name); }

 private:
  std::filesystem::path root_;
};

// `otcs ot --out DIR`: the OT stage's and the bridge's artifacts side by side, plus the dense plan and a report.
class OtOutputLayout {
 public:
  OtOutputLayout() = default;
  explicit OtOutputLayout(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path plan() const { return root_ / file::kPlan; }
  std::filesystem::path u() const { return root_ / file::kU; }
  std::filesystem::path v() const { return root_ / file::kV; }
  std::filesystem::path h() const { return root_ / file::kH; }
  std::filesystem::path redirect() const { return root_ / file::kRedirect; }
  std::filesystem::path u_potential() const { return root_ / file::kUPotential; }
  std::filesystem::path v_potential() const { return root_ / file::kVPotential; }
  std::filesystem::path report() const { return root_ / file::kReport; }

 private:
  std::filesystem::path root_;
};

// The trained potential of one side ('u' or 'v') in DIR (a run's ot/ folder or an `otcs ot` output directory):
// DIR/u_potential.pt, or DIR/u.pt where only that older name exists. Empty when neither exists.
std::filesystem::path find_potential(const std::filesystem::path& dir, char side);

// `otcs gen-train --out DIR` (and each of aot-compare's two trainings).
class GenRunLayout {
 public:
  GenRunLayout() = default;
  explicit GenRunLayout(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path model() const { return root_ / file::kModel; }
  std::filesystem::path loss_curve() const { return root_ / file::kLossCurve; }
  std::filesystem::path aot_chunks() const { return root_ / file::kAotChunks; }
  std::filesystem::path train_report() const { return root_ / file::kTrainReport; }
  std::filesystem::path fd_curve() const { return root_ / file::kFdCurve; }

 private:
  std::filesystem::path root_;
};

// `otcs aot-compare --out DIR`: two generation runs, the shared classifier, the report and sample grids.
class AotCompareLayout {
 public:
  AotCompareLayout() = default;
  explicit AotCompareLayout(std::filesystem::path root) : root_(std::move(root)) {}
  GenRunLayout edm_run() const { return GenRunLayout(root_ / file::kEdmRun); }
  GenRunLayout aot_run() const { return GenRunLayout(root_ / file::kAotRun); }
  std::filesystem::path classifier() const { return root_ / file::kClassifier; }
  std::filesystem::path report() const { return root_ / file::kReport; }
  // samples_<method>.npy: the first samples of one method at the largest NFE.
  std::filesystem::path samples(std::string_view method) const;
  // dpmot-m<M>: the workbench's DPM-OT sampling of the trained model with M Heun steps left.
  std::filesystem::path dpmot_run(int64_t m) const;

 private:
  std::filesystem::path root_;
};

// `otcs dpmot --out OUT` (and `otcs sdot --out OUT`: heights and report).
class DpmotLayout {
 public:
  DpmotLayout() = default;
  explicit DpmotLayout(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path report() const { return root_ / file::kReport; }
  std::filesystem::path heights() const { return root_ / file::kHeights; }
  std::filesystem::path cell_measures() const { return root_ / file::kCellMeasures; }
  std::filesystem::path samples() const { return root_ / file::kSamples; }
  std::filesystem::path classifier() const { return root_ / file::kClassifier; }

 private:
  std::filesystem::path root_;
};

}  // namespace otcs::run
