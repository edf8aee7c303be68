#include "app/gui/methodsrunner.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonValue>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace otcs::workbench {

namespace {

QString defaultProgram() {
  const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath("otcs");
  if (QFileInfo(beside).isExecutable()) return beside;
  const QString found = QStandardPaths::findExecutable("otcs");
  return found.isEmpty() ? beside : found;
}

// spdlog's "[time] [level] text" prefix, to keep the child's level in our log.
int levelOf(const QString& line) {
  if (line.contains("[error]") || line.contains("[critical]") || line.startsWith("otcs: error")) return 4;
  if (line.contains("[warning]")) return 3;
  return 2;
}

}  // namespace

MethodsRunner::MethodsRunner(QWidget* parent) : QWidget(parent), program_(defaultProgram()) {
  method_ = new QComboBox(this);
  method_->setObjectName("genMethod");
  method_->addItem("EDM, noise paired at random", "edm");
  method_->addItem("AOT, exact assignment per chunk", "aot");
  method_->setToolTip("train.method: AOT (Kim et al. 2024) assigns each chunk's fresh N(0, I) noises to its "
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
  train_->setToolTip("otcs gen-train into RUN/edm or RUN/aot");
  sample_ = new QPushButton("Sample with DPM-OT", this);
  sample_->setObjectName("genSample");
  sample_->setToolTip("otcs dpmot on the chosen method's model, into RUN/dpmot-m<M>");
  compare_ = new QPushButton("Compare EDM and AOT", this);
  compare_->setObjectName("genCompare");
  compare_->setToolTip("otcs aot-compare: both models (reused when trained with the same settings), quality "
                       "and curvature against NFE, into RUN/report.json");
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
  syncControls();
}

MethodsRunner::~MethodsRunner() {
  if (busy()) {
    process_->disconnect(this);
    process_->kill();
    process_->waitForFinished(3000);
  }
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
                             : "otcs gen-train into RUN/edm or RUN/aot");
  compare_->setEnabled(ready && !running);
  sample_->setEnabled(ready && !running && trained);
  sample_->setToolTip(sample_->isEnabled() || !ready
                          ? "otcs dpmot on the chosen method's model, into RUN/dpmot-m<M>"
                          : QString("Train first: no model at %1").arg(QDir(modelDir()).filePath("model.pt")));
  stop_->setEnabled(running);
  if (!ready && !running) status_->setText("Open a generation project (\"kind\": \"generation\") to train and "
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

QString MethodsRunner::modelDir() const { return QDir(run_dir_).filePath(trainsWithAot() ? "aot" : "edm"); }

bool MethodsRunner::hasModel() const { return QFileInfo::exists(QDir(modelDir()).filePath("model.pt")); }

QStringList MethodsRunner::arguments(Action action) const {
  const QJsonObject train = json_.value("train").toObject(), dpmot = json_.value("dpmot").toObject();
  QStringList args;
  switch (action) {
    case Action::Train:
      args << "gen-train" << project_path_ << "--out" << modelDir() << "--aot"
           << QString::number(trainsWithAot() ? train.value("aot").toInt(512) : 0);
      break;
    case Action::Sample: {
      const int m = dpmot.value("M").toInt(3);
      args << "dpmot" << "--run" << modelDir() << "--M" << QString::number(m) << "--source"
           << dpmot.value("source").toString("uniform") << "--out"
           << QDir(run_dir_).filePath(QString("dpmot-m%1").arg(m));
      break;
    }
    case Action::Compare:
      args << "aot-compare" << project_path_ << "--out" << run_dir_;
      break;
  }
  if (threads_ > 0) args << "--threads" << QString::number(threads_);
  return args;
}

bool MethodsRunner::start(Action action, QString* error) {
  auto fail = [error](const QString& text) {
    if (error) *error = text;
    return false;
  };
  if (project_path_.isEmpty()) return fail("Methods: open a saved generation project first.");
  if (busy()) return fail("Methods: a command is already running; stop it first.");
  if (before_start_) {
    QString why;
    if (!before_start_(&why)) return fail(why);
  }
  if (!QFileInfo(program_).isExecutable())
    return fail(QString("Methods: %1 is not an executable otcs; build the otcs target beside the workbench.")
                    .arg(program_));
  if (action == Action::Sample && !hasModel())
    return fail(QString("Methods: no trained model at %1; train first.").arg(modelDir()));
  if (action == Action::Train && hasModel())
    return fail(QString("Methods: %1 already holds a model; move it away to train again.").arg(modelDir()));
  QDir().mkpath(run_dir_);
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::MergedChannels);
  process_->setWorkingDirectory(QFileInfo(project_path_).absolutePath());
  connect(process_, &QProcess::readyReadStandardOutput, this, &MethodsRunner::onOutput);
  connect(process_, &QProcess::finished, this, &MethodsRunner::onFinished);
  series_ = action == Action::Train ? (trainsWithAot() ? "aot" : "edm") : QString();
  const QStringList args = arguments(action);
  action_text_ = "otcs " + args.first();
  bar_->setRange(0, 0);  // busy until the first progress line
  status_->setText(QString("Running %1 …").arg(action_text_));
  emit logLine(2, QString("Methods: %1 %2").arg(program_, args.join(' ')));
  process_->start(program_, args);
  if (!process_->waitForStarted(5000)) {
    const QString why = process_->errorString();
    process_->deleteLater();
    process_ = nullptr;
    bar_->setRange(0, 1);
    syncControls();
    return fail(QString("Methods: could not start %1 (%2)").arg(program_, why));
  }
  syncControls();
  return true;
}

void MethodsRunner::stop() {
  if (!busy()) return;
  status_->setText(QString("Stopping %1 …").arg(action_text_));
  process_->terminate();
  if (!process_->waitForFinished(5000)) process_->kill();
}

bool MethodsRunner::parseStepLine(const QString& line, qint64* step, qint64* total, double* loss) {
  static const QRegularExpression re(R"(\b(?:edm|aot) step (\d+)/(\d+): loss ([0-9.eE+-]+))");
  const auto m = re.match(line);
  if (!m.hasMatch()) return false;
  bool ok1 = false, ok2 = false, ok3 = false;
  *step = m.captured(1).toLongLong(&ok1);
  *total = m.captured(2).toLongLong(&ok2);
  *loss = m.captured(3).toDouble(&ok3);
  return ok1 && ok2 && ok3 && *total > 0;
}

void MethodsRunner::onOutput() {
  if (!process_) return;
  pending_ += QString::fromUtf8(process_->readAllStandardOutput());
  int nl;
  while ((nl = pending_.indexOf('\n')) >= 0) {
    const QString line = pending_.left(nl).trimmed();
    pending_.remove(0, nl + 1);
    if (line.isEmpty()) continue;
    emit logLine(levelOf(line), line);
    qint64 step = 0, total = 0;
    double loss = 0;
    if (parseStepLine(line, &step, &total, &loss)) {
      bar_->setRange(0, int(qMin<qint64>(total, 1 << 30)));
      bar_->setValue(int(qMin<qint64>(step, 1 << 30)));
      if (!series_.isEmpty()) emit lossPoint(series_, double(step), loss);
    }
  }
}

void MethodsRunner::onFinished(int code, QProcess::ExitStatus status) {
  onOutput();
  if (!pending_.trimmed().isEmpty()) emit logLine(levelOf(pending_), pending_.trimmed());
  pending_.clear();
  const bool ok = status == QProcess::NormalExit && code == 0;
  process_->deleteLater();
  process_ = nullptr;
  bar_->setRange(0, 1);
  bar_->setValue(ok ? 1 : 0);
  status_->setText(ok ? QString("%1 finished; its diagnostics are shown below.").arg(action_text_)
                      : QString("%1 ended with exit status %2%3; see the log.")
                            .arg(action_text_)
                            .arg(code)
                            .arg(status == QProcess::CrashExit ? " (stopped or crashed)" : ""));
  syncControls();
  emit finished(ok, run_dir_);
}

}  // namespace otcs::workbench
