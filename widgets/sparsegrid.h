#pragma once
// A sparse matrix as plain CSR arrays (the widgets never see LibTorch) and the level-of-detail grid the heatmap
// draws: each screen cell holds the MAXIMUM of the entries that fall into it, so an isolated non-zero stays
// visible at every zoom (a mean would dilute it to nothing). Row and column orders permute the display.
#include <QVector>
#include <QtGlobal>
#include <limits>
#include <vector>

namespace otcs {

struct SparseMatrixData {
  qint64 rows = 0, cols = 0;
  std::vector<qint64> indptr;   // [rows + 1]
  std::vector<qint64> indices;  // [nnz] column of each entry, sorted within a row
  std::vector<float> values;    // [nnz]
  qint64 nnz() const { return qint64(indices.size()); }
  float at(qint64 row, qint64 col) const;  // 0 when not stored
  bool valid() const;                      // structure consistent
};

// Orders: `order[k]` is the original index shown at display position k; `position` is its inverse.
struct MatrixOrder {
  QVector<qint64> rowOrder, colOrder;
  QVector<qint64> rowPosition, colPosition;
  static MatrixOrder identity(qint64 rows, qint64 cols);
};

enum class RowSort { Original, ByArgmaxTarget, ByMass };
enum class ColumnSort { Original, ByArgmaxSource, ByMass };
MatrixOrder sortedOrder(const SparseMatrixData& m, RowSort rows, ColumnSort cols);

struct PooledGrid {
  int width = 0, height = 0;        // cells
  double colBegin = 0, colEnd = 0;  // display-column range covered ([begin, end) in matrix units)
  double rowBegin = 0, rowEnd = 0;
  QVector<float> cells;  // [height * width], row-major; NaN where nothing is stored
  float maxValue = 0;
  qint64 entries = 0;  // stored entries above the threshold inside the window
  float cell(int x, int y) const { return cells[y * width + x]; }
};

// Max-pools the entries > threshold whose display position lies in [colBegin, colEnd) x [rowBegin, rowEnd)
// onto at most maxWidth x maxHeight cells (never more cells than matrix rows/columns in the window).
PooledGrid poolMax(const SparseMatrixData& m, const MatrixOrder& order, double colBegin, double colEnd, double rowBegin,
                   double rowEnd, int maxWidth, int maxHeight, float threshold);

// Marginal diagnostics of H: row and column sums and occupancy.
struct MatrixDiagnostics {
  qint64 emptyRows = 0, emptyCols = 0;
  double rowSumMin = 0, rowSumMax = 0, rowSumMean = 0;
  double colSumMin = 0, colSumMax = 0, colSumMean = 0;
  double nnzPerRowMean = 0;
  qint64 nnzPerRowMax = 0;
  float valueMin = 0, valueMax = 0;
};
MatrixDiagnostics diagnose(const SparseMatrixData& m);

// The k largest entries of a row / a column: (index, value), largest first.
QVector<QPair<qint64, float>> topInRow(const SparseMatrixData& m, qint64 row, int k);
QVector<QPair<qint64, float>> topInColumn(const SparseMatrixData& m, qint64 col, int k);

}  // namespace otcs
