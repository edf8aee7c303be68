// Checkpoint archives: LibTorch's zip archive reader and the header checks (CheckpointStore::open_bytes). A
// std::runtime_error is the documented rejection ("cannot be used (reason)").
#include <stdexcept>

#include <torch/serialize/archive.h>

#include "core/session/checkpoint.h"
#include "fuzz_common.h"

OTCS_FUZZ_ENTRY({
  try {
    torch::serialize::InputArchive archive;
    int64_t step = 0;
    std::string hash;
    otcs::session::CheckpointStore::open_bytes(bytes, archive, &step, &hash);
  } catch (const std::runtime_error&) {
  }
})
