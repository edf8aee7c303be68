#pragma once
// The first page of the workbench: what the open project is (name, file, datasets, pairs, stage settings) as
// a readable summary, and the same JSON as a tree in the project dock.
#include <QJsonObject>
#include <QStringList>
#include <QWidget>

class QLabel;
class QTreeWidget;
class QTreeWidgetItem;

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

// Fills a tree with the project JSON (objects and arrays expand; long arrays are summarised). Scalar leaves
// (numbers, strings, booleans, null) are marked editable; the expansion of items that exist before and after a
// refill is kept. Keys the project schema describes get its description, type, range and default as tooltips
// (projectschema.h). Emits no itemChanged while filling.
void fillJsonTree(QTreeWidget* tree, const QJsonObject& json);

// The settings editor behind the project tree: the JSON path of an item ("stages", "score", "lr"; array elements
// as "[3]"), and an edit of one scalar applied to the project. `text` is parsed as the leaf's current type (a
// number must be a finite number, a boolean true/false; a null leaf takes any JSON). Returns false with *error set
// to one sentence when the text does not fit; on success *topKey and *topValue are the top-level entry to set.
QStringList jsonTreePath(const QTreeWidgetItem* item);
bool applyTreeEdit(const QJsonObject& project, const QStringList& path, const QString& text, QString* topKey,
                   QJsonValue* topValue, QString* error);

}  // namespace otcs::workbench
