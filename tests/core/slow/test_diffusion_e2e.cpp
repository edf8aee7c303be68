// End to end as scripts/run does it, on the reduced toy project: `otcs run` through the CLI entry point,
// every figure written, and the conditional-W2 acceptance check on the reduced evaluation.
#include <QtTest/QtTest>

#include <torch/torch.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/io/file.h"

namespace fs = std::filesystem;

class TestDiffusionE2e : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void quickProjectEndToEnd() {
    const char* out_env = std::getenv("OTCS_TEST_OUTPUT");
    QTemporaryDir tmp;
    const fs::path out = fs::path(out_env && *out_env ? out_env : tmp.path().toStdString()) / "toy2d-quick";
    std::error_code ec;
    fs::remove_all(out, ec);
    const std::string project = std::string(OTCS_SOURCE_DIR) + "/projects/toy2d-quick.json";
    std::vector<std::string> args = {"otcs", "run", project, "--out", out.string(), "--threads", "2"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    QCOMPARE(otcs::cli::main_entry(int(argv.size()), argv.data()), 0);

    for (const char* png :
         {"data.png", "potentials.png", "H.png", "loss.png", "trajectories.png", "conditionals.png"}) {
      QVERIFY2(fs::exists(out / png) && fs::file_size(out / png) > 1000, png);
    }
    for (const char* f : {"bridge/H.npz", "score/model.pt", "sample/trajectories.npz", "metrics.json", "otcs.log"})
      QVERIFY2(fs::exists(out / f), f);

    auto m = nlohmann::json::parse(otcs::io::read_file((out / "metrics.json").string()));
    const double ratio = m.at("conditional_w2_ratio"), baseline = m.at("conditional_w2_baseline");
    const double target_std = m.at("target_std");
    qInfo("conditional W2 ratio %.4f, baseline %.4f, target std %.4f", ratio, baseline, target_std);
    QVERIFY2(ratio <= 0.25, qPrintable(QString("ratio %1").arg(ratio)));
    QVERIFY(baseline >= 0.5 * target_std);

    // A second run finds every artifact and does nothing but redraw the figures.
    QCOMPARE(otcs::cli::main_entry(int(argv.size()), argv.data()), 0);
    auto log = otcs::io::read_file((out / "otcs.log").string());
    QVERIFY(log.find("score: skipped") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestDiffusionE2e)
#include "test_diffusion_e2e.moc"
