#pragma once
// The text the workbench shows for a job's typed events: stage names, what happened to a stage, how a job ended
// and the kinds of finished artifacts. Views compare the enums and ask here for the words.
#include <QString>

#include "core/session/job.h"

namespace otcs::workbench {

QString stageText(session::Stage stage);                // "ot", "bridge", "score", "sample", "eval"
QString stageWhatText(session::StageEvent::What what);  // "started", "resumed", "skipped", "finished", ...
QString jobStatusText(session::JobStatus status);       // "completed", "stopped", "failed"
QString artifactKindText(session::ArtifactKind kind);   // "figure", "model", "aot_chunks", ...

}  // namespace otcs::workbench
