// The adapter's part for the Evaluation view: a run's metrics.json (through the core's reader) and, for paired
// evals, the test images of eval/translations.npz, as plain rows, counts, labels and QImages.
// LibTorch before Qt's keywords exist: Qt defines `slots`, which ATen uses as an identifier.
#pragma push_macro("slots")
#undef slots
#include <torch/types.h>

#include "core/io/npy.h"
#include "core/metrics/confusion.h"
#include "core/run/artifacts.h"
#include "core/run/layout.h"
#pragma pop_macro("slots")

#include <QImage>
#include <QSet>
#include <QString>
#include <QtNumeric>
#include <cstring>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>

#include "app/gui/coreadapter.h"

namespace otcs::workbench {
namespace {

double number(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : qQNaN(); }

// The eval's named numbers in a readable order; any other top-level number (point runs' metrics, keys added
// later) follows under its own key.
QVector<EvaluationMetric> metricRows(const nlohmann::json& m) {
  QVector<EvaluationMetric> rows;
  QSet<QString> shown{"test_inputs", "classifier_test_accuracy", "frechet_distance_floor"};
  auto add = [&](const QString& name, const nlohmann::json& value, const QString& detail = QString()) {
    if (value.is_number()) rows.push_back({name, value.get<double>(), detail});
  };
  auto spread = [](const nlohmann::json& o, const char* key) {
    return o.is_object() && o.contains(key) && o[key].is_number() ? QString("± %1").arg(o[key].get<double>(), 0, 'g', 4)
                                                                  : QString();
  };
  const QString inputs = m.contains("test_inputs") && m["test_inputs"].is_number()
                             ? QString("%1 test inputs").arg(m["test_inputs"].get<int64_t>())
                             : QString();
  if (m.contains("translated_class_accuracy")) {
    shown << "translated_class_accuracy";
    add("translated-class accuracy", m["translated_class_accuracy"], inputs);
    if (m.contains("per_class") && m["per_class"].is_object())
      for (const auto& [cls, o] : m["per_class"].items())
        if (o.is_object() && o.contains("accuracy"))
          add(QString("  class %1 → %2").arg(QString::fromStdString(cls)).arg(o.value("target_class", int64_t(-1))),
              o["accuracy"], QString("%1 inputs").arg(o.value("inputs", int64_t(0))));
    if (m.contains("classifier_test_accuracy")) add("classifier test accuracy", m["classifier_test_accuracy"]);
  }
  if (m.contains("frechet_distance_classifier_features")) {
    shown << "frechet_distance_classifier_features";
    add("Fréchet distance (classifier features)", m["frechet_distance_classifier_features"],
        m.contains("frechet_distance_floor")
            ? QString("held-out targets: %1").arg(number(m["frechet_distance_floor"]), 0, 'g', 4)
            : QString());
  }
  if (m.contains("kid_classifier_features") && m["kid_classifier_features"].is_object()) {
    shown << "kid_classifier_features";
    add("KID (classifier features)", m["kid_classifier_features"].value("mean", nlohmann::json()),
        spread(m["kid_classifier_features"], "std"));
  }
  if (m.contains("mode_mixture_ratio") && m["mode_mixture_ratio"].is_object()) {
    shown << "mode_mixture_ratio";
    for (const auto& [theta, v] : m["mode_mixture_ratio"].items())
      add(QString("mode-mixture ratio θ = %1").arg(QString::fromStdString(theta)), v);
  }
  if (m.contains("coupling") && m["coupling"].is_object()) {
    shown << "coupling";
    add("H's mass on class-consistent pairs", m["coupling"].value("class_agreement", nlohmann::json()));
  }
  // Paired (super-resolution) evals: PSNR and SSIM of the project's output and of its references.
  const std::pair<const char*, const char*> paired[] = {{"mean_of_samples", "mean of samples"},
                                                        {"one_sample", "one sample"},
                                                        {"input_bicubic", "bicubic input"},
                                                        {"input_bicubic_consistent", "bicubic, block means kept"}};
  for (const auto& [key, what] : paired) {
    if (!m.contains(key) || !m[key].is_object()) continue;
    shown << key;
    QString name = what;
    if (std::string(key) == "mean_of_samples" && m[key].contains("samples"))
      name = QString("mean of %1 samples").arg(m[key]["samples"].get<int64_t>());
    add("PSNR (dB), " + name, m[key].value("psnr", nlohmann::json()), spread(m[key], "psnr_std"));
    add("SSIM, " + name, m[key].value("ssim", nlohmann::json()), spread(m[key], "ssim_std"));
  }
  if (m.contains("wins_over_input") && m["wins_over_input"].is_object()) {
    shown << "wins_over_input";
    add("mean beats bicubic (PSNR), share of inputs", m["wins_over_input"].value("psnr_mean", nlohmann::json()));
    add("mean beats bicubic (SSIM), share of inputs", m["wins_over_input"].value("ssim_mean", nlohmann::json()));
  }
  for (const auto& [key, v] : m.items())
    if (v.is_number() && !shown.contains(QString::fromStdString(key))) add(QString::fromStdString(key), v);
  return rows;
}

ConfusionData toConfusionData(const metrics::ConfusionMatrix& m) {
  ConfusionData d;
  for (int64_t r : m.rows) d.rowLabels << QString::number(r);
  for (int64_t c : m.columns) d.columnLabels << QString::number(c);
  for (size_t r = 0; r < m.rows.size(); ++r) {
    d.expectedColumn.push_back(m.expected_column(r));
    for (int64_t v : m.counts[r]) d.counts.push_back(double(v));
  }
  return d;
}

// uint8 [C, H, W] (C = 1 or 3) as a QImage.
QImage toImage(const torch::Tensor& chw) {
  auto t = chw.to(torch::kUInt8).contiguous();
  const int c = int(t.size(0)), h = int(t.size(1)), w = int(t.size(2));
  if (c == 1) {
    QImage image(w, h, QImage::Format_Grayscale8);
    for (int y = 0; y < h; ++y) std::memcpy(image.scanLine(y), t.data_ptr<uint8_t>() + size_t(y) * w, size_t(w));
    return image;
  }
  auto hwc = t.permute({1, 2, 0}).contiguous();
  QImage image(w, h, QImage::Format_RGB888);
  for (int y = 0; y < h; ++y)
    std::memcpy(image.scanLine(y), hwc.data_ptr<uint8_t>() + size_t(y) * w * 3, size_t(w) * 3);
  return image;
}

// Rows of the first `columns` test inputs: the input, one sample, the mean of samples, the truth.
ImageRows superResolutionRows(const std::filesystem::path& npz, int columns) {
  ImageRows out;
  const auto t = io::read_npz(npz.string());
  if (!t.count("targets")) return out;  // an unpaired eval: its translations are in the confusion matrix
  const std::pair<const char*, const char*> rows[] = {{"sources", "input (bicubic)"},
                                                      {"translations", "one sample"},
                                                      {"mean_translations", "mean of samples"},
                                                      {"targets", "truth"}};
  for (const auto& [key, label] : rows) {
    if (!t.count(key)) continue;
    const auto& images = t.at(key);
    if (images.dim() != 4) throw std::runtime_error(std::string(key) + " is not [N, C, H, W]");
    QVector<QImage> row;
    for (int64_t i = 0; i < std::min<int64_t>(columns, images.size(0)); ++i) row.push_back(toImage(images[i]));
    out.labels << label;
    out.rows.push_back(row);
  }
  return out;
}

}  // namespace

RunEvaluation loadRunEvaluation(const QString& runDir, int superResolutionColumns) {
  RunEvaluation out;
  const run::RunLayout layout(runDir.toStdString());
  nlohmann::json m;
  try {
    m = run::read_metrics(layout);
  } catch (const std::exception& e) {
    out.error = QString::fromStdString(e.what());
    return out;
  }
  if (!m.is_object()) return out;
  out.metrics = metricRows(m);
  if (m.contains("confusion")) {
    try {
      out.confusion = toConfusionData(metrics::confusion_from_json(m["confusion"]));
    } catch (const std::invalid_argument& e) {
      out.error = QString("%1: %2").arg(QString::fromStdString(layout.metrics().string()), e.what());
    }
  }
  std::error_code ec;
  if (m.value("paired", false) && std::filesystem::exists(layout.eval_translations(), ec)) {
    try {
      out.superResolution = superResolutionRows(layout.eval_translations(), superResolutionColumns);
    } catch (const std::exception& e) {
      out.error = QString("%1: %2").arg(QString::fromStdString(layout.eval_translations().string()), e.what());
    }
  }
  return out;
}

}  // namespace otcs::workbench
