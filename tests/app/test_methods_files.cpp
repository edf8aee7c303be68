// The Methods page's files, read through the core's readers (app/gui/coreadapter.h): cell measures from
// synthetic float64/float32 .npy files, AOT chunk costs from a CSV with extra columns in any order, bad files
// rejected with an error naming them, both found in a run tree and shown by the view.
#include <QtTest/QtTest>

#include <QTemporaryDir>
#include <cstring>

#include "app/gui/coreadapter.h"
#include "widgets/methodsview.h"

using otcs::MethodsView;
using otcs::workbench::findMethodsFiles;
using otcs::workbench::loadMethodsFile;

namespace {
template <typename T>
void writeNpy(const QString& path, const QVector<T>& values, const char* descr, int version = 1) {
  QByteArray header =
      QString("{'descr': '%1', 'fortran_order': False, 'shape': (%2,), }").arg(descr).arg(values.size()).toLatin1();
  const int prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header.append(' ');
  header.append('\n');
  QByteArray bytes("\x93NUMPY", 6);
  bytes.append(char(version)).append(char(0));
  if (version == 1) {
    const quint16 n = quint16(header.size());
    bytes.append(char(n & 0xff)).append(char(n >> 8));
  } else {
    const quint32 n = quint32(header.size());
    for (int i = 0; i < 4; ++i) bytes.append(char((n >> (8 * i)) & 0xff));
  }
  bytes.append(header);
  bytes.append(reinterpret_cast<const char*>(values.constData()), int(values.size() * sizeof(T)));  // x86: LE
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(bytes);
}

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text);
}
}  // namespace

class TestMethodsFiles : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void cellMeasuresFloat64() {
    QTemporaryDir tmp;
    // 10 cells: 1/N = 0.1; 6 cells at exactly 0.1, 2 at 0.11 (within 20%), 0.05 and 0.13 (outside); sum 1.
    QVector<double> m{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.11, 0.11, 0.05, 0.13};
    const QString path = tmp.filePath("cell_measures.npy");
    writeNpy(path, m, "<f8");
    MethodsView view;
    QString error;
    QVERIFY2(loadMethodsFile(&view, path, &error), qPrintable(error));
    QCOMPARE(view.cellMeasures(), m);
    QVERIFY(qFuzzyCompare(view.cellSummary().withinShare, 0.8));
  }

  void cellMeasuresFloat32AndVersion2() {
    QTemporaryDir tmp;
    QVector<float> m(400, 1.0f / 400);
    m[0] = 0.5f / 400;
    m[1] = 1.5f / 400;
    const QString path = tmp.filePath("cells32.npy");
    writeNpy(path, m, "<f4", 2);
    QVector<double> measures;
    QString error;
    QVERIFY2(otcs::workbench::loadCellMeasures(path, &measures, &error), qPrintable(error));
    QCOMPARE(measures.size(), 400);
    QCOMPARE(measures[1], double(1.5f / 400));
  }

  void badNpyFilesNameTheFile() {
    QTemporaryDir tmp;
    MethodsView view;
    QString error;
    const QString garbage = tmp.filePath("garbage.npy");
    writeText(garbage, "not numpy at all");
    QVERIFY(!loadMethodsFile(&view, garbage, &error));
    QVERIFY(error.contains(garbage));
    const QString ints = tmp.filePath("ints.npy");
    writeNpy(ints, QVector<qint64>{1, 2, 3}, "<i8");
    QVERIFY(!loadMethodsFile(&view, ints, &error));
    QVERIFY(error.contains(ints));
    const QString missing = tmp.filePath("missing.npy");
    QVERIFY(!loadMethodsFile(&view, missing, &error));
    QVERIFY(error.contains(missing));
    // Truncated data: the header announces more values than the file holds.
    const QString cut = tmp.filePath("cut.npy");
    writeNpy(cut, QVector<double>(8, 0.125), "<f8");
    QFile f(cut);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.resize(f.size() - 16));
    f.close();
    QVERIFY(!loadMethodsFile(&view, cut, &error));
    QVERIFY2(error.contains("truncated"), qPrintable(error));
    const QString negative = tmp.filePath("negative.npy");
    writeNpy(negative, QVector<double>{0.5, -0.1}, "<f8");
    QVERIFY(!loadMethodsFile(&view, negative, &error));
    QVERIFY(error.contains(negative));
    QCOMPARE(view.cellMeasures().size(), 0);  // a failed load keeps the old (empty) data
  }

  void aotChunksToleratesExtraColumns() {
    QTemporaryDir tmp;
    const QString path = tmp.filePath("aot_chunks.csv");
    writeText(path,
              "chunk,assigned_cost,random_cost,seconds,extra\n0,1.5,3.0,0.2,x\n1,1.25,2.9,0.21,y\n\n"
              "2,1.0,3.1,0.2,z\n");
    MethodsView view;
    QString error;
    QVERIFY2(loadMethodsFile(&view, path, &error), qPrintable(error));
    QCOMPARE(view.aotChunks().chunk, (QVector<double>{0, 1, 2}));
    QCOMPARE(view.aotChunks().assigned, (QVector<double>{1.5, 1.25, 1.0}));
    QCOMPARE(view.aotChunks().random, (QVector<double>{3.0, 2.9, 3.1}));
    QCOMPARE(view.aotChunks().seconds, (QVector<double>{0.2, 0.21, 0.2}));
    // Columns in another order, no seconds.
    const QString reordered = tmp.filePath("reordered.csv");
    writeText(reordered, "random_cost,note,chunk,assigned_cost\n4,a,0,2\n");
    QVERIFY2(loadMethodsFile(&view, reordered, &error), qPrintable(error));
    QCOMPARE(view.aotChunks().assigned, (QVector<double>{2}));
    QCOMPARE(view.aotChunks().random, (QVector<double>{4}));
    QVERIFY(view.aotChunks().seconds.isEmpty());
  }

  void badCsvNamesTheFile() {
    QTemporaryDir tmp;
    MethodsView view;
    QString error;
    const QString noColumns = tmp.filePath("wrong.csv");
    writeText(noColumns, "a,b,c\n1,2,3\n");
    QVERIFY(!loadMethodsFile(&view, noColumns, &error));
    QVERIFY(error.contains(noColumns));
    const QString badRow = tmp.filePath("badrow.csv");
    writeText(badRow, "chunk,assigned_cost,random_cost,seconds\n0,1,2,0.1\n1,oops,2,0.1\n");
    QVERIFY(!loadMethodsFile(&view, badRow, &error));
    QVERIFY2(error.contains(badRow) && error.contains("line 3"), qPrintable(error));
    QVERIFY(!loadMethodsFile(&view, tmp.filePath("x.txt"), &error));
    QVERIFY(view.aotChunks().chunk.isEmpty());
  }

  void findsFilesInARunTree() {
    QTemporaryDir tmp;
    QVERIFY(QDir(tmp.path()).mkpath("ot/dpm"));
    writeNpy(tmp.filePath("ot/dpm/cell_measures.npy"), QVector<double>(50, 0.02), "<f8");
    writeText(tmp.filePath("ot/aot_chunks.csv"), "chunk,assigned_cost,random_cost,seconds\n0,1,2,0.1\n1,0.9,2,0.1\n");
    const QStringList found = findMethodsFiles(tmp.path());
    QCOMPARE(found.size(), 2);
    QCOMPARE(found[0], tmp.filePath("ot/dpm/cell_measures.npy"));
    QCOMPARE(found[1], tmp.filePath("ot/aot_chunks.csv"));
    MethodsView view;
    QString error;
    for (const QString& path : found) QVERIFY2(loadMethodsFile(&view, path, &error), qPrintable(error));
    QCOMPARE(view.cellSummary().withinShare, 1.0);
    QCOMPARE(view.aotChunks().chunk.size(), 2);
    QCOMPARE(findMethodsFiles(tmp.filePath("ot/dpm")), (QStringList{tmp.filePath("ot/dpm/cell_measures.npy"), ""}));
  }
};

QTEST_MAIN(TestMethodsFiles)
#include "test_methods_files.moc"
