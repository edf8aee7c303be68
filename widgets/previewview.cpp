#include "widgets/previewview.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QTextStream>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace otcs {

PreviewView::PreviewView(QWidget* parent) : QWidget(parent) {
  info_ = new QLabel(this);
  info_->setObjectName("previewInfo");
  info_->setWordWrap(true);
  info_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  scrubber_ = new QSlider(Qt::Horizontal, this);
  scrubber_->setObjectName("previewScrubber");
  scrubber_->setPageStep(1);
  scrubber_->setToolTip("Earlier previews: the same sources with the same noise at each training step");
  follow_ = new QCheckBox("follow the latest", this);
  follow_->setChecked(true);
  image_ = new QLabel(this);
  image_->setObjectName("previewImage");
  image_->setAlignment(Qt::AlignCenter);
  image_->setMinimumSize(160, 120);
  image_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
  image_->setWordWrap(true);
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 2, 4, 2);
  bar->addWidget(scrubber_, 1);
  bar->addWidget(follow_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(bar);
  layout->addWidget(info_);
  layout->addWidget(image_, 1);
  empty_text_ = "No previews yet: set stages.score.preview_every (steps) to see what the model makes while it trains.";
  connect(scrubber_, &QSlider::valueChanged, this, [this](int v) {
    if (v != current_) {
      follow_->setChecked(v == previews_.size() - 1);
      setCurrentIndex(v);
    }
  });
  refresh();
}

void PreviewView::addPreview(qint64 step, const QImage& image) {
  if (image.isNull()) return;
  previews_.push_back({step, image});
  if (follow_->isChecked() || current_ < 0) current_ = int(previews_.size()) - 1;
  refresh();
}

void PreviewView::setPreviews(const QVector<QPair<qint64, QImage>>& previews) {
  previews_.clear();
  for (const auto& p : previews)
    if (!p.second.isNull()) previews_.push_back(p);
  current_ = previews_.isEmpty() ? -1 : int(previews_.size()) - 1;
  refresh();
}

void PreviewView::clear() {
  previews_.clear();
  current_ = -1;
  refresh();
}

void PreviewView::setCurrentIndex(int index) {
  if (previews_.isEmpty()) return;
  current_ = std::clamp(index, 0, int(previews_.size()) - 1);
  refresh();
}

void PreviewView::setEmptyText(const QString& text) {
  empty_text_ = text;
  refresh();
}

void PreviewView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  refresh();
}

void PreviewView::refresh() {
  {
    const QSignalBlocker block(scrubber_);
    scrubber_->setRange(0, std::max(0, int(previews_.size()) - 1));
    scrubber_->setValue(std::max(0, current_));
    scrubber_->setEnabled(previews_.size() > 1);
  }
  if (current_ < 0) {
    image_->setPixmap(QPixmap());
    image_->setText(empty_text_);
    info_->clear();
    return;
  }
  const auto& [step, image] = previews_[current_];
  info_->setText(QString("  preview %1 of %2 · training step %3").arg(current_ + 1).arg(previews_.size()).arg(step));
  // The room the view has (the label itself may not be laid out yet when a preview arrives).
  const QSize room(std::max(100, width() - 8),
                   std::max(80, height() - info_->sizeHint().height() - scrubber_->sizeHint().height() - 16));
  // Integer scaling keeps pixels sharp (28 x 28 digits); larger images are fitted smoothly.
  const int factor =
      std::max(1, std::min(room.width() / std::max(1, image.width()), room.height() / std::max(1, image.height())));
  QImage shown = factor > 1 ? image.scaled(image.size() * factor, Qt::KeepAspectRatio, Qt::FastTransformation)
                            : image.scaled(room, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  image_->setPixmap(QPixmap::fromImage(shown));
}

QSize PreviewView::figureSize() const {
  return current_ >= 0 ? previews_[current_].second.size() + QSize(0, 24) : QSize(400, 300);
}

void PreviewView::renderFigure(QCPPainter& painter, const QSize& size) {
  painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
  if (current_ < 0) return;
  const auto& [step, image] = previews_[current_];
  painter.drawText(QRect(0, 0, size.width(), 22), Qt::AlignCenter, QString("training step %1").arg(step));
  const QRect target(0, 24, size.width(), size.height() - 24);
  const QImage scaled = image.scaled(target.size(), Qt::KeepAspectRatio, Qt::FastTransformation);
  painter.drawImage(QPoint(target.x() + (target.width() - scaled.width()) / 2, target.y()), scaled);
}

void PreviewView::writeFigureCsv(QTextStream& out) const {
  out << "index,step\n";
  for (int i = 0; i < previews_.size(); ++i) out << i << ',' << previews_[i].first << '\n';
}

}  // namespace otcs
