#include "widgets/evaluationview.h"

#include <QEvent>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>
#include <QSplitter>
#include <QTableWidget>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "widgets/styledplot.h"

namespace otcs {

namespace {

const QColor kExpectedColor(213, 94, 0);  // Okabe-Ito vermillion: the outline of each row's expected cell
const QColor kInk(40, 40, 40);

// A sequential white-to-blue gradient (ColorBrewer "Blues"), so the annotations read on every cell.
QCPColorGradient bluesGradient() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(247, 251, 255));
  g.setColorStopAt(0.25, QColor(198, 219, 239));
  g.setColorStopAt(0.5, QColor(107, 174, 214));
  g.setColorStopAt(0.75, QColor(33, 113, 181));
  g.setColorStopAt(1.0, QColor(8, 48, 107));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

QString formatValue(double v) {
  if (!std::isfinite(v)) return "–";
  if (v == std::round(v) && std::abs(v) < 1e9) return QString::number(qint64(v));
  return QString::number(v, 'g', 5);
}

QString percent(double share) { return QString::number(100.0 * share, 'f', 1) + "%"; }

}  // namespace

bool ConfusionData::isValid() const {
  if (isEmpty() || counts.size() != rows() * columns() || expectedColumn.size() != rows()) return false;
  for (int c : expectedColumn)
    if (c < -1 || c >= columns()) return false;
  return std::all_of(counts.begin(), counts.end(), [](double v) { return v >= 0 && std::isfinite(v); });
}

double ConfusionData::rowTotal(int row) const {
  double n = 0;
  for (int c = 0; c < columns(); ++c) n += count(row, c);
  return n;
}

double ConfusionData::rowAccuracy(int row) const {
  const double n = rowTotal(row);
  const int c = expectedColumn[row];
  return n > 0 && c >= 0 ? count(row, c) / n : 0.0;
}

double ConfusionData::accuracy() const {
  double n = 0, hit = 0;
  for (int r = 0; r < rows(); ++r) {
    n += rowTotal(r);
    if (expectedColumn[r] >= 0) hit += count(r, expectedColumn[r]);
  }
  return n > 0 ? hit / n : 0.0;
}

EvaluationView::EvaluationView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  title_ = new QLabel(this);
  title_->setObjectName("evaluationTitle");
  title_->setWordWrap(true);
  layout->addWidget(title_);
  empty_ = new QLabel(this);
  empty_->setObjectName("evaluationEmpty");
  empty_->setWordWrap(true);
  empty_->setAlignment(Qt::AlignCenter);
  layout->addWidget(empty_, 1);

  splitter_ = new QSplitter(Qt::Horizontal, this);
  auto* splitter = splitter_;
  splitter->setObjectName("evaluationSplitter");
  table_ = new QTableWidget(0, 3, splitter);
  table_->setObjectName("evaluationMetrics");
  table_->setHorizontalHeaderLabels({"metric", "value", "detail"});
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(true);
  table_->horizontalHeader()->setStretchLastSection(true);
  auto* right = new QWidget(splitter);
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  plot_ = new StyledPlot(right);
  connect(plot_, &QCustomPlot::afterLayout, this, &EvaluationView::fitAnnotationFonts);
  plot_->setObjectName("confusionPlot");
  plot_->setInteractions(QCP::Interactions());  // a fixed grid of cells: nothing to drag or zoom
  plot_->setMouseTracking(true);
  plot_->installEventFilter(this);
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, "Confusion matrix"));
  map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
  map_->setGradient(bluesGradient());
  map_->setInterpolate(false);
  map_->setDataRange(QCPRange(0, 1));
  plot_->yAxis->setRangeReversed(true);
  plot_->yAxis2->setRangeReversed(true);
  plot_->yAxis2->setVisible(true);
  plot_->yAxis2->setTickLabels(true);  // QCustomPlot hides the right axis's labels by default
  plot_->xAxis->setLabel("class read by the classifier");
  plot_->yAxis->setLabel("source class");
  plot_->yAxis2->setLabel("row accuracy");
  for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis, plot_->yAxis2}) {
    axis->grid()->setVisible(false);
    axis->setSubTicks(false);
    axis->setTickLength(0, 4);
  }
  right_layout->addWidget(plot_, 3);
  images_ = new QLabel(right);
  images_->setObjectName("superResolutionGrid");
  images_->setAlignment(Qt::AlignCenter);
  // Drawn scaled into whatever room it gets: a grid wider than the screen must not widen the window.
  images_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
  images_->setMinimumSize(1, 1);
  images_->installEventFilter(this);
  right_layout->addWidget(images_, 2);
  splitter->addWidget(table_);
  splitter->addWidget(right);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);
  layout->addWidget(splitter, 1);
  clear();
}

void EvaluationView::setEvaluation(const QString& title, const QVector<EvaluationMetric>& metrics,
                                   const ConfusionData& confusion, const ImageRows& superResolution) {
  title_text_ = title;
  metrics_ = metrics;
  confusion_ = confusion.isValid() ? confusion : ConfusionData{};
  sr_ = superResolution;
  title_->setText(title);
  const bool any = !metrics_.isEmpty() || !confusion_.isEmpty() || !sr_.isEmpty();
  empty_->setVisible(!any);
  splitter_->setVisible(any);
  rebuildTable();
  rebuildPlot();
  rebuildImages();
}

void EvaluationView::clear(const QString& emptyText) {
  setEvaluation(QString(), {}, {}, {});
  empty_->setText(emptyText.isEmpty()
                      ? "No evaluation yet: the eval stage of a run writes its metrics (metrics.json); open or run one."
                      : emptyText);
}

void EvaluationView::rebuildTable() {
  table_->setRowCount(int(metrics_.size()));
  for (int i = 0; i < metrics_.size(); ++i) {
    const auto& m = metrics_[i];
    auto* value = new QTableWidgetItem(formatValue(m.value));
    value->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    table_->setItem(i, 0, new QTableWidgetItem(m.name));
    table_->setItem(i, 1, value);
    table_->setItem(i, 2, new QTableWidgetItem(m.detail));
  }
  table_->resizeColumnsToContents();
  // The table as wide as its names and values (and some detail), at most half the view; the rest for the plots.
  const int want = table_->columnWidth(0) + table_->columnWidth(1) + std::min(table_->columnWidth(2), 160) + 24;
  const int total = std::max(splitter_->width(), 800);
  splitter_->setSizes({std::min(want, total / 2), total - std::min(want, total / 2)});
}

QString EvaluationView::cellText(int row, int column) const {
  const double n = confusion_.rowTotal(row), k = confusion_.count(row, column);
  return (n > 0 ? percent(k / n) : QString("–")) + "\n" + formatValue(k);
}

QString EvaluationView::cellToolTip(int row, int column) const {
  const double n = confusion_.rowTotal(row), k = confusion_.count(row, column);
  QString text = QString("source class %1, read as %2: %3 of %4 inputs (%5)")
                     .arg(confusion_.rowLabels[row], confusion_.columnLabels[column], formatValue(k), formatValue(n),
                          n > 0 ? percent(k / n) : QString("–"));
  if (confusion_.expectedColumn[row] == column) text += "; the expected class";
  return text;
}

void EvaluationView::fitAnnotationFonts() {
  if (annotations_.isEmpty() || confusion_.isEmpty()) return;
  const QRect area = plot_->axisRect()->rect();
  const double cell_w = double(area.width()) / confusion_.columns(), cell_h = double(area.height()) / confusion_.rows();
  int size = 12;
  for (; size > 6; --size) {
    const QFontMetrics fm(QFont(font().family(), size));
    if (fm.horizontalAdvance("100.0%") <= cell_w - 4 && 2 * fm.lineSpacing() <= cell_h - 2) break;
  }
  const QFont f(font().family(), size);
  for (auto* text : annotations_) text->setFont(f);
}

void EvaluationView::rebuildPlot() {
  for (auto* item : annotations_) plot_->removeItem(item);
  for (auto* item : outlines_) plot_->removeItem(item);
  annotations_.clear();
  outlines_.clear();
  plot_->setVisible(!confusion_.isEmpty());
  if (confusion_.isEmpty()) return;
  const int rows = confusion_.rows(), cols = confusion_.columns();
  auto* title = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0));
  if (title)
    title->setText(QString("Confusion matrix: accuracy %1 on %2 inputs (cells: share of the row)")
                       .arg(confusion_.accuracy(), 0, 'f', 3)
                       .arg(formatValue(std::accumulate(confusion_.counts.begin(), confusion_.counts.end(), 0.0))));
  map_->data()->setSize(cols, rows);
  map_->data()->setRange(QCPRange(0, std::max(1, cols - 1)), QCPRange(0, std::max(1, rows - 1)));
  if (cols == 1) map_->data()->setKeyRange(QCPRange(-0.5, 0.5));
  if (rows == 1) map_->data()->setValueRange(QCPRange(-0.5, 0.5));
  for (int r = 0; r < rows; ++r) {
    const double n = confusion_.rowTotal(r);
    for (int c = 0; c < cols; ++c) {
      const double share = n > 0 ? confusion_.count(r, c) / n : 0.0;
      map_->data()->setCell(c, r, share);
      auto* text = new QCPItemText(plot_);
      text->position->setType(QCPItemPosition::ptPlotCoords);
      text->position->setCoords(c, r);
      text->setText(cellText(r, c));
      text->setTextAlignment(Qt::AlignCenter);
      text->setColor(share > 0.55 ? Qt::white : kInk);
      text->setClipToAxisRect(true);
      annotations_.push_back(text);
    }
    const int e = confusion_.expectedColumn[r];
    if (e >= 0) {
      auto* rect = new QCPItemRect(plot_);
      rect->topLeft->setCoords(e - 0.46, r - 0.46);
      rect->bottomRight->setCoords(e + 0.46, r + 0.46);
      rect->setPen(QPen(kExpectedColor, 3));
      rect->setBrush(Qt::NoBrush);
      outlines_.push_back(rect);
    }
  }
  auto columns = QSharedPointer<QCPAxisTickerText>::create();
  for (int c = 0; c < cols; ++c) columns->addTick(c, confusion_.columnLabels[c]);
  auto rowsTicker = QSharedPointer<QCPAxisTickerText>::create(), accuracy = QSharedPointer<QCPAxisTickerText>::create();
  for (int r = 0; r < rows; ++r) {
    rowsTicker->addTick(r, confusion_.rowLabels[r]);
    accuracy->addTick(
        r, QString("%1 (%2/%3)")
               .arg(percent(confusion_.rowAccuracy(r)))
               .arg(formatValue(confusion_.expectedColumn[r] >= 0 ? confusion_.count(r, confusion_.expectedColumn[r])
                                                                  : 0.0))
               .arg(formatValue(confusion_.rowTotal(r))));
  }
  plot_->xAxis->setTicker(columns);
  plot_->yAxis->setTicker(rowsTicker);
  plot_->yAxis2->setTicker(accuracy);
  plot_->xAxis->setRange(-0.5, cols - 0.5);
  plot_->yAxis->setRange(-0.5, rows - 0.5);
  plot_->yAxis2->setRange(-0.5, rows - 0.5);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void EvaluationView::rebuildImages() {
  sr_image_ = QImage();
  images_->setVisible(!sr_.isEmpty());
  if (sr_.isEmpty()) {
    images_->clear();
    return;
  }
  int per_row = 0, cell_w = 0, cell_h = 0;
  for (const auto& row : sr_.rows) {
    per_row = std::max(per_row, int(row.size()));
    for (const QImage& im : row) {
      cell_w = std::max(cell_w, im.width());
      cell_h = std::max(cell_h, im.height());
    }
  }
  if (per_row == 0 || cell_h == 0) return;
  const int scale = std::max(1, 96 / cell_h), pad = 3;
  const QFontMetrics fm(font());
  int label_w = 0;
  for (const QString& l : sr_.labels) label_w = std::max(label_w, fm.horizontalAdvance(l));
  label_w += 10;
  const int w = label_w + per_row * (cell_w * scale + pad), h = int(sr_.rows.size()) * (cell_h * scale + pad);
  sr_image_ = QImage(w, h, QImage::Format_RGB32);
  sr_image_.fill(Qt::white);
  QPainter p(&sr_image_);
  p.setPen(kInk);
  for (int r = 0; r < sr_.rows.size(); ++r) {
    const int y = r * (cell_h * scale + pad);
    if (r < sr_.labels.size())
      p.drawText(QRect(0, y, label_w - 8, cell_h * scale), Qt::AlignRight | Qt::AlignVCenter, sr_.labels[r]);
    for (int i = 0; i < sr_.rows[r].size(); ++i)
      p.drawImage(QRect(label_w + i * (cell_w * scale + pad), y, cell_w * scale, cell_h * scale), sr_.rows[r][i]);
  }
  p.end();
  showScaledImages();
}

void EvaluationView::showScaledImages() {
  if (sr_image_.isNull() || images_->width() < 2 || images_->height() < 2) return;
  const QSize room = images_->size();
  images_->setPixmap(QPixmap::fromImage(sr_image_.size().boundedTo(room) == sr_image_.size()
                                            ? sr_image_
                                            : sr_image_.scaled(room, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
}

bool EvaluationView::cellAt(const QPointF& pixel, int* row, int* column) const {
  if (confusion_.isEmpty() || !plot_->axisRect()->rect().contains(pixel.toPoint())) return false;
  const int c = int(std::lround(plot_->xAxis->pixelToCoord(pixel.x())));
  const int r = int(std::lround(plot_->yAxis->pixelToCoord(pixel.y())));
  if (r < 0 || r >= confusion_.rows() || c < 0 || c >= confusion_.columns()) return false;
  *row = r;
  *column = c;
  return true;
}

QString EvaluationView::hoverAt(const QPointF& pixel) {
  int r = 0, c = 0;
  return cellAt(pixel, &r, &c) ? cellToolTip(r, c) : QString();
}

bool EvaluationView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == images_ && event->type() == QEvent::Resize) showScaledImages();
  if (watched == plot_ && event->type() == QEvent::MouseMove) {
    const auto* e = static_cast<QMouseEvent*>(event);
    const QString text = hoverAt(e->position());
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(e->globalPosition().toPoint(), text, plot_);
  }
  return QWidget::eventFilter(watched, event);
}

QSize EvaluationView::figureSize() const { return isVisible() && !size().isEmpty() ? size() : QSize(1200, 700); }

// The widths of the exported table's name, value and detail columns for the painter's font.
static std::array<int, 3> tableColumns(const QVector<EvaluationMetric>& metrics, const QFontMetrics& fm) {
  std::array<int, 3> w{0, 0, 0};
  for (const auto& m : metrics) {
    w[0] = std::max(w[0], fm.horizontalAdvance(m.name) + 16);
    w[1] = std::max(w[1], fm.horizontalAdvance(formatValue(m.value)) + 12);
    w[2] = std::max(w[2], fm.horizontalAdvance(m.detail) + 12);
  }
  return w;
}

void EvaluationView::drawTable(QPainter& painter, const QRect& rect) const {
  const QFontMetrics fm(painter.font());
  const int line = std::max(16, fm.height() + 4);
  const auto w = tableColumns(metrics_, fm);
  for (int i = 0; i < metrics_.size() && (i + 1) * line <= rect.height(); ++i) {
    const QRect row(rect.x(), rect.y() + i * line, rect.width(), line);
    if (i % 2) painter.fillRect(row, QColor(244, 244, 244));
    painter.setPen(kInk);
    painter.drawText(QRect(row.x() + 4, row.y(), w[0] - 4, line), Qt::AlignLeft | Qt::AlignVCenter, metrics_[i].name);
    painter.drawText(QRect(row.x() + w[0], row.y(), w[1] - 6, line), Qt::AlignRight | Qt::AlignVCenter,
                     formatValue(metrics_[i].value));
    painter.setPen(QColor(100, 100, 100));
    painter.drawText(QRect(row.x() + w[0] + w[1], row.y(), std::max(0, rect.width() - w[0] - w[1]), line),
                     Qt::AlignLeft | Qt::AlignVCenter, metrics_[i].detail);
  }
}

void EvaluationView::renderFigure(QCPPainter& painter, const QSize& size) {
  painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
  painter.setPen(kInk);
  const int top = title_text_.isEmpty() ? 0 : 26;
  if (top) painter.drawText(QRect(0, 0, size.width(), top), Qt::AlignCenter, title_text_);
  const bool right_side = !confusion_.isEmpty() || !sr_.isEmpty();
  const auto columns = tableColumns(metrics_, QFontMetrics(painter.font()));
  const int table_need = columns[0] + columns[1] + columns[2];
  const int table_w = right_side ? std::min(table_need, size.width() * 9 / 20) : size.width();
  drawTable(painter, QRect(0, top, table_w, size.height() - top));
  if (!right_side) return;
  const int x = table_w + 8, w = size.width() - x, h = size.height() - top;
  int plot_h = 0;
  if (!confusion_.isEmpty()) {
    plot_h = sr_.isEmpty() ? h : h * 3 / 5;
    painter.save();
    painter.translate(x, top);
    renderPlot(plot_, painter, QSize(w, plot_h));
    painter.restore();
  }
  if (!sr_image_.isNull()) {
    const QRect area(x, top + plot_h, w, h - plot_h);
    const QImage scaled = sr_image_.size().boundedTo(area.size()) == sr_image_.size()
                              ? sr_image_
                              : sr_image_.scaled(area.size(), Qt::KeepAspectRatio, Qt::SmoothTransformation);
    painter.drawImage(QPoint(area.x() + (area.width() - scaled.width()) / 2, area.y()), scaled);
  }
}

void EvaluationView::writeFigureCsv(QTextStream& out) const {
  out << "section,name,column,value,detail\n";
  for (const auto& m : metrics_)
    out << "metric," << csvField(m.name) << ",," << QString::number(m.value, 'g', 12) << ',' << csvField(m.detail)
        << '\n';
  for (int r = 0; r < confusion_.rows(); ++r)
    for (int c = 0; c < confusion_.columns(); ++c)
      out << "confusion," << csvField(confusion_.rowLabels[r]) << ',' << csvField(confusion_.columnLabels[c]) << ','
          << formatValue(confusion_.count(r, c)) << ',' << (confusion_.expectedColumn[r] == c ? "expected" : "")
          << '\n';
}

}  // namespace otcs
