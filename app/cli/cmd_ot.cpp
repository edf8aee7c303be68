// Placeholder registration; the real command is built under issue #3.
#include "app/cli/command.h"
#include "core/common/error.h"

namespace otcs::cli {

void register_ot(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "ot";
  cmd.summary = "(not built yet: issue #3)";
  cmd.usage = "otcs ot ...";
  cmd.writes_log = false;
  cmd.max_positional = 64;
  cmd.run = [](const Args&) -> int { fail("otcs ot is not available in this build yet (issue #3)"); };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
