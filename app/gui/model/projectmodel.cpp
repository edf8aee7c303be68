#include "app/gui/model/projectmodel.h"

#include <algorithm>

#include <QFile>
#include <QJsonArray>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QSaveFile>
#include <QUndoCommand>

namespace otcs::workbench {
namespace {

class SetValueCommand : public QUndoCommand {
 public:
  SetValueCommand(ProjectModel* doc, QString key, QJsonValue before, QJsonValue after, const QString& text)
      : QUndoCommand(text), doc_(doc), key_(std::move(key)), before_(std::move(before)), after_(std::move(after)) {}
  void undo() override { doc_->applyValue(key_, before_); }
  void redo() override { doc_->applyValue(key_, after_); }

 private:
  ProjectModel* doc_;
  QString key_;
  QJsonValue before_, after_;
};

// One pair edit: the pairs and data.keypoints before and after (snapshots: a pair list is small).
class PairsCommand : public QUndoCommand {
 public:
  PairsCommand(ProjectModel* model, KeypointPairs before, KeypointPairs after, const QString& text)
      : QUndoCommand(text),
        model_(model),
        before_(std::move(before)),
        after_(std::move(after)),
        before_json_(model->json().value("data").toObject().value("keypoints")),
        after_json_(ProjectModel::keypointsJson(after_, model->data())) {}
  void undo() override { model_->applyPairs(before_, before_json_); }
  void redo() override { model_->applyPairs(after_, after_json_); }

 private:
  ProjectModel* model_;
  KeypointPairs before_, after_;
  QJsonValue before_json_, after_json_;
};

int lineOf(const QByteArray& bytes, int offset) {
  return int(std::count(bytes.begin(), bytes.begin() + qBound(0, offset, int(bytes.size())), '\n')) + 1;
}

}  // namespace

ProjectModel::ProjectModel(QObject* parent) : QObject(parent) {
  connect(&undo_, &QUndoStack::cleanChanged, this, [this](bool clean) { emit modifiedChanged(!clean); });
  newProject();
}

QString ProjectModel::directory() const { return path_.isEmpty() ? QString() : QFileInfo(path_).absolutePath(); }

QString ProjectModel::displayName() const {
  const QString name = json_.value("name").toString();
  if (!name.isEmpty()) return name;
  return path_.isEmpty() ? QStringLiteral("Untitled") : QFileInfo(path_).completeBaseName();
}

QJsonObject ProjectModel::templateProject() {
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

void ProjectModel::newProject() {
  json_ = templateProject();
  pairs_.clear();
  path_.clear();
  undo_.clear();
  emit pathChanged(path_);
  emit loaded();
  emit modifiedChanged(false);
}

bool ProjectModel::load(const QString& path, QString* error) {
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
  pairs_.clear();  // the data load that follows brings the project's pairs
  path_ = QFileInfo(path).absoluteFilePath();
  undo_.clear();
  emit pathChanged(path_);
  emit loaded();
  emit modifiedChanged(false);
  return true;
}

bool ProjectModel::save(const QString& path, QString* error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) {
    *error = QStringLiteral("%1: cannot write the project (%2).").arg(path, file.errorString());
    return false;
  }
  file.write(QJsonDocument(json_).toJson(QJsonDocument::Indented));
  if (!file.commit()) {
    *error = QStringLiteral("%1: cannot write the project (%2); the previous file is unchanged.")
                 .arg(path, file.errorString());
    return false;
  }
  const QString absolute = QFileInfo(path).absoluteFilePath();
  if (absolute != path_) {
    path_ = absolute;
    emit pathChanged(path_);
  }
  undo_.setClean();
  return true;
}

void ProjectModel::setValue(const QString& key, const QJsonValue& value, const QString& text) {
  if (json_.value(key) == value) return;
  undo_.push(new SetValueCommand(this, key, json_.value(key), value, text));
}

void ProjectModel::applyValue(const QString& key, const QJsonValue& value) {
  if (value.isUndefined())
    json_.remove(key);
  else
    json_.insert(key, value);
  emit valueChanged(key);
}

void ProjectModel::setData(ProjectData data) {
  data_ = std::move(data);
  pairs_ = data_.pairs;
  emit pairsChanged();
}

bool ProjectModel::addPair(const KeypointPair& pair) {
  if (pair.source < 0 || pair.target < 0 || pairs_.contains(pair)) return false;
  KeypointPairs after;
  for (const KeypointPair& p : pairs_)
    if (p.source != pair.source && p.target != pair.target) after << p;
  const bool repair = after.size() != pairs_.size();
  after << pair;
  return pushPairs(after, repair ? QString("Re-pair %1 → %2").arg(pair.source).arg(pair.target)
                                 : QString("Add pair %1 → %2").arg(pair.source).arg(pair.target));
}

bool ProjectModel::removePairs(QList<int> rows) {
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  rows.erase(std::remove_if(rows.begin(), rows.end(), [&](int r) { return r < 0 || r >= pairs_.size(); }), rows.end());
  if (rows.isEmpty()) return false;
  KeypointPairs after;
  for (int r = 0; r < pairs_.size(); ++r)
    if (!rows.contains(r)) after << pairs_[r];
  const KeypointPair& first = pairs_[rows.first()];
  return pushPairs(after, rows.size() == 1 ? QString("Delete pair %1 → %2").arg(first.source).arg(first.target)
                                           : QString("Delete %1 pairs").arg(rows.size()));
}

bool ProjectModel::clearPairs() {
  if (pairs_.isEmpty()) return false;
  return pushPairs({}, QString("Clear %1 pairs").arg(pairs_.size()));
}

bool ProjectModel::replacePairs(const KeypointPairs& pairs, const QString& text) {
  for (const KeypointPair& p : pairs)
    if (p.source < 0 || p.target < 0) return false;
  if (pairs == pairs_) return false;
  return pushPairs(pairs, text);
}

bool ProjectModel::pushPairs(const KeypointPairs& after, const QString& text) {
  undo_.push(new PairsCommand(this, pairs_, after, text));
  return true;
}

void ProjectModel::applyPairs(const KeypointPairs& pairs, const QJsonValue& keypoints) {
  pairs_ = pairs;
  QJsonObject data = json_.value("data").toObject();
  if (keypoints.isUndefined())
    data.remove("keypoints");
  else
    data.insert("keypoints", keypoints);
  json_.insert("data", data);
  // Not valueChanged("data"): the sets the pairs index are unchanged, nothing needs to load again.
  emit pairsChanged();
}

QJsonObject ProjectModel::resolvedJson() const {
  QJsonObject out = json_;
  QJsonObject data = out.value("data").toObject();
  const QJsonValue keypoints = keypointsJson(pairs_, data_);
  if (keypoints.isUndefined())
    data.remove("keypoints");
  else
    data.insert("keypoints", keypoints);
  out.insert("data", data);
  return out;
}

QJsonValue ProjectModel::keypointsJson(const KeypointPairs& pairs, const ProjectData& data) {
  if (pairs.isEmpty()) return QJsonValue(QJsonValue::Undefined);
  QJsonArray keypoints;
  for (const KeypointPair& p : pairs) {
    const bool appended = p.source >= data.sourceFileCount || p.target >= data.targetFileCount;
    if (!appended) {
      keypoints.append(QJsonObject{{"source_index", p.source}, {"target_index", p.target}});
      continue;
    }
    auto coords = [&](const std::shared_ptr<const std::vector<float>>& values, qint64 i) {
      QJsonArray a;
      if (values && data.dim > 0 && qint64(values->size()) >= (i + 1) * data.dim)
        for (int d = 0; d < data.dim; ++d) a.append(double((*values)[size_t(i * data.dim + d)]));
      return a;
    };
    keypoints.append(
        QJsonObject{{"source", coords(data.sourceValues, p.source)}, {"target", coords(data.targetValues, p.target)}});
  }
  return keypoints;
}

}  // namespace otcs::workbench
