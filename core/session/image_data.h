#pragma once
// Image datasets for image projects: import (MNIST idx and packs here; JPEG/PNG folders and Chinese-MNIST through
// an importer the front end registers, since the core is OpenCV-free), class filtering, seeded subsets, and the
// keypoint rule. Internal to the session and the CLI (LibTorch).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/data/pack.h"
#include "core/ot/keypoints.h"
#include "core/session/project.h"

namespace otcs::session {

// Decodes formats the core cannot (folder, chinese_mnist) including all pixel preprocessing; registered by the CLI
// and the workbench when they are built with OpenCV.
using ImageImporter = std::function<data::Pack(const ImageSetSpec&)>;
void set_image_importer(ImageImporter importer);
bool has_image_importer();

// The dataset a spec describes, preprocessed, filtered by class and subset (seeded). `where` names the JSON
// location for errors. Decoded packs are cached under data::pack_cache_dir() by a hash of the spec and the
// input files' sizes and times, so a second run loads in milliseconds.
data::Pack load_image_set(const ImageSetSpec& spec, const std::string& where);

// The number in a sample's file name (its last run of digits: "000042.jpg" -> 42, "index:7" -> 7), -1 when the
// name has none; what the image sets' parity selector splits by.
int64_t file_number(const std::string& name);

// The low-resolution images a degraded set (downsample `factor`, then upsample) was made from: the same spec
// without the upsampling, for the sampler's data consistency. False when the set is not degraded by `factor`.
bool low_resolution_spec(const ImageSetSpec& spec, int64_t factor, ImageSetSpec* out);

// Pixel preprocessing the core can do on uint8 [N, C, H, W] (channels, resize by area/bilinear, down/upsampling):
// used for idx and pack inputs. Decoded formats get it from the importer.
torch::Tensor preprocess_uint8(const torch::Tensor& images, const ImageSetSpec& spec);

// The class_medoid rule: for every (source class, target class) pair, the sample of that class nearest its class
// mean (in pixels) on each side. Returns row indices; throws UserError when a class is missing.
std::vector<std::pair<int64_t, int64_t>> class_medoid_pairs(const torch::Tensor& source,
                                                            const torch::Tensor& source_labels,
                                                            const torch::Tensor& target,
                                                            const torch::Tensor& target_labels,
                                                            const KeypointRule& rule);
// A keypoint pairs file ({"schema_version": 1, "source_hash", "target_hash", "pairs": [{"source": {"index",
// "name"}, "target": {...}}]}) checked against the loaded packs: a changed dataset (hash), an index out of range or
// a name that no longer matches its index is a UserError naming the file; pairs written by a run
// (RUN/data/keypoints.json) load here unchanged.
std::vector<std::pair<int64_t, int64_t>> read_pairs_file(const std::string& path, const data::Pack& source,
                                                         const data::Pack& target);

// The rule's class map (identity 0..9 when the project gives none).
std::vector<std::pair<int64_t, int64_t>> class_map(const KeypointRule& rule);
// The class map the eval stage scores translations against: the rule's class pairs; else, for an explicit list of
// keypoint pairs on labelled data, each source class to the target class most of its pairs point at; else identity.
std::vector<std::pair<int64_t, int64_t>> class_map(const KeypointRule& rule, const ot::KeypointPairs& keypoints,
                                                   const torch::Tensor& source_labels,
                                                   const torch::Tensor& target_labels);

}  // namespace otcs::session
