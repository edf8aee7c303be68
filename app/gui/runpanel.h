#pragma once
// The Run dock: start / pause / resume / stop the pipeline (all stages, or from / until a stage), the run
// directory, progress with steps/s and an ETA that excludes paused time, each stage's status and the metrics.
#include <QWidget>

#include "app/gui/sessioncontroller.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTreeWidget;

namespace otcs::workbench {

class RunPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RunPanel(QWidget* parent = nullptr);

  RunOptions options() const;
  void setRunDir(const QString& dir);
  void setStepsScale(double scale);
  QPushButton* startButton() const { return start_; }
  QPushButton* pauseButton() const { return pause_; }
  QPushButton* stopButton() const { return stop_; }
  QString progressText() const;
  // Generation projects (DPM-OT / AOT) have no OTCS stages: they run from the Methods tab, so the
  // pipeline controls are disabled and the stage list says where to go instead.
  void setPipelineAvailable(bool available, const QString& why = QString());
  bool pipelineAvailable() const { return pipeline_; }

 public slots:
  void setState(otcs::workbench::SessionController::State state);
  void onStageEvent(otcs::session::Stage stage, otcs::session::StageEvent::What what, const QString& detail);
  // A stage's state that no job reports, read from a run directory: "done" (from an earlier run), "stale", "–".
  void onStageEvent(const QString& stage, const QString& status, const QString& detail);
  void onProgress(const otcs::workbench::StageProgress& progress);
  void onFinished(otcs::session::JobStatus status, const QString& message);
  void setMetrics(const QVector<QPair<QString, double>>& values);
  void resetStages();

 signals:
  void startRequested();
  void pauseRequested();
  void resumeRequested();
  void stopRequested();

 private:
  QLineEdit* run_dir_ = nullptr;
  QComboBox* from_ = nullptr;
  QComboBox* until_ = nullptr;
  QDoubleSpinBox* scale_ = nullptr;
  QPushButton* start_ = nullptr;
  QPushButton* pause_ = nullptr;
  QPushButton* stop_ = nullptr;
  QProgressBar* bar_ = nullptr;
  QLabel* rate_ = nullptr;
  QTreeWidget* stages_ = nullptr;
  QTreeWidget* metrics_ = nullptr;
  SessionController::State state_ = SessionController::State::Idle;
  bool pipeline_ = true;
  QString why_;
};

QString formatDuration(double seconds);

}  // namespace otcs::workbench
