// Exact linear assignment: brute force on every small problem, an independent auction algorithm on 300×300,
// rectangular shapes, forbidden entries and the CLI.
#include <QtTest/QtTest>

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "core/io/npy.h"
#include "core/ot/assignment.h"

namespace {

double brute_force(const torch::Tensor& c) {
  int64_t nr = c.size(0), nc = c.size(1);
  auto a = c.accessor<double, 2>();
  std::vector<int64_t> cols(static_cast<size_t>(nc));
  std::iota(cols.begin(), cols.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  // Every ordered choice of nr distinct columns (nr <= nc): permutations of the columns, first nr used.
  do {
    double s = 0;
    for (int64_t i = 0; i < nr; ++i) s += a[i][cols[size_t(i)]];
    best = std::min(best, s);
  } while (std::next_permutation(cols.begin(), cols.end()));
  return best;
}

// Bertsekas' forward auction with epsilon scaling, for integer costs: with the final epsilon < 1/n the
// assignment it ends with is optimal. Written independently of the shortest-path solver.
double auction(const torch::Tensor& cost) {
  int64_t n = cost.size(0);
  auto a = cost.accessor<double, 2>();
  std::vector<double> price(static_cast<size_t>(n), 0.0);
  std::vector<int64_t> owner(static_cast<size_t>(n), -1), assigned(static_cast<size_t>(n), -1);
  double cmax = cost.abs().max().item<double>();
  for (double eps = std::max(1.0, cmax / 4);; eps = std::max(eps / 5, 0.5 / double(n + 1))) {
    std::fill(owner.begin(), owner.end(), -1);
    std::fill(assigned.begin(), assigned.end(), -1);
    std::vector<int64_t> free_rows(static_cast<size_t>(n));
    std::iota(free_rows.begin(), free_rows.end(), 0);
    while (!free_rows.empty()) {
      int64_t i = free_rows.back();
      free_rows.pop_back();
      // Benefit = -cost - price; find the best and second best.
      double best = -1e300, second = -1e300;
      int64_t bj = -1;
      for (int64_t j = 0; j < n; ++j) {
        double b = -a[i][j] - price[size_t(j)];
        if (b > best) {
          second = best;
          best = b;
          bj = j;
        } else if (b > second)
          second = b;
      }
      price[size_t(bj)] += best - second + eps;
      if (owner[size_t(bj)] >= 0) {
        assigned[size_t(owner[size_t(bj)])] = -1;
        free_rows.push_back(owner[size_t(bj)]);
      }
      owner[size_t(bj)] = i;
      assigned[size_t(i)] = bj;
    }
    if (eps < 1.0 / double(n)) break;
  }
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i][assigned[size_t(i)]];
  return s;
}

}  // namespace

class TestAssignment : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void equalsBruteForceOnEverySmallProblem() {
    torch::manual_seed(11);
    int tried = 0;
    for (int nr = 1; nr <= 7; ++nr)
      for (int nc = nr; nc <= std::min(nr + 2, 8); ++nc)
        for (int rep = 0; rep < 6; ++rep) {
          auto c = torch::rand({nr, nc}, torch::kFloat64);
          if (rep % 3 == 1) c = (c * 4).floor();  // many ties
          double total = 0;
          auto perm = otcs::ot::assign(c, &total);
          QVERIFY(std::abs(total - brute_force(c)) < 1e-12);
          // A valid assignment: distinct columns, every row assigned.
          auto sorted = std::get<0>(perm.sort());
          QVERIFY((sorted.slice(0, 1) != sorted.slice(0, 0, -1)).all().item<bool>() || nr == 1);
          QVERIFY((perm >= 0).all().item<bool>());
          // The transposed problem assigns every column and has the same optimum.
          double t_total = 0;
          auto tperm = otcs::ot::assign(c.t().contiguous(), &t_total);
          QVERIFY(std::abs(t_total - total) < 1e-12);
          QCOMPARE(int((tperm >= 0).sum().item<int64_t>()), nr);
          ++tried;
        }
    QVERIFY(tried > 100);
    // n = 8 square, brute force over 8! permutations.
    for (int rep = 0; rep < 3; ++rep) {
      auto c = torch::randn({8, 8}, torch::kFloat64);
      double total = 0;
      otcs::ot::assign(c, &total);
      QVERIFY(std::abs(total - brute_force(c)) < 1e-12);
    }
  }

  void agreesWithAuctionOn300() {
    torch::manual_seed(5);
    for (int rep = 0; rep < 2; ++rep) {
      auto c = torch::randint(0, 1000, {300, 300}, torch::kInt64).to(torch::kFloat64);
      double total = 0;
      otcs::ot::assign(c, &total);
      QCOMPARE(total, auction(c));
    }
  }

  void forbiddenEntriesAndInfeasibility() {
    auto inf = std::numeric_limits<double>::infinity();
    auto c = torch::tensor({{1.0, inf}, {inf, 2.0}}, torch::kFloat64);
    double total = 0;
    auto perm = otcs::ot::assign(c, &total);
    QCOMPARE(total, 3.0);
    QCOMPARE(perm[0].item<int64_t>(), 0);
    auto impossible = torch::tensor({{1.0, inf}, {2.0, inf}}, torch::kFloat64);
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, otcs::ot::assign(impossible));
    auto nan = torch::tensor({{1.0, std::nan("")}, {2.0, 1.0}}, torch::kFloat64);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, otcs::ot::assign(nan));
  }

  void cliWritesInt64PermutationAndRejectsBadInput() {
    QTemporaryDir tmp;
    auto c = torch::rand({6, 6}, torch::kFloat32);
    otcs::io::write_npy((tmp.path() + "/c.npy").toStdString(), c);
    QProcess p;
    p.start(OTCS_BIN_DIR "/otcs", {"assign", tmp.path() + "/c.npy", "--out", tmp.path() + "/p.npy"});
    p.waitForFinished();
    QCOMPARE(p.exitCode(), 0);
    auto perm = otcs::io::read_npy((tmp.path() + "/p.npy").toStdString());
    QCOMPARE(perm.scalar_type(), torch::kInt64);
    double expected = 0;
    QVERIFY(torch::equal(perm, otcs::ot::assign(c, &expected)));
    auto bad = c.clone();
    bad[2][3] = std::nanf("");
    otcs::io::write_npy((tmp.path() + "/bad.npy").toStdString(), bad);
    p.start(OTCS_BIN_DIR "/otcs", {"assign", tmp.path() + "/bad.npy", "--out", tmp.path() + "/q.npy"});
    p.waitForFinished();
    QCOMPARE(p.exitCode(), 2);
    QVERIFY(!QFile::exists(tmp.path() + "/q.npy"));
  }
};

QTEST_GUILESS_MAIN(TestAssignment)
#include "test_assignment.moc"
