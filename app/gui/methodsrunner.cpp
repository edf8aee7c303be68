#include "app/gui/methodsrunner.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonValue>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include "app/gui/eventtext.h"
#include "core/common/error.h"
#include "core/run/run_meta.h"

namespace otcs::workbench {

namespace {

using session::GenRunFiles;

QString actionName(MethodsRunner::Action action) {
  switch (action) {
    case MethodsRunner::Action::Train:
      return "training";
    case MethodsRunner::Action::Sample:
      return "DPM-OT sampling";
    case MethodsRunner::Action::Compare:
      return "the EDM/AOT comparison";
  }
  return "?";
}

}  // namespace

MethodsRunner::MethodsRunner(QWidget* parent) : QWidget(parent), controller_(new JobController(this)) {
  method_ = new QComboBox(this);
  method_->setObjectName("genMethod");
  method_->addItem("EDM, noise paired at random", "edm");
  method_->addItem("AOT, exact assignment per chunk", "aot");
  method_->setToolTip(
      "train.method: AOT (Kim et al. 2024) assigns each chunk's fresh N(0, I) noises to its "
      "images by exact linear assignment on Euclidean distance; EDM pairs them by index.");
  chunk_ = new QSpinBox(this);
  chunk_->setObjectName("genChunk");
  chunk_->setRange(2, 65536);
  chunk_->setToolTip("train.aot: images per assignment chunk (consumed over chunk / batch steps)");
  steps_ = new QSpinBox(this);
  steps_->setObjectName("genSteps");
  steps_->setRange(1, 10000000);
  steps_->setToolTip("train.steps: training steps of the model");
  m_ = new QSpinBox(this);
  m_->setObjectName("dpmotM");
  m_->setRange(1, 1000);
  m_->setToolTip("dpmot.M: Heun steps after the semi-discrete OT map (NFE 2M - 1)");
  source_ = new QComboBox(this);
  source_->setObjectName("dpmotSource");
  source_->addItem("uniform on the cube (as released)", "uniform");
  source_->addItem("Gaussian", "gaussian");
  source_->setToolTip("dpmot.source: the distribution mapped to the latents, the same at sampling");

  train_ = new QPushButton("Train", this);
  train_->setObjectName("genTrain");
  train_->setToolTip("Train into RUN/edm or RUN/aot (as otcs gen-train)");
  sample_ = new QPushButton("Sample with DPM-OT", this);
  sample_->setObjectName("genSample");
  sample_->setToolTip("DPM-OT on the chosen method's model, into RUN/dpmot-m<M> (as otcs dpmot)");
  compare_ = new QPushButton("Compare EDM and AOT", this);
  compare_->setObjectName("genCompare");
  compare_->setToolTip(
      "Both models (reused when trained with the same settings), quality and curvature "
      "against NFE, into RUN/report.json (as otcs aot-compare)");
  pause_ = new QPushButton("Pause", this);
  pause_->setObjectName("genPause");
  pause_->setCheckable(true);
  stop_ = new QPushButton("Stop", this);
  stop_->setObjectName("genStop");
  bar_ = new QProgressBar(this);
  bar_->setObjectName("genProgress");
  bar_->setRange(0, 1);
  bar_->setValue(0);
  status_ = new QLabel(this);
  status_->setObjectName("genStatus");
  status_->setWordWrap(true);

  auto* training = new QGroupBox("Training", this);
  auto* tf = new QFormLayout(training);
  tf->addRow("Method", method_);
  tf->addRow("AOT chunk", chunk_);
  tf->addRow("Steps", steps_);
  auto* sampling = new QGroupBox("DPM-OT sampling", this);
  auto* sf = new QFormLayout(sampling);
  sf->addRow("M", m_);
  sf->addRow("Source", source_);
  auto* buttons = new QVBoxLayout;
  buttons->addWidget(train_);
  buttons->addWidget(sample_);
  buttons->addWidget(compare_);
  buttons->addWidget(pause_);
  buttons->addWidget(stop_);
  buttons->addStretch(1);
  auto* row = new QHBoxLayout;
  row->addWidget(training, 1);
  row->addWidget(sampling, 1);
  row->addLayout(buttons);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(row);
  layout->addWidget(bar_);
  layout->addWidget(status_);

  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    chunk_->setEnabled(method_->currentData().toString() == "aot");
    editSetting("train", "method", method_->currentData().toString());
  });
  connect(chunk_, &QSpinBox::editingFinished, this, [this] { editSetting("train", "aot", chunk_->value()); });
  connect(steps_, &QSpinBox::editingFinished, this, [this] { editSetting("train", "steps", steps_->value()); });
  connect(m_, &QSpinBox::editingFinished, this, [this] { editSetting("dpmot", "M", m_->value()); });
  connect(source_, &QComboBox::currentIndexChanged, this,
          [this] { editSetting("dpmot", "source", source_->currentData().toString()); });
  auto run = [this](Action a) {
    QString error;
    if (!start(a, &error)) {
      status_->setText(error);
      emit logLine(4, error);
    }
  };
  connect(train_, &QPushButton::clicked, this, [run] { run(Action::Train); });
  connect(sample_, &QPushButton::clicked, this, [run] { run(Action::Sample); });
  connect(compare_, &QPushButton::clicked, this, [run] { run(Action::Compare); });
  connect(stop_, &QPushButton::clicked, this, &MethodsRunner::stop);
  connect(pause_, &QPushButton::toggled, this, [this](bool on) { on ? pause() : resume(); });
  connect(controller_, &JobController::progress, this, &MethodsRunner::onProgress);
  connect(controller_, &JobController::stageEvent, this,
          [this](session::Stage stage, session::StageEvent::What what, const QString& detail) {
            status_->setText(QString("Running %1: %2 %3%4")
                                 .arg(action_text_, stageText(stage), stageWhatText(what),
                                      detail.isEmpty() ? QString() : " (" + detail + ")"));
          });
  connect(controller_, &JobController::stateChanged, this, [this] { syncControls(); });
  connect(controller_, &JobController::finished, this, &MethodsRunner::onFinished);
  syncControls();
}

MethodsRunner::~MethodsRunner() {
  // The controller (a child) stops the job and waits for it; nothing of it must reach this half-destroyed widget.
  controller_->disconnect(this);
}

void MethodsRunner::setProject(const QString& projectPath, const QJsonObject& json, const QString& runDir) {
  project_path_ = json.value("kind").toString() == "generation" ? projectPath : QString();
  json_ = json;
  run_dir_ = runDir;
  syncControls();
}

void MethodsRunner::syncControls() {
  syncing_ = true;
  const QJsonObject train = json_.value("train").toObject(), dpmot = json_.value("dpmot").toObject();
  const int aot = train.value("aot").toInt(512);
  method_->setCurrentIndex(trainsWithAot() ? 1 : 0);
  chunk_->setValue(aot > 1 ? aot : 512);
  chunk_->setEnabled(trainsWithAot());
  steps_->setValue(train.value("steps").toInt(3000));
  m_->setValue(dpmot.value("M").toInt(3));
  source_->setCurrentIndex(dpmot.value("source").toString("uniform") == "gaussian" ? 1 : 0);
  syncing_ = false;
  const bool ready = !project_path_.isEmpty();
  const bool running = busy();
  for (QWidget* w : {static_cast<QWidget*>(method_), static_cast<QWidget*>(steps_), static_cast<QWidget*>(m_),
                     static_cast<QWidget*>(source_)})
    w->setEnabled(ready && !running);
  if (!ready || running) chunk_->setEnabled(false);
  const bool trained = ready && hasModel();
  train_->setEnabled(ready && !running && !trained);
  train_->setToolTip(trained ? QString("%1 already holds a model; move it away (or choose the other method) to train "
                                       "again")
                                   .arg(QDir::toNativeSeparators(modelDir()))
                             : "Train into RUN/edm or RUN/aot (as otcs gen-train)");
  compare_->setEnabled(ready && !running);
  sample_->setEnabled(ready && !running && trained);
  sample_->setToolTip(sample_->isEnabled() || !ready
                          ? "DPM-OT on the chosen method's model, into RUN/dpmot-m<M> (as otcs dpmot)"
                          : QString("Train first: no model at %1").arg(QDir(modelDir()).filePath(GenRunFiles::model)));
  stop_->setEnabled(running && controller_->state() != JobController::State::Stopping);
  pause_->setEnabled(running && controller_->state() != JobController::State::Stopping);
  if (!running && pause_->isChecked()) {
    const QSignalBlocker block(pause_);
    pause_->setChecked(false);
  }
  if (!ready && !running)
    status_->setText(
        "Open a generation project (\"kind\": \"generation\") to train and "
        "sample with AOT and DPM-OT here.");
  else if (!running && status_->text().startsWith("Open a generation"))
    status_->clear();
}

void MethodsRunner::editSetting(const QString& section, const QString& key, const QJsonValue& value) {
  if (syncing_ || project_path_.isEmpty()) return;
  QJsonObject part = json_.value(section).toObject();
  if (part.value(key) == value) return;
  part.insert(key, value);
  json_.insert(section, part);
  const QString shown = value.isString() ? value.toString() : QString::number(value.toDouble());
  emit projectEdit(section, part, QString("Set %1.%2 to %3").arg(section, key, shown));
  syncControls();
}

bool MethodsRunner::trainsWithAot() const {
  // As the project parser: train.method is "edm" (the default) or "aot".
  return json_.value("train").toObject().value("method").toString("edm") == "aot";
}

QString MethodsRunner::modelDir() const {
  return QDir(run_dir_).filePath(trainsWithAot() ? GenRunFiles::aot_model_dir : GenRunFiles::plain_model_dir);
}

bool MethodsRunner::hasModel() const { return QFileInfo::exists(QDir(modelDir()).filePath(GenRunFiles::model)); }

session::GenTrainOptions MethodsRunner::trainOptions() const {
  session::GenTrainOptions o;
  o.project = project_path_.toStdString();
  o.out_dir = modelDir().toStdString();
  o.aot = trainsWithAot() ? json_.value("train").toObject().value("aot").toInt(512) : 0;
  return o;
}

session::DpmotOptions MethodsRunner::sampleOptions() const {
  const QJsonObject dpmot = json_.value("dpmot").toObject();
  const int m = dpmot.value("M").toInt(3);
  session::DpmotOptions o;
  o.run_dir = modelDir().toStdString();
  o.out_dir = QDir(run_dir_).filePath(QString::fromStdString(GenRunFiles::dpmot_dir(m))).toStdString();
  o.m = m;
  o.source = dpmot.value("source").toString("uniform").toStdString();
  return o;
}

session::AotCompareOptions MethodsRunner::compareOptions() const {
  session::AotCompareOptions o;
  o.project = project_path_.toStdString();
  o.out_dir = run_dir_.toStdString();
  return o;
}

bool MethodsRunner::start(Action action, QString* error) {
  auto fail = [error](const QString& text) {
    if (error) *error = text;
    return false;
  };
  if (project_path_.isEmpty()) return fail("Methods: open a saved generation project first.");
  if (busy()) return fail("Methods: a job is already running; stop it first.");
  if (action == Action::Sample && !hasModel())
    return fail(QString("Methods: no trained model at %1; train first.").arg(modelDir()));
  if (action == Action::Train && hasModel())
    return fail(QString("Methods: %1 already holds a model; move it away to train again.").arg(modelDir()));
  if (before_start_) {
    QString why;
    if (!before_start_(&why)) return fail(why);
  }
  std::unique_ptr<session::Job> job;
  switch (action) {
    case Action::Train:
      job = std::make_unique<session::GenTrainJob>(trainOptions());
      break;
    case Action::Sample:
      job = std::make_unique<session::DpmotJob>(sampleOptions());
      break;
    case Action::Compare:
      job = std::make_unique<session::AotCompareJob>(compareOptions());
      break;
  }
  // The job's directory is written by one writer at a time and records the job in run.json, as the command
  // line does.
  std::unique_ptr<run::RunRecord> record;
  try {
    record = std::make_unique<run::RunRecord>(job->out_dir(), JobController::commandLine(), "cpu");
  } catch (const UserError& e) {
    return fail(QString("Methods: %1").arg(QString::fromStdString(e.what())));
  }
  action_text_ = actionName(action);
  QString why;
  if (!controller_->startJob(std::move(job), std::move(record), &why)) return fail("Methods: " + why);
  bar_->setRange(0, 0);  // busy until the first progress
  status_->setText(QString("Running %1 …").arg(action_text_));
  emit logLine(2, QString("Methods: %1 into %2").arg(action_text_, controller_->runDir()));
  syncControls();
  return true;
}

void MethodsRunner::onProgress(const StageProgress& p) {
  if (p.total <= 0) return;
  bar_->setRange(0, int(qMin<qint64>(p.total, 1 << 30)));
  bar_->setValue(int(qMin<qint64>(p.step, 1 << 30)));
  bar_->setFormat(p.hasLoss ? QString("%1 %v/%m, loss %2").arg(stageText(p.stage)).arg(p.loss, 0, 'g', 4)
                            : QString("%1 %v/%m").arg(stageText(p.stage)));
}

void MethodsRunner::onFinished(session::JobStatus status, const QString& message, bool userError) {
  const bool ok = status == session::JobStatus::Completed;
  bar_->setRange(0, 1);
  bar_->setValue(ok ? 1 : 0);
  bar_->resetFormat();
  if (ok)
    status_->setText(QString("%1 finished; its diagnostics are shown below.").arg(action_text_));
  else if (status == session::JobStatus::Stopped)
    status_->setText(QString("%1 stopped: %2").arg(action_text_, message));
  else
    status_->setText(QString("%1 failed: %2").arg(action_text_, message));
  if (status == session::JobStatus::Failed)
    emit logLine(4,
                 QString("Methods: %1 failed%2: %3").arg(action_text_, userError ? "" : " (internal error)", message));
  syncControls();
  emit finished(ok, run_dir_);
}

}  // namespace otcs::workbench
