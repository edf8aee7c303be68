// Placeholder registration; the real command is built under issue #7.
#include "app/cli/command.h"
#include "core/common/error.h"

namespace otcs::cli {

void register_sdot(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "sdot";
  cmd.summary = "(not built yet: issue #7)";
  cmd.usage = "otcs sdot ...";
  cmd.writes_log = false;
  cmd.max_positional = 64;
  cmd.run = [](const Args&) -> int { fail("otcs sdot is not available in this build yet (issue #7)"); };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
