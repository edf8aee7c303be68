#include "core/session/session.h"
#include "core/session/project_points.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <regex>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/common/device.h"
#include "core/common/error.h"
#include "core/common/mixed_precision.h"
#include "core/diffusion/trainer.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/run/artifacts.h"
#include "core/run/json_text.h"
#include "core/run/layout.h"
#include "core/session/run_fork.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;

namespace otcs::session {

const char* stage_name(Stage stage) {
  const int i = int(stage);
  return i >= 0 && i < int(std::size(run::kStageDirs)) ? run::kStageDirs[i] : "?";
}

const char* artifact_kind_name(ArtifactKind kind) {
  switch (kind) {
    case ArtifactKind::Figure:
      return "figure";
    case ArtifactKind::Model:
      return "model";
    case ArtifactKind::Loss:
      return "loss";
    case ArtifactKind::Report:
      return "report";
    case ArtifactKind::AotChunks:
      return "aot_chunks";
    case ArtifactKind::CellMeasures:
      return "cell_measures";
    case ArtifactKind::Samples:
      return "samples";
  }
  return "?";
}

Stage parse_stage(const std::string& name) {
  for (Stage s : kStages)
    if (name == stage_name(s)) return s;
  fail("unknown stage '{}' (expected ot, bridge, score, sample or eval)", name);
}

// ------------------------------------------------------------------------------------------ context helpers

void StageContext::log(LogEvent::Level level, const std::string& message) const {
  switch (level) {
    case LogEvent::Level::Info:
      spdlog::info("{}", message);
      break;
    case LogEvent::Level::Warning:
      spdlog::warn("{}", message);
      break;
    case LogEvent::Level::Error:
      spdlog::error("{}", message);
      break;
  }
  emit(LogEvent{level, message});
}

bool StageContext::hold() const {
  while (pause.load() && !stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return stop.load();
}

std::vector<int64_t> StageContext::spread_sources(int64_t count) const {
  std::vector<char> is_kp(size_t(source.size(0)), 0);
  for (int64_t k = 0; k < keypoints.size(); ++k) is_kp[size_t(keypoints.source_index[k].item<int64_t>())] = 1;
  std::vector<int64_t> pool;
  for (int64_t i = 0; i < source.size(0); ++i)
    if (!is_kp[size_t(i)]) pool.push_back(i);
  if (int64_t(pool.size()) <= count) return pool;
  std::vector<int64_t> out;
  for (int64_t k = 0; k < count; ++k)
    out.push_back(pool[size_t((double(k) + 0.5) * double(pool.size()) / double(count))]);
  return out;
}

void ProgressClock::tick(const std::function<void(const Event&)>& emit, Stage stage, int64_t step, bool force,
                         double loss, bool has_loss) {
  const double t = now();
  if (!force && last_emit_ >= 0 && t - last_emit_ < 0.2) return;
  last_emit_ = t;
  ProgressEvent e;
  e.stage = stage;
  e.step = step;
  e.total = total_;
  const double active = std::max(1e-9, t - start_ - paused_);
  e.steps_per_second = double(step - first_) / active;
  e.eta_seconds = e.steps_per_second > 0 ? double(total_ - step) / e.steps_per_second : -1;
  e.last_loss = loss;
  e.has_loss = has_loss;
  emit(e);
}

void mark_done(const StageContext& ctx, Stage stage, const nlohmann::json& extra) {
  run::write_done_marker(ctx.layout().done_marker(stage_name(stage)), ctx.hash, extra);
}

// The artifacts a later stage (or the user) reads from a finished stage; done.json alone is not trusted.
std::vector<const char*> main_artifacts(Stage stage, bool images) {
  namespace file = run::file;
  if (images && stage == Stage::Sample) return {file::kTranslations};
  if (images && stage == Stage::Eval) return {file::kMetrics, file::kTranslations};
  switch (stage) {
    case Stage::Ot:
      return {file::kU, file::kV};
    case Stage::Bridge:
      return {file::kH, file::kRedirect};
    case Stage::Score:
      return {file::kModel};
    case Stage::Sample:
      return {file::kSamples, file::kSampleSources};
    case Stage::Eval:
      return {file::kMetrics};
  }
  return {};
}

bool stage_done_in(const fs::path& stage_dir, Stage stage, const std::string& hash, bool images, bool warn) {
  const fs::path marker = stage_dir / run::file::kDone;
  std::error_code ec;
  if (!fs::exists(marker, ec)) return false;
  for (const char* name : main_artifacts(stage, images)) {
    const fs::path artifact = stage_dir / name;
    if (!fs::is_regular_file(artifact, ec) || fs::file_size(artifact, ec) == 0 || ec) {
      if (warn)
        spdlog::warn("{}: {} is missing or empty although done.json exists; the stage runs again", stage_name(stage),
                     artifact.string());
      return false;
    }
  }
  return run::read_done_hash(marker) == hash;
}

bool is_done(const StageContext& ctx, Stage stage) {
  return stage_done_in(ctx.dir(stage), stage, ctx.hash, ctx.images(), true);
}

// ------------------------------------------------------------------------------------------ session

struct Session::Impl {
  Project project;
  SessionOptions options;
  EventCallback callback;
  std::atomic<bool> pause{false}, stop{false};

  void emit(const Event& e) const {
    if (callback) callback(e);
  }
  SessionResult run();
  void prepare_data(StageContext& ctx) const;
};

Session::Session(Project project, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->project = std::move(project);
  impl_->options = std::move(options);
  if (impl_->options.out_dir.empty()) fail("a run needs an output directory (--out)");
}

Session::~Session() = default;
void Session::set_event_callback(EventCallback callback) { impl_->callback = std::move(callback); }
void Session::pause() { impl_->pause.store(true); }
void Session::resume() { impl_->pause.store(false); }
void Session::request_stop() { impl_->stop.store(true); }
bool Session::paused() const { return impl_->pause.load(); }
bool Session::stop_requested() const { return impl_->stop.load(); }
const Project& Session::project() const { return impl_->project; }
const std::string& Session::out_dir() const { return impl_->options.out_dir; }
SessionResult Session::run() { return impl_->run(); }

void Session::Impl::prepare_data(StageContext& ctx) const {
  const Project& p = project;
  const std::string where = p.path.empty() ? "project" : p.path;
  ProjectPoints points = load_project_points(p);
  const std::vector<int64_t>& si = points.source_index;
  const std::vector<int64_t>& ti = points.target_index;
  ctx.source = points.source;
  ctx.target = points.target;
  ctx.source_labels = points.source_labels;
  ctx.target_labels = points.target_labels;
  if (!si.empty()) {
    ctx.keypoints.source_index = torch::tensor(si, torch::kInt64);
    ctx.keypoints.target_index = torch::tensor(ti, torch::kInt64);
    ot::validate_keypoints(ctx.keypoints, ctx.source.size(0), ctx.target.size(0), where + ": /data/keypoints");
  }
  const run::RunLayout layout = ctx.layout();
  fs::create_directories(layout.data_dir());
  ctx.image_shape = points.image_shape;
  if (ctx.images()) {
    // Image rows are large: the run keeps labels and the keypoint pairs (by index and sample name, with both
    // datasets' content hashes, so pairs can never be applied to changed data), not the pixels.
    io::write_npy(layout.source_labels().string(), ctx.source_labels);
    io::write_npy(layout.target_labels().string(), ctx.target_labels);
    std::string csv;
    for (size_t k = 0; k < si.size(); ++k) csv += fmt::format("{},{}\n", si[k], ti[k]);
    io::write_file_atomic(layout.keypoints_csv().string(), csv);
    nlohmann::json pairs = {{"schema_version", 1},
                            {"source_hash", points.source_hash},
                            {"target_hash", points.target_hash},
                            {"pairs", nlohmann::json::array()}};
    for (size_t k = 0; k < si.size(); ++k)
      pairs["pairs"].push_back({{"source", {{"index", si[k]}, {"name", points.source_names[size_t(si[k])]}}},
                                {"target", {{"index", ti[k]}, {"name", points.target_names[size_t(ti[k])]}}}});
    run::write_json_atomic(layout.keypoints_json().string(), pairs);
    return;
  }
  io::write_npy(layout.source_points().string(), ctx.source);
  io::write_npy(layout.target_points().string(), ctx.target);
  io::write_npy(layout.source_labels().string(), ctx.source_labels);
  io::write_npy(layout.target_labels().string(), ctx.target_labels);
  std::string csv;
  for (size_t k = 0; k < si.size(); ++k) csv += fmt::format("{},{}\n", si[k], ti[k]);
  io::write_file_atomic(layout.keypoints_csv().string(), csv);
}

// A writer killed between creating its temporary file and renaming it (io::write_file_atomic) leaves
// .NAME.tmp-PID behind; the finished file it was replacing is intact. Removes those whose process is gone.
void remove_stale_temporaries(const fs::path& run_dir) {
  static const std::regex pattern(R"(\..+\.tmp-([0-9]+))");
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::recursive_directory_iterator it(run_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 1) it.disable_recursion_pending();
    std::smatch m;
    const std::string name = it->path().filename().string();
    if (!std::regex_match(name, m, pattern)) continue;
    const long pid = std::strtol(m[1].str().c_str(), nullptr, 10);
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) stale.push_back(it->path());
  }
  for (const auto& p : stale) {
    fs::remove(p, ec);
    spdlog::debug("removed {} (left by a writer that was killed)", p.string());
  }
}

// The version of each stage's code in its hash: bump a stage's number when a change of its algorithm changes
// what it writes, so that no run reuses a result the current code would not produce. Sample 2: image runs record
// trajectories. Eval 3: image runs write the confusion matrix (metrics.json "confusion").
constexpr int kStageCodeVersion[] = {1, 1, 1, 2, 3};  // ot, bridge, score, sample, eval

// Every number as a float: 1 and 1.0 are the same setting (a project written by the workbench's JSON layer
// says "clip": 1 where the file said 1.0), so they must give the same hash.
void numbers_as_floats(nlohmann::json& j) {
  if (j.is_number())
    j = j.get<double>();
  else if (j.is_structured())
    for (auto& v : j) numbers_as_floats(v);
}

// A stage's settings without those that cannot change its result (logging, checkpoint and preview intervals):
// turning previews on, or logging more often, keeps every finished stage.
std::string result_settings(const std::string& canonical, std::initializer_list<const char*> ignored = {}) {
  auto j = nlohmann::json::parse(canonical, nullptr, false);
  if (j.is_discarded()) return canonical;
  if (j.is_object())
    for (const char* key : ignored) j.erase(key);
  numbers_as_floats(j);
  return j.dump();
}

// Each stage's hash covers its own settings and everything upstream of it. The held-out sets (test_source,
// test_target) feed only the eval stage: changing them re-runs the eval, not the OT, bridge and score stages (a
// project without them hashes exactly as before).
std::map<Stage, std::string> stage_hashes(const Project& project) {
  std::string data_text = project.canonical.at("data"), held_out_text;
  auto data_json = nlohmann::json::parse(data_text);
  if (data_json.is_object() && (data_json.contains("test_source") || data_json.contains("test_target"))) {
    nlohmann::json held_out = nlohmann::json::object();
    for (const char* key : {"test_source", "test_target"}) {
      if (!data_json.contains(key)) continue;
      held_out[key] = data_json[key];
      data_json.erase(key);
    }
    data_text = data_json.dump();
    held_out_text = "|" + result_settings(held_out.dump());
  }
  data_text = result_settings(data_text);
  std::map<Stage, std::string> hash;
  const std::string h_data = stable_hash(fmt::format("v{}|{}", project.schema_version, data_text));
  auto code = [](Stage stage) { return fmt::format("|code {}|", kStageCodeVersion[int(stage)]); };
  std::string score = result_settings(project.canonical.at("score"),
                                      {"log_every", "checkpoint_every", "keep_checkpoints", "preview_every",
                                       "preview_sources", "preview_steps", "init_from"});
  if (!project.score.init_from.empty()) {
    // A warm start's result depends on the model it starts from, not on where that model lies.
    std::string model_hash = "missing";
    try {
      model_hash = stable_hash(io::read_file(init_model_path(project.score.init_from)));
    } catch (const std::exception&) {
    }
    score += "|init " + model_hash;
  }
  hash[Stage::Ot] =
      stable_hash(h_data + code(Stage::Ot) + result_settings(project.canonical.at("ot"), {"checkpoint_every"}));
  hash[Stage::Bridge] =
      stable_hash(hash[Stage::Ot] + code(Stage::Bridge) + result_settings(project.canonical.at("bridge")));
  hash[Stage::Score] = stable_hash(hash[Stage::Bridge] + code(Stage::Score) + score);
  hash[Stage::Sample] =
      stable_hash(hash[Stage::Score] + code(Stage::Sample) + result_settings(project.canonical.at("sample")));
  hash[Stage::Eval] = stable_hash(hash[Stage::Sample] + code(Stage::Eval) +
                                  result_settings(project.canonical.at("eval")) + held_out_text);
  return hash;
}

// A stage asking for bf16 on a device without it fails before anything is written (one sentence, exit 2).
void check_precisions(const Project& p, const std::string& device) {
  const c10::Device dev = parse_device(device.empty() ? "cpu" : device, "--device");
  const std::string where = p.path.empty() ? "project" : p.path;
  require_precision(p.ot.precision, c10::Device(c10::kCPU), where + ": /stages/ot/precision bf16");
  require_precision(p.score.trainer.precision, dev, where + ": /stages/score/precision bf16");
  require_precision(p.sample.sampler.precision, c10::Device(c10::kCPU), where + ": /stages/sample/precision bf16");
}

SessionResult Session::Impl::run() {
  const fs::path run_dir = fs::absolute(options.out_dir);
  std::error_code ec;
  try {
    check_precisions(project, options.device);
  } catch (const UserError& e) {
    return {SessionStatus::Failed, e.what(), true};
  }
  if (fs::exists(run_dir, ec) && !fs::is_directory(run_dir, ec))
    fail("{}: exists and is not a directory", run_dir.string());
  fs::create_directories(run_dir, ec);
  if (ec) fail("{}: cannot create the run directory ({})", run_dir.string(), ec.message());
  remove_stale_temporaries(run_dir);
  io::write_file_atomic(run::RunLayout(run_dir).project().string(), project.text);
  // The run's copy resolves relative data paths against the original project's folder (workbench, translate).
  if (!project.dir.empty() && fs::absolute(project.dir) != run_dir)
    record_project_base_dir(run_dir.string(), project.dir);

  StageContext ctx(
      project, run_dir, [this](const Event& e) { emit(e); }, stop, pause);
  ctx.device = options.device;
  ctx.preview_writer = options.preview_writer;
  try {
    prepare_data(ctx);
  } catch (const UserError& e) {
    return {SessionStatus::Failed, e.what(), true};
  }

  const std::map<Stage, std::string> hash = stage_hashes(project);
  const std::string where = project.path.empty() ? "project" : project.path;

  // A warm start's base model must fit this project's network: checked before any stage runs.
  if (!project.score.init_from.empty()) {
    try {
      load_init_model(project.score.init_from, score_network_spec(ctx), where);
    } catch (const UserError& e) {
      return {SessionStatus::Failed, e.what(), true};
    }
  }

  // A fork: every leading stage that the base run finished with the same configuration hash is taken from it
  // (hard links), up to the first that differs; the rest run here.
  std::map<Stage, std::string> reused;
  if (!options.reuse_from.empty()) {
    const fs::path base = fs::absolute(options.reuse_from).lexically_normal();
    if (!fs::is_regular_file(run::RunLayout(base).project(), ec))
      return {SessionStatus::Failed, fmt::format("--reuse {}: not a run directory (no project.json)", base.string()),
              true};
    if (fs::equivalent(base, run_dir, ec))
      return {SessionStatus::Failed, fmt::format("--reuse {}: the base run is the run itself", base.string()), true};
    for (Stage stage : kStages) {
      if (stage == Stage::Eval && !project.eval.enabled) break;
      ctx.hash = hash.at(stage);
      if (is_done(ctx, stage)) continue;
      if (options.from && int(stage) >= int(*options.from)) break;
      const fs::path base_stage = run::RunLayout(base).stage_dir(stage_name(stage));
      if (!stage_done_in(base_stage, stage, ctx.hash, ctx.images(), false)) break;
      const LinkedFiles n = link_tree(base_stage, ctx.dir(stage));
      reused[stage] = base.string();
      spdlog::info("{}: reused from {} ({} file(s) hard-linked, {} copied)", stage_name(stage), base.string(), n.linked,
                   n.copied);
    }
  }

  bool upstream_ran = false;
  for (Stage stage : kStages) {
    if (stage == Stage::Eval && !project.eval.enabled) break;
    ctx.hash = hash.at(stage);
    ctx.forced = (options.from && int(stage) >= int(*options.from)) || upstream_ran;
    if (!ctx.forced && is_done(ctx, stage)) {
      if (reused.count(stage)) {
        emit(StageEvent{StageEvent::What::Skipped, stage, "reused from " + reused.at(stage)});
      } else {
        emit(StageEvent{StageEvent::What::Skipped, stage, "its artifacts exist for this configuration"});
        spdlog::info("{}: skipped (artifacts exist for this configuration; --from {} runs it again)", stage_name(stage),
                     stage_name(stage));
      }
      if (options.until && stage == *options.until) break;
      continue;
    }
    if (stop.load()) return {SessionStatus::Stopped, fmt::format("stopped before {}", stage_name(stage))};
    std::error_code rm;
    fs::remove(ctx.layout().done_marker(stage_name(stage)), rm);
    // Files linked from a base run are replaced by copies before this stage writes, resumes or appends.
    if (const int64_t n = unshare_tree(ctx.dir(stage)); n > 0)
      spdlog::info("{}: {} file(s) shared with another run were copied before writing", stage_name(stage), n);
    emit(StageEvent{StageEvent::What::Started, stage, ""});
    StageOutcome out;
    try {
      switch (stage) {
        case Stage::Ot:
          out = run_ot_stage(ctx);
          break;
        case Stage::Bridge:
          out = run_bridge_stage(ctx);
          break;
        case Stage::Score:
          out = run_score_stage(ctx);
          break;
        case Stage::Sample:
          out = ctx.images() ? run_image_sample_stage(ctx) : run_sample_stage(ctx);
          break;
        case Stage::Eval:
          out = ctx.images() ? run_image_eval_stage(ctx) : run_eval_stage(ctx);
          break;
      }
    } catch (const UserError& e) {
      out = {StageOutcome::Status::Failed, e.what(), true};
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
      out = {StageOutcome::Status::Failed, fmt::format("{}: internal error: {}", stage_name(stage), what), false};
    }
    switch (out.status) {
      case StageOutcome::Status::Done:
        emit(StageEvent{StageEvent::What::Finished, stage, out.message});
        break;
      case StageOutcome::Status::Stopped:
        emit(StageEvent{StageEvent::What::Stopped, stage, out.message});
        return {SessionStatus::Stopped, out.message};
      case StageOutcome::Status::Failed:
        emit(StageEvent{StageEvent::What::Failed, stage, out.message});
        return {SessionStatus::Failed, out.message, out.user_error};
    }
    upstream_ran = true;
    if (options.until && stage == *options.until) break;
  }
  if (options.figure_writer) {
    try {
      for (const std::string& name : options.figure_writer(run_dir.string()))
        emit(ArtifactEvent{ArtifactKind::Figure, (run_dir / name).string()});
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
      spdlog::error("figures: {} (the run's stages are complete; otcs run again draws them)", what);
      return {SessionStatus::Failed, fmt::format("figures: internal error: {}", what), false};
    }
  }
  return {SessionStatus::Completed, ""};
}

}  // namespace otcs::session
