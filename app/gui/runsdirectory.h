#pragma once
// A project's runs on disk: where they live (runs/<project>/<run>, beside projects/ as scripts/run does; a folder
// that is itself a run, as `otcs run --out` writes, is one too), their summaries and curves for the Runs view,
// the comparison of several runs, and renaming and deleting. Plain Qt file reading; the run files are written by
// the core.
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include "core/session/events.h"
#include "widgets/runsview.h"

namespace otcs::workbench {

// The folder holding the runs of the project file `projectPath` (runs/NAME beside projects/, else beside the
// project file; runs/untitled under the working directory for an unsaved project).
QString projectRunsRoot(const QString& projectPath);
// A folder that holds a run (RUN/project.json, or a stage folder of an older run).
bool isRunDir(const QString& dir);
// The runs under `root` (root itself first when it is a run), newest first.
QStringList listRunDirs(const QString& root);
// A new, unused run folder under `root` named by the date and time.
QString newRunDir(const QString& root);
// Where a project's results were before a run was chosen: a run's own copy of its project (RUN/project.json, as
// otcs run writes it) is that run; projects/NAME.json has runs/NAME beside projects/, as `scripts/run` writes.
QString defaultRunDirFor(const QString& projectPath);

RunSummary readRunSummary(const QString& dir);
RunComparison compareRuns(const QStringList& dirs);

struct Curve {
  session::Stage stage = session::Stage::Ot;
  QString series;
  QVector<double> steps, values;
};
// RUN/ot/dual.csv, ot/diagnostics.csv and score/loss.csv as curves (first column the step).
QVector<Curve> readRunCurves(const QString& dir);

// Renames the run's folder within its parent; false with *error (one sentence) when it cannot.
bool renameRunDir(const QString& dir, const QString& name, QString* error);
bool deleteRunDir(const QString& dir, QString* error);

// The per-stage configuration hashes recorded in RUN/<stage>/done.json (stage name -> hash; absent: not done).
QMap<QString, QString> doneHashes(const QString& dir);

}  // namespace otcs::workbench
