#pragma once
// The first page of the workbench: what the open project is (name, file, datasets, pairs, stage settings) as
// a readable summary, and the same JSON as a tree in the project dock.
#include <QJsonObject>
#include <QWidget>

class QLabel;
class QTreeWidget;

namespace otcs::workbench {

class ProjectOverview : public QWidget {
  Q_OBJECT
 public:
  explicit ProjectOverview(QWidget* parent = nullptr);
  void setProject(const QJsonObject& json, const QString& path, const QString& error = QString());
  QString summaryText() const;

 private:
  QLabel* summary_ = nullptr;
};

// Fills a tree with the project JSON (objects and arrays expand; long arrays are summarised).
void fillJsonTree(QTreeWidget* tree, const QJsonObject& json);

}  // namespace otcs::workbench
