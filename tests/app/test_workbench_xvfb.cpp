// End-to-end: the real otcs-workbench binary starts (under Xvfb), opens the default project, saves a screenshot of
// its main window into the build tree and quits; the screenshot must show a real window, not a blank frame.
#include <QtTest/QtTest>

#include <QImage>
#include <QProcess>
#include <QSet>
#include <cmath>

namespace {

QString outputDir() {
  const QString dir = qEnvironmentVariable("OTCS_TEST_OUTPUT", QStringLiteral(OTCS_BINARY_DIR "/test-output"));
  QDir().mkpath(dir);
  return dir;
}

QString workbench() { return QStringLiteral(OTCS_BIN_DIR "/otcs-workbench"); }

struct ImageStats {
  int distinctColours = 0;
  double luminanceStddev = 0;
};

ImageStats stats(const QImage& image) {
  QSet<QRgb> colours;
  double sum = 0, sum2 = 0;
  qint64 n = 0;
  for (int y = 0; y < image.height(); y += 2)
    for (int x = 0; x < image.width(); x += 2) {
      const QRgb c = image.pixel(x, y);
      colours.insert(c & 0xF0F0F0);
      const double l = qGray(c);
      sum += l;
      sum2 += l * l;
      ++n;
    }
  const double mean = sum / n;
  return {int(colours.size()), std::sqrt(qMax(0.0, sum2 / n - mean * mean))};
}

}  // namespace

class TestWorkbenchXvfb : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

  QProcessEnvironment environment() const {
    auto env = QProcessEnvironment::systemEnvironment();
    // Keep the user's settings (recent files, window state) out of the test and the test out of them.
    env.insert("XDG_CONFIG_HOME", tmp_.filePath("config"));
    return env;
  }

  QString projectFile() {
    const QString shipped = QStringLiteral(OTCS_SOURCE_DIR "/projects/toy2d-keypoints.json");
    if (QFile::exists(shipped)) return shipped;
    const QString path = tmp_.filePath("toy.json");
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return {};
    file.write(R"({"name": "toy project", "description": "written by the test",
                   "datasets": {"source": {"kind": "toy2d"}, "target": {"kind": "toy2d"}}, "pairs": [[0, 1]]})");
    return path;
  }

  int run(const QStringList& args, QString* output = nullptr) {
    QProcess process;
    process.setProcessEnvironment(environment());
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(workbench(), args);
    if (!process.waitForStarted(10000)) return -1;
    if (!process.waitForFinished(120000)) {
      process.kill();
      return -2;
    }
    if (output) *output = QString::fromLocal8Bit(process.readAll());
    return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -3;
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    QVERIFY2(QFile::exists(workbench()), qPrintable(workbench() + " is not built"));
  }

  void screenshotOfTheMainWindowIsNotBlank() {
    const QString project = projectFile();
    QVERIFY(!project.isEmpty());
    const QString png = QDir(outputDir()).filePath("workbench_main.png");
    QFile::remove(png);
    QString output;
    const int code = run({project, "--screenshot", png}, &output);
    QVERIFY2(code == 0, qPrintable(QString("exit %1: %2").arg(code).arg(output)));
    QImage image(png);
    QVERIFY2(!image.isNull(), qPrintable(png + " does not decode"));
    QVERIFY(image.width() >= 640 && image.height() >= 400);
    const ImageStats s = stats(image);
    qInfo("%s: %dx%d, %d distinct colours, luminance stddev %.1f", qPrintable(png), image.width(), image.height(),
          s.distinctColours, s.luminanceStddev);
    QVERIFY2(s.distinctColours >= 16, "the screenshot has almost no colours: blank window?");
    QVERIFY2(s.luminanceStddev >= 10, "the screenshot is nearly uniform: blank window?");
    // The project opened: its name is logged.
    QVERIFY2(output.contains("opened project"), qPrintable(output));
  }

  void aBrokenProjectIsAnErrorNotACrash() {
    const QString path = tmp_.filePath("broken.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{ \"name\": \"oops\", ");
    file.close();
    QString output;
    const int code = run({path, "--screenshot", tmp_.filePath("never.png")}, &output);
    QCOMPARE(code, 2);
    QVERIFY2(output.contains("broken.json") && output.contains("line"), qPrintable(output));
    QVERIFY(!QFile::exists(tmp_.filePath("never.png")));
  }

  void anImageProjectOpensAndShowsItsViews() {
    // Debian's dataset-fashion-mnist is all projects/fashion-groups.json needs; without it there is nothing to open.
    if (!QFile::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
      QSKIP("Debian's dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)");
    const QString project = QStringLiteral(OTCS_SOURCE_DIR "/projects/fashion-groups.json");
    QVERIFY(QFile::exists(project));
    const QString dir = QDir(outputDir()).filePath("workbench-image-views");
    QDir(dir).removeRecursively();
    QString output;
    // The images load off the GUI thread; --screenshot-views waits for them before grabbing each view.
    const int code = run({project, "--screenshot-views", dir}, &output);
    QVERIFY2(code == 0, qPrintable(QString("exit %1: %2").arg(code).arg(output)));
    QVERIFY2(!output.contains("[error]"), qPrintable(output));
    QImage datasets(QDir(dir).filePath("datasets.png"));
    QVERIFY2(!datasets.isNull(), qPrintable(output));
    const ImageStats s = stats(datasets);
    QVERIFY2(s.distinctColours >= 16 && s.luminanceStddev >= 10, "the datasets view is blank");
  }

  void quitAfterExitsCleanly() {
    QString output;
    QCOMPARE(run({"--quit-after", "300"}, &output), 0);
  }
};

QTEST_GUILESS_MAIN(TestWorkbenchXvfb)
#include "test_workbench_xvfb.moc"
