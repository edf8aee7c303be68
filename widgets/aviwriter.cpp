#include "widgets/aviwriter.h"

#include <QBuffer>
#include <algorithm>
#include <QImageWriter>
#include <QSaveFile>

namespace otcs {
namespace {

// Little-endian RIFF writer over a byte array; chunk sizes are patched when a chunk closes.
class Riff {
 public:
  void fourcc(const char* c) { bytes_.append(c, 4); }
  void u32(quint32 v) {
    for (int i = 0; i < 4; ++i) bytes_.append(char((v >> (8 * i)) & 0xff));
  }
  void u16(quint16 v) {
    bytes_.append(char(v & 0xff));
    bytes_.append(char(v >> 8));
  }
  void raw(const QByteArray& b) { bytes_.append(b); }
  // Opens "ID size" (or "LIST size TYPE"); returns the position of the size field.
  qsizetype open(const char* id, const char* list_type = nullptr) {
    fourcc(id);
    const qsizetype at = bytes_.size();
    u32(0);
    if (list_type) fourcc(list_type);
    return at;
  }
  void close(qsizetype size_at) {
    // The size excludes the pad byte that keeps the next chunk word-aligned.
    const quint32 size = quint32(bytes_.size() - size_at - 4);
    for (int i = 0; i < 4; ++i) bytes_[size_at + i] = char((size >> (8 * i)) & 0xff);
    if (bytes_.size() % 2) bytes_.append('\0');
  }
  qsizetype size() const { return bytes_.size(); }
  const QByteArray& bytes() const { return bytes_; }

 private:
  QByteArray bytes_;
};

}  // namespace

bool writeMjpegAvi(const QString& path, const QVector<QImage>& frames, int fps, QString* error, int quality) {
  if (frames.isEmpty() || frames.first().isNull()) {
    *error = QString("%1: no frames to write").arg(path);
    return false;
  }
  fps = qBound(1, fps, 120);
  // Every frame at the first frame's size; JPEG wants even dimensions for 4:2:0 chroma in most decoders.
  const int w = frames.first().width() & ~1, h = frames.first().height() & ~1;
  QVector<QByteArray> jpegs;
  quint32 largest = 0;
  for (const QImage& frame : frames) {
    QImage img = frame.convertToFormat(QImage::Format_RGB32);
    if (img.size() != QSize(w, h)) img = img.scaled(w, h, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    QByteArray jpeg;
    QBuffer buffer(&jpeg);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "jpeg");
    writer.setQuality(quality);
    if (!writer.write(img)) {
      *error = QString("%1: cannot encode a frame as JPEG (%2)").arg(path, writer.errorString());
      return false;
    }
    largest = std::max(largest, quint32(jpeg.size()));
    jpegs.push_back(jpeg);
  }
  const quint32 n = quint32(jpegs.size());

  Riff r;
  const auto riff = r.open("RIFF", "AVI ");
  const auto hdrl = r.open("LIST", "hdrl");
  const auto avih = r.open("avih");
  r.u32(1000000 / fps);  // microseconds per frame
  r.u32(largest * fps);  // max bytes per second
  r.u32(0);              // padding granularity
  r.u32(0x10);           // AVIF_HASINDEX
  r.u32(n);              // total frames
  r.u32(0);              // initial frames
  r.u32(1);              // streams
  r.u32(largest);        // suggested buffer size
  r.u32(quint32(w));
  r.u32(quint32(h));
  for (int i = 0; i < 4; ++i) r.u32(0);
  r.close(avih);
  const auto strl = r.open("LIST", "strl");
  const auto strh = r.open("strh");
  r.fourcc("vids");
  r.fourcc("MJPG");
  r.u32(0);             // flags
  r.u16(0);             // priority
  r.u16(0);             // language
  r.u32(0);             // initial frames
  r.u32(1);             // scale
  r.u32(quint32(fps));  // rate: fps = rate / scale
  r.u32(0);             // start
  r.u32(n);             // length in frames
  r.u32(largest);       // suggested buffer size
  r.u32(0xffffffff);    // quality: default
  r.u32(0);             // sample size: varies
  r.u16(0);
  r.u16(0);
  r.u16(quint16(w));
  r.u16(quint16(h));
  r.close(strh);
  const auto strf = r.open("strf");
  r.u32(40);
  r.u32(quint32(w));
  r.u32(quint32(h));
  r.u16(1);   // planes
  r.u16(24);  // bit count
  r.fourcc("MJPG");
  r.u32(quint32(w * h * 3));
  r.u32(0);
  r.u32(0);
  r.u32(0);
  r.u32(0);
  r.close(strf);
  r.close(strl);
  r.close(hdrl);

  const auto movi = r.open("LIST", "movi");
  const qsizetype movi_fourcc = movi + 4;      // index offsets count from the 'movi' type field
  QVector<std::pair<quint32, quint32>> index;  // (offset, length)
  for (const QByteArray& jpeg : jpegs) {
    index.push_back({quint32(r.size() - movi_fourcc), quint32(jpeg.size())});
    const auto chunk = r.open("00dc");
    r.raw(jpeg);
    r.close(chunk);
  }
  r.close(movi);
  const auto idx1 = r.open("idx1");
  for (const auto& [offset, length] : index) {
    r.fourcc("00dc");
    r.u32(0x10);  // AVIIF_KEYFRAME: every MJPEG frame is one
    r.u32(offset);
    r.u32(length);
  }
  r.close(idx1);
  r.close(riff);

  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(r.bytes()) != r.size() || !file.commit()) {
    *error = QString("%1: cannot write the video (%2)").arg(path, file.errorString());
    return false;
  }
  return true;
}

}  // namespace otcs
