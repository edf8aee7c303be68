// `otcs translate` on a super-resolution run (the layout of projects/faces-sr-paper.json at a tiny size): a folder
// of 89x109 images the run never saw gives one PNG per image, preprocessed as the project's source set (crop 70,
// 2x area downsampling, bicubic back up), and with the consistency step every PNG's 2x2 block means are the
// low-resolution input's within 1/255 on average. The run is a tiny one trained here in seconds.
#include <QtTest/QtTest>

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/imaging/image.h"
#include "core/imaging/importers.h"
#include "core/io/file.h"
#include "otcs_process.h"

namespace fs = std::filesystem;

namespace {

// 89x109 colour faces stand-ins: smooth random fields plus a little detail, named <first>.png, <first + 1>.png, ...
void write_faces(const fs::path& dir, int first, int n, int seed) {
  fs::create_directories(dir);
  torch::manual_seed(seed);
  namespace F = torch::nn::functional;
  for (int i = 0; i < n; ++i) {
    auto coarse = torch::rand({1, 3, 4, 4});
    auto x = F::interpolate(
        coarse,
        F::InterpolateFuncOptions().size(std::vector<int64_t>{109, 89}).mode(torch::kBilinear).align_corners(false));
    x = (x * 2 - 1) * 0.8 + 0.1 * torch::randn({1, 3, 109, 89});
    otcs::imaging::write_png((dir / fmt::format("{:06d}.png", first + i)).string(),
                             otcs::imaging::to_uint8_hwc(x[0].clamp(-1, 1)));
  }
}

const char* kProject = R"({
  "$schema": "../resources/project.schema.json",
  "schema_version": 1,
  "data": {
    "source": {"images": {"format": "folder", "dir": "faces", "range": [1, 24], "parity": "even", "crop": 70, "size": 16, "channels": 3, "downsample": 2, "upsample": 16}},
    "target": {"images": {"format": "folder", "dir": "faces", "range": [1, 24], "parity": "odd", "crop": 70, "size": 16, "channels": 3}}
  },
  "stages": {
    "ot": {"solver": "exact", "cost": "l2", "epsilon": 0.01, "alpha": 0.0},
    "score": {"mode": "otcs", "schedule": {"kind": "ddpm", "steps": 100},
              "network": {"kind": "unet", "channels": 8, "channel_mult": [1, 2], "res_blocks": 1,
                          "attention_resolutions": [], "groups": 4, "cond_encoder": "channels"},
              "steps": 10, "batch": 4, "seed": 1, "checkpoint_every": 10, "log_every": 5},
    "sample": {"sampler": {"kind": "dpm-solver++", "steps": 4, "clip": 1.0, "sdedit_t0": 0.2, "consistency": 2},
               "trajectory_sources": 0, "seed": 2},
    "eval": {"enabled": false}
  }
})";

}  // namespace

class TestSrTranslate : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void translatesUnseenFacesConsistently() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    write_faces(dir / "faces", 1, 24, 1);
    write_faces(dir / "new", 9001, 6, 2);  // faces the run never saw
    otcs::io::write_file_atomic((dir / "sr.json").string(), kProject);
    auto r = otcs_test::run_otcs({"run", QString::fromStdString((dir / "sr.json").string()), "--out",
                                  QString::fromStdString((dir / "run").string()), "--threads", "1", "--no-figures"});
    QVERIFY2(r.code == 0, qPrintable(r.err.right(3000)));
    r = otcs_test::run_otcs({"translate", "--run", QString::fromStdString((dir / "run").string()), "--input",
                             QString::fromStdString((dir / "new").string()), "--out",
                             QString::fromStdString((dir / "out").string())});
    QVERIFY2(r.code == 0, qPrintable(r.err.right(3000)));
    QVERIFY2(r.out.contains("6 translations written") && r.out.contains("block means differ"), qPrintable(r.out));

    // Each PNG against its own input preprocessed as the project's low-resolution source: crop 70, 16x16 (area),
    // halved (area) to 8x8; the PNG's 2x2 block means are that input's within 1/255 per pixel on average.
    namespace F = torch::nn::functional;
    otcs::imaging::Preprocess p;
    p.channels = 3;
    p.crop = 70;
    p.height = p.width = 16;
    for (int i = 0; i < 6; ++i) {
      const std::string name = fmt::format("{:06d}", 9001 + i);
      const fs::path png = dir / "out" / (name + ".png");
      QVERIFY2(fs::exists(png), png.string().c_str());
      auto y = otcs::imaging::read_image(png.string(), 3).permute({2, 0, 1}).to(torch::kFloat32).unsqueeze(0);
      QCOMPARE(y.sizes(), (torch::IntArrayRef{1, 3, 16, 16}));
      auto x = otcs::imaging::load_preprocessed((dir / "new" / (name + ".png")).string(), p)
                   .to(torch::kFloat32)
                   .unsqueeze(0);
      auto low =
          F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{8, 8}).mode(torch::kArea)).round();
      auto means = F::avg_pool2d(y, F::AvgPool2dFuncOptions(2).stride(2));
      const double dev = (means - low).abs().mean().item<double>();
      QVERIFY2(dev <= 1.0,
               qPrintable(QString("%1: mean |2x2 block mean - input| = %2/255").arg(name.c_str()).arg(dev)));
    }
  }
};

QTEST_GUILESS_MAIN(TestSrTranslate)
#include "test_sr_translate.moc"
