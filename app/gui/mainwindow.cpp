// The main window composes the views, the docks and the status bar around the project model; the menus, the
// file operations, the exports, the data loading and the run coordination live in mainwindow_*.cpp.
#include "app/gui/mainwindow.h"

#include <QCloseEvent>
#include <QDockWidget>
#include <QGuiApplication>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QScreen>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTreeWidget>
#include <QUndoStack>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "app/gui/aboutdialog.h"
#include "app/gui/guilogsink.h"
#include "app/gui/lossespage.h"
#include "app/gui/methodsrunner.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/projectoverview.h"
#include "app/gui/projectschema.h"
#include "app/gui/runpanel.h"
#include "app/gui/runscontroller.h"
#include "app/gui/sessioncontroller.h"
#include "core/common/log.h"
#include "widgets/datasetbrowser.h"
#include "widgets/evaluationview.h"
#include "widgets/heatmapview.h"
#include "widgets/logview.h"
#include "widgets/matrixinspector.h"
#include "widgets/methodsview.h"
#include "widgets/paireditor.h"
#include "widgets/previewview.h"
#include "widgets/runsview.h"
#include "widgets/trajectoryplayer.h"

namespace otcs::workbench {
namespace {
constexpr int kLayoutVersion = 2;  // bump when docks change, so an old saved state is not applied
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setObjectName("otcsMainWindow");
  setWindowIcon(QIcon(":/otcs/icons/otcs.svg"));
  document_ = new ProjectModel(this);

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

  connect(document_, &ProjectModel::loaded, this, &MainWindow::reloadProjectData);
  connect(document_, &ProjectModel::valueChanged, this, &MainWindow::onValueChanged);
  connect(document_, &ProjectModel::pathChanged, this, &MainWindow::updateTitle);
  connect(document_, &ProjectModel::modifiedChanged, this, &MainWindow::updateTitle);
  connect(views_, &QTabWidget::currentChanged, this,
          [this] { export_action_->setEnabled(currentFigureSource() != nullptr); });

  log_sink_ = GuiLogSink::attach(log_view_);
  readSettings();
  reloadProjectData();
  spdlog::info("OTCS Workbench started");
}

MainWindow::~MainWindow() {
  // The model (a child) clears its undo stack when it goes, after the views: nothing may react to that.
  disconnect(document_->undoStack(), nullptr, this, nullptr);
  disconnect(document_, nullptr, this, nullptr);
  // Detach first: a worker thread may still be logging while the widgets go away.
  if (log_sink_) otcs::remove_log_sink(log_sink_);
}

void MainWindow::createViews() {
  datasets_ = new DatasetBrowser(views_);
  datasets_->setObjectName("datasetsView");
  views_->addTab(datasets_, "Datasets");
  pair_editor_ = new PairEditor(views_);
  pair_editor_->setObjectName("pairingView");
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
  evaluation_ = new EvaluationView(views_);
  evaluation_->setObjectName("evaluationView");
  views_->addTab(evaluation_, "Evaluation");
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
          [this](const QString& key, const QJsonValue& value, const QString& text) {
            document_->setValue(key, value, text);
          });
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

  // The pair editor shows the model's pairs and asks the model for every edit (each one undo step).
  connect(pair_editor_, &PairEditor::addPairRequested, document_, &ProjectModel::addPair);
  connect(pair_editor_, &PairEditor::removePairsRequested, document_, &ProjectModel::removePairs);
  connect(pair_editor_, &PairEditor::clearPairsRequested, document_, &ProjectModel::clearPairs);
  connect(document_, &ProjectModel::pairsChanged, this, [this] {
    pair_editor_->setPairs(document_->pairs());
    refreshProject();  // the tree shows data.keypoints
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
    const auto& pts = domain == Domain::Source ? data().source : data().target;
    if (i < 0 || i >= pts.size()) return QString();
    if (data().imageShape.valid()) {
      // An image sample is identified by its index and class (the thumbnail shows it); a coordinate means nothing.
      const auto& labels = domain == Domain::Source ? data().sourceLabels : data().targetLabels;
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

void MainWindow::reportError(const QString& message) {
  spdlog::error("{}", message.toStdString());
  statusBar()->showMessage(message, 10000);
  if (interactive_) QMessageBox::warning(this, "OTCS Workbench", message);
}

void MainWindow::about() {
  AboutDialog dialog(this);
  dialog.exec();
}

void MainWindow::refreshProject() {
  overview_->setProject(document_->json(), document_->path(), data().error);
  fillJsonTree(project_tree_, document_->json());
  updateTitle();
}

void MainWindow::updateTitle() {
  setWindowTitle(QString("%1[*] — OTCS Workbench").arg(document_->displayName()));
  setWindowModified(document_->isModified());
  status_project_->setText(document_->path().isEmpty() ? "unsaved project" : document_->path());
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
                                              "Stop it (a training saves a checkpoint that Train resumes) and quit?") !=
                            QMessageBox::Yes) {
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
