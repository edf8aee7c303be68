// MainWindow: the project's data loaded into the views (image sets off the GUI thread) after every project or
// setting change; the loaded data goes to the project model, which takes its pairs from it.
#include <QFutureWatcher>
#include <QGuiApplication>
#include <QProgressBar>
#include <QStatusBar>
#include <QTabWidget>
#include <QtConcurrent/QtConcurrentRun>
#include <spdlog/spdlog.h>

#include "app/gui/lossespage.h"
#include "app/gui/mainwindow.h"
#include "app/gui/methodsrunner.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/runpanel.h"
#include "app/gui/runscontroller.h"
#include "app/gui/runsdirectory.h"
#include "app/gui/sessioncontroller.h"
#include "widgets/datasetbrowser.h"
#include "widgets/matrixinspector.h"
#include "widgets/paireditor.h"
#include "widgets/pairtablemodel.h"
#include "widgets/trajectoryplayer.h"

namespace otcs::workbench {
namespace {
// Image sets (thousands of decoded images) are loaded off the GUI thread; point clouds load in milliseconds.
bool isImageProject(const QJsonObject& json) {
  const QJsonObject data = json.value("data").toObject();
  return data.value("source").toObject().contains("images") || data.value("target").toObject().contains("images");
}
}  // namespace

const ProjectData& MainWindow::projectData() const { return document_->data(); }

void MainWindow::onValueChanged(const QString&) {
  // Any setting may change what loads (data.*) or what the views show; the pairs are in the JSON already, so
  // the reload brings back exactly the model's pairs.
  reloadProjectData();
}

void MainWindow::reloadProjectData() {
  if (session_->state() != SessionController::State::Idle) return;  // the run keeps the data it started with
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

void MainWindow::applyProjectData(ProjectData loaded) {
  document_->setData(std::move(loaded));  // the model's pairs become the ones the data implies
  methods_runner_->setProject(document_->path(), document_->json(), defaultRunDir());
  h_.reset();
  h_inspector_->setMatrix(nullptr);
  trajectories_->clear();
  losses_->clear();
  const bool generation = document_->json().value("kind").toString() == "generation";
  run_panel_->setPipelineAvailable(!generation, kGenerationRunHint);
  if (!data().ok() && generation) {
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
  if (!data().ok()) {
    // The project stays open (and editable, and saveable); the overview shows what is wrong.
    if (document_->path().isEmpty())
      spdlog::warn("{}", data().error.toStdString());
    else
      reportError(data().error);
    refreshProject();
    return;
  }
  const ImageShape shape = data().imageShape;
  auto thumbs = [shape](std::shared_ptr<const std::vector<float>> values) -> ThumbnailModel::Provider {
    if (!shape.valid() || !values) return {};
    return [shape, values](qint64 i) {
      if (i < 0 || (i + 1) * qint64(shape.size()) > qint64(values->size())) return QImage();
      return sampleToImage(values->data() + i * shape.size(), shape);
    };
  };
  const ThumbnailModel::Provider source_thumbs = thumbs(data().sourceValues),
                                 target_thumbs = thumbs(data().targetValues);
  datasets_->pane(Domain::Source)->setData(data().source, data().sourceLabels, source_thumbs, data().dim);
  datasets_->pane(Domain::Target)->setData(data().target, data().targetLabels, target_thumbs, data().dim);
  // The pair table and the H row/column inspectors show the same thumbnails as the dataset galleries.
  PairTableModel::ThumbnailProvider both;
  if (source_thumbs && target_thumbs)
    both = [source_thumbs, target_thumbs](Domain d, qint64 i) {
      return d == Domain::Source ? source_thumbs(i) : target_thumbs(i);
    };
  pair_editor_->model()->setThumbnailProvider(both);
  h_inspector_->setThumbnailProvider(both);
  datasets_->setCsvData(data().source, data().sourceLabels, data().target, data().targetLabels);
  pair_editor_->setPoints(data().source, data().target);
  // Image projects pair by clicking thumbnails in the two galleries side by side; point clouds in the scatter.
  pair_editor_->setImageSets(data().source.size(), data().sourceLabels, source_thumbs, data().target.size(),
                             data().targetLabels, target_thumbs, data().dim);
  pair_editor_->setPairs(document_->pairs());
  trajectories_->setTargetDensity(data().target);
  trajectories_->setImageShape(shape);
  if (run_dir_project_ != document_->path() || run_dir_.isEmpty()) {
    // A project opens onto its run: a run's own copy of the project, the older single run folder runs/NAME, the
    // newest of runs/NAME/*, or a new dated folder there.
    const QString legacy = defaultRunDirFor(document_->path());
    const QStringList runs = listRunDirs(projectRunsRoot(document_->path()));
    run_dir_ = isRunDir(legacy)  ? legacy
               : !runs.isEmpty() ? runs.first()
                                 : newRunDir(projectRunsRoot(document_->path()));
    run_dir_project_ = document_->path();
  }
  run_panel_->setRunDir(defaultRunDir());
  run_panel_->resetStages();
  updateStageStatus();
  loadRunArtifacts(defaultRunDir());
  runs_->refresh();
  refreshProject();
}

}  // namespace otcs::workbench
