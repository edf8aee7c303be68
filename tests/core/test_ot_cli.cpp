// `otcs ot` end to end, as a user runs it: the stochastic solvers (tabular, MLP) against the exact solver's plan
// on the same problem, keypoint guidance on a mirror-symmetric toy where plain OT pairs the clusters the other
// way, and bad input (one-line error, exit status 2, nothing left behind).
#include <QtTest/QtTest>

#include "tests/otcs_process.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/ot/sparse.h"

namespace fs = std::filesystem;

namespace {

otcs_test::OtcsResult run_otcs(const QStringList& args) { return otcs_test::run_otcs(args, 300000); }

nlohmann::json read_report(const std::string& dir) {
  return nlohmann::json::parse(otcs::io::read_file(dir + "/report.json"));
}

void write_csv(const std::string& path, const torch::Tensor& x) {
  std::ofstream f(path);
  auto a = x.to(torch::kFloat64).contiguous();
  for (int64_t i = 0; i < a.size(0); ++i) {
    for (int64_t j = 0; j < a.size(1); ++j) f << (j ? "," : "") << fmt::format("{:.17g}", a[i][j].item<double>());
    f << "\n";
  }
}

}  // namespace

class TestOtCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string dir_;
  std::string p(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  QString q(const std::string& name) const { return QString::fromStdString(p(name)); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    dir_ = tmp_.path().toStdString();
    QVERIFY2(fs::exists(OTCS_BIN_DIR "/otcs"), "build the otcs target first");
    auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
    // The accuracy problem: 200 x 200 in 2-D, l2 (mean) cost, eps = 0.05.
    auto S = torch::randn({200, 2}, gen, torch::kFloat64);
    auto T = torch::randn({200, 2}, gen, torch::kFloat64) * 0.5 + 1.0;
    otcs::io::write_npy(p("source.npy"), S);
    write_csv(p("target.csv"), T);  // one side as CSV: both readers are in the path
    // The mirror toy: two source clusters above each other, the target a mirror image to the right. Plain OT
    // sends top to top; the keypoints ask for top -> bottom and bottom -> top.
    auto cluster = [&](double x, double y, int64_t count) {
      auto c = torch::randn({count, 2}, gen, torch::kFloat64) * 0.15;
      c.select(1, 0).add_(x);
      c.select(1, 1).add_(y);
      return c;
    };
    otcs::io::write_npy(p("toy_source.npy"), torch::cat({cluster(0, 1, 40), cluster(0, -1, 40)}));
    otcs::io::write_npy(p("toy_target.npy"), torch::cat({cluster(3, 1, 40), cluster(3, -1, 40)}));
    otcs::io::write_file_atomic(p("toy_keypoints.csv"), "0,40\n40,0\n");
  }

  void exactSolverFromTheCli() {
    auto r = run_otcs({"ot", "--source", q("source.npy"), "--target", q("target.csv"), "--cost", "l2", "--epsilon",
                       "0.05", "--solver", "exact", "--out", q("exact")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto rep = read_report(p("exact"));
    for (const char* key : {"dual_objective", "transport_cost", "marginal_error_rows", "marginal_error_cols", "seconds",
                            "solver", "kkt", "nnz"})
      QVERIFY2(rep.contains(key), key);
    QCOMPARE(rep["solver"].get<std::string>(), std::string("exact"));
    QVERIFY(rep["kkt"].get<double>() <= 1e-8);
    QVERIFY(rep["marginal_error_rows"].get<double>() <= 1e-9);
    QVERIFY(rep["marginal_error_cols"].get<double>() <= 1e-9);
    auto plan = otcs::io::read_npy(p("exact/plan.npy"));
    QCOMPARE(plan.scalar_type(), torch::kFloat64);
    QCOMPARE(plan.sizes(), (torch::IntArrayRef{200, 200}));
    QVERIFY((plan.sum(1) - 1.0 / 200).abs().max().item<double>() <= 1e-9);
    QVERIFY((plan.sum(0) - 1.0 / 200).abs().max().item<double>() <= 1e-9);
    QCOMPARE(otcs::io::read_npy(p("exact/u.npy")).numel(), int64_t(200));
    auto H = otcs::ot::load_sparse(p("exact/H.npz"));
    QCOMPARE(H.rows, int64_t(200));
    // H holds exactly the entries of 200 * 200 * plan above 0.1
    auto dense = plan * (200.0 * 200.0);
    QCOMPARE(H.nnz(), (dense > 0.1).sum().item<int64_t>());
    QCOMPARE(rep["nnz"].get<int64_t>(), H.nnz());
  }

  void tabularWithinTwoPercentAndMlpWithinTenPercentOfExact() {
    auto exact = otcs::io::read_npy(p("exact/plan.npy"));
    struct Case {
      const char* solver;
      QStringList extra;
      double bound;
    };
    const Case cases[] = {{"tabular", {"--iterations", "3000"}, 0.02},
                          {"mlp", {"--iterations", "2000", "--width", "64"}, 0.10}};
    for (const auto& c : cases) {
      const std::string out = std::string("stoch_") + c.solver;
      QStringList args = {"ot",        "--source", q("source.npy"), "--target", q("target.csv"), "--cost", "l2",
                          "--epsilon", "0.05",     "--solver",      c.solver,   "--batch",       "64",     "--seed",
                          "1",         "--out",    q(out)};
      args << c.extra;
      auto r = run_otcs(args);
      QVERIFY2(r.code == 0, qPrintable(r.err));
      auto plan = otcs::io::read_npy(p(out + "/plan.npy"));
      const double rel = (plan - exact).abs().sum().item<double>() / exact.abs().sum().item<double>();
      qInfo("%s: relative L1 distance to the exact plan %.4f (bound %.2f)", c.solver, rel, c.bound);
      QVERIFY2(rel <= c.bound, qPrintable(QString("%1: %2").arg(c.solver).arg(rel)));
      auto rep = read_report(p(out));
      QCOMPARE(rep["solver"].get<std::string>(), std::string(c.solver));
      QVERIFY(rep["marginal_error_rows"].get<double>() < 0.5 / 200);
      QVERIFY(fs::exists(p(out + "/u_potential.pt")));
    }
  }

  void keypointsFlipTheMirrorToy() {
    auto fraction_to_partner = [&](const std::string& out) {
      auto plan = otcs::io::read_npy(p(out + "/plan.npy"));
      // source top (0..39) should go to target bottom (40..79) and vice versa
      const double top =
          plan.slice(0, 0, 40).slice(1, 40, 80).sum().item<double>() / plan.slice(0, 0, 40).sum().item<double>();
      const double bottom =
          plan.slice(0, 40, 80).slice(1, 0, 40).sum().item<double>() / plan.slice(0, 40, 80).sum().item<double>();
      return std::min(top, bottom);
    };
    const QStringList common = {
        "ot", "--source", q("toy_source.npy"), "--target", q("toy_target.npy"), "--cost", "l2", "--seed", "0"};
    auto plain = run_otcs(common + QStringList{"--epsilon", "0.01", "--out", q("toy_plain")});
    QVERIFY2(plain.code == 0, qPrintable(plain.err));
    const double f_plain = fraction_to_partner("toy_plain");
    qInfo("without keypoints: %.4f of each source cluster's mass reaches the partner cluster", f_plain);
    QVERIFY(f_plain < 0.5);
    for (const char* solver : {"exact", "tabular"}) {
      const std::string out = std::string("toy_kp_") + solver;
      auto guided = run_otcs(common + QStringList{"--keypoints", q("toy_keypoints.csv"), "--tau", "0.1", "--alpha", "1",
                                                  "--epsilon", "0.001", "--solver", solver, "--iterations", "3000",
                                                  "--batch", "32", "--out", q(out)});
      QVERIFY2(guided.code == 0, qPrintable(guided.err));
      const double f = fraction_to_partner(out);
      qInfo("%s with one keypoint pair per cluster: %.4f", solver, f);
      QVERIFY2(f >= 0.95, qPrintable(QString("%1: %2").arg(solver).arg(f)));
    }
    auto rep = read_report(p("toy_kp_exact"));
    QCOMPARE(rep["keypoints"].get<int64_t>(), int64_t(2));
    QVERIFY(rep["kkt"].get<double>() <= 1e-8);
  }

  void figureForTwoDimensionalProblems() {
#ifndef OTCS_HAVE_IMAGING
    QSKIP("built without OpenCV");
#endif
    auto r = run_otcs({"ot", "--source", q("toy_source.npy"), "--target", q("toy_target.npy"), "--keypoints",
                       q("toy_keypoints.csv"), "--epsilon", "0.001", "--out", q("fig"), "--figure", "plan.png"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto bytes = otcs::io::read_file(p("fig/plan.png"));
    QVERIFY(bytes.size() > 1000 && bytes.substr(1, 3) == "PNG");
  }

  void badInputExitsTwoWithOneLineAndNoFiles() {
    otcs::io::write_file_atomic(p("ragged.csv"), "1,2\n3,4\n5\n");
    auto nan = torch::randn({10, 2}, torch::kFloat64);
    nan[3][1] = std::nan("");
    otcs::io::write_npy(p("nan.npy"), nan);
    otcs::io::write_npy(p("three_d.npy"), torch::randn({10, 3}, torch::kFloat64));
    otcs::io::write_file_atomic(p("kp_range.csv"), "0,1\n3,500\n");
    struct Case {
      const char* what;
      QStringList args;
      const char* needle;  // the message must name the file or flag
    };
    const QString S = q("toy_source.npy"), T = q("toy_target.npy");
    const std::vector<Case> cases = {
        {"missing file", {"--source", q("nope.npy"), "--target", T, "--epsilon", "0.1"}, "nope.npy"},
        {"ragged csv", {"--source", q("ragged.csv"), "--target", T, "--epsilon", "0.1"}, "ragged.csv"},
        {"nan", {"--source", S, "--target", q("nan.npy"), "--epsilon", "0.1"}, "nan.npy"},
        {"dimension mismatch", {"--source", S, "--target", q("three_d.npy"), "--epsilon", "0.1"}, "three_d.npy"},
        {"keypoint out of range",
         {"--source", S, "--target", T, "--keypoints", q("kp_range.csv"), "--epsilon", "0.1"},
         "kp_range.csv"},
        {"epsilon zero", {"--source", S, "--target", T, "--epsilon", "0"}, "--epsilon"},
        {"epsilon negative", {"--source", S, "--target", T, "--epsilon", "-1"}, "--epsilon"},
        {"tau zero",
         {"--source", S, "--target", T, "--keypoints", q("toy_keypoints.csv"), "--epsilon", "0.1", "--tau", "0"},
         "--tau"},
        {"tau negative",
         {"--source", S, "--target", T, "--keypoints", q("toy_keypoints.csv"), "--epsilon", "0.1", "--tau", "-2"},
         "--tau"},
        {"unknown cost", {"--source", S, "--target", T, "--epsilon", "0.1", "--cost", "l3"}, "l3"},
    };
    int k = 0;
    for (const auto& c : cases) {
      const std::string out = "bad_" + std::to_string(k++);
      auto r = run_otcs(QStringList{"ot"} + c.args + QStringList{"--out", q(out)});
      QVERIFY2(r.code == 2, c.what);
      const auto lines = r.err.trimmed().split('\n');
      QVERIFY2(lines.size() == 1, qPrintable(QString("%1: %2").arg(c.what, r.err)));
      QVERIFY2(r.err.contains(c.needle), qPrintable(QString("%1: %2").arg(c.what, r.err)));
      QVERIFY2(!fs::exists(p(out)), c.what);
    }
    // an existing output directory keeps what it had and gains nothing
    fs::create_directories(p("existing"));
    otcs::io::write_file_atomic(p("existing/keep.txt"), "x");
    auto r = run_otcs({"ot", "--source", S, "--target", q("nan.npy"), "--epsilon", "0.1", "--out", q("existing")});
    QCOMPARE(r.code, 2);
    int files = 0;
    for (const auto& e : fs::directory_iterator(p("existing"))) files += e.is_regular_file();
    QCOMPARE(files, 1);
  }
};

QTEST_GUILESS_MAIN(TestOtCli)
#include "test_ot_cli.moc"
