// Precompiled header for otcs_core: the expensive LibTorch headers, parsed once per build.
#pragma once
#include <torch/torch.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
