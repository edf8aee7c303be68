// Placeholder registration; the real command is built under issue #8.
#include "app/cli/command.h"
#include "core/common/error.h"

namespace otcs::cli {

void register_bench(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "bench";
  cmd.summary = "(not built yet: issue #8)";
  cmd.usage = "otcs bench ...";
  cmd.writes_log = false;
  cmd.max_positional = 64;
  cmd.run = [](const Args&) -> int { fail("otcs bench is not available in this build yet (issue #8)"); };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
