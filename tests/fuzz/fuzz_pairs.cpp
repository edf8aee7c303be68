// Keypoint pairs JSON (core/session/pairs_file.h parse_pairs_json), checked against two small fake sets: the
// hashes and names below are in the seed corpus, so the fuzzer reaches the per-pair checks.
#include "core/session/pairs_file.h"
#include "fuzz_common.h"

namespace {
const std::vector<std::string> kSourceNames = {"a.png", "b.png", "c.png", "d.png", "e.png"};
const std::vector<std::string> kTargetNames = {"index:0", "index:1", "index:2"};
}  // namespace

OTCS_FUZZ_ENTRY(otcs::session::parse_pairs_json(bytes, "fuzz.json", {"src0123", 5, &kSourceNames},
                                                {"tgt4567", 3, &kTargetNames}))
