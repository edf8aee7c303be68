// Placeholder registration; the real command is built under issue #4.
#include "app/cli/command.h"
#include "core/common/error.h"

namespace otcs::cli {

void register_run(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "run";
  cmd.summary = "(not built yet: issue #4)";
  cmd.usage = "otcs run ...";
  cmd.writes_log = false;
  cmd.max_positional = 64;
  cmd.run = [](const Args&) -> int { fail("otcs run is not available in this build yet (issue #4)"); };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
