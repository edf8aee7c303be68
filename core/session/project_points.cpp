#include "core/session/project_points.h"

#include <string>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/data/point_cloud.h"
#include "core/session/image_data.h"

namespace otcs::session {

namespace {

torch::Tensor load_points(const DatasetSpec& spec, torch::Tensor* labels) {
  if (spec.generated()) {
    auto cloud = data::generate_mixture(spec.mixture, spec.n, spec.seed);
    *labels = cloud.labels;
    return cloud.points;
  }
  auto points = data::read_point_cloud(spec.file);
  *labels = torch::full({points.size(0)}, int64_t(-1), torch::kInt64);
  return points;
}

}  // namespace

ProjectPoints load_image_points(const Project& p) {
  ProjectPoints out;
  const std::string where = p.path.empty() ? "project" : p.path;
  auto src = load_image_set(p.source.images, where + ": /data/source");
  auto tgt = load_image_set(p.target.images, where + ": /data/target");
  out.image_shape = {tgt.images.size(1), tgt.images.size(2), tgt.images.size(3)};
  // The OT cost compares a source and a target image pixel by pixel, and the score model draws target-shaped
  // images conditioned on source images: both sides must have one shape, said here with the keys that set it.
  const auto shape_text = [](const data::Pack& pack) {
    return fmt::format("{}x{}x{}", pack.images.size(1), pack.images.size(2), pack.images.size(3));
  };
  if (src.images.sizes().slice(1) != tgt.images.sizes().slice(1))
    fail(
        "{}: /data: the source images are {} (channels x height x width) and the target images {}; both sides "
        "must have one shape: set /data/source/images and /data/target/images size and channels to match",
        where, shape_text(src), shape_text(tgt));
  // The stages work on float32 copies (4 bytes a pixel, against 1 in the decoded packs): refuse a set that cannot
  // fit with a sentence, rather than be killed by the kernel halfway through.
  io::require_memory(
      4ull * uint64_t(src.images.numel() + tgt.images.numel()),
      fmt::format("{}: the source and target images as float32 ({} + {} images)", where, src.size(), tgt.size()),
      "lower /data/*/images/size, or take a subset with limit or range");
  out.source = src.as_float().flatten(1).contiguous();
  out.target = tgt.as_float().flatten(1).contiguous();
  out.source_labels = src.labels;
  out.target_labels = tgt.labels;
  out.source_file_count = src.size();
  out.target_file_count = tgt.size();
  out.source_hash = src.content_hash;
  out.target_hash = tgt.content_hash;
  out.source_names = src.names;
  out.target_names = tgt.names;
  if (!p.keypoint_rule.file.empty()) {
    for (auto [i, j] : read_pairs_file(p.keypoint_rule.file, src, tgt)) {
      out.source_index.push_back(i);
      out.target_index.push_back(j);
    }
  }
  if (!p.keypoint_rule.rule.empty()) {
    for (auto [i, j] :
         class_medoid_pairs(out.source, out.source_labels, out.target, out.target_labels, p.keypoint_rule)) {
      out.source_index.push_back(i);
      out.target_index.push_back(j);
    }
  }
  for (size_t k = 0; k < p.keypoints.size(); ++k) {
    const auto& kp = p.keypoints[k];
    if (kp.source_index < 0) fail("{}: /data/keypoints/{}: image projects pair samples by index", where, k);
    out.source_index.push_back(kp.source_index);
    out.target_index.push_back(kp.target_index);
  }
  return out;
}

ProjectPoints load_project_points(const Project& p) {
  if (p.images()) return load_image_points(p);
  ProjectPoints out;
  auto source = load_points(p.source, &out.source_labels);
  auto target = load_points(p.target, &out.target_labels);
  out.source_file_count = source.size(0);
  out.target_file_count = target.size(0);
  const std::string where = p.path.empty() ? "project" : p.path;
  std::vector<torch::Tensor> extra_s, extra_t;
  for (size_t k = 0; k < p.keypoints.size(); ++k) {
    const auto& kp = p.keypoints[k];
    if (kp.source_index >= 0) {
      out.source_index.push_back(kp.source_index);
      out.target_index.push_back(kp.target_index);
      continue;
    }
    if (int64_t(kp.source_point.size()) != source.size(1) || int64_t(kp.target_point.size()) != target.size(1))
      fail("{}: /data/keypoints/{}: the points need {} and {} coordinates", where, k, source.size(1), target.size(1));
    out.source_index.push_back(out.source_file_count + int64_t(extra_s.size()));
    out.target_index.push_back(out.target_file_count + int64_t(extra_t.size()));
    extra_s.push_back(torch::tensor(kp.source_point, torch::kFloat64).to(torch::kFloat32).unsqueeze(0));
    extra_t.push_back(torch::tensor(kp.target_point, torch::kFloat64).to(torch::kFloat32).unsqueeze(0));
  }
  if (!extra_s.empty()) {
    const auto appended = int64_t(extra_s.size());
    source = torch::cat({source, torch::cat(extra_s)});
    target = torch::cat({target, torch::cat(extra_t)});
    out.source_labels = torch::cat({out.source_labels, torch::full({appended}, int64_t(-1), torch::kInt64)});
    out.target_labels = torch::cat({out.target_labels, torch::full({appended}, int64_t(-1), torch::kInt64)});
  }
  out.source = source.contiguous();
  out.target = target.contiguous();
  return out;
}

}  // namespace otcs::session
