// Pairing on 2-D data and on image galleries with simulated clicks, the pair table, and the edit requests (add,
// delete, clear) the editor sends to the owner of the pairs. Applying them as undoable steps is the project
// model's job (tests/app/test_projectmodel.cpp); here a plain owner applies them and shows the result back.
#include <QtTest/QtTest>

#include <QImage>
#include <QListView>
#include <QPainter>
#include <QTableView>
#include <qcustomplot.h>
#include <QSignalSpy>

#include "widgets/paireditor.h"
#include "widgets/pairtablemodel.h"
#include "widgets/figureexport.h"
#include "widgets/scatterpairview.h"

using otcs::Domain;
using otcs::KeypointPair;
using otcs::KeypointPairs;
using otcs::PairCreator;
using otcs::PairEditor;

namespace {

// Source on a line at y = 0, target at y = 1: well separated so a click hits exactly one point.
QVector<QPointF> line(double y, int n) {
  QVector<QPointF> v;
  for (int i = 0; i < n; ++i) v.push_back({double(i), y});
  return v;
}

// Clicks the point the way a user would: data -> widget pixels -> press/release without moving.
void clickPoint(otcs::ScatterPairView* view, Domain domain, qint64 index) {
  const QPoint at = view->pixelOf(domain, index).toPoint();
  QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, at);
}

// A distinct tiny image per sample: grey level = index (so a drawn figure shows which sample it drew).
otcs::ThumbnailModel::Provider greyImages(int offset) {
  return [offset](qint64 i) {
    QImage image(8, 8, QImage::Format_Grayscale8);
    image.fill(uchar((offset + 7 * i) % 256));
    return image;
  };
}

// Clicks the thumbnail of sample `i` in a gallery the way a user would.
void clickThumbnail(otcs::DatasetPane* pane, qint64 i) {
  QListView* list = pane->list();
  const QModelIndex index = list->model()->index(int(i), 0);  // no label filter: proxy row == sample index
  QVERIFY(index.isValid());
  list->scrollTo(index);
  const QRect r = list->visualRect(index);
  QVERIFY2(r.isValid() && list->viewport()->rect().contains(r.center()), "thumbnail not on screen");
  QTest::mouseClick(list->viewport(), Qt::LeftButton, Qt::NoModifier, r.center());
}

}  // namespace

class TestPairEditor : public QObject {
  Q_OBJECT
  std::unique_ptr<PairEditor> editor_;

 private slots:
  void init() {
    editor_ = std::make_unique<PairEditor>();
    // The owner of the pairs: applies each request and shows the pairs back, as the project model does.
    connect(editor_.get(), &PairEditor::addPairRequested, editor_.get(), [this](const KeypointPair& pair) {
      KeypointPairs after;
      for (const KeypointPair& p : editor_->pairs())
        if (p.source != pair.source && p.target != pair.target) after << p;
      editor_->setPairs(after << pair);
    });
    connect(editor_.get(), &PairEditor::removePairsRequested, editor_.get(), [this](const QList<int>& rows) {
      KeypointPairs after;
      for (int r = 0; r < editor_->pairs().size(); ++r)
        if (!rows.contains(r)) after << editor_->pairs()[r];
      editor_->setPairs(after);
    });
    connect(editor_.get(), &PairEditor::clearPairsRequested, editor_.get(), [this] { editor_->setPairs({}); });
    editor_->resize(1100, 600);
    editor_->setPoints(line(0.0, 10), line(1.0, 10));
    editor_->show();
    QVERIFY(QTest::qWaitForWindowExposed(editor_.get()));
    editor_->view()->replot();
  }
  void cleanup() { editor_.reset(); }

  void clicksPickAndAddAPair() {
    auto* view = editor_->view();
    clickPoint(view, Domain::Source, 3);
    QCOMPARE(editor_->creator()->state(), PairCreator::State::SourcePicked);
    QCOMPARE(editor_->creator()->source(), 3);
    clickPoint(view, Domain::Target, 7);
    QCOMPARE(editor_->creator()->state(), PairCreator::State::BothPicked);
    QTest::keyClick(editor_.get(), Qt::Key_A);
    QCOMPARE(editor_->creator()->state(), PairCreator::State::NothingPicked);
    QCOMPARE(editor_->pairs(), KeypointPairs({{3, 7}}));
    QCOMPARE(editor_->model()->rowCount(), 1);
    QCOMPARE(editor_->model()
                 ->data(editor_->model()->index(0, otcs::PairTableModel::TargetColumn), Qt::DisplayRole)
                 .toLongLong(),
             7LL);
  }

  void clickOnEmptySpaceOrDragPicksNothing() {
    auto* view = editor_->view();
    const QPoint empty = view->dataToPixel(4.5, 0.5).toPoint();
    QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, empty);
    QCOMPARE(editor_->creator()->state(), PairCreator::State::NothingPicked);
    // A press on a point that turns into a drag pans instead of picking.
    const QPoint on = view->pixelOf(Domain::Source, 2).toPoint();
    QTest::mousePress(view, Qt::LeftButton, Qt::NoModifier, on);
    QMouseEvent move(QEvent::MouseMove, QPointF(on + QPoint(40, 0)), view->mapToGlobal(QPointF(on + QPoint(40, 0))),
                     Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(view, &move);
    QTest::mouseRelease(view, Qt::LeftButton, Qt::NoModifier, on + QPoint(40, 0));
    QCOMPARE(editor_->creator()->state(), PairCreator::State::NothingPicked);
  }

  void everyEditIsARequest() {
    QSignalSpy adds(editor_.get(), &PairEditor::addPairRequested);
    QSignalSpy removes(editor_.get(), &PairEditor::removePairsRequested);
    QSignalSpy clears(editor_.get(), &PairEditor::clearPairsRequested);
    auto* c = editor_->creator();
    c->pickSource(1);
    c->pickTarget(1);
    QVERIFY(editor_->addPickedPair());
    c->pickSource(2);
    c->pickTarget(5);
    QVERIFY(editor_->addPickedPair());
    QCOMPARE(adds.size(), 2);
    QCOMPARE(adds.at(1).at(0).value<KeypointPair>(), KeypointPair({2, 5}));
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 1}, {2, 5}}));
    // An existing pair is not requested again.
    c->pickSource(2);
    c->pickTarget(5);
    editor_->addPickedPair();
    QCOMPARE(adds.size(), 2);
    // Delete the selected rows.
    editor_->table()->selectRow(1);
    QVERIFY(editor_->deleteSelectedPairs());
    QCOMPARE(removes.size(), 1);
    QCOMPARE(removes.at(0).at(0).value<QList<int>>(), QList<int>({1}));
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 1}}));
    editor_->clearPairs();
    QCOMPARE(clears.size(), 1);
    QVERIFY(editor_->pairs().isEmpty());
    editor_->clearPairs();  // nothing to clear: no request
    QCOMPARE(clears.size(), 1);
  }

  void deleteCancelsAHalfMadePairFirst() {
    editor_->setPairs({{0, 0}});
    editor_->table()->selectRow(0);
    editor_->creator()->pickSource(4);
    QTest::keyClick(editor_->table(), Qt::Key_Delete);
    QCOMPARE(editor_->creator()->state(), PairCreator::State::NothingPicked);
    QCOMPARE(editor_->pairs().size(), 1);
    QTest::keyClick(editor_->table(), Qt::Key_Delete);
    QVERIFY(editor_->pairs().isEmpty());
  }

  void suggestPartnerPicksTheStrongestTarget() {
    editor_->setSuggestionProvider([](qint64 source, int k) {
      QVector<QPair<qint64, double>> out{{(source + 3) % 10, 0.9}, {(source + 1) % 10, 0.1}};
      out.resize(qMin(k, int(out.size())));
      return out;
    });
    QVERIFY(!editor_->suggestPartner());  // nothing picked yet
    editor_->creator()->pickSource(2);
    QVERIFY(editor_->suggestPartner());
    QCOMPARE(editor_->creator()->state(), PairCreator::State::BothPicked);
    QCOMPARE(editor_->creator()->target(), 5);
  }

  // Image data: the galleries side by side replace the scatter; clicks on thumbnails pick, A pairs, the picks show
  // as the galleries' selections, a pair chosen in the table selects both of its samples, Delete removes it.
  void galleryClicksPickAndAddAPair() {
    QVector<int> labels;
    for (int i = 0; i < 30; ++i) labels.push_back(i % 3);
    editor_->setImageSets(30, labels, greyImages(0), 20, {}, greyImages(100));
    QVERIFY(editor_->showsGalleries());
    QTest::qWait(50);
    auto* source = editor_->gallery(Domain::Source);
    auto* target = editor_->gallery(Domain::Target);
    QVERIFY(source->isVisible() && target->isVisible());
    QCOMPARE(source->list()->model()->rowCount(), 30);
    QCOMPARE(target->list()->model()->rowCount(), 20);
    clickThumbnail(target, 11);  // either order
    QCOMPARE(editor_->creator()->state(), PairCreator::State::TargetPicked);
    QCOMPARE(editor_->creator()->target(), 11);
    clickThumbnail(source, 4);
    QCOMPARE(editor_->creator()->state(), PairCreator::State::BothPicked);
    QCOMPARE(source->selectedSample(), 4);
    QCOMPARE(target->selectedSample(), 11);
    clickThumbnail(source, 5);  // clicking again replaces the pick
    QCOMPARE(editor_->creator()->source(), 5);
    QTest::keyClick(editor_.get(), Qt::Key_A);
    QCOMPARE(editor_->pairs(), KeypointPairs({{5, 11}}));
    QCOMPARE(editor_->creator()->state(), PairCreator::State::NothingPicked);
    QCOMPARE(source->selectedSample(), -1);
    // A second pair, then the table selects the first: both galleries show its samples.
    clickThumbnail(source, 0);
    clickThumbnail(target, 19);
    QTest::keyClick(editor_.get(), Qt::Key_A);
    QCOMPARE(editor_->pairs(), KeypointPairs({{5, 11}, {0, 19}}));
    editor_->table()->selectRow(0);
    QCOMPARE(source->selectedSample(), 5);
    QCOMPARE(target->selectedSample(), 11);
    // A pick hidden by the label filter clears the filter so the pick is visible.
    source->setLabelFilter(1);
    editor_->creator()->pickSource(6);  // label 0
    QCOMPARE(source->selectedSample(), 6);
    editor_->creator()->cancel();
    editor_->table()->selectRow(1);
    QVERIFY(editor_->deleteSelectedPairs());
    QCOMPARE(editor_->pairs(), KeypointPairs({{5, 11}}));
    // The figure draws each pair's two thumbnails: sample 5 is grey 35, target 11 is grey 177.
    QImage figure(editor_->figureSize(), QImage::Format_RGB32);
    {
      QCPPainter painter(&figure);
      editor_->renderFigure(painter, figure.size());
    }
    bool saw_source = false, saw_target = false;
    for (int y = 0; y < figure.height(); ++y)
      for (int x = 0; x < figure.width(); ++x) {
        const int g = qGray(figure.pixel(x, y));
        saw_source |= qRed(figure.pixel(x, y)) == 35 && g == 35;
        saw_target |= qRed(figure.pixel(x, y)) == 177 && g == 177;
      }
    QVERIFY(saw_source && saw_target);
    // Back to points: the scatter returns.
    editor_->setImageSets(0, {}, {}, 0, {}, {});
    QVERIFY(!editor_->showsGalleries());
  }

  void csvListsPairsWithCoordinates() {
    editor_->setPairs({{2, 3}});
    QString text;
    QTextStream out(&text);
    editor_->writeFigureCsv(out);
    out.flush();
    QCOMPARE(text, QString("pair,source,target,source_x,source_y,target_x,target_y\n0,2,3,2,0,3,1\n"));
  }
};

QTEST_MAIN(TestPairEditor)
#include "test_paireditor.moc"
