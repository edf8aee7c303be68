// The workbench's run controller and the run directory it writes: it holds the directory's writer lock for the
// whole run (another writer is refused), refuses to start while another process writes there (one sentence naming
// that PID), and records the run in RUN/run.json as `otcs run` does.
#include <QtTest/QtTest>

#include <unistd.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "app/gui/sessioncontroller.h"
#include "core/common/error.h"
#include "core/io/file.h"
#include "core/run/lock.h"
#include "workbench_test_support.h"

using otcs::workbench::RunOptions;
using otcs::workbench::SessionController;

class TestSessionController : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString project_;

  QJsonObject projectJson() const { return QJsonDocument::fromJson(otcs_test::smallProjectJson()).object(); }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    project_ = otcs_test::writeSmallProject(tmp_);
  }

  void refusesADirectoryAnotherWriterHolds() {
    const QString run = tmp_.filePath("held");
    std::optional<otcs::run::WriterLock> other(std::in_place, run.toStdString());
    SessionController controller;
    RunOptions options;
    options.runDir = run;
    options.until = "ot";
    QString error;
    QVERIFY(!controller.start(projectJson(), project_, options, &error));
    QVERIFY2(error.contains(QString("PID %1").arg(::getpid())), qPrintable(error));
    QCOMPARE(controller.state(), SessionController::State::Idle);
    other.reset();
    QVERIFY2(controller.start(projectJson(), project_, options, &error), qPrintable(error));
    QVERIFY(controller.waitForIdle(300000));
  }

  void holdsTheLockAndRecordsTheRun() {
    const QString run = tmp_.filePath("run");
    SessionController controller;
    RunOptions options;
    options.runDir = run;
    options.until = "ot";
    QString error;
    QVERIFY2(controller.start(projectJson(), project_, options, &error), qPrintable(error));
    try {
      otcs::run::WriterLock second(run.toStdString());
      QFAIL("another writer got the lock of a running session");
    } catch (const otcs::UserError& e) {
      QVERIFY2(QString(e.what()).contains("PID"), e.what());
    }
    QSignalSpy finished(&controller, &SessionController::finished);
    QVERIFY(controller.waitForIdle(300000));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().at(0).toString(), QString("completed"));
    const auto meta = nlohmann::json::parse(otcs::io::read_file((run + "/run.json").toStdString()));
    QCOMPARE(meta["status"].get<std::string>(), std::string("finished"));
    QCOMPARE(meta["exit_code"].get<int>(), 0);
    QVERIFY(meta["ended"].is_string());
    QCOMPARE(meta["pid"].get<long>(), long(::getpid()));
    otcs::run::WriterLock after(run.toStdString());  // released when the run ended
  }
};

QTEST_MAIN(TestSessionController)
#include "test_sessioncontroller.moc"
