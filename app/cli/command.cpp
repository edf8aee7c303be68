#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/importers.h"
#endif
#include "app/cli/command.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/common/error.h"
#include "core/common/log.h"
#include "core/common/runtime.h"
#include "core/run/run_meta.h"

namespace fs = std::filesystem;

namespace otcs::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

double Args::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  std::string text = get(name);
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value)) fail("{}: '{}' is not a finite number", name, text);
  return value;
}

long long Args::get_int(const std::string& name, long long fallback) const {
  if (!has(name)) return fallback;
  std::string text = get(name);
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE) fail("{}: '{}' is not an integer", name, text);
  return value;
}

double positive_double(const Args& args, const std::string& name, double fallback) {
  double v = args.get_double(name, fallback);
  if (!(v > 0) || !std::isfinite(v)) fail("{} must be > 0 (got {})", name, args.get(name, fmt::format("{}", v)));
  return v;
}

long long positive_int(const Args& args, const std::string& name, long long fallback) {
  long long v = args.get_int(name, fallback);
  if (v <= 0) fail("{} must be a positive integer (got {})", name, args.get(name, std::to_string(v)));
  return v;
}

int requested_threads(const Args& args) {
  if (args.has("--threads")) return int(positive_int(args, "--threads", 1));
  return otcs::environment_threads();
}

namespace {

const std::vector<OptionSpec>& common_options() {
  static const std::vector<OptionSpec> options = {
      {"--log-level", "LEVEL", "trace, debug, info, warn, error, critical or off", "info"},
      {"--log-file", "PATH", "write this run's log here (default: OUT/otcs.log, else ~/.local/state/otcs/logs)"},
      {"--threads", "N",
       "intra-op threads for LibTorch and OpenBLAS (default: OMP_NUM_THREADS, else the cores, shared among "
       "--nproc ranks)"},
      {"--help", "", "show this help and exit"},
  };
  return options;
}

const OptionSpec* find_option(const Command& cmd, const std::string& name) {
  for (const auto& o : cmd.options)
    if (o.name == name) return &o;
  for (const auto& o : common_options())
    if (o.name == name) return &o;
  return nullptr;
}

std::string program_help() {
  std::ostringstream out;
  out << "otcs: optimal-transport-guided conditional diffusion (OTCS, DPM-OT, AOT) from the command line\n\n"
         "usage: otcs <command> [options]   (otcs <command> --help for each)\n\ncommands:\n";
  for (const auto& cmd : registry())
    if (!cmd.hidden) out << fmt::format("  {:<10} {}\n", cmd.name, cmd.summary);
  out << "\ncommon options: --log-level LEVEL, --log-file PATH, --threads N, --help\n"
         "exit status: 0 success, 1 internal failure, 2 bad usage or bad input, 130 interrupted\n";
  return out.str();
}

std::string default_log_path(const std::string& command) {
  const char* state = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  fs::path dir = state && *state ? fs::path(state) / "otcs" / "logs"
                                 : fs::path(home && *home ? home : "/tmp") / ".local" / "state" / "otcs" / "logs";
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return (dir / fmt::format("otcs-{}-{}-{}.log", command, stamp, getpid())).string();
}

}  // namespace

std::string command_help(const Command& cmd) {
  std::ostringstream out;
  out << "usage: " << cmd.usage << "\n\n" << cmd.summary << "\n";
  if (!cmd.description.empty()) out << "\n" << cmd.description << "\n";
  auto print = [&](const std::vector<OptionSpec>& options) {
    for (const auto& o : options) {
      std::string left = o.name + (o.metavar.empty() ? "" : " " + o.metavar);
      std::string right = o.help;
      if (o.required) right += " (required)";
      if (!o.default_value.empty()) right += " [default: " + o.default_value + "]";
      out << fmt::format("  {:<26} {}\n", left, right);
    }
  };
  if (!cmd.options.empty()) {
    out << "\noptions:\n";
    print(cmd.options);
  }
  out << "\ncommon options:\n";
  print(common_options());
  return out.str();
}

Args parse_args(const Command& cmd, const std::vector<std::string>& argv) {
  Args args;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (!only_positional && a == "--") {
      only_positional = true;
      continue;
    }
    if (!only_positional && a.size() > 1 && a[0] == '-') {
      std::string name = a, value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
      if (name == "-h") name = "--help";
      const OptionSpec* spec = find_option(cmd, name);
      if (!spec) fail("unknown option '{}' for otcs {} (see otcs {} --help)", name, cmd.name, cmd.name);
      if (spec->metavar.empty()) {
        if (inline_value) fail("{}: option {} takes no value", cmd.name, name);
        args.values_[name].push_back("1");
      } else {
        if (!inline_value) {
          if (i + 1 >= argv.size()) fail("{}: option {} needs a value ({})", cmd.name, name, spec->metavar);
          value = argv[++i];
        }
        if (!spec->repeatable && args.values_.count(name)) fail("{}: option {} given more than once", cmd.name, name);
        args.values_[name].push_back(value);
      }
      continue;
    }
    args.positional_.push_back(a);
  }
  if (args.has("--help")) return args;
  for (const auto& o : cmd.options)
    if (o.required && !args.has(o.name)) fail("{}: missing required option {}", cmd.name, o.name);
  int n = int(args.positional_.size());
  if (n < cmd.min_positional || n > cmd.max_positional) {
    if (n > cmd.max_positional)
      fail("{}: unexpected argument '{}' (see otcs {} --help)", cmd.name, args.positional_[cmd.max_positional],
           cmd.name);
    fail("{}: missing argument (usage: {})", cmd.name, cmd.usage);
  }
  return args;
}

int main_entry(int argc, char** argv) {
  otcs::tune_allocator();
  register_builtin_commands();
#ifdef OTCS_HAVE_IMAGING
  imaging::register_session_importer();
#endif
  std::vector<std::string> rest(argv + 1, argv + argc);
  std::unique_ptr<run::RunRecord> record;  // the run directory's writer lock and run.json, for the whole command
  int status = 0;
  try {
    if (rest.empty()) {
      std::cerr << program_help();
      return 2;
    }
    const std::string name = rest.front();
    if (name == "--help" || name == "-h" || name == "help") {
      std::cout << program_help();
      return 0;
    }
    if (name == "--version") rest.front() = "version";
    const Command* cmd = nullptr;
    for (const auto& c : registry())
      if (c.name == rest.front()) cmd = &c;
    if (!cmd) {
      if (name.rfind("-", 0) == 0) fail("unknown option '{}' (see otcs --help)", name);
      fail("unknown command '{}' (see otcs --help)", name);
    }
    Args args = parse_args(*cmd, std::vector<std::string>(rest.begin() + 1, rest.end()));
    if (args.has("--help")) {
      std::cout << command_help(*cmd);
      return 0;
    }
    // Data-parallel ranks other than 0 (torchrun-style RANK/WORLD_SIZE) log warnings only and write no log
    // file: rank 0 speaks for the run.
    const char* rank_env = std::getenv("RANK");
    const char* world_env = std::getenv("WORLD_SIZE");
    const bool secondary_rank = rank_env && world_env && std::atoi(world_env) > 1 && std::atoi(rank_env) != 0;
    auto level = parse_log_level(args.get("--log-level", "info"));
    if (secondary_rank) level = std::max(level, spdlog::level::warn);
    init_logging(level);
    LogSinkScope log_scope;
    // LibTorch defaults to the number of physical cores (1 on a 2-vCPU machine); use every core we are given.
    const int threads = requested_threads(args);
    otcs::set_threads(threads > 0 ? threads : otcs::threads_per_local_rank());
    // One writer per run directory (rank 0 writes it for all ranks). Taken before the log file is opened, so a
    // refused second writer leaves nothing in the directory, not even a line in its log.
    if (!cmd->run_dir_option.empty() && args.has(cmd->run_dir_option) && !secondary_rank) {
      record = std::make_unique<run::RunRecord>(
          args.get(cmd->run_dir_option), std::vector<std::string>(argv, argv + argc), args.get("--device", "cpu"));
      args.run_dir_created = record->created_dir();
    }
    if (cmd->writes_log && !secondary_rank) {
      std::string log_path = args.get("--log-file");
      if (log_path.empty() && !cmd->log_dir_option.empty() && args.has(cmd->log_dir_option)) {
        std::error_code ec;
        fs::path dir = args.get(cmd->log_dir_option);
        // Only log into an output directory that existed before this command: the command creates (and on
        // failure removes) it, and a log must never be the one file left behind by a failed command.
        const bool made_here = args.run_dir_created && cmd->log_dir_option == cmd->run_dir_option;
        if (fs::is_directory(dir, ec) && !made_here) log_path = (dir / "otcs.log").string();
      }
      if (log_path.empty()) log_path = default_log_path(cmd->name);
      add_log_file(log_path);
      spdlog::debug("otcs {} (log: {})", cmd->name, log_path);
    }
    status = cmd->run(args);
  } catch (const UserError& e) {
    std::cerr << "otcs: error: " << e.what() << "\n";
    status = 2;
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    std::cerr << "otcs: internal error: " << what << "\n";
    spdlog::error("internal error: {}", e.what());
    status = 1;
  }
  if (record) record->finish(status);
  return status;
}

}  // namespace otcs::cli
