#pragma once
// The workbench's main window: menus, central views, docks and status bar around the project model (JSON, pairs,
// undo stack), which every edit goes through. Views are plain widgets from otcs_widgets that request edits from the
// model and observe it. The implementation is split by concern: mainwindow.cpp composes, mainwindow_menus.cpp
// (actions), mainwindow_files.cpp (open, save, recent, import, settings edits), mainwindow_export.cpp (figures,
// strips, videos), mainwindow_data.cpp (the project's data into the views), mainwindow_run.cpp (run events into
// the views, artifacts reloaded, stage status).
#include <QMainWindow>
#include <QPointer>
#include <QStringList>
#include <functional>
#include <memory>

#include "app/gui/coreadapter.h"

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QTabWidget;
class QTreeWidget;

namespace otcs {
class DatasetBrowser;
class EvaluationView;
class FigureSource;
class LogView;
class MatrixInspector;
class MethodsView;
class PairEditor;
class PreviewView;
class RunsView;
class TrajectoryPlayer;
}  // namespace otcs

namespace otcs::workbench {

class GuiLogSink;
class ImportDialog;
class LossesPage;
class MethodsRunner;
class ProjectModel;
class ProjectOverview;
class RunPanel;
class RunsController;
class SessionController;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // The project model: JSON, keypoint pairs, undo stack.
  ProjectModel* document() const { return document_; }
  LogView* logView() const { return log_view_; }
  QTabWidget* views() const { return views_; }
  DatasetBrowser* datasetBrowser() const { return datasets_; }
  PairEditor* pairEditor() const { return pair_editor_; }
  LossesPage* lossesPage() const { return losses_; }
  MatrixInspector* hInspector() const { return h_inspector_; }
  TrajectoryPlayer* trajectoryPlayer() const { return trajectories_; }
  MethodsView* methodsView() const { return methods_; }
  PreviewView* previewView() const { return previews_; }
  EvaluationView* evaluationView() const { return evaluation_; }
  RunsView* runsView() const { return runs_view_; }
  RunsController* runsController() const { return runs_; }
  MethodsRunner* methodsRunner() const { return methods_runner_; }
  // Loads a cell_measures.npy or aot_chunks.csv into the Methods page; false (and reported) on a bad file.
  bool openMethodsFile(const QString& path);
  SessionController* session() const { return session_; }
  RunPanel* runPanel() const { return run_panel_; }
  const ProjectData& projectData() const;
  // The settings editor (the project dock's tree): sets the scalar at `path` (e.g. {"stages", "score", "lr"})
  // from `text`, parsed as the value's type and checked against the project schema, as one undoable edit. A text
  // that does not fit changes nothing and the status bar says what the key takes; returns whether it was accepted.
  bool editProjectValue(const QStringList& path, const QString& text);
  // File > Import dataset…: the dialog (after `prepare`, used by tests to fill and accept it); an accepted import
  // replaces data.<side> as one undoable edit. Returns whether one was applied.
  bool importDatasetDialog(const std::function<void(ImportDialog&)>& prepare = {});
  QTreeWidget* projectTree() const { return project_tree_; }
  // The project as a run copies it: the model's JSON with its pairs as an explicit data.keypoints list.
  QJsonObject currentProjectJson() const;
  // The project as a run in `runDir` should see it: as written (a keypoint rule stays a rule) when that is how the
  // run's finished stages were configured (a run of `otcs run` on the file), else with the pairs resolved.
  QJsonObject projectJsonFor(const QString& runDir) const;
  // Starts the pipeline with the Run dock's options; false (and reported) when it cannot start.
  bool startRun();
  // Starts the current project in `dir`: `reuseFrom` lends the stages it finished with the same configuration,
  // `initFrom` (a run) warm-starts the score model (stages.score.init_from in the run's copy of the project).
  bool startRunIn(const QString& dir, const QString& reuseFrom = QString(), const QString& initFrom = QString());
  // Shows a run's results in every view and makes it the run the Run dock continues.
  void showRun(const QString& dir);
  // Marks each stage of the shown run done, stale (its configuration changed since) or not run.
  void updateStageStatus();
  // Loads the artifacts an earlier run left in the run directory (curves, H, trajectories, metrics).
  void loadRunArtifacts(const QString& runDir);
  void loadMethodsFiles(const QString& runDir);
  // The run's eval (metrics.json, its confusion matrix, a super-resolution grid) into the Evaluation view.
  void loadEvaluation(const QString& runDir);
  QString defaultRunDir() const;
  // Whether an image project's data is still being loaded off the GUI thread (the views show the old data).
  bool isLoadingData() const { return loading_; }
  // When false, errors go to the log and the status bar instead of modal dialogs (tests, --screenshot).
  void setInteractive(bool on) { interactive_ = on; }

  // What File → Export trajectory strip / video write, without the file dialog; false (and reported) on failure.
  bool writeTrajectoryStrip(const QString& path);
  bool writeTrajectoryVideo(const QString& path);

  bool openProject(const QString& path);
  bool saveProject(const QString& path);
  // Exports the current view (or `view`) to `path`; format from the suffix. Returns false and reports on failure.
  bool exportFigure(const QString& path, QWidget* view = nullptr, double scale = 2.0);
  FigureSource* currentFigureSource() const;
  QStringList recentProjects() const;
  // Asks to save unsaved changes; false when the user cancels.
  bool maybeSave();

 protected:
  void closeEvent(QCloseEvent* event) override;

 private slots:
  void newProject();
  void openProjectDialog();
  bool save();
  bool saveAs();
  void exportFigureDialog();
  void about();
  void refreshProject();
  void reloadProjectData();
  void onValueChanged(const QString& key);
  void updateTitle();
  void exportTrajectoryStrip();
  void exportTrajectoryVideo();
  void openMethodsFileDialog();

 private:
  static constexpr const char* kGenerationRunHint =
      "A generation project (DPM-OT / AOT) has no OTCS stages: train, sample and compare it from the Methods tab.";

  void createActions();
  void createDocks();
  void createViews();
  void connectSession();
  void loadH(const QString& path);
  void loadTrajectoryFile(const QString& path);
  void rebuildRecentMenu();
  void addRecent(const QString& path);
  void reportError(const QString& message);
  void applyProjectData(ProjectData loaded);
  const ProjectData& data() const { return projectData(); }
  void readSettings();
  void fitToScreen();
  bool canRun();  // reports why not
  void writeSettings();

  ProjectModel* document_ = nullptr;
  QTabWidget* views_ = nullptr;
  ProjectOverview* overview_ = nullptr;
  LogView* log_view_ = nullptr;
  QTreeWidget* project_tree_ = nullptr;
  QDockWidget* log_dock_ = nullptr;
  QDockWidget* project_dock_ = nullptr;
  QDockWidget* run_dock_ = nullptr;
  DatasetBrowser* datasets_ = nullptr;
  PairEditor* pair_editor_ = nullptr;
  LossesPage* losses_ = nullptr;
  MatrixInspector* h_inspector_ = nullptr;
  TrajectoryPlayer* trajectories_ = nullptr;
  MethodsView* methods_ = nullptr;
  PreviewView* previews_ = nullptr;
  EvaluationView* evaluation_ = nullptr;
  RunsView* runs_view_ = nullptr;
  RunsController* runs_ = nullptr;
  QString run_dir_;          // the run the views show and the Run dock continues
  QString run_dir_project_;  // the project file run_dir_ was chosen for
  MethodsRunner* methods_runner_ = nullptr;
  QWidget* methods_page_ = nullptr;  // the Methods tab: the runner above the diagnostics
  SessionController* session_ = nullptr;
  RunPanel* run_panel_ = nullptr;
  std::shared_ptr<const SparseMatrixData> h_;
  QMenu* view_menu_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QAction* export_action_ = nullptr;
  QLabel* status_project_ = nullptr;
  QProgressBar* busy_ = nullptr;  // the status bar's busy indicator while image data loads
  quint64 load_generation_ = 0;   // a newer reload drops an older background load's result
  bool loading_ = false;
  std::shared_ptr<GuiLogSink> log_sink_;
  bool interactive_ = true;
};

}  // namespace otcs::workbench
