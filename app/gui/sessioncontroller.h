#pragma once
// The controller of translation runs: validates a project, builds its session (core Session) and runs it as a
// job on the worker thread of JobController, whose signals carry the session's events.
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include "app/gui/jobcontroller.h"

namespace otcs::workbench {

struct RunOptions {
  QString runDir;
  QString from, until;      // stage names ("ot", "bridge", "score", "sample", "eval"); empty: none
  double stepsScale = 1.0;  // multiplies the OT iterations and score steps (quick runs)
  QString reuseFrom;        // a base run whose stages of the same configuration are hard-linked (a fork)
};

class SessionController : public JobController {
  Q_OBJECT
 public:
  explicit SessionController(QObject* parent = nullptr) : JobController(parent) {}

  // Validates the project (errors name the JSON path), takes the run directory's writer lock (refused, naming the
  // holder's PID, while another process writes there) and starts the run; false with *error otherwise.
  // RUN/run.json records the run and, once it ends, its outcome (core/run/run_meta.h). The run's figures are
  // drawn when it completes, as `otcs run` draws them.
  bool start(const QJsonObject& project, const QString& projectPath, const RunOptions& options, QString* error);

  static QStringList stageNames();
};

}  // namespace otcs::workbench
