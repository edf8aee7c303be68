// The bad-file battery through the workbench (docs/RELIABILITY.md; the CLI half is tests/scripts/bad_files.sh):
// truncated, empty, wrong-magic, NaN, huge-number, mismatched-size, non-UTF-8-named and permission-denied files
// fed through the window's open paths — project files (File > Open), the data files a project names (points
// .npy/.csv), the run artifacts a project's run directory holds (H.npz, trajectories.npz, loaded on open) and the
// score checkpoint a run resumes from (score/model.pt, read by the sample stage). Each must raise an error dialog
// (caught here, on a timer, and closed); the window keeps running; the project that was open before is neither
// modified nor lost (its file is byte-identical, and after a failed open of a project file it is still the open
// document). Permission-denied cases are skipped when the test runs as root.
#include <QtTest/QtTest>

#include <QComboBox>
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QMessageBox>
#include <QProcess>
#include <QUndoStack>
#include <unistd.h>

#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/runpanel.h"
#include "app/gui/sessioncontroller.h"
#include "app/gui/workbenchapp.h"
#include "workbench_test_support.h"

using otcs::workbench::MainWindow;

namespace {

// Closes every visible QMessageBox (the workbench's error dialogs are modal, shown with exec()) and keeps its text.
class DialogCatcher : public QObject {
 public:
  DialogCatcher() {
    timer_.setInterval(20);
    connect(&timer_, &QTimer::timeout, this, [this] {
      for (QWidget* w : QApplication::topLevelWidgets()) {
        auto* box = qobject_cast<QMessageBox*>(w);
        if (!box || !box->isVisible()) continue;
        texts << box->text();
        box->done(QMessageBox::Ok);
      }
    });
    timer_.start();
  }
  QStringList texts;

 private:
  QTimer timer_;
};

QByteArray npyDouble(const QString& shape, const QVector<double>& values) {
  QByteArray header = QStringLiteral("{'descr': '<f8', 'fortran_order': False, 'shape': %1, }").arg(shape).toLatin1();
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  QByteArray out("\x93NUMPY\x01\x00", 8);
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  out += header;
  out += QByteArray(reinterpret_cast<const char*>(values.data()), int(values.size() * sizeof(double)));
  return out;
}

QByteArray sha(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256) : QByteArray();
}

bool writeBytes(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

}  // namespace

class TestBadFilesGui : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;
  QString good_;  // the project open before each bad input
  QByteArray good_sha_;
  int cases_ = 0, skipped_ = 0;
  std::unique_ptr<DialogCatcher> catcher_;  // alive for the whole test: no dialog may block it
  bool root_ = false;

  QString in(const QString& name) const { return tmp_.filePath("in/" + name); }

  // A project file like the good one whose data.source is `file` (relative to the project's folder).
  QString projectWithSource(const QString& name, const QString& file) {
    QJsonObject json = QJsonDocument::fromJson(otcs_test::smallProjectJson()).object();
    QJsonObject data = json["data"].toObject();
    data["source"] = QJsonObject{{"file", file}};
    data.remove("keypoints");
    json["data"] = data;
    const QString path = in(name);
    writeBytes(path, QJsonDocument(json).toJson());
    return path;
  }

  // Opens the good project, runs `feed`, and checks the promises. `keepsDocument`: the bad input was a project
  // file, so the good project must still be the open document, unmodified.
  void check(const QString& label, const std::function<void()>& feed, bool keepsDocument) {
    ++cases_;
    QVERIFY2(window_->openProject(good_), qPrintable(label));
    const QJsonObject before = window_->document()->json();
    DialogCatcher& catcher = *catcher_;
    catcher.texts.clear();
    feed();
    QTRY_VERIFY2_WITH_TIMEOUT(!catcher.texts.isEmpty(), qPrintable(label + ": no error dialog"), 60000);
    QTest::qWait(50);
    const QString text = catcher.texts.join(" | ");
    qInfo("%s -> %s", qPrintable(label), qPrintable(text.left(200)));
    QVERIFY2(window_->isVisible(), qPrintable(label + ": the window went away"));
    QVERIFY2(!QApplication::activeModalWidget(), qPrintable(label + ": a dialog is still open"));
    QCOMPARE(sha(good_), good_sha_);
    if (keepsDocument) {
      QVERIFY2(window_->document()->path() == QFileInfo(good_).absoluteFilePath(),
               qPrintable(label + ": project lost"));
      QVERIFY2(window_->document()->json() == before, qPrintable(label + ": project changed"));
      QVERIFY2(!window_->document()->isModified(), qPrintable(label + ": project marked modified"));
    }
    // The workbench still works: the good project opens again without a dialog.
    catcher.texts.clear();
    QVERIFY2(window_->openProject(good_), qPrintable(label + ": the good project no longer opens"));
    QTest::qWait(50);
    QVERIFY2(catcher.texts.isEmpty(), qPrintable(label + ": " + catcher.texts.join(" | ")));
    QVERIFY(window_->projectData().ok());
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    QCoreApplication::setOrganizationName("OTCS-test");
    QCoreApplication::setApplicationName("Workbench-badfiles");
    otcs::workbench::initResources();
    root_ = ::geteuid() == 0;
    QDir().mkpath(tmp_.filePath("in"));
    good_ = otcs_test::writeSmallProject(tmp_, "good.json");
    good_sha_ = sha(good_);

    QVector<double> v;
    for (int i = 0; i < 40; ++i) v << std::sin(0.7 * i);
    const QByteArray good_npy = npyDouble("(20, 2)", v);
    writeBytes(in("good.npy"), good_npy);
    QVector<double> nan = v;
    nan[7] = qQNaN();
    writeBytes(in("nan.npy"), npyDouble("(20, 2)", nan));
    writeBytes(in("truncated.npy"), good_npy.left(good_npy.size() - 100));
    writeBytes(in("mismatch.npy"), good_npy.left(good_npy.size() - 5));
    writeBytes(in("wrong_dims.npy"), npyDouble("(4, 5, 2)", v));
    const QByteArray garbage("\x00\x01GIF89a not what it claims to be\xff\xfe", 37);
    for (const char* n : {"wrong_magic.npy", "wrong_magic.csv", "wrong_magic.json"}) writeBytes(in(n), garbage);
    for (const char* n : {"empty.npy", "empty.csv", "empty.json"}) writeBytes(in(n), {});
    writeBytes(in("nan.csv"), "1,2\n3,nan\n");
    writeBytes(in("ragged.csv"), "1,2\n3,4,5\n");
    writeBytes(in("truncated.json"), otcs_test::smallProjectJson().left(200));
    writeBytes(in("nan.json"), R"({"schema_version": 1, "name": NaN})");
    writeBytes(in("huge_number.json"), R"({"schema_version": 1e99999, "name": "x"})");
    writeBytes(in("not_an_object.json"), "[1, 2, 3]");
    writeBytes(in("denied.json"), otcs_test::smallProjectJson());
    QFile::setPermissions(in("denied.json"), {});
    writeBytes(in("denied.npy"), good_npy);
    QFile::setPermissions(in("denied.npy"), {});
    // A non-UTF-8 file name (Latin-1 "é"): created through the raw bytes, reached through Qt's decoding of them.
    const QByteArray raw = QFile::encodeName(tmp_.filePath("in/")) + "co\xe9t.json";
    if (FILE* f = std::fopen(raw.constData(), "wb")) {
      std::fwrite(otcs_test::smallProjectJson().constData(), 1, 150, f);
      std::fclose(f);
    }

    catcher_ = std::make_unique<DialogCatcher>();
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(true);  // error dialogs on, as for a user
    window_->resize(1200, 800);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }

  void cleanupTestCase() {
    if (window_) window_->document()->undoStack()->setClean();
    window_.reset();
    qInfo("bad files through the GUI: %d cases, %d skipped (permission denied as root)", cases_, skipped_);
    // QDir cannot name the non-UTF-8 file to remove it; without this the temporary directory stays behind.
    ::unlink((QFile::encodeName(tmp_.filePath("in/")) + "co\xe9t.json").constData());
  }

  void projectFiles() {
    QStringList names = {"empty.json",       "wrong_magic.json",   "truncated.json", "nan.json",
                         "huge_number.json", "not_an_object.json", "missing.json",   "denied.json"};
    for (const QString& name : names) {
      if (name == "denied.json" && root_) {
        ++skipped_;
        continue;
      }
      // Qt's JSON reader takes 1e99999 (as infinity); the core's project parser rejects it once it is open
      check(
          "open " + name, [&] { window_->openProject(in(name)); }, name != "huge_number.json");
      if (QTest::currentTestFailed()) return;
    }
    // the non-UTF-8 name, by whatever path Qt makes of it
    const QDir dir(in(""));
    for (const QString& entry : dir.entryList(QDir::Files))
      if (entry.startsWith("co") && entry.endsWith("t.json")) {
        check(
            "open non-UTF-8 name", [&] { window_->openProject(dir.filePath(entry)); }, true);
        if (QTest::currentTestFailed()) return;
      }
  }

  // A project whose data file is bad opens (so it can be fixed and saved), with an error dialog naming the file;
  // the project open before is closed unmodified, its file untouched.
  void pointsFiles() {
    for (const QString name :
         {"empty.npy", "truncated.npy", "wrong_magic.npy", "nan.npy", "mismatch.npy", "wrong_dims.npy", "empty.csv",
          "wrong_magic.csv", "nan.csv", "ragged.csv", "missing.npy", "denied.npy"}) {
      if (name == "denied.npy" && root_) {
        ++skipped_;
        continue;
      }
      const QString project = projectWithSource("p_" + name + ".json", name);
      bool refused = false;  // read before check() reopens the good project
      check(
          "project with source " + name,
          [&] {
            window_->openProject(project);
            refused = !window_->projectData().ok();
          },
          false);
      if (QTest::currentTestFailed()) return;
      QVERIFY2(refused, qPrintable(name + ": the bad data was accepted"));
    }
  }

  // Artifacts of an earlier run that the window loads when a project opens (RUN = runs/NAME beside it).
  void runArtifacts() {
    const QByteArray garbage("PK\x03\x04 truncated zip", 20);
    const QString run = tmp_.filePath("artifacts-run");  // not runs/good, which opening good.json reads
    for (const QString file : {"bridge/H.npz", "sample/trajectories.npz"}) {
      for (const QByteArray& bytes : {QByteArray(), garbage, QByteArray("\x93NUMPY", 6)}) {
        QDir(run).removeRecursively();
        QDir().mkpath(QFileInfo(QDir(run).filePath(file)).absolutePath());
        writeBytes(QDir(run).filePath(file), bytes);
        // what opening a project does for its run directory
        check(
            QString("run artifact %1 (%2 bytes)").arg(file).arg(bytes.size()), [&] { window_->loadRunArtifacts(run); },
            true);
        if (QTest::currentTestFailed()) return;
      }
    }
    QDir(run).removeRecursively();
  }

  // A run whose score model is corrupt: the sample stage reads it and the run fails with a dialog; the other
  // artifacts of the run stay where they were.
  void scoreCheckpoint() {
    const QString run = tmp_.filePath("ckpt-run");
    QJsonObject json = QJsonDocument::fromJson(otcs_test::smallProjectJson()).object();
    QJsonObject stages = json["stages"].toObject(), score = stages["score"].toObject();
    score["steps"] = 40;
    score["checkpoint_every"] = 20;
    stages["score"] = score;
    json["stages"] = stages;
    const QString project = in("ckpt.json");
    writeBytes(project, QJsonDocument(json).toJson());
    QProcess otcs;
    otcs.start(QStringLiteral(OTCS_BIN_DIR "/otcs"),
               {"run", project, "--out", run, "--until", "score", "--no-figures"});
    QVERIFY(otcs.waitForFinished(300000));
    QCOMPARE(otcs.exitCode(), 0);
    const QString model = QDir(run).filePath("score/model.pt");
    const QByteArray good_model = [&] {
      QFile f(model);
      f.open(QIODevice::ReadOnly);
      return f.readAll();
    }();
    QVERIFY(good_model.size() > 100);
    for (const QByteArray& bytes : {good_model.left(good_model.size() / 2), QByteArray("not a zip archive"),
                                    QByteArray("PK\x05\x06", 4) + QByteArray(18, '\0')}) {
      writeBytes(model, bytes);
      const QByteArray dual = sha(QDir(run).filePath("ot/u.npy"));
      check(
          QString("score/model.pt (%1 bytes) read by a run").arg(bytes.size()),
          [&] {
            QVERIFY(window_->openProject(project));
            window_->runPanel()->setRunDir(run);
            for (const char* name : {"fromStage", "untilStage"}) {
              auto* combo = window_->runPanel()->findChild<QComboBox*>(name);
              combo->setCurrentIndex(combo->findData("sample"));
            }
            QVERIFY(window_->startRun());
          },
          false);
      if (QTest::currentTestFailed()) return;
      QVERIFY(window_->session()->waitForIdle(60000));
      QCOMPARE(sha(QDir(run).filePath("ot/u.npy")), dual);
      QVERIFY(QFileInfo::exists(QDir(run).filePath("bridge/H.npz")));
    }
  }
};

QTEST_MAIN(TestBadFilesGui)
#include "test_bad_files_gui.moc"
