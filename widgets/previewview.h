#pragma once
// Live previews of a training score model: the latest preview large, a scrubber back through the earlier ones
// (each the same sources with the same noise, so the differences are the model's progress). Plain data: images
// with their training steps.
#include <QImage>
#include <QVector>
#include <QWidget>

#include "widgets/figureexport.h"

class QLabel;
class QSlider;
class QCheckBox;

namespace otcs {

class PreviewView : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit PreviewView(QWidget* parent = nullptr);

  // Appends a preview (steps increase); while "follow" is on the view jumps to it.
  void addPreview(qint64 step, const QImage& image);
  void setPreviews(const QVector<QPair<qint64, QImage>>& previews);
  void clear();
  int previewCount() const { return int(previews_.size()); }
  int currentIndex() const { return current_; }
  qint64 currentStep() const { return current_ >= 0 ? previews_[current_].first : -1; }
  void setCurrentIndex(int index);
  // Shown while there is no preview: where previews come from.
  void setEmptyText(const QString& text);

  QString figureName() const override { return "preview"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void refresh();

  QVector<QPair<qint64, QImage>> previews_;
  int current_ = -1;
  QLabel* image_ = nullptr;
  QLabel* info_ = nullptr;
  QSlider* scrubber_ = nullptr;
  QCheckBox* follow_ = nullptr;
  QString empty_text_;
};

}  // namespace otcs
