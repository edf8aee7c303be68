#include "core/run/layout.h"

#include <cstdio>

namespace fs = std::filesystem;

namespace otcs::run {

fs::path RunLayout::preview(int64_t step, std::string_view extension) const {
  char stem[32];
  std::snprintf(stem, sizeof stem, "step_%07lld.", static_cast<long long>(step));
  return previews_dir() / (stem + std::string(extension));
}

fs::path find_potential(const fs::path& dir, char side) {
  const bool u = side == 'u';
  std::error_code ec;
  const char* names[] = {u ? file::kUPotential : file::kVPotential,
                         u ? file::kLegacyUPotential : file::kLegacyVPotential};
  for (const char* name : names)
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  return {};
}

fs::path AotCompareLayout::samples(std::string_view method) const {
  return root_ / ("samples_" + std::string(method) + ".npy");
}

fs::path AotCompareLayout::dpmot_run(int64_t m) const { return root_ / (file::kDpmotRunPrefix + std::to_string(m)); }

}  // namespace otcs::run
