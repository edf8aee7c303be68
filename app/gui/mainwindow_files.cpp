// MainWindow: the project's file operations (new, open, save, recent files) and the edits requested from the
// settings tree and File > Import dataset, each handed to the project model.
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <spdlog/spdlog.h>

#include "app/gui/importdialog.h"
#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/projectschema.h"
#include "app/gui/sessioncontroller.h"

namespace otcs::workbench {
namespace {
constexpr int kMaxRecent = 8;
}  // namespace

bool MainWindow::maybeSave() {
  if (!document_->isModified()) return true;
  if (!interactive_) return true;
  const auto answer =
      QMessageBox::warning(this, "Unsaved changes",
                           QString("The project \"%1\" has unsaved changes. Save them?").arg(document_->displayName()),
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
  const QString path =
      QFileDialog::getOpenFileName(this, "Open project", start, "OTCS projects (*.json);;All files (*)");
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

}  // namespace otcs::workbench
