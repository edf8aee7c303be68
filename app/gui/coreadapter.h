#pragma once
// The one place where the GUI reads core data structures that carry LibTorch tensors: project point clouds,
// the sparse H and recorded trajectories, converted to the plain types the widgets take. This header is
// torch-free; only coreadapter.cpp includes LibTorch.
#include <QImage>
#include <QJsonObject>
#include <QMap>
#include <QPointF>
#include <QString>
#include <QVector>
#include <memory>

#include "widgets/evaluationview.h"
#include "widgets/keypointpair.h"
#include "widgets/methodsview.h"
#include "widgets/sparsegrid.h"
#include "widgets/trajectorydata.h"

namespace otcs::workbench {

struct ProjectData {
  QString error;           // empty when the project parsed and its data loaded
  bool userError = false;  // the project or its data is wrong (as opposed to an internal failure)
  int dim = 0;
  qint64 sourceFileCount = 0, targetFileCount = 0;  // points before the appended keypoint points
  QVector<QPointF> source, target;                  // the first two coordinates (all dims when dim == 2)
  QVector<int> sourceLabels, targetLabels;          // mixture component, -1 for file data and keypoint points
  KeypointPairs pairs;                              // indices into source/target, as the stages see them
  ImageShape imageShape;                            // when dim looks like an image (h*h or 3*h*h)
  std::shared_ptr<const std::vector<float>> sourceValues, targetValues;  // [n * dim], for thumbnails
  bool ok() const { return error.isEmpty(); }
};

// Validates `json` with the core's project parser (errors name the JSON path) and loads or generates its data,
// appending point-form keypoints to the sets exactly as a session does.
ProjectData loadProjectData(const QJsonObject& json, const QString& projectPath);

// What the preview decoded (File > Import dataset…; plain data, made off the GUI thread).
struct DatasetPreview {
  QString error;  // one sentence; empty when the set loaded
  qint64 count = 0;
  int dim = 0;
  QString shape;   // "28x28", "3x32x32", or "" for point data
  QString labels;  // "10 classes: 0 (1000), 1 (1000), ..." or ""
  QVector<QImage> thumbnails;
};
// Loads `dataset` (a project's data.source-style object) as the session would, resolving relative paths against
// `baseDir`, and returns at most `maxThumbnails` thumbnails.
DatasetPreview previewDataset(const QJsonObject& dataset, const QString& baseDir, int maxThumbnails = 48);

// RUN/bridge/H.npz (scipy CSR) as plain arrays; nullptr with *error on failure.
std::shared_ptr<SparseMatrixData> loadSparseMatrix(const QString& path, QString* error);

// RUN/sample/trajectories.npz: one Trajectory per source.
QVector<Trajectory> loadTrajectories(const QString& path, const QVector<QPointF>& sources, QString* error);

// The configuration hash each stage of `json` would run with (stage name -> hash), as the session computes it:
// compared with a run's done.json hashes it says which finished stages an edit made stale. Empty on a parse error.
QMap<QString, QString> stageHashes(const QJsonObject& json, const QString& projectPath);

// A run curve (RUN/ot/dual.csv, RUN/score/loss.csv; core/run/curve.h): its steps and first value column, with or
// without the wall_time column. False when the file is missing or does not parse.
bool loadCurve(const QString& path, QVector<double>* steps, QVector<double>* values);

// A DPM-OT run's cell measures (cell_measures.npy) and an AOT run's chunk costs (aot_chunks.csv), read by the
// core's readers; false with *error (one sentence naming the file) otherwise.
bool loadCellMeasures(const QString& path, QVector<double>* measures, QString* error);
bool loadAotChunks(const QString& path, AotChunks* chunks, QString* error);
// The first cell_measures.npy and aot_chunks.csv under `dir` (any depth); empty strings when absent.
QStringList findMethodsFiles(const QString& dir);
// Reads a file by its name (*.npy: cell measures, *.csv: AOT chunks) into the Methods view; a failed read leaves
// the view as it was.
bool loadMethodsFile(MethodsView* view, const QString& path, QString* error);

// A run's evaluation as the Evaluation view takes it (coreadapter_evaluation.cpp): the eval metrics of
// RUN/metrics.json as named rows, its confusion matrix (image translation runs), and for paired
// (super-resolution) evals the first test inputs of RUN/eval/translations.npz with one sample, the mean of samples
// and the truth. `error` names the file that could not be read; everything is empty when the run has no eval yet.
struct RunEvaluation {
  QString error;
  QVector<EvaluationMetric> metrics;
  ConfusionData confusion;
  ImageRows superResolution;
  bool isEmpty() const { return metrics.isEmpty() && confusion.isEmpty() && superResolution.isEmpty(); }
};
RunEvaluation loadRunEvaluation(const QString& runDir, int superResolutionColumns = 10);

}  // namespace otcs::workbench
