#include "app/gui/projectdocument.h"

#include <algorithm>

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QSaveFile>
#include <QUndoCommand>

namespace otcs::workbench {
namespace {

class SetValueCommand : public QUndoCommand {
 public:
  SetValueCommand(ProjectDocument* doc, QString key, QJsonValue before, QJsonValue after, const QString& text)
      : QUndoCommand(text), doc_(doc), key_(std::move(key)), before_(std::move(before)), after_(std::move(after)) {}
  void undo() override { doc_->applyValue(key_, before_); }
  void redo() override { doc_->applyValue(key_, after_); }

 private:
  ProjectDocument* doc_;
  QString key_;
  QJsonValue before_, after_;
};

int lineOf(const QByteArray& bytes, int offset) {
  return int(std::count(bytes.begin(), bytes.begin() + qBound(0, offset, int(bytes.size())), '\n')) + 1;
}

}  // namespace

ProjectDocument::ProjectDocument(QObject* parent) : QObject(parent) {
  connect(&undo_, &QUndoStack::cleanChanged, this, [this](bool clean) { emit modifiedChanged(!clean); });
  newProject();
}

QString ProjectDocument::directory() const {
  return path_.isEmpty() ? QString() : QFileInfo(path_).absolutePath();
}

QString ProjectDocument::displayName() const {
  const QString name = json_.value("name").toString();
  if (!name.isEmpty()) return name;
  return path_.isEmpty() ? QStringLiteral("Untitled") : QFileInfo(path_).completeBaseName();
}

QJsonObject ProjectDocument::templateProject() {
  // A new project is a small runnable 2-D problem rather than an empty file: two blobs on each side, quick
  // stage settings. The user edits from something that works.
  const char* text = R"({
    "schema_version": 1,
    "name": "Untitled",
    "description": "Two Gaussian blobs on each side; replace the data with your own (data.source.file).",
    "data": {
      "source": {"mixture": [{"mean": [-2, -1], "std": 0.35}, {"mean": [-2, 1], "std": 0.35}], "n": 200, "seed": 1},
      "target": {"mixture": [{"mean": [2, -1], "std": 0.35}, {"mean": [2, 1], "std": 0.35}], "n": 200, "seed": 2}
    },
    "stages": {
      "ot": {"solver": "exact", "epsilon": 0.01},
      "score": {"steps": 2000, "batch": 128, "network": {"hidden": 128, "blocks": 2, "embed_dim": 64}},
      "sample": {"sources": 4, "per_source": 100},
      "eval": {"enabled": false}
    }
  })";
  return QJsonDocument::fromJson(text).object();
}

void ProjectDocument::newProject() {
  json_ = templateProject();
  path_.clear();
  undo_.clear();
  emit pathChanged(path_);
  emit loaded();
  emit modifiedChanged(false);
}

bool ProjectDocument::load(const QString& path, QString* error) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    *error = QStringLiteral("%1: cannot open the project (%2).").arg(path, file.errorString());
    return false;
  }
  const QByteArray bytes = file.readAll();
  QJsonParseError parse;
  const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parse);
  if (parse.error != QJsonParseError::NoError) {
    *error = QStringLiteral("%1: not a valid project file, JSON error at line %2: %3.")
                 .arg(path)
                 .arg(lineOf(bytes, parse.offset))
                 .arg(parse.errorString());
    return false;
  }
  if (!doc.isObject()) {
    *error = QStringLiteral("%1: not a valid project file, the top level must be a JSON object.").arg(path);
    return false;
  }
  json_ = doc.object();
  path_ = QFileInfo(path).absoluteFilePath();
  undo_.clear();
  emit pathChanged(path_);
  emit loaded();
  emit modifiedChanged(false);
  return true;
}

bool ProjectDocument::save(const QString& path, QString* error) {
  QJsonObject out = json_;
  if (collector_) collector_(out);
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) {
    *error = QStringLiteral("%1: cannot write the project (%2).").arg(path, file.errorString());
    return false;
  }
  file.write(QJsonDocument(out).toJson(QJsonDocument::Indented));
  if (!file.commit()) {
    *error = QStringLiteral("%1: cannot write the project (%2); the previous file is unchanged.")
                 .arg(path, file.errorString());
    return false;
  }
  json_ = out;
  const QString absolute = QFileInfo(path).absoluteFilePath();
  if (absolute != path_) {
    path_ = absolute;
    emit pathChanged(path_);
  }
  undo_.setClean();
  return true;
}

void ProjectDocument::setValue(const QString& key, const QJsonValue& value, const QString& text) {
  if (json_.value(key) == value) return;
  undo_.push(new SetValueCommand(this, key, json_.value(key), value, text));
}

void ProjectDocument::applyValue(const QString& key, const QJsonValue& value) {
  if (value.isUndefined()) json_.remove(key);
  else json_.insert(key, value);
  emit valueChanged(key);
}

}  // namespace otcs::workbench
