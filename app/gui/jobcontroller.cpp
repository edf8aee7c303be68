#include "app/gui/jobcontroller.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QMutexLocker>
#include <QThread>
#include <QTimer>
#include <spdlog/spdlog.h>

#include "core/common/error.h"
#include "core/run/run_meta.h"
#include "core/session/job.h"

namespace otcs::workbench {

// What the worker collected since the last flush.
struct JobController::Pending {
  struct StageRecord {
    session::Stage stage;
    session::StageEvent::What what;
    QString detail;
  };
  QVector<StageRecord> stageEvents;
  bool hasProgress = false;
  StageProgress progress;
  QVector<LossBatch> losses;
  QVector<QString> hPaths;
  QVector<TrajectoryFrameEvent> frames;
  QVector<QString> samplePaths;
  QVector<QPair<qint64, QString>> previews;
  QVector<std::pair<QVector<QPair<QString, double>>, QString>> metrics;
  QVector<std::pair<session::ArtifactKind, QString>> artifacts;  // (kind, path)
  bool finished = false;
  session::JobStatus status = session::JobStatus::Completed;
  QString message;
  bool userError = false;
};

int JobController::exitCode(session::JobStatus status, bool userError) {
  switch (status) {
    case session::JobStatus::Completed:
      return 0;
    case session::JobStatus::Stopped:
      return 130;
    case session::JobStatus::Failed:
      break;
  }
  return userError ? 2 : 1;
}

std::vector<std::string> JobController::commandLine() {
  std::vector<std::string> args;
  for (const QString& a : QCoreApplication::arguments()) args.push_back(a.toStdString());
  return args;
}

JobController::JobController(QObject* parent) : QObject(parent), pending_(std::make_unique<Pending>()) {
  qRegisterMetaType<session::Stage>();
  qRegisterMetaType<session::StageEvent::What>();
  qRegisterMetaType<session::JobStatus>();
  qRegisterMetaType<session::ArtifactKind>();
  qRegisterMetaType<StageProgress>();
  qRegisterMetaType<LossBatch>();
  qRegisterMetaType<QVector<TrajectoryFrameEvent>>();
}

JobController::~JobController() {
  if (job_) job_->request_stop();
  if (job_) job_->resume();
  if (thread_) {
    thread_->wait();
    delete thread_;
  }
  if (record_) {
    QMutexLocker lock(&mutex_);
    record_->finish(pending_->finished ? exitCode(pending_->status, pending_->userError) : 130);
  }
}

bool JobController::startJob(std::unique_ptr<session::Job> job, std::unique_ptr<run::RunRecord> record,
                             QString* error) {
  if (state_ != State::Idle || job_) {
    if (error) *error = "A job is already running.";
    return false;
  }
  job_ = std::move(job);
  record_ = std::move(record);
  run_dir_ = QDir(QString::fromStdString(job_->out_dir())).absolutePath();
  job_->set_event_callback([this](const session::Event& e) { onEvent(&e); });
  if (thread_) {
    thread_->wait();
    delete thread_;
  }
  thread_ = QThread::create([this] {
    session::JobResult result;
    try {
      result = job_->run();
    } catch (const UserError& e) {
      result = {session::JobStatus::Failed, e.what(), true};
    } catch (const std::exception& e) {
      result = {session::JobStatus::Failed, std::string("internal error: ") + e.what(), false};
    }
    {
      QMutexLocker lock(&mutex_);
      pending_->finished = true;
      pending_->status = result.status;
      pending_->message = QString::fromStdString(result.message);
      pending_->userError = result.user_error;
    }
    scheduleFlush();
  });
  thread_->setObjectName("otcs-job");
  setState(State::Running);
  thread_->start();
  return true;
}

void JobController::pause() {
  if (state_ != State::Running || !job_) return;
  job_->pause();
  setState(State::Paused);
}

void JobController::resume() {
  if (state_ != State::Paused || !job_) return;
  job_->resume();
  setState(State::Running);
}

void JobController::stop() {
  if ((state_ != State::Running && state_ != State::Paused) || !job_) return;
  job_->request_stop();
  job_->resume();  // a paused job must wake up to see the stop
  setState(State::Stopping);
}

bool JobController::waitForIdle(int ms) {
  QDeadlineTimer deadline(ms);
  while (state_ != State::Idle && !deadline.hasExpired()) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    QThread::msleep(5);
  }
  return state_ == State::Idle;
}

void JobController::setState(State s) {
  if (state_ == s) return;
  state_ = s;
  emit stateChanged(s);
}

void JobController::onEvent(const void* raw) {
  const auto& event = *static_cast<const session::Event*>(raw);
  QMutexLocker lock(&mutex_);
  Pending& p = *pending_;
  if (const auto* e = std::get_if<session::LossEvent>(&event)) {
    const session::Stage stage = e->stage;
    const QString series = QString::fromStdString(e->series);
    if (p.losses.isEmpty() || p.losses.last().stage != stage || p.losses.last().series != series)
      p.losses.push_back({stage, series, {}, {}});
    p.losses.last().steps.push_back(double(e->step));
    p.losses.last().values.push_back(e->value);
  } else if (const auto* e = std::get_if<session::ProgressEvent>(&event)) {
    p.hasProgress = true;
    p.progress = {e->stage, e->step, e->total, e->steps_per_second, e->eta_seconds, e->last_loss, e->has_loss};
  } else if (const auto* e = std::get_if<session::StageEvent>(&event)) {
    p.stageEvents.push_back({e->stage, e->what, QString::fromStdString(e->detail)});
  } else if (const auto* e = std::get_if<session::HReadyEvent>(&event)) {
    p.hPaths.push_back(QString::fromStdString(e->path));
  } else if (const auto* e = std::get_if<session::TrajectoryEvent>(&event)) {
    TrajectoryFrameEvent f;
    f.source = e->source_index;
    f.count = int(e->count);
    f.dim = int(e->dim);
    f.frame.step = e->step;
    f.frame.t = e->t;
    f.frame.x = QVector<float>(e->x.begin(), e->x.end());
    f.frame.x0 = QVector<float>(e->x0.begin(), e->x0.end());
    p.frames.push_back(std::move(f));
  } else if (const auto* e = std::get_if<session::SamplesEvent>(&event)) {
    p.samplePaths.push_back(QString::fromStdString(e->path));
  } else if (const auto* e = std::get_if<session::PreviewEvent>(&event)) {
    p.previews.push_back({qint64(e->step), QString::fromStdString(e->path)});
  } else if (const auto* e = std::get_if<session::MetricsEvent>(&event)) {
    QVector<QPair<QString, double>> values;
    for (const auto& [k, v] : e->values) values.push_back({QString::fromStdString(k), v});
    p.metrics.push_back({values, QString::fromStdString(e->path)});
  } else if (const auto* e = std::get_if<session::ArtifactEvent>(&event)) {
    p.artifacts.push_back({e->kind, QString::fromStdString(e->path)});
  }
  // LogEvents need no handling: the jobs also log them through spdlog, which feeds the log dock.
  lock.unlock();
  scheduleFlush();
}

void JobController::scheduleFlush() {
  // One queued flush at a time, at most every ~50 ms: the GUI thread sees a handful of batches per second
  // however fast the job reports.
  if (flush_scheduled_.exchange(true)) return;
  QMetaObject::invokeMethod(
      this, [this] { QTimer::singleShot(50, this, &JobController::flush); }, Qt::QueuedConnection);
}

void JobController::flush() {
  std::unique_ptr<Pending> p;
  {
    QMutexLocker lock(&mutex_);
    p = std::exchange(pending_, std::make_unique<Pending>());
    flush_scheduled_.store(false);
  }
  for (const Pending::StageRecord& s : p->stageEvents) emit stageEvent(s.stage, s.what, s.detail);
  for (const LossBatch& b : p->losses) emit lossPoints(b);
  if (p->hasProgress) emit progress(p->progress);
  for (const QString& path : p->hPaths) emit hReady(path);
  if (!p->frames.isEmpty()) emit trajectoryFrames(p->frames);
  for (const QString& path : p->samplePaths) emit samplesReady(path);
  for (const auto& [step, path] : p->previews) emit previewReady(step, path);
  for (const auto& [values, path] : p->metrics) emit metricsReady(values, path);
  for (const auto& [kind, path] : p->artifacts) emit artifactReady(kind, path);
  if (p->finished) {
    if (thread_) thread_->wait();
    job_.reset();
    if (record_) record_->finish(exitCode(p->status, p->userError));
    record_.reset();
    setState(State::Idle);
    emit finished(p->status, p->message, p->userError);
  }
}

}  // namespace otcs::workbench
