#include "core/session/image_data.h"

#include <cctype>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/hash.h"
#include "core/data/idx.h"
#include "core/io/file.h"
#include "core/session/pairs_file.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {

std::mutex& importer_mutex() {
  static std::mutex m;
  return m;
}
ImageImporter& importer_slot() {
  static ImageImporter importer;
  return importer;
}

// What the cache key covers: the spec and each input file's size and modification time.
std::string cache_key(const ImageSetSpec& s) {
  std::string text =
      fmt::format("v2|{}|{}|{}|{}-{}|{}|{}|{}|{}|{}|{}|{}|{}", s.format, s.images, s.labels, s.suite_from, s.suite_to,
                  s.size, s.channels, s.crop, s.fit_content, s.normalise_contrast, s.invert, s.downsample, s.upsample);
  std::error_code ec;
  for (const auto& p : {s.images, s.labels}) {
    if (p.empty()) continue;
    if (fs::is_directory(p, ec)) {
      // Directory inputs: the listing (names and sizes) of the image folder, or of its img/ subfolder.
      fs::path dir = fs::is_directory(fs::path(p) / "img", ec) ? fs::path(p) / "img" : fs::path(p);
      uint64_t count = 0, bytes = 0;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        ++count;
        bytes += e.is_regular_file(ec) ? e.file_size(ec) : 0;
        text += e.path().filename().string();
      }
      text += fmt::format("|{}|{}", count, bytes);
    } else {
      auto t = fs::last_write_time(p, ec).time_since_epoch().count();
      text += fmt::format("|{}|{}", fs::file_size(p, ec), int64_t(t));
    }
  }
  return hash_hex(text.data(), text.size());
}

data::Pack decode(const ImageSetSpec& spec) {
  if (spec.format == "idx") {
    data::Pack pack;
    if (spec.labels.empty()) {
      pack.images = data::read_idx(spec.images);
      if (pack.images.dim() == 3) pack.images = pack.images.unsqueeze(1);
      pack.labels = torch::full({pack.images.size(0)}, int64_t(-1), torch::kInt64);
      for (int64_t i = 0; i < pack.images.size(0); ++i) pack.names.push_back(fmt::format("index:{}", i));
    } else {
      pack = data::import_idx(spec.images, spec.labels);
    }
    pack.images = preprocess_uint8(pack.images, spec);
    return pack;
  }
  if (spec.format == "pack") {
    auto pack = data::load_pack(spec.images);
    pack.images = preprocess_uint8(pack.images, spec);
    return pack;
  }
  ImageImporter importer;
  {
    std::lock_guard<std::mutex> lock(importer_mutex());
    importer = importer_slot();
  }
  if (!importer)
    fail("{}: this build has no image decoding (built without OpenCV); use idx or pack datasets", spec.images);
  return importer(spec);
}

}  // namespace

int64_t file_number(const std::string& name) {
  const std::string stem = fs::path(name).stem().string();
  size_t end = stem.size();
  while (end > 0 && !std::isdigit(static_cast<unsigned char>(stem[end - 1]))) --end;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  if (begin == end || end - begin > 18) return -1;
  return std::stoll(stem.substr(begin, end - begin));
}

void set_image_importer(ImageImporter importer) {
  std::lock_guard<std::mutex> lock(importer_mutex());
  importer_slot() = std::move(importer);
}

bool has_image_importer() {
  std::lock_guard<std::mutex> lock(importer_mutex());
  return bool(importer_slot());
}

torch::Tensor preprocess_uint8(const torch::Tensor& images, const ImageSetSpec& spec) {
  if (images.dim() != 4) fail("images: expected [N, C, H, W], got {} dimensions", images.dim());
  auto x = images.to(torch::kFloat32);
  if (spec.channels == 1 && x.size(1) == 3)
    x = (x * torch::tensor({0.299f, 0.587f, 0.114f}).view({1, 3, 1, 1})).sum(1, true);
  if (spec.channels == 3 && x.size(1) == 1) x = x.expand({-1, 3, -1, -1}).contiguous();
  namespace F = torch::nn::functional;
  if (spec.size > 0 && (x.size(2) != spec.size || x.size(3) != spec.size))
    x = F::interpolate(x,
                       F::InterpolateFuncOptions().size(std::vector<int64_t>{spec.size, spec.size}).mode(torch::kArea));
  if (spec.downsample > 1) {
    const int64_t h = x.size(2) / spec.downsample, w = x.size(3) / spec.downsample;
    x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kArea));
  }
  if (spec.upsample > 0)
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{spec.upsample, spec.upsample})
                              .mode(torch::kBicubic)
                              .align_corners(false));
  return x.round().clamp(0, 255).to(torch::kUInt8).contiguous();
}

bool low_resolution_spec(const ImageSetSpec& spec, int64_t factor, ImageSetSpec* out) {
  if (factor <= 1 || spec.downsample != factor || spec.upsample <= 0) return false;
  *out = spec;
  out->upsample = 0;
  return true;
}

data::Pack load_image_set(const ImageSetSpec& spec, const std::string& where) {
  data::Pack pack;
  const fs::path cache = fs::path(data::pack_cache_dir()) / (cache_key(spec) + ".npz");
  std::error_code ec;
  bool cached = false;
  if (spec.format != "pack" && fs::exists(cache, ec)) {
    try {
      pack = data::load_pack(cache.string());
      cached = true;
    } catch (const std::exception& e) {
      spdlog::warn("{}: ignoring a corrupt cached pack {} ({})", where, cache.string(), e.what());
    }
  }
  if (!cached) {
    try {
      pack = decode(spec);
    } catch (const UserError& e) {
      fail("{}: {}", where, e.what());
    }
    if (spec.format != "pack") {
      try {
        fs::create_directories(cache.parent_path(), ec);
        data::save_pack(cache.string(), pack);
      } catch (const std::exception& e) {
        spdlog::warn("{}: could not cache the imported pack ({})", where, e.what());
      }
    }
  }
  if (pack.size() == 0) fail("{}: no images", where);
  if (spec.range_from > 0) {
    if (spec.range_to > pack.size())
      fail("{}: /range asks for samples {}..{} but {} holds {}", where, spec.range_from, spec.range_to, spec.images,
           pack.size());
    pack = pack.subset(torch::arange(spec.range_from - 1, spec.range_to, torch::kInt64));
  }
  if (spec.parity != 0) {
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < pack.size(); ++i) {
      const int64_t number = file_number(pack.names[size_t(i)]);
      if (number < 0)
        fail("{}/images/parity: sample '{}' has no number in its file name to take the parity of", where,
             pack.names[size_t(i)]);
      if ((number % 2 == 0) == (spec.parity == 2)) keep.push_back(i);
    }
    if (keep.empty())
      fail("{}/images/parity: no sample has an {} file number", where, spec.parity == 2 ? "even" : "odd");
    pack = pack.subset(torch::tensor(keep, torch::kInt64));
  }
  if (!spec.classes.empty()) {
    auto keep = torch::zeros({pack.size()}, torch::kBool);
    for (int64_t c : spec.classes) keep |= pack.labels.eq(c);
    auto idx = keep.nonzero().squeeze(1);
    if (idx.numel() == 0) fail("{}: no image has one of the classes asked for", where);
    pack = pack.subset(idx);
  }
  if (spec.limit > 0 && spec.limit < pack.size()) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(spec.limit_seed);
    auto perm = torch::randperm(pack.size(), gen, torch::TensorOptions().dtype(torch::kInt64));
    pack = pack.subset(std::get<0>(perm.narrow(0, 0, spec.limit).sort()));
  }
  return pack;
}

std::vector<std::pair<int64_t, int64_t>> read_pairs_file(const std::string& path, const data::Pack& source,
                                                         const data::Pack& target) {
  return parse_pairs_json(io::read_file(path), path, {source.content_hash, source.size(), &source.names},
                          {target.content_hash, target.size(), &target.names});
}

std::vector<std::pair<int64_t, int64_t>> class_map(const KeypointRule& rule) {
  if (!rule.class_pairs.empty()) return rule.class_pairs;
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t c = 0; c < 10; ++c) out.emplace_back(c, c);
  return out;
}

std::vector<std::pair<int64_t, int64_t>> class_map(const KeypointRule& rule, const ot::KeypointPairs& keypoints,
                                                   const torch::Tensor& source_labels,
                                                   const torch::Tensor& target_labels) {
  if (!rule.class_pairs.empty() || keypoints.size() == 0 || !source_labels.defined() || !target_labels.defined())
    return class_map(rule);
  // Explicit pairs: each source class goes to the target class most of its pairs point at (ties: the smaller).
  std::map<int64_t, std::map<int64_t, int64_t>> votes;
  auto si = keypoints.source_index.contiguous(), ti = keypoints.target_index.contiguous();
  for (int64_t k = 0; k < keypoints.size(); ++k) {
    const int64_t cs = source_labels[si[k].item<int64_t>()].item<int64_t>();
    const int64_t ct = target_labels[ti[k].item<int64_t>()].item<int64_t>();
    if (cs >= 0 && ct >= 0) ++votes[cs][ct];
  }
  if (votes.empty()) return class_map(rule);
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& [cs, counts] : votes) {
    auto best = counts.begin();
    for (auto it = counts.begin(); it != counts.end(); ++it)
      if (it->second > best->second) best = it;
    out.emplace_back(cs, best->first);
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> class_medoid_pairs(const torch::Tensor& source,
                                                            const torch::Tensor& source_labels,
                                                            const torch::Tensor& target,
                                                            const torch::Tensor& target_labels,
                                                            const KeypointRule& rule) {
  auto medoid = [](const torch::Tensor& x, const torch::Tensor& labels, int64_t c, const char* side) {
    auto idx = labels.eq(c).nonzero().squeeze(1);
    if (idx.numel() == 0) fail("keypoint rule class_medoid: the {} set has no sample of class {}", side, c);
    auto xc = x.index_select(0, idx).to(torch::kFloat32);
    auto d = (xc - xc.mean(0, true)).pow(2).sum(1);
    return idx[d.argmin().item<int64_t>()].item<int64_t>();
  };
  std::vector<std::pair<int64_t, int64_t>> out;
  for (auto [cs, ct] : class_map(rule))
    out.emplace_back(medoid(source, source_labels, cs, "source"), medoid(target, target_labels, ct, "target"));
  return out;
}

}  // namespace otcs::session
