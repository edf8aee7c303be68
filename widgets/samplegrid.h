#pragma once

#include <QImage>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include "widgets/trajectorydata.h"

namespace otcs {

// Samples × frames of image trajectories, painted from plain float data.
class SampleGrid : public QWidget {
  Q_OBJECT
 public:
  explicit SampleGrid(QWidget* parent = nullptr);
  void setImages(const QVector<QVector<QImage>>& rows, const QStringList& columnTitles,
                 const QStringList& rowTitles = {}, int highlightColumn = -1);
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QVector<QVector<QImage>> rows_;
  QStringList titles_, row_titles_;
  int highlight_ = -1;
};

// K indices spread evenly over 0..n-1, first and last included (fewer when n < K).
QVector<int> evenlySpacedIndices(int n, int k);

// Converts one sample (channels × height × width floats, roughly in [-1, 1]) to an image.
QImage sampleToImage(const float* data, const ImageShape& shape);

}  // namespace otcs
