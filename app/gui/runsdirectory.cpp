#include "app/gui/runsdirectory.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>

#include "app/gui/runpaths.h"
#include "core/run/artifacts.h"
#include "core/run/curve.h"
#include "core/run/layout.h"
#include "core/run/lock.h"
#include "core/run/run_meta.h"

namespace otcs::workbench {

namespace {

const QStringList kStages = runStageNames();

QJsonObject readObject(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

// Dotted paths of every scalar (arrays kept whole as JSON text) of a JSON object.
void flatten(const QJsonObject& o, const QString& prefix, QMap<QString, QJsonValue>* out) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    const QString key = prefix.isEmpty() ? it.key() : prefix + "." + it.key();
    if (it->isObject())
      flatten(it->toObject(), key, out);
    else
      (*out)[key] = *it;
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

QString defaultRunDirFor(const QString& path) {
  if (path.isEmpty()) return QDir::current().filePath("runs/untitled");
  const QFileInfo info(path);
  const QDir dir = info.absoluteDir();
  if (info.fileName() == run::file::kProject && isRunDir(dir.absolutePath())) return dir.absolutePath();
  return projectRunsRoot(path);
}

QString projectRunsRoot(const QString& projectPath) {
  if (projectPath.isEmpty()) return QDir::current().filePath("runs/untitled");
  const QFileInfo info(projectPath);
  QDir dir = info.absoluteDir();
  if (dir.dirName() == "projects")
    return QDir(dir.absoluteFilePath("..")).absoluteFilePath("runs/" + info.completeBaseName());
  return dir.absoluteFilePath("runs/" + info.completeBaseName());
}

bool isRunDir(const QString& dir) {
  const QDir d(dir);
  if (QFileInfo::exists(runPath(dir, &run::RunLayout::project))) return true;
  for (const QString& s : kStages)
    if (QFileInfo::exists(doneMarkerPath(dir, s))) return true;
  return false;
}

QStringList listRunDirs(const QString& root) {
  QStringList out;
  QDir d(root);
  if (!d.exists()) return out;
  QVector<QPair<qint64, QString>> found;
  for (const QFileInfo& sub : d.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    if (kStages.contains(sub.fileName()) || sub.fileName() == run::file::kDataDir) continue;
    if (isRunDir(sub.absoluteFilePath()))
      found.push_back({sub.lastModified().toMSecsSinceEpoch(), sub.absoluteFilePath()});
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
  const QJsonObject meta = readObject(QDir(dir).filePath(run::kRunMetaFile));
  QString last_done;
  for (const QString& stage : kStages)
    if (QFileInfo::exists(doneMarkerPath(dir, stage))) last_done = stage;
  const bool has_metrics = QFileInfo::exists(runPath(dir, &run::RunLayout::metrics));
  QString status = meta.value("status").toString();
  // A writer killed before it could record its outcome leaves "running" behind; the lock tells.
  if (status == "running" && !run::writer_active(QDir(dir).absolutePath().toStdString())) status = "interrupted";
  if (status.isEmpty()) status = has_metrics ? "completed" : last_done.isEmpty() ? "empty" : "until " + last_done;
  s.status = status;
  const QString start = meta.value("started").toString();
  s.started = start.isEmpty() ? QFileInfo(runPath(dir, &run::RunLayout::project)).lastModified()
                              : QDateTime::fromString(start, Qt::ISODate);
  const QString end = meta.value("ended").toString();
  if (!start.isEmpty() && !end.isEmpty()) {
    s.seconds =
        double(QDateTime::fromString(start, Qt::ISODate).msecsTo(QDateTime::fromString(end, Qt::ISODate))) / 1e3;
  } else if (s.started.isValid()) {
    // Without run metadata: from the project copy to the last log line.
    const QFileInfo log(runPath(dir, &run::RunLayout::log));
    if (log.exists()) s.seconds = double(s.started.msecsTo(log.lastModified())) / 1e3;
  }
  QMap<QString, QJsonValue> flat;
  flatten(readObject(runPath(dir, &run::RunLayout::metrics)), QString(), &flat);
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
    flatten(readObject(runPath(dirs[k], &run::RunLayout::metrics)), QString(), &metrics[k]);
    flatten(readObject(runPath(dirs[k], &run::RunLayout::project)), QString(), &settings[k]);
    for (const QString& key : metrics[k].keys())
      if (!metric_keys.contains(key) && !metrics[k][key].isArray()) metric_keys << key;
    for (const QString& key : settings[k].keys())
      if (!setting_keys.contains(key)) setting_keys << key;
    // The latest preview image, else the eval figure, stands for what the run makes.
    QImage image;
    const auto previews = run::read_previews(run::RunLayout(dirs[k].toStdString()));
    if (!previews.empty() && !previews.back().image.empty())
      image.load(QString::fromStdString(previews.back().image.string()));
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
  auto read = [&](RunArtifact file, session::Stage stage, const QString& single) {
    run::Curve curve;
    try {
      curve = run::read_curve(runPath(dir, file).toStdString());
    } catch (const std::exception&) {
      return;  // no curve (yet), or one that does not parse: nothing to show
    }
    QVector<double> steps(curve.steps.begin(), curve.steps.end());
    for (size_t c = 0; c < curve.columns.size(); ++c) {
      if (steps.isEmpty()) break;
      Curve k{stage, single.isEmpty() ? QString::fromStdString(curve.columns[c]) : single, steps, {}};
      k.values = QVector<double>(curve.values[c].begin(), curve.values[c].end());
      out << k;
      if (!single.isEmpty()) break;  // the curve's first value column
    }
  };
  read(&run::RunLayout::dual_curve, session::Stage::Ot, "dual");
  read(&run::RunLayout::ot_diagnostics, session::Stage::Ot, QString());
  read(&run::RunLayout::loss_curve, session::Stage::Score, "loss");
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
    if (auto hash = run::read_done_hash(doneMarkerPath(dir, stage).toStdString()))
      out[stage] = QString::fromStdString(*hash);
  }
  return out;
}

}  // namespace otcs::workbench
