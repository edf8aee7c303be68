#pragma once
// The compute device a command was asked to use: "cpu", "cuda" or "cuda:K", validated against this build.
#include <string>

#include <c10/core/Device.h>

namespace otcs {

// Throws UserError naming `flag` for a malformed value, for CUDA on a build without CUDA ("this build has no
// CUDA ...") and for a CUDA index this machine does not have.
c10::Device parse_device(const std::string& text, const std::string& flag);

}  // namespace otcs
