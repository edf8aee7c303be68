#pragma once
// The Methods tab's controls for generation projects: choose how the project trains (plain EDM,
// or AOT with its chunk size) and how it samples (Heun, or DPM-OT with M and the source distribution), stored
// in the project as undoable edits (train.method, train.aot, train.steps, dpmot.M, dpmot.source), and run the
// work: training (the generation training job into RUN/edm or RUN/aot, as aot-compare lays them out), DPM-OT
// sampling on the chosen model (into RUN/dpmot-m<M>) and the with/without-AOT comparison. The work runs as a
// core job (core/session/gen_jobs.h, what `otcs gen-train`, `dpmot` and `aot-compare` run) on the worker thread
// of a JobController, the controller translation runs use: its log lines reach the log, its loss points the
// Losses page, its progress the bar; Pause holds it between steps and Stop ends it at the next one (a stopped
// training leaves a checkpoint that Train resumes). When a job finishes the main window reloads the Methods
// diagnostics from RUN.
#include <functional>
#include <memory>

#include <QJsonObject>
#include <QString>
#include <QWidget>

#include "app/gui/jobcontroller.h"
#include "core/session/gen_jobs.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace otcs::workbench {

class MethodsRunner : public QWidget {
  Q_OBJECT
 public:
  enum class Action { Train, Sample, Compare };

  explicit MethodsRunner(QWidget* parent = nullptr);
  ~MethodsRunner() override;

  // A generation project (its file, JSON and run directory); the controls show its settings. An empty path or
  // a project of another kind disables the runner.
  void setProject(const QString& projectPath, const QJsonObject& json, const QString& runDir);
  // Called before a job starts, so the job reads the settings shown (e.g. saves a modified project);
  // returns false with *error set to stop the start.
  void setBeforeStart(std::function<bool(QString*)> hook) { before_start_ = std::move(hook); }

  // The options each action runs with the current settings.
  session::GenTrainOptions trainOptions() const;
  session::DpmotOptions sampleOptions() const;
  session::AotCompareOptions compareOptions() const;
  // Where the model of the chosen training method lives: RUN/edm or RUN/aot.
  QString modelDir() const;
  bool hasModel() const;       // modelDir() holds model.pt (the training's last act)
  bool trainsWithAot() const;  // the project's train.method
  bool busy() const { return controller_->state() != JobController::State::Idle; }
  bool start(Action action, QString* error = nullptr);
  void pause() { controller_->pause(); }
  void resume() { controller_->resume(); }
  void stop() { controller_->stop(); }
  JobController* controller() const { return controller_; }

 signals:
  // An edit of a top-level key of the project (the main window puts it on the undo stack).
  void projectEdit(const QString& key, const QJsonValue& value, const QString& text);
  void logLine(int level, const QString& text);
  void finished(bool ok, const QString& runDir);

 private:
  void syncControls();
  void editSetting(const QString& section, const QString& key, const QJsonValue& value);
  void onProgress(const StageProgress& p);
  void onFinished(otcs::session::JobStatus status, const QString& message, bool userError);

  QComboBox* method_ = nullptr;
  QSpinBox* chunk_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QSpinBox* m_ = nullptr;
  QComboBox* source_ = nullptr;
  QPushButton* train_ = nullptr;
  QPushButton* sample_ = nullptr;
  QPushButton* compare_ = nullptr;
  QPushButton* pause_ = nullptr;
  QPushButton* stop_ = nullptr;
  QProgressBar* bar_ = nullptr;
  QLabel* status_ = nullptr;

  QString project_path_, run_dir_;
  QJsonObject json_;
  std::function<bool(QString*)> before_start_;
  bool syncing_ = false;
  JobController* controller_ = nullptr;
  QString action_text_;
};

}  // namespace otcs::workbench
