#include "app/gui/runsdirectory.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>
#include <algorithm>

namespace otcs::workbench {

namespace {

const QStringList kStages = {"ot", "bridge", "score", "sample", "eval"};

QJsonObject readObject(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

// Dotted paths of every scalar (arrays kept whole as JSON text) of a JSON object.
void flatten(const QJsonObject& o, const QString& prefix, QMap<QString, QJsonValue>* out) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    const QString key = prefix.isEmpty() ? it.key() : prefix + "." + it.key();
    if (it->isObject()) flatten(it->toObject(), key, out);
    else (*out)[key] = *it;
  }
}

QString text(const QJsonValue& v) {
  if (v.isUndefined() || v.isNull()) return QString();
  if (v.isString()) return v.toString();
  if (v.isBool()) return v.toBool() ? "true" : "false";
  if (v.isDouble()) return QString::number(v.toDouble(), 'g', 6);
  if (v.isArray()) return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
  return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
}

}  // namespace

QString projectRunsRoot(const QString& projectPath) {
  if (projectPath.isEmpty()) return QDir::current().filePath("runs/untitled");
  const QFileInfo info(projectPath);
  QDir dir = info.absoluteDir();
  if (dir.dirName() == "projects") return QDir(dir.absoluteFilePath("..")).absoluteFilePath("runs/" + info.completeBaseName());
  return dir.absoluteFilePath("runs/" + info.completeBaseName());
}

bool isRunDir(const QString& dir) {
  const QDir d(dir);
  if (d.exists("project.json")) return true;
  for (const QString& s : kStages)
    if (d.exists(s + "/done.json")) return true;
  return false;
}

QStringList listRunDirs(const QString& root) {
  QStringList out;
  QDir d(root);
  if (!d.exists()) return out;
  QVector<QPair<qint64, QString>> found;
  for (const QFileInfo& sub : d.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    if (kStages.contains(sub.fileName()) || sub.fileName() == "data") continue;
    if (isRunDir(sub.absoluteFilePath())) found.push_back({sub.lastModified().toMSecsSinceEpoch(), sub.absoluteFilePath()});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (isRunDir(root)) out << QDir(root).absolutePath();
  for (const auto& f : found) out << f.second;
  return out;
}

QString newRunDir(const QString& root) {
  const QString base = QDateTime::currentDateTime().toString("yyyy-MM-dd_HH-mm-ss");
  QString name = base;
  for (int k = 2; QDir(root).exists(name); ++k) name = QString("%1_%2").arg(base).arg(k);
  return QDir(root).absoluteFilePath(name);
}

RunSummary readRunSummary(const QString& dir) {
  RunSummary s;
  s.path = QDir(dir).absolutePath();
  s.name = QFileInfo(s.path).fileName();
  const QJsonObject meta = readObject(QDir(dir).filePath("run.json"));
  QString last_done;
  for (const QString& stage : kStages)
    if (QFileInfo::exists(QDir(dir).filePath(stage + "/done.json"))) last_done = stage;
  const bool has_metrics = QFileInfo::exists(QDir(dir).filePath("metrics.json"));
  QString status = meta.value("status").toString();
  if (status.isEmpty()) status = has_metrics ? "completed" : last_done.isEmpty() ? "empty" : "until " + last_done;
  s.status = status;
  const QString start = meta.value("started").toString();
  s.started = start.isEmpty() ? QFileInfo(QDir(dir).filePath("project.json")).lastModified()
                              : QDateTime::fromString(start, Qt::ISODate);
  const QString end = meta.value("ended").toString();
  if (!start.isEmpty() && !end.isEmpty()) {
    s.seconds = double(QDateTime::fromString(start, Qt::ISODate).msecsTo(QDateTime::fromString(end, Qt::ISODate))) / 1e3;
  } else if (s.started.isValid()) {
    // Without run metadata: from the project copy to the last log line.
    const QFileInfo log(QDir(dir).filePath("otcs.log"));
    if (log.exists()) s.seconds = double(s.started.msecsTo(log.lastModified())) / 1e3;
  }
  QMap<QString, QJsonValue> flat;
  flatten(readObject(QDir(dir).filePath("metrics.json")), QString(), &flat);
  for (auto it = flat.begin(); it != flat.end() && s.metrics.size() < 6; ++it)
    if (it->isDouble() && !it.key().startsWith("seconds")) s.metrics.push_back({it.key(), it->toDouble()});
  return s;
}

RunComparison compareRuns(const QStringList& dirs) {
  RunComparison c;
  QVector<QMap<QString, QJsonValue>> metrics(dirs.size()), settings(dirs.size());
  QStringList metric_keys, setting_keys;
  for (int k = 0; k < dirs.size(); ++k) {
    c.runs << QFileInfo(dirs[k]).fileName();
    flatten(readObject(QDir(dirs[k]).filePath("metrics.json")), QString(), &metrics[k]);
    flatten(readObject(QDir(dirs[k]).filePath("project.json")), QString(), &settings[k]);
    for (const QString& key : metrics[k].keys())
      if (!metric_keys.contains(key) && !metrics[k][key].isArray()) metric_keys << key;
    for (const QString& key : settings[k].keys())
      if (!setting_keys.contains(key)) setting_keys << key;
    // The latest preview image, else the eval figure, stands for what the run makes.
    QImage image;
    const QJsonArray previews = readObject(QDir(dirs[k]).filePath("score/previews/previews.json"))["previews"].toArray();
    if (!previews.isEmpty())
      image.load(QDir(dirs[k]).filePath("score/previews/" + previews.last().toObject()["file"].toString()));
    c.images.push_back(image);
  }
  metric_keys.sort();
  setting_keys.sort();
  for (const QString& key : metric_keys) {
    QVector<QString> row;
    for (int k = 0; k < dirs.size(); ++k) row << text(metrics[k].value(key));
    c.metrics.push_back({key, row});
  }
  for (const QString& key : setting_keys) {
    QVector<QString> row;
    bool differs = false;
    for (int k = 0; k < dirs.size(); ++k) {
      row << text(settings[k].value(key));
      if (settings[k].value(key) != settings[0].value(key)) differs = true;
    }
    if (differs) c.differences.push_back({key, row});
  }
  return c;
}

QVector<Curve> readRunCurves(const QString& dir) {
  QVector<Curve> out;
  auto read = [&](const QString& file, const QString& stage, const QString& single) {
    QFile f(QDir(dir).filePath(file));
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return;
    QTextStream in(&f);
    const QStringList header = in.readLine().trimmed().split(',');
    if (header.size() < 2) return;
    // A wall-time column is not a curve.
    QVector<int> columns;
    for (int c = 1; c < header.size(); ++c)
      if (header[c] != "wall_time") columns << c;
    QVector<Curve> curves;
    for (int c : columns) curves.push_back({stage, single.isEmpty() ? header[c] : single, {}, {}});
    while (!in.atEnd()) {
      const QStringList cells = in.readLine().trimmed().split(',');
      if (cells.size() != header.size()) continue;
      bool ok = false;
      const double step = cells[0].toDouble(&ok);
      if (!ok) continue;
      for (int i = 0; i < columns.size(); ++i) {
        const double v = cells[columns[i]].toDouble(&ok);
        if (!ok) continue;
        curves[i].steps << step;
        curves[i].values << v;
      }
    }
    for (const Curve& c : curves)
      if (!c.steps.isEmpty()) out << c;
  };
  read("ot/dual.csv", "ot", "dual");
  read("ot/diagnostics.csv", "ot", QString());
  read("score/loss.csv", "score", "loss");
  return out;
}

bool renameRunDir(const QString& dir, const QString& name, QString* error) {
  if (name.isEmpty() || name.contains('/') || name.contains('\\') || name == "." || name == "..") {
    *error = QString("'%1' is not a folder name.").arg(name);
    return false;
  }
  const QString target = QFileInfo(dir).absoluteDir().filePath(name);
  if (QFileInfo::exists(target)) {
    *error = QString("%1 exists already.").arg(target);
    return false;
  }
  if (!QDir().rename(dir, target)) {
    *error = QString("%1: cannot rename it to %2.").arg(dir, name);
    return false;
  }
  return true;
}

bool deleteRunDir(const QString& dir, QString* error) {
  if (!isRunDir(dir)) {
    *error = QString("%1 is not a run folder; nothing was deleted.").arg(dir);
    return false;
  }
  if (!QDir(dir).removeRecursively()) {
    *error = QString("%1: could not delete every file.").arg(dir);
    return false;
  }
  return true;
}

QMap<QString, QString> doneHashes(const QString& dir) {
  QMap<QString, QString> out;
  for (const QString& stage : kStages) {
    const QJsonObject done = readObject(QDir(dir).filePath(stage + "/done.json"));
    if (!done.isEmpty()) out[stage] = done.value("config_hash").toString();
  }
  return out;
}

}  // namespace otcs::workbench
