#pragma once
// Keypoint pairs files (JSON, schema_version 1), parsed on their own so the parser can be fuzzed without datasets:
//   {"schema_version": 1, "source_hash": "...", "target_hash": "...",
//    "pairs": [{"source": {"index": i, "name": "..."}, "target": {"index": j, "name": "..."}}, ...]}
// Every mistake is a UserError naming the file and the JSON pointer: bad JSON, a changed dataset (content hash), an
// index outside the set, a name that no longer matches its index.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace otcs::session {

// What a pairs file is checked against: one side's content hash, size and sample names (names may be empty, then
// names in the file are not compared).
struct PairsSide {
  std::string content_hash;
  int64_t size = 0;
  const std::vector<std::string>* names = nullptr;
};

std::vector<std::pair<int64_t, int64_t>> parse_pairs_json(const std::string& text, const std::string& label,
                                                          const PairsSide& source, const PairsSide& target);

}  // namespace otcs::session
