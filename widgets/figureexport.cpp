#include "widgets/figureexport.h"

#include <QFileInfo>
#include <QImage>
#include <QImageWriter>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextStream>
#include <QWidget>
#include <qcustomplot.h>

namespace otcs {

bool figureFormatFromPath(const QString& path, FigureFormat* format) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "png")
    *format = FigureFormat::Png;
  else if (suffix == "pdf")
    *format = FigureFormat::Pdf;
  else if (suffix == "svg")
    *format = FigureFormat::Svg;
  else if (suffix == "csv")
    *format = FigureFormat::Csv;
  else
    return false;
  return true;
}

QString figureFileFilter() {
  return QStringLiteral("PNG image (*.png);;PDF document (*.pdf);;SVG drawing (*.svg);;CSV data (*.csv)");
}

QString csvField(const QString& text) {
  if (!text.contains(',') && !text.contains('"') && !text.contains('\n')) return text;
  QString quoted = text;
  quoted.replace('"', "\"\"");
  return '"' + quoted + '"';
}

void renderPlot(QCustomPlot* plot, QCPPainter& painter, const QSize& size) {
  // toPainter draws without the pixmap label cache (pmNoCaching), so axis labels become real text in SVG/PDF.
  plot->toPainter(&painter, size.width(), size.height());
}

void renderWidget(QWidget* widget, QCPPainter& painter, const QSize& size) {
  const QSize own = widget->size();
  painter.save();
  if (!own.isEmpty() && own != size)
    painter.scale(double(size.width()) / own.width(), double(size.height()) / own.height());
  widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
  painter.restore();
}

namespace {

bool fail(QString* error, const QString& message) {
  if (error) *error = message;
  return false;
}

bool commit(QSaveFile& file, const QString& path, QString* error) {
  if (!file.commit()) return fail(error, QStringLiteral("%1: cannot write (%2)").arg(path, file.errorString()));
  return true;
}

}  // namespace

bool exportFigure(FigureSource& source, const QString& path, FigureFormat format, const ExportOptions& options,
                  QString* error) {
  QSize size = options.size.isEmpty() ? source.figureSize() : options.size;
  if (size.isEmpty()) size = QSize(800, 600);
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    return fail(error, QStringLiteral("%1: cannot open for writing (%2)").arg(path, file.errorString()));
  const QString title = options.title.isEmpty() ? source.figureName() : options.title;

  switch (format) {
    case FigureFormat::Png: {
      const double scale = qBound(0.25, options.scale, 8.0);
      QImage image(qRound(size.width() * scale), qRound(size.height() * scale), QImage::Format_ARGB32_Premultiplied);
      image.fill(Qt::white);
      {
        QCPPainter painter(&image);
        painter.setMode(QCPPainter::pmNoCaching);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        painter.scale(scale, scale);
        source.renderFigure(painter, size);
      }
      QImageWriter writer(&file, "png");
      writer.setText("Title", title);
      writer.setText("Software", "OTCS Workbench");
      if (!writer.write(image))
        return fail(error, QStringLiteral("%1: cannot encode PNG (%2)").arg(path, writer.errorString()));
      return commit(file, path, error);
    }
    case FigureFormat::Pdf: {
      {
        QPdfWriter writer(&file);
        writer.setTitle(title);
        writer.setCreator("OTCS Workbench");
        // 72 dpi: one logical pixel is one PostScript point, so the page is exactly the figure.
        writer.setResolution(72);
        writer.setPageSize(QPageSize(QSizeF(size), QPageSize::Point, QString(), QPageSize::ExactMatch));
        writer.setPageMargins(QMarginsF(0, 0, 0, 0));
        QCPPainter painter(&writer);
        if (!painter.isActive()) return fail(error, QStringLiteral("%1: cannot start a PDF").arg(path));
        painter.setMode(QCPPainter::pmVectorized);
        painter.setMode(QCPPainter::pmNoCaching);
        painter.setMode(QCPPainter::pmNonCosmetic);
        source.renderFigure(painter, size);
      }
      return commit(file, path, error);
    }
    case FigureFormat::Svg: {
      {
        QSvgGenerator generator;
        generator.setOutputDevice(&file);
        generator.setSize(size);
        generator.setViewBox(QRect(QPoint(0, 0), size));
        generator.setTitle(title);
        generator.setDescription("Exported by OTCS Workbench");
        QCPPainter painter(&generator);
        if (!painter.isActive()) return fail(error, QStringLiteral("%1: cannot start an SVG").arg(path));
        painter.setMode(QCPPainter::pmVectorized);
        painter.setMode(QCPPainter::pmNoCaching);
        source.renderFigure(painter, size);
      }
      return commit(file, path, error);
    }
    case FigureFormat::Csv: {
      QTextStream out(&file);
      source.writeFigureCsv(out);
      out.flush();
      if (out.status() != QTextStream::Ok) return fail(error, QStringLiteral("%1: cannot write CSV").arg(path));
      return commit(file, path, error);
    }
  }
  return fail(error, QStringLiteral("%1: unknown figure format").arg(path));
}

}  // namespace otcs
