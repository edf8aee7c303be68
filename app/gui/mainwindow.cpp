#include "app/gui/mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QTreeWidget>
#include <QUndoStack>
#include <spdlog/spdlog.h>

#include "app/gui/aboutdialog.h"
#include "app/gui/guilogsink.h"
#include "app/gui/projectdocument.h"
#include "app/gui/projectoverview.h"
#include "core/common/log.h"
#include "widgets/figureexport.h"
#include "widgets/logview.h"

namespace otcs::workbench {
namespace {
constexpr int kLayoutVersion = 1;  // bump when docks change, so an old saved state is not applied
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

  createDocks();
  createActions();
  status_project_ = new QLabel(this);
  statusBar()->addPermanentWidget(status_project_);
  statusBar()->showMessage("Ready", 3000);

  connect(document_, &ProjectDocument::loaded, this, &MainWindow::refreshProject);
  connect(document_, &ProjectDocument::valueChanged, this, &MainWindow::refreshProject);
  connect(document_, &ProjectDocument::pathChanged, this, &MainWindow::updateTitle);
  connect(document_, &ProjectDocument::modifiedChanged, this, &MainWindow::updateTitle);
  connect(views_, &QTabWidget::currentChanged, this,
          [this] { export_action_->setEnabled(currentFigureSource() != nullptr); });

  log_sink_ = GuiLogSink::attach(log_view_);
  readSettings();
  refreshProject();
  spdlog::info("OTCS Workbench started");
}

MainWindow::~MainWindow() {
  // Detach first: a worker thread may still be logging while the widgets go away.
  if (log_sink_) otcs::remove_log_sink(log_sink_);
}

void MainWindow::createDocks() {
  setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);
  project_tree_ = new QTreeWidget(this);
  project_tree_->setObjectName("projectTree");
  project_tree_->setHeaderLabels({"Key", "Value"});
  project_tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
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
  return dynamic_cast<FigureSource*>(views_->currentWidget());
}

bool MainWindow::exportFigure(const QString& path, QWidget* view, double scale) {
  auto* source = dynamic_cast<FigureSource*>(view ? view : views_->currentWidget());
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
  QString selected;
  const QString path = QFileDialog::getSaveFileName(this, "Export figure", QDir(dir).filePath(source->figureName() + ".png"),
                                                    figureFileFilter(), &selected);
  if (path.isEmpty()) return;
  settings.setValue("export/dir", QFileInfo(path).absolutePath());
  exportFigure(path, nullptr, settings.value("export/scale", 2.0).toDouble());
}

void MainWindow::about() {
  AboutDialog dialog(this);
  dialog.exec();
}

void MainWindow::refreshProject() {
  overview_->setProject(document_->json(), document_->path());
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
  if (settings.value("window/layoutVersion").toInt() == kLayoutVersion)
    restoreState(settings.value("window/state").toByteArray(), kLayoutVersion);
  rebuildRecentMenu();
}

void MainWindow::writeSettings() {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState(kLayoutVersion));
  settings.setValue("window/layoutVersion", kLayoutVersion);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!maybeSave()) {
    event->ignore();
    return;
  }
  writeSettings();
  event->accept();
}

}  // namespace otcs::workbench
