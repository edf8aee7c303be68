#pragma once
// Process-wide runtime facts and settings: versions, BLAS actually loaded, threads, allocator tuning.
#include <string>
#include <vector>

namespace otcs {

struct RuntimeInfo {
  std::string otcs_version;
  std::string torch_version;
  std::string blas_name;     // e.g. "OpenBLAS", "reference BLAS", "MKL"
  std::string blas_detail;   // config string or library path
  std::string blas_library;  // resolved path of the loaded BLAS shared object
  int torch_threads = 0;
  int torch_interop_threads = 0;
  int blas_threads = -1;  // -1 when the BLAS does not say
  bool cuda_available = false;
  int cuda_devices = 0;
  std::string allocator;  // how freed memory is kept
};

RuntimeInfo runtime_info();
std::vector<std::pair<std::string, std::string>> runtime_info_rows(const RuntimeInfo& info);
std::string runtime_info_text(const RuntimeInfo& info);

// Keep freed tensor buffers in the process instead of returning them to the kernel after every step:
// glibc's default trim/mmap thresholds made small LibTorch loops ~2x slower through page faults.
void tune_allocator();

// The cores this process may use (sched affinity), at least 1.
int default_threads();

// OMP_NUM_THREADS when it is set to a positive integer (the first of a comma-separated list), else 0.
int environment_threads();

// The intra-op threads a process takes when no count was asked for: the cores it may use divided among the ranks
// of a data-parallel run on this machine (LOCAL_WORLD_SIZE, as torchrun and `otcs run --nproc` set it), at least 1.
int threads_per_local_rank();

// Sets LibTorch intra-op threads (and OpenBLAS's, when loaded). n <= 0 keeps the current setting.
void set_threads(int n);

}  // namespace otcs
