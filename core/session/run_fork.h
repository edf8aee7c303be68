#pragma once
// Runs built from other runs: reusing a base run's finished stages (hard links, copies where the file system
// refuses them), keeping the base byte for byte what it was, and warm-starting the score network from another
// run's model. Internal to the session (LibTorch).
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/diffusion/specs.h"
#include "core/session/score_model.h"

namespace otcs::session {

struct LinkedFiles {
  int64_t linked = 0, copied = 0;
};
// Replaces `to` by hard links to every file under `from` (a copy where a link cannot be made).
LinkedFiles link_tree(const std::filesystem::path& from, const std::filesystem::path& to);

// Before a stage writes into its folder: every file there that has other hard links (a reused stage of a base
// run) is replaced by its own copy, so that no write, append or truncate reaches the base run's file.
int64_t unshare_tree(const std::filesystem::path& dir);

// The model file a warm start reads: RUN/score/model.pt for a run directory, else the path itself.
std::string init_model_path(const std::string& init_from);

// Loads the warm-start model and checks that its network has exactly the parameter names and shapes of `spec`;
// a mismatch is a UserError naming both architectures and the first differing parameter's shapes.
ScoreModel load_init_model(const std::string& init_from, const diffusion::NetworkSpec& spec, const std::string& where);

// One line describing a network's architecture, for messages ("UNet 16 channels x [1, 2, 2], 1 res block").
std::string describe_network(const diffusion::NetworkSpec& spec);

}  // namespace otcs::session
