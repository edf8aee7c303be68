#include "core/common/distributed.h"

// ProcessGroupGloo.hpp is empty unless USE_C10D_GLOO is defined (PyTorch's build defines it); Debian's
// libtorch_cpu is built with Gloo and exports c10d::ProcessGroupGloo, and libgloo-dev provides <gloo/...>.
// This file is kept out of the unity batches (core/CMakeLists.txt) so the macro stays here.
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>

#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::dist {

namespace {

bool parse_int(const char* text, long& out) {
  if (!text || !*text) return false;
  char* end = nullptr;
  out = std::strtol(text, &end, 10);
  return end && *end == '\0';
}

int env_int(const char* name, int fallback, long lo, long hi) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  long v = 0;
  if (!parse_int(text, v) || v < lo || v > hi)
    fail("the environment variable {}={} is not an integer in [{}, {}]", name, text, lo, hi);
  return int(v);
}

bool is_loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1"; }

}  // namespace

EnvConfig read_env() {
  EnvConfig c;
  c.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  c.rank = env_int("RANK", 0, 0, c.world_size - 1);
  c.local_rank = env_int("LOCAL_RANK", c.rank, 0, 1 << 20);
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) c.master_addr = a;
  if (c.world_size > 1 && !std::getenv("MASTER_PORT"))
    fail("WORLD_SIZE={} needs MASTER_PORT (and MASTER_ADDR, RANK) in the environment", c.world_size);
  c.master_port = env_int("MASTER_PORT", c.master_port, 1, 65535);
  return c;
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

ProcessGroup::ProcessGroup() : impl_(std::make_unique<Impl>()) {}
ProcessGroup::~ProcessGroup() = default;

static std::unique_ptr<ProcessGroup>& slot() {
  static std::unique_ptr<ProcessGroup> instance;
  return instance;
}

ProcessGroup& ProcessGroup::current() {
  auto& s = slot();
  if (!s) s.reset(new ProcessGroup());
  return *s;
}

ProcessGroup& ProcessGroup::init(const EnvConfig& config) {
  std::unique_ptr<ProcessGroup> group(new ProcessGroup());
  group->config_ = config;
  if (config.world_size > 1) {
    const auto timeout = std::chrono::seconds(env_int("OTCS_DIST_TIMEOUT", 300, 1, 86400));
    c10d::TCPStoreOptions so;
    so.port = uint16_t(config.master_port);
    so.isServer = config.rank == 0;
    so.numWorkers = size_t(config.world_size);
    so.waitWorkers = true;
    so.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    try {
      auto tcp = c10::make_intrusive<c10d::TCPStore>(config.master_addr, so);
      group->impl_->store = c10::make_intrusive<c10d::PrefixStore>("otcs", tcp);
      auto options =
          c10d::ProcessGroupGloo::Options::create(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
      // As torch.distributed does: GLOO_SOCKET_IFNAME names the interface; otherwise the address this host's
      // name resolves to. A loopback master means one machine: bind to loopback (the hostname may resolve
      // to an address other ranks cannot reach, or to none).
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (is_loopback(config.master_addr))
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      options->threads = 1;  // one collective at a time; the cores belong to the training
      group->impl_->pg =
          c10::make_intrusive<c10d::ProcessGroupGloo>(group->impl_->store, config.rank, config.world_size, options);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("c10d: cannot join the process group (rank {} of {}, master {}:{}): {}",
                                           config.rank, config.world_size, config.master_addr, config.master_port,
                                           e.what()));
    }
  }
  slot() = std::move(group);
  return *slot();
}

std::pair<int64_t, int64_t> ProcessGroup::shard(int64_t n) const {
  const int64_t w = world_size(), r = rank();
  return {r * n / w, (r + 1) * n / w};
}

double ProcessGroup::shard_weight(int64_t n) const {
  auto [b, e] = shard(n);
  return n > 0 ? double(e - b) * double(world_size()) / double(n) : 0.0;
}

namespace {

// One bucket per dtype (one collective instead of one per tensor: the small networks have dozens): flattens the
// tensors into it, runs `collective` on it, and copies the result back into the tensors.
void through_buckets(const std::vector<torch::Tensor>& tensors,
                     const std::function<void(std::vector<torch::Tensor>&)>& collective) {
  torch::NoGradGuard no_grad;
  std::map<torch::ScalarType, std::vector<torch::Tensor>> groups;
  for (const auto& t : tensors) groups[t.scalar_type()].push_back(t);
  for (auto& [dtype, list] : groups) {
    std::vector<torch::Tensor> flat;
    flat.reserve(list.size());
    for (const auto& t : list) flat.push_back(t.detach().reshape({-1}));
    std::vector<torch::Tensor> bucket{torch::cat(flat)};
    collective(bucket);
    int64_t offset = 0;
    for (const auto& t : list) {
      const int64_t n = t.numel();
      t.detach().copy_(bucket[0].slice(0, offset, offset + n).view(t.sizes()));
      offset += n;
    }
  }
}

}  // namespace

void ProcessGroup::all_reduce_mean(const std::vector<torch::Tensor>& tensors) {
  if (!active() || tensors.empty()) return;
  through_buckets(tensors, [&](std::vector<torch::Tensor>& bucket) {
    impl_->pg->allreduce(bucket)->wait();
    bucket[0].div_(double(world_size()));
  });
}

void ProcessGroup::average_gradients(const std::vector<torch::Tensor>& params,
                                     const std::vector<torch::Tensor>& extra) {
  if (!active()) return;
  std::vector<torch::Tensor> grads;
  grads.reserve(params.size() + extra.size());
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  for (const auto& e : extra) grads.push_back(e);
  all_reduce_mean(grads);
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  if (!active() || tensors.empty()) return;
  through_buckets(tensors, [&](std::vector<torch::Tensor>& bucket) {
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    impl_->pg->broadcast(bucket, opts)->wait();
  });
}

bool ProcessGroup::broadcast_flag(bool value, int root) {
  if (!active()) return value;
  auto flag = torch::tensor({value ? int32_t(1) : int32_t(0)});
  broadcast({flag}, root);
  return flag.item<int32_t>() != 0;
}

void ProcessGroup::barrier() {
  if (!active()) return;
  impl_->pg->barrier()->wait();
}

}  // namespace otcs::dist
