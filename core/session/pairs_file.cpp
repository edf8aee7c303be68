#include "core/session/pairs_file.h"

#include <nlohmann/json.hpp>

#include "core/common/error.h"

namespace otcs::session {

std::vector<std::pair<int64_t, int64_t>> parse_pairs_json(const std::string& text, const std::string& label,
                                                          const PairsSide& source, const PairsSide& target) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not a keypoint pairs file ({})", label, e.what());
  }
  try {
    if (!j.is_object()) fail("{}: not a keypoint pairs file (expected a JSON object)", label);
    const auto& version = j.value("schema_version", nlohmann::json(0));
    if (!version.is_number_integer() || version.get<int64_t>() != 1) fail("{}: schema_version must be 1", label);
    const std::string sh = j.at("source_hash").get<std::string>(), th = j.at("target_hash").get<std::string>();
    if (sh != source.content_hash)
      fail("{}: the source dataset changed since these pairs were made (content hash {} here, {} in the file)", label,
           source.content_hash, sh);
    if (th != target.content_hash)
      fail("{}: the target dataset changed since these pairs were made (content hash {} here, {} in the file)", label,
           target.content_hash, th);
    std::vector<std::pair<int64_t, int64_t>> out;
    const auto& pairs = j.at("pairs");
    if (!pairs.is_array()) fail("{}: /pairs: expected an array", label);
    for (size_t k = 0; k < pairs.size(); ++k) {
      auto side = [&](const char* which, const PairsSide& set) {
        const auto& e = pairs[k].at(which);
        const auto& index = e.at("index");
        // get<int64_t>() on a float (or an unsigned above INT64_MAX) is an unchecked cast: found by fuzzing (UBSan).
        if (!index.is_number_integer() || (index.is_number_unsigned() && index.get<uint64_t>() > uint64_t(INT64_MAX)))
          fail("{}: /pairs/{}/{}/index: expected a whole number, got {}", label, k, which, index.dump());
        const int64_t idx = index.get<int64_t>();
        if (idx < 0 || idx >= set.size)
          fail("{}: /pairs/{}/{}/index: {} is outside the {} samples", label, k, which, idx, set.size);
        if (e.contains("name") && set.names && size_t(idx) < set.names->size()) {
          const std::string name = e.at("name").get<std::string>();
          const std::string& here = (*set.names)[size_t(idx)];
          if (name != here)
            fail("{}: /pairs/{}/{}: sample {} is '{}' here, '{}' in the file", label, k, which, idx, here, name);
        }
        return idx;
      };
      out.emplace_back(side("source", source), side("target", target));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed keypoint pairs file ({})", label, e.what());
  }
}

}  // namespace otcs::session
