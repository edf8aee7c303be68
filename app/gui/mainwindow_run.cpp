// MainWindow: run coordination. Starts runs with the Run dock's options, routes the session's events to the
// views, reloads a run's artifacts (curves, H, trajectories, previews, metrics) when a stage ends or a run is
// shown, and marks each stage done, stale or not run.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QMessageBox>
#include <QPushButton>
#include <QStatusBar>
#include <spdlog/spdlog.h>

#include "app/gui/lossespage.h"
#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/runpanel.h"
#include "app/gui/runpaths.h"
#include "app/gui/runscontroller.h"
#include "app/gui/runsdirectory.h"
#include "app/gui/sessioncontroller.h"
#include "core/run/layout.h"
#include "widgets/evaluationview.h"
#include "widgets/lossplot.h"
#include "widgets/matrixinspector.h"
#include "widgets/methodsview.h"
#include "widgets/previewview.h"
#include "widgets/trajectoryplayer.h"

namespace otcs::workbench {

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
      const QPointF sp =
          f.source >= 0 && f.source < data().source.size() ? data().source[int(f.source)] : QPointF(qQNaN(), qQNaN());
      trajectories_->appendFrame(f.source, f.count, f.dim, f.frame, sp);
    }
  });
  connect(session_, &SessionController::stageEvent, this,
          [this](session::Stage stage, session::StageEvent::What what, const QString& detail) {
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
                  losses_->addPoints(session::Stage::Ot, "dual", steps, values);
                }
                losses_->loadOtDiagnostics(runPath(dir, &run::RunLayout::ot_diagnostics));
              } else if (stage == S::Score) {
                QVector<double> steps, values;
                if (loadCurve(runPath(dir, &run::RunLayout::loss_curve), &steps, &values) && !steps.isEmpty()) {
                  losses_->scorePlot()->clearData();
                  losses_->addPoints(session::Stage::Score, "loss", steps, values);
                }
              } else if (stage == S::Bridge && what == W::Skipped) {
                loadH(runPath(dir, &run::RunLayout::h));
              } else if (stage == S::Sample && what != W::Stopped) {
                loadTrajectoryFile(runPath(dir, &run::RunLayout::trajectories));
              } else if (stage == S::Eval && what != W::Stopped) {
                loadEvaluation(dir);
              }
            }
          });
  connect(session_, &SessionController::finished, this,
          [this](session::JobStatus status, const QString& message, bool user_error) {
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

QString MainWindow::defaultRunDir() const {
  if (!run_dir_.isEmpty() && run_dir_project_ == document_->path()) return run_dir_;
  return defaultRunDirFor(document_->path());
}

QJsonObject MainWindow::currentProjectJson() const { return document_->resolvedJson(); }

QJsonObject MainWindow::projectJsonFor(const QString& runDir) const {
  // A rule and the pairs it chooses train the same model but hash differently: keep the form the run used, so a
  // run made from the command line is neither shown stale nor recomputed when continued here.
  const QJsonObject resolved = document_->resolvedJson(), written = document_->json();
  if (resolved == written) return resolved;
  const QMap<QString, QString> done = doneHashes(runDir);
  if (done.isEmpty()) return resolved;
  auto matches = [&](const QJsonObject& json) {
    const QMap<QString, QString> now = stageHashes(json, document_->path());
    int n = 0;
    for (auto it = done.begin(); it != done.end(); ++it) n += now.value(it.key()) == it.value();
    return n;
  };
  return matches(written) > matches(resolved) ? written : resolved;
}

bool MainWindow::canRun() {
  if (!run_panel_->pipelineAvailable()) {
    reportError(kGenerationRunHint);
    return false;
  }
  if (!data().ok()) {
    reportError(data().error);
    return false;
  }
  return true;
}

bool MainWindow::startRun() {
  if (!canRun()) return false;
  const QString dir = run_panel_->options().runDir;
  // A run folder holds one configuration: a changed project starts a new run beside it (reusing the stages that
  // did not change) unless the user continues in this folder, which re-runs the stale stages there.
  const QMap<QString, QString> done = doneHashes(dir), now = stageHashes(projectJsonFor(dir), document_->path());
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

bool MainWindow::startRunIn(const QString& dir, const QString& reuseFrom, const QString& initFrom) {
  if (!canRun()) return false;
  QJsonObject json = projectJsonFor(reuseFrom.isEmpty() ? dir : reuseFrom);
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
  const auto t = loadTrajectories(path, data().source, &error);
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
  // Generation trainings' Fréchet-distance curves (fd.csv), one series per training directory ("edm fd").
  if (runDir.isEmpty() || !QDir(runDir).exists()) return;
  losses_->fdPlot()->removeSeries();
  losses_->fdPlot()->hide();  // shown again by the first curve found
  QDirIterator it(runDir, {run::file::kFdCurve}, QDir::Files, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString path = it.next();
    QVector<double> steps, values;
    if (!loadCurve(path, &steps, &values) || steps.isEmpty()) continue;
    losses_->addPoints(session::Stage::Score, QFileInfo(path).dir().dirName() + " fd", steps, values);
  }
}

void MainWindow::loadEvaluation(const QString& runDir) {
  const RunEvaluation e = loadRunEvaluation(runDir);
  if (!e.error.isEmpty()) spdlog::warn("evaluation: {}", e.error.toStdString());
  if (e.isEmpty()) {
    evaluation_->clear(e.error.isEmpty() ? QString() : "The run's evaluation could not be read: " + e.error);
    return;
  }
  evaluation_->setEvaluation(QString("Evaluation of %1").arg(QDir::toNativeSeparators(runDir)), e.metrics, e.confusion,
                             e.superResolution);
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
  loadEvaluation(runDir);
  QFile metrics(runPath(runDir, &run::RunLayout::metrics));
  if (metrics.open(QIODevice::ReadOnly)) {
    QVector<QPair<QString, double>> rows;
    const QJsonObject o = QJsonDocument::fromJson(metrics.readAll()).object();
    for (auto it = o.begin(); it != o.end(); ++it)
      if (it.value().isDouble()) rows.push_back({it.key(), it.value().toDouble()});
    run_panel_->setMetrics(rows);
  }
}

void MainWindow::updateStageStatus() {
  if (!run_panel_->pipelineAvailable() || session_->state() != SessionController::State::Idle) return;
  // RUN/<stage>/done.json is each stage's last act (session::mark_done), with the configuration hash it ran: the
  // moment an edit changes a stage's hash, that stage (and everything after it) is stale, before anything runs.
  const QMap<QString, QString> done = doneHashes(run_panel_->options().runDir);
  const QMap<QString, QString> now = stageHashes(projectJsonFor(run_panel_->options().runDir), document_->path());
  for (const QString& stage : SessionController::stageNames()) {
    if (!done.contains(stage))
      run_panel_->onStageEvent(stage, "–", "");
    else if (!now.isEmpty() && done[stage] != now.value(stage))
      run_panel_->onStageEvent(stage, "stale", "its settings changed since this run: it runs again");
    else
      run_panel_->onStageEvent(stage, "done", "from an earlier run");
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

}  // namespace otcs::workbench
