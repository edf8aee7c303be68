// The dataset browser: 2-D sets as scatter plots with a label filter, image-like sets as lazy thumbnail grids
// that decode only what is shown, also under a label filter.
#include <QtTest/QtTest>

#include <QListView>

#include "widgets/datasetbrowser.h"
#include "widgets/styledplot.h"

using namespace otcs;

class TestDatasetBrowser : public QObject {
  Q_OBJECT

 private slots:
  void scatterWithLabelFilter() {
    DatasetBrowser browser;
    QVector<QPointF> pts;
    QVector<int> labels;
    for (int i = 0; i < 300; ++i) {
      pts.push_back({double(i % 17), double(i % 13)});
      labels.push_back(i % 3);
    }
    DatasetPane* pane = browser.pane(Domain::Source);
    pane->setData(pts, labels, {}, 2);
    QVERIFY(!pane->showsImages());
    QCOMPARE(pane->visibleCount(), 300);
    QCOMPARE(pane->plot()->graphCount(), 3);  // one colour per label
    pane->setLabelFilter(1);
    QCOMPARE(pane->visibleCount(), 100);
    pane->setLabelFilter(-1);
    QCOMPARE(pane->visibleCount(), 300);
  }

  void thousandsOfImagesDecodeLazily() {
    DatasetBrowser browser;
    browser.resize(1000, 700);
    const int n = 5000;
    QVector<int> labels;
    for (int i = 0; i < n; ++i) labels.push_back(i % 10);
    int calls = 0;
    auto provider = [&calls](qint64 i) {
      ++calls;
      QImage img(28, 28, QImage::Format_Grayscale8);
      img.fill(uchar(i % 256));
      return img;
    };
    DatasetPane* pane = browser.pane(Domain::Target);
    pane->setData(QVector<QPointF>(n), labels, provider, 784);
    browser.show();
    QVERIFY(QTest::qWaitForWindowExposed(&browser));
    QVERIFY(pane->showsImages());
    QTRY_VERIFY(pane->model()->decodedCount() > 0);
    QTest::qWait(100);
    // Only what fits on screen (plus a batch) is decoded, not 5000 images.
    QVERIFY2(pane->model()->decodedCount() < 1000, qPrintable(QString::number(pane->model()->decodedCount())));
    QCOMPARE(calls, int(pane->model()->decodedCount()));
    pane->setLabelFilter(7);
    QCOMPARE(pane->visibleCount(), 500);
    const QModelIndex first = pane->list()->model()->index(0, 0);
    QCOMPARE(first.data(ThumbnailModel::LabelRole).toInt(), 7);
    QCOMPARE(first.data(ThumbnailModel::IndexRole).toLongLong(), 7LL);
  }
};

QTEST_MAIN(TestDatasetBrowser)
#include "test_datasetbrowser.moc"
