// EDM, AOT, DPM-OT and trajectory curvature: the preconditioning identities, the Heun grid and its
// NFE, the AOT chunk assignment (optimal against brute force, per-class, a permutation of the drawn noises,
// consumed in order), DPM-OT's map returning exact stored latents, and the curvature of straight/bent paths.
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/diffusion/aot.h"
#include "core/diffusion/dpmot.h"
#include "core/diffusion/edm.h"
#include "core/metrics/curvature.h"

using namespace otcs::diffusion;

namespace {

// Minimum over all permutations of Σ ‖x_i − n_π(i)‖ (n <= 8).
double brute_force_cost(const torch::Tensor& x, const torch::Tensor& noise) {
  const int64_t n = x.size(0);
  auto d = torch::cdist(x.reshape({n, -1}).to(torch::kFloat64), noise.reshape({n, -1}).to(torch::kFloat64));
  auto acc = d.accessor<double, 2>();
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  double best = 1e300;
  do {
    double c = 0;
    for (int64_t i = 0; i < n; ++i) c += acc[i][p[size_t(i)]];
    best = std::min(best, c);
  } while (std::next_permutation(p.begin(), p.end()));
  return best;
}

double pairing_cost(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& perm) {
  const int64_t n = x.size(0);
  return (x.reshape({n, -1}).to(torch::kFloat64) - noise.index_select(0, perm).reshape({n, -1}).to(torch::kFloat64))
      .pow(2)
      .sum(1)
      .sqrt()
      .sum()
      .item<double>();
}

// An untrained 8x8 UNet: enough to count evaluations and check the σ → 0 identity.
NetworkSpec tiny_unet() {
  NetworkSpec s;
  s.kind = NetworkKind::UNet;
  s.in_channels = 1;
  s.resolution = 8;
  s.channels = 8;
  s.channel_mult = {1, 2};
  s.attention_resolutions = {};
  s.groups = 4;
  return s;
}

}  // namespace

class TestEdmAot : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void preconditioningLimits() {
    const double sd = 0.5;
    // σ → 0: D(x; σ) → x (c_skip → 1, c_out → 0); σ → ∞: c_skip → 0, c_out → σ_d.
    auto small = edm_coefficients(1e-6, sd);
    QVERIFY(std::abs(small.c_skip - 1) < 1e-9);
    QVERIFY(std::abs(small.c_out) < 1e-5);
    auto big = edm_coefficients(1e6, sd);
    QVERIFY(big.c_skip < 1e-9);
    QVERIFY(std::abs(big.c_out - sd) < 1e-6);
    // EDM's design: the network's input has unit variance, c_in² (σ² + σ_d²) = 1, and the loss weight undoes
    // c_out (λ c_out² = 1, so the effective training target has unit weight at every σ).
    for (double s : {0.002, 0.1, 0.5, 1.0, 80.0}) {
      auto c = edm_coefficients(s, sd);
      QVERIFY(std::abs(c.c_in * c.c_in * (s * s + sd * sd) - 1) < 1e-12);
      QVERIFY(std::abs(c.c_out * c.c_out * edm_loss_weight(s, sd) - 1) < 1e-9);
      QVERIFY(std::abs(c.c_noise - std::log(s) / 4) < 1e-15);
    }
    // The tensor denoiser agrees with the scalar coefficients at σ → 0: D(x) ≈ x whatever the network.
    torch::manual_seed(0);
    auto net = make_network(tiny_unet());
    EdmSpec spec;
    auto x = torch::randn({2, 1, 8, 8});
    torch::NoGradGuard g;
    auto d = edm_denoise(*net, spec, x, torch::full({2}, 1e-7), {});
    QVERIFY((d - x).abs().max().item<double>() < 1e-4);
  }

  void heunGridAndNfe() {
    HeunSpec h;
    h.steps = 18;
    h.rho = 7;
    auto t = heun_grid(h);
    QCOMPARE(int64_t(t.size()), int64_t(19));
    QVERIFY(std::abs(t[0] - 80) < 1e-9);
    QVERIFY(std::abs(t[17] - 0.002) < 1e-12);
    QCOMPARE(t[18], 0.0);
    for (size_t i = 0; i + 1 < t.size(); ++i) QVERIFY(t[i] > t[i + 1]);
    QCOMPARE(heun_nfe(18), int64_t(35));
    QCOMPARE(heun_nfe_from(18, 15), int64_t(5));
    // The sampler uses exactly 2N − 1 evaluations and 2M − 1 from index N − M; the trajectory has every state.
    torch::manual_seed(1);
    EdmModel model{make_network(tiny_unet()), tiny_unet(), EdmSpec{}};
    model.network->eval();
    h.steps = 4;
    auto grid = heun_grid(h);
    Trajectory path;
    int64_t nfe = 0;
    auto x = heun_sample(model, torch::randn({3, 1, 8, 8}) * grid[0], grid, {}, 0, &path, &nfe, 2);
    QCOMPARE(nfe, int64_t(7));
    QCOMPARE(int64_t(path.t.size()), int64_t(5));
    QCOMPARE(path.x.back().size(0), int64_t(3));
    QVERIFY(torch::equal(path.x.back(), x));
    heun_sample(model, torch::randn({3, 1, 8, 8}), grid, {}, 2, nullptr, &nfe);
    QCOMPARE(nfe, int64_t(3));
  }

  void assignmentIsOptimalOnTinyChunks() {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
    for (int trial = 0; trial < 20; ++trial) {
      const int64_t n = 2 + trial % 6;
      auto x = torch::rand({n, 1, 2, 2}, gen) * 2 - 1;
      auto noise = torch::randn({n, 1, 2, 2}, gen);
      auto perm = assign_noise(x, noise, {});
      QVERIFY(std::abs(pairing_cost(x, noise, perm) - brute_force_cost(x, noise)) < 1e-9);
    }
  }

  void perClassAssignmentNeverCrossesClasses() {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
    auto x = torch::randn({60, 1, 4, 4}, gen);
    auto noise = torch::randn({60, 1, 4, 4}, gen);
    auto labels = torch::randint(0, 3, {60}, gen);
    auto perm = assign_noise(x, noise, labels);
    QVERIFY(torch::equal(labels.index_select(0, perm), labels));
    QVERIFY(torch::equal(std::get<0>(perm.sort()), torch::arange(60)));
  }

  void chunkIsAPermutationOfTheDrawnNoisesConsumedInOrder() {
    const int64_t n = 40, chunk = 16, batch = 4;
    auto data = torch::arange(n * 4, torch::kFloat32).reshape({n, 1, 2, 2}) / float(n * 4);
    AotOptions with, without;
    with.chunk = without.chunk = chunk;
    with.batch = without.batch = batch;
    with.seed = without.seed = 7;
    without.assign = false;
    AotProvider a(data, {}, with), b(data, {}, without);
    for (int c = 0; c < 3; ++c) {
      std::vector<torch::Tensor> xa, na, xb, nb;
      for (int64_t k = 0; k < chunk / batch; ++k) {
        auto pa = a.next(), pb = b.next();
        QCOMPARE(pa.x.size(0), batch);
        xa.push_back(pa.x), na.push_back(pa.noise), xb.push_back(pb.x), nb.push_back(pb.noise);
      }
      // The same images in the same order (the chunk is handed out sequentially, one new chunk per
      // chunk / batch calls), and the same set of noises: only the pairing differs.
      auto XA = torch::cat(xa), XB = torch::cat(xb), NA = torch::cat(na), NB = torch::cat(nb);
      QVERIFY(torch::equal(XA, XB));
      QCOMPARE(int64_t(a.stats().size()), int64_t(c + 1));
      auto key = [](const torch::Tensor& t) { return std::get<0>(t.reshape({t.size(0), -1}).select(1, 0).sort()); };
      QVERIFY(torch::equal(key(NA), key(NB)));
      QVERIFY(!torch::equal(NA, NB));
      const auto& s = a.stats().back();
      QVERIFY(s.assigned_cost <= s.random_cost + 1e-9);
      QVERIFY(std::abs(s.random_cost - b.stats().back().random_cost) < 1e-9);
      QVERIFY(std::abs(b.stats().back().assigned_cost - b.stats().back().random_cost) < 1e-12);
    }
    // Images within an epoch are drawn without replacement (40 images, chunks of 16: the first two chunks).
    AotProvider c(data, {}, without);
    std::vector<torch::Tensor> seen;
    for (int k = 0; k < 8; ++k) seen.push_back(c.next().x);
    auto firsts = torch::cat(seen).reshape({32, -1}).select(1, 0);
    QCOMPARE(std::get<0>(torch::_unique(firsts)).size(0), int64_t(32));
  }

  void dpmotMapReturnsStoredLatents() {
    HeunSpec h;
    h.steps = 10;
    auto split = dpmot_split(h, 3);
    QCOMPARE(split.start, int64_t(7));
    QCOMPARE(split.nfe, int64_t(5));
    QCOMPARE(split.sigma, heun_grid(h)[7]);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    auto data = torch::rand({20, 1, 2, 2}, gen);
    auto latents = build_latents(data, split.sigma, gen);
    QCOMPARE(latents.size(1), int64_t(4));
    auto h_heights = torch::randn({20}, gen).to(torch::kFloat64);
    auto m = map_source(latents, h_heights, otcs::ot::SourceKind::Uniform, 50, gen);
    for (int64_t i = 0; i < 50; ++i) QVERIFY(torch::equal(m.latents[i], latents[m.cells[i].item<int64_t>()]));
    QVERIFY(nearest_distances(m.latents, latents).abs().max().item<double>() < 1e-5);
    QVERIFY_EXCEPTION_THROWN(dpmot_split(h, 10), std::invalid_argument);
  }

  void curvatureOfStraightAndBentPaths() {
    std::vector<double> t = {80, 20, 5, 1, 0.1, 0};
    auto a = torch::randn({4, 3}), b = torch::randn({4, 3});
    std::vector<torch::Tensor> straight, bent;
    for (double ti : t) {
      straight.push_back(a + ti * b);
      // A quarter circle from a to a + r (bent): x(s) = a + r (sin, 1 − cos) of s ∈ [0, π/2].
      const double s = (1 - ti / 80) * M_PI / 2;
      auto p = a.clone();
      p.select(1, 0).add_(std::sin(s));
      p.select(1, 1).add_(1 - std::cos(s));
      bent.push_back(p);
    }
    QVERIFY(otcs::metrics::trajectory_curvature(t, straight) < 1e-10);
    QVERIFY(otcs::metrics::trajectory_curvature(t, bent) > 0.05);
  }
};

QTEST_GUILESS_MAIN(TestEdmAot)
#include "test_edm_aot.moc"
