#pragma once
// Internal to the session: what every stage gets (data, run directory, event sink, stop/pause flags) and the
// stage entry points. Includes LibTorch; not for GUI translation units.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/common/timing.h"
#include "core/ot/exact.h"
#include "core/ot/keypoints.h"
#include "core/run/layout.h"
#include "core/session/events.h"
#include "core/session/project.h"
#include "core/session/session.h"

namespace otcs::diffusion {
class TrajectoryRecorder;
}

namespace otcs::session {

struct StageContext {
  StageContext(const Project& p, std::filesystem::path run, std::function<void(const Event&)> sink,
               std::atomic<bool>& stop_flag, std::atomic<bool>& pause_flag)
      : project(p), run_dir(std::move(run)), emit(std::move(sink)), stop(stop_flag), pause(pause_flag) {}

  const Project& project;
  std::filesystem::path run_dir;
  std::function<void(const Event&)> emit;
  std::atomic<bool>& stop;
  std::atomic<bool>& pause;

  // The point clouds with the keypoint points appended, as every stage sees them (float32 [n, d]).
  torch::Tensor source, target;
  torch::Tensor source_labels, target_labels;  // int64 mixture component, -1 for file data / keypoints
  ot::KeypointPairs keypoints;                 // indices into source / target
  std::vector<int64_t> image_shape;            // image projects: [C, H, W] of every row (empty for point sets)
  bool images() const { return !image_shape.empty(); }
  std::string hash;            // this stage's configuration hash
  bool forced = false;         // run again even if the artifact exists
  std::string device = "cpu";  // where the score stage trains (SessionOptions::device)
  std::function<void(const std::string&, const PreviewFrame&)> preview_writer;  // SessionOptions::preview_writer

  std::filesystem::path dir(Stage stage) const { return layout().stage_dir(stage_name(stage)); }
  run::RunLayout layout() const { return run::RunLayout(run_dir); }
  void log(LogEvent::Level level, const std::string& message) const;
  // Blocks while paused; returns true when a stop was requested (before or during the pause).
  bool hold() const;
  // Sources that are no keypoint, `count` of them spread evenly over the set (or all when fewer).
  std::vector<int64_t> spread_sources(int64_t count) const;
};

struct StageOutcome {
  enum class Status { Done, Stopped, Failed } status = Status::Done;
  std::string message;
  bool user_error = false;
};

// Steps per second and ETA over the active (unpaused) time since the stage (re)started.
class ProgressClock {
 public:
  ProgressClock(int64_t first_step, int64_t total) : first_(first_step), total_(total) { start_ = now(); }
  // Emits a ProgressEvent when enough time passed (or `force`).
  void tick(const StageContext& ctx, Stage stage, int64_t step, bool force = false, double loss = 0,
            bool has_loss = false) {
    tick(ctx.emit, stage, step, force, loss, has_loss);
  }
  // The same for a job without a stage context (the generation jobs).
  void tick(const std::function<void(const Event&)>& emit, Stage stage, int64_t step, bool force = false,
            double loss = 0, bool has_loss = false);
  void pause_begin() { pause_start_ = now(); }
  void pause_end() { paused_ += now() - pause_start_; }

 private:
  static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  int64_t first_, total_;
  double start_ = 0, paused_ = 0, pause_start_ = 0, last_emit_ = -1;
};

// Each stage's configuration hash: its own settings and everything upstream; the held-out test sets count
// only for the eval stage.
std::map<Stage, std::string> stage_hashes(const Project& project);

// Writes RUN/<stage>/done.json ({"config_hash": ..., plus the members of `extra`}, strict JSON: core/run/json_text.h)
// as the stage's last act.
void mark_done(const StageContext& ctx, Stage stage, const nlohmann::json& extra = nlohmann::json::object());
// Whether RUN/<stage>/done.json exists and carries this configuration hash.
bool is_done(const StageContext& ctx, Stage stage);
// The same check on any run's stage folder (a fork's base run); `warn` logs a missing artifact.
bool stage_done_in(const std::filesystem::path& stage_dir, Stage stage, const std::string& hash, bool images,
                   bool warn);

StageOutcome run_ot_stage(StageContext& ctx);
StageOutcome run_bridge_stage(StageContext& ctx);
StageOutcome run_score_stage(StageContext& ctx);
StageOutcome run_sample_stage(StageContext& ctx);
StageOutcome run_eval_stage(StageContext& ctx);
// Image projects: the sample stage translates a grid of sources per class, the eval stage trains the project's
// classifier and scores translations of the held-out test inputs (stage_images.cpp).
StageOutcome run_image_sample_stage(StageContext& ctx);
StageOutcome run_image_eval_stage(StageContext& ctx);

// Streams each frame `recorder` records as TrajectoryEvents, one per source: the recorded batch holds
// `per_source` consecutive rows per source, of which the first `kept` are sent (stage_sample.cpp).
void stream_trajectory_frames(const StageContext& ctx, diffusion::TrajectoryRecorder& recorder,
                              const std::vector<int64_t>& sources, int64_t per_source, int64_t kept);

// The score network the project asks for, with the data's dimensions filled in (stage_score.cpp).
diffusion::NetworkSpec score_network_spec(const StageContext& ctx);

// The exact L2-regularised plan between a source and a target set with the project's OT settings (the OT
// stage's exact solver, and the eval stage's reference on a finer target).
ot::ExactResult solve_exact_problem(const StageContext& ctx, const torch::Tensor& source, const torch::Tensor& target,
                                    const ot::KeypointPairs& keypoints, const ot::ExactOptions& options = {});

}  // namespace otcs::session
