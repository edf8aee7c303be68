#pragma once
// A run directory's artifacts as QString paths, spelled by the run layout (core/run/layout.h).
#include <QString>
#include <filesystem>

#include "core/run/layout.h"

namespace otcs::workbench {

using RunArtifact = std::filesystem::path (run::RunLayout::*)() const;

// runPath(dir, &run::RunLayout::loss_curve) is DIR/score/loss.csv.
inline QString runPath(const QString& dir, RunArtifact artifact) {
  return QString::fromStdString((run::RunLayout(dir.toStdString()).*artifact)().string());
}

// A stage's done marker: "DIR/<stage>/done.json".
inline QString doneMarkerPath(const QString& dir, const QString& stage) {
  return QString::fromStdString(run::RunLayout(dir.toStdString()).done_marker(stage.toStdString()).string());
}

// The stage folders in pipeline order.
inline QStringList runStageNames() {
  QStringList out;
  for (const char* s : run::kStageDirs) out << QString::fromLatin1(s);
  return out;
}

}  // namespace otcs::workbench
