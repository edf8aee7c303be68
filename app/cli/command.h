#pragma once
// The `otcs` command line: a registry of subcommands, each with its own options and --help.
// Parsing is strict: an unknown subcommand or flag is a UserError (one line on stderr, exit status 2).
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace otcs::cli {

struct OptionSpec {
  OptionSpec(std::string name_, std::string metavar_, std::string help_, std::string default_value_ = {},
             bool required_ = false, bool repeatable_ = false)
      : name(std::move(name_)),
        metavar(std::move(metavar_)),
        help(std::move(help_)),
        default_value(std::move(default_value_)),
        required(required_),
        repeatable(repeatable_) {}
  std::string name;     // "--epsilon"
  std::string metavar;  // "E"; empty for a flag without value
  std::string help;
  std::string default_value;  // shown in --help; empty for none
  bool required = false;
  bool repeatable = false;
};

class Args {
 public:
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;
  double get_double(const std::string& name, double fallback) const;
  long long get_int(const std::string& name, long long fallback) const;
  bool flag(const std::string& name) const { return has(name); }
  const std::vector<std::string>& positional() const { return positional_; }

  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  // Set by main_entry when it created the command's run directory (to hold its lock and run.json): the
  // directory counts as new for the command.
  bool run_dir_created = false;
};

struct Command {
  std::string name;
  std::string summary;
  std::string usage;        // e.g. "otcs ot --source S --target T ..."
  std::string description;  // longer text for --help
  std::vector<OptionSpec> options;
  int min_positional = 0;
  int max_positional = 0;
  // Returns the process exit status. Throws UserError for bad input.
  std::function<int(const Args&)> run;
  bool writes_log = true;  // whether a per-run log file is opened
  // The directory a run's log file goes to (e.g. the value of --out); empty: the user log directory.
  std::string log_dir_option = "--out";
  bool hidden = false;  // left out of `otcs --help` (tools for the project's own tests and scripts)
  // The option naming the directory this command writes as a whole (e.g. "--out"); empty: none. main_entry
  // holds that directory's writer lock for the command and records it in DIR/run.json (core/run/run_meta.h).
  std::string run_dir_option;
};

// Registration (each commands_*.cpp adds its commands).
std::vector<Command>& registry();
void register_builtin_commands();

// Entry point used by main() and by tests.
int main_entry(int argc, char** argv);

// Parses args for a command; throws UserError on unknown flags, missing values or missing required options.
Args parse_args(const Command& cmd, const std::vector<std::string>& argv);
std::string command_help(const Command& cmd);

// The intra-op thread count the user asked for: --threads, else OMP_NUM_THREADS; 0 when neither is given.
int requested_threads(const Args& args);

// Helpers that validate option values and name the flag in the error.
double positive_double(const Args& args, const std::string& name, double fallback);
long long positive_int(const Args& args, const std::string& name, long long fallback);

}  // namespace otcs::cli
