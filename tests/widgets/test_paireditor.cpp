// Pairing on 2-D data with simulated clicks, the pair table, replacement of conflicting pairs, delete, and
// undo/redo of every edit.
#include <QtTest/QtTest>

#include <QTableView>
#include <QUndoStack>

#include "widgets/paireditor.h"
#include "widgets/pairtablemodel.h"
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

}  // namespace

class TestPairEditor : public QObject {
  Q_OBJECT
  std::unique_ptr<PairEditor> editor_;

 private slots:
  void init() {
    editor_ = std::make_unique<PairEditor>();
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
    QCOMPARE(editor_->model()->data(editor_->model()->index(0, otcs::PairTableModel::TargetColumn), Qt::DisplayRole).toLongLong(), 7LL);
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

  void undoRedoEveryEdit() {
    QUndoStack stack;
    editor_->setUndoStack(&stack);
    auto* c = editor_->creator();
    c->pickSource(1);
    c->pickTarget(1);
    QVERIFY(editor_->addPickedPair());
    c->pickSource(2);
    c->pickTarget(5);
    QVERIFY(editor_->addPickedPair());
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 1}, {2, 5}}));
    QCOMPARE(stack.count(), 2);

    // Re-pairing source 1 with target 5 replaces both conflicting pairs in one step.
    c->pickSource(1);
    c->pickTarget(5);
    QVERIFY(editor_->addPickedPair());
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 5}}));
    QCOMPARE(stack.count(), 3);
    stack.undo();
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 1}, {2, 5}}));
    stack.redo();
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 5}}));
    stack.undo();

    // Delete a selected row.
    editor_->table()->selectRow(0);
    QVERIFY(editor_->deleteSelectedPairs());
    QCOMPARE(editor_->pairs(), KeypointPairs({{2, 5}}));
    stack.undo();
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 1}, {2, 5}}));
    stack.undo();
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 1}}));
    stack.undo();
    QVERIFY(editor_->pairs().isEmpty());
    QVERIFY(!stack.canUndo());
    stack.redo();
    stack.redo();
    QCOMPARE(editor_->pairs(), KeypointPairs({{1, 1}, {2, 5}}));
    editor_->setUndoStack(nullptr);
  }

  void duplicatesAndInvalidPairsPushNothing() {
    QUndoStack stack;
    auto* model = editor_->model();
    QVERIFY(otcs::requestAddPair(&stack, model, {0, 0}));
    QVERIFY(!otcs::requestAddPair(&stack, model, {0, 0}));
    QVERIFY(!otcs::requestAddPair(&stack, model, {-1, 3}));
    QVERIFY(!otcs::requestRemovePairs(&stack, model, {5, -2}));
    QCOMPARE(stack.count(), 1);
  }

  void deleteCancelsAHalfMadePairFirst() {
    QUndoStack stack;
    editor_->setUndoStack(&stack);
    editor_->setPairs({{0, 0}});
    editor_->table()->selectRow(0);
    editor_->creator()->pickSource(4);
    QTest::keyClick(editor_->table(), Qt::Key_Delete);
    QCOMPARE(editor_->creator()->state(), PairCreator::State::NothingPicked);
    QCOMPARE(editor_->pairs().size(), 1);
    QTest::keyClick(editor_->table(), Qt::Key_Delete);
    QVERIFY(editor_->pairs().isEmpty());
    editor_->setUndoStack(nullptr);
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
