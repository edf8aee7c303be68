#include "core/imaging/image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"

namespace otcs::imaging {

torch::Tensor read_image(const std::string& path, int channels) {
  std::string bytes = io::read_file(path);
  if (bytes.empty()) fail("{}: empty image file", path);
  cv::Mat raw(1, int(bytes.size()), CV_8U, bytes.data());
  int flags = channels == 1 ? cv::IMREAD_GRAYSCALE : channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
  cv::Mat img;
  try {
    img = cv::imdecode(raw, flags);
  } catch (const cv::Exception& e) {
    fail("{}: cannot decode image ({})", path, e.msg);
  }
  if (img.empty()) fail("{}: not a readable image (corrupt, truncated or unsupported format)", path);
  if (img.depth() != CV_8U) img.convertTo(img, CV_8U, img.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
  if (img.channels() == 4) cv::cvtColor(img, img, cv::COLOR_BGRA2BGR);
  if (img.channels() == 3) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  auto t = torch::empty({img.rows, img.cols, img.channels()}, torch::kUInt8);
  cv::Mat dst(img.rows, img.cols, CV_8UC(img.channels()), t.data_ptr());
  img.copyTo(dst);
  return t;
}

void write_png(const std::string& path, const torch::Tensor& input) {
  auto image = input.to(torch::kCPU).contiguous();
  if (image.dim() == 2) image = image.unsqueeze(2);
  if (image.dim() != 3 || image.scalar_type() != torch::kUInt8 || (image.size(2) != 1 && image.size(2) != 3))
    throw std::invalid_argument("write_png: expected a uint8 [H, W, 1|3] tensor");
  cv::Mat view(int(image.size(0)), int(image.size(1)), CV_8UC(int(image.size(2))), image.data_ptr());
  cv::Mat bgr;
  if (image.size(2) == 3)
    cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
  else
    bgr = view;
  std::vector<uchar> buffer;
  if (!cv::imencode(".png", bgr, buffer)) fail("{}: PNG encoding failed", path);
  io::write_file_atomic(path, std::string(buffer.begin(), buffer.end()));
}

torch::Tensor to_float_chw(const torch::Tensor& hwc) {
  return hwc.permute({2, 0, 1}).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
}

torch::Tensor to_uint8_hwc(const torch::Tensor& chw) {
  return chw.detach().add(1.0).mul(127.5).round().clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
}

}  // namespace otcs::imaging
