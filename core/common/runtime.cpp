#include "core/common/runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/cpu_features.h"
#include "core/common/large_block_cache.h"

namespace otcs {
namespace {

std::string g_allocator = "glibc malloc (default thresholds)";

// The BLAS shared object mapped into this process, found through /proc/self/maps and resolved through the
// Debian alternatives symlinks, so "libblas.so.3" becomes ".../openblas-openmp/libblas.so.3".
std::string loaded_blas_path() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    auto base = std::filesystem::path(path).filename().string();
    if (base.rfind("libblas", 0) == 0 || base.rfind("libopenblas", 0) == 0 || base.rfind("libmkl", 0) == 0 ||
        base.rfind("libblis", 0) == 0) {
      std::error_code ec;
      auto real = std::filesystem::canonical(path, ec);
      return ec ? path : real.string();
    }
  }
  return {};
}

}  // namespace

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.otcs_version = OTCS_VERSION;
  info.torch_version = fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH);
  info.torch_threads = torch::get_num_threads();
  info.torch_interop_threads = torch::get_num_interop_threads();
  info.cuda_available = torch::cuda::is_available();
  info.cuda_devices = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  info.allocator = g_allocator;

  // Make sure the BLAS is loaded (LibTorch loads it lazily on some builds) before looking for it.
  {
    torch::NoGradGuard guard;
    auto a = torch::ones({4, 4});
    (void)torch::mm(a, a);
  }
  info.blas_library = loaded_blas_path();
  using ConfigFn = char* (*)();
  using ThreadsFn = int (*)();
  if (auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    info.blas_name = "OpenBLAS";
    info.blas_detail = config();
    if (auto threads = reinterpret_cast<ThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
      info.blas_threads = threads();
  } else if (dlsym(RTLD_DEFAULT, "MKL_Get_Max_Threads")) {
    info.blas_name = "MKL";
  } else if (dlsym(RTLD_DEFAULT, "bli_info_get_version_str")) {
    info.blas_name = "BLIS";
  } else if (!info.blas_library.empty()) {
    info.blas_name = info.blas_library.find("openblas") != std::string::npos ? "OpenBLAS" : "reference BLAS";
  } else {
    info.blas_name = "none found (LibTorch internal kernels)";
  }
  return info;
}

std::vector<std::pair<std::string, std::string>> runtime_info_rows(const RuntimeInfo& info) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("OTCS Workbench", info.otcs_version);
  rows.emplace_back("LibTorch", info.torch_version);
  std::string blas = info.blas_name;
  if (!info.blas_detail.empty()) blas += " (" + info.blas_detail + ")";
  rows.emplace_back("BLAS", blas);
  rows.emplace_back("BLAS library", info.blas_library.empty() ? "-" : info.blas_library);
  rows.emplace_back("Threads (intra-op / inter-op / BLAS)",
                    fmt::format("{} / {} / {}", info.torch_threads, info.torch_interop_threads,
                                info.blas_threads < 0 ? std::string("?") : std::to_string(info.blas_threads)));
  rows.emplace_back("CUDA", info.cuda_available ? fmt::format("available ({} device(s))", info.cuda_devices)
                                                : std::string("not available"));
  rows.emplace_back("Allocator", info.allocator);
  // The CPU's bfloat16 instructions (what --precision bf16 computes with); OTCS_CPU_BF16 overrides it.
  std::string bf16;
  try {
    bf16 = bf16_support_name(cpu_bf16_support());
  } catch (const std::exception& e) {
    bf16 = e.what();
  }
  rows.emplace_back("bf16", bf16);
  return rows;
}

std::string runtime_info_text(const RuntimeInfo& info) {
  std::ostringstream out;
  for (const auto& [key, value] : runtime_info_rows(info)) out << fmt::format("{:<38} {}\n", key + ":", value);
  return out.str();
}

void tune_allocator() {
  // Blocks below the mmap threshold come from the heap (32 MiB is glibc's maximum on 64-bit); the trim
  // threshold keeps up to 1 GiB of freed heap instead of handing it back to the kernel after every step.
  bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 && ok;
  ok = mallopt(M_TOP_PAD, 64 << 20) == 1 && ok;
  // Tensors of 32 MiB and more bypass the heap; LibTorch's allocator keeps them when freed instead (up to 4 GiB).
  install_large_block_cache();  // its defaults: 32 MiB and more, up to 4 GiB
  g_allocator = ok ? "glibc malloc, freed memory kept (mmap threshold 32 MiB, trim threshold 1 GiB); tensors of "
                     "32 MiB and more cached for reuse (up to 4 GiB)"
                   : "glibc malloc (mallopt failed); tensors of 32 MiB and more cached for reuse (up to 4 GiB)";
}

int default_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int environment_threads() {
  const char* text = std::getenv("OMP_NUM_THREADS");
  if (!text || !*text) return 0;
  int n = 0;
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, n);
  // OpenMP allows a list ("4,2" for nested levels); the first entry is the outer level's count.
  if (ec != std::errc() || (ptr != end && *ptr != ',') || n <= 0) return 0;
  return n;
}

int threads_per_local_rank() {
  int ranks = 1;
  if (const char* local = std::getenv("LOCAL_WORLD_SIZE"); local && *local) {
    const char* end = local + std::strlen(local);
    if (std::from_chars(local, end, ranks).ec != std::errc() || ranks < 1) ranks = 1;
  }
  return std::max(1, default_threads() / ranks);
}

void set_threads(int n) {
  if (n <= 0) return;
  torch::set_num_threads(n);
  using SetFn = void (*)(int);
  if (auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
}

}  // namespace otcs
