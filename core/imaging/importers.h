#pragma once
// Importers for image folders (JPEG/PNG/BMP, any size, gray or colour), an optional labels CSV, and the
// Chinese-MNIST layout; all produce dataset packs (core/data/pack.h) with the same preprocessing.
#include <string>
#include <vector>

#include "core/data/pack.h"

namespace otcs::imaging {

struct Preprocess {
  int channels = 0;                 // 1 or 3; 0 keeps the first image's
  int crop = 0;                     // centre crop to crop×crop before resizing; -1: largest centred square; 0: none
  int height = 0, width = 0;        // resize target (0: keep; all images must then agree)
  bool normalise_contrast = false;  // stretch each image's min..max to 0..255 (Chinese-MNIST strokes are faint)
  bool invert = false;              // 255 - v after everything else
  // Crop to the bounding box of the strokes (pixels above 25% of the image's range), square it, and fit it into
  // 20/28 of a height×width canvas on black, centred (MNIST's own normalisation; instead of crop and resize).
  bool fit_content = false;
};

// Decodes one file and applies the preprocessing: uint8 [C, H, W].
torch::Tensor load_preprocessed(const std::string& path, const Preprocess& p);

// Every image file directly in `dir` (sorted by name), or the files listed in `labels_csv` ("file,label" per
// line, header optional; file names relative to dir). Errors name the file: unreadable, corrupt, empty folder,
// unknown file in the CSV, non-integer label.
data::Pack import_image_folder(const std::string& dir, const Preprocess& p, const std::string& labels_csv = {});

// Chinese-MNIST (img/input_{suite}_{sample}_{code}.jpg): keeps suites in [suite_from, suite_to], labels
// code - 1 (codes 1..10 are the digits 0..9; others are rejected), names are the file names.
data::Pack import_chinese_mnist(const std::string& root, int suite_from, int suite_to, const Preprocess& p);

// The conventional preprocessing for Chinese-MNIST strokes next to 28×28 MNIST digits.
Preprocess chinese_mnist_defaults(int size = 28);

// Registers the decoding importer (folder, chinese_mnist) with the session (core/session/image_data.h).
void register_session_importer();

}  // namespace otcs::imaging
