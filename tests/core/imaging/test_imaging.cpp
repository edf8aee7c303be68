// Image decoding with validation, PNG round trips, and the raster plots used for run figures.
#include <QtTest/QtTest>

#include <filesystem>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/imaging/confusion_figure.h"
#include "core/imaging/image.h"
#include "core/imaging/plot.h"
#include "core/io/file.h"
#include "core/metrics/confusion.h"

namespace fs = std::filesystem;

class TestImaging : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string path(const char* name) { return (fs::path(tmp_.path().toStdString()) / name).string(); }

 private Q_SLOTS:
  void pngRoundTrip() {
    auto img = torch::randint(0, 256, {17, 23, 3}, torch::kInt64).to(torch::kUInt8);
    otcs::imaging::write_png(path("a.png"), img);
    auto back = otcs::imaging::read_image(path("a.png"));
    QVERIFY(torch::equal(back, img));
    auto gray = otcs::imaging::read_image(path("a.png"), 1);
    QCOMPARE(gray.size(2), 1);
  }

  void corruptAndTruncatedImagesAreUserErrors() {
    auto img = torch::randint(0, 256, {32, 32, 3}, torch::kInt64).to(torch::kUInt8);
    otcs::imaging::write_png(path("good.png"), img);
    auto bytes = otcs::io::read_file(path("good.png"));
    otcs::io::write_file_atomic(path("trunc.png"), bytes.substr(0, bytes.size() / 3));
    otcs::io::write_file_atomic(path("empty.png"), "");
    otcs::io::write_file_atomic(path("junk.png"), "this is not an image at all");
    for (const char* name : {"trunc.png", "empty.png", "junk.png", "missing.png"}) {
      bool named = false;
      try {
        otcs::imaging::read_image(path(name));
      } catch (const otcs::UserError& e) {
        named = std::string(e.what()).find(name) != std::string::npos;
      }
      QVERIFY2(named, name);
    }
  }

  void plotDrawsSeriesInsideTheAxes() {
    using otcs::imaging::Plot;
    Plot plot(400, 300);
    plot.title("t").xlabel("x").ylabel("y").limits(0, 1, 0, 1);
    plot.scatter({0.5}, {0.5}, {255, 0, 0}, 6, "point", 1.0);
    auto rgb = plot.render();
    QCOMPARE(rgb.size(0), 300);
    QCOMPARE(rgb.size(1), 400);
    // The point at the centre of the data rectangle is red; the corner of the canvas is white.
    auto centre_x = 64 + (400 - 64 - 18) / 2, centre_y = 34 + (300 - 34 - 48) / 2;
    auto px = rgb[centre_y][centre_x];
    QVERIFY(px[0].item<int>() > 200 && px[1].item<int>() < 60 && px[2].item<int>() < 60);
    QCOMPARE(rgb[299][399][0].item<int>(), 255);
  }

  void fieldAndLogAxesRender() {
    using otcs::imaging::Plot;
    Plot plot(300, 200);
    plot.field(torch::linspace(0, 1, 100).reshape({10, 10}), -1, 1, -1, 1, "value");
    plot.line({1, 2, 3}, {1, 10, 100}, otcs::imaging::palette(1));
    auto a = plot.render();
    Plot logp(300, 200);
    logp.log_y().line({1, 2, 3}, {1, 10, 100}, otcs::imaging::palette(1), 2, "loss");
    auto b = logp.render();
    QVERIFY(a.to(torch::kFloat).std().item<double>() > 10);
    QVERIFY(b.to(torch::kFloat).std().item<double>() > 5);
  }

  void imageGridPlacesEveryImage() {
    auto images = -torch::ones({5, 1, 4, 4});  // black images on white padding
    auto grid = otcs::imaging::image_grid(images, 3, 1, 2);
    QCOMPARE(grid.size(0), 2 * (8 + 1) + 1);
    QCOMPARE(grid.size(1), 3 * (8 + 1) + 1);
    QCOMPARE(grid[0][0][0].item<int>(), 255);                   // padding
    QCOMPARE(grid[1][1][0].item<int>(), 0);                     // first image
    QCOMPARE(grid[1 + 9 + 4][1 + 9 + 4][1].item<int>(), 0);     // fifth image (row 1, column 1)
    QCOMPARE(grid[1 + 9 + 4][1 + 18 + 4][1].item<int>(), 255);  // no sixth image
  }

  void translationGridStacksSetsPadsShortRowsAndLabels() {
    // 3 black sources, per row 2: rows sources[0:2], set A, set B, then sources[2] padded with white, A, B.
    auto sources = torch::zeros({3, 1, 4, 4}, torch::kUInt8);
    auto a = torch::full({3, 1, 4, 4}, 255, torch::kUInt8), b = torch::zeros({3, 3, 4, 4}, torch::kUInt8);
    auto grid = otcs::imaging::translation_grid(sources, {a, b}, 2, 1);
    QCOMPARE(grid.size(0), 6 * (4 + 2) + 2);
    QCOMPARE(grid.size(1), 2 * (4 + 2) + 2);
    QCOMPARE(grid[2][2][0].item<int>(), 0);                 // source 0
    QCOMPARE(grid[2 + 6][2][0].item<int>(), 255);           // set A (white)
    QCOMPARE(grid[2 + 12][2][0].item<int>(), 0);            // set B (black, 3 channels)
    QCOMPARE(grid[2 + 18][2][0].item<int>(), 0);            // source 2
    QCOMPARE(grid[2 + 18][2 + 6 + 1][0].item<int>(), 255);  // the short row's blank
    auto labelled = otcs::imaging::translation_grid(sources, {a, b}, 2, 1, {"sources", "A", "B"});
    QCOMPARE(labelled.size(0), grid.size(0));
    QVERIFY(labelled.size(1) > grid.size(1));
    QVERIFY(torch::equal(labelled.narrow(1, labelled.size(1) - grid.size(1), grid.size(1)), grid));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, otcs::imaging::translation_grid(sources, {a}, 2, 1, {"x"}));
  }

  void confusionFigureOutlinesEveryExpectedCell() {
    // Three rows; the third row's expected class was never read and is no target class: no outline there.
    const auto m =
        otcs::metrics::confusion_matrix({{0, 5}, {1, 7}, {2, 9}}, {0, 0, 1, 1, 2}, {5, 7, 7, 7, 8}, {5, 7, 8});
    const auto rgb = otcs::imaging::confusion_figure(m, "title");
    QCOMPARE(rgb.dim(), 3);
    QCOMPARE(rgb.size(2), 3);
    QVERIFY(rgb.size(0) > 3 * 46 && rgb.size(1) > 3 * 46);
    // Pixels in the outline colour (vermillion 213, 94, 0): the outlines of two cells and the caption.
    auto is_outline = rgb.select(2, 0).eq(213).logical_and(rgb.select(2, 1).eq(94)).logical_and(rgb.select(2, 2).eq(0));
    const int64_t outline = is_outline.sum().item<int64_t>();
    QVERIFY2(outline > 2 * 4 * 40 * 3, qPrintable(QString::number(outline)));
    // Ten classes (the digits) still fit a readable figure.
    std::vector<std::pair<int64_t, int64_t>> identity;
    std::vector<int64_t> source, read;
    for (int64_t c = 0; c < 10; ++c) {
      identity.emplace_back(c, c);
      for (int64_t k = 0; k < 10; ++k) {
        source.push_back(c);
        read.push_back((c + (k < 8 ? 0 : 1)) % 10);
      }
    }
    const auto digits = otcs::imaging::confusion_figure(otcs::metrics::confusion_matrix(identity, source, read, {}));
    QVERIFY(digits.size(0) < 1000 && digits.size(1) < 1200);
  }
};

QTEST_GUILESS_MAIN(TestImaging)
#include "test_imaging.moc"
