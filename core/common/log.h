#pragma once
// Logging for every front end: one spdlog logger ("otcs") fanning out to a console sink, an optional
// per-run log file, and any sinks a front end adds (the GUI's log dock).
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

namespace otcs {

// Parses "trace|debug|info|warn|error|critical|off"; throws UserError on anything else.
spdlog::level::level_enum parse_log_level(const std::string& name);

// Creates (or re-creates) the "otcs" logger as the default logger, writing to stderr.
void init_logging(spdlog::level::level_enum level, bool console = true);

// Adds a sink to the default logger (e.g. a run's log file or the GUI's log view).
void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink);
void remove_log_sink(const std::shared_ptr<spdlog::sinks::sink>& sink);

// Opens a log file (append) and adds it; returns the sink so the caller can remove it.
std::shared_ptr<spdlog::sinks::sink> add_log_file(const std::string& path);

// Sinks added while a scope lives (a command's log file) are flushed and removed when it ends, so calling a
// command twice in one process (tests, the GUI) neither duplicates nor leaks sinks, and the file is complete
// when the command returns.
class LogSinkScope {
 public:
  LogSinkScope();
  ~LogSinkScope();
  LogSinkScope(const LogSinkScope&) = delete;
  LogSinkScope& operator=(const LogSinkScope&) = delete;

 private:
  std::vector<std::shared_ptr<spdlog::sinks::sink>> before_;
};

}  // namespace otcs
