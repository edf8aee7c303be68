#pragma once
// Shared by the in-process workbench tests: a small, fast project (the shipped toy2d project when present),
// test output folders, and an isolated QSettings location.
#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QString>
#include <QTemporaryDir>

#include "widgets/heatmapview.h"
#include "widgets/styledplot.h"

namespace otcs_test {

// Debian's dataset-fashion-mnist, the image data the workbench tests use (they skip without it).
inline constexpr const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";

inline QString outputDir(const QString& sub = QString()) {
  QString dir = qEnvironmentVariable("OTCS_TEST_OUTPUT", QStringLiteral(OTCS_BINARY_DIR "/test-output"));
  if (!sub.isEmpty()) dir = QDir(dir).filePath(sub);
  QDir().mkpath(dir);
  return dir;
}

// Two Gaussian blobs per side, two keypoint pairs, every stage sized to run in seconds on 2 cores.
inline QByteArray smallProjectJson() {
  return R"({
  "schema_version": 1,
  "name": "test toy 2-D",
  "description": "Written by the workbench tests.",
  "data": {
    "source": {"mixture": [{"mean": [-2, -1], "std": 0.35}, {"mean": [-2, 1], "std": 0.35}], "n": 120, "seed": 1},
    "target": {"mixture": [{"mean": [2, -1], "std": 0.35}, {"mean": [2, 1], "std": 0.35}], "n": 120, "seed": 2},
    "keypoints": [{"source_index": 0, "target_index": 60}, {"source_index": 60, "target_index": 0}]
  },
  "stages": {
    "ot": {"solver": "exact", "epsilon": 0.01},
    "score": {"steps": 3000, "batch": 128, "log_every": 20, "checkpoint_every": 1000,
              "network": {"hidden": 64, "blocks": 1, "embed_dim": 32},
              "schedule": {"steps": 100}},
    "sample": {"sources": 2, "per_source": 16, "trajectory_frames": 11, "trajectory_paths": 6},
    "eval": {"enabled": false}
  }
})";
}

// Writes the small project into `dir` and returns its path.
inline QString writeSmallProject(const QTemporaryDir& dir, const QString& name = "toy.json") {
  const QString path = dir.filePath(name);
  QFile file(path);
  if (file.open(QIODevice::WriteOnly)) file.write(smallProjectJson());
  return path;
}

// The pixel of the first non-zero cell of the shown H (scanning rows of pixels from the top left), and its row;
// row -1 when none is found.
inline QPoint firstNonZeroCell(otcs::HeatmapView* heatmap, qint64* row, int stride = 2) {
  qint64 i = -1, j = -1;
  const QRect r = heatmap->plot()->axisRect()->rect();
  for (int y = r.top() + 2; y < r.bottom(); y += stride)
    for (int x = r.left() + 2; x < r.right(); x += stride)
      if (heatmap->cellAt(QPointF(x, y), &i, &j) && heatmap->matrix()->at(i, j) > 0) {
        *row = i;
        return QPoint(x, y);
      }
  *row = -1;
  return {};
}

inline void isolateSettings(const QTemporaryDir& dir) {
  qputenv("XDG_CONFIG_HOME", dir.filePath("config").toUtf8());
  QStandardPaths::setTestModeEnabled(true);
}

}  // namespace otcs_test
