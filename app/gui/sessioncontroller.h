#pragma once
// Runs a project's pipeline (core Session) on a worker thread and turns its events into Qt signals on the GUI
// thread. Events are buffered on the worker and delivered in batches at most every ~50 ms, so a chatty stage
// can never flood the GUI's event queue; start/pause/resume/stop are safe at any time and idempotent.
#include <QElapsedTimer>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QStringList>
#include <QVector>
#include <atomic>
#include <memory>

#include "widgets/trajectorydata.h"

class QThread;

namespace otcs::session {
class Session;
}
namespace otcs::run {
class RunRecord;
}

namespace otcs::workbench {

struct RunOptions {
  QString runDir;
  QString from, until;     // stage names ("ot", "bridge", "score", "sample", "eval"); empty: none
  double stepsScale = 1.0; // multiplies the OT iterations and score steps (quick runs)
  QString reuseFrom;       // a base run whose stages of the same configuration are hard-linked (a fork)
};

struct StageProgress {
  QString stage;
  qint64 step = 0, total = 0;
  double stepsPerSecond = 0, etaSeconds = -1;
  double loss = 0;
  bool hasLoss = false;
};

struct LossBatch {
  QString stage, series;
  QVector<double> steps, values;
};

struct TrajectoryFrameEvent {
  qint64 source = 0;
  int count = 0, dim = 0;
  TrajectoryFrame frame;
};

class SessionController : public QObject {
  Q_OBJECT
 public:
  enum class State { Idle, Running, Paused, Stopping };
  Q_ENUM(State)

  explicit SessionController(QObject* parent = nullptr);
  ~SessionController() override;  // stops a running session and waits for it

  // Validates the project (errors name the JSON path), takes the run directory's writer lock (refused, naming the
  // holder's PID, while another process writes there) and starts the run; false with *error otherwise.
  // RUN/run.json records the run and, once it ends, its outcome (core/run/run_meta.h).
  bool start(const QJsonObject& project, const QString& projectPath, const RunOptions& options, QString* error);
  void pause();
  void resume();
  void stop();
  bool waitForIdle(int ms);  // processes events while waiting (the finished signal needs the GUI thread)
  State state() const { return state_; }
  QString runDir() const { return run_dir_; }

  static QStringList stageNames();

 signals:
  void stateChanged(otcs::workbench::SessionController::State state);
  void stageEvent(const QString& stage, const QString& what, const QString& detail);
  void progress(const otcs::workbench::StageProgress& progress);
  void lossPoints(const otcs::workbench::LossBatch& batch);
  void hReady(const QString& path);
  void trajectoryFrames(const QVector<otcs::workbench::TrajectoryFrameEvent>& frames);
  void samplesReady(const QString& path);
  // A score-stage preview was written (RUN/score/previews/step_<step>.png).
  void previewReady(qint64 step, const QString& path);
  void metricsReady(const QVector<QPair<QString, double>>& values, const QString& path);
  void finished(const QString& status, const QString& message, bool userError);

 private:
  struct Pending;
  void onEvent(const void* event);  // worker thread
  void scheduleFlush();             // worker thread
  void flush();                     // GUI thread
  void setState(State s);

  std::unique_ptr<session::Session> session_;
  std::unique_ptr<run::RunRecord> record_;  // held from start() until the run's end is flushed
  QThread* thread_ = nullptr;
  State state_ = State::Idle;
  QString run_dir_;
  QMutex mutex_;
  std::unique_ptr<Pending> pending_;
  std::atomic<bool> flush_scheduled_{false};
};

}  // namespace otcs::workbench

Q_DECLARE_METATYPE(otcs::workbench::StageProgress)
Q_DECLARE_METATYPE(otcs::workbench::LossBatch)
