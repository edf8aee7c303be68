#include "app/gui/projectoverview.h"

#include <QJsonArray>
#include <QLabel>
#include <QScrollArea>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace otcs::workbench {
namespace {

QString scalarText(const QJsonValue& v) {
  switch (v.type()) {
    case QJsonValue::Bool: return v.toBool() ? "true" : "false";
    case QJsonValue::Double: return QString::number(v.toDouble(), 'g', 10);
    case QJsonValue::String: return v.toString();
    case QJsonValue::Null: return "null";
    case QJsonValue::Array: return QString("[%1 items]").arg(v.toArray().size());
    case QJsonValue::Object: return QString("{%1 keys}").arg(v.toObject().size());
    default: return QString();
  }
}

void addJson(QTreeWidgetItem* parent, const QString& key, const QJsonValue& value, int depth) {
  auto* item = new QTreeWidgetItem(parent, {key, scalarText(value)});
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
  tree->clear();
  auto* root = tree->invisibleRootItem();
  for (auto it = json.begin(); it != json.end(); ++it) addJson(root, it.key(), it.value(), 0);
  tree->expandToDepth(0);
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
