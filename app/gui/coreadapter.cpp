// LibTorch before Qt's keywords exist: Qt defines `slots`, which ATen uses as an identifier.
#pragma push_macro("slots")
#undef slots
#include <torch/types.h>

#include "core/common/error.h"
#include "core/io/npy.h"
#include "core/ot/sparse.h"
#include "core/run/artifacts.h"
#include "core/run/curve.h"
#include "core/run/trajectories.h"
#include "core/session/project.h"
#include "core/session/stages.h"
#include "core/session/project_points.h"
#pragma pop_macro("slots")

#include "app/gui/coreadapter.h"
#include "widgets/trajectoryplayer.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <cmath>
#include <map>

namespace otcs::workbench {
namespace {

void toPlain(const torch::Tensor& points, const torch::Tensor& labels, QVector<QPointF>* xy, QVector<int>* lab,
             std::shared_ptr<const std::vector<float>>* values) {
  auto p = points.to(torch::kFloat32).contiguous();
  const int64_t n = p.size(0), d = p.size(1);
  const float* v = p.data_ptr<float>();
  xy->resize(n);
  for (int64_t i = 0; i < n; ++i) (*xy)[i] = QPointF(v[i * d], d > 1 ? v[i * d + 1] : 0.0);
  auto l = labels.to(torch::kInt64).contiguous();
  lab->resize(n);
  for (int64_t i = 0; i < n; ++i) (*lab)[i] = int(l.data_ptr<int64_t>()[i]);
  *values = std::make_shared<const std::vector<float>>(v, v + n * d);
}

ImageShape guessImageShape(int dim) {
  // Point clouds carry no image shape; square grey or RGB images are the common case (MNIST 784 = 28²).
  for (int c : {1, 3}) {
    if (dim % c) continue;
    const int side = int(std::lround(std::sqrt(dim / c)));
    if (side >= 4 && side * side * c == dim) return {c, side, side};
  }
  return {};
}

}  // namespace

ProjectData loadProjectData(const QJsonObject& json, const QString& projectPath) {
  ProjectData out;
  const QFileInfo info(projectPath);
  const std::string name = projectPath.isEmpty() ? "project" : projectPath.toStdString();
  const std::string dir =
      projectPath.isEmpty() ? std::string(".") : session::project_base_dir(projectPath.toStdString());
  try {
    const QByteArray text = QJsonDocument(json).toJson(QJsonDocument::Compact);
    session::Project p = session::parse_project(text.toStdString(), name, dir);
    session::ProjectPoints pts = session::load_project_points(p);
    out.sourceFileCount = pts.source_file_count;
    out.targetFileCount = pts.target_file_count;
    for (size_t k = 0; k < pts.source_index.size(); ++k)
      out.pairs.push_back({pts.source_index[k], pts.target_index[k]});
    const torch::Tensor& source = pts.source;
    const torch::Tensor& target = pts.target;
    const torch::Tensor& sl = pts.source_labels;
    const torch::Tensor& tl = pts.target_labels;
    out.dim = int(target.size(1));
    toPlain(source, sl, &out.source, &out.sourceLabels, &out.sourceValues);
    toPlain(target, tl, &out.target, &out.targetLabels, &out.targetValues);
    out.imageShape = guessImageShape(out.dim);
  } catch (const UserError& e) {
    out.error = QString::fromStdString(e.what());
    out.userError = true;
  } catch (const std::exception& e) {
    out.error = QString("%1: cannot load the project's data (%2)").arg(QString::fromStdString(name), e.what());
  }
  return out;
}

DatasetPreview previewDataset(const QJsonObject& dataset, const QString& baseDir, int maxThumbnails) {
  DatasetPreview out;
  // The session's own loader on a project with this set on both sides (the second load comes from the pack cache
  // for images): the same parser messages, preprocessing and subset as a run.
  QJsonObject data{{"source", dataset}, {"target", dataset}};
  const QJsonObject project{{"schema_version", 1}, {"name", "import-preview"}, {"data", data}};
  const ProjectData loaded =
      loadProjectData(project, QDir(baseDir.isEmpty() ? QString(".") : baseDir).filePath("import-preview.json"));
  if (!loaded.ok()) {
    out.error = loaded.error;
    out.error.replace("/data/target", "/data/source");  // both sides are the same set: name it once
    return out;
  }
  out.count = loaded.source.size();
  out.dim = loaded.dim;
  const ImageShape shape = loaded.imageShape;
  if (shape.valid()) {
    out.shape = shape.channels == 1 ? QString("%1x%2").arg(shape.height).arg(shape.width)
                                    : QString("%1x%2x%3").arg(shape.channels).arg(shape.height).arg(shape.width);
    const qint64 n = std::min<qint64>(out.count, maxThumbnails);
    for (qint64 i = 0; i < n && loaded.sourceValues; ++i)
      out.thumbnails.push_back(sampleToImage(loaded.sourceValues->data() + i * shape.size(), shape));
  }
  std::map<int, qint64> counts;
  for (int l : loaded.sourceLabels)
    if (l >= 0) ++counts[l];
  if (!counts.empty()) {
    QStringList parts;
    for (auto [label, k] : counts) {
      if (parts.size() == 12) {
        parts << "…";
        break;
      }
      parts << QString("%1 (%2)").arg(label).arg(k);
    }
    out.labels = QString("%1 classes: %2").arg(counts.size()).arg(parts.join(", "));
  }
  return out;
}

std::shared_ptr<SparseMatrixData> loadSparseMatrix(const QString& path, QString* error) {
  try {
    const ot::SparseMatrix m = ot::load_sparse(path.toStdString());
    auto out = std::make_shared<SparseMatrixData>();
    out->rows = m.rows;
    out->cols = m.cols;
    auto indptr = m.indptr.to(torch::kInt64).contiguous();
    auto indices = m.indices.to(torch::kInt64).contiguous();
    auto values = m.values.to(torch::kFloat32).contiguous();
    out->indptr.assign(indptr.data_ptr<int64_t>(), indptr.data_ptr<int64_t>() + indptr.numel());
    out->indices.assign(indices.data_ptr<int64_t>(), indices.data_ptr<int64_t>() + indices.numel());
    out->values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
    if (!out->valid()) {
      *error = QString("%1: the sparse matrix is inconsistent").arg(path);
      return nullptr;
    }
    return out;
  } catch (const std::exception& e) {
    *error = QString::fromStdString(e.what());
    return nullptr;
  }
}

QVector<Trajectory> loadTrajectories(const QString& path, const QVector<QPointF>& sourcePoints, QString* error) {
  QVector<Trajectory> out;
  try {
    const run::TrajectoryArrays a = run::read_trajectories(path.toStdString());
    const auto& x = a.x;  // [F, S, K, d]
    const auto& x0 = a.x0;
    const auto& steps = a.step;
    const auto& ts = a.t;
    const auto& sources = a.sources;
    const int64_t F = x.size(0), S = x.size(1), K = x.size(2), d = x.size(3);
    for (int64_t s = 0; s < S; ++s) {
      Trajectory t;
      t.source = sources.data_ptr<int64_t>()[s];
      t.count = int(K);
      t.dim = int(d);
      if (t.source >= 0 && t.source < sourcePoints.size()) t.sourcePoint = sourcePoints[int(t.source)];
      for (int64_t f = 0; f < F; ++f) {
        TrajectoryFrame frame;
        frame.step = steps.data_ptr<int64_t>()[f];
        frame.t = ts.data_ptr<double>()[f];
        const float* px = x[f][s].data_ptr<float>();
        const float* p0 = x0[f][s].data_ptr<float>();
        frame.x = QVector<float>(px, px + K * d);
        frame.x0 = QVector<float>(p0, p0 + K * d);
        t.frames.push_back(frame);
      }
      out.push_back(t);
    }
  } catch (const std::exception& e) {
    *error = QString::fromStdString(e.what());
    out.clear();
  }
  return out;
}

QMap<QString, QString> stageHashes(const QJsonObject& json, const QString& projectPath) {
  QMap<QString, QString> out;
  try {
    const std::string name = projectPath.isEmpty() ? "project" : projectPath.toStdString();
    const std::string dir =
        projectPath.isEmpty() ? std::string(".") : session::project_base_dir(projectPath.toStdString());
    const session::Project p =
        session::parse_project(QJsonDocument(json).toJson(QJsonDocument::Compact).toStdString(), name, dir);
    for (const auto& [stage, hash] : session::stage_hashes(p))
      out[QString::fromStdString(session::stage_name(stage))] = QString::fromStdString(hash);
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

bool loadCurve(const QString& path, QVector<double>* steps, QVector<double>* values) {
  run::Curve curve;
  try {
    curve = run::read_curve(path.toStdString());
  } catch (const std::exception&) {
    return false;
  }
  steps->clear();
  values->clear();
  if (curve.columns.empty()) return true;
  for (size_t r = 0; r < curve.rows(); ++r) {
    steps->push_back(double(curve.steps[r]));
    values->push_back(curve.values[0][r]);
  }
  return true;
}

bool loadCellMeasures(const QString& path, QVector<double>* measures, QString* error) {
  try {
    const std::vector<double> m = run::read_cell_measures(path.toStdString());
    *measures = QVector<double>(m.begin(), m.end());
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
}

bool loadAotChunks(const QString& path, AotChunks* chunks, QString* error) {
  try {
    bool has_seconds = false;
    const auto rows = run::read_aot_chunks(path.toStdString(), &has_seconds);
    AotChunks out;
    for (const run::AotChunk& c : rows) {
      out.chunk << double(c.chunk);
      out.assigned << c.assigned_cost;
      out.random << c.random_cost;
      if (has_seconds) out.seconds << c.seconds;
    }
    *chunks = out;
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
}

QStringList findMethodsFiles(const QString& dir) {
  QString cells, chunks;
  if (!dir.isEmpty()) {
    QDirIterator it(dir, {run::file::kCellMeasures, run::file::kAotChunks}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext() && (cells.isEmpty() || chunks.isEmpty())) {
      const QString path = it.next();
      if (path.endsWith(".npy") && cells.isEmpty()) cells = path;
      if (path.endsWith(".csv") && chunks.isEmpty()) chunks = path;
    }
  }
  return {cells, chunks};
}

bool loadMethodsFile(MethodsView* view, const QString& path, QString* error) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "npy") {
    QVector<double> measures;
    if (!loadCellMeasures(path, &measures, error)) return false;
    view->setCellMeasures(measures, path);
    return true;
  }
  if (suffix == "csv") {
    AotChunks chunks;
    if (!loadAotChunks(path, &chunks, error)) return false;
    view->setAotChunks(chunks, path);
    return true;
  }
  if (error) *error = QString("%1: expected a cell_measures.npy or an aot_chunks.csv.").arg(path);
  return false;
}

}  // namespace otcs::workbench
