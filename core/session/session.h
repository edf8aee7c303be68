#pragma once
// A run of a project: the stages ot -> bridge -> score -> sample -> eval, each writing its artifacts into the
// run directory. A stage whose artifact exists (for the same configuration) is skipped; an interrupted stage
// resumes from its last checkpoint; `from` forces a stage and everything after it to run again.
//
// The caller provides the thread: run() blocks until the run completes, stops or fails. pause(), resume()
// and request_stop() may be called from any thread (request_stop also from a signal handler): they set
// atomics that the stages poll at step boundaries. A stop saves a checkpoint first.
// Public and free of LibTorch (GUI translation units include it).
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/session/events.h"
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
  std::optional<Stage> from;  // force this stage and the later ones to run again
  std::optional<Stage> until; // stop after this stage
  std::string device = "cpu"; // the score stage trains there ("cpu", "cuda", "cuda:K"; validated by the caller)
  // A base run: every leading stage it finished with the same configuration hash is hard-linked into out_dir
  // instead of run again; the base run is never written.
  std::string reuse_from;
  // Encodes a score-stage preview as PNG (core/imaging registers one in the CLI and the workbench; without it,
  // previews are written as .npz only). The frame: sources and samples as described in PreviewFrame.
  std::function<void(const std::string& png_path, const PreviewFrame& frame)> preview_writer;
};

enum class SessionStatus { Completed, Stopped, Failed };

struct SessionResult {
  SessionStatus status = SessionStatus::Completed;
  std::string message;        // for Failed: what went wrong (one sentence); for Stopped: where
  bool user_error = false;    // Failed because of the project or its data (CLI exit 2) rather than internally
};

class Session {
public:
  Session(Project project, SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void set_event_callback(EventCallback callback);
  SessionResult run();

  void pause();
  void resume();
  void request_stop();
  bool paused() const;
  bool stop_requested() const;

  const Project& project() const;
  const std::string& out_dir() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otcs::session
