#pragma once
// A project's point data as every front end needs it: both datasets loaded (generated mixtures or point-cloud
// files), keypoints given as coordinates appended as extra rows (label -1), and every keypoint pair as a pair of
// row indices. One loader for the session and the workbench, so they can never disagree on row numbers.
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/session/project.h"

namespace otcs::session {

struct ProjectPoints {
  torch::Tensor source, target;                // float32 [n, d]; appended keypoint points last
  torch::Tensor source_labels, target_labels;  // int64 [n]; -1 where unknown and for appended points
  int64_t source_file_count = 0;               // rows that came from the datasets
  int64_t target_file_count = 0;
  std::vector<int64_t> source_index, target_index;  // keypoint pairs, one entry each
  // Image projects: the image shape [C, H, W] (rows are flattened images in [-1, 1]), and the packs' content
  // hashes and sample names (for the keypoint pairs file). Empty for point sets.
  std::vector<int64_t> image_shape;
  std::string source_hash, target_hash;
  std::vector<std::string> source_names, target_names;
};

// Throws UserError naming /data/keypoints/K when a keypoint's coordinates do not match the data's dimension.
ProjectPoints load_project_points(const Project& p);

}  // namespace otcs::session
