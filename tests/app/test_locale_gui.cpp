// The workbench on a desktop whose locale writes numbers with a decimal comma: Qt switches the process to the
// system locale (setlocale(LC_ALL, "")), under which strtod and scanf read "0.5" as 0. A points CSV with decimal
// points must still load exactly, through the import dialog's preview and through opening a project.
#include <QtTest/QtTest>

#include <clocale>
#include <cmath>
#include <cstdlib>

#include "app/gui/coreadapter.h"
#include "app/gui/mainwindow.h"
#include "app/gui/workbenchapp.h"
#include "workbench_test_support.h"

using otcs::workbench::MainWindow;

class TestLocaleGui : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    // Set in main() before QApplication; Qt applied it to the C library.
    const char* decimal = std::localeconv()->decimal_point;
    if (!decimal || std::string(decimal) != ",")
      QSKIP("the de_DE.UTF-8 locale is not installed (Debian package locales-all, in scripts/deps.txt)");
    otcs_test::isolateSettings(tmp_);
    QCoreApplication::setOrganizationName("OTCS-test");
    QCoreApplication::setApplicationName("Workbench-locale");
    otcs::workbench::initResources();
    QFile csv(tmp_.filePath("points.csv"));
    QVERIFY(csv.open(QIODevice::WriteOnly));
    csv.write("0.5,1.25\n-2.75,3.5e-1\n1e-3,+4.0\n");
  }

  void importPreviewReadsDecimalPoints() {
    const auto preview = otcs::workbench::previewDataset(QJsonObject{{"file", "points.csv"}}, tmp_.path());
    QVERIFY2(preview.error.isEmpty(), qPrintable(preview.error));
    QCOMPARE(preview.count, qint64(3));
    QCOMPARE(preview.dim, 2);
  }

  void openedProjectHasTheExactPoints() {
    QJsonObject json = QJsonDocument::fromJson(otcs_test::smallProjectJson()).object();
    QJsonObject data = json["data"].toObject();
    data["source"] = QJsonObject{{"file", "points.csv"}};
    data.remove("keypoints");
    json["data"] = data;
    const QString path = tmp_.filePath("locale.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(json).toJson());
    file.close();

    MainWindow window;
    QVERIFY(window.openProject(path));
    const auto& loaded = window.projectData();
    QVERIFY2(loaded.ok(), qPrintable(loaded.error));
    QCOMPARE(loaded.sourceFileCount, qint64(3));
    // The stages see float32 points: compare at float precision (a misread "0.5" would be 0, far off).
    const QVector<QPointF> want = {{0.5, 1.25}, {-2.75, 0.35}, {0.001, 4.0}};
    for (int i = 0; i < want.size(); ++i)
      QVERIFY2(
          std::abs(loaded.source[i].x() - want[i].x()) < 1e-6 && std::abs(loaded.source[i].y() - want[i].y()) < 1e-6,
          qPrintable(QString("point %1: %2, %3").arg(i).arg(loaded.source[i].x()).arg(loaded.source[i].y())));
  }
};

int main(int argc, char** argv) {
  ::setenv("LC_ALL", "de_DE.UTF-8", 1);  // before QApplication, which calls setlocale(LC_ALL, "")
  QApplication app(argc, argv);
  TestLocaleGui test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_locale_gui.moc"
