#include "core/common/device.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

#include "core/common/error.h"

namespace otcs {

c10::Device parse_device(const std::string& text, const std::string& flag) {
  if (text == "cpu") return c10::Device(c10::kCPU);
  int index = -1;
  if (text == "cuda") {
    index = 0;
  } else if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() < 9 &&
             text.find_first_not_of("0123456789", 5) == std::string::npos) {
    index = std::stoi(text.substr(5));
  } else {
    fail("{}: expected cpu, cuda or cuda:K, got '{}'", flag, text);
  }
  if (!at::hasCUDA()) fail("{} {}: this build has no CUDA (its LibTorch is CPU-only); use {} cpu", flag, text, flag);
  const int count = int(torch::cuda::device_count());
  if (index >= count) fail("{} {}: this machine has {} CUDA device(s)", flag, text, count);
  return c10::Device(c10::kCUDA, c10::DeviceIndex(index));
}

}  // namespace otcs
