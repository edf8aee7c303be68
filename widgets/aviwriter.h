#pragma once
// Writes frames as a Motion-JPEG AVI: every player (VLC, ffmpeg, browsers via conversion, PowerPoint) reads it,
// and it needs nothing beyond Qt's JPEG encoder (no ffmpeg libraries on the build machine). Written through
// QSaveFile: a failed export leaves no partial video.
#include <QImage>
#include <QString>
#include <QVector>

namespace otcs {

bool writeMjpegAvi(const QString& path, const QVector<QImage>& frames, int fps, QString* error, int quality = 90);

}  // namespace otcs
