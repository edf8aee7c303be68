// Placeholder registration; the real command is built under issue #5.
#include "app/cli/command.h"
#include "core/common/error.h"

namespace otcs::cli {

void register_translate(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "translate";
  cmd.summary = "(not built yet: issue #5)";
  cmd.usage = "otcs translate ...";
  cmd.writes_log = false;
  cmd.max_positional = 64;
  cmd.run = [](const Args&) -> int { fail("otcs translate is not available in this build yet (issue #5)"); };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
