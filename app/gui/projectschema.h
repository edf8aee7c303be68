#pragma once
// The published project schema (resources/project.schema.json, built in as :/otcs/project.schema.json) as the
// settings editor uses it: what a key is (description, type, allowed values, range, default), whether a new value
// for it is allowed, the project tree's tooltips and the value column's editors (a list for keys with a fixed set
// of values).
#include <optional>

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QStringList>
#include <QStyledItemDelegate>

class QTreeWidget;

namespace otcs::workbench {

// What the schema says about one key. Where several subschemas apply (a $ref with its own description, allOf,
// the branches of oneOf/anyOf that fit the value) the first one that says something wins, outermost first.
struct SchemaInfo {
  bool known = false;  // the schema describes the key
  QString description;
  QStringList types;   // JSON Schema types, in the schema's order
  QJsonArray choices;  // enum, or the const as its single value
  bool isConst = false;
  std::optional<double> minimum, maximum;  // bounds and whether each excludes its value
  bool exclusiveMinimum = false, exclusiveMaximum = false;
  int minLength = 0;
  QString pattern;
  QJsonValue defaultValue = QJsonValue(QJsonValue::Undefined);

  // What the key takes, e.g. "integer ≥ 1" or "one of: ancestral, ddim, em"; `article` for a sentence ("an
  // integer ≥ 1"). Empty when the schema names no type or values.
  QString allowed(bool article = false) const;
  // The tooltip's short line: allowed() and the default, e.g. "integer ≥ 1, default 3000".
  QString summary() const;
};

class ProjectSchema {
 public:
  explicit ProjectSchema(const QJsonObject& root);
  // The schema built into the binary (empty, and then describing nothing, if the resource cannot be read).
  static const ProjectSchema& bundled();

  bool isValid() const { return !root_.isEmpty(); }
  // `path` as JSON Pointer tokens ({"stages", "score", "steps"}; array elements by index, {"classes", "0"}).
  // `project` picks the branches that apply (a generation project by its "kind", a dataset by its keys); without
  // it every branch contributes.
  SchemaInfo lookup(const QStringList& path, const QJsonValue& project = QJsonValue(QJsonValue::Undefined)) const;
  SchemaInfo lookup(const QString& pointer, const QJsonValue& project = QJsonValue(QJsonValue::Undefined)) const;
  // Whether `value` is allowed at `path` of `project` (the project with the value in place). A key the schema
  // does not describe takes anything. On refusal *error is one sentence naming `name` and what is allowed.
  bool check(const QStringList& path, const QJsonValue& value, const QJsonValue& project, const QString& name,
             QString* error) const;
  // Whether `value` is valid against `schema` (a subschema of this one): the keywords a project file uses.
  bool validate(const QJsonValue& schema, const QJsonValue& value, int depth = 0) const;

  // A place in a project, for walking it key by key as the project tree does: the subschemas that describe the
  // value there, the project's value there, and every subschema that applies to it ($ref, allOf, the branches it
  // takes). `schemas` is empty where the schema does not describe the key.
  struct Node {
    QList<QJsonValue> schemas;
    QJsonValue instance;
    QList<QJsonObject> applying;
  };
  Node root(const QJsonValue& project) const;
  Node child(const Node& parent, const QString& token) const;
  SchemaInfo info(const Node& node) const;

  static QStringList pointerTokens(const QString& pointer);  // "/a/b~1c/0" → {"a", "b/c", "0"}

 private:
  QJsonValue resolve(const QString& ref) const;
  void expand(const QJsonValue& schema, const QJsonValue& instance, QList<QJsonObject>& out, int depth) const;
  Node node(const QList<QJsonValue>& schemas, const QJsonValue& instance) const;
  Node walk(const QStringList& path, const QJsonValue& project) const;

  QJsonObject root_;
};

// The project tree's path of an item ({"data", "keypoints", "[0]", "source"}) as schema path tokens.
QStringList schemaPath(const QStringList& treePath);

// applyTreeEdit (projectoverview.h) checked against the bundled schema: a text of the wrong type, outside the
// key's range or not among its values is refused with one sentence naming the key and what it takes.
bool applyCheckedTreeEdit(const QJsonObject& project, const QStringList& treePath, const QString& text, QString* topKey,
                          QJsonValue* topValue, QString* error);

// The role of a value cell that holds the values its key may take (a QStringList: the enum, or true/false).
constexpr int kSchemaChoicesRole = Qt::UserRole + 2;

// Gives the items of a tree filled by fillJsonTree the schema's tooltips (description and summary, on both
// columns) and their choices; keys the schema does not describe keep the tree's own text.
void describeJsonTree(QTreeWidget* tree, const QJsonObject& project);

// The project tree's value column: a list of the allowed values for a key with choices, the usual line editor
// otherwise. Picking a value commits it.
class ProjectValueDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  void setEditorData(QWidget* editor, const QModelIndex& index) const override;
  void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
};

}  // namespace otcs::workbench
