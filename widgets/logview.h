#pragma once
// The log dock's content: coloured lines with a level filter and a bounded history. appendLine is safe to call
// from any thread (it re-posts itself to the GUI thread), so a logging sink on a worker can feed it directly.
#include <QStringList>
#include <QVector>
#include <QWidget>

class QComboBox;
class QPlainTextEdit;

namespace otcs {

class LogView : public QWidget {
  Q_OBJECT
 public:
  // Levels follow spdlog's numbering: 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 critical.
  explicit LogView(QWidget* parent = nullptr);

  void setMaximumLines(int lines);
  int lineCount() const;        // lines currently kept (all levels)
  QString visibleText() const;  // what the user sees under the current filter
  void setMinimumLevel(int level);
  int minimumLevel() const { return min_level_; }

 public slots:
  void appendLine(int level, const QString& text);
  void clear();

 signals:
  void errorLogged(const QString& text);

 private:
  void rebuild();
  void appendToView(int level, const QString& text);

  struct Line {
    int level;
    QString text;
  };
  QPlainTextEdit* text_ = nullptr;
  QComboBox* level_box_ = nullptr;
  QVector<Line> lines_;
  int max_lines_ = 5000;
  int min_level_ = 2;
};

}  // namespace otcs
