#pragma once
// Shared by the fuzz targets: a parser may reject its input with otcs::UserError (or, for the LibTorch archive
// reader, std::runtime_error with a reason); anything else -- a crash, a sanitizer report, another exception
// escaping -- is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/common/error.h"

#define OTCS_FUZZ_ENTRY(body)                                               \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    const std::string bytes(reinterpret_cast<const char*>(data), size);     \
    try {                                                                   \
      body;                                                                 \
    } catch (const otcs::UserError&) {                                      \
    }                                                                       \
    return 0;                                                               \
  }
