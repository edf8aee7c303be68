#pragma once
// Runs the built otcs as a user would, for the tests that drive the command line: its exit status (-1 when it ran
// past the limit and was killed, -2 when it crashed), stdout and stderr.
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace otcs_test {

struct OtcsResult {
  int code = -1;
  QString out, err;
};

inline OtcsResult run_otcs(const QStringList& args, int timeout_ms = 600000,
                           const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(QStringLiteral(OTCS_BIN_DIR "/otcs"), args);
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished(5000);
    return {
        -1, QString::fromUtf8(p.readAllStandardOutput()),
        QStringLiteral("timeout after %1 s: ").arg(timeout_ms / 1000) + QString::fromUtf8(p.readAllStandardError())};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

}  // namespace otcs_test
