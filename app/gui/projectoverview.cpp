#include "app/gui/projectoverview.h"

#include <cmath>

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTreeWidgetItemIterator>
#include <QLabel>
#include <QScrollArea>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "app/gui/projectschema.h"

namespace otcs::workbench {
namespace {

QString scalarText(const QJsonValue& v) {
  switch (v.type()) {
    case QJsonValue::Bool:
      return v.toBool() ? "true" : "false";
    case QJsonValue::Double:
      return QString::number(v.toDouble(), 'g', 10);
    case QJsonValue::String:
      return v.toString();
    case QJsonValue::Null:
      return "null";
    case QJsonValue::Array:
      return QString("[%1 items]").arg(v.toArray().size());
    case QJsonValue::Object:
      return QString("{%1 keys}").arg(v.toObject().size());
    default:
      return QString();
  }
}

constexpr int kEditableRole = Qt::UserRole + 1;

void addJson(QTreeWidgetItem* parent, const QString& key, const QJsonValue& value, int depth) {
  auto* item = new QTreeWidgetItem(parent, {key, scalarText(value)});
  if (!value.isObject() && !value.isArray()) {
    item->setData(1, kEditableRole, true);
    item->setFlags(item->flags() | Qt::ItemIsEditable);  // the tree's edit triggers are off: double-click edits
    item->setToolTip(1, "Double-click to edit (Edit > Undo reverts)");
  }
  if (depth > 6) return;
  if (value.isObject()) {
    const QJsonObject o = value.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) addJson(item, it.key(), it.value(), depth + 1);
  } else if (value.isArray()) {
    const QJsonArray a = value.toArray();
    // Pairs and sample lists can be long; the tree is for orientation, the tables are for the data.
    const int shown = qMin(int(a.size()), 50);
    for (int i = 0; i < shown; ++i) addJson(item, QString("[%1]").arg(i), a[i], depth + 1);
    if (a.size() > shown) new QTreeWidgetItem(item, {"…", QString("%1 more").arg(a.size() - shown)});
  }
}

QString escape(const QString& s) { return s.toHtmlEscaped(); }

}  // namespace

void fillJsonTree(QTreeWidget* tree, const QJsonObject& json) {
  const QSignalBlocker block(tree);
  // Keep what the user had expanded (by path) across the refill after an edit.
  QSet<QString> expanded;
  const bool first = tree->topLevelItemCount() == 0;
  for (QTreeWidgetItemIterator it(tree); *it; ++it)
    if ((*it)->isExpanded()) expanded.insert(jsonTreePath(*it).join('/'));
  tree->clear();
  auto* root = tree->invisibleRootItem();
  for (auto it = json.begin(); it != json.end(); ++it) addJson(root, it.key(), it.value(), 0);
  describeJsonTree(tree, json);
  if (first) {
    tree->expandToDepth(0);
    return;
  }
  for (QTreeWidgetItemIterator it(tree); *it; ++it)
    if (expanded.contains(jsonTreePath(*it).join('/'))) (*it)->setExpanded(true);
}

QStringList jsonTreePath(const QTreeWidgetItem* item) {
  QStringList path;
  for (; item; item = item->parent()) path.prepend(item->text(0));
  return path;
}

namespace {
// Sets `value` at path[from..] inside `node`; false when the path does not lead to an existing scalar.
bool setAt(QJsonValue& node, const QStringList& path, int from, const QJsonValue& value) {
  if (from == path.size()) {
    if (node.isObject() || node.isArray()) return false;
    node = value;
    return true;
  }
  const QString& key = path[from];
  if (node.isObject()) {
    QJsonObject o = node.toObject();
    if (!o.contains(key)) return false;
    QJsonValue child = o.value(key);
    if (!setAt(child, path, from + 1, value)) return false;
    o.insert(key, child);
    node = o;
    return true;
  }
  if (node.isArray()) {
    if (!key.startsWith('[') || !key.endsWith(']')) return false;
    bool ok = false;
    const int i = key.mid(1, key.size() - 2).toInt(&ok);
    QJsonArray a = node.toArray();
    if (!ok || i < 0 || i >= a.size()) return false;
    QJsonValue child = a.at(i);
    if (!setAt(child, path, from + 1, value)) return false;
    a.replace(i, child);
    node = a;
    return true;
  }
  return false;
}

QJsonValue valueAt(const QJsonValue& node, const QStringList& path) {
  QJsonValue v = node;
  for (const QString& key : path) {
    if (v.isObject())
      v = v.toObject().value(key);
    else if (v.isArray() && key.startsWith('['))
      v = v.toArray().at(key.mid(1, key.size() - 2).toInt());
    else
      return QJsonValue(QJsonValue::Undefined);
  }
  return v;
}
}  // namespace

bool applyTreeEdit(const QJsonObject& project, const QStringList& path, const QString& text, QString* topKey,
                   QJsonValue* topValue, QString* error) {
  const QString where = path.join('.');
  const QJsonValue old = valueAt(project, path);
  if (path.isEmpty() || old.isUndefined() || old.isObject() || old.isArray()) {
    *error = QString("%1 is not a single value that can be edited here").arg(where);
    return false;
  }
  QJsonValue value;
  const QString t = text.trimmed();
  switch (old.type()) {
    case QJsonValue::Double: {
      bool ok = false;
      const double d = t.toDouble(&ok);
      if (!ok || !std::isfinite(d)) {
        *error = QString("%1 must be a number; '%2' is not one").arg(where, text);
        return false;
      }
      value = d;
      break;
    }
    case QJsonValue::Bool:
      if (t != "true" && t != "false") {
        *error = QString("%1 must be true or false; '%2' is neither").arg(where, text);
        return false;
      }
      value = (t == "true");
      break;
    case QJsonValue::String:
      value = text;
      break;
    default: {  // null: any JSON value
      QJsonParseError parse;
      const QJsonDocument doc = QJsonDocument::fromJson(("[" + t + "]").toUtf8(), &parse);
      if (parse.error != QJsonParseError::NoError || doc.array().size() != 1) {
        *error = QString("%1: '%2' is not a JSON value").arg(where, text);
        return false;
      }
      value = doc.array().at(0);
    }
  }
  QJsonValue top = project.value(path.first());
  if (path.size() == 1)
    top = value;
  else if (!setAt(top, path, 1, value)) {
    *error = QString("%1 is not a single value that can be edited here").arg(where);
    return false;
  }
  *topKey = path.first();
  *topValue = top;
  return true;
}

ProjectOverview::ProjectOverview(QWidget* parent) : QWidget(parent) {
  summary_ = new QLabel(this);
  summary_->setObjectName("projectSummary");
  summary_->setTextFormat(Qt::RichText);
  summary_->setWordWrap(true);
  summary_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summary_->setMargin(16);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setWidget(summary_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(scroll);
}

QString ProjectOverview::summaryText() const { return summary_->text(); }

void ProjectOverview::setProject(const QJsonObject& json, const QString& path, const QString& error) {
  QString html;
  html += QString("<h2>%1</h2>").arg(escape(json.value("name").toString("Untitled")));
  html += QString("<p style='color:#555'>%1</p>").arg(path.isEmpty() ? "not saved yet" : escape(path));
  if (!error.isEmpty())
    html += QString("<p style='color:#b00020'><b>This project cannot run yet:</b> %1</p>").arg(escape(error));
  if (json.contains("description")) html += QString("<p>%1</p>").arg(escape(json.value("description").toString()));

  auto section = [&](const QString& title, const QJsonValue& value) {
    if (value.isUndefined()) return;
    html += QString("<h3>%1</h3><table cellpadding='3'>").arg(escape(title));
    if (value.isObject()) {
      const QJsonObject o = value.toObject();
      for (auto it = o.begin(); it != o.end(); ++it) {
        QString text = scalarText(it.value());
        if (it.value().isObject()) {
          QStringList parts;
          const QJsonObject inner = it.value().toObject();
          for (auto jt = inner.begin(); jt != inner.end(); ++jt) parts << jt.key() + " = " + scalarText(jt.value());
          text = parts.join(", ");
        }
        html += QString("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(escape(it.key()), escape(text));
      }
    } else if (value.isArray()) {
      const QJsonArray a = value.toArray();
      html += QString("<tr><td>%1 entries</td></tr>").arg(a.size());
    } else {
      html += QString("<tr><td>%1</td></tr>").arg(escape(scalarText(value)));
    }
    html += "</table>";
  };
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (it.key() == "name" || it.key() == "description") continue;
    section(it.key(), it.value());
  }
  summary_->setText(html);
}

}  // namespace otcs::workbench
