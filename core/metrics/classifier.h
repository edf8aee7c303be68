#pragma once
// The project's own image classifier, trained on the target domain: it scores translated-class accuracy and
// provides the penultimate-layer features for Fréchet distance and KID (Inception weights cannot be had
// offline). Its own held-out test accuracy must be reported beside every number it produces.
#include <cstdint>
#include <functional>
#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace otcs::metrics {

struct ClassifierConfig {
  int64_t channels = 1;
  int64_t size = 28;  // square inputs
  int64_t classes = 10;
  int64_t width = 32;      // channels of the first conv block (doubled in the second)
  int64_t features = 128;  // penultimate width
  int epochs = 6;
  int64_t batch = 128;
  double lr = 2e-3;
  double dropout = 0.25;
  bool augment = true;  // small random shifts (±2 px) during training
  uint64_t seed = 0;
};

class ClassifierImpl : public torch::nn::Module {
 public:
  explicit ClassifierImpl(const ClassifierConfig& config = {});
  torch::Tensor forward(const torch::Tensor& x);   // logits; x float [N, C, H, W] in [-1, 1]
  torch::Tensor features(const torch::Tensor& x);  // penultimate activations [N, features]
  const ClassifierConfig& config() const { return config_; }

 private:
  ClassifierConfig config_;
  torch::nn::Sequential body_{nullptr}, head_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(Classifier);

struct TrainReport {
  double train_accuracy = 0, test_accuracy = 0, seconds = 0;
};

// Trains on (images [N, C, H, W] float in [-1, 1], labels int64) and evaluates on the test split. `progress`
// (optional) receives (epoch, loss) after each epoch.
TrainReport train_classifier(Classifier& model, const torch::Tensor& train_x, const torch::Tensor& train_y,
                             const torch::Tensor& test_x, const torch::Tensor& test_y,
                             const std::function<void(int, double)>& progress = {});

// Batched inference in eval mode without gradients.
torch::Tensor predict_proba(Classifier& model, const torch::Tensor& x, int64_t batch = 512);
torch::Tensor extract_features(Classifier& model, const torch::Tensor& x, int64_t batch = 512);
double accuracy(Classifier& model, const torch::Tensor& x, const torch::Tensor& y);

// One archive (config + weights + test accuracy), written atomically.
void save_classifier(const std::string& path, Classifier& model, double test_accuracy);
Classifier load_classifier(const std::string& path, double* test_accuracy = nullptr);

// Fraction of images whose softmax has at least two classes with probability >= theta (DPM-OT's MMR).
double mode_mixture_ratio(const torch::Tensor& probabilities, double theta);

}  // namespace otcs::metrics
