// .npy arrays (core/io/npy.h parse_npy).
#include "core/io/npy.h"
#include "fuzz_common.h"

OTCS_FUZZ_ENTRY(otcs::io::parse_npy(bytes, "fuzz.npy"))
