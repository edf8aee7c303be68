#pragma once
// A spdlog sink that feeds the log dock. spdlog calls it from whatever thread logs (the training worker
// included); LogView::appendLine re-posts to the GUI thread. Install with attach(), which also removes the
// sink again before the view is destroyed, so no thread can call into a dead widget.
#include <memory>
#include <mutex>

#include <QPointer>
#include <spdlog/sinks/base_sink.h>

#include "widgets/logview.h"

namespace otcs::workbench {

class GuiLogSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit GuiLogSink(LogView* view);
  // Adds a sink for `view` to the "otcs" logger and ties its removal to the view's destruction.
  static std::shared_ptr<GuiLogSink> attach(LogView* view);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  QPointer<LogView> view_;
};

}  // namespace otcs::workbench
