#include "app/gui/projectschema.h"

#include <cmath>

#include <spdlog/spdlog.h>
#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSignalBlocker>
#include <QTreeWidget>

#include "app/gui/projectoverview.h"
#include "app/gui/workbenchapp.h"

namespace otcs::workbench {
namespace {

constexpr int kMaxDepth = 64;  // $ref chains and nesting; the schema is far shallower

QString number(double d) { return QString::number(d, 'g', 10); }

// A value as the tree shows it: strings bare, numbers short, lists and objects as compact JSON.
QString valueText(const QJsonValue& v) {
  switch (v.type()) {
    case QJsonValue::Bool:
      return v.toBool() ? "true" : "false";
    case QJsonValue::Double:
      return number(v.toDouble());
    case QJsonValue::String:
      return v.toString();
    case QJsonValue::Null:
      return "null";
    case QJsonValue::Array:
      return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)).replace(",", ", ");
    case QJsonValue::Object:
      return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact)).replace(",", ", ");
    default:
      return QString();
  }
}

bool typeAccepts(const QString& type, const QJsonValue& v) {
  if (type == "integer") return v.isDouble() && std::isfinite(v.toDouble()) && std::floor(v.toDouble()) == v.toDouble();
  if (type == "number") return v.isDouble();
  if (type == "string") return v.isString();
  if (type == "boolean") return v.isBool();
  if (type == "array") return v.isArray();
  if (type == "object") return v.isObject();
  if (type == "null") return v.isNull();
  return true;  // a type this reader does not know does not refuse
}

QStringList typeList(const QJsonValue& type) {
  if (type.isString()) return {type.toString()};
  QStringList types;
  for (const QJsonValue& t : type.toArray()) types << t.toString();
  return types;
}

bool typeFits(const QJsonValue& type, const QJsonValue& v) {
  for (const QString& t : typeList(type))
    if (typeAccepts(t, v)) return true;
  return false;
}

// The value at JSON Pointer tokens `path` inside `node` (Undefined when there is none).
QJsonValue valueAt(const QJsonValue& node, const QStringList& path) {
  QJsonValue v = node;
  for (const QString& token : path) {
    if (v.isObject()) {
      v = v.toObject().value(token);
    } else if (v.isArray()) {
      bool ok = false;
      const int i = token.toInt(&ok);
      v = ok ? v.toArray().at(i) : QJsonValue(QJsonValue::Undefined);
    } else {
      return QJsonValue(QJsonValue::Undefined);
    }
  }
  return v;
}

}  // namespace

// --- SchemaInfo ------------------------------------------------------------------------------------------------

QString SchemaInfo::allowed(bool article) const {
  if (isConst && !choices.isEmpty()) return article ? valueText(choices.at(0)) : "always " + valueText(choices.at(0));
  if (!choices.isEmpty()) {
    QStringList values;
    for (const QJsonValue& c : choices) values << valueText(c);
    return "one of: " + values.join(", ");
  }
  QStringList parts;
  for (const QString& type : types) {
    QString part;
    if (type == "integer" || type == "number") {
      part = type == "integer" ? (article ? "an integer" : "integer") : (article ? "a number" : "number");
      QStringList bounds;
      if (minimum) bounds << QString(exclusiveMinimum ? "> %1" : "≥ %1").arg(number(*minimum));
      if (maximum) bounds << QString(exclusiveMaximum ? "< %1" : "≤ %1").arg(number(*maximum));
      if (!bounds.isEmpty()) part += " " + bounds.join(" and ");
    } else if (type == "string") {
      part = minLength > 0 ? "non-empty text" : "text";
      if (article && !pattern.isEmpty()) part += " matching " + pattern;
    } else if (type == "boolean") {
      part = "true or false";
    } else if (type == "array") {
      part = article ? "a list" : "list";
    } else if (type == "object") {
      part = article ? "an object" : "object";
    } else {
      part = type;
    }
    parts << part;
  }
  return parts.join(" or ");
}

QString SchemaInfo::summary() const {
  if (types == QStringList{"object"} && choices.isEmpty()) return QString();  // the description says what it holds
  QString line = allowed();
  if (!defaultValue.isUndefined() && !isConst) {
    const QString shown =
        defaultValue.isString() && defaultValue.toString().isEmpty() ? "empty" : valueText(defaultValue);
    line += (line.isEmpty() ? "default " : ", default ") + shown;
  }
  return line;
}

// --- ProjectSchema ---------------------------------------------------------------------------------------------

ProjectSchema::ProjectSchema(const QJsonObject& root) : root_(root) {}

const ProjectSchema& ProjectSchema::bundled() {
  static const ProjectSchema schema = [] {
    initResources();  // the resources live in a static library
    QFile file(":/otcs/project.schema.json");
    QJsonObject root;
    if (file.open(QIODevice::ReadOnly)) root = QJsonDocument::fromJson(file.readAll()).object();
    if (root.isEmpty()) spdlog::warn("the project schema is not built in: settings are checked by type only");
    return ProjectSchema(root);
  }();
  return schema;
}

QStringList ProjectSchema::pointerTokens(const QString& pointer) {
  QStringList tokens = pointer.split('/');
  if (!tokens.isEmpty() && tokens.first().isEmpty()) tokens.removeFirst();
  for (QString& t : tokens) t.replace("~1", "/").replace("~0", "~");
  return tokens;
}

QJsonValue ProjectSchema::resolve(const QString& ref) const {
  if (!ref.startsWith('#')) return QJsonValue(QJsonValue::Undefined);  // only references into this schema
  return valueAt(root_, pointerTokens(ref.mid(1)));
}

// Appends the subschemas that apply at this point of `instance` to `out`, outermost first: `schema` itself, its
// $ref, every allOf, the oneOf/anyOf branches the instance fits (those of its type when it fits none, all without
// an instance) and the then or else of an if (both without an instance).
void ProjectSchema::expand(const QJsonValue& schema, const QJsonValue& instance, QList<QJsonObject>& out,
                           int depth) const {
  if (!schema.isObject() || depth > kMaxDepth) return;
  const QJsonObject s = schema.toObject();
  out.append(s);
  if (s.contains("$ref")) expand(resolve(s.value("$ref").toString()), instance, out, depth + 1);
  for (const QJsonValue& sub : s.value("allOf").toArray()) expand(sub, instance, out, depth + 1);
  for (const char* key : {"oneOf", "anyOf"}) {
    const QJsonArray branches = s.value(key).toArray();
    QList<QJsonValue> chosen;
    if (!instance.isUndefined()) {
      for (const QJsonValue& b : branches)
        if (validate(b, instance, depth + 1)) chosen << b;
      if (chosen.isEmpty())
        for (const QJsonValue& b : branches)
          if (!b.toObject().contains("type") || typeFits(b.toObject().value("type"), instance)) chosen << b;
    }
    if (chosen.isEmpty()) chosen = QList<QJsonValue>(branches.begin(), branches.end());
    for (const QJsonValue& b : chosen) expand(b, instance, out, depth + 1);
  }
  if (s.contains("if")) {
    const bool known = !instance.isUndefined();
    const bool holds = known && validate(s.value("if"), instance, depth + 1);
    if (!known || holds) expand(s.value("then"), instance, out, depth + 1);
    if (!known || !holds) expand(s.value("else"), instance, out, depth + 1);
  }
}

ProjectSchema::Node ProjectSchema::node(const QList<QJsonValue>& schemas, const QJsonValue& instance) const {
  Node n{schemas, instance, {}};
  for (const QJsonValue& s : schemas) expand(s, instance, n.applying, 0);
  return n;
}

ProjectSchema::Node ProjectSchema::root(const QJsonValue& project) const {
  return isValid() ? node({root_}, project) : Node{{}, project, {}};
}

// One step down: the key's subschemas come from the properties (or items, for an array element) of every subschema
// that applies to the parent.
ProjectSchema::Node ProjectSchema::child(const Node& parent, const QString& token) const {
  const QJsonValue instance = valueAt(parent.instance, {token});
  bool isIndex = false;
  const int index = token.toInt(&isIndex);
  isIndex = isIndex && index >= 0;
  QList<QJsonValue> schemas;
  for (const QJsonObject& s : parent.applying) {
    QJsonValue sub(QJsonValue::Undefined);
    if (isIndex && (parent.instance.isArray() || (parent.instance.isUndefined() && s.contains("items")))) {
      const QJsonArray prefix = s.value("prefixItems").toArray();
      sub = index < prefix.size() ? prefix.at(index) : s.value("items");
    } else if (s.value("properties").toObject().contains(token)) {
      sub = s.value("properties").toObject().value(token);
    } else if (s.contains("properties") || s.contains("additionalProperties")) {
      sub = s.value("additionalProperties");
    }
    if (sub.isObject()) schemas << sub;  // `true` says nothing; `false` (a key a branch forbids) is skipped
  }
  return schemas.isEmpty() ? Node{{}, instance, {}} : node(schemas, instance);
}

ProjectSchema::Node ProjectSchema::walk(const QStringList& path, const QJsonValue& project) const {
  Node n = root(project);
  for (const QString& token : path) {
    if (n.schemas.isEmpty()) break;
    n = child(n, token);
  }
  return n;
}

SchemaInfo ProjectSchema::info(const Node& n) const {
  SchemaInfo out;
  out.known = !n.applying.isEmpty();
  bool haveBounds[2] = {false, false};
  for (const QJsonObject& s : n.applying) {
    if (out.description.isEmpty()) out.description = s.value("description").toString();
    for (const QString& t : typeList(s.value("type")))
      if (!out.types.contains(t)) out.types << t;
    if (s.contains("const") && !out.isConst) {
      out.choices = QJsonArray{s.value("const")};
      out.isConst = true;
    } else if (s.contains("enum") && out.choices.isEmpty()) {
      out.choices = s.value("enum").toArray();
    }
    if (!haveBounds[0] && (s.contains("minimum") || s.contains("exclusiveMinimum"))) {
      haveBounds[0] = true;
      out.exclusiveMinimum = s.contains("exclusiveMinimum");
      out.minimum = s.value(out.exclusiveMinimum ? "exclusiveMinimum" : "minimum").toDouble();
    }
    if (!haveBounds[1] && (s.contains("maximum") || s.contains("exclusiveMaximum"))) {
      haveBounds[1] = true;
      out.exclusiveMaximum = s.contains("exclusiveMaximum");
      out.maximum = s.value(out.exclusiveMaximum ? "exclusiveMaximum" : "maximum").toDouble();
    }
    if (out.minLength == 0) out.minLength = s.value("minLength").toInt();
    if (out.pattern.isEmpty()) out.pattern = s.value("pattern").toString();
    if (out.defaultValue.isUndefined() && s.contains("default")) out.defaultValue = s.value("default");
  }
  return out;
}

SchemaInfo ProjectSchema::lookup(const QStringList& path, const QJsonValue& project) const {
  return info(walk(path, project));
}

SchemaInfo ProjectSchema::lookup(const QString& pointer, const QJsonValue& project) const {
  return lookup(pointerTokens(pointer), project);
}

bool ProjectSchema::check(const QStringList& path, const QJsonValue& value, const QJsonValue& project,
                          const QString& name, QString* error) const {
  const QList<QJsonValue> schemas = walk(path, project).schemas;
  for (const QJsonValue& s : schemas) {
    if (validate(s, value)) continue;
    const QString allowed = info(node(schemas, value)).allowed(true);
    const QString shown = value.isString() ? "'" + value.toString() + "'" : valueText(value);
    *error = allowed.isEmpty() ? QString("%1 cannot be %2 (see the project schema)").arg(name, shown)
                               : QString("%1 must be %2, not %3").arg(name, allowed, shown);
    return false;
  }
  return true;
}

bool ProjectSchema::validate(const QJsonValue& schema, const QJsonValue& v, int depth) const {
  if (schema.isBool()) return schema.toBool();
  if (!schema.isObject() || depth > kMaxDepth) return true;
  const QJsonObject s = schema.toObject();
  const int d = depth + 1;
  if (s.contains("$ref") && !validate(resolve(s.value("$ref").toString()), v, d)) return false;
  if (s.contains("type") && !typeFits(s.value("type"), v)) return false;
  if (s.contains("const") && s.value("const") != v) return false;
  if (s.contains("enum") && !s.value("enum").toArray().contains(v)) return false;
  if (v.isDouble()) {
    const double x = v.toDouble();
    if (s.contains("minimum") && x < s.value("minimum").toDouble()) return false;
    if (s.contains("maximum") && x > s.value("maximum").toDouble()) return false;
    if (s.contains("exclusiveMinimum") && x <= s.value("exclusiveMinimum").toDouble()) return false;
    if (s.contains("exclusiveMaximum") && x >= s.value("exclusiveMaximum").toDouble()) return false;
  }
  if (v.isString()) {
    const qsizetype length = v.toString().toUcs4().size();
    if (s.contains("minLength") && length < s.value("minLength").toInt()) return false;
    if (s.contains("maxLength") && length > s.value("maxLength").toInt()) return false;
    if (s.contains("pattern")) {
      const QRegularExpression re(s.value("pattern").toString());
      if (re.isValid() && !re.match(v.toString()).hasMatch()) return false;
    }
  }
  if (v.isArray()) {
    const QJsonArray a = v.toArray();
    if (s.contains("minItems") && a.size() < s.value("minItems").toInt()) return false;
    if (s.contains("maxItems") && a.size() > s.value("maxItems").toInt()) return false;
    const QJsonArray prefix = s.value("prefixItems").toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
      const QJsonValue item = i < prefix.size() ? prefix.at(i) : s.value("items");
      if (!item.isUndefined() && !validate(item, a.at(i), d)) return false;
    }
  }
  if (v.isObject()) {
    const QJsonObject o = v.toObject();
    for (const QJsonValue& key : s.value("required").toArray())
      if (!o.contains(key.toString())) return false;
    const QJsonObject properties = s.value("properties").toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (properties.contains(it.key())) {
        if (!validate(properties.value(it.key()), it.value(), d)) return false;
      } else if (s.contains("additionalProperties") && !validate(s.value("additionalProperties"), it.value(), d)) {
        return false;
      }
      if (s.contains("propertyNames") && !validate(s.value("propertyNames"), it.key(), d)) return false;
    }
    const QJsonObject dependent = s.value("dependentRequired").toObject();
    for (auto it = dependent.begin(); it != dependent.end(); ++it)
      if (o.contains(it.key()))
        for (const QJsonValue& key : it.value().toArray())
          if (!o.contains(key.toString())) return false;
  }
  for (const QJsonValue& sub : s.value("allOf").toArray())
    if (!validate(sub, v, d)) return false;
  if (s.contains("anyOf")) {
    bool any = false;
    for (const QJsonValue& sub : s.value("anyOf").toArray()) any = any || validate(sub, v, d);
    if (!any) return false;
  }
  if (s.contains("oneOf")) {
    int matched = 0;
    for (const QJsonValue& sub : s.value("oneOf").toArray()) matched += validate(sub, v, d) ? 1 : 0;
    if (matched != 1) return false;
  }
  if (s.contains("not") && validate(s.value("not"), v, d)) return false;
  if (s.contains("if")) {
    const QJsonValue branch = validate(s.value("if"), v, d) ? s.value("then") : s.value("else");
    if (!branch.isUndefined() && !validate(branch, v, d)) return false;
  }
  return true;
}

// --- the settings editor -----------------------------------------------------------------------------------------

QStringList schemaPath(const QStringList& treePath) {
  static const QRegularExpression element(R"(^\[(\d+)\]$)");
  QStringList path;
  for (const QString& key : treePath) {
    const auto m = element.match(key);
    path << (m.hasMatch() ? m.captured(1) : key);
  }
  return path;
}

bool applyCheckedTreeEdit(const QJsonObject& project, const QStringList& treePath, const QString& text, QString* topKey,
                          QJsonValue* topValue, QString* error) {
  const ProjectSchema& schema = ProjectSchema::bundled();
  const QStringList path = schemaPath(treePath);
  const QString name = treePath.join('.');
  if (!applyTreeEdit(project, treePath, text, topKey, topValue, error)) {
    // A text that is not of the value's type: say what the key takes, where the schema knows.
    const QJsonValue old = valueAt(project, path);
    if (!old.isUndefined() && !old.isObject() && !old.isArray()) {
      const QString allowed = schema.lookup(path, project).allowed(true);
      if (!allowed.isEmpty()) *error = QString("%1 must be %2, not '%3'").arg(name, allowed, text.trimmed());
    }
    return false;
  }
  QJsonObject edited = project;
  edited.insert(*topKey, *topValue);
  return schema.check(path, valueAt(edited, path), edited, name, error);
}

namespace {
void describeChildren(const ProjectSchema& schema, QTreeWidgetItem* parent, const ProjectSchema::Node& node);

// Sets the tooltips and choices of `item` (at `node`) and of everything below it.
void describeItem(const ProjectSchema& schema, QTreeWidgetItem* item, const ProjectSchema::Node& node) {
  if (node.schemas.isEmpty()) return;  // nothing below an undescribed key is described either
  describeChildren(schema, item, node);
  const SchemaInfo info = schema.info(node);
  if (!info.known) return;
  QString tip;
  if (!info.description.isEmpty()) tip += "<p>" + info.description.toHtmlEscaped() + "</p>";
  const QString summary = info.summary();
  if (!summary.isEmpty()) tip += "<p><i>" + summary.toHtmlEscaped() + "</i></p>";
  if (tip.isEmpty()) return;
  const bool editable = item->flags() & Qt::ItemIsEditable;
  item->setToolTip(0, tip);
  item->setToolTip(1, editable ? tip + "<p>Double-click to edit (Edit &gt; Undo reverts)</p>" : tip);
  if (!editable) return;
  QStringList choices;
  if (!info.isConst && info.choices.size() > 1)
    for (const QJsonValue& c : info.choices) choices << valueText(c);
  else if (info.choices.isEmpty() && info.types == QStringList{"boolean"})
    choices = {"true", "false"};
  if (!choices.isEmpty()) item->setData(1, kSchemaChoicesRole, choices);
}

void describeChildren(const ProjectSchema& schema, QTreeWidgetItem* parent, const ProjectSchema::Node& node) {
  for (int i = 0; i < parent->childCount(); ++i) {
    QTreeWidgetItem* item = parent->child(i);
    describeItem(schema, item, schema.child(node, schemaPath({item->text(0)}).first()));
  }
}
}  // namespace

void describeJsonTree(QTreeWidget* tree, const QJsonObject& project) {
  const ProjectSchema& schema = ProjectSchema::bundled();
  if (!schema.isValid()) return;
  const QSignalBlocker block(tree);  // tooltips and roles are not edits
  // Walked from the root down, so each key's subschemas are found once, not once per item below it.
  describeChildren(schema, tree->invisibleRootItem(), schema.root(project));
}

// --- ProjectValueDelegate ------------------------------------------------------------------------------------------

QWidget* ProjectValueDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                                            const QModelIndex& index) const {
  const QStringList choices = index.data(kSchemaChoicesRole).toStringList();
  if (choices.isEmpty()) return QStyledItemDelegate::createEditor(parent, option, index);
  auto* combo = new QComboBox(parent);
  combo->setObjectName("schemaChoices");
  combo->addItems(choices);
  // A pick is the edit: commit it and close, as Enter does in the line editor.
  auto* self = const_cast<ProjectValueDelegate*>(this);
  connect(combo, &QComboBox::activated, self, [self, combo] {
    emit self->commitData(combo);
    emit self->closeEditor(combo);
  });
  return combo;
}

void ProjectValueDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
  auto* combo = qobject_cast<QComboBox*>(editor);
  if (!combo) return QStyledItemDelegate::setEditorData(editor, index);
  const QString current = index.data(Qt::EditRole).toString();
  int i = combo->findText(current);
  if (i < 0) {  // a value the schema does not allow stays selectable until it is changed
    combo->insertItem(0, current);
    i = 0;
  }
  combo->setCurrentIndex(i);
}

void ProjectValueDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const {
  auto* combo = qobject_cast<QComboBox*>(editor);
  if (!combo) return QStyledItemDelegate::setModelData(editor, model, index);
  model->setData(index, combo->currentText(), Qt::EditRole);
}

}  // namespace otcs::workbench
