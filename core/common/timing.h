#pragma once
// Wall-clock durations for stage timings in logs, reports and benchmarks.
#include <chrono>

namespace otcs {

// Seconds of wall time (steady clock) since t0.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace otcs
