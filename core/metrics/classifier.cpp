#include "core/metrics/classifier.h"

#include <chrono>
#include <sstream>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/io/archive.h"
#include "core/common/error.h"
#include "core/io/file.h"

namespace otcs::metrics {

namespace nn = torch::nn;

ClassifierImpl::ClassifierImpl(const ClassifierConfig& c) : config_(c) {
  int64_t w = c.width;
  body_ = register_module(
      "body", nn::Sequential(
                  nn::Conv2d(nn::Conv2dOptions(c.channels, w, 3).padding(1)), nn::BatchNorm2d(w), nn::ReLU(),
                  nn::Conv2d(nn::Conv2dOptions(w, w, 3).padding(1)), nn::BatchNorm2d(w), nn::ReLU(), nn::MaxPool2d(2),
                  nn::Conv2d(nn::Conv2dOptions(w, 2 * w, 3).padding(1)), nn::BatchNorm2d(2 * w), nn::ReLU(),
                  nn::Conv2d(nn::Conv2dOptions(2 * w, 2 * w, 3).padding(1)), nn::BatchNorm2d(2 * w), nn::ReLU(),
                  nn::MaxPool2d(2), nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({4, 4})), nn::Flatten()));
  head_ =
      register_module("head", nn::Sequential(nn::Dropout(c.dropout), nn::Linear(2 * w * 16, c.features), nn::ReLU()));
  out_ = register_module("out", nn::Linear(c.features, c.classes));
}

torch::Tensor ClassifierImpl::features(const torch::Tensor& x) { return head_->forward(body_->forward(x)); }
torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) { return out_->forward(features(x)); }

namespace {

// Random translation by up to ±2 pixels (zero padding = background at -1).
torch::Tensor shift_batch(const torch::Tensor& x, at::Generator& gen) {
  auto padded = torch::constant_pad_nd(x, {2, 2, 2, 2}, -1.0);
  auto offsets = torch::randint(0, 5, {2}, gen, torch::kInt64);
  int64_t dy = offsets[0].item<int64_t>(), dx = offsets[1].item<int64_t>();
  return padded.slice(2, dy, dy + x.size(2)).slice(3, dx, dx + x.size(3));
}

template <typename Fn>
torch::Tensor batched_eval(Classifier& model, const torch::Tensor& x, int64_t batch, Fn fn) {
  torch::NoGradGuard guard;
  bool was_training = model->is_training();
  model->eval();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += batch) parts.push_back(fn(x.slice(0, i, std::min(i + batch, x.size(0)))));
  if (was_training) model->train();
  return parts.empty() ? torch::empty({0}) : torch::cat(parts);
}

}  // namespace

torch::Tensor predict_proba(Classifier& model, const torch::Tensor& x, int64_t batch) {
  return batched_eval(model, x, batch, [&](const torch::Tensor& b) { return torch::softmax(model->forward(b), 1); });
}

torch::Tensor extract_features(Classifier& model, const torch::Tensor& x, int64_t batch) {
  return batched_eval(model, x, batch, [&](const torch::Tensor& b) { return model->features(b); });
}

double accuracy(Classifier& model, const torch::Tensor& x, const torch::Tensor& y) {
  if (x.size(0) == 0) return 0;
  auto pred = predict_proba(model, x).argmax(1);
  return pred.eq(y.to(torch::kInt64)).to(torch::kFloat64).mean().item<double>();
}

TrainReport train_classifier(Classifier& model, const torch::Tensor& train_x, const torch::Tensor& train_y,
                             const torch::Tensor& test_x, const torch::Tensor& test_y,
                             const std::function<void(int, double)>& progress) {
  const auto& c = model->config();
  if (train_x.size(0) == 0) fail("classifier: empty training set");
  auto start = std::chrono::steady_clock::now();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(c.seed);
  torch::manual_seed(c.seed);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(c.lr));
  int64_t n = train_x.size(0);
  int64_t steps_per_epoch = (n + c.batch - 1) / c.batch, total = steps_per_epoch * c.epochs, step = 0;
  auto y_all = train_y.to(torch::kInt64);
  model->train();
  for (int epoch = 0; epoch < c.epochs; ++epoch) {
    auto perm = torch::randperm(n, gen, torch::kInt64);
    double loss_sum = 0;
    for (int64_t i = 0; i < n; i += c.batch, ++step) {
      // Cosine learning-rate decay: a short fixed budget still ends well converged.
      double lr = c.lr * 0.5 * (1 + std::cos(M_PI * double(step) / double(total)));
      for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      auto idx = perm.slice(0, i, std::min(i + c.batch, n));
      auto xb = train_x.index_select(0, idx), yb = y_all.index_select(0, idx);
      if (c.augment) xb = shift_batch(xb, gen);
      auto loss = torch::nn::functional::cross_entropy(model->forward(xb), yb);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * double(idx.size(0));
    }
    spdlog::info("classifier epoch {}/{}: loss {:.4f}", epoch + 1, c.epochs, loss_sum / double(n));
    if (progress) progress(epoch + 1, loss_sum / double(n));
  }
  TrainReport r;
  r.train_accuracy = accuracy(model, train_x, train_y);
  r.test_accuracy = accuracy(model, test_x, test_y);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

void save_classifier(const std::string& path, Classifier& model, double test_accuracy) {
  torch::serialize::OutputArchive archive;
  const auto& c = model->config();
  archive.write("channels", c.channels);
  archive.write("size", c.size);
  archive.write("classes", c.classes);
  archive.write("width", c.width);
  archive.write("features", c.features);
  archive.write("test_accuracy", test_accuracy);
  torch::serialize::OutputArchive weights;
  model->save(weights);
  archive.write("model", weights);
  std::ostringstream out;
  archive.save_to(out);
  io::write_file_atomic(path, out.str());
}

Classifier load_classifier(const std::string& path, double* test_accuracy) {
  std::string bytes = io::read_file(path);
  try {
    torch::serialize::InputArchive archive;
    io::load_archive_bytes(bytes, path, archive);
    auto read_int = [&](const char* key) {
      c10::IValue v;
      archive.read(key, v);
      return v.toInt();
    };
    ClassifierConfig c;
    c.channels = read_int("channels");
    c.size = read_int("size");
    c.classes = read_int("classes");
    c.width = read_int("width");
    c.features = read_int("features");
    c10::IValue acc;
    archive.read("test_accuracy", acc);
    if (test_accuracy) *test_accuracy = acc.toDouble();
    Classifier model(c);
    torch::serialize::InputArchive weights;
    archive.read("model", weights);
    model->load(weights);
    model->eval();
    return model;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    fail("{}: not a readable classifier archive ({})", path, what.substr(0, what.find('\n')));
  }
}

double mode_mixture_ratio(const torch::Tensor& probabilities, double theta) {
  if (probabilities.size(0) == 0) return 0;
  auto mixed = (probabilities >= theta).sum(1) >= 2;
  return mixed.to(torch::kFloat64).mean().item<double>();
}

}  // namespace otcs::metrics
