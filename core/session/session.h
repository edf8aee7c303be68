#pragma once
// A run of a project: the stages ot -> bridge -> score -> sample -> eval, each writing its artifacts into the
// run directory. A stage whose artifact exists (for the same configuration) is skipped; an interrupted stage
// resumes from its last checkpoint; `from` forces a stage and everything after it to run again.
//
// A job (job.h): the caller provides the thread; the stages poll pause and stop at step boundaries, and a stop
// saves a checkpoint first.
// Public and free of LibTorch (GUI translation units include it).
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/session/events.h"
#include "core/session/job.h"
#include "core/session/project.h"

namespace otcs::session {

// What a score-stage preview shows, as plain float data. Images: sources and samples [K, C, H, W] in [-1, 1],
// drawn as a grid with the sources on top. 2-D: source points [K, 2], samples [K, P, 2] and the target [m, 2],
// drawn as a scatter per source over the target.
struct PreviewFrame {
  int64_t step = 0;
  bool images = false;
  std::vector<int64_t> shape;           // images: [K, C, H, W]; 2-D: [K, P, 2]
  std::vector<float> sources, samples;  // row-major
  std::vector<float> target;            // 2-D: [m * 2]
};

struct SessionOptions {
  std::string out_dir;
  std::optional<Stage> from;   // force this stage and the later ones to run again
  std::optional<Stage> until;  // stop after this stage
  std::string device = "cpu";  // the score stage trains there ("cpu", "cuda", "cuda:K"; validated by the caller)
  // A base run: every leading stage it finished with the same configuration hash is hard-linked into out_dir
  // instead of run again; the base run is never written.
  std::string reuse_from;
  // Encodes a score-stage preview as PNG (core/imaging registers one in the CLI and the workbench; without it,
  // previews are written as .npz only). The frame: sources and samples as described in PreviewFrame.
  std::function<void(const std::string& png_path, const PreviewFrame& frame)> preview_writer;
  // Draws the run's figures into the run directory once the run completes and returns the names of the files
  // written (core/imaging/run_figures.h; the CLI and the workbench register the same one, so a run gets the
  // same figures from both). Without it, a run has no figures.
  std::function<std::vector<std::string>(const std::string& run_dir)> figure_writer;
};

using SessionStatus = JobStatus;
using SessionResult = JobResult;

class Session : public Job {
 public:
  Session(Project project, SessionOptions options);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void set_event_callback(EventCallback callback) override;
  SessionResult run() override;

  void pause() override;
  void resume() override;
  void request_stop() override;
  bool paused() const override;
  bool stop_requested() const override;

  const Project& project() const;
  const std::string& out_dir() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otcs::session
