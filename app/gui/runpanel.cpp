#include "app/gui/runpanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <cmath>

#include "app/gui/eventtext.h"

namespace otcs::workbench {

QString formatDuration(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "–";
  const qint64 t = qRound64(s);
  if (t >= 3600)
    return QString("%1:%2:%3").arg(t / 3600).arg((t / 60) % 60, 2, 10, QChar('0')).arg(t % 60, 2, 10, QChar('0'));
  return QString("%1:%2").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
}

RunPanel::RunPanel(QWidget* parent) : QWidget(parent) {
  run_dir_ = new QLineEdit(this);
  run_dir_->setObjectName("runDir");
  run_dir_->setToolTip(
      "Where the stages write their artifacts; a stage whose artifacts exist for the same "
      "configuration is skipped, an interrupted one resumes from its checkpoint.");
  auto* browse = new QToolButton(this);
  browse->setText("…");
  from_ = new QComboBox(this);
  from_->setObjectName("fromStage");
  until_ = new QComboBox(this);
  until_->setObjectName("untilStage");
  from_->addItem("(reuse finished stages)", QString());
  until_->addItem("(all stages)", QString());
  for (const QString& s : SessionController::stageNames()) {
    from_->addItem("rerun from " + s, s);
    until_->addItem("stop after " + s, s);
  }
  scale_ = new QDoubleSpinBox(this);
  scale_->setObjectName("stepsScale");
  scale_->setRange(0.001, 100.0);
  scale_->setDecimals(3);
  scale_->setValue(1.0);
  scale_->setToolTip("Multiplies the OT iterations and score steps: < 1 for a quick look, > 1 for a longer run.");

  start_ = new QPushButton("Run", this);
  start_->setObjectName("runStart");
  pause_ = new QPushButton("Pause", this);
  pause_->setObjectName("runPause");
  stop_ = new QPushButton("Stop", this);
  stop_->setObjectName("runStop");
  stop_->setToolTip("Stops at the next step boundary after saving a checkpoint; Run resumes from it.");
  bar_ = new QProgressBar(this);
  bar_->setObjectName("runProgress");
  bar_->setTextVisible(true);
  rate_ = new QLabel(this);
  rate_->setObjectName("runRate");
  stages_ = new QTreeWidget(this);
  stages_->setObjectName("stageList");
  stages_->setHeaderLabels({"stage", "status", "detail"});
  stages_->setRootIsDecorated(false);
  stages_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
  metrics_ = new QTreeWidget(this);
  metrics_->setObjectName("metricsList");
  metrics_->setHeaderLabels({"metric", "value"});
  metrics_->setRootIsDecorated(false);
  metrics_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);

  auto* dir_row = new QHBoxLayout;
  dir_row->addWidget(run_dir_, 1);
  dir_row->addWidget(browse);
  auto* form = new QFormLayout;
  form->addRow("Run directory", dir_row);
  form->addRow("Stages", from_);
  form->addRow("", until_);
  form->addRow("Steps ×", scale_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(pause_);
  buttons->addWidget(stop_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(bar_);
  layout->addWidget(rate_);
  layout->addWidget(stages_, 2);
  layout->addWidget(new QLabel("Metrics", this));
  layout->addWidget(metrics_, 1);

  connect(browse, &QToolButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, "Run directory", run_dir_->text());
    if (!dir.isEmpty()) run_dir_->setText(dir);
  });
  connect(start_, &QPushButton::clicked, this, &RunPanel::startRequested);
  connect(pause_, &QPushButton::clicked, this, [this] {
    if (state_ == SessionController::State::Paused)
      emit resumeRequested();
    else
      emit pauseRequested();
  });
  connect(stop_, &QPushButton::clicked, this, &RunPanel::stopRequested);
  resetStages();
  setState(SessionController::State::Idle);
}

RunOptions RunPanel::options() const {
  RunOptions o;
  o.runDir = run_dir_->text();
  o.from = from_->currentData().toString();
  o.until = until_->currentData().toString();
  o.stepsScale = scale_->value();
  return o;
}

void RunPanel::setRunDir(const QString& dir) { run_dir_->setText(dir); }
void RunPanel::setStepsScale(double scale) { scale_->setValue(scale); }
QString RunPanel::progressText() const { return bar_->text() + " " + rate_->text(); }

void RunPanel::setPipelineAvailable(bool available, const QString& why) {
  pipeline_ = available;
  why_ = available ? QString() : why;
  resetStages();
  setState(state_);
}

void RunPanel::resetStages() {
  stages_->clear();
  if (!pipeline_) {
    auto* item = new QTreeWidgetItem(stages_, {"(none)", "not used", why_});
    item->setToolTip(2, why_);
    return;
  }
  for (const QString& s : SessionController::stageNames()) new QTreeWidgetItem(stages_, {s, "–", ""});
}

void RunPanel::setState(SessionController::State state) {
  state_ = state;
  using S = SessionController::State;
  start_->setEnabled(state == S::Idle && pipeline_);
  start_->setToolTip(pipeline_ ? "Runs the stages into the run directory (Ctrl+R)" : why_);
  pause_->setEnabled(state == S::Running || state == S::Paused);
  pause_->setText(state == S::Paused ? "Resume" : "Pause");
  stop_->setEnabled(state == S::Running || state == S::Paused);
  for (QWidget* w : std::initializer_list<QWidget*>{run_dir_, from_, until_, scale_})
    w->setEnabled(state == S::Idle && pipeline_);
  if (state == S::Paused)
    rate_->setText("paused: the clock and the ETA stand still");
  else if (state == S::Stopping)
    rate_->setText("stopping at the next step boundary (saving a checkpoint)…");
}

namespace {
const QColor kFailed(190, 30, 30), kDone(30, 120, 30), kStopped(170, 100, 0), kOther(30, 30, 160);

void setStageRow(QTreeWidget* stages, const QString& stage, const QString& status, const QString& detail,
                 const QColor& color) {
  for (int i = 0; i < stages->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = stages->topLevelItem(i);
    if (item->text(0) != stage) continue;
    item->setText(1, status);
    item->setText(2, detail);
    item->setForeground(1, color);
  }
}
}  // namespace

void RunPanel::onStageEvent(const QString& stage, const QString& status, const QString& detail) {
  setStageRow(stages_, stage, status, detail, status == "done" ? kDone : kOther);
}

void RunPanel::onStageEvent(session::Stage stage, session::StageEvent::What what, const QString& detail) {
  using W = session::StageEvent::What;
  const QString name = stageText(stage);
  const QColor color = what == W::Failed                           ? kFailed
                       : what == W::Finished || what == W::Skipped ? kDone
                       : what == W::Stopped                        ? kStopped
                                                                   : kOther;
  setStageRow(stages_, name, stageWhatText(what), detail, color);
  if (what == W::Started || what == W::Resumed) {
    bar_->setRange(0, 0);  // busy until the first progress event
    bar_->setFormat(name + "…");
  }
}

void RunPanel::onProgress(const StageProgress& p) {
  if (p.total > 0) {
    bar_->setRange(0, 1000);
    bar_->setValue(int(1000.0 * double(p.step) / double(p.total)));
    bar_->setFormat(QString("%1: %2 / %3").arg(stageText(p.stage)).arg(p.step).arg(p.total));
  }
  if (state_ == SessionController::State::Running) {
    QString text = QString("%1 steps/s · ETA %2").arg(p.stepsPerSecond, 0, 'f', 1).arg(formatDuration(p.etaSeconds));
    if (p.hasLoss) text += QString(" · loss %1").arg(p.loss, 0, 'g', 5);
    rate_->setText(text);
  }
}

void RunPanel::onFinished(session::JobStatus status, const QString& message) {
  const bool completed = status == session::JobStatus::Completed;
  bar_->setRange(0, 1000);
  bar_->setValue(completed ? 1000 : bar_->value());
  bar_->setFormat("run " + jobStatusText(status));
  rate_->setText(message);
}

void RunPanel::setMetrics(const QVector<QPair<QString, double>>& values) {
  metrics_->clear();
  for (const auto& [k, v] : values) new QTreeWidgetItem(metrics_, {k, QString::number(v, 'g', 6)});
}

}  // namespace otcs::workbench
