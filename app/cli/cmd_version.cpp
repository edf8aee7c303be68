#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/runtime.h"
#include "core/session/project_keys.h"

namespace otcs::cli {

void register_version(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "version";
  cmd.summary = "print versions: OTCS, LibTorch, the BLAS library actually loaded, threads, CUDA";
  cmd.usage = "otcs version [--json]";
  cmd.options = {{"--json", "", "print as JSON"}};
  cmd.writes_log = false;
  cmd.run = [](const Args& args) {
    auto info = runtime_info();
    if (args.flag("--json")) {
      nlohmann::json j;
      for (const auto& [k, v] : runtime_info_rows(info)) j[k] = v;
      j["cuda_available"] = info.cuda_available;
      j["blas"] = info.blas_name;
      j["torch_version"] = info.torch_version;
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << runtime_info_text(info);
    }
    return 0;
  };
  out.push_back(std::move(cmd));
}

// Hidden: the keys the project reader accepts per kind of object, for tests/project_schema.py to hold against
// resources/project.schema.json.
void register_project_keys(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "project-keys";
  cmd.summary = "print the keys the project reader accepts, per kind of JSON object (JSON)";
  cmd.usage = "otcs project-keys [PROJECT...]";
  cmd.description =
      "Without arguments: every kind of object and its keys. With project files: loads them and prints, per "
      "kind, the listed keys the reader never asked for ({} when the files take every key).";
  cmd.max_positional = 1 << 20;
  cmd.writes_log = false;
  cmd.hidden = true;
  cmd.run = [](const Args& args) {
    const auto keys =
        args.positional().empty() ? session::project_keys() : session::project_keys_unread(args.positional());
    std::cout << nlohmann::json(keys).dump(2) << "\n";
    return 0;
  };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
