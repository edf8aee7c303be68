// Dataset packs: the .npz (zip) reader and the pack checks on top (core/data/pack.h parse_pack).
#include "core/data/pack.h"
#include "fuzz_common.h"

OTCS_FUZZ_ENTRY(otcs::data::parse_pack(bytes, "fuzz.npz"))
