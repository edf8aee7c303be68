#pragma once
// The confusion matrix of an image run's eval as a figure (RUN/confusion.png): a heat map of each row's shares
// (row-normalised, so classes with fewer inputs read the same), the percentage and count in every cell, each
// row's expected cell outlined, axis labels, and each row's accuracy on the right. OpenCV draws; no Qt.
#include <string>

#include <torch/types.h>

#include "core/metrics/confusion.h"

namespace otcs::imaging {

// Renders `matrix` to a uint8 [H, W, 3] RGB tensor; `title` goes above it (none when empty).
torch::Tensor confusion_figure(const metrics::ConfusionMatrix& matrix, const std::string& title = {});

}  // namespace otcs::imaging
