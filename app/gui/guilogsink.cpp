#include "app/gui/guilogsink.h"

#include <QString>

#include "core/common/log.h"

namespace otcs::workbench {

GuiLogSink::GuiLogSink(LogView* view) : view_(view) { set_pattern("[%H:%M:%S.%e] [%l] %v"); }

std::shared_ptr<GuiLogSink> GuiLogSink::attach(LogView* view) {
  auto sink = std::make_shared<GuiLogSink>(view);
  otcs::add_log_sink(sink);
  QObject::connect(view, &QObject::destroyed, [weak = std::weak_ptr<GuiLogSink>(sink)] {
    if (auto s = weak.lock()) otcs::remove_log_sink(s);
  });
  return sink;
}

void GuiLogSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  QString text = QString::fromUtf8(formatted.data(), int(formatted.size()));
  while (text.endsWith('\n') || text.endsWith('\r')) text.chop(1);
  if (LogView* view = view_.data()) view->appendLine(int(msg.level), text);
}

}  // namespace otcs::workbench
