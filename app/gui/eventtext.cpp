#include "app/gui/eventtext.h"

namespace otcs::workbench {

QString stageText(session::Stage stage) { return QString::fromLatin1(session::stage_name(stage)); }

QString stageWhatText(session::StageEvent::What what) {
  using W = session::StageEvent::What;
  switch (what) {
    case W::Started:
      return "started";
    case W::Resumed:
      return "resumed";
    case W::Skipped:
      return "skipped";
    case W::Finished:
      return "finished";
    case W::Stopped:
      return "stopped";
    case W::Failed:
      return "failed";
  }
  return "?";
}

QString jobStatusText(session::JobStatus status) {
  switch (status) {
    case session::JobStatus::Completed:
      return "completed";
    case session::JobStatus::Stopped:
      return "stopped";
    case session::JobStatus::Failed:
      return "failed";
  }
  return "?";
}

QString artifactKindText(session::ArtifactKind kind) { return QString::fromLatin1(session::artifact_kind_name(kind)); }

}  // namespace otcs::workbench
