#pragma once
// What a running job (a translation session or a generation job) tells its front end. Plain structs and
// vectors, no LibTorch, so GUI translation units include this cheaply (and without the clash between Qt's
// `slots` macro and the torch headers). Generation jobs report on the pipeline's stages too: training is the
// score stage, semi-discrete OT the ot stage, sampling the sample stage, the classifier and scores the eval stage.
// Events are delivered on the job's thread; a GUI queues them to its own thread.
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace otcs::session {

enum class Stage { Ot, Bridge, Score, Sample, Eval };
constexpr Stage kStages[] = {Stage::Ot, Stage::Bridge, Stage::Score, Stage::Sample, Stage::Eval};
const char* stage_name(Stage stage);         // "ot", "bridge", "score", "sample", "eval"
Stage parse_stage(const std::string& name);  // throws UserError listing the stages

struct LogEvent {
  enum class Level { Info, Warning, Error } level = Level::Info;
  std::string message;
};

struct StageEvent {
  enum class What { Started, Resumed, Skipped, Finished, Stopped, Failed } what = What::Started;
  Stage stage = Stage::Ot;
  std::string detail;  // e.g. "from step 400", "artifact exists", the failure message
};

struct ProgressEvent {
  Stage stage = Stage::Ot;
  int64_t step = 0, total = 0;
  double steps_per_second = 0;  // since the stage (re)started or was last resumed from a pause
  double eta_seconds = -1;      // -1: unknown
  double last_loss = 0;         // the latest loss / objective of the stage (0 when it has none)
  bool has_loss = false;
};

// One point of a training curve: series "dual" (OT objective, maximised) or "loss" (score loss).
struct LossEvent {
  Stage stage = Stage::Score;
  std::string series;
  int64_t step = 0;
  double value = 0;
};

struct HReadyEvent {
  int64_t rows = 0, cols = 0, nnz = 0;
  int64_t empty_rows = 0;
  std::string path;  // the saved H.npz
};

// One recorded frame of the reverse process for the tracked samples of one source.
struct TrajectoryEvent {
  int64_t source_index = 0;
  int64_t frame = 0, step = 0, total_steps = 0;
  double t = 0;
  int64_t count = 0, dim = 0;  // tracked samples, coordinates per sample
  std::vector<float> x, x0;    // [count * dim] row-major: x_t and the predicted clean sample
};

struct SamplesEvent {
  std::vector<int64_t> source_index;  // the conditioning sources
  int64_t per_source = 0, dim = 0;
  std::vector<float> samples;  // [sources * per_source * dim]
  std::string path;
};

struct MetricsEvent {
  std::vector<std::pair<std::string, double>> values;
  std::string path;
};

// A live preview of the score model during training (RUN/score/previews/step_<step>.png, listed in
// previews.json): the same sources, translated with the same noise at every preview.
struct PreviewEvent {
  int64_t step = 0;
  std::string path;  // the PNG, or empty when this build cannot encode PNG (the .npz beside it then)
  std::string index_path;
};

// A finished artifact a front end may load or show: a run figure, a generation job's model, loss curve, report,
// AOT chunk costs, DPM-OT cell measures or samples.
enum class ArtifactKind { Figure, Model, Loss, Report, AotChunks, CellMeasures, Samples };
// "figure", "model", "loss", "report", "aot_chunks", "cell_measures", "samples"
const char* artifact_kind_name(ArtifactKind kind);

struct ArtifactEvent {
  ArtifactKind kind = ArtifactKind::Figure;
  std::string path;
};

using Event = std::variant<LogEvent, StageEvent, ProgressEvent, LossEvent, HReadyEvent, TrajectoryEvent, SamplesEvent,
                           MetricsEvent, PreviewEvent, ArtifactEvent>;
using EventCallback = std::function<void(const Event&)>;

}  // namespace otcs::session
