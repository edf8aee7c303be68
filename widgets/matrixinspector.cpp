#include "widgets/matrixinspector.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "widgets/heatmapview.h"

namespace otcs {

namespace {
QTableWidget* makeTable(QWidget* parent, const QString& name, const QString& index_header) {
  auto* t = new QTableWidget(0, 3, parent);
  t->setObjectName(name);
  t->setHorizontalHeaderLabels({index_header, "H", "where"});
  t->verticalHeader()->hide();
  t->horizontalHeader()->setStretchLastSection(true);
  t->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setAlternatingRowColors(true);
  t->setIconSize(QSize(40, 40));
  return t;
}
}  // namespace

MatrixInspector::MatrixInspector(QWidget* parent) : QWidget(parent) {
  heatmap_ = new HeatmapView(this);
  row_title_ = new QLabel("Row inspector: click a cell.", this);
  col_title_ = new QLabel("Column inspector: click a cell.", this);
  row_title_->setWordWrap(true);
  col_title_->setWordWrap(true);
  row_table_ = makeTable(this, "rowInspector", "target j");
  col_table_ = makeTable(this, "columnInspector", "source i");
  top_k_ = new QSpinBox(this);
  top_k_->setRange(1, 1000);
  top_k_->setValue(10);
  top_k_->setPrefix("top ");

  auto* side = new QWidget(this);
  auto* side_layout = new QVBoxLayout(side);
  side_layout->setContentsMargins(6, 4, 6, 4);
  auto* k_row = new QHBoxLayout;
  k_row->addWidget(new QLabel("Entries shown:", side));
  k_row->addWidget(top_k_);
  k_row->addStretch(1);
  side_layout->addLayout(k_row);
  side_layout->addWidget(row_title_);
  side_layout->addWidget(row_table_, 1);
  side_layout->addWidget(col_title_);
  side_layout->addWidget(col_table_, 1);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(heatmap_);
  splitter->addWidget(side);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({800, 380});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);

  connect(heatmap_, &HeatmapView::cellClicked, this, &MatrixInspector::inspect);
  connect(top_k_, qOverload<int>(&QSpinBox::valueChanged), this, &MatrixInspector::refresh);
  connect(row_table_, &QTableWidget::cellDoubleClicked, this, [this](int r, int) {
    if (auto* item = row_table_->item(r, 0)) emit entryActivated(row_, item->data(Qt::UserRole).toLongLong());
  });
  connect(col_table_, &QTableWidget::cellDoubleClicked, this, [this](int r, int) {
    if (auto* item = col_table_->item(r, 0)) emit entryActivated(item->data(Qt::UserRole).toLongLong(), col_);
  });
}

void MatrixInspector::setMatrix(std::shared_ptr<const SparseMatrixData> matrix) {
  matrix_ = matrix;
  heatmap_->setMatrix(std::move(matrix));
  row_ = col_ = -1;
  refresh();
}

void MatrixInspector::inspect(qint64 row, qint64 col) {
  row_ = row;
  col_ = col;
  refresh();
}

void MatrixInspector::fill(QTableWidget* table, Domain domain, const QVector<QPair<qint64, float>>& entries) {
  table->setRowCount(entries.size());
  for (int k = 0; k < entries.size(); ++k) {
    auto* index = new QTableWidgetItem(QString::number(entries[k].first));
    index->setData(Qt::UserRole, entries[k].first);
    if (thumbnails_) index->setIcon(QPixmap::fromImage(thumbnails_(domain, entries[k].first)));
    table->setItem(k, 0, index);
    table->setItem(k, 1, new QTableWidgetItem(QString::number(double(entries[k].second), 'g', 5)));
    table->setItem(k, 2, new QTableWidgetItem(describer_ ? describer_(domain, entries[k].first) : QString()));
  }
  table->resizeColumnsToContents();
}

void MatrixInspector::refresh() {
  const int k = top_k_->value();
  if (matrix_ && row_ >= 0 && row_ < matrix_->rows) {
    const qint64 n = matrix_->indptr[row_ + 1] - matrix_->indptr[row_];
    double sum = 0;
    for (qint64 e = matrix_->indptr[row_]; e < matrix_->indptr[row_ + 1]; ++e) sum += matrix_->values[e];
    row_title_->setText(QString("<b>Source i = %1</b>%2: %3 targets, row sum %4")
                            .arg(row_)
                            .arg(describer_ ? " " + describer_(Domain::Source, row_) : QString())
                            .arg(n)
                            .arg(sum, 0, 'g', 4));
    fill(row_table_, Domain::Target, topInRow(*matrix_, row_, k));
  } else {
    row_title_->setText("Row inspector: click a cell of H.");
    row_table_->setRowCount(0);
  }
  if (matrix_ && col_ >= 0 && col_ < matrix_->cols) {
    const auto all = topInColumn(*matrix_, col_, int(std::min<qint64>(matrix_->rows, 1 << 30)));
    double sum = 0;
    for (const auto& e : all) sum += e.second;
    col_title_->setText(QString("<b>Target j = %1</b>%2: %3 sources, column sum %4")
                            .arg(col_)
                            .arg(describer_ ? " " + describer_(Domain::Target, col_) : QString())
                            .arg(all.size())
                            .arg(sum, 0, 'g', 4));
    fill(col_table_, Domain::Source, all.mid(0, k));
  } else {
    col_title_->setText("Column inspector: click a cell of H.");
    col_table_->setRowCount(0);
  }
}

QSize MatrixInspector::figureSize() const { return heatmap_->figureSize(); }
void MatrixInspector::renderFigure(QCPPainter& painter, const QSize& size) { heatmap_->renderFigure(painter, size); }
void MatrixInspector::writeFigureCsv(QTextStream& out) const { heatmap_->writeFigureCsv(out); }

}  // namespace otcs
