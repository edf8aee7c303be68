// Image-folder and Chinese-MNIST importers: preprocessing, labels CSV, and every bad input named.
#include <QtTest/QtTest>

#include <filesystem>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/imaging/image.h"
#include "core/imaging/importers.h"
#include "core/io/file.h"

namespace fs = std::filesystem;
using otcs::imaging::Preprocess;

class TestImporters : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string dir(const std::string& name) {
    auto d = tmp_.path().toStdString() + "/" + name;
    fs::create_directories(d);
    return d;
  }
  void expectError(const std::function<void()>& fn, const std::string& fragment) {
    try {
      fn();
      QFAIL("accepted");
    } catch (const otcs::UserError& e) {
      QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
  }

 private Q_SLOTS:
  void folderImportResizesAndKeepsOrder() {
    auto d = dir("ok");
    for (int i = 0; i < 3; ++i)
      otcs::imaging::write_png(d + "/img" + std::to_string(i) + ".png",
                               torch::full({40 + i, 30, 3}, 50 * i, torch::kUInt8));
    Preprocess p;
    p.channels = 1;
    p.height = p.width = 16;
    p.crop = -1;
    auto pack = otcs::imaging::import_image_folder(d, p);
    QCOMPARE(pack.images.sizes().vec(), (std::vector<int64_t>{3, 1, 16, 16}));
    QCOMPARE(pack.names[2], std::string("img2.png"));
    QCOMPARE(pack.images[2][0][8][8].item<int>(), 100);
    QCOMPARE(pack.labels[0].item<int64_t>(), -1);
  }

  void contrastNormalisationStretchesFaintStrokes() {
    auto d = dir("faint");
    auto img = torch::zeros({20, 20, 1}, torch::kUInt8);
    img.slice(0, 5, 15).fill_(3);  // a faint stroke, as in Chinese-MNIST
    otcs::imaging::write_png(d + "/a.png", img);
    Preprocess p;
    p.normalise_contrast = true;
    auto pack = otcs::imaging::import_image_folder(d, p);
    QCOMPARE(pack.images.max().item<int>(), 255);
    QCOMPARE(pack.images.min().item<int>(), 0);
  }

  void badInputsAreNamed() {
    auto empty = dir("empty");
    expectError([&] { otcs::imaging::import_image_folder(empty, {}); }, "empty folder");
    auto bad = dir("bad");
    otcs::imaging::write_png(bad + "/a.png", torch::zeros({8, 8, 1}, torch::kUInt8));
    otcs::io::write_file_atomic(bad + "/b.png", "definitely not a png");
    expectError([&] { otcs::imaging::import_image_folder(bad, {}); }, "b.png");
    auto sizes = dir("sizes");
    otcs::imaging::write_png(sizes + "/a.png", torch::zeros({8, 8, 1}, torch::kUInt8));
    otcs::imaging::write_png(sizes + "/b.png", torch::zeros({9, 8, 1}, torch::kUInt8));
    expectError([&] { otcs::imaging::import_image_folder(sizes, {}); }, "differ in size");
    auto csv = dir("csv");
    otcs::imaging::write_png(csv + "/a.png", torch::zeros({8, 8, 1}, torch::kUInt8));
    otcs::io::write_file_atomic(csv + "/labels.csv", "file,label\na.png,3\nmissing.png,1\n");
    expectError([&] { otcs::imaging::import_image_folder(csv, {}, csv + "/labels.csv"); }, "missing.png");
    otcs::io::write_file_atomic(csv + "/labels2.csv", "file,label\na.png,three\n");
    expectError([&] { otcs::imaging::import_image_folder(csv, {}, csv + "/labels2.csv"); }, "not an integer");
    otcs::io::write_file_atomic(csv + "/labels3.csv", "file,label\na.png,3\n");
    auto pack = otcs::imaging::import_image_folder(csv, {}, csv + "/labels3.csv");
    QCOMPARE(pack.labels[0].item<int64_t>(), 3);
    expectError([&] { otcs::imaging::import_chinese_mnist(empty, 1, 80, {}); }, "no img/");
  }

  void realChineseMnistWhenAvailable() {
    std::string root = OTCS_SHARED_DATA "/chinese_mnist";
    if (!fs::exists(root + "/img")) QSKIP("../shared/data/chinese_mnist is absent: skipping");
    auto pack = otcs::imaging::import_chinese_mnist(root, 81, 82, otcs::imaging::chinese_mnist_defaults(28));
    QCOMPARE(pack.images.sizes().vec(), (std::vector<int64_t>{2 * 100, 1, 28, 28}));
    QCOMPARE(pack.labels.bincount().min().item<int64_t>(), 20);  // 10 samples x 2 suites per digit
    // The strokes are faint (mean ≈ 2/255): after the per-image stretch every image spans 0..255 and is far
    // brighter on average than the raw import.
    auto raw_p = otcs::imaging::chinese_mnist_defaults(28);
    raw_p.normalise_contrast = false;
    auto raw = otcs::imaging::import_chinese_mnist(root, 81, 82, raw_p);
    QVERIFY((pack.images.flatten(1).amax(1) == 255).all().item<bool>());
    QVERIFY(pack.images.to(torch::kFloat).mean().item<double>() >
            3 * raw.images.to(torch::kFloat).mean().item<double>());
  }
};

QTEST_GUILESS_MAIN(TestImporters)
#include "test_importers.moc"
