// The log dock's view: lines from worker threads arrive on the GUI thread, the level filter hides and restores,
// errors are signalled, and the history is bounded.
#include <QtTest/QtTest>

#include <QThread>

#include "widgets/logview.h"

class TestLogView : public QObject {
  Q_OBJECT

 private slots:
  void linesFromAWorkerThreadArrive() {
    otcs::LogView view;
    QThread* worker = QThread::create([&view] {
      for (int i = 0; i < 100; ++i) view.appendLine(2, QString("worker line %1").arg(i));
    });
    worker->start();
    QVERIFY(worker->wait(5000));
    delete worker;
    QTRY_COMPARE(view.lineCount(), 100);
    QVERIFY(view.visibleText().contains("worker line 99"));
  }

  void levelFilterHidesAndRestores() {
    otcs::LogView view;
    view.appendLine(1, "debug detail");
    view.appendLine(2, "info message");
    view.appendLine(3, "warn message");
    QVERIFY(!view.visibleText().contains("debug detail"));  // default: info and above
    view.setMinimumLevel(3);
    QVERIFY(!view.visibleText().contains("info message"));
    QVERIFY(view.visibleText().contains("warn message"));
    view.setMinimumLevel(0);
    QVERIFY(view.visibleText().contains("debug detail"));
    QCOMPARE(view.lineCount(), 3);
  }

  void errorsAreSignalled() {
    otcs::LogView view;
    QSignalSpy spy(&view, &otcs::LogView::errorLogged);
    view.appendLine(2, "fine");
    view.appendLine(4, "broken file");
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.takeFirst().at(0).toString(), QString("broken file"));
  }

  void historyIsBounded() {
    otcs::LogView view;
    view.setMaximumLines(100);
    for (int i = 0; i < 1000; ++i) view.appendLine(2, QString::number(i));
    QVERIFY(view.lineCount() <= 125);
    QVERIFY(view.visibleText().contains("999"));
    QVERIFY(!view.visibleText().contains("\n5\n"));
  }
};

QTEST_MAIN(TestLogView)
#include "test_logview.moc"
