// Generation projects end to end on a small Fashion-MNIST subset (Debian's dataset-fashion-mnist; skipped without it):
// otcs gen-train (AOT) -> aot-compare (trains plain EDM beside it, reusing nothing else) -> dpmot on the AOT run,
// with a few training steps so the whole test takes well under two minutes; then bad input (exit 2, nothing
// written).
#include <QtTest/QtTest>

#include "tests/otcs_process.h"

#include <algorithm>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/file.h"

namespace fs = std::filesystem;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist/";

otcs_test::OtcsResult run_otcs(const QStringList& args) { return otcs_test::run_otcs(args, 300000); }

std::string project_json() {
  auto set = [](const std::string& split, int limit, int seed) {
    return "{\"images\": {\"format\": \"idx\", \"images\": \"" + kFashion + split +
           "-images-idx3-ubyte.gz\", \"labels\": \"" + kFashion + split +
           "-labels-idx1-ubyte.gz\", \"limit\": " + std::to_string(limit) +
           ", \"limit_seed\": " + std::to_string(seed) + "}}";
  };
  return R"({"schema_version": 1, "kind": "generation", "name": "fashion-gen-tiny", "data": {)"
         "\"train\": " +
         set("train", 600, 1) + ", \"test\": " + set("t10k", 200, 2) + R"(},
    "model": {"network": {"kind": "unet", "channels": 8, "channel_mult": [1, 2], "attention_resolutions": [], "groups": 4}},
    "train": {"method": "aot", "aot": 64, "steps": 16, "batch": 16, "lr_rampup": 4, "log_every": 8},
    "sample": {"steps": 4, "rho": 7},
    "eval": {"samples": 64, "classifier_epochs": 1},
    "dpmot": {"latents": 64, "M": 2, "max_iter": 12}
  })";
  // dpmot.max_iter 12: the plumbing is under test here, not the map; the solver certifies ||g|| < 8e-4 only with
  // millions of source samples per iteration (a minute and more for 784-D latents), reached after about 25.
}

}  // namespace

class TestGenE2e : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    std::error_code ec;
    if (!fs::exists(kFashion + "train-images-idx3-ubyte.gz", ec))
      QSKIP("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
  }

  void trainsComparesAndSamples() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    const std::string project = (dir / "gen.json").string();
    otcs::io::write_file_atomic(project, project_json());
    qputenv("OTCS_CACHE_DIR", QByteArray::fromStdString((dir / "cache").string()));
    const QString qp = QString::fromStdString(project);
    auto path = [&](const std::string& p) { return QString::fromStdString((dir / p).string()); };

    auto r = run_otcs({"gen-train", qp, "--out", path("cmp/aot"), "--threads", "2"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(fs::exists(dir / "cmp/aot/model.pt"));
    auto chunks = otcs::io::read_file((dir / "cmp/aot/aot_chunks.csv").string());
    QVERIFY(chunks.rfind("chunk,assigned_cost,random_cost,seconds\n", 0) == 0);
    QCOMPARE(int(std::count(chunks.begin(), chunks.end(), '\n')), 1 + 16 / 4);  // 4 steps per chunk of 64

    r = run_otcs({"aot-compare", qp, "--out", path("cmp"), "--nfe", "3,7", "--threads", "2"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("reusing"), "the AOT model trained by gen-train was not reused");
    auto rep = nlohmann::json::parse(otcs::io::read_file((dir / "cmp/report.json").string()));
    QCOMPARE(rep["rows"].size(), size_t(2));
    QCOMPARE(rep["rows"][1]["aot"]["nfe_counted"].get<int>(), 7);
    QVERIFY(rep["rows"][0]["edm"]["frechet"].get<double>() > 0);
    QVERIFY(rep["rows"][0]["aot"]["curvature"].get<double>() >= 0);
    QVERIFY(rep["classifier"]["test_accuracy"].get<double>() > 0);
    const double gap = rep["training"]["aot"]["mean_random_cost"].get<double>() -
                       rep["training"]["aot"]["mean_assigned_cost"].get<double>();
    QVERIFY2(gap > 0, "the assignment did not lower the mean pairing distance");

    r = run_otcs({"dpmot", "--run", path("cmp/aot"), "--M", "2", "--n", "32", "--out", path("dp"), "--threads", "2"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto dp = nlohmann::json::parse(otcs::io::read_file((dir / "dp/report.json").string()));
    QCOMPARE(dp["dpmot"]["nfe"].get<int>(), 3);
    QCOMPARE(dp["heun_same_nfe"]["nfe"].get<int>(), 3);
    QCOMPARE(dp["split"]["start_index"].get<int>(), 2);
    QVERIFY(fs::exists(dir / "dp/cell_measures.npy"));

    // Bad input: exit 2, one line, nothing written.
    r = run_otcs({"aot-compare", qp, "--out", path("bad1"), "--nfe", "4"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("odd"));
    QVERIFY(!fs::exists(dir / "bad1"));
    r = run_otcs({"gen-train", qp, "--out", path("bad2"), "--aot", "50"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("multiple of the batch"));
    QVERIFY(!fs::exists(dir / "bad2"));
    r = run_otcs({"dpmot", "--run", path("cmp/aot"), "--M", "4", "--out", path("bad3")});
    QCOMPARE(r.code, 2);
    QVERIFY(!fs::exists(dir / "bad3"));
  }
};

QTEST_GUILESS_MAIN(TestGenE2e)
#include "test_gen_e2e.moc"
