// MainWindow: figures, trajectory strips and videos written from the views, and method diagnostics opened into
// the Methods page.
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <spdlog/spdlog.h>

#include "app/gui/mainwindow.h"
#include "widgets/aviwriter.h"
#include "widgets/figureexport.h"
#include "widgets/figureexportdialog.h"
#include "widgets/methodsview.h"
#include "widgets/trajectoryplayer.h"

namespace otcs::workbench {

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

void MainWindow::exportTrajectoryStrip() {
  if (trajectories_->frameCount() == 0) {
    reportError("No trajectories yet: run the sample stage first.");
    return;
  }
  const QString path =
      QFileDialog::getSaveFileName(this, "Export trajectory strip", "trajectory_strip.png", "PNG image (*.png)");
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
  statusBar()->showMessage(
      QString("Exported %1 (%2 frames at %3 fps)").arg(path).arg(frames.size()).arg(trajectories_->fps()), 5000);
  return true;
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

}  // namespace otcs::workbench
