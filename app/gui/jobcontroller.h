#pragma once
// Runs any job (core/session/job.h: a translation run or a generation job) on a worker thread and turns its events
// into Qt signals on the GUI thread. Events are buffered on the worker and delivered in batches at most every
// ~50 ms, so a chatty job can never flood the GUI's event queue; pause/resume/stop are safe at any time and
// idempotent. Log lines need no signal: the jobs log through spdlog, which feeds the log dock.
#include <QElapsedTimer>
#include <QMutex>
#include <QObject>
#include <QStringList>
#include <QVector>
#include <atomic>
#include <memory>

#include "core/session/job.h"
#include "widgets/trajectorydata.h"

class QThread;

namespace otcs::run {
class RunRecord;
}

namespace otcs::workbench {

// Signals carry the jobs' typed events; app/gui/eventtext.h turns them into words.
struct StageProgress {
  session::Stage stage = session::Stage::Ot;
  qint64 step = 0, total = 0;
  double stepsPerSecond = 0, etaSeconds = -1;
  double loss = 0;
  bool hasLoss = false;
};

struct LossBatch {
  session::Stage stage = session::Stage::Ot;
  QString series;
  QVector<double> steps, values;
};

struct TrajectoryFrameEvent {
  qint64 source = 0;
  int count = 0, dim = 0;
  TrajectoryFrame frame;
};

class JobController : public QObject {
  Q_OBJECT
 public:
  enum class State { Idle, Running, Paused, Stopping };
  Q_ENUM(State)

  explicit JobController(QObject* parent = nullptr);
  ~JobController() override;  // stops a running job and waits for it

  // Starts `job` on the worker thread. `record` (optional: the run directory's writer lock and run.json) is held
  // until the job's end is delivered and then finished with the exit status the command line would have had.
  // False with *error while another job runs.
  bool startJob(std::unique_ptr<session::Job> job, std::unique_ptr<run::RunRecord> record, QString* error);
  void pause();
  void resume();
  void stop();
  bool waitForIdle(int ms);  // processes events while waiting (the finished signal needs the GUI thread)
  State state() const { return state_; }
  QString runDir() const { return run_dir_; }

  // The exit status a command-line run would have had.
  static int exitCode(session::JobStatus status, bool userError);
  // The workbench's command line, for RUN/run.json.
  static std::vector<std::string> commandLine();

 signals:
  void stateChanged(otcs::workbench::JobController::State state);
  void stageEvent(otcs::session::Stage stage, otcs::session::StageEvent::What what, const QString& detail);
  void progress(const otcs::workbench::StageProgress& progress);
  void lossPoints(const otcs::workbench::LossBatch& batch);
  void hReady(const QString& path);
  void trajectoryFrames(const QVector<otcs::workbench::TrajectoryFrameEvent>& frames);
  void samplesReady(const QString& path);
  // A score-stage preview was written (RUN/score/previews/step_<step>.png).
  void previewReady(qint64 step, const QString& path);
  void metricsReady(const QVector<QPair<QString, double>>& values, const QString& path);
  // A finished file (session::ArtifactEvent): a run figure, a generation job's model, report, chunk costs, ...
  void artifactReady(otcs::session::ArtifactKind kind, const QString& path);
  void finished(otcs::session::JobStatus status, const QString& message, bool userError);

 private:
  struct Pending;
  void onEvent(const void* event);  // worker thread
  void scheduleFlush();             // worker thread
  void flush();                     // GUI thread
  void setState(State s);

  std::unique_ptr<session::Job> job_;
  std::unique_ptr<run::RunRecord> record_;  // held from start until the job's end is flushed
  QThread* thread_ = nullptr;
  State state_ = State::Idle;
  QString run_dir_;
  QMutex mutex_;
  std::unique_ptr<Pending> pending_;
  std::atomic<bool> flush_scheduled_{false};
};

}  // namespace otcs::workbench

Q_DECLARE_METATYPE(otcs::session::Stage)
Q_DECLARE_METATYPE(otcs::session::StageEvent::What)
Q_DECLARE_METATYPE(otcs::session::JobStatus)
Q_DECLARE_METATYPE(otcs::session::ArtifactKind)
Q_DECLARE_METATYPE(otcs::workbench::StageProgress)
Q_DECLARE_METATYPE(otcs::workbench::LossBatch)
