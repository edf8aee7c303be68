#include "core/imaging/importers.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/imaging/image.h"
#include "core/session/image_data.h"

namespace fs = std::filesystem;

namespace otcs::imaging {
namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".pgm" || ext == ".ppm";
}

data::Pack make_pack(std::vector<torch::Tensor>& images, std::vector<int64_t>& labels, std::vector<std::string>& names,
                     const std::string& where) {
  if (images.empty()) fail("{}: no images found", where);
  auto shape = images.front().sizes();
  for (size_t i = 0; i < images.size(); ++i)
    if (images[i].sizes() != shape)
      fail("{}: images differ in size ({} is {}×{}, {} is {}×{}); set a resize target", where, names[0], shape[1],
           shape[2], names[i], images[i].size(1), images[i].size(2));
  data::Pack pack;
  pack.images = torch::stack(images).contiguous();
  pack.labels = torch::tensor(labels, torch::kInt64);
  pack.names = std::move(names);
  pack.content_hash = data::pack_hash(pack);
  return pack;
}

}  // namespace

torch::Tensor load_preprocessed(const std::string& path, const Preprocess& p) {
  auto hwc = read_image(path, p.channels);
  cv::Mat img(int(hwc.size(0)), int(hwc.size(1)), CV_8UC(int(hwc.size(2))), hwc.data_ptr());
  bool fitted = false;
  if (p.fit_content && p.height > 0 && p.width > 0) {
    cv::Mat gray;
    if (img.channels() == 3)
      cv::cvtColor(img, gray, cv::COLOR_RGB2GRAY);
    else
      gray = img;
    double lo, hi;
    cv::minMaxLoc(gray, &lo, &hi);
    if (hi > lo) {
      cv::Mat mask = gray > (lo + 0.25 * (hi - lo));
      cv::Rect bb = cv::boundingRect(mask);
      const int side = std::max(bb.width, bb.height);
      const int cx = bb.x + bb.width / 2, cy = bb.y + bb.height / 2;
      cv::Mat padded;
      cv::copyMakeBorder(img, padded, side, side, side, side, cv::BORDER_CONSTANT, cv::Scalar::all(0));
      cv::Mat square = padded(cv::Rect(cx - side / 2 + side, cy - side / 2 + side, side, side));
      const int bh = std::max(1, int(std::lround(p.height * 20.0 / 28.0)));
      const int bw = std::max(1, int(std::lround(p.width * 20.0 / 28.0)));
      cv::Mat small;
      cv::resize(square, small, cv::Size(bw, bh), 0, 0, side > bh ? cv::INTER_AREA : cv::INTER_CUBIC);
      cv::Mat canvas = cv::Mat::zeros(p.height, p.width, img.type());
      small.copyTo(canvas(cv::Rect((p.width - bw) / 2, (p.height - bh) / 2, bw, bh)));
      img = canvas;
      fitted = true;
    }
  }
  if (p.crop != 0 && !fitted) {
    int side = p.crop < 0 ? std::min(img.rows, img.cols) : std::min({p.crop, img.rows, img.cols});
    img = img(cv::Rect((img.cols - side) / 2, (img.rows - side) / 2, side, side));
  }
  cv::Mat out = img;
  if (p.height > 0 && p.width > 0 && (img.rows != p.height || img.cols != p.width)) {
    bool shrinking = p.height < img.rows || p.width < img.cols;
    cv::resize(img, out, cv::Size(p.width, p.height), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_CUBIC);
  }
  if (p.normalise_contrast) {
    double lo, hi;
    cv::minMaxLoc(out.reshape(1), &lo, &hi);
    cv::Mat stretched;
    if (hi > lo)
      out.convertTo(stretched, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
    else
      stretched = cv::Mat::zeros(out.size(), out.type());
    out = stretched;
  }
  if (p.invert) out = cv::Scalar::all(255) - out;
  auto t = torch::empty({out.rows, out.cols, out.channels()}, torch::kUInt8);
  cv::Mat dst(out.rows, out.cols, CV_8UC(out.channels()), t.data_ptr());
  out.copyTo(dst);
  return t.permute({2, 0, 1}).contiguous();
}

data::Pack import_image_folder(const std::string& dir, const Preprocess& p, const std::string& labels_csv) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("{}: not a directory", dir);
  std::vector<std::pair<std::string, int64_t>> files;
  if (labels_csv.empty()) {
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && is_image_file(e.path())) files.emplace_back(e.path().filename().string(), -1);
    if (ec) fail("{}: cannot list ({})", dir, ec.message());
    std::sort(files.begin(), files.end());
  } else {
    std::ifstream in(labels_csv);
    if (!in) fail("{}: cannot open labels CSV", labels_csv);
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      auto comma = line.rfind(',');
      if (comma == std::string::npos) fail("{}:{}: expected 'file,label'", labels_csv, line_no);
      std::string name = line.substr(0, comma), label = line.substr(comma + 1);
      char* end = nullptr;
      long long v = std::strtoll(label.c_str(), &end, 10);
      if (label.empty() || *end != '\0') {
        if (line_no == 1) continue;  // a header line
        fail("{}:{}: label '{}' is not an integer", labels_csv, line_no, label);
      }
      if (!fs::is_regular_file(fs::path(dir) / name, ec))
        fail("{}:{}: no file '{}' in {}", labels_csv, line_no, name, dir);
      files.emplace_back(name, v);
    }
  }
  if (files.empty() && !labels_csv.empty()) fail("{}: no 'file,label' entries", labels_csv);
  if (files.empty()) fail("{}: empty folder (no PNG/JPEG/BMP images)", dir);
  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  std::vector<std::string> names;
  Preprocess first = p;
  for (const auto& [name, label] : files) {
    auto img = load_preprocessed((fs::path(dir) / name).string(), first);
    if (first.channels == 0) first.channels = int(img.size(0));  // later images follow the first one
    images.push_back(img);
    labels.push_back(label);
    names.push_back(name);
  }
  return make_pack(images, labels, names, dir);
}

data::Pack import_chinese_mnist(const std::string& root, int suite_from, int suite_to, const Preprocess& p) {
  fs::path img_dir = fs::path(root) / "img";
  std::error_code ec;
  if (!fs::is_directory(img_dir, ec)) fail("{}: not a Chinese-MNIST folder (no img/ inside)", root);
  static const std::regex pattern(R"(input_(\d+)_(\d+)_(\d+)\.jpg)");
  struct Entry {
    int suite, sample, code;
    std::string name;
  };
  std::vector<Entry> entries;
  for (const auto& e : fs::directory_iterator(img_dir, ec)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (!std::regex_match(name, m, pattern)) continue;
    int suite = std::stoi(m[1]), sample = std::stoi(m[2]), code = std::stoi(m[3]);
    if (suite < suite_from || suite > suite_to) continue;
    if (code < 1 || code > 10) fail("{}: code {} is not a digit 零…九 (codes 1–10)", (img_dir / name).string(), code);
    entries.push_back({suite, sample, code, name});
  }
  if (entries.empty()) fail("{}: no images for suites {}–{}", img_dir.string(), suite_from, suite_to);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.suite, a.code, a.sample) < std::tie(b.suite, b.code, b.sample);
  });
  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  std::vector<std::string> names;
  for (const auto& e : entries) {
    images.push_back(load_preprocessed((img_dir / e.name).string(), p));
    labels.push_back(e.code - 1);
    names.push_back(e.name);
  }
  return make_pack(images, labels, names, img_dir.string());
}

Preprocess chinese_mnist_defaults(int size) {
  Preprocess p;
  p.channels = 1;
  p.height = p.width = size;
  p.normalise_contrast = true;
  return p;
}

void register_session_importer() {
  session::set_image_importer([](const session::ImageSetSpec& s) {
    Preprocess p;
    p.channels = s.channels;
    p.crop = s.crop;
    p.height = p.width = int(s.size);
    p.normalise_contrast = s.normalise_contrast;
    p.invert = s.invert;
    p.fit_content = s.fit_content;
    data::Pack pack;
    if (s.format == "chinese_mnist")
      pack = import_chinese_mnist(s.images, s.suite_from, s.suite_to, p);
    else if (s.format == "folder")
      pack = import_image_folder(s.images, p, s.labels);
    else
      fail("{}: the image importer does not read format '{}'", s.images, s.format);
    if (s.downsample > 1 || s.upsample > 0) {
      session::ImageSetSpec post;
      post.downsample = s.downsample;
      post.upsample = s.upsample;
      pack.images = session::preprocess_uint8(pack.images, post);
      pack.content_hash = data::pack_hash(pack);
    }
    return pack;
  });
}

}  // namespace otcs::imaging
