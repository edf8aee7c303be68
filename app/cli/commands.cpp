// The list of `otcs` subcommands. Each lives in its own cmd_*.cpp with a register function.
#include "app/cli/command.h"

namespace otcs::cli {

void register_version(std::vector<Command>& out);
void register_ot(std::vector<Command>& out);
void register_run(std::vector<Command>& out);
void register_translate(std::vector<Command>& out);
void register_compare(std::vector<Command>& out);
void register_metrics(std::vector<Command>& out);
void register_assign(std::vector<Command>& out);
void register_sdot(std::vector<Command>& out);
void register_gen(std::vector<Command>& out);
void register_bench(std::vector<Command>& out);
void register_project_keys(std::vector<Command>& out);

void register_builtin_commands() {
  auto& r = registry();
  if (!r.empty()) return;
  register_ot(r);
  register_run(r);
  register_translate(r);
  register_compare(r);
  register_metrics(r);
  register_assign(r);
  register_sdot(r);
  register_gen(r);
  register_bench(r);
  register_version(r);
  register_project_keys(r);
}

}  // namespace otcs::cli
