// An image project end to end on Fashion-MNIST from Debian's dataset-fashion-mnist (no ../shared needed), scaled
// down so it takes about a minute: `otcs run` through ot (dense, propagation relations) -> bridge -> score (a tiny
// UNet) -> sample -> eval (classifier, translations, metrics, confusion matrix), the keypoint pairs file with both
// content hashes (reloaded as the project's keypoints; a changed dataset is refused), then `otcs translate` on an idx
// file, and bad input to translate.
#include <QtTest/QtTest>

#include "tests/otcs_process.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/file.h"
#include "core/metrics/confusion.h"

namespace fs = std::filesystem;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist/";

otcs_test::OtcsResult run_otcs(const QStringList& args) { return otcs_test::run_otcs(args, 600000); }

std::string project_json(const std::string& keypoints) {
  auto set = [](const std::string& split, const std::string& classes, int limit, int seed) {
    return "{\"images\": {\"format\": \"idx\", \"images\": \"" + kFashion + split +
           "-images-idx3-ubyte.gz\", \"labels\": \"" + kFashion + split +
           "-labels-idx1-ubyte.gz\", \"classes\": " + classes + ", \"limit\": " + std::to_string(limit) +
           ", \"limit_seed\": " + std::to_string(seed) + "}}";
  };
  return R"({"schema_version": 1, "name": "fashion-tiny", "data": {)"
         "\"source\": " +
         set("train", "[0, 1]", 300, 1) + ", \"target\": " + set("train", "[7, 8]", 300, 2) +
         ", \"test_source\": " + set("t10k", "[0, 1]", 40, 3) + ", \"test_target\": " + set("t10k", "[7, 8]", 200, 4) +
         ", \"keypoints\": " + keypoints + R"(},
    "stages": {
      "ot": {"solver": "dense", "epsilon": 1e-3, "relation": "propagation", "neighbors": 8, "adam_steps": 100, "lr": 1e-2, "iterations": 5},
      "bridge": {"threshold": 0.1, "apply_mask": true},
      "score": {"network": {"kind": "unet", "channels": 8, "channel_mult": [1, 2], "attention_resolutions": [], "groups": 4},
                "steps": 30, "batch": 16, "lr": 1e-3, "checkpoint_every": 10, "log_every": 10, "seed": 1},
      "sample": {"sampler": {"kind": "ddim", "steps": 3, "clip": 1.0}},
      "eval": {"classifier_epochs": 1, "grid": 4}
    }})";
}

}  // namespace

class TestImagePipeline : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    std::error_code ec;
    if (!fs::exists(kFashion + "train-images-idx3-ubyte.gz", ec))
      QSKIP("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
  }

  void runsEndToEndAndTranslates() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    const std::string rule = R"({"rule": "class_medoid", "class_pairs": [[0, 7], [1, 8]]})";
    otcs::io::write_file_atomic((dir / "tiny.json").string(), project_json(rule));
    const fs::path run = dir / "run";
    qputenv("OTCS_CACHE_DIR", QByteArray::fromStdString((dir / "cache").string()));
    auto r = run_otcs({"run", QString::fromStdString((dir / "tiny.json").string()), "--out",
                       QString::fromStdString(run.string()), "--threads", "2"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    for (const char* f : {"ot/u.npy", "bridge/H.npz", "score/model.pt", "sample/translations.npz", "eval/classifier.pt",
                          "eval/translations.npz", "metrics.json", "translations.png", "test_translations.png",
                          "confusion.png", "data/keypoints.json"})
      QVERIFY2(fs::exists(run / f), f);
    auto m = nlohmann::json::parse(otcs::io::read_file((run / "metrics.json").string()));
    QVERIFY(m.contains("translated_class_accuracy"));
    const double acc = m["translated_class_accuracy"].get<double>();
    QVERIFY(acc >= 0 && acc <= 1);
    QVERIFY(m["classifier_test_accuracy"].get<double>() > 0.5);  // sneaker vs bag, one epoch
    QCOMPARE(m["test_inputs"].get<int>(), 40);
    // The confusion matrix counts every test input once, and its expected cells are the accuracy reported.
    const auto confusion = otcs::metrics::confusion_from_json(m["confusion"]);
    QCOMPARE(confusion.rows, (std::vector<int64_t>{0, 1}));
    QCOMPARE(confusion.expected, (std::vector<int64_t>{7, 8}));
    QCOMPARE(std::vector<int64_t>(confusion.columns.begin(), confusion.columns.begin() + 2),
             (std::vector<int64_t>{7, 8}));
    QCOMPARE(confusion.total(), int64_t(40));
    QVERIFY(std::abs(confusion.accuracy() - acc) < 1e-12);
    for (size_t r = 0; r < confusion.rows.size(); ++r)
      QVERIFY(std::abs(confusion.row_accuracy(r) -
                       m["per_class"][std::to_string(confusion.rows[r])]["accuracy"].get<double>()) < 1e-12);
    QVERIFY(m["feature_extractor"].get<std::string>().find("not Inception") != std::string::npos);
    QVERIFY(m["coupling"]["class_agreement"].get<double>() > 0.5);
    QCOMPARE(m["settings"]["sampler"].get<std::string>(), std::string("ddim"));
    // Network evaluations per translation, as made: "steps": 3 on T = 1000 is range(0, 1000, 333), 4 indices.
    QCOMPARE(m["settings"]["sampler_nfe"].get<int>(), 4);

    // The pairs file names both datasets by content hash and each sample by index and name.
    auto pairs = nlohmann::json::parse(otcs::io::read_file((run / "data/keypoints.json").string()));
    QCOMPARE(pairs["schema_version"].get<int>(), 1);
    QCOMPARE(pairs["pairs"].size(), size_t(2));
    QVERIFY(pairs["pairs"][0]["source"]["name"].get<std::string>().rfind("index:", 0) == 0);

    // Loading those pairs as the keypoints of the same data: the OT stage's hash changes, the pairs are equal.
    const std::string pairs_path = (dir / "pairs.json").string();
    otcs::io::write_file_atomic(pairs_path, pairs.dump());
    otcs::io::write_file_atomic((dir / "from_file.json").string(), project_json(R"({"file": "pairs.json"})"));
    const fs::path run2 = dir / "run2";
    r = run_otcs({"run", QString::fromStdString((dir / "from_file.json").string()), "--out",
                  QString::fromStdString(run2.string()), "--until", "ot", "--threads", "2"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(otcs::io::read_file((run2 / "data/keypoints.csv").string()),
             otcs::io::read_file((run / "data/keypoints.csv").string()));
    // Against changed data (another subset): refused, naming the file and the hash.
    pairs["source_hash"] = "0000000000000000";
    otcs::io::write_file_atomic(pairs_path, pairs.dump());
    r = run_otcs({"run", QString::fromStdString((dir / "from_file.json").string()), "--out",
                  QString::fromStdString((dir / "run3").string()), "--until", "ot"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("pairs.json") && r.err.contains("source dataset changed"), qPrintable(r.err));

    // otcs translate on an idx file: one PNG per input, named by index.
    const fs::path out = dir / "translated";
    r = run_otcs({"translate", "--run", QString::fromStdString(run.string()), "--input",
                  QString::fromStdString(kFashion + "t10k-images-idx3-ubyte.gz"), "--limit", "5", "--steps", "2",
                  "--out", QString::fromStdString(out.string())});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    for (int i = 0; i < 5; ++i) QVERIFY(fs::exists(out / QString::asprintf("%05d.png", i).toStdString()));
    QVERIFY(!fs::exists(out / "00005.png"));
    // Another sampler than the project's.
    r = run_otcs({"translate", "--run", QString::fromStdString(run.string()), "--input",
                  QString::fromStdString(kFashion + "t10k-images-idx3-ubyte.gz"), "--limit", "2", "--sampler",
                  "dpm-solver++", "--steps", "4", "--out", QString::fromStdString((dir / "fast").string())});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(fs::exists(dir / "fast/00001.png"));
    r = run_otcs({"translate", "--run", QString::fromStdString(run.string()), "--input",
                  QString::fromStdString(kFashion + "t10k-images-idx3-ubyte.gz"), "--sampler", "rk4", "--out",
                  QString::fromStdString((dir / "t4").string())});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("rk4"), qPrintable(r.err));
    // Bad input: one line, exit 2, nothing written.
    r = run_otcs({"translate", "--run", QString::fromStdString(run.string()), "--input",
                  QString::fromStdString((dir / "missing.idx").string()), "--out",
                  QString::fromStdString((dir / "t2").string())});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("missing.idx"));
    QVERIFY(!fs::exists(dir / "t2"));
    r = run_otcs({"translate", "--run", QString::fromStdString(dir.string()), "--input",
                  QString::fromStdString(kFashion + "t10k-images-idx3-ubyte.gz"), "--out",
                  QString::fromStdString((dir / "t3").string())});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("not a run directory"));
  }
};

QTEST_GUILESS_MAIN(TestImagePipeline)
#include "test_image_pipeline.moc"
