#include "app/gui/runscontroller.h"

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QInputDialog>
#include <QMessageBox>
#include <spdlog/spdlog.h>

#include "app/gui/lossespage.h"
#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/runsdirectory.h"
#include "app/gui/sessioncontroller.h"
#include "core/run/artifacts.h"
#include "core/run/layout.h"
#include "widgets/previewview.h"
#include "widgets/runsview.h"

namespace otcs::workbench {

RunsController::RunsController(MainWindow* window, RunsView* runs, PreviewView* previews)
    : QObject(window), window_(window), runs_(runs), previews_(previews) {
  connect(runs_, &RunsView::refreshRequested, this, &RunsController::refresh);
  connect(runs_, &RunsView::openRequested, this, [this](const QString& path) {
    if (!path.isEmpty()) window_->showRun(path);
  });
  connect(runs_, &RunsView::forkRequested, this, [this](const QString& path) { startNewRun(path, QString()); });
  connect(runs_, &RunsView::continueRequested, this, [this](const QString& path) { startNewRun(path, path); });
  connect(runs_, &RunsView::renameRequested, this, &RunsController::rename);
  connect(runs_, &RunsView::deleteRequested, this, &RunsController::remove);
  connect(runs_, &RunsView::selectionChanged, this, &RunsController::compare);
  SessionController* session = window_->session();
  connect(session, &SessionController::previewReady, this,
          [this](qint64 step, const QString& path) { previews_->addPreview(step, QImage(path)); });
  connect(session, &SessionController::stageEvent, this,
          [this](session::Stage stage, session::StageEvent::What what, const QString&) {
            using W = session::StageEvent::What;
            if (stage == session::Stage::Score && what == W::Started) previews_->clear();
            if (stage == session::Stage::Score && what == W::Skipped) loadPreviews(window_->session()->runDir());
            if (what == W::Finished || what == W::Skipped) refresh();
          });
  connect(session, &SessionController::finished, this, [this] { refresh(); });
}

void RunsController::refresh() {
  const QString root = projectRunsRoot(window_->document()->path());
  QStringList dirs = listRunDirs(root);
  const QString shown = QDir(window_->defaultRunDir()).absolutePath();
  if (isRunDir(shown) && !dirs.contains(shown)) dirs.prepend(shown);
  QVector<RunSummary> summaries;
  for (const QString& d : dirs) summaries.push_back(readRunSummary(d));
  runs_->setCurrentRun(shown);
  runs_->setRuns(summaries);
}

void RunsController::loadPreviews(const QString& runDir) {
  QVector<QPair<qint64, QImage>> list;
  for (const run::PreviewEntry& e : run::read_previews(run::RunLayout(runDir.toStdString())))
    if (!e.image.empty()) list.push_back({e.step, QImage(QString::fromStdString(e.image.string()))});
  previews_->setPreviews(list);
}

bool RunsController::startNewRun(const QString& reuseFrom, const QString& initFrom) {
  const QString dir = newRunDir(projectRunsRoot(window_->document()->path()));
  spdlog::info(
      "new run {}{}{}", dir.toStdString(),
      reuseFrom.isEmpty() ? std::string() : ", reusing the stages of " + reuseFrom.toStdString() + " that match",
      initFrom.isEmpty() ? std::string() : ", score model warm-started from " + initFrom.toStdString());
  return window_->startRunIn(dir, reuseFrom, initFrom);
}

void RunsController::compare(const QStringList& paths) {
  if (paths.size() < 2) {
    runs_->setComparison({});
    if (comparing_) {
      comparing_ = false;
      window_->lossesPage()->removeAllSeries();
      window_->loadRunArtifacts(window_->defaultRunDir());  // the shown run's own curves again
    }
    return;
  }
  comparing_ = true;
  runs_->setComparison(compareRuns(paths));
  // Every curve of every selected run, one series per run, in the Losses view.
  LossesPage* losses = window_->lossesPage();
  losses->removeAllSeries();
  for (const QString& path : paths) {
    const QString name = QFileInfo(path).fileName();
    for (const Curve& c : readRunCurves(path)) losses->addPoints(c.stage, name + ": " + c.series, c.steps, c.values);
  }
}

void RunsController::rename(const QString& path) {
  if (path.isEmpty()) return;
  bool ok = false;
  const QString name = QInputDialog::getText(window_, "Rename run", "New name of the run folder:", QLineEdit::Normal,
                                             QFileInfo(path).fileName(), &ok);
  if (!ok || name == QFileInfo(path).fileName()) return;
  QString error;
  if (!renameRunDir(path, name, &error)) {
    QMessageBox::warning(window_, "Rename run", error);
    return;
  }
  if (QDir(window_->defaultRunDir()).absolutePath() == QDir(path).absolutePath())
    window_->showRun(QFileInfo(path).absoluteDir().filePath(name));
  refresh();
}

void RunsController::remove(const QStringList& paths) {
  if (paths.isEmpty()) return;
  if (window_->session()->state() != SessionController::State::Idle &&
      paths.contains(QDir(window_->session()->runDir()).absolutePath())) {
    QMessageBox::warning(window_, "Delete runs", "A run in progress cannot be deleted; stop it first.");
    return;
  }
  if (QMessageBox::question(
          window_, "Delete runs",
          QString("Delete %1 run(s) and every file in them?\n\n%2").arg(paths.size()).arg(paths.join("\n")),
          QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
    return;
  const bool shown = paths.contains(QDir(window_->defaultRunDir()).absolutePath());
  for (const QString& p : paths) {
    QString error;
    if (!deleteRunDir(p, &error)) QMessageBox::warning(window_, "Delete runs", error);
  }
  if (shown) window_->showRun(newRunDir(projectRunsRoot(window_->document()->path())));
  refresh();
}

}  // namespace otcs::workbench
