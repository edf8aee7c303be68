// `otcs run PROJECT.json --out RUN`: the whole pipeline (ot -> bridge -> score -> sample -> eval) through a
// session, with a progress bar on a terminal (plain log lines otherwise), Ctrl-C / SIGTERM stopping at a step
// boundary after a checkpoint (exit 130). The session draws the run's PNG figures at the end.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/spdlog.h>

#include "app/cli/command.h"
#include "app/cli/launcher.h"
#include "core/common/device.h"
#include "core/common/distributed.h"
#include "core/common/error.h"
#include "core/common/log.h"
#include "core/common/mixed_precision.h"
#include "core/common/precision.h"
#include "core/common/runtime.h"
#include "core/io/file.h"
#include "core/run/layout.h"
#include "core/run/run_meta.h"
#include "core/session/session.h"

#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/preview.h"
#include "core/imaging/run_figures.h"
#endif

namespace fs = std::filesystem;

namespace otcs::cli {

namespace {

std::atomic<session::Session*> g_session{nullptr};
std::atomic<int> g_signals{0};

extern "C" void on_stop_signal(int sig) {
  // Only lock-free atomic stores here: the session polls its flag at the next step boundary.
  // A second signal means "now": the exact OT solve, the bridge and eval's reference solve have no step
  // boundary to stop at. Default action (async-signal-safe); checkpoints on disk are complete files anyway.
  if (g_signals.fetch_add(1) >= 1) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  if (auto* s = g_session.load()) s->request_stop();
}

class SignalScope {
 public:
  explicit SignalScope(session::Session& s) {
    g_session.store(&s);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    g_session.store(nullptr);
  }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

std::string format_duration(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "--:--";
  auto t = int64_t(std::llround(s));
  if (t >= 3600) return fmt::format("{}:{:02d}:{:02d}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{}:{:02d}", t / 60, t % 60);
}

// The terminal progress line. Log lines are routed through clear() first so they never land on the bar.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(bool tty) : tty_(tty) {}

  void update(const session::ProgressEvent& e) {
    // The plain-line message is logged after the lock is released: the bar-aware sink takes the same mutex.
    std::string message;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      message = render(e);
    }
    if (!message.empty()) spdlog::info("{}", message);
  }

 private:
  // Draws the bar (tty) or returns the plain line to log (empty: nothing to log now). Caller holds mutex_.
  std::string render(const session::ProgressEvent& e) {
    const double now = clock();
    const bool final = e.step >= e.total;
    if (tty_) {
      if (!final && now - last_draw_ < 0.1) return {};
      last_draw_ = now;
      const int width = 28;
      const double frac = e.total > 0 ? double(e.step) / double(e.total) : 0;
      const int fill = int(frac * width);
      std::string bar(size_t(fill), '#');
      bar += std::string(size_t(width - fill), '.');
      line_ = fmt::format("{:<6} [{}] {:>3.0f}% {}/{}{}  {:.0f} it/s  ETA {}", session::stage_name(e.stage), bar,
                          frac * 100, e.step, e.total, e.has_loss ? fmt::format("  loss {:.4g}", e.last_loss) : "",
                          e.steps_per_second, format_duration(e.eta_seconds));
      std::fprintf(stderr, "\r\033[K%s", line_.c_str());
      if (final) {
        std::fputc('\n', stderr);
        line_.clear();
      }
      std::fflush(stderr);
    } else {
      // Plain lines, about every 10 % (and at the end), so logs stay readable.
      const int64_t decile = e.total > 0 ? e.step * 10 / e.total : 0;
      if (e.stage != last_stage_ || e.step < last_step_) last_decile_ = -1;
      last_stage_ = e.stage;
      last_step_ = e.step;
      if (decile == last_decile_ && !final) return {};
      if (final && reported_final_) return {};
      reported_final_ = final;
      last_decile_ = decile;
      return fmt::format("{}: step {}/{}{}, {:.0f} steps/s, ETA {}", session::stage_name(e.stage), e.step, e.total,
                         e.has_loss ? fmt::format(", loss {:.4g}", e.last_loss) : "", e.steps_per_second,
                         format_duration(e.eta_seconds));
    }
    return {};
  }

 public:
  void new_stage() {
    std::lock_guard<std::mutex> lock(mutex_);
    reported_final_ = false;
    last_decile_ = -1;
  }
  // Called before a log line is written.
  void clear() {
    if (tty_ && !line_.empty()) std::fprintf(stderr, "\r\033[K");
  }
  void redraw() {
    if (tty_ && !line_.empty()) {
      std::fprintf(stderr, "%s", line_.c_str());
      std::fflush(stderr);
    }
  }
  std::mutex& mutex() { return mutex_; }

 private:
  static double clock() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  bool tty_;
  std::mutex mutex_;
  std::string line_;
  double last_draw_ = -1;
  session::Stage last_stage_ = session::Stage::Ot;
  int64_t last_step_ = 0, last_decile_ = -1;
  bool reported_final_ = false;
};

// Wraps the console sink so a log line first clears the progress bar and then redraws it.
class BarAwareSink : public spdlog::sinks::sink {
 public:
  BarAwareSink(std::shared_ptr<spdlog::sinks::sink> inner, ProgressDisplay& bar)
      : inner_(std::move(inner)), bar_(bar) {}
  void log(const spdlog::details::log_msg& msg) override {
    std::lock_guard<std::mutex> lock(bar_.mutex());
    bar_.clear();
    inner_->log(msg);
    inner_->flush();
    bar_.redraw();
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  ProgressDisplay& bar_;
};

// Swaps the default logger's stderr sink for the bar-aware wrapper (and back on destruction).
class ConsoleWrap {
 public:
  explicit ConsoleWrap(ProgressDisplay& bar) {
    auto logger = spdlog::default_logger();
    if (!logger || logger->sinks().empty()) return;
    dist_ = std::dynamic_pointer_cast<spdlog::sinks::dist_sink_mt>(logger->sinks().front());
    if (!dist_) return;
    original_ = dist_->sinks();
    std::vector<std::shared_ptr<spdlog::sinks::sink>> wrapped;
    for (auto& s : original_) {
      // The console sink is the one that is no file sink: wrap the first sink, which init_logging adds.
      wrapped.push_back(&s == &original_.front() ? std::make_shared<BarAwareSink>(s, bar) : s);
    }
    dist_->set_sinks(wrapped);
  }
  ~ConsoleWrap() {
    if (dist_) {
      auto current = dist_->sinks();
      // Keep sinks added meanwhile (e.g. the run's log file), put the console back.
      for (size_t i = 0; i < current.size() && i < original_.size(); ++i) current[i] = original_[i];
      dist_->set_sinks(current);
    }
  }

 private:
  std::shared_ptr<spdlog::sinks::dist_sink_mt> dist_;
  std::vector<std::shared_ptr<spdlog::sinks::sink>> original_;
};

int run_pipeline(const Args& args, dist::ProcessGroup& dp);

// Data parallelism: `--nproc N` starts ranks 1..N-1 here (LocalLauncher); a process started by an external
// launcher (torchrun-style environment) or by ours joins the group the environment describes.
bool any_stage_done(const fs::path& run) {
  std::error_code ec;
  for (const char* stage : run::kStageDirs)
    if (fs::exists(run::RunLayout(run).done_marker(stage), ec)) return true;
  return false;
}

int run_command(const Args& args) {
  // Validated here (a CUDA device on a CPU-only build is a user error, exit 2); the score stage trains there.
  parse_device(args.get("--device", "cpu"), "--device");
  const long long nproc = args.has("--nproc") ? positive_int(args, "--nproc", 1) : 1;
  auto env = dist::read_env();
  std::unique_ptr<LocalLauncher> launcher;
  if (nproc > 1 && !LocalLauncher::is_child()) {
    if (env.world_size > 1)
      fail("run: --nproc {} given, but WORLD_SIZE={} is already set by a launcher; use one or the other", nproc,
           env.world_size);
    if (nproc > 256) fail("run: --nproc {} is more than 256 processes", nproc);
    launcher = std::make_unique<LocalLauncher>(int(nproc));
    env = dist::read_env();
    // The ranks share this machine's cores (LOCAL_WORLD_SIZE, set by the launcher for every rank).
    if (requested_threads(args) == 0) otcs::set_threads(otcs::threads_per_local_rank());
  }
  auto& dp = dist::ProcessGroup::init(env);
  int status = 0;
  try {
    status = run_pipeline(args, dp);
  } catch (...) {
    if (launcher) launcher->finish(1);
    throw;
  }
  return launcher ? launcher->finish(status) : status;
}

int run_pipeline(const Args& args, dist::ProcessGroup& dp) {
  const std::string project_path = args.positional().at(0);
  // The point-cloud pipeline's small MLPs gain nothing from a second intra-op thread, and OpenMP's
  // spin-waiting made them up to 60x slower on a busy 2-core machine (measured; docs/DIFFUSION.md).
  auto project = session::load_project(project_path);
  if (requested_threads(args) == 0 && !project.images()) otcs::set_threads(1);
  if (args.has("--steps-scale")) session::scale_steps(project, positive_double(args, "--steps-scale", 1.0));
  if (args.has("--precision")) {
    const Precision precision = parse_precision(args.get("--precision"));
    require_precision(precision, parse_device(args.get("--device", "cpu"), "--device"),
                      "--precision " + precision_name(precision));
    session::set_precision(project, precision);
  }
  session::SessionOptions options;
  options.out_dir = args.get("--out");
  options.device = args.get("--device", "cpu");
  // torchrun's convention: a data-parallel rank takes the GPU of its LOCAL_RANK when no index is given.
  if (options.device == "cuda" && dp.active()) options.device = fmt::format("cuda:{}", dp.local_rank());
  if (args.has("--from")) options.from = session::parse_stage(args.get("--from"));
  if (args.has("--until")) options.until = session::parse_stage(args.get("--until"));
  options.reuse_from = args.get("--reuse", "");
#ifdef OTCS_HAVE_IMAGING
  options.preview_writer = imaging::write_preview_png;
  // Rank 0 alone writes the run directory, so it alone draws the figures.
  if (!args.has("--no-figures") && dp.is_main()) options.figure_writer = imaging::render_run_figures;
#endif

  std::error_code ec;
  // A directory that main_entry created a moment ago (to hold the writer lock and run.json) counts as new.
  bool existed = fs::is_directory(options.out_dir, ec) && !args.run_dir_created;
  // Rank 0 alone writes the run directory. The other ranks run ot -> bridge -> score (the stages that train
  // in lockstep; the bridge is recomputed) in a scratch directory that they remove, and nothing after that.
  // Resuming needs every rank's checkpoints to agree, which only rank 0 has: a data-parallel run starts from
  // an empty run directory (resume one with --nproc 1; its checkpoints are those of a single process).
  std::optional<fs::path> scratch;
  if (dp.active()) {
    bool fresh = true;
    if (dp.is_main() && existed)
      for (const auto& entry : fs::directory_iterator(options.out_dir, ec)) {
        const std::string file = entry.path().filename().string();
        if (file != run::file::kLog && !run::is_run_metadata_file(file)) fresh = false;
      }
    if (!dp.broadcast_flag(fresh)) {
      if (dp.is_main())
        fail(
            "{}: the run directory is not empty; a data-parallel run (--nproc/WORLD_SIZE) starts a new one "
            "(resume this one with --nproc 1)",
            options.out_dir);
      return 2;
    }
    if (!dp.is_main()) {
      // Under our launcher: its scratch root (removed by rank 0 however this process ends); else TMPDIR.
      const char* root = std::getenv("OTCS_SCRATCH_ROOT");
      scratch = (root && *root && LocalLauncher::is_child())
                    ? fs::path(root) / fmt::format("rank{}", dp.rank())
                    : fs::temp_directory_path() / fmt::format("otcs-rank{}-{}", dp.rank(), ::getpid());
      fs::remove_all(*scratch, ec);
      options.out_dir = scratch->string();
      existed = false;
      if (!options.until || *options.until > session::Stage::Score) options.until = session::Stage::Score;
    }
  }
  struct ScratchCleanup {
    std::optional<fs::path> dir;
    ~ScratchCleanup() {
      std::error_code e;
      if (dir) fs::remove_all(*dir, e);
    }
  } cleanup{scratch};
  fs::create_directories(options.out_dir, ec);
  if (ec) fail("{}: cannot create the run directory ({})", options.out_dir, ec.message());
  std::shared_ptr<spdlog::sinks::sink> log_file;
  if (!existed && !args.has("--log-file") && dp.is_main())
    log_file = add_log_file(run::RunLayout(options.out_dir).log().string());

  session::Session run(std::move(project), options);
  const bool tty = isatty(STDERR_FILENO) == 1 && dp.is_main();  // other ranks: no bar (their info lines are off)
  ProgressDisplay display(tty);
  ConsoleWrap wrap(display);
  // Announced with the first stage event, i.e. once the project's data has loaded: a run that fails on a bad input
  // file prints only its one error line.
  bool announced = false;
  run.set_event_callback([&](const session::Event& e) {
    if (auto* p = std::get_if<session::ProgressEvent>(&e)) display.update(*p);
    if (auto* s = std::get_if<session::StageEvent>(&e)) {
      if (!announced) {
        announced = true;
        spdlog::info("run: {} -> {}", project_path, fs::absolute(options.out_dir).string());
      }
      if (s->what == session::StageEvent::What::Started) {
        display.new_stage();
        spdlog::info("{}: started", session::stage_name(s->stage));
      } else if (s->what == session::StageEvent::What::Finished) {
        spdlog::info("{}: done{}", session::stage_name(s->stage), s->detail.empty() ? "" : " (" + s->detail + ")");
      }
    }
  });
  if (dp.active()) {
    const auto env = dist::read_env();
    spdlog::info(
        "run: data-parallel, {} processes (c10d Gloo, master {}:{}); each global batch is split "
        "across them and rank 0 writes the run",
        dp.world_size(), env.master_addr, env.master_port);
  }
  session::SessionResult result;
  if (LocalLauncher::is_child()) {
    result = run.run();  // Ctrl-C is ignored and SIGTERM ends it: rank 0 handles stops and ends the children
  } else {
    SignalScope signals(run);
    result = run.run();
  }
  if (!dp.is_main()) {
    if (result.status == session::SessionStatus::Failed) {
      std::fprintf(stderr, "otcs: error: rank %d: %s\n", dp.rank(), result.message.c_str());
      return result.user_error ? 2 : 1;
    }
    return result.status == session::SessionStatus::Stopped ? 130 : 0;
  }
  if (log_file && result.status != session::SessionStatus::Completed) spdlog::default_logger()->flush();
  switch (result.status) {
    case session::SessionStatus::Stopped:
      if (dp.active())
        spdlog::warn("run: {}; resume it with --nproc 1 (the checkpoint is that of a single process)", result.message);
      else
        spdlog::warn("run: {}; run the same command again to resume", result.message);
      return 130;
    case session::SessionStatus::Failed:
      // A run directory this command created and in which no stage finished holds nothing worth keeping (the
      // copied project, the prepared data, a log): remove it, so a bad input leaves no partial run behind.
      if (!existed && !any_stage_done(options.out_dir)) {
        fs::remove_all(options.out_dir, ec);
      }
      if (result.user_error) fail("{}", result.message);
      std::fprintf(stderr, "otcs: error: %s\n", result.message.c_str());
      spdlog::error("{}", result.message);
      return 1;
    case session::SessionStatus::Completed:
      break;
  }
  const fs::path metrics = fs::path(options.out_dir) / "metrics.json";
  if (fs::exists(metrics, ec)) {
    auto m = nlohmann::json::parse(io::read_file(metrics.string()));
    if (m.contains("translated_class_accuracy"))
      spdlog::info(
          "run: translated-class accuracy {:.4f} (classifier test accuracy {:.4f}); Fréchet distance {:.3f} "
          "on the classifier's features",
          m.value("translated_class_accuracy", 0.0), m.value("classifier_test_accuracy", 0.0),
          m.value("frechet_distance_classifier_features", 0.0));
    else if (m.value("paired", false))
      spdlog::info("run: PSNR {:.3f} dB, SSIM {:.4f} (mean of samples); bicubic input {:.3f} dB, {:.4f}",
                   m["mean_of_samples"].value("psnr", 0.0), m["mean_of_samples"].value("ssim", 0.0),
                   m["input_bicubic"].value("psnr", 0.0), m["input_bicubic"].value("ssim", 0.0));
    else
      spdlog::info("run: conditional_w2_ratio {:.4f} (baseline W2 {:.4f}, target std {:.4f})",
                   m.value("conditional_w2_ratio", 0.0), m.value("conditional_w2_baseline", 0.0),
                   m.value("target_std", 0.0));
  }
  spdlog::info("run: finished; results in {}", fs::absolute(options.out_dir).string());
  return 0;
}

}  // namespace

void register_run(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "run";
  cmd.summary = "run a project end to end: ot -> bridge -> score -> sample -> eval, with figures";
  cmd.usage =
      "otcs run PROJECT.json --out RUN [--from STAGE] [--until STAGE] [--steps-scale F] [--precision P] [--nproc N]";
  cmd.description =
      "Each stage writes its artifacts under RUN/<stage>/ and is skipped when they exist for the same\n"
      "configuration; an interrupted stage resumes from its last checkpoint. Ctrl-C or SIGTERM stops at the\n"
      "next step boundary after saving a checkpoint (exit status 130); a second one stops at once. Figures (PNG)\n"
      "and metrics.json land in RUN; RUN/run.json records the command, the machine and the outcome. One writer\n"
      "at a time: a second otcs run on RUN exits 2 naming the first's PID (reading RUN is always allowed).\n"
      "Data-parallel: --nproc N runs N processes here (rank 0 is this one); under an external launcher set\n"
      "MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE (as torchrun does) instead. Each rank trains on its share of\n"
      "every global batch and the gradients are averaged (c10d Gloo); only rank 0 writes RUN.";
  cmd.options = {
      {"--out", "RUN", "the run directory", "", true},
      {"--from", "STAGE", "run this stage and every later one again (ot, bridge, score, sample, eval)"},
      {"--until", "STAGE", "stop after this stage"},
      {"--reuse", "BASE_RUN",
       "a new run from BASE_RUN: its stages with the same configuration are hard-linked, the rest run here"},
      {"--steps-scale", "F", "multiply the OT iterations and score steps by F (quick runs, longer runs)", "1"},
      {"--no-figures", "", "skip the PNG figures"},
      {"--nproc", "N", "data-parallel training in N processes on this machine (c10d Gloo; rank 0 writes RUN)", "1"},
      {"--precision", "P",
       "fp32, bf16 or auto (bf16 where the CPU has it) for the ot, score and sample stages (default: each stage's "
       "precision in the project, fp32)"},
      {"--device", "DEV", "where the score stage trains: cpu, cuda or cuda:K (needs a LibTorch built with CUDA)",
       "cpu"},
  };
  cmd.min_positional = 1;
  cmd.max_positional = 1;
  cmd.run_dir_option = "--out";
  cmd.run = run_command;
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
