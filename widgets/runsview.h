#pragma once
// The runs of a project, listed with status, start time, duration and main metrics (sortable), and the side by
// side comparison of the selected ones: a metric table, the settings that differ, and one image per run (its
// latest preview). Plain data in, requests out: the application reads and changes run directories.
#include <QDateTime>
#include <QImage>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableWidget;
class QHBoxLayout;

namespace otcs {

struct RunSummary {
  QString name, path;
  QString status;                           // completed, stopped, failed, running, partial (last stage)
  QDateTime started;                        // invalid when unknown
  double seconds = -1;                      // wall time, < 0 when unknown
  QVector<QPair<QString, double>> metrics;  // main scalars (metrics.json)
};

struct RunComparison {
  QStringList runs;                                       // names, in column order
  QVector<QPair<QString, QVector<QString>>> metrics;      // metric -> value per run ("" when absent)
  QVector<QPair<QString, QVector<QString>>> differences;  // project key -> value per run
  QVector<QImage> images;                                 // per run (null when none)
};

class RunsView : public QWidget {
  Q_OBJECT
 public:
  explicit RunsView(QWidget* parent = nullptr);
  void setRuns(const QVector<RunSummary>& runs);
  void setComparison(const RunComparison& comparison);
  void setCurrentRun(const QString& path);  // marks the run the workbench shows
  QStringList selectedPaths() const;
  void selectPaths(const QStringList& paths);
  QTableWidget* table() const { return table_; }
  QTableWidget* metricTable() const { return metric_table_; }
  QTableWidget* diffTable() const { return diff_table_; }
  int runCount() const;

 signals:
  void selectionChanged(const QStringList& paths);
  void openRequested(const QString& path);
  void forkRequested(const QString& path);      // a new run from this one (its equal stages reused)
  void continueRequested(const QString& path);  // a new run warm-started from this one's model
  void renameRequested(const QString& path);
  void deleteRequested(const QStringList& paths);
  void refreshRequested();

 private:
  void updateButtons();

  QTableWidget* table_ = nullptr;
  QTableWidget* metric_table_ = nullptr;
  QTableWidget* diff_table_ = nullptr;
  QWidget* images_ = nullptr;
  QHBoxLayout* images_layout_ = nullptr;
  QLabel* compare_title_ = nullptr;
  QPushButton *open_ = nullptr, *fork_ = nullptr, *continue_ = nullptr, *rename_ = nullptr, *delete_ = nullptr;
  QString current_;
};

}  // namespace otcs
