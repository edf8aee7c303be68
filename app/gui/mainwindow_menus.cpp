// MainWindow: the menus and the tool bar (every action's text, shortcut and objectName).
#include <QAction>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QStyle>
#include <QToolBar>
#include <QUndoStack>

#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/sessioncontroller.h"

namespace otcs::workbench {

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu("&File");
  auto* new_action = file->addAction("&New project", QKeySequence::New, this, &MainWindow::newProject);
  new_action->setObjectName("actionNew");
  auto* open_action = file->addAction("&Open project…", QKeySequence::Open, this, &MainWindow::openProjectDialog);
  open_action->setObjectName("actionOpen");
  recent_menu_ = file->addMenu("Open &recent");
  recent_menu_->setObjectName("recentMenu");
  auto* import_action =
      file->addAction("&Import dataset…", QKeySequence(Qt::CTRL | Qt::Key_I), this, [this] { importDatasetDialog(); });
  import_action->setObjectName("actionImportDataset");
  import_action->setToolTip(
      "Choose a dataset for the source, target or a held-out side, with preprocessing and a preview");
  file->addSeparator();
  auto* save_action = file->addAction("&Save project", QKeySequence::Save, this, &MainWindow::save);
  save_action->setObjectName("actionSave");
  auto* save_as_action = file->addAction("Save project &as…", QKeySequence::SaveAs, this, &MainWindow::saveAs);
  save_as_action->setObjectName("actionSaveAs");
  file->addSeparator();
  export_action_ =
      file->addAction("&Export figure…", QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::exportFigureDialog);
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
    if (session_->state() == SessionController::State::Paused)
      session_->resume();
    else
      session_->pause();
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

}  // namespace otcs::workbench
