#include "core/common/log.h"

#include <algorithm>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/common/error.h"

namespace otcs {
namespace {
std::shared_ptr<spdlog::sinks::dist_sink_mt> g_sinks;
std::shared_ptr<spdlog::sinks::sink> g_console;
}  // namespace

spdlog::level::level_enum parse_log_level(const std::string& name) {
  static const char* names[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  for (int i = 0; i < 7; ++i)
    if (name == names[i]) return static_cast<spdlog::level::level_enum>(i);
  fail("unknown log level '{}' (use trace, debug, info, warn, error, critical or off)", name);
}

void init_logging(spdlog::level::level_enum level, bool console) {
  if (!g_sinks) g_sinks = std::make_shared<spdlog::sinks::dist_sink_mt>();
  if (console && !g_console) {
    // One console sink per process, whatever the number of init_logging calls.
    auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    err->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    g_console = err;
    auto sinks = g_sinks->sinks();
    sinks.insert(sinks.begin(), err);  // first: cmd_run's progress bar wraps the first sink
    g_sinks->set_sinks(sinks);
  }
  auto logger = std::make_shared<spdlog::logger>("otcs", g_sinks);
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
  if (!g_sinks) init_logging(spdlog::level::info, false);
  g_sinks->add_sink(std::move(sink));
}

void remove_log_sink(const std::shared_ptr<spdlog::sinks::sink>& sink) {
  if (g_sinks) g_sinks->remove_sink(sink);
}

std::shared_ptr<spdlog::sinks::sink> add_log_file(const std::string& path) {
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
    sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [t%t] %v");
    add_log_sink(sink);
    return sink;
  } catch (const spdlog::spdlog_ex& e) {
    fail("{}: cannot open log file ({})", path, e.what());
  }
}

LogSinkScope::LogSinkScope() {
  if (g_sinks) before_ = g_sinks->sinks();
}

LogSinkScope::~LogSinkScope() {
  if (auto logger = spdlog::default_logger()) logger->flush();
  if (!g_sinks) return;
  for (const auto& s : g_sinks->sinks())
    if (std::find(before_.begin(), before_.end(), s) == before_.end() && s != g_console) g_sinks->remove_sink(s);
}

}  // namespace otcs
