#pragma once
// Plain descriptions of datasets and of the Stage II pair sampler, free of LibTorch (project files, GUI).
#include <cstdint>
#include <string>
#include <vector>

namespace otcs::data {

struct MixtureComponent {
  std::vector<double> mean;  // [d]
  std::vector<double> std;   // [d], or one value for an isotropic component
  double weight = 1.0;
};

enum class PairMode { Otcs, Paired, Independent };
PairMode parse_pair_mode(const std::string& name);  // "otcs", "paired", "independent"
std::string pair_mode_name(PairMode mode);

}  // namespace otcs::data
