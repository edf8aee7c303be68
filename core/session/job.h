#pragma once
// One interface for every long piece of work: a translation run (Session) and the generation jobs
// (gen_jobs.h: EDM/AOT training, the with/without-AOT comparison, DPM-OT sampling). A front end drives them all
// alike: it sets an event callback, calls run() on a thread of its own (run() blocks until the job completes,
// stops or fails) and may call pause(), resume() and request_stop() from any thread (request_stop also from a
// signal handler): they set atomics that the job polls at step boundaries. A stop saves what can be resumed
// first.
// Public and free of LibTorch (GUI translation units include it).
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/session/events.h"

namespace otcs::session {

enum class JobStatus { Completed, Stopped, Failed };

struct JobResult {
  JobStatus status = JobStatus::Completed;
  std::string message;      // for Failed: what went wrong (one sentence); for Stopped: where
  bool user_error = false;  // Failed because of the project, its data or the options (CLI exit 2), not internally
};

class Job {
 public:
  virtual ~Job() = default;

  virtual void set_event_callback(EventCallback callback) = 0;
  virtual JobResult run() = 0;

  virtual void pause() = 0;
  virtual void resume() = 0;
  virtual void request_stop() = 0;
  virtual bool paused() const = 0;
  virtual bool stop_requested() const = 0;

  // Where the job writes its artifacts.
  virtual const std::string& out_dir() const = 0;
};

// The control flags and the event sink every job needs, for jobs that keep them themselves.
class BasicJob : public Job {
 public:
  void set_event_callback(EventCallback callback) override { callback_ = std::move(callback); }
  void pause() override { pause_.store(true); }
  void resume() override { pause_.store(false); }
  void request_stop() override { stop_.store(true); }
  bool paused() const override { return pause_.load(); }
  bool stop_requested() const override { return stop_.load(); }

 protected:
  void publish(const Event& e) const {
    if (callback_) callback_(e);
  }
  // Blocks while paused; true when a stop was requested (before or during the pause).
  bool hold() const {
    while (pause_.load() && !stop_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return stop_.load();
  }
  const std::atomic<bool>& stop_flag() const { return stop_; }

 private:
  EventCallback callback_;
  std::atomic<bool> pause_{false}, stop_{false};
};

}  // namespace otcs::session
