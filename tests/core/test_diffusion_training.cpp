// Networks, the score trainer, the resampling-by-compatibility pair sampler and the exact W2 used by the eval.
#include <QtTest/QtTest>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "core/common/error.h"
#include "core/data/pair_sampler.h"
#include "core/data/point_cloud.h"
#include "core/diffusion/networks.h"
#include "core/diffusion/sampler.h"
#include "core/diffusion/trainer.h"
#include "core/diffusion/wasserstein.h"
#include "core/ot/sparse.h"

using namespace otcs;
using namespace otcs::diffusion;

namespace {

// A small untrained conditional MLP on 2-D points with a 2-D condition, in evaluation mode.
std::shared_ptr<ScoreNetwork> tiny_conditional_network() {
  NetworkSpec m;
  m.data_dim = 2;
  m.cond_dim = 2;
  m.hidden = 16;
  m.blocks = 1;
  m.embed_dim = 8;
  torch::manual_seed(3);
  auto net = make_network(m);
  net->eval();
  return net;
}

}  // namespace

class TestDiffusionTraining : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void mlpAndUnetShapes() {
    NetworkSpec m;
    m.data_dim = 2;
    m.cond_dim = 3;
    m.hidden = 32;
    m.blocks = 2;
    m.embed_dim = 16;
    auto mlp = make_network(m);
    auto out = mlp->forward(torch::randn({5, 2}), torch::rand({5}), torch::randn({5, 3}));
    QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{5, 2}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, mlp->forward(torch::randn({5, 2}), torch::rand({5}), {}));

    // 28x28 with the condition image as extra channels (CelebA style), 32x32 with a feature vector added to
    // the time embedding (animal style); attention at the chosen resolutions.
    NetworkSpec u;
    u.kind = NetworkKind::UNet;
    u.in_channels = 1;
    u.cond_channels = 1;
    u.resolution = 28;
    u.channels = 16;
    u.channel_mult = {1, 2, 2};
    u.attention_resolutions = {7};
    auto unet = make_network(u);
    auto y = unet->forward(torch::randn({2, 1, 28, 28}), torch::tensor({3.0f, 500.0f}), torch::randn({2, 1, 28, 28}));
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{2, 1, 28, 28}));
    u.in_channels = 3;
    u.cond_channels = 0;
    u.cond_dim = 8;
    u.resolution = 32;
    u.attention_resolutions = {16, 8};
    auto unet2 = make_network(u);
    auto z = unet2->forward(torch::randn({2, 3, 32, 32}), torch::tensor({1.0f, 2.0f}), torch::randn({2, 8}));
    QCOMPARE(z.sizes().vec(), (std::vector<int64_t>{2, 3, 32, 32}));
    // The condition changes the output (it reaches the network at all).
    auto z2 = unet2->forward(torch::randn({2, 3, 32, 32}), torch::tensor({1.0f, 2.0f}), torch::randn({2, 8}));
    QVERIFY(!torch::allclose(z, z2));
  }

  void convConditionEncoder() {
    // cond_encoder conv: the flattened condition image goes through a small CNN; the output still has the target's
    // shape, the condition still matters, and a non-square condition is refused when the network is built.
    NetworkSpec u;
    u.kind = NetworkKind::UNet;
    u.resolution = 28;
    u.channels = 8;
    u.channel_mult = {1, 2};
    u.attention_resolutions = {};
    u.cond_dim = 28 * 28;
    u.cond_encoder = "conv";
    auto net = make_network(u);
    auto x = torch::randn({3, 1, 28, 28});
    auto t = torch::tensor({1.0f, 10.0f, 100.0f});
    auto a = net->forward(x, t, torch::randn({3, 28 * 28}));
    auto b = net->forward(x, t, torch::randn({3, 28 * 28}));
    QCOMPARE(a.sizes().vec(), (std::vector<int64_t>{3, 1, 28, 28}));
    QVERIFY(!torch::allclose(a, b));
    bool has_encoder = false;
    for (const auto& np : net->named_parameters()) has_encoder |= np.key().rfind("cond_encoder", 0) == 0;
    QVERIFY(has_encoder);
    u.cond_dim = 700;
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, make_network(u));
  }

  void conditionDropoutTrainsTheNullCondition() {
    // cond_dropout = 1: every row sees the zero condition, so the loss equals the loss on zero conditions with the
    // same generator draws (the dropout draw comes after t and z).
    NetworkSpec m;
    m.data_dim = 2;
    m.cond_dim = 2;
    m.hidden = 16;
    m.blocks = 1;
    m.embed_dim = 8;
    TrainerSpec t;
    t.cond_dropout = 1.0;
    ScoreTrainer dropped(m, make_schedule(ScheduleSpec{}), t);
    t.cond_dropout = 0.0;
    ScoreTrainer plain(m, make_schedule(ScheduleSpec{}), t);
    auto y = torch::randn({16, 2}), c = torch::randn({16, 2});
    auto g1 = at::make_generator<at::CPUGeneratorImpl>(5), g2 = at::make_generator<at::CPUGeneratorImpl>(5);
    const double with_dropout = dropped.evaluate(y, c, g1);
    const double on_zeros = plain.evaluate(y, torch::zeros_like(c), g2);
    QVERIFY2(std::abs(with_dropout - on_zeros) < 1e-5 * std::max(1.0, on_zeros),
             qPrintable(QString("%1 vs %2").arg(with_dropout).arg(on_zeros)));
  }

  void guidanceCombinesConditionalAndNull() {
    auto net = tiny_conditional_network();
    auto x = torch::randn({4, 2}), c = torch::randn({4, 2});
    NoiseLevel level;
    level.network_time = 0.3;
    NetworkDenoiser plain(net, Prediction::Eps), guided(net, Prediction::Eps, 0, 3.0),
        one(net, Prediction::Eps, 0, 1.0);
    auto cond = plain.eps(x, level, c), null = plain.eps(x, level, torch::zeros_like(c));
    QVERIFY(torch::allclose(one.eps(x, level, c), cond));
    QVERIFY(torch::allclose(guided.eps(x, level, c), null + 3.0 * (cond - null), 1e-4, 1e-5));
    // Chunked evaluation gives the same guided result.
    NetworkDenoiser chunked(net, Prediction::Eps, 3, 3.0);
    QVERIFY(torch::allclose(chunked.eps(x, level, c), guided.eps(x, level, c), 1e-5, 1e-6));
  }

  void networkEvaluationsAreCounted() {
    // NFE per sample: one per denoiser call, two when guidance evaluates the null condition as well; an SDEdit
    // start runs (and counts) only the steps below its start time.
    auto net = tiny_conditional_network();
    auto ddpm = DdpmSchedule::linear(1000, 1e-4, 0.02);
    auto cond = torch::randn({8, 2});
    auto nfe = [&](SamplerSpec spec, TrajectoryRecorder* recorder = nullptr) {
      NetworkDenoiser den(net, Prediction::Eps, 0, spec.guidance);
      SampleOptions opt;
      opt.cond = cond;
      opt.sdedit_source = cond;
      opt.recorder = recorder;
      auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
      sample(den, *ddpm, spec, {8, 2}, gen, opt);
      return den.evaluations();
    };
    SamplerSpec spec;
    spec.kind = SamplerKind::DpmSolverPP;
    spec.steps = 12;
    TrajectoryRecorder rec;
    QCOMPARE(nfe(spec, &rec), int64_t(12));
    QCOMPARE(rec.frames().front().step, int64_t(0));
    QCOMPARE(rec.frames().back().step, int64_t(12));  // the final state after the last step
    spec.guidance = 3.0;
    QCOMPARE(nfe(spec), int64_t(24));
    spec.sdedit_t0 = 0.3;
    QCOMPARE(nfe(spec), int64_t(24));  // dpm-solver++ spreads its steps over [t_end, t0]
    spec.kind = SamplerKind::Ancestral;
    spec.steps = 0;  // every index from int(T t0) = 300 down to 0
    QCOMPARE(nfe(spec), int64_t(602));
    spec.guidance = 1.0;
    QCOMPARE(nfe(spec), int64_t(301));
    spec.sdedit_t0 = 0;
    spec.kind = SamplerKind::Heun;
    spec.steps = 5;
    QCOMPARE(nfe(spec), int64_t(10));
  }
  void sinusoidalEmbeddingIsTheDdimLayout() {
    auto e = sinusoidal_embedding(torch::tensor({0.0f, 10.0f}), 8);
    // [sin(t w_k), cos(t w_k)], w_k = exp(-ln(10000) k / (half - 1)).
    const double w1 = std::exp(-std::log(10000.0) / 3.0);
    QVERIFY(std::abs(e[1][1].item<double>() - std::sin(10 * w1)) < 1e-5);
    QVERIFY(std::abs(e[1][5].item<double>() - std::cos(10 * w1)) < 1e-5);
    QCOMPARE(e[0][4].item<double>(), 1.0);
  }

  void trainerLearnsAConditionalMean() {
    // y = x + small noise: after training, the EMA model's loss is well below the untrained one.
    NetworkSpec m;
    m.data_dim = 1;
    m.cond_dim = 1;
    m.hidden = 64;
    m.blocks = 2;
    m.embed_dim = 32;
    TrainerSpec t;
    t.lr = 2e-3;
    t.ema_decay = 0.99;
    t.grad_clip = 1.0;
    t.seed = 4;
    auto schedule = make_schedule(ScheduleSpec{});
    ScoreTrainer trainer(m, schedule, t);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(8);
    auto x = torch::randn({512, 1}, gen, torch::kFloat32) * 2;
    auto y = x + 0.05 * torch::randn({512, 1}, gen, torch::kFloat32);
    auto eval_gen = at::make_generator<at::CPUGeneratorImpl>(9);
    const double before = trainer.evaluate(y, x, eval_gen);
    for (int i = 0; i < 600; ++i) trainer.step(y, x);
    eval_gen = at::make_generator<at::CPUGeneratorImpl>(9);
    const double after = trainer.evaluate(y, x, eval_gen);
    QVERIFY2(after < 0.6 * before, qPrintable(QString("loss %1 -> %2").arg(before).arg(after)));
    QCOMPARE(trainer.steps_done(), int64_t(600));
  }

  void nonFiniteLossStopsWithoutTouchingTheParameters() {
    NetworkSpec m;
    m.hidden = 16;
    m.blocks = 1;
    m.embed_dim = 8;
    m.cond_dim = 2;
    ScoreTrainer trainer(m, make_schedule(ScheduleSpec{}), TrainerSpec{});
    trainer.step(torch::randn({8, 2}), torch::randn({8, 2}));
    std::vector<torch::Tensor> before;
    for (const auto& p : trainer.network()->parameters()) before.push_back(p.detach().clone());
    auto bad = torch::randn({8, 2});
    bad[3][1] = std::numeric_limits<float>::quiet_NaN();
    bool threw = false;
    try {
      trainer.step(bad, torch::randn({8, 2}));
    } catch (const DivergedError& e) {
      threw = e.step() == 2 && std::string(e.what()).find("nan") != std::string::npos;
    }
    QVERIFY(threw);
    auto after = trainer.network()->parameters();
    for (size_t i = 0; i < before.size(); ++i) QVERIFY(torch::equal(before[i], after[i]));
    QCOMPARE(trainer.steps_done(), int64_t(1));
  }

  void pairSamplerDrawsProportionallyToH() {
    // Row 0: entries 1, 3 (p = 1/4, 3/4); row 1: empty, redirected to row 2 (the released next-source rule);
    // row 2: one entry; row 3: empty and skipped.
    auto dense = torch::tensor({{1.0f, 0.0f, 3.0f}, {0.0f, 0.0f, 0.0f}, {0.0f, 2.0f, 0.0f}, {0.0f, 0.0f, 0.0f}});
    auto H = ot::SparseMatrix::from_dense(dense);
    auto redirect = torch::tensor({int64_t(0), int64_t(2), int64_t(2), int64_t(-1)});
    data::PairSampler sampler(data::PairMode::Otcs, 4, 3, 11, &H, redirect);
    QCOMPARE(sampler.usable_sources(), int64_t(3));
    std::map<std::pair<int64_t, int64_t>, int64_t> counts;
    const int64_t draws = 30000;
    auto [si, ti] = sampler.next(draws);
    for (int64_t k = 0; k < draws; ++k) counts[{si[k].item<int64_t>(), ti[k].item<int64_t>()}]++;
    // Sources are uniform over the usable ones: row 2 appears for itself and for row 1.
    QCOMPARE(counts.count({3, 0}) + counts.count({1, 0}) + counts.count({1, 1}), size_t(0));
    const double n0 = double(counts[{0, 0}] + counts[{0, 2}]);
    QVERIFY(std::abs(n0 / draws - 1.0 / 3) < 0.02);
    QVERIFY(std::abs(double(counts[{0, 2}]) / n0 - 0.75) < 0.02);
    QVERIFY(std::abs(double(counts[{2, 1}]) / draws - 2.0 / 3) < 0.02);

    data::PairSampler paired(data::PairMode::Paired, 5, 5, 1);
    auto [ps, pt] = paired.next(12);
    QVERIFY(torch::equal(ps, pt));
    data::PairSampler independent(data::PairMode::Independent, 5, 7, 1);
    auto [is, it] = independent.next(2000);
    QVERIFY(it.max().item<int64_t>() == 6 && it.min().item<int64_t>() == 0);
  }

  void pairSamplerStateRoundTrips() {
    auto H = ot::SparseMatrix::from_dense(torch::rand({20, 15}) + 0.2);
    data::PairSampler a(data::PairMode::Otcs, 20, 15, 5, &H);
    a.next(33);
    torch::serialize::OutputArchive out;
    a.save(out);
    std::ostringstream bytes;
    out.save_to(bytes);
    auto expect = a.next(50);
    data::PairSampler b(data::PairMode::Otcs, 20, 15, 999, &H);
    torch::serialize::InputArchive in;
    std::istringstream back(bytes.str());
    in.load_from(back);
    b.load(in);
    auto got = b.next(50);
    QVERIFY(torch::equal(expect.first, got.first) && torch::equal(expect.second, got.second));
  }

  void exactW2MatchesClosedForms() {
    // 1-D: W2 between two uniform samples of the same size is the sorted matching.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
    auto a = torch::randn({200, 1}, gen, torch::kFloat64);
    auto b = torch::randn({200, 1}, gen, torch::kFloat64) * 1.5 + 0.3;
    auto sorted = (std::get<0>(a.squeeze(1).sort()) - std::get<0>(b.squeeze(1).sort())).pow(2).mean().sqrt();
    QVERIFY(std::abs(wasserstein2(a, b) - sorted.item<double>()) < 1e-9);
    // 1-D with weights: the quantile coupling. 3 atoms vs 2 atoms.
    auto x = torch::tensor({{0.0}, {1.0}, {2.0}}, torch::kFloat64);
    auto y = torch::tensor({{0.5}, {3.0}}, torch::kFloat64);
    auto wx = torch::tensor({0.2, 0.5, 0.3}, torch::kFloat64);
    auto wy = torch::tensor({0.6, 0.4}, torch::kFloat64);
    // Quantile coupling: 0->0.5 (0.2), 1->0.5 (0.4), 1->3 (0.1), 2->3 (0.3).
    const double cost = 0.2 * 0.25 + 0.4 * 0.25 + 0.1 * 4 + 0.3 * 1;
    QVERIFY(std::abs(wasserstein2(x, y, wx, wy) - std::sqrt(cost)) < 1e-12);
    // 2-D: a translated copy is at distance |shift|, and the optimum is a permutation when sizes agree.
    auto p = torch::randn({60, 2}, gen, torch::kFloat64);
    auto shift = torch::tensor({0.7, -0.2}, torch::kFloat64);
    QVERIFY(std::abs(wasserstein2(p, p + shift) - shift.norm().item<double>()) < 1e-9);
    // Brute force over all permutations for a tiny problem.
    auto q = torch::randn({6, 2}, gen, torch::kFloat64), r = torch::randn({6, 2}, gen, torch::kFloat64);
    std::vector<int> perm(6);
    std::iota(perm.begin(), perm.end(), 0);
    double best = 1e300;
    do {
      double c = 0;
      for (int i = 0; i < 6; ++i) c += (q[i] - r[perm[size_t(i)]]).pow(2).sum().item<double>();
      best = std::min(best, c / 6);
    } while (std::next_permutation(perm.begin(), perm.end()));
    QVERIFY(std::abs(wasserstein2(q, r) - std::sqrt(best)) < 1e-9);
  }

  void mixtureGenerationIsDeterministic() {
    std::vector<data::MixtureComponent> comps = {{{0, 0}, {0.1}, 1.0}, {{3, 1}, {0.2, 0.3}, 3.0}};
    auto a = data::generate_mixture(comps, 101, 7), b = data::generate_mixture(comps, 101, 7);
    QVERIFY(torch::equal(a.points, b.points));
    QCOMPARE((a.labels == 0).sum().item<int64_t>(), int64_t(25));  // floor(101 / 4); the rest to the last one
    auto second = a.points.slice(0, 25);
    QVERIFY((second.mean(0) - torch::tensor({3.0f, 1.0f})).abs().max().item<double>() < 0.1);
  }
};

QTEST_GUILESS_MAIN(TestDiffusionTraining)
#include "test_diffusion_training.moc"
