// The workbench's run controller and the run directory it writes: it holds the directory's writer lock for the
// whole run (another writer is refused), refuses to start while another process writes there (one sentence naming
// that PID), records the run in RUN/run.json as `otcs run` does, and draws the same figure files, byte for byte,
// as `otcs run` of the same project.
#include <QtTest/QtTest>

#include <unistd.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "app/gui/eventtext.h"
#include "app/gui/sessioncontroller.h"
#include "core/common/error.h"
#include "core/io/file.h"
#include "core/common/runtime.h"
#include "core/run/lock.h"
#include "tests/otcs_process.h"
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
    QCOMPARE(otcs::workbench::jobStatusText(finished.first().at(0).value<otcs::session::JobStatus>()),
             QString("completed"));
    const auto meta = nlohmann::json::parse(otcs::io::read_file((run + "/run.json").toStdString()));
    QCOMPARE(meta["status"].get<std::string>(), std::string("finished"));
    QCOMPARE(meta["exit_code"].get<int>(), 0);
    QVERIFY(meta["ended"].is_string());
    QCOMPARE(meta["pid"].get<long>(), long(::getpid()));
    otcs::run::WriterLock after(run.toStdString());  // released when the run ended
  }

  void drawsTheSameFiguresAsTheCommandLine() {
    // One LibTorch thread on both sides (otcs run's default for point projects), so both compute the same run.
    otcs::set_threads(1);
    const QString cli = tmp_.filePath("figures-cli"), gui = tmp_.filePath("figures-gui");
    const auto r = otcs_test::run_otcs({"run", project_, "--out", cli, "--steps-scale", "0.05", "--threads", "1"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    SessionController controller;
    QSignalSpy figures(&controller, &SessionController::artifactReady);
    RunOptions options;
    options.runDir = gui;
    options.stepsScale = 0.05;
    QString error;
    QVERIFY2(controller.start(projectJson(), project_, options, &error), qPrintable(error));
    QVERIFY(controller.waitForIdle(300000));
    const QStringList names = QDir(cli).entryList({"*.png"}, QDir::Files, QDir::Name);
    for (const char* expected : {"data.png", "potentials.png", "H.png", "loss.png", "trajectories.png"})
      QVERIFY2(names.contains(expected), expected);
    QCOMPARE(QDir(gui).entryList({"*.png"}, QDir::Files, QDir::Name), names);
    QCOMPARE(figures.size(), names.size());  // each announced as an artifact
    for (const QString& name : names) {
      QFile a(QDir(cli).filePath(name)), b(QDir(gui).filePath(name));
      QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
      QVERIFY2(a.readAll() == b.readAll(), qPrintable(name + " differs between otcs run and the workbench"));
    }
  }
};

QTEST_MAIN(TestSessionController)
#include "test_sessioncontroller.moc"
