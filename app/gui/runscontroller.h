#pragma once
// The runs of the open project in the workbench: the Runs view (list, open, fork, warm-start continue, rename,
// delete, compare) and the Previews view (live score-model previews and a run's recorded ones). It reads run
// folders through runsdirectory.h and asks the main window to show or start runs.
#include <QObject>
#include <QStringList>

namespace otcs {
class PreviewView;
class RunsView;
}  // namespace otcs

namespace otcs::workbench {

class MainWindow;

class RunsController : public QObject {
  Q_OBJECT
 public:
  RunsController(MainWindow* window, RunsView* runs, PreviewView* previews);

  // Reads the project's runs folder again (after a run, a rename, a project change).
  void refresh();
  // The previews a run recorded (RUN/score/previews/previews.json), into the Previews view.
  void loadPreviews(const QString& runDir);
  // A new run of the current project beside the others: `reuseFrom` lends its stages of the same configuration,
  // `initFrom` warm-starts the score model from that run. Returns false (and reports) when it cannot start.
  bool startNewRun(const QString& reuseFrom, const QString& initFrom);

 private:
  void compare(const QStringList& paths);
  void rename(const QString& path);
  void remove(const QStringList& paths);

  MainWindow* window_;
  RunsView* runs_;
  PreviewView* previews_;
  bool comparing_ = false;
};

}  // namespace otcs::workbench
