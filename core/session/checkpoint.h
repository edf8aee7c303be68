#pragma once
// Checkpoints: one torch::serialize archive per checkpoint (never several loose files), written to a temporary
// file, fsynced and renamed (io::write_file_atomic), re-opened and validated, and only then are older ones
// beyond `keep` removed. Each archive carries a format tag, the configuration hash, the step and the global
// CPU generator's state; the stage adds its own parts (model, EMA, optimiser, pair sampler, its generators).
// Loading tries the newest first; a truncated or corrupt file is reported and the previous one is used.
// Internal to the session (includes LibTorch).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/serialize/archive.h>

namespace otcs::session {

struct CheckpointFile {
  std::string path;
  int64_t step = 0;
};

class CheckpointStore {
 public:
  CheckpointStore(std::string dir, std::string prefix, int64_t keep);

  // Files named PREFIX-<step>.pt in the directory, oldest first.
  std::vector<CheckpointFile> list() const;

  // Writes a checkpoint for `step`; `fill` adds the stage's parts. Returns its path.
  std::string save(int64_t step, const std::string& config_hash,
                   const std::function<void(torch::serialize::OutputArchive&)>& fill) const;

  struct Loaded {
    std::string path;
    int64_t step = 0;
    std::vector<std::string> rejected;  // one message per unusable newer file
  };
  // Loads the newest usable checkpoint: `restore` gets the archive (and may throw std::exception to reject it;
  // a later, older file then overwrites whatever it restored). Files written for another configuration hash
  // are rejected too. nullopt: none usable (rejected ones are still listed through `rejected_out`).
  std::optional<Loaded> load_latest(const std::string& config_hash,
                                    const std::function<void(torch::serialize::InputArchive&)>& restore,
                                    std::vector<std::string>* rejected_out = nullptr) const;

  // Removes every checkpoint of this store (a stage that is forced to start over).
  void clear() const;

  // Checks one file: throws std::runtime_error with a clear reason when it cannot be used.
  static void open(const std::string& path, torch::serialize::InputArchive& archive, int64_t* step = nullptr,
                   std::string* config_hash = nullptr);
  // The same on a file's bytes (the fuzz target's entry point).
  static void open_bytes(const std::string& bytes, torch::serialize::InputArchive& archive, int64_t* step = nullptr,
                         std::string* config_hash = nullptr);

 private:
  std::string dir_, prefix_;
  int64_t keep_;
};

}  // namespace otcs::session
