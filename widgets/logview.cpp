#include "widgets/logview.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMetaObject>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTextBlock>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

namespace otcs {
namespace {

const char* levelName(int level) {
  static const char* names[] = {"trace", "debug", "info", "warn", "error", "critical"};
  return level >= 0 && level < 6 ? names[level] : "info";
}

QColor levelColor(int level) {
  if (level >= 4) return QColor(190, 30, 30);
  if (level == 3) return QColor(170, 100, 0);
  if (level <= 1) return QColor(120, 120, 120);
  return QColor(30, 30, 30);
}

}  // namespace

LogView::LogView(QWidget* parent) : QWidget(parent) {
  text_ = new QPlainTextEdit(this);
  text_->setObjectName("logText");
  text_->setReadOnly(true);
  text_->setMaximumBlockCount(max_lines_);
  text_->setLineWrapMode(QPlainTextEdit::NoWrap);
  QFont mono("Monospace");
  mono.setStyleHint(QFont::TypeWriter);
  mono.setPointSizeF(qMax(8.0, font().pointSizeF() - 1));
  text_->setFont(mono);

  level_box_ = new QComboBox(this);
  level_box_->setObjectName("logLevel");
  for (int level = 0; level < 6; ++level) level_box_->addItem(levelName(level), level);
  level_box_->setCurrentIndex(min_level_);
  auto* clear_button = new QToolButton(this);
  clear_button->setText("Clear");
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 2, 4, 2);
  bar->addWidget(new QLabel("Show from level:", this));
  bar->addWidget(level_box_);
  bar->addStretch(1);
  bar->addWidget(clear_button);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(bar);
  layout->addWidget(text_, 1);
  connect(level_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int index) { setMinimumLevel(level_box_->itemData(index).toInt()); });
  connect(clear_button, &QToolButton::clicked, this, &LogView::clear);
}

void LogView::setMaximumLines(int lines) {
  max_lines_ = qMax(10, lines);
  text_->setMaximumBlockCount(max_lines_);
  if (lines_.size() > max_lines_) lines_.remove(0, lines_.size() - max_lines_);
}

int LogView::lineCount() const { return lines_.size(); }

QString LogView::visibleText() const { return text_->toPlainText(); }

void LogView::setMinimumLevel(int level) {
  min_level_ = qBound(0, level, 5);
  if (level_box_->currentIndex() != min_level_) {
    const QSignalBlocker block(level_box_);
    level_box_->setCurrentIndex(min_level_);
  }
  rebuild();
}

void LogView::appendLine(int level, const QString& text) {
  if (QThread::currentThread() != thread()) {
    QMetaObject::invokeMethod(
        this, [this, level, text] { appendLine(level, text); }, Qt::QueuedConnection);
    return;
  }
  lines_.push_back({level, text});
  if (lines_.size() > max_lines_ + max_lines_ / 4) lines_.remove(0, lines_.size() - max_lines_);
  if (level >= min_level_) appendToView(level, text);
  if (level >= 4) emit errorLogged(text);
}

void LogView::appendToView(int level, const QString& text) {
  QScrollBar* bar = text_->verticalScrollBar();
  const bool at_end = bar->value() >= bar->maximum() - 2;
  QTextCharFormat format;
  format.setForeground(levelColor(level));
  QTextCursor cursor(text_->document());
  cursor.movePosition(QTextCursor::End);
  if (!text_->document()->isEmpty()) cursor.insertBlock();
  cursor.insertText(text, format);
  // Follow the tail only when the user has not scrolled up to read something.
  if (at_end) bar->setValue(bar->maximum());
}

void LogView::rebuild() {
  text_->clear();
  for (const Line& line : lines_)
    if (line.level >= min_level_) appendToView(line.level, line.text);
}

void LogView::clear() {
  lines_.clear();
  text_->clear();
}

}  // namespace otcs
