// MNIST idx files, plain or gzip (core/data/idx.h parse_idx).
#include "core/data/idx.h"
#include "fuzz_common.h"

OTCS_FUZZ_ENTRY(otcs::data::parse_idx(bytes, "fuzz.idx"))
