// Placeholder registration; the real command is built under issue #7.
#include "app/cli/command.h"
#include "core/common/error.h"

namespace otcs::cli {

void register_assign(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "assign";
  cmd.summary = "(not built yet: issue #7)";
  cmd.usage = "otcs assign ...";
  cmd.writes_log = false;
  cmd.max_positional = 64;
  cmd.run = [](const Args&) -> int { fail("otcs assign is not available in this build yet (issue #7)"); };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
