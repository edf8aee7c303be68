#pragma once
// Data-parallel training with PyTorch's own c10d: a TCPStore for the rendezvous (rank 0 hosts it) and a
// ProcessGroupGloo for the collectives (CPU tensors; NCCL would be the CUDA backend, not built here).
// The configuration is torchrun's environment: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK.
// With WORLD_SIZE unset or 1 there is no process group and every operation is a no-op, so the trainers call
// these unconditionally. One process-wide group (current()); the trainers pick it up when they are built.
//
// How the trainers use it (docs/PERFORMANCE.md, "Data-parallel training (c10d)"): every rank draws the same
// global batch with the same generator and computes its loss on the rows shard(B) of it, scaled by
// shard_weight(B) so that the mean over ranks of the local losses is the global loss; after backward the
// gradients are averaged (one flat bucket per dtype), so every rank applies the same update and the
// parameters, Adam state, EMA and generators stay in lockstep.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace otcs::dist {

struct EnvConfig {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// Reads the torchrun-style variables; throws UserError naming the variable when one is malformed (RANK
// outside [0, WORLD_SIZE), a non-numeric port, WORLD_SIZE > 1 without MASTER_PORT).
EnvConfig read_env();

class ProcessGroup {
 public:
  // The process-wide group: a single-process one until init() made a real one.
  static ProcessGroup& current();
  // Creates the store and the Gloo group for `config` (a no-op for world_size 1) and makes it current().
  // Blocks until all ranks joined (OTCS_DIST_TIMEOUT seconds, default 300). Call once, before training.
  static ProcessGroup& init(const EnvConfig& config);
  static ProcessGroup& init_from_env() { return init(read_env()); }

  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return config_.rank; }
  int world_size() const { return config_.world_size; }
  int local_rank() const { return config_.local_rank; }
  bool active() const { return config_.world_size > 1; }
  bool is_main() const { return config_.rank == 0; }

  // Rows [begin, end) of a global batch of n rows that this rank computes: [rank*n/W, (rank+1)*n/W).
  std::pair<int64_t, int64_t> shard(int64_t n) const;
  // The factor on a per-row-mean loss over this rank's shard so that the mean over ranks of the scaled
  // losses is the mean over all n rows: shard_size * W / n (1 for equal shards).
  double shard_weight(int64_t n) const;

  // In place: every tensor becomes the mean over ranks. Tensors of one dtype travel as one flat bucket.
  void all_reduce_mean(const std::vector<torch::Tensor>& tensors);
  // The gradients of `params` (undefined ones become zeros, so every rank sends the same layout), plus
  // `extra` tensors (e.g. the detached local loss) in the same collective, averaged in place.
  void average_gradients(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& extra = {});
  // In place: every tensor takes rank `root`'s values (parameters at the start of training).
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  void barrier();
  // Rank `root`'s value of a yes/no decision (e.g. whether the run may start), the same on every rank.
  bool broadcast_flag(bool value, int root = 0);

 private:
  ProcessGroup();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  EnvConfig config_;
};

inline ProcessGroup& current() { return ProcessGroup::current(); }

}  // namespace otcs::dist
