#pragma once
// The workbench's main window: menus, central views, docks, status bar and the open project. Views are plain
// widgets from otcs_widgets; this class only composes them and routes project edits through the undo stack.
#include <QMainWindow>
#include <QPointer>
#include <QStringList>
#include <memory>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QTabWidget;
class QTreeWidget;

namespace otcs {
class FigureSource;
class LogView;
}  // namespace otcs

namespace otcs::workbench {

class GuiLogSink;
class ProjectDocument;
class ProjectOverview;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  ProjectDocument* document() const { return document_; }
  LogView* logView() const { return log_view_; }
  QTabWidget* views() const { return views_; }
  // When false, errors go to the log and the status bar instead of modal dialogs (tests, --screenshot).
  void setInteractive(bool on) { interactive_ = on; }

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
  void updateTitle();

 private:
  void createActions();
  void createDocks();
  void rebuildRecentMenu();
  void addRecent(const QString& path);
  void reportError(const QString& message);
  void readSettings();
  void writeSettings();

  ProjectDocument* document_ = nullptr;
  QTabWidget* views_ = nullptr;
  ProjectOverview* overview_ = nullptr;
  LogView* log_view_ = nullptr;
  QTreeWidget* project_tree_ = nullptr;
  QDockWidget* log_dock_ = nullptr;
  QDockWidget* project_dock_ = nullptr;
  QMenu* view_menu_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QAction* export_action_ = nullptr;
  QLabel* status_project_ = nullptr;
  std::shared_ptr<GuiLogSink> log_sink_;
  bool interactive_ = true;
};

}  // namespace otcs::workbench
