// The Motion-JPEG AVI writer: a RIFF/AVI structure players accept (header frame count, one '00dc' chunk per
// frame, an idx1 entry per frame pointing at it) and frames that decode back to the pictures written.
#include <QtTest/QtTest>

#include "widgets/aviwriter.h"

namespace {
quint32 u32(const QByteArray& b, qsizetype at) {
  quint32 v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | quint8(b[at + i]);
  return v;
}
}  // namespace

class TestAviWriter : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private slots:
  void framesRoundTrip() {
    QVector<QImage> frames;
    const QColor colours[] = {Qt::red, Qt::green, Qt::blue, Qt::yellow, Qt::black};
    for (const QColor& c : colours) {
      QImage img(64, 48, QImage::Format_RGB32);
      img.fill(c);
      frames.push_back(img);
    }
    const QString path = tmp_.filePath("t.avi");
    QString error;
    QVERIFY2(otcs::writeMjpegAvi(path, frames, 5, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray b = file.readAll();
    QCOMPARE(b.left(4), QByteArray("RIFF"));
    QCOMPARE(qsizetype(u32(b, 4)), b.size() - 8);
    QCOMPARE(b.mid(8, 4), QByteArray("AVI "));
    QCOMPARE(b.mid(24, 4), QByteArray("avih"));
    QCOMPARE(u32(b, 32), 200000u);  // microseconds per frame at 5 fps
    QCOMPARE(u32(b, 48), 5u);       // total frames
    QCOMPARE(u32(b, 64), 64u);      // width
    QCOMPARE(u32(b, 68), 48u);      // height
    const qsizetype movi = b.indexOf("movi");
    const qsizetype idx1 = b.indexOf("idx1");
    QVERIFY(movi > 0 && idx1 > movi);
    QCOMPARE(qsizetype(u32(b, idx1 + 4)), qsizetype(5 * 16));
    for (int k = 0; k < 5; ++k) {
      const qsizetype entry = idx1 + 8 + 16 * k;
      QCOMPARE(b.mid(entry, 4), QByteArray("00dc"));
      const qsizetype chunk = movi + u32(b, entry + 8);
      QCOMPARE(b.mid(chunk, 4), QByteArray("00dc"));
      const quint32 length = u32(b, entry + 12);
      QCOMPARE(u32(b, chunk + 4), length);
      const QImage decoded = QImage::fromData(b.mid(chunk + 8, length), "JPEG");
      QCOMPARE(decoded.size(), QSize(64, 48));
      const QColor got = decoded.pixelColor(32, 24), want = colours[k];
      QVERIFY(qAbs(got.red() - want.red()) < 16 && qAbs(got.green() - want.green()) < 16 &&
              qAbs(got.blue() - want.blue()) < 16);
    }
  }

  void noFramesIsAnErrorAndNoFile() {
    QString error;
    QVERIFY(!otcs::writeMjpegAvi(tmp_.filePath("none.avi"), {}, 5, &error));
    QVERIFY(error.contains("none.avi"));
    QVERIFY(!QFile::exists(tmp_.filePath("none.avi")));
  }
};

QTEST_MAIN(TestAviWriter)
#include "test_aviwriter.moc"
