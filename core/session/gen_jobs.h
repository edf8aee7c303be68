#pragma once
// The generation jobs (generation projects, gen_project.h), each a Job (job.h) like the translation session:
//   GenTrainJob     EDM (Karras et al. 2022) trained with or without AOT's assigned noise (Kim et al. 2024)
//   AotCompareJob   both models (reused when trained with the same settings), the project's classifier, and
//                   quality and trajectory curvature against NFE from the same initial noise
//   DpmotJob        DPM-OT sampling on a trained model: semi-discrete OT to data latents, then the last M steps
// Pause holds a job between two steps; a stop ends it at the next one, and a stopped training saves a checkpoint
// (GenRunFiles::checkpoint) that the next training with the same settings resumes from.
// Events: training reports progress and a loss point ("edm" or "aot", window means) as the score stage, the
// semi-discrete OT as the ot stage, sampling as the sample stage, the classifier and the scores as the eval
// stage; every finished file is announced by an ArtifactEvent. Log lines go to spdlog as well.
// The options are what `otcs gen-train`, `aot-compare` and `dpmot` take; an unset one takes the project's value.
// Public and free of LibTorch.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run/layout.h"
#include "core/session/job.h"

namespace otcs::session {

// Where the generation jobs put their files (names relative to their output directory), as core/run/layout.h
// spells them.
struct GenRunFiles {
  static constexpr const char* model = run::file::kModel;           // EMA weights, specs and how they were trained
  static constexpr const char* loss = run::file::kLossCurve;        // step,loss,wall_time
  static constexpr const char* aot_chunks = run::file::kAotChunks;  // chunk,assigned_cost,random_cost,seconds
  static constexpr const char* fd_curve = run::file::kFdCurve;      // step,frechet,wall_time (train.fd_every)
  static constexpr const char* train_report = run::file::kTrainReport;
  static constexpr const char* checkpoint = run::file::kTrainCheckpoint;  // a stopped training's state
  static constexpr const char* classifier = run::file::kClassifier;
  static constexpr const char* report = run::file::kReport;    // aot-compare and dpmot
  static constexpr const char* heights = run::file::kHeights;  // dpmot: the semi-discrete OT heights
  static constexpr const char* cell_measures = run::file::kCellMeasures;
  static constexpr const char* samples = run::file::kSamples;
  // aot-compare's layout: its two models in RUN/edm and RUN/aot, its samples RUN/samples_<method>.npy.
  static constexpr const char* plain_model_dir = run::file::kEdmRun;
  static constexpr const char* aot_model_dir = run::file::kAotRun;
  static std::string compare_samples(const std::string& method) {
    return run::AotCompareLayout().samples(method).string();
  }
  // Where the workbench puts DPM-OT samples with M steps: RUN/dpmot-m<M>.
  static std::string dpmot_dir(int64_t m) { return run::AotCompareLayout().dpmot_run(m).string(); }
};

struct GenTrainOptions {
  std::string project;         // the generation project file
  std::string out_dir;         // must not hold a model yet
  std::optional<int64_t> aot;  // images per assignment chunk; 0: plain EDM on the same chunks (train.method, train.aot)
  std::optional<int64_t> steps, batch;
  std::optional<int64_t> fd_every;  // Fréchet distance of the EMA model every K steps (train.fd_every; 0: off)
};

struct AotCompareOptions {
  std::string project, out_dir;
  std::vector<int64_t> nfe = {5, 9, 17, 35};  // odd: Heun with N steps uses 2N - 1 evaluations
  std::optional<int64_t> steps, aot, batch;   // of both models (aot: the AOT model's chunk, >= 1)
  std::optional<int64_t> samples;             // per model and NFE (eval.samples)
  std::optional<int64_t> fd_every;            // both trainings' FD curve (train.fd_every; 0: off)
};

struct DpmotOptions {
  std::string run_dir;  // a GenTrainJob's output directory (model.pt, train.json)
  std::string out_dir;
  std::optional<int64_t> m;           // Heun steps after the map, 1 <= M < N (dpmot.M)
  std::optional<std::string> source;  // "uniform" or "gaussian" (dpmot.source)
  std::optional<int64_t> n;           // samples (eval.samples)
  std::optional<int64_t> latents;     // target latents, the first L training images (dpmot.latents)
  std::optional<int64_t> max_iter;    // semi-discrete OT iterations at most (dpmot.max_iter)
  std::optional<double> lr;           // > 0: the released Adam step instead of the geometric one (dpmot.lr)
  std::string classifier;             // empty: RUN/../classifier.pt when present, else trained into OUT
};

// What every generation job shares: the output directory and the report the job ends with.
class GenJob : public BasicJob {
 public:
  const std::string& out_dir() const override { return out_dir_; }
  // train.json (GenTrainJob) or report.json (the others) as written; empty until the job completes.
  const nlohmann::json& report() const { return report_; }
  JobResult run() override;

 protected:
  explicit GenJob(std::string out_dir) : out_dir_(std::move(out_dir)) {}
  virtual void work() = 0;  // throws UserError for the user's mistakes; returns early (stop_requested) on a stop
  void log(const std::string& message) const;
  void announce(ArtifactKind kind, const std::string& path) const { publish(ArtifactEvent{kind, path}); }
  void stage(StageEvent::What what, Stage stage, const std::string& detail = {}) const {
    publish(StageEvent{what, stage, detail});
  }
  // Polled between steps: blocks while paused; true on a stop.
  bool should_stop() const { return hold(); }
  std::string stopped_where_;  // set by work() when it ended on a stop
  nlohmann::json report_;

 private:
  std::string out_dir_;
};

class GenTrainJob : public GenJob {
 public:
  explicit GenTrainJob(GenTrainOptions options);
  const GenTrainOptions& options() const { return options_; }

 private:
  void work() override;
  GenTrainOptions options_;
};

class AotCompareJob : public GenJob {
 public:
  explicit AotCompareJob(AotCompareOptions options);
  const AotCompareOptions& options() const { return options_; }

 private:
  void work() override;
  AotCompareOptions options_;
};

class DpmotJob : public GenJob {
 public:
  explicit DpmotJob(DpmotOptions options);
  const DpmotOptions& options() const { return options_; }

 private:
  void work() override;
  DpmotOptions options_;
};

}  // namespace otcs::session
