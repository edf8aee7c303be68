// `otcs run` as a user stops it: SIGTERM in the middle of the score stage exits with 130 after a checkpoint, the
// next call resumes from that checkpoint (not from step 0) and finishes; `--from score` redoes the stage.
#include <QtTest/QtTest>

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <string>

#include "core/io/file.h"

namespace fs = std::filesystem;

namespace {

const QString kOtcs = QStringLiteral(OTCS_BIN_DIR "/otcs");

int run_to_end(const QStringList& args, QString* err = nullptr) {
  QProcess p;
  p.start(kOtcs, args);
  if (!p.waitForFinished(600000)) return -1;
  if (err) *err = QString::fromUtf8(p.readAllStandardError());
  return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
}

// Data lines of score/loss.csv (0 while it does not exist).
int loss_rows(const fs::path& run) {
  std::error_code ec;
  if (!fs::exists(run / "score/loss.csv", ec)) return 0;
  const std::string text = otcs::io::read_file((run / "score/loss.csv").string());
  return std::max(0, int(std::count(text.begin(), text.end(), '\n')) - 1);
}

}  // namespace

class TestRunSignal : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void sigtermStopsAfterACheckpointAndResumes() {
    QTemporaryDir tmp;
    const fs::path run = fs::path(tmp.path().toStdString()) / "run";
    const QString project = QStringLiteral(OTCS_SOURCE_DIR "/projects/toy2d-quick.json");
    const QStringList args = {"run",       project, "--out",       QString::fromStdString(run.string()),
                              "--threads", "1",     "--no-figures"};

    QProcess p;
    p.start(kOtcs, args);
    QVERIFY(p.waitForStarted());
    // Wait until the score stage has logged a few rows (log_every 25 in the quick project), then SIGTERM.
    QElapsedTimer clock;
    clock.start();
    while (loss_rows(run) < 8 && clock.elapsed() < 300000 && p.state() == QProcess::Running) QTest::qWait(20);
    QVERIFY2(p.state() == QProcess::Running, "the run ended before the score stage got going");
    ::kill(pid_t(p.processId()), SIGTERM);
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    int checkpoints = 0;
    for (const auto& e : fs::directory_iterator(run / "score"))
      if (e.path().extension() == ".pt" && e.path().filename().string().rfind("ckpt-", 0) == 0) ++checkpoints;
    QVERIFY2(checkpoints >= 1, "no checkpoint after SIGTERM");
    QVERIFY(!fs::exists(run / "metrics.json"));

    QString err;
    QCOMPARE(run_to_end(args, &err), 0);
    QVERIFY2(err.contains("score: resumed from"), qPrintable(err.right(2000)));
    QVERIFY(fs::exists(run / "metrics.json"));

    // --from score runs the score stage (and everything after it) again from step 0.
    QCOMPARE(run_to_end(QStringList(args) << "--from"
                                          << "score",
                        &err),
             0);
    QVERIFY2(!err.contains("score: resumed from") && !err.contains("score: skipped"), qPrintable(err.right(2000)));
    QVERIFY2(err.contains("ot: skipped"), qPrintable(err.right(2000)));
  }
};

QTEST_GUILESS_MAIN(TestRunSignal)
#include "test_run_signal.moc"
