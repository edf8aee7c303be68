#include "widgets/sparsegrid.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace otcs {

float SparseMatrixData::at(qint64 row, qint64 col) const {
  if (row < 0 || row >= rows || col < 0 || col >= cols) return 0;
  const auto begin = indices.begin() + indptr[row], end = indices.begin() + indptr[row + 1];
  const auto it = std::lower_bound(begin, end, col);
  return it != end && *it == col ? values[it - indices.begin()] : 0.0f;
}

bool SparseMatrixData::valid() const {
  if (rows < 0 || cols < 0 || qint64(indptr.size()) != rows + 1 || indices.size() != values.size()) return false;
  if (indptr.front() != 0 || indptr.back() != nnz()) return false;
  for (qint64 r = 0; r < rows; ++r) {
    if (indptr[r] > indptr[r + 1]) return false;
    for (qint64 k = indptr[r]; k < indptr[r + 1]; ++k)
      if (indices[k] < 0 || indices[k] >= cols || (k > indptr[r] && indices[k] <= indices[k - 1])) return false;
  }
  return true;
}

MatrixOrder MatrixOrder::identity(qint64 rows, qint64 cols) {
  MatrixOrder o;
  o.rowOrder.resize(rows);
  o.colOrder.resize(cols);
  std::iota(o.rowOrder.begin(), o.rowOrder.end(), 0);
  std::iota(o.colOrder.begin(), o.colOrder.end(), 0);
  o.rowPosition = o.rowOrder;
  o.colPosition = o.colOrder;
  return o;
}

namespace {

QVector<qint64> inverse(const QVector<qint64>& order) {
  QVector<qint64> pos(order.size());
  for (qint64 k = 0; k < order.size(); ++k) pos[order[k]] = k;
  return pos;
}

// Stable sort of indices by key (ties keep the original order, so sorting is reproducible).
QVector<qint64> orderBy(const std::vector<double>& key, bool descending) {
  QVector<qint64> order(qint64(key.size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](qint64 a, qint64 b) { return descending ? key[a] > key[b] : key[a] < key[b]; });
  return order;
}

}  // namespace

MatrixOrder sortedOrder(const SparseMatrixData& m, RowSort rows, ColumnSort cols) {
  MatrixOrder o = MatrixOrder::identity(m.rows, m.cols);
  if (rows != RowSort::Original) {
    std::vector<double> key(m.rows, 0.0);
    for (qint64 r = 0; r < m.rows; ++r) {
      double best = -1, sum = 0;
      qint64 arg = m.cols;  // empty rows go last
      for (qint64 k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
        sum += m.values[k];
        if (m.values[k] > best) {
          best = m.values[k];
          arg = m.indices[k];
        }
      }
      key[r] = rows == RowSort::ByMass ? sum : double(arg);
    }
    o.rowOrder = orderBy(key, rows == RowSort::ByMass);
    o.rowPosition = inverse(o.rowOrder);
  }
  if (cols != ColumnSort::Original) {
    std::vector<double> key(m.cols, cols == ColumnSort::ByMass ? 0.0 : double(m.rows));
    std::vector<float> best(m.cols, -1.0f);
    for (qint64 r = 0; r < m.rows; ++r)
      for (qint64 k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
        const qint64 c = m.indices[k];
        if (cols == ColumnSort::ByMass) {
          key[c] += m.values[k];
        } else if (m.values[k] > best[c]) {
          best[c] = m.values[k];
          // Columns follow the rows' display order, so sorting both by argmax gives a band along the diagonal.
          key[c] = double(o.rowPosition[r]);
        }
      }
    o.colOrder = orderBy(key, cols == ColumnSort::ByMass);
    o.colPosition = inverse(o.colOrder);
  }
  return o;
}

PooledGrid poolMax(const SparseMatrixData& m, const MatrixOrder& order, double colBegin, double colEnd, double rowBegin,
                   double rowEnd, int maxWidth, int maxHeight, float threshold) {
  PooledGrid g;
  // Snap the window to whole matrix cells and clip it to the matrix.
  const qint64 c0 = qBound<qint64>(0, qint64(std::floor(colBegin)), m.cols);
  const qint64 c1 = qBound<qint64>(c0, qint64(std::ceil(colEnd)), m.cols);
  const qint64 r0 = qBound<qint64>(0, qint64(std::floor(rowBegin)), m.rows);
  const qint64 r1 = qBound<qint64>(r0, qint64(std::ceil(rowEnd)), m.rows);
  g.colBegin = double(c0);
  g.colEnd = double(c1);
  g.rowBegin = double(r0);
  g.rowEnd = double(r1);
  if (c1 <= c0 || r1 <= r0 || maxWidth < 1 || maxHeight < 1) return g;
  g.width = int(std::min<qint64>(c1 - c0, maxWidth));
  g.height = int(std::min<qint64>(r1 - r0, maxHeight));
  g.cells.fill(std::numeric_limits<float>::quiet_NaN(), qint64(g.width) * g.height);
  // Integer arithmetic maps a display index to its cell exactly: cell = (index - begin) * cells / span.
  const qint64 col_span = c1 - c0, row_span = r1 - r0;
  const bool identity_cols = order.colPosition.isEmpty();
  for (qint64 rd = r0; rd < r1; ++rd) {
    const qint64 r = order.rowOrder.isEmpty() ? rd : order.rowOrder[rd];
    const int y = int((rd - r0) * g.height / row_span);
    float* row_cells = g.cells.data() + qint64(y) * g.width;
    for (qint64 k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      const float v = m.values[k];
      if (!(v > threshold)) continue;
      const qint64 cd = identity_cols ? m.indices[k] : order.colPosition[m.indices[k]];
      if (cd < c0 || cd >= c1) continue;
      float& cell = row_cells[(cd - c0) * g.width / col_span];
      if (std::isnan(cell) || v > cell) cell = v;
      g.maxValue = std::max(g.maxValue, v);
      ++g.entries;
    }
  }
  return g;
}

MatrixDiagnostics diagnose(const SparseMatrixData& m) {
  MatrixDiagnostics d;
  if (m.rows == 0 || m.cols == 0) return d;
  std::vector<double> col_sum(m.cols, 0.0);
  double row_total = 0;
  d.rowSumMin = std::numeric_limits<double>::infinity();
  d.rowSumMax = -d.rowSumMin;
  d.valueMin = std::numeric_limits<float>::infinity();
  d.valueMax = -d.valueMin;
  for (qint64 r = 0; r < m.rows; ++r) {
    const qint64 n = m.indptr[r + 1] - m.indptr[r];
    if (n == 0) ++d.emptyRows;
    d.nnzPerRowMax = std::max(d.nnzPerRowMax, n);
    double sum = 0;
    for (qint64 k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      sum += m.values[k];
      col_sum[m.indices[k]] += m.values[k];
      d.valueMin = std::min(d.valueMin, m.values[k]);
      d.valueMax = std::max(d.valueMax, m.values[k]);
    }
    d.rowSumMin = std::min(d.rowSumMin, sum);
    d.rowSumMax = std::max(d.rowSumMax, sum);
    row_total += sum;
  }
  if (m.nnz() == 0) d.valueMin = d.valueMax = 0;
  d.rowSumMean = row_total / m.rows;
  d.nnzPerRowMean = double(m.nnz()) / m.rows;
  d.colSumMin = *std::min_element(col_sum.begin(), col_sum.end());
  d.colSumMax = *std::max_element(col_sum.begin(), col_sum.end());
  d.colSumMean = row_total / m.cols;
  d.emptyCols = std::count(col_sum.begin(), col_sum.end(), 0.0);
  return d;
}

QVector<QPair<qint64, float>> topInRow(const SparseMatrixData& m, qint64 row, int k) {
  QVector<QPair<qint64, float>> out;
  if (row < 0 || row >= m.rows) return out;
  for (qint64 e = m.indptr[row]; e < m.indptr[row + 1]; ++e) out.push_back({m.indices[e], m.values[e]});
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.size() > k) out.resize(k);
  return out;
}

QVector<QPair<qint64, float>> topInColumn(const SparseMatrixData& m, qint64 col, int k) {
  QVector<QPair<qint64, float>> out;
  if (col < 0 || col >= m.cols) return out;
  for (qint64 r = 0; r < m.rows; ++r) {
    const float v = m.at(r, col);
    if (v != 0.0f) out.push_back({r, v});
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.size() > k) out.resize(k);
  return out;
}

}  // namespace otcs
