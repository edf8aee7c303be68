#pragma once
// The Methods tab's controls for generation projects: choose how the project trains (plain EDM,
// or AOT with its chunk size) and how it samples (Heun, or DPM-OT with M and the source distribution), stored
// in the project as undoable edits (train.method, train.aot, train.steps, dpmot.M, dpmot.source), and run the
// work: training (otcs gen-train into RUN/edm or RUN/aot, as aot-compare lays them out), DPM-OT sampling on
// the chosen model (otcs dpmot into RUN/dpmot-m<M>) and the with/without-AOT comparison (otcs aot-compare).
// The work runs in an `otcs` child process beside this executable, so a long training neither blocks nor can
// take down the workbench; its log lines stream into the log, its losses into the Losses page, its progress
// into the bar; Stop terminates it (a training restarts: gen-train has no checkpoints). When a command
// finishes the main window reloads the Methods diagnostics from RUN.
#include <functional>

#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QWidget>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace otcs::workbench {

class MethodsRunner : public QWidget {
  Q_OBJECT
 public:
  enum class Action { Train, Sample, Compare };

  explicit MethodsRunner(QWidget* parent = nullptr);
  ~MethodsRunner() override;

  // A generation project (its file, JSON and run directory); the controls show its settings. An empty path or
  // a project of another kind disables the runner.
  void setProject(const QString& projectPath, const QJsonObject& json, const QString& runDir);
  // The `otcs` executable (default: beside this application, else on PATH).
  void setProgram(const QString& program) { program_ = program; }
  QString program() const { return program_; }
  void setThreads(int threads) { threads_ = threads; }
  // Called before a command starts, so the child reads the settings shown (e.g. saves a modified project);
  // returns false with *error set to stop the start.
  void setBeforeStart(std::function<bool(QString*)> hook) { before_start_ = std::move(hook); }

  // The command line an action runs with the current settings (without the program).
  QStringList arguments(Action action) const;
  // Where the model of the chosen training method lives: RUN/edm or RUN/aot.
  QString modelDir() const;
  bool hasModel() const;  // modelDir() holds model.pt (gen-train's last act)
  bool trainsWithAot() const;  // the project's train.method
  bool busy() const { return process_ && process_->state() != QProcess::NotRunning; }
  bool start(Action action, QString* error = nullptr);
  void stop();

  // One log line of a child process parsed: "edm step 100/600: loss 0.9651 ..." gives (step, total, loss).
  static bool parseStepLine(const QString& line, qint64* step, qint64* total, double* loss);

 signals:
  // An edit of a top-level key of the project (the main window puts it on the undo stack).
  void projectEdit(const QString& key, const QJsonValue& value, const QString& text);
  void logLine(int level, const QString& text);
  void lossPoint(const QString& series, double step, double loss);
  void finished(bool ok, const QString& runDir);

 private:
  void syncControls();
  void editSetting(const QString& section, const QString& key, const QJsonValue& value);
  void onOutput();
  void onFinished(int code, QProcess::ExitStatus status);

  QComboBox* method_ = nullptr;
  QSpinBox* chunk_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QSpinBox* m_ = nullptr;
  QComboBox* source_ = nullptr;
  QPushButton* train_ = nullptr;
  QPushButton* sample_ = nullptr;
  QPushButton* compare_ = nullptr;
  QPushButton* stop_ = nullptr;
  QProgressBar* bar_ = nullptr;
  QLabel* status_ = nullptr;

  QString project_path_, run_dir_, program_;
  QJsonObject json_;
  int threads_ = 0;
  std::function<bool(QString*)> before_start_;
  bool syncing_ = false;
  QProcess* process_ = nullptr;
  QString pending_;       // a partial output line
  QString series_;        // the loss series of the running training
  QString action_text_;
};

}  // namespace otcs::workbench
