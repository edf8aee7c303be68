#include "widgets/methodsview.h"

#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QRegularExpression>
#include <QTextStream>
#include <QVBoxLayout>
#include <QtEndian>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "widgets/styledplot.h"

namespace otcs {

namespace {
bool fail(QString* error, const QString& message) {
  if (error) *error = message;
  return false;
}
}  // namespace

bool readNpyVector(const QString& path, QVector<double>* out, QString* error) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return fail(error, QString("Cannot open %1: %2").arg(path, file.errorString()));
  const QByteArray bytes = file.readAll();
  const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.constData(), magic, 6) != 0)
    return fail(error, QString("%1 is not a .npy file (no \\x93NUMPY magic).").arg(path));
  const int major = quint8(bytes[6]);
  qint64 header_len = 0, offset = 0;
  if (major == 1) {
    header_len = qFromLittleEndian<quint16>(bytes.constData() + 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return fail(error, QString("%1 is truncated (.npy header).").arg(path));
    header_len = qFromLittleEndian<quint32>(bytes.constData() + 8);
    offset = 12;
  } else {
    return fail(error, QString("%1: unsupported .npy format version %2.").arg(path).arg(major));
  }
  if (offset + header_len > bytes.size()) return fail(error, QString("%1 is truncated (.npy header).").arg(path));
  const QString header = QString::fromLatin1(bytes.constData() + offset, int(header_len));
  const auto descr = QRegularExpression(R"('descr'\s*:\s*'([<>|=]?)([fiu])(\d+)')").match(header);
  const auto shape = QRegularExpression(R"('shape'\s*:\s*\(([^)]*)\))").match(header);
  if (!descr.hasMatch() || !shape.hasMatch()) return fail(error, QString("%1: unreadable .npy header.").arg(path));
  if (header.contains(QRegularExpression(R"('fortran_order'\s*:\s*True)")) && shape.captured(1).count(',') > 1)
    return fail(error, QString("%1: Fortran-ordered arrays are not supported.").arg(path));
  const QString kind = descr.captured(2);
  const int width = descr.captured(3).toInt();
  if (descr.captured(1) == ">" || kind != "f" || (width != 4 && width != 8))
    return fail(error, QString("%1: expected little-endian float64 or float32, got '%2%3%4'.")
                           .arg(path, descr.captured(1), kind, descr.captured(3)));
  qint64 count = 1;
  int dims = 0;
  for (const QString& d : shape.captured(1).split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const qint64 n = d.trimmed().toLongLong(&ok);
    if (!ok || n < 0) return fail(error, QString("%1: unreadable .npy shape (%2).").arg(path, shape.captured(1)));
    count *= n;
    ++dims;
  }
  if (dims != 1) return fail(error, QString("%1: expected a 1-D array, got shape (%2).").arg(path, shape.captured(1)));
  const qint64 data_offset = offset + header_len;
  if (bytes.size() - data_offset < count * width)
    return fail(error, QString("%1 is truncated: %2 values announced, %3 bytes of data.")
                           .arg(path).arg(count).arg(bytes.size() - data_offset));
  out->resize(int(count));
  const char* p = bytes.constData() + data_offset;
  for (qint64 i = 0; i < count; ++i) {
    if (width == 8) {
      const quint64 bits = qFromLittleEndian<quint64>(p + 8 * i);
      double v;
      std::memcpy(&v, &bits, 8);
      (*out)[int(i)] = v;
    } else {
      const quint32 bits = qFromLittleEndian<quint32>(p + 4 * i);
      float v;
      std::memcpy(&v, &bits, 4);
      (*out)[int(i)] = v;
    }
  }
  return true;
}

CellMeasureSummary summarizeCellMeasures(const QVector<double>& measures) {
  CellMeasureSummary s;
  s.cells = measures.size();
  if (s.cells == 0) return s;
  s.target = 1.0 / s.cells;
  int within = 0;
  for (double m : measures) {
    s.sum += m;
    if (std::abs(m - s.target) <= 0.2 * s.target) ++within;
  }
  s.withinShare = double(within) / s.cells;
  return s;
}

bool readAotChunksCsv(const QString& path, AotChunks* out, QString* error) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
    return fail(error, QString("Cannot open %1: %2").arg(path, file.errorString()));
  QTextStream in(&file);
  const QStringList header = in.readLine().trimmed().split(',');
  auto column = [&](const char* name) {
    for (int i = 0; i < header.size(); ++i)
      if (header[i].trimmed() == name) return i;
    return -1;
  };
  const int c_chunk = column("chunk"), c_assigned = column("assigned_cost"), c_random = column("random_cost"),
            c_seconds = column("seconds");
  if (c_chunk < 0 || c_assigned < 0 || c_random < 0)
    return fail(error, QString("%1: expected the columns chunk, assigned_cost and random_cost in the header, got '%2'.")
                           .arg(path, header.join(',')));
  AotChunks chunks;
  int line = 1;
  while (!in.atEnd()) {
    const QString text = in.readLine().trimmed();
    ++line;
    if (text.isEmpty()) continue;
    const QStringList fields = text.split(',');
    auto value = [&](int c, bool* ok) { return c < fields.size() ? fields[c].trimmed().toDouble(ok) : (*ok = false, 0.0); };
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = true;
    const double chunk = value(c_chunk, &ok1), assigned = value(c_assigned, &ok2), random = value(c_random, &ok3);
    double seconds = 0;
    if (c_seconds >= 0) seconds = value(c_seconds, &ok4);
    if (!(ok1 && ok2 && ok3 && ok4)) return fail(error, QString("%1, line %2: unreadable row '%3'.").arg(path).arg(line).arg(text));
    chunks.chunk << chunk;
    chunks.assigned << assigned;
    chunks.random << random;
    if (c_seconds >= 0) chunks.seconds << seconds;
  }
  *out = chunks;
  return true;
}

MethodsView::MethodsView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  sources_ = new QLabel("Open a cell_measures.npy or aot_chunks.csv (File → Open method diagnostics…), or run a "
                        "project whose run directory holds them.", this);
  sources_->setObjectName("methodsSources");
  sources_->setWordWrap(true);
  layout->addWidget(sources_);

  cell_plot_ = new StyledPlot(this);
  cell_plot_->setObjectName("cellMeasurePlot");
  cell_plot_->plotLayout()->insertRow(0);
  cell_title_ = new QCPTextElement(cell_plot_, "Semi-discrete OT cell measures");
  cell_plot_->plotLayout()->addElement(0, 0, cell_title_);
  cell_plot_->xAxis->setLabel("cell measure");
  cell_plot_->yAxis->setLabel("cells");
  bars_ = new QCPBars(cell_plot_->xAxis, cell_plot_->yAxis);
  bars_->setName("cells");
  bars_->setPen(QPen(seriesColor(0).darker(120)));
  bars_->setBrush(seriesColor(0));
  target_line_ = new QCPItemStraightLine(cell_plot_);
  target_line_->setPen(QPen(seriesColor(3), 2, Qt::DashLine));
  target_line_->setVisible(false);
  layout->addWidget(cell_plot_, 1);

  aot_plot_ = new StyledPlot(this);
  aot_plot_->setObjectName("aotChunkPlot");
  aot_plot_->plotLayout()->insertRow(0);
  aot_plot_->plotLayout()->addElement(0, 0, new QCPTextElement(aot_plot_, "AOT assignment cost per chunk"));
  aot_plot_->xAxis->setLabel("chunk");
  aot_plot_->yAxis->setLabel("mean cost");
  assigned_ = aot_plot_->addGraph();
  assigned_->setName("assigned (AOT)");
  assigned_->setPen(QPen(seriesColor(0), 2));
  assigned_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
  random_ = aot_plot_->addGraph();
  random_->setName("identity pairing");
  random_->setPen(QPen(seriesColor(1), 2));
  random_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 5));
  aot_plot_->legend->setVisible(true);
  layout->addWidget(aot_plot_, 1);
}

bool MethodsView::loadCellMeasures(const QString& path, QString* error) {
  QVector<double> values;
  if (!readNpyVector(path, &values, error)) return false;
  if (values.isEmpty()) return fail(error, QString("%1 holds no cell measures.").arg(path));
  for (double v : values)
    if (!std::isfinite(v) || v < 0) return fail(error, QString("%1: cell measures must be finite and >= 0.").arg(path));
  measures_ = values;
  summary_ = summarizeCellMeasures(measures_);
  cell_path_ = path;
  updateCellPlot();
  return true;
}

bool MethodsView::loadAotChunks(const QString& path, QString* error) {
  AotChunks chunks;
  if (!readAotChunksCsv(path, &chunks, error)) return false;
  chunks_ = chunks;
  aot_path_ = path;
  updateAotPlot();
  return true;
}

bool MethodsView::loadFile(const QString& path, QString* error) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "npy") return loadCellMeasures(path, error);
  if (suffix == "csv") return loadAotChunks(path, error);
  return fail(error, QString("%1: expected a cell_measures.npy or an aot_chunks.csv.").arg(path));
}

QStringList MethodsView::findInRunDir(const QString& dir) {
  QString cells, chunks;
  if (!dir.isEmpty()) {
    QDirIterator it(dir, {"cell_measures.npy", "aot_chunks.csv"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext() && (cells.isEmpty() || chunks.isEmpty())) {
      const QString path = it.next();
      if (path.endsWith(".npy") && cells.isEmpty()) cells = path;
      if (path.endsWith(".csv") && chunks.isEmpty()) chunks = path;
    }
  }
  return {cells, chunks};
}

void MethodsView::clear() {
  measures_.clear();
  summary_ = {};
  chunks_ = {};
  cell_path_.clear();
  aot_path_.clear();
  updateCellPlot();
  updateAotPlot();
}

QString MethodsView::cellSummaryText() const {
  if (summary_.cells == 0) return "no cell measures";
  return QString("%1 cells, target 1/N = %2; %3% of cells within ±20% of 1/N (sum %4)")
      .arg(summary_.cells)
      .arg(summary_.target, 0, 'g', 4)
      .arg(100.0 * summary_.withinShare, 0, 'f', 1)
      .arg(summary_.sum, 0, 'g', 6);
}

void MethodsView::updateCellPlot() {
  QVector<double> keys, counts;
  double width = 1;
  if (!measures_.isEmpty()) {
    const auto [mn, mx] = std::minmax_element(measures_.begin(), measures_.end());
    // [0, 4/N] at most: an unconverged solve leaves a few huge cells that would squeeze every other cell into the
    // first bar; cells above the range are counted in the last bar (and said so in the title).
    double lo = std::min(*mn, 0.75 * summary_.target), hi = std::max(*mx, 1.25 * summary_.target);
    if (summary_.target > 0) {
      lo = std::max(0.0, std::min(lo, 0.0));
      hi = std::min(hi, 4.0 * summary_.target);
    }
    overflow_ = int(std::count_if(measures_.begin(), measures_.end(), [hi](double m) { return m > hi; }));
    const int bins = std::clamp(int(std::sqrt(double(measures_.size()))), 10, 60);
    width = (hi - lo) / bins;
    if (!(width > 0)) width = summary_.target > 0 ? summary_.target / bins : 1.0;
    keys.resize(bins);
    counts.fill(0, bins);
    for (int b = 0; b < bins; ++b) keys[b] = lo + (b + 0.5) * width;
    for (double m : measures_) counts[std::clamp(int((m - lo) / width), 0, bins - 1)] += 1;
  }
  bars_->setWidth(width);
  bars_->setData(keys, counts, true);
  target_line_->setVisible(summary_.cells > 0);
  target_line_->point1->setCoords(summary_.target, 0);
  target_line_->point2->setCoords(summary_.target, 1);
  cell_title_->setText(summary_.cells ? "Semi-discrete OT cell measures: " + cellSummaryText() +
                                            (overflow_ ? QString("; %1 cell(s) above 4/N in the last bar").arg(overflow_) : QString())
                                      : "Semi-discrete OT cell measures");
  cell_plot_->rescaleAxes();
  if (!counts.isEmpty()) cell_plot_->yAxis->setRange(0, *std::max_element(counts.begin(), counts.end()) * 1.08);
  cell_plot_->replot(QCustomPlot::rpQueuedReplot);
  QStringList parts;
  if (!cell_path_.isEmpty()) parts << "cells: " + cell_path_;
  if (!aot_path_.isEmpty()) parts << "AOT chunks: " + aot_path_;
  if (!parts.isEmpty()) sources_->setText(parts.join("   "));
}

void MethodsView::updateAotPlot() {
  assigned_->setData(chunks_.chunk, chunks_.assigned);
  random_->setData(chunks_.chunk, chunks_.random);
  aot_plot_->rescaleAxes();
  aot_plot_->replot(QCustomPlot::rpQueuedReplot);
  updateCellPlot();  // refreshes the sources line
}

QSize MethodsView::figureSize() const {
  const QSize own = size();
  return own.isEmpty() || !isVisible() ? QSize(800, 900) : QSize(own.width(), cell_plot_->height() + aot_plot_->height());
}

void MethodsView::renderFigure(QCPPainter& painter, const QSize& size) {
  const int top = size.height() / 2;
  painter.save();
  renderPlot(cell_plot_, painter, QSize(size.width(), top));
  painter.translate(0, top);
  renderPlot(aot_plot_, painter, QSize(size.width(), size.height() - top));
  painter.restore();
}

void MethodsView::writeFigureCsv(QTextStream& out) const {
  out << "series,index,value,extra\n";
  for (int i = 0; i < measures_.size(); ++i)
    out << "cell_measure," << i << ',' << QString::number(measures_[i], 'g', 12) << ",\n";
  for (int i = 0; i < chunks_.chunk.size(); ++i)
    out << "aot_chunk," << QString::number(chunks_.chunk[i], 'g', 12) << ',' << QString::number(chunks_.assigned[i], 'g', 12)
        << ',' << QString::number(chunks_.random[i], 'g', 12) << '\n';
}

}  // namespace otcs
