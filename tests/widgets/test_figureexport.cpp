// Figure export: PNG decodes at the requested scale, PDF starts with %PDF, SVG is XML with the axis labels as text,
// CSV holds the data; a failed export leaves no file.
#include <QtTest/QtTest>

#include <QXmlStreamReader>

#include "widgets/figureexport.h"
#include "widgets/lossplot.h"
#include "widgets/styledplot.h"

class TestFigureExport : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  otcs::LossPlot plot_;

  QString path(const QString& name) const { return tmp_.filePath(name); }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    plot_.resize(640, 400);
    plot_.setAxisLabels("training step", "dual objective");
    const int id = plot_.addSeries("dual, ot");
    for (int i = 0; i < 200; ++i) plot_.appendPoint(id, i, std::exp(-i / 50.0));
  }

  void formatFromSuffix() {
    otcs::FigureFormat f;
    QVERIFY(otcs::figureFormatFromPath("a/b.PNG", &f) && f == otcs::FigureFormat::Png);
    QVERIFY(otcs::figureFormatFromPath("x.svg", &f) && f == otcs::FigureFormat::Svg);
    QVERIFY(otcs::figureFormatFromPath("x.pdf", &f) && f == otcs::FigureFormat::Pdf);
    QVERIFY(otcs::figureFormatFromPath("x.csv", &f) && f == otcs::FigureFormat::Csv);
    QVERIFY(!otcs::figureFormatFromPath("x.gif", &f));
  }

  void pngDecodesAtTheRequestedScale() {
    otcs::ExportOptions options;
    options.scale = 2.0;
    options.size = QSize(500, 300);
    QString error;
    QVERIFY2(otcs::exportFigure(plot_, path("f.png"), otcs::FigureFormat::Png, options, &error), qPrintable(error));
    QImage image(path("f.png"));
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(1000, 600));
    // Not blank: a white background with a curve and axes on it.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3)
      for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
    QVERIFY(colours.size() > 10);
  }

  void pdfBeginsWithTheMagic() {
    QString error;
    QVERIFY2(otcs::exportFigure(plot_, path("f.pdf"), otcs::FigureFormat::Pdf, {}, &error), qPrintable(error));
    QFile file(path("f.pdf"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.read(5) == "%PDF-");
    QVERIFY(file.size() > 1000);
  }

  void svgIsXmlWithAxisLabelsAsText() {
    QString error;
    QVERIFY2(otcs::exportFigure(plot_, path("f.svg"), otcs::FigureFormat::Svg, {}, &error), qPrintable(error));
    QFile file(path("f.svg"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&file);
    QStringList texts;
    bool in_text = false;
    while (!xml.atEnd()) {
      xml.readNext();
      if (xml.isStartElement() && xml.name() == QLatin1String("text"))
        in_text = true;
      else if (xml.isEndElement() && xml.name() == QLatin1String("text"))
        in_text = false;
      else if (in_text && xml.isCharacters())
        texts << xml.text().toString();
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    const QString all = texts.join('|');
    QVERIFY2(all.contains("training step"), qPrintable(all.left(400)));
    QVERIFY2(all.contains("dual objective"), qPrintable(all.left(400)));
    QVERIFY2(all.contains("dual, ot"), "the legend must survive the export");
  }

  void csvHoldsTheData() {
    QString error;
    QVERIFY2(otcs::exportFigure(plot_, path("f.csv"), otcs::FigureFormat::Csv, {}, &error), qPrintable(error));
    QFile file(path("f.csv"));
    QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 201);
    QCOMPARE(lines[0], QString("series,step,value,smoothed"));
    QVERIFY2(lines[1].startsWith("\"dual, ot\",0,1,"), qPrintable(lines[1]));  // quoted: the name has a comma
  }

  void aFailedExportLeavesNoFile() {
    QString error;
    const QString bad = path("missing-dir/f.png");
    QVERIFY(!otcs::exportFigure(plot_, bad, otcs::FigureFormat::Png, {}, &error));
    QVERIFY(error.contains("missing-dir/f.png"));
    QVERIFY(!QFile::exists(bad));
  }
};

QTEST_MAIN(TestFigureExport)
#include "test_figureexport.moc"
