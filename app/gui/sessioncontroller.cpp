#include "app/gui/sessioncontroller.h"

#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/preview.h"
#include "core/imaging/run_figures.h"
#endif

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>

#include "core/common/error.h"
#include "core/run/run_meta.h"
#include "core/session/session.h"

namespace otcs::workbench {

QStringList SessionController::stageNames() {
  QStringList names;
  for (auto s : session::kStages) names << session::stage_name(s);
  return names;
}

bool SessionController::start(const QJsonObject& project, const QString& projectPath, const RunOptions& options,
                              QString* error) {
  if (state() != State::Idle) {
    *error = "A run is already in progress.";
    return false;
  }
  if (options.runDir.isEmpty()) {
    *error = "The run needs a directory for its results.";
    return false;
  }
  std::unique_ptr<session::Session> session;
  std::unique_ptr<run::RunRecord> record;
  try {
    const QFileInfo info(projectPath);
    const std::string name = projectPath.isEmpty() ? "project" : projectPath.toStdString();
    const std::string dir = projectPath.isEmpty() ? QDir::currentPath().toStdString()
                                                  : session::project_base_dir(projectPath.toStdString());
    session::Project p = session::parse_project(QJsonDocument(project).toJson().toStdString(), name, dir);
    p.path = projectPath.isEmpty() ? std::string() : info.absoluteFilePath().toStdString();
    p.dir = dir;
    if (options.stepsScale != 1.0) session::scale_steps(p, options.stepsScale);
    session::SessionOptions so;
    so.out_dir = options.runDir.toStdString();
    so.reuse_from = options.reuseFrom.toStdString();
#ifdef OTCS_HAVE_IMAGING
    so.preview_writer = imaging::write_preview_png;
    so.figure_writer = imaging::render_run_figures;
#endif
    if (!options.from.isEmpty()) so.from = session::parse_stage(options.from.toStdString());
    if (!options.until.isEmpty()) so.until = session::parse_stage(options.until.toStdString());
    session = std::make_unique<session::Session>(std::move(p), so);
    record = std::make_unique<run::RunRecord>(so.out_dir, commandLine(), so.device);
  } catch (const UserError& e) {
    *error = QString::fromStdString(e.what());
    return false;
  }
  return startJob(std::move(session), std::move(record), error);
}

}  // namespace otcs::workbench
