#include "app/gui/mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonArray>
#include <QLabel>
#include <QFutureWatcher>
#include <QProgressBar>
#include <QtConcurrent/QtConcurrentRun>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QSettings>
#include <QPushButton>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QTreeWidget>
#include <QUndoStack>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "app/gui/aboutdialog.h"
#include "app/gui/guilogsink.h"
#include "app/gui/importdialog.h"
#include "app/gui/lossespage.h"
#include "app/gui/methodsrunner.h"
#include "app/gui/projectdocument.h"
#include "app/gui/projectoverview.h"
#include "app/gui/projectschema.h"
#include "app/gui/runpanel.h"
#include "app/gui/runpaths.h"
#include "app/gui/runscontroller.h"
#include "app/gui/runsdirectory.h"
#include "app/gui/sessioncontroller.h"
#include "core/common/log.h"
#include "core/common/runtime.h"
#include "widgets/datasetbrowser.h"
#include "widgets/aviwriter.h"
#include "widgets/figureexport.h"
#include "widgets/figureexportdialog.h"
#include "widgets/logview.h"
#include "widgets/lossplot.h"
#include "widgets/matrixinspector.h"
#include "widgets/methodsview.h"
#include "widgets/heatmapview.h"
#include "widgets/paireditor.h"
#include "widgets/pairtablemodel.h"
#include "widgets/previewview.h"
#include "widgets/runsview.h"
#include "widgets/trajectoryplayer.h"

namespace otcs::workbench {
namespace {
constexpr int kLayoutVersion = 2;  // bump when docks change, so an old saved state is not applied
constexpr int kMaxRecent = 8;
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setObjectName("otcsMainWindow");
  setWindowIcon(QIcon(":/otcs/icons/otcs.svg"));
  document_ = new ProjectDocument(this);

  views_ = new QTabWidget(this);
  views_->setObjectName("views");
  views_->setDocumentMode(true);
  overview_ = new ProjectOverview(views_);
  overview_->setObjectName("overviewView");
  views_->addTab(overview_, "Overview");
  setCentralWidget(views_);
  session_ = new SessionController(this);

  createViews();
  createDocks();
  createActions();
  connectSession();
  runs_ = new RunsController(this, runs_view_, previews_);
  // Every edit (a setting, a pair) may change a stage's configuration: the stage table says which are stale now.
  connect(document_->undoStack(), &QUndoStack::indexChanged, this, [this] { updateStageStatus(); });
  status_project_ = new QLabel(this);
  statusBar()->addPermanentWidget(status_project_);
  busy_ = new QProgressBar(this);
  busy_->setObjectName("dataLoadingBusy");
  busy_->setRange(0, 0);  // indeterminate
  busy_->setMaximumWidth(160);
  busy_->setFormat("loading data…");
  busy_->setTextVisible(true);
  busy_->hide();
  statusBar()->addPermanentWidget(busy_);
  statusBar()->showMessage("Ready", 3000);

  connect(document_, &ProjectDocument::loaded, this, [this] {
    keep_pairs_.reset();  // a new project brings its own pairs
    reloadProjectData();
  });
  connect(document_, &ProjectDocument::valueChanged, this, &MainWindow::onValueChanged);
  document_->setCollector([this](QJsonObject& json) { json = withPairs(json, data_, pair_editor_->pairs()); });
  connect(document_, &ProjectDocument::pathChanged, this, &MainWindow::updateTitle);
  connect(document_, &ProjectDocument::modifiedChanged, this, &MainWindow::updateTitle);
  connect(views_, &QTabWidget::currentChanged, this,
          [this] { export_action_->setEnabled(currentFigureSource() != nullptr); });

  log_sink_ = GuiLogSink::attach(log_view_);
  readSettings();
  reloadProjectData();
  spdlog::info("OTCS Workbench started");
}

MainWindow::~MainWindow() {
  // The document (a child) clears its undo stack when it goes, after the views: nothing may react to that.
  disconnect(document_->undoStack(), nullptr, this, nullptr);
  // Detach first: a worker thread may still be logging while the widgets go away.
  if (log_sink_) otcs::remove_log_sink(log_sink_);
}

void MainWindow::createViews() {
  datasets_ = new DatasetBrowser(views_);
  datasets_->setObjectName("datasetsView");
  views_->addTab(datasets_, "Datasets");
  pair_editor_ = new PairEditor(views_);
  pair_editor_->setObjectName("pairingView");
  pair_editor_->setUndoStack(document_->undoStack());
  views_->addTab(pair_editor_, "Pairing");
  losses_ = new LossesPage(views_);
  losses_->setObjectName("lossesView");
  views_->addTab(losses_, "Losses");
  h_inspector_ = new MatrixInspector(views_);
  // H spans many decades (keypoint rows carry most of the mass): a linear scale shows one bright stripe.
  h_inspector_->heatmap()->setLogColor(true);
  h_inspector_->setObjectName("hView");
  views_->addTab(h_inspector_, "H inspector");
  trajectories_ = new TrajectoryPlayer(views_);
  trajectories_->setObjectName("trajectoriesView");
  views_->addTab(trajectories_, "Trajectories");
  previews_ = new PreviewView(views_);
  previews_->setObjectName("previewsView");
  views_->addTab(previews_, "Previews");
  runs_view_ = new RunsView(views_);
  runs_view_->setObjectName("runsView");
  views_->addTab(runs_view_, "Runs");
  methods_page_ = new QWidget(views_);
  methods_page_->setObjectName("methodsPage");
  methods_runner_ = new MethodsRunner(methods_page_);
  methods_runner_->setObjectName("methodsRunner");
  methods_ = new MethodsView(methods_page_);
  methods_->setObjectName("methodsView");
  auto* methods_layout = new QVBoxLayout(methods_page_);
  methods_layout->addWidget(methods_runner_);
  methods_layout->addWidget(methods_, 1);
  views_->addTab(methods_page_, "Methods");
  // The runner's settings are project edits (undoable, saved with the project); its jobs read the project file,
  // so a modified project is saved before a job starts.
  connect(methods_runner_, &MethodsRunner::projectEdit, this,
          [this](const QString& key, const QJsonValue& value, const QString& text) { document_->setValue(key, value, text); });
  methods_runner_->setBeforeStart([this](QString* error) {
    if (document_->path().isEmpty()) {
      *error = "Methods: save the project first (the job reads it from its file).";
      return false;
    }
    if (document_->isModified() && !saveProject(document_->path())) {
      *error = QString("Methods: could not save %1 before running").arg(document_->path());
      return false;
    }
    return true;
  });
  connect(methods_runner_, &MethodsRunner::logLine, this, [this](int level, const QString& text) {
    if (log_view_) log_view_->appendLine(level, text);
  });
  connect(methods_runner_->controller(), &JobController::lossPoints, this,
          [this](const LossBatch& b) { losses_->addPoints(b.stage, b.series, b.steps, b.values); });
  connect(methods_runner_, &MethodsRunner::finished, this, [this](bool ok, const QString& runDir) {
    loadMethodsFiles(runDir);
    statusBar()->showMessage(ok ? "Methods: finished" : "Methods: the job did not finish (see the log)", 5000);
  });

  connect(pair_editor_, &PairEditor::statusMessage, this, [this](const QString& text) {
    if (!text.isEmpty()) statusBar()->showMessage(text, 4000);
  });
  pair_editor_->setSuggestionProvider([this](qint64 source, int k) {
    QVector<QPair<qint64, double>> out;
    if (!h_) return out;
    for (const auto& [j, v] : topInRow(*h_, source, k)) out.push_back({j, double(v)});
    return out;
  });
  // Double-clicking an inspector entry proposes that pair in the pair editor.
  connect(h_inspector_, &MatrixInspector::entryActivated, this, [this](qint64 source, qint64 target) {
    pair_editor_->creator()->cancel();
    pair_editor_->creator()->pickSource(source);
    pair_editor_->creator()->pickTarget(target);
    views_->setCurrentWidget(pair_editor_);
  });
  auto describe = [this](Domain domain, qint64 i) {
    const auto& pts = domain == Domain::Source ? data_.source : data_.target;
    if (i < 0 || i >= pts.size()) return QString();
    if (data_.imageShape.valid()) {
      // An image sample is identified by its index and class (the thumbnail shows it); a coordinate means nothing.
      const auto& labels = domain == Domain::Source ? data_.sourceLabels : data_.targetLabels;
      const int label = i < labels.size() ? labels[int(i)] : -1;
      return label >= 0 ? QString("class %1").arg(label) : QString("image %1").arg(i);
    }
    return QString("(%1, %2)").arg(pts[int(i)].x(), 0, 'f', 3).arg(pts[int(i)].y(), 0, 'f', 3);
  };
  h_inspector_->setDescriber(describe);
  connect(h_inspector_->heatmap(), &HeatmapView::hovered, this, [this](const QString& text) {
    if (!text.isEmpty()) statusBar()->showMessage(text, 3000);
  });
}

void MainWindow::connectSession() {
  connect(run_panel_, &RunPanel::startRequested, this, &MainWindow::startRun);
  connect(run_panel_, &RunPanel::pauseRequested, session_, &SessionController::pause);
  connect(run_panel_, &RunPanel::resumeRequested, session_, &SessionController::resume);
  connect(run_panel_, &RunPanel::stopRequested, session_, &SessionController::stop);
  connect(session_, &SessionController::stateChanged, run_panel_, &RunPanel::setState);
  connect(session_, &SessionController::progress, run_panel_, &RunPanel::onProgress);
  connect(session_, &SessionController::metricsReady, run_panel_, &RunPanel::setMetrics);
  connect(session_, &SessionController::lossPoints, this,
          [this](const LossBatch& b) { losses_->addPoints(b.stage, b.series, b.steps, b.values); });
  connect(session_, &SessionController::hReady, this, &MainWindow::loadH);
  connect(session_, &SessionController::trajectoryFrames, this, [this](const QVector<TrajectoryFrameEvent>& frames) {
    for (const TrajectoryFrameEvent& f : frames) {
      const QPointF sp = f.source >= 0 && f.source < data_.source.size() ? data_.source[int(f.source)] : QPointF(qQNaN(), qQNaN());
      trajectories_->appendFrame(f.source, f.count, f.dim, f.frame, sp);
    }
  });
  connect(session_, &SessionController::stageEvent, this, [this](session::Stage stage, session::StageEvent::What what, const QString& detail) {
    using S = session::Stage;
    using W = session::StageEvent::What;
    run_panel_->onStageEvent(stage, what, detail);
    const QString dir = session_->runDir();
    if (what == W::Started) {
      // Live events refill the views; the files on disk are reloaded when the stage ends.
      if (stage == S::Ot) losses_->clearOt();
      if (stage == S::Score) losses_->scorePlot()->clearData();
      if (stage == S::Sample) trajectories_->clear();
    } else if (what == W::Skipped || what == W::Finished || what == W::Stopped) {
      if (stage == S::Ot) {
        QVector<double> steps, values;
        if (loadCurve(runPath(dir, &run::RunLayout::dual_curve), &steps, &values) && !steps.isEmpty()) {
          losses_->otPlot()->clearData();
          losses_->addPoints(S::Ot, "dual", steps, values);
        }
        losses_->loadOtDiagnostics(runPath(dir, &run::RunLayout::ot_diagnostics));
      } else if (stage == S::Score) {
        QVector<double> steps, values;
        if (loadCurve(runPath(dir, &run::RunLayout::loss_curve), &steps, &values) && !steps.isEmpty()) {
          losses_->scorePlot()->clearData();
          losses_->addPoints(S::Score, "loss", steps, values);
        }
      } else if (stage == S::Bridge && what == W::Skipped) {
        loadH(runPath(dir, &run::RunLayout::h));
      } else if (stage == S::Sample && what != W::Stopped) {
        loadTrajectoryFile(runPath(dir, &run::RunLayout::trajectories));
      }
    }
  });
  connect(session_, &SessionController::finished, this, [this](session::JobStatus status, const QString& message, bool user_error) {
    run_panel_->onFinished(status, message);
    if (status == session::JobStatus::Completed) {
      statusBar()->showMessage("Run completed: " + session_->runDir(), 8000);
      loadRunArtifacts(session_->runDir());
    } else if (status == session::JobStatus::Failed) {
      reportError(user_error ? message : "The run failed: " + message + " (details in the log)");
    } else {
      statusBar()->showMessage("Run stopped: " + message, 8000);
    }
  });
}

namespace {

// Where a project's results were before a run was chosen: a run's own copy of its project (RUN/project.json, as
// otcs run writes it) is that run; projects/NAME.json has runs/NAME beside projects/, as `scripts/run` writes.
QString defaultRunDirFor(const QString& path) {
  if (path.isEmpty()) return QDir::current().filePath("runs/untitled");
  const QFileInfo info(path);
  const QDir dir = info.absoluteDir();
  if (info.fileName() == run::file::kProject && isRunDir(dir.absolutePath())) return dir.absolutePath();
  return projectRunsRoot(path);
}

}  // namespace

QString MainWindow::defaultRunDir() const {
  if (!run_dir_.isEmpty() && run_dir_project_ == document_->path()) return run_dir_;
  return defaultRunDirFor(document_->path());
}

QJsonObject MainWindow::currentProjectJson() const { return withPairs(document_->json(), data_, pair_editor_->pairs()); }

namespace {
const char* const kGenerationRunHint =
    "A generation project (DPM-OT / AOT) has no OTCS stages: train, sample and compare it from the Methods tab.";
}  // namespace

bool MainWindow::canRun() {
  if (!run_panel_->pipelineAvailable()) {
    reportError(kGenerationRunHint);
    return false;
  }
  if (!data_.ok()) {
    reportError(data_.error);
    return false;
  }
  return true;
}

bool MainWindow::startRun() {
  if (!canRun()) return false;
  const QString dir = run_panel_->options().runDir;
  // A run folder holds one configuration: a changed project starts a new run beside it (reusing the stages that
  // did not change) unless the user continues in this folder, which re-runs the stale stages there.
  const QMap<QString, QString> done = doneHashes(dir), now = stageHashes(currentProjectJson(), document_->path());
  bool stale = false;
  for (auto it = done.begin(); it != done.end(); ++it)
    if (!now.isEmpty() && now.value(it.key()) != it.value()) stale = true;
  if (stale && interactive_) {
    QMessageBox box(QMessageBox::Question, "The project changed since this run",
                    QString("%1 holds results of other settings. Start a new run beside it (its unchanged stages are "
                            "reused and it stays as it is), or continue in it (its stale stages run again there)?")
                        .arg(dir),
                    QMessageBox::Cancel, this);
    QPushButton* fresh = box.addButton("New run", QMessageBox::AcceptRole);
    QPushButton* here = box.addButton("Continue in this run", QMessageBox::DestructiveRole);
    box.setDefaultButton(fresh);
    box.exec();
    if (box.clickedButton() == fresh) return startRunIn(newRunDir(projectRunsRoot(document_->path())), dir);
    if (box.clickedButton() != here) return false;
  }
  return startRunIn(dir);
}

void MainWindow::loadH(const QString& path) {
  if (!QFileInfo::exists(path)) return;
  QString error;
  auto m = loadSparseMatrix(path, &error);
  if (!m) {
    reportError(error);
    return;
  }
  h_ = m;
  h_inspector_->setMatrix(m);
  spdlog::info("H loaded: {} x {}, {} entries", m->rows, m->cols, m->nnz());
}

void MainWindow::loadTrajectoryFile(const QString& path) {
  if (!QFileInfo::exists(path)) return;
  QString error;
  const auto t = loadTrajectories(path, data_.source, &error);
  if (!error.isEmpty()) {
    reportError(error);
    return;
  }
  trajectories_->setTrajectories(t);
}

// DPM-OT / AOT diagnostics wherever their stage writes them in the run tree.
void MainWindow::loadMethodsFiles(const QString& runDir) {
  methods_->clear();
  for (const QString& path : findMethodsFiles(runDir))
    if (!path.isEmpty()) openMethodsFile(path);
}

void MainWindow::loadRunArtifacts(const QString& runDir) {
  const QDir dir(runDir);
  if (!dir.exists()) return;
  QVector<double> steps, values;
  if (loadCurve(runPath(runDir, &run::RunLayout::dual_curve), &steps, &values) && !steps.isEmpty()) {
    losses_->otPlot()->clearData();
    losses_->addPoints(session::Stage::Ot, "dual", steps, values);
  }
  losses_->loadOtDiagnostics(runPath(runDir, &run::RunLayout::ot_diagnostics));
  if (loadCurve(runPath(runDir, &run::RunLayout::loss_curve), &steps, &values) && !steps.isEmpty()) {
    losses_->scorePlot()->clearData();
    losses_->addPoints(session::Stage::Score, "loss", steps, values);
  }
  loadH(runPath(runDir, &run::RunLayout::h));
  loadTrajectoryFile(runPath(runDir, &run::RunLayout::trajectories));
  loadMethodsFiles(runDir);
  runs_->loadPreviews(runDir);
  QFile metrics(runPath(runDir, &run::RunLayout::metrics));
  if (metrics.open(QIODevice::ReadOnly)) {
    QVector<QPair<QString, double>> rows;
    const QJsonObject o = QJsonDocument::fromJson(metrics.readAll()).object();
    for (auto it = o.begin(); it != o.end(); ++it)
      if (it.value().isDouble()) rows.push_back({it.key(), it.value().toDouble()});
    run_panel_->setMetrics(rows);
  }
}

namespace {
// Image sets (thousands of decoded images) are loaded off the GUI thread; point clouds load in milliseconds.
bool isImageProject(const QJsonObject& json) {
  const QJsonObject data = json.value("data").toObject();
  return data.value("source").toObject().contains("images") || data.value("target").toObject().contains("images");
}
}  // namespace

void MainWindow::onValueChanged(const QString& key) {
  // A settings edit must not drop the pairs made since the last save: only a change under data.* reloads them
  // from the JSON (the data they index may have changed).
  keep_pairs_.reset();
  if (!key.startsWith("data")) keep_pairs_ = pair_editor_->pairs();
  reloadProjectData();
}

void MainWindow::reloadProjectData() {
  if (session_->state() != SessionController::State::Idle) {  // the run keeps the data it started with
    keep_pairs_.reset();
    return;
  }
  const quint64 generation = ++load_generation_;
  const QJsonObject json = document_->json();
  const QString path = document_->path();
  if (!isImageProject(json)) {
    loading_ = false;
    busy_->hide();
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    ProjectData data = loadProjectData(json, path);
    QGuiApplication::restoreOverrideCursor();
    applyProjectData(std::move(data));
    return;
  }
  loading_ = true;
  busy_->show();
  statusBar()->showMessage("Loading the project's images…");
  auto* watcher = new QFutureWatcher<ProjectData>(this);
  connect(watcher, &QFutureWatcher<ProjectData>::finished, this, [this, watcher, generation] {
    watcher->deleteLater();
    if (generation != load_generation_) return;  // a newer reload superseded this one
    loading_ = false;
    busy_->hide();
    statusBar()->clearMessage();
    applyProjectData(watcher->result());
  });
  watcher->setFuture(QtConcurrent::run([json, path] { return loadProjectData(json, path); }));
}

void MainWindow::applyProjectData(ProjectData data) {
  data_ = std::move(data);
  methods_runner_->setProject(document_->path(), document_->json(), defaultRunDir());
  h_.reset();
  h_inspector_->setMatrix(nullptr);
  trajectories_->clear();
  losses_->clear();
  const bool generation = document_->json().value("kind").toString() == "generation";
  run_panel_->setPipelineAvailable(!generation, kGenerationRunHint);
  if (!data_.ok() && generation) {
    // DPM-OT / AOT projects run from the command line (otcs gen-train, aot-compare, dpmot); the workbench shows
    // their diagnostics from the run directory in the Methods view. Not an error here.
    spdlog::info("{}: a generation project; the Methods view shows the DPM-OT/AOT diagnostics found under {}",
                 document_->path().toStdString(), defaultRunDir().toStdString());
    run_panel_->setRunDir(defaultRunDir());
    run_panel_->resetStages();
    loadMethodsFiles(defaultRunDir());
    views_->setCurrentWidget(methods_page_);
    refreshProject();
    return;
  }
  if (!data_.ok()) {
    // The project stays open (and editable, and saveable); the overview shows what is wrong.
    if (document_->path().isEmpty()) spdlog::warn("{}", data_.error.toStdString());
    else reportError(data_.error);
    refreshProject();
    return;
  }
  const ImageShape shape = data_.imageShape;
  auto thumbs = [shape](std::shared_ptr<const std::vector<float>> values) -> ThumbnailModel::Provider {
    if (!shape.valid() || !values) return {};
    return [shape, values](qint64 i) {
      if (i < 0 || (i + 1) * qint64(shape.size()) > qint64(values->size())) return QImage();
      return sampleToImage(values->data() + i * shape.size(), shape);
    };
  };
  const ThumbnailModel::Provider source_thumbs = thumbs(data_.sourceValues), target_thumbs = thumbs(data_.targetValues);
  datasets_->pane(Domain::Source)->setData(data_.source, data_.sourceLabels, source_thumbs, data_.dim);
  datasets_->pane(Domain::Target)->setData(data_.target, data_.targetLabels, target_thumbs, data_.dim);
  // The pair table and the H row/column inspectors show the same thumbnails as the dataset galleries.
  PairTableModel::ThumbnailProvider both;
  if (source_thumbs && target_thumbs)
    both = [source_thumbs, target_thumbs](Domain d, qint64 i) { return d == Domain::Source ? source_thumbs(i) : target_thumbs(i); };
  pair_editor_->model()->setThumbnailProvider(both);
  h_inspector_->setThumbnailProvider(both);
  datasets_->setCsvData(data_.source, data_.sourceLabels, data_.target, data_.targetLabels);
  pair_editor_->setPoints(data_.source, data_.target);
  // Image projects pair by clicking thumbnails in the two galleries side by side; point clouds in the scatter.
  pair_editor_->setImageSets(data_.source.size(), data_.sourceLabels, source_thumbs, data_.target.size(),
                             data_.targetLabels, target_thumbs, data_.dim);
  // After a settings edit the pairs stay as the user left them (applied once the data, possibly loaded in the
  // background, is in place); otherwise they come from the project's data.keypoints.
  pair_editor_->setPairs(keep_pairs_ ? *keep_pairs_ : data_.pairs);
  keep_pairs_.reset();
  trajectories_->setTargetDensity(data_.target);
  trajectories_->setImageShape(shape);
  if (run_dir_project_ != document_->path() || run_dir_.isEmpty()) {
    // A project opens onto its run: a run's own copy of the project, the older single run folder runs/NAME, the
    // newest of runs/NAME/*, or a new dated folder there.
    const QString legacy = defaultRunDirFor(document_->path());
    const QStringList runs = listRunDirs(projectRunsRoot(document_->path()));
    run_dir_ = isRunDir(legacy) ? legacy : !runs.isEmpty() ? runs.first() : newRunDir(projectRunsRoot(document_->path()));
    run_dir_project_ = document_->path();
  }
  run_panel_->setRunDir(defaultRunDir());
  run_panel_->resetStages();
  updateStageStatus();
  loadRunArtifacts(defaultRunDir());
  runs_->refresh();
  refreshProject();
}

bool MainWindow::openMethodsFile(const QString& path) {
  QString error;
  if (!loadMethodsFile(methods_, path, &error)) {
    reportError(error);
    return false;
  }
  return true;
}

void MainWindow::openMethodsFileDialog() {
  const QString path = QFileDialog::getOpenFileName(this, "Open method diagnostics", defaultRunDir(),
                                                    "DPM-OT cell measures / AOT chunks (*.npy *.csv);;All files (*)");
  if (path.isEmpty()) return;
  if (openMethodsFile(path)) views_->setCurrentWidget(methods_page_);
}

void MainWindow::updateStageStatus() {
  if (!run_panel_->pipelineAvailable() || session_->state() != SessionController::State::Idle) return;
  // RUN/<stage>/done.json is each stage's last act (session::mark_done), with the configuration hash it ran: the
  // moment an edit changes a stage's hash, that stage (and everything after it) is stale, before anything runs.
  const QMap<QString, QString> done = doneHashes(run_panel_->options().runDir);
  const QMap<QString, QString> now = stageHashes(currentProjectJson(), document_->path());
  for (const QString& stage : SessionController::stageNames()) {
    if (!done.contains(stage)) run_panel_->onStageEvent(stage, "–", "");
    else if (!now.isEmpty() && done[stage] != now.value(stage))
      run_panel_->onStageEvent(stage, "stale", "its settings changed since this run: it runs again");
    else run_panel_->onStageEvent(stage, "done", "from an earlier run");
  }
}

void MainWindow::showRun(const QString& dir) {
  run_dir_ = QDir(dir).absolutePath();
  run_dir_project_ = document_->path();
  run_panel_->setRunDir(run_dir_);
  run_panel_->resetStages();
  updateStageStatus();
  h_.reset();
  h_inspector_->setMatrix(nullptr);
  trajectories_->clear();
  losses_->clear();
  loadRunArtifacts(run_dir_);
  runs_->refresh();
}

bool MainWindow::startRunIn(const QString& dir, const QString& reuseFrom, const QString& initFrom) {
  if (!canRun()) return false;
  QJsonObject json = currentProjectJson();
  if (!initFrom.isEmpty()) {
    QJsonObject stages = json["stages"].toObject(), score = stages["score"].toObject();
    score["init_from"] = QDir(initFrom).absolutePath();
    stages["score"] = score;
    json["stages"] = stages;
  }
  RunOptions options = run_panel_->options();
  options.runDir = dir;
  options.reuseFrom = reuseFrom;
  QString error;
  if (!session_->start(json, document_->path(), options, &error)) {
    reportError(error);
    return false;
  }
  run_dir_ = QDir(dir).absolutePath();
  run_dir_project_ = document_->path();
  run_panel_->setRunDir(run_dir_);
  run_panel_->resetStages();
  previews_->clear();
  spdlog::info("run started in {}", session_->runDir().toStdString());
  return true;
}

void MainWindow::exportTrajectoryStrip() {
  if (trajectories_->frameCount() == 0) {
    reportError("No trajectories yet: run the sample stage first.");
    return;
  }
  const QString path = QFileDialog::getSaveFileName(this, "Export trajectory strip", "trajectory_strip.png", "PNG image (*.png)");
  if (path.isEmpty()) return;
  writeTrajectoryStrip(path);
}

bool MainWindow::writeTrajectoryStrip(const QString& path) {
  if (!trajectories_->renderStrip(8, 240).save(path, "PNG")) {
    reportError(QString("%1: cannot write the PNG.").arg(path));
    return false;
  }
  statusBar()->showMessage("Exported " + path, 5000);
  return true;
}

void MainWindow::createDocks() {
  setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);
  project_tree_ = new QTreeWidget(this);
  project_tree_->setObjectName("projectTree");
  project_tree_->setHeaderLabels({"Key", "Value"});
  project_tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  // The settings editor: double-click a value to edit it; the edit goes through the project's undo stack.
  project_tree_->setEditTriggers(QAbstractItemView::EditKeyPressed);
  project_tree_->setItemDelegateForColumn(1, new ProjectValueDelegate(project_tree_));  // lists for enum keys
  project_tree_->setToolTip("The project file. Double-click a value (or press F2) to edit it; Edit > Undo reverts.");
  connect(project_tree_, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item, int) {
    if (item->flags() & Qt::ItemIsEditable) project_tree_->editItem(item, 1);
  });
  connect(project_tree_, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* item, int column) {
    if (column != 1) return;
    // Applied after the editor has finished with the item: the edit rebuilds the tree (and deletes this item).
    QMetaObject::invokeMethod(
        this, [this, path = jsonTreePath(item), text = item->text(1)] { editProjectValue(path, text); },
        Qt::QueuedConnection);
  });
  project_dock_ = new QDockWidget("Project", this);
  project_dock_->setObjectName("projectDock");
  project_dock_->setWidget(project_tree_);
  addDockWidget(Qt::LeftDockWidgetArea, project_dock_);

  log_view_ = new LogView(this);
  log_view_->setObjectName("logView");
  log_dock_ = new QDockWidget("Log", this);
  log_dock_->setObjectName("logDock");
  log_dock_->setWidget(log_view_);
  addDockWidget(Qt::BottomDockWidgetArea, log_dock_);

  run_panel_ = new RunPanel(this);
  run_panel_->setObjectName("runPanel");
  run_dock_ = new QDockWidget("Run", this);
  run_dock_->setObjectName("runDock");
  run_dock_->setWidget(run_panel_);
  addDockWidget(Qt::LeftDockWidgetArea, run_dock_);
  tabifyDockWidget(project_dock_, run_dock_);
  run_dock_->raise();
  resizeDocks({log_dock_}, {160}, Qt::Vertical);
  resizeDocks({run_dock_}, {330}, Qt::Horizontal);
  connect(log_view_, &LogView::errorLogged, this,
          [this](const QString& text) { statusBar()->showMessage(text.section("] ", -1), 8000); });
}

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu("&File");
  auto* new_action = file->addAction("&New project", QKeySequence::New, this, &MainWindow::newProject);
  new_action->setObjectName("actionNew");
  auto* open_action = file->addAction("&Open project…", QKeySequence::Open, this, &MainWindow::openProjectDialog);
  open_action->setObjectName("actionOpen");
  recent_menu_ = file->addMenu("Open &recent");
  recent_menu_->setObjectName("recentMenu");
  auto* import_action = file->addAction("&Import dataset…", QKeySequence(Qt::CTRL | Qt::Key_I), this,
                                        [this] { importDatasetDialog(); });
  import_action->setObjectName("actionImportDataset");
  import_action->setToolTip("Choose a dataset for the source, target or a held-out side, with preprocessing and a preview");
  file->addSeparator();
  auto* save_action = file->addAction("&Save project", QKeySequence::Save, this, &MainWindow::save);
  save_action->setObjectName("actionSave");
  auto* save_as_action = file->addAction("Save project &as…", QKeySequence::SaveAs, this, &MainWindow::saveAs);
  save_as_action->setObjectName("actionSaveAs");
  file->addSeparator();
  export_action_ = file->addAction("&Export figure…", QKeySequence(Qt::CTRL | Qt::Key_E), this,
                                   &MainWindow::exportFigureDialog);
  export_action_->setObjectName("actionExportFigure");
  export_action_->setEnabled(false);
  auto* strip_action = file->addAction("Export trajectory &strip…", this, &MainWindow::exportTrajectoryStrip);
  strip_action->setObjectName("actionExportStrip");
  auto* video_action = file->addAction("Export trajectory &video…", this, &MainWindow::exportTrajectoryVideo);
  video_action->setObjectName("actionExportVideo");
  auto* methods_action = file->addAction("Open &method diagnostics…", this, &MainWindow::openMethodsFileDialog);
  methods_action->setObjectName("actionOpenMethods");
  file->addSeparator();
  auto* quit_action = file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
  quit_action->setObjectName("actionQuit");

  QMenu* edit = menuBar()->addMenu("&Edit");
  QAction* undo = document_->undoStack()->createUndoAction(this, "&Undo");
  undo->setShortcut(QKeySequence::Undo);
  undo->setObjectName("actionUndo");
  QAction* redo = document_->undoStack()->createRedoAction(this, "&Redo");
  redo->setShortcut(QKeySequence::Redo);
  redo->setObjectName("actionRedo");
  edit->addAction(undo);
  edit->addAction(redo);

  view_menu_ = menuBar()->addMenu("&View");
  view_menu_->addAction(project_dock_->toggleViewAction());
  view_menu_->addAction(log_dock_->toggleViewAction());
  view_menu_->addAction(run_dock_->toggleViewAction());

  QMenu* run = menuBar()->addMenu("&Run");
  auto* run_action = run->addAction("&Run pipeline", QKeySequence(Qt::CTRL | Qt::Key_R), this, &MainWindow::startRun);
  run_action->setObjectName("actionRun");
  run->addAction("&Pause / resume", QKeySequence(Qt::CTRL | Qt::Key_P), this, [this] {
    if (session_->state() == SessionController::State::Paused) session_->resume();
    else session_->pause();
  });
  run->addAction("&Stop", QKeySequence(Qt::CTRL | Qt::Key_Period), session_, &SessionController::stop);

  QMenu* help = menuBar()->addMenu("&Help");
  auto* about_action = help->addAction("&About OTCS Workbench", this, &MainWindow::about);
  about_action->setObjectName("actionAbout");

  QToolBar* bar = addToolBar("Main");
  bar->setObjectName("mainToolBar");
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  new_action->setIcon(style()->standardIcon(QStyle::SP_FileIcon));
  open_action->setIcon(style()->standardIcon(QStyle::SP_DialogOpenButton));
  save_action->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
  undo->setIcon(style()->standardIcon(QStyle::SP_ArrowBack));
  redo->setIcon(style()->standardIcon(QStyle::SP_ArrowForward));
  bar->addAction(open_action);
  bar->addAction(save_action);
  bar->addSeparator();
  bar->addAction(undo);
  bar->addAction(redo);
  bar->addSeparator();
  bar->addAction(export_action_);
  view_menu_->addAction(bar->toggleViewAction());
}

void MainWindow::reportError(const QString& message) {
  spdlog::error("{}", message.toStdString());
  statusBar()->showMessage(message, 10000);
  if (interactive_) QMessageBox::warning(this, "OTCS Workbench", message);
}

bool MainWindow::maybeSave() {
  if (!document_->isModified()) return true;
  if (!interactive_) return true;
  const auto answer = QMessageBox::warning(
      this, "Unsaved changes", QString("The project \"%1\" has unsaved changes. Save them?").arg(document_->displayName()),
      QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
  if (answer == QMessageBox::Save) return save();
  return answer == QMessageBox::Discard;
}

void MainWindow::newProject() {
  if (session_->state() != SessionController::State::Idle) {
    reportError("Stop the run before starting a new project.");
    return;
  }
  if (!maybeSave()) return;
  document_->newProject();
  statusBar()->showMessage("New project", 3000);
}

void MainWindow::openProjectDialog() {
  if (!maybeSave()) return;
  const QString start = document_->directory().isEmpty() ? QString() : document_->directory();
  const QString path = QFileDialog::getOpenFileName(this, "Open project", start, "OTCS projects (*.json);;All files (*)");
  if (!path.isEmpty()) openProject(path);
}

bool MainWindow::openProject(const QString& path) {
  if (session_->state() != SessionController::State::Idle) {
    reportError("Stop the run before opening another project.");
    return false;
  }
  QString error;
  if (!document_->load(path, &error)) {
    reportError(error);
    return false;
  }
  addRecent(document_->path());
  spdlog::info("opened project {}", document_->path().toStdString());
  statusBar()->showMessage(QString("Opened %1").arg(QFileInfo(path).fileName()), 4000);
  return true;
}

bool MainWindow::saveProject(const QString& path) {
  QString error;
  if (!document_->save(path, &error)) {
    reportError(error);
    return false;
  }
  addRecent(document_->path());
  spdlog::info("saved project {}", document_->path().toStdString());
  statusBar()->showMessage(QString("Saved %1").arg(QFileInfo(path).fileName()), 4000);
  return true;
}

bool MainWindow::save() {
  if (document_->path().isEmpty()) return saveAs();
  return saveProject(document_->path());
}

bool MainWindow::saveAs() {
  QString path = QFileDialog::getSaveFileName(this, "Save project as",
                                              document_->path().isEmpty() ? "project.json" : document_->path(),
                                              "OTCS projects (*.json)");
  if (path.isEmpty()) return false;
  if (QFileInfo(path).suffix().isEmpty()) path += ".json";
  return saveProject(path);
}

FigureSource* MainWindow::currentFigureSource() const {
  if (views_->currentWidget() == methods_page_) return methods_;  // the runner above it is not part of the figure
  return dynamic_cast<FigureSource*>(views_->currentWidget());
}

bool MainWindow::exportFigure(const QString& path, QWidget* view, double scale) {
  auto* source = view ? dynamic_cast<FigureSource*>(view == methods_page_ ? methods_ : view) : currentFigureSource();
  if (!source) {
    reportError("This view has nothing to export as a figure.");
    return false;
  }
  FigureFormat format;
  if (!figureFormatFromPath(path, &format)) {
    reportError(QString("%1: unknown figure format (use .png, .pdf, .svg or .csv).").arg(path));
    return false;
  }
  ExportOptions options;
  options.scale = scale;
  QString error;
  if (!otcs::exportFigure(*source, path, format, options, &error)) {
    reportError(error);
    return false;
  }
  spdlog::info("exported {}", path.toStdString());
  statusBar()->showMessage(QString("Exported %1").arg(path), 5000);
  return true;
}

void MainWindow::exportFigureDialog() {
  FigureSource* source = currentFigureSource();
  if (!source) return;
  QSettings settings;
  const QString dir = settings.value("export/dir", QDir::homePath()).toString();
  const QString suffix = settings.value("export/suffix", "png").toString();
  FigureExportDialog dialog(QDir(dir).filePath(source->figureName() + "." + suffix), source->figureSize(), this);
  dialog.setScale(settings.value("export/scale", 2.0).toDouble());
  if (dialog.exec() != QDialog::Accepted) return;
  const QFileInfo info(dialog.path());
  settings.setValue("export/dir", info.absolutePath());
  settings.setValue("export/suffix", info.suffix().toLower());
  settings.setValue("export/scale", dialog.options().scale);
  QString error;
  if (!otcs::exportFigure(*source, dialog.path(), dialog.format(), dialog.options(), &error)) {
    reportError(error);
    return;
  }
  spdlog::info("exported {}", dialog.path().toStdString());
  statusBar()->showMessage(QString("Exported %1").arg(dialog.path()), 5000);
}

void MainWindow::exportTrajectoryVideo() {
  if (trajectories_->frameCount() < 2) {
    reportError("No trajectories yet: run the sample stage first.");
    return;
  }
  const QString path =
      QFileDialog::getSaveFileName(this, "Export trajectory video", "trajectory.avi", "Motion-JPEG AVI (*.avi)");
  if (path.isEmpty()) return;
  writeTrajectoryVideo(path);
}

bool MainWindow::writeTrajectoryVideo(const QString& path) {
  QGuiApplication::setOverrideCursor(Qt::WaitCursor);
  const QVector<QImage> frames = trajectories_->renderFrames(QSize(800, 700));
  QGuiApplication::restoreOverrideCursor();
  QString error;
  if (!writeMjpegAvi(path, frames, trajectories_->fps(), &error)) {
    reportError(error);
    return false;
  }
  statusBar()->showMessage(QString("Exported %1 (%2 frames at %3 fps)").arg(path).arg(frames.size()).arg(trajectories_->fps()), 5000);
  return true;
}

void MainWindow::about() {
  AboutDialog dialog(this);
  dialog.exec();
}

bool MainWindow::importDatasetDialog(const std::function<void(ImportDialog&)>& prepare) {
  ImportDialog dialog(document_->directory(), document_->json(), this);
  if (prepare) prepare(dialog);
  if (dialog.exec() != QDialog::Accepted) return false;
  const QJsonObject updated = dialog.applyTo(document_->json());
  document_->setValue("data", updated.value("data"), QString("Import the %1 dataset").arg(dialog.side()));
  spdlog::info("data.{} set from File > Import dataset", dialog.side().toStdString());
  return true;
}

bool MainWindow::editProjectValue(const QStringList& path, const QString& text) {
  QString key, error;
  QJsonValue value;
  if (!applyCheckedTreeEdit(document_->json(), path, text, &key, &value, &error)) {
    refreshProject();  // puts the old value back in the tree
    spdlog::warn("{}", error.toStdString());
    statusBar()->showMessage(error, 10000);
    return false;
  }
  if (value == document_->json().value(key)) {
    refreshProject();  // the same value (e.g. "0.10" for 0.1): show it as stored
    return true;
  }
  document_->setValue(key, value, QString("Set %1 to %2").arg(path.join('.'), text.trimmed().left(40)));
  return true;
}

void MainWindow::refreshProject() {
  overview_->setProject(document_->json(), document_->path(), data_.error);
  fillJsonTree(project_tree_, document_->json());
  updateTitle();
}

void MainWindow::updateTitle() {
  setWindowTitle(QString("%1[*] — OTCS Workbench").arg(document_->displayName()));
  setWindowModified(document_->isModified());
  status_project_->setText(document_->path().isEmpty() ? "unsaved project" : document_->path());
}

QStringList MainWindow::recentProjects() const { return QSettings().value("recentProjects").toStringList(); }

void MainWindow::addRecent(const QString& path) {
  QStringList recent = recentProjects();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  QSettings().setValue("recentProjects", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  const QStringList recent = recentProjects();
  for (const QString& path : recent) {
    QAction* action = recent_menu_->addAction(QFileInfo(path).fileName());
    action->setToolTip(path);
    action->setStatusTip(path);
    connect(action, &QAction::triggered, this, [this, path] {
      if (maybeSave()) openProject(path);
    });
  }
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::readSettings() {
  QSettings settings;
  if (!restoreGeometry(settings.value("window/geometry").toByteArray())) resize(1400, 900);
  fitToScreen();
  if (settings.value("window/layoutVersion").toInt() == kLayoutVersion)
    restoreState(settings.value("window/state").toByteArray(), kLayoutVersion);
  rebuildRecentMenu();
}

void MainWindow::fitToScreen() {
  // Never larger than the screen's available area (a geometry saved on a larger screen, or the default size on
  // a 1280 x 800 one); a frame's decorations are allowed for where a window manager adds them.
  const QScreen* s = screen() ? screen() : QGuiApplication::primaryScreen();
  if (!s) return;
  const QRect avail = s->availableGeometry();
  const QSize frame = frameGeometry().size() - geometry().size();
  const QSize decorations(std::max(frame.width(), 0), std::max(frame.height(), 0));
  const QSize fit = size().boundedTo(avail.size() - decorations);
  if (fit != size()) resize(fit);
  if (!avail.contains(frameGeometry())) move(avail.topLeft());
}

void MainWindow::writeSettings() {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState(kLayoutVersion));
  settings.setValue("window/layoutVersion", kLayoutVersion);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (session_->state() != SessionController::State::Idle) {
    if (interactive_ && QMessageBox::question(this, "A run is in progress",
                                              "Stop the run (it saves a checkpoint and can be resumed) and quit?") !=
                            QMessageBox::Yes) {
      event->ignore();
      return;
    }
    session_->stop();
    session_->waitForIdle(60000);
  }
  if (methods_runner_->busy()) {
    if (interactive_ && QMessageBox::question(this, "A Methods job is running",
                                              "Stop it (a training saves a checkpoint that Train resumes) and quit?") != QMessageBox::Yes) {
      event->ignore();
      return;
    }
    methods_runner_->stop();
    methods_runner_->controller()->waitForIdle(60000);
  }
  if (!maybeSave()) {
    event->ignore();
    return;
  }
  writeSettings();
  event->accept();
}

}  // namespace otcs::workbench
