#pragma once
// Figure export shared by every view: PNG at a scale factor, PDF, SVG (QSvgGenerator; QCustomPlot has no
// saveSvg) and the underlying data as CSV. Every file is written through QSaveFile, so a failed export never
// leaves a truncated figure behind or clobbers an older one.
#include <QSize>
#include <QString>
#include <QStringList>

class QCPPainter;
class QCustomPlot;
class QTextStream;
class QWidget;

namespace otcs {

enum class FigureFormat { Png, Pdf, Svg, Csv };

// Implemented by each view that can leave as a figure. renderFigure draws at logical size `size`; the painter is
// already active on the target device (a QImage, a QPdfWriter or a QSvgGenerator) and scaled as needed.
class FigureSource {
 public:
  virtual ~FigureSource() = default;
  virtual QString figureName() const = 0;  // default file stem, e.g. "losses"
  virtual QSize figureSize() const = 0;
  virtual void renderFigure(QCPPainter& painter, const QSize& size) = 0;
  virtual void writeFigureCsv(QTextStream& out) const = 0;
};

struct ExportOptions {
  double scale = 2.0;  // PNG only: device pixels per logical pixel (publication figures want >= 2)
  QSize size;          // logical size; empty means the view's own size
  QString title;       // PDF/SVG document title
};

// Format from the file suffix (png, pdf, svg, csv); false when the suffix is none of these.
bool figureFormatFromPath(const QString& path, FigureFormat* format);
QString figureFileFilter();  // for QFileDialog: "PNG image (*.png);;PDF ...;;SVG ...;;CSV data (*.csv)"

// Writes `source` to `path`. Returns false and sets *error (one sentence naming the file) on failure.
bool exportFigure(FigureSource& source, const QString& path, FigureFormat format, const ExportOptions& options,
                  QString* error);

// Helpers for views built on QCustomPlot or on plain widgets.
void renderPlot(QCustomPlot* plot, QCPPainter& painter, const QSize& size);
void renderWidget(QWidget* widget, QCPPainter& painter, const QSize& size);

// CSV field quoting per RFC 4180 (only when needed).
QString csvField(const QString& text);

}  // namespace otcs
