// Schedules and samplers against closed forms: with the exact score of a Gaussian target every sampler must
// reproduce the target's mean and covariance within 2 %.
#include <QtTest/QtTest>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/diffusion/sampler.h"
#include "core/diffusion/schedule.h"

using namespace otcs::diffusion;

namespace {

// eps of x_t for data N(mu, Sigma): x_t ~ N(a mu, a^2 Sigma + s^2 I), score = -(.)^-1 (x - a mu), eps = -s score.
class GaussianDenoiser : public Denoiser {
 public:
  GaussianDenoiser(torch::Tensor mu, torch::Tensor cov) : mu_(mu.to(torch::kFloat64)), cov_(cov.to(torch::kFloat64)) {}
  torch::Tensor eps(const torch::Tensor& x, const NoiseLevel& l, const torch::Tensor&) override {
    ++calls;
    auto m = l.alpha * l.alpha * cov_ + l.sigma * l.sigma * torch::eye(cov_.size(0), torch::kFloat64);
    auto centred = x.to(torch::kFloat64) - l.alpha * mu_;
    return (l.sigma * centred.matmul(torch::inverse(m))).to(torch::kFloat32);
  }
  // Exact marginal draws at time t (so tests can start without a prior mismatch).
  torch::Tensor marginal(const Schedule& s, double t, int64_t n, at::Generator& gen) const {
    auto l = noise_level(s, t);
    auto m = l.alpha * l.alpha * cov_ + l.sigma * l.sigma * torch::eye(cov_.size(0), torch::kFloat64);
    auto L = torch::linalg_cholesky(m);
    return (l.alpha * mu_ + torch::randn({n, cov_.size(0)}, gen, torch::kFloat64).matmul(L.t())).to(torch::kFloat32);
  }
  int64_t calls = 0;

 private:
  torch::Tensor mu_, cov_;
};

const torch::Tensor& target_mean() {
  static auto m = torch::tensor({1.0, -2.0}, torch::kFloat64);
  return m;
}
const torch::Tensor& target_cov() {
  static auto c = torch::tensor({{1.0, 0.6}, {0.6, 0.8}}, torch::kFloat64);
  return c;
}

struct Moments {
  double mean_error, cov_error;
};
Moments relative_errors(const torch::Tensor& x) {
  auto xd = x.to(torch::kFloat64);
  auto mean = xd.mean(0);
  auto c = xd - mean;
  auto cov = c.t().matmul(c) / double(x.size(0) - 1);
  return {(mean - target_mean()).norm().item<double>() / target_mean().norm().item<double>(),
          (cov - target_cov()).norm().item<double>() / target_cov().norm().item<double>()};
}

// The largest relative error of a coordinate's standard deviation.
double std_errors(const torch::Tensor& x) {
  auto sd = x.to(torch::kFloat64).std(0);
  return ((sd - target_cov().diagonal().sqrt()).abs() / target_cov().diagonal().sqrt()).max().item<double>();
}

// 40k samples: the sampling error of the covariance is about 0.6 % (Frobenius, relative), a third of the
// tolerance, and the seeds are fixed.
const int64_t kSamples = 40000;

}  // namespace

class TestDiffusionSamplers : public QObject {
  Q_OBJECT

  void check(const char* what, const Schedule& schedule, SamplerSpec spec, bool exact_start) {
    GaussianDenoiser den(target_mean(), target_cov());
    auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
    SampleOptions opt;
    if (exact_start) opt.x_init = den.marginal(schedule, 1.0, kSamples, gen);
    auto x = sample(den, schedule, spec, {kSamples, 2}, gen, opt);
    auto e = relative_errors(x);
    QVERIFY2(e.mean_error < 0.02, qPrintable(QString("%1: mean off by %2").arg(what).arg(e.mean_error)));
    QVERIFY2(e.cov_error < 0.02, qPrintable(QString("%1: covariance off by %2").arg(what).arg(e.cov_error)));
  }

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void ddpmScheduleMatchesReleasedDefinition() {
    auto s = DdpmSchedule::linear(1000, 1e-4, 0.02);
    auto betas = torch::linspace(1e-4, 0.02, 1000, torch::kFloat64);
    auto ab = torch::cumprod(1 - betas, 0);
    for (int64_t i : {0, 1, 199, 500, 999}) {
      auto t = torch::full({1}, s->time_of_index(double(i)), torch::kFloat64);
      QVERIFY(std::abs(s->alpha(t).item<double>() - std::sqrt(ab[i].item<double>())) < 1e-12);
      QVERIFY(std::abs(s->sigma(t).item<double>() - std::sqrt(1 - ab[i].item<double>())) < 1e-12);
      QVERIFY(std::abs(s->network_time(t).item<double>() - double(i)) < 1e-9);
    }
    // alphabar_T of the released schedule is about 4e-5: sampling starts from (almost) pure noise.
    QVERIFY(std::abs(ab[999].item<double>() - 4.035e-5) < 1e-7);
    // Antithetic integer times: the second half mirrors the first (T - 1 - i).
    auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
    auto t = s->sample_times(10, true, gen);
    auto idx = torch::round(t * 1000 - 1);
    for (int64_t k = 0; k < 4; ++k) QCOMPARE(idx[k].item<double>() + idx[k + 6].item<double>(), 999.0);
    QVERIFY((idx >= 0).all().item<bool>() && (idx <= 999).all().item<bool>());
    // The released grid: every index for T steps, range(0, T, T / steps) otherwise.
    QCOMPARE(int(s->time_grid(1000).size()), 1000);
    auto g = s->time_grid(50);
    QCOMPARE(int(g.size()), 50);
    QVERIFY(std::abs(g.front() * 1000 - 981) < 1e-9 && std::abs(g.back() * 1000 - 1) < 1e-9);
  }

  void continuousSchedulesAreConsistent() {
    // sigma^2' = 2 f sigma^2 + g^2 for the VP SDE, and the VE marginal std of the demos.
    ScheduleSpec vp;
    vp.kind = ScheduleKind::VpSde;
    auto s = make_schedule(vp);
    for (double t : {0.1, 0.5, 0.9}) {
      const double h = 1e-6;
      auto var = [&](double x) { return std::pow(s->sigma(torch::full({1}, x, torch::kFloat64)).item<double>(), 2); };
      auto tt = torch::full({1}, t, torch::kFloat64);
      const double f = s->drift_coefficient(tt).item<double>(), g = s->diffusion(tt).item<double>();
      const double lhs = (var(t + h) - var(t - h)) / (2 * h);
      QVERIFY(std::abs(lhs - (2 * f * var(t) + g * g)) < 1e-5);
    }
    ScheduleSpec ve;
    ve.kind = ScheduleKind::VeSde;
    auto v = make_schedule(ve);
    QVERIFY(std::abs(v->prior_std() - std::sqrt((625.0 - 1) / (2 * std::log(25.0)))) < 1e-9);
  }

  void ancestralDdpm() {
    SamplerSpec spec;  // ancestral, T steps, variance beta_t
    check("ancestral ddpm", *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, false);
  }
  void ancestralSmallVarianceAndVp() {
    SamplerSpec spec;
    spec.large_variance = false;
    check("ancestral ddpm small variance", *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, false);
    ScheduleSpec vp;
    vp.kind = ScheduleKind::VpSde;
    spec.large_variance = true;
    spec.steps = 1000;
    check("ancestral vp", *make_schedule(vp), spec, false);
  }
  void ddimDeterministicAndStochastic() {
    // A DDIM step with the exact denoiser shrinks a Gaussian's variance by a factor that tends to 1 as O(step^2)
    // (Cauchy-Schwarz), so the 2 % bound needs a fine grid; a coarse one stays close.
    SamplerSpec spec;
    spec.kind = SamplerKind::Ddim;
    spec.steps = 500;
    check("ddim eta 0, 500 steps", *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, false);
    spec.eta = 1.0;
    check("ddim eta 1, 500 steps", *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, false);
    GaussianDenoiser den(target_mean(), target_cov());
    auto gen = at::make_generator<at::CPUGeneratorImpl>(77);
    spec.eta = 0;
    spec.steps = 50;
    auto e = relative_errors(sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, {kSamples, 2}, gen));
    QVERIFY2(e.mean_error < 0.02 && e.cov_error < 0.1, "ddim eta 0, 50 steps");
    QCOMPARE(den.calls, int64_t(50));
  }
  void eulerMaruyama() {
    SamplerSpec spec;
    spec.kind = SamplerKind::EulerMaruyama;
    spec.steps = 1000;
    spec.t_end = 1e-3;
    ScheduleSpec ve;  // the demos: sigma 25, 1000 steps from 1 to 1e-3
    ve.kind = ScheduleKind::VeSde;
    check("em ve", *make_schedule(ve), spec, true);
    ScheduleSpec vp;
    vp.kind = ScheduleKind::VpSde;
    check("em vp", *make_schedule(vp), spec, false);
  }
  void heunProbabilityFlow() {
    SamplerSpec spec;
    spec.kind = SamplerKind::Heun;
    spec.steps = 100;
    spec.t_end = 1e-3;
    ScheduleSpec ve;
    ve.kind = ScheduleKind::VeSde;
    check("heun ve", *make_schedule(ve), spec, true);
    ScheduleSpec vp;
    vp.kind = ScheduleKind::VpSde;
    check("heun vp", *make_schedule(vp), spec, false);
    spec.t_end = 0;
    check("heun ddpm", *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, false);
  }
  void dpmSolverPlusPlusInFewSteps() {
    // DPM-Solver++(2M) with the exact denoiser lands on the target in 10 and 20 steps (as many network
    // evaluations), on the discrete, the continuous VP and the VE schedule. Its error is second order in the
    // log-SNR step (about 3 % of the std at 10 steps: the grid spans lambda from -5 to 4.6), where DDIM with the
    // same 10 evaluations shrinks the variance by a third.
    auto ddpm = DdpmSchedule::linear(1000, 1e-4, 0.02);
    ScheduleSpec vp, ve;
    vp.kind = ScheduleKind::VpSde;
    ve.kind = ScheduleKind::VeSde;
    struct Case {
      const char* what;
      std::shared_ptr<Schedule> schedule;
      int64_t steps;
      double std_tolerance;
      bool exact_start;
    };
    for (const auto& c :
         {Case{"ddpm", ddpm, 10, 0.04, false}, Case{"ddpm", ddpm, 20, 0.02, false},
          Case{"vp", make_schedule(vp), 10, 0.04, false}, Case{"ve", make_schedule(ve), 20, 0.02, true}}) {
      SamplerSpec spec;
      spec.kind = SamplerKind::DpmSolverPP;
      spec.steps = c.steps;
      spec.t_end = 1e-3;
      GaussianDenoiser den(target_mean(), target_cov());
      auto gen = at::make_generator<at::CPUGeneratorImpl>(21);
      SampleOptions opt;
      if (c.exact_start) opt.x_init = den.marginal(*c.schedule, 1.0, kSamples, gen);
      auto x = sample(den, *c.schedule, spec, {kSamples, 2}, gen, opt);
      QCOMPARE(den.calls, c.steps);
      const auto e = relative_errors(x);
      const double std_error = std_errors(x);
      const QString what = QString("dpm-solver++ %1, %2 steps: mean %3, std %4")
                               .arg(c.what)
                               .arg(c.steps)
                               .arg(e.mean_error)
                               .arg(std_error);
      QVERIFY2(e.mean_error < 0.02 && std_error < c.std_tolerance, qPrintable(what));
    }
    GaussianDenoiser den(target_mean(), target_cov());
    SamplerSpec dpm, ddim;
    dpm.kind = SamplerKind::DpmSolverPP;
    ddim.kind = SamplerKind::Ddim;
    dpm.steps = ddim.steps = 10;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(21);
    const auto ours = relative_errors(sample(den, *ddpm, dpm, {kSamples, 2}, gen));
    gen = at::make_generator<at::CPUGeneratorImpl>(21);
    const auto base = relative_errors(sample(den, *ddpm, ddim, {kSamples, 2}, gen));
    QCOMPARE(den.calls, int64_t(20));
    QVERIFY2(ours.cov_error < base.cov_error / 3 && ours.mean_error < base.mean_error,
             qPrintable(QString("10 evaluations: dpm-solver++ mean %1 cov %2, ddim mean %3 cov %4")
                            .arg(ours.mean_error)
                            .arg(ours.cov_error)
                            .arg(base.mean_error)
                            .arg(base.cov_error)));
  }
  void sdeDpmSolverReachesTheTargetInFewSteps() {
    // SDE-DPM-Solver++(2M) with the exact denoiser of a Gaussian target: one evaluation per step, the target's
    // mean and covariance within 10 % at 20 steps and 2 % at 50, and fresh noise on every step (two generators
    // give two different samples from one start, where the ODE solver would give one).
    auto ddpm = DdpmSchedule::linear(1000, 1e-4, 0.02);
    ScheduleSpec vp;
    vp.kind = ScheduleKind::VpSde;
    for (const auto& schedule : {std::shared_ptr<Schedule>(ddpm), make_schedule(vp)}) {
      SamplerSpec spec;
      spec.kind = SamplerKind::DpmSolverPPSde;
      spec.steps = 20;
      spec.t_end = 1e-3;
      GaussianDenoiser den(target_mean(), target_cov());
      auto gen = at::make_generator<at::CPUGeneratorImpl>(23);
      auto x = sample(den, *schedule, spec, {kSamples, 2}, gen);
      QCOMPARE(den.calls, int64_t(20));
      const auto e = relative_errors(x);
      QVERIFY2(e.mean_error < 0.02 && e.cov_error < 0.1,
               qPrintable(QString("sde 20 steps: mean %1 cov %2").arg(e.mean_error).arg(e.cov_error)));
      spec.steps = 50;
      gen = at::make_generator<at::CPUGeneratorImpl>(23);
      const auto e50 = relative_errors(sample(den, *schedule, spec, {kSamples, 2}, gen));
      QVERIFY2(e50.mean_error < 0.01 && e50.cov_error < 0.02,
               qPrintable(QString("sde 50 steps: mean %1 cov %2").arg(e50.mean_error).arg(e50.cov_error)));
    }
    GaussianDenoiser den(target_mean(), target_cov());
    SamplerSpec sde;
    sde.kind = SamplerKind::DpmSolverPPSde;
    sde.steps = 20;
    auto start = torch::randn({kSamples, 2}, torch::kFloat32);
    SampleOptions opt;
    opt.x_init = start;
    auto g1 = at::make_generator<at::CPUGeneratorImpl>(1), g2 = at::make_generator<at::CPUGeneratorImpl>(2);
    auto a = sample(den, *ddpm, sde, {kSamples, 2}, g1, opt), b = sample(den, *ddpm, sde, {kSamples, 2}, g2, opt);
    QVERIFY((a - b).abs().mean().item<double>() > 0.1);
    QCOMPARE(parse_sampler_kind("dpm-solver++-sde"), SamplerKind::DpmSolverPPSde);
    QCOMPARE(sampler_kind_name(SamplerKind::DpmSolverPPSde), std::string("dpm-solver++-sde"));
  }
  void sdeditStartKeepsTheTarget() {
    // Starting from noised target samples, the reverse process must land on the target again, both from the
    // generic start and from the released refined schedule (t0 = 0.2, 1000 refined steps, network time k/5).
    GaussianDenoiser den(target_mean(), target_cov());
    auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
    auto y = den.marginal(*DdpmSchedule::linear(1000, 1e-4, 0.02), 0.0, kSamples, gen);
    for (bool refined : {false, true}) {
      SamplerSpec spec;
      spec.sdedit_t0 = 0.2;
      spec.sdedit_refined = refined;
      SampleOptions opt;
      opt.sdedit_source = y;
      auto x = sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, {kSamples, 2}, gen, opt);
      auto e = relative_errors(x);
      QVERIFY2(e.mean_error < 0.02 && e.cov_error < 0.02, refined ? "refined sdedit" : "sdedit");
      // SDEdit keeps the source's information: samples stay correlated with their own source.
      auto corr = ((x.to(torch::kFloat64) - x.to(torch::kFloat64).mean(0)) *
                   (y.to(torch::kFloat64) - y.to(torch::kFloat64).mean(0)))
                      .sum(0) /
                  (x.to(torch::kFloat64).std(0) * y.to(torch::kFloat64).std(0) * double(kSamples - 1));
      QVERIFY(corr.min().item<double>() > 0.5);
    }
    SamplerSpec dpm;
    dpm.kind = SamplerKind::DpmSolverPP;
    dpm.steps = 10;
    dpm.sdedit_t0 = 0.2;
    SampleOptions opt;
    opt.sdedit_source = y;
    auto x = sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), dpm, {kSamples, 2}, gen, opt);
    auto e = relative_errors(x);
    QVERIFY2(e.mean_error < 0.02 && e.cov_error < 0.02, "dpm-solver++ sdedit");
    QVERIFY(((x - y).pow(2).sum(1).mean() / y.var(0).sum()).item<double>() < 0.5);  // still near its own source
    auto refined = DdpmSchedule::linear(1000, 1e-4, 0.02)->refined(200, 1000);
    QCOMPARE(refined->discrete_steps(), int64_t(1000));
    auto t = torch::full({1}, refined->time_of_index(500), torch::kFloat64);
    QVERIFY(std::abs(refined->network_time(t).item<double>() - 100.0) < 1e-9);  // k / 5
  }
  void consistencyProjectsOntoTheLowResolutionInput() {
    // The projection: block means become the input's, it changes each block by a constant, and it is idempotent.
    torch::manual_seed(3);
    auto x0 = torch::randn({2, 3, 8, 8});
    auto low = torch::randn({2, 3, 2, 2});
    auto p = project_block_means(x0, low, 4);
    namespace F = torch::nn::functional;
    auto pool = [](const torch::Tensor& x, int64_t f) {
      return F::avg_pool2d(x, F::AvgPool2dFuncOptions(f).stride(f));
    };
    QVERIFY((pool(p, 4) - low).abs().max().item<double>() < 1e-5);
    auto change = p - x0;
    QVERIFY((change - pool(change, 4).repeat_interleave(4, 2).repeat_interleave(4, 3)).abs().max().item<double>() <
            1e-5);
    QVERIFY((project_block_means(p, low, 4) - p).abs().max().item<double>() < 1e-5);
    QVERIFY_THROWS_EXCEPTION(std::exception, project_block_means(x0, torch::randn({2, 3, 4, 4}), 4));

    // In the samplers: every sample's 2x2 block means equal the input's, while the detail inside each block is
    // still drawn (data N(0, I) per pixel: given the block mean the within-block spread stays near 3/4).
    struct WhiteDenoiser : Denoiser {
      torch::Tensor eps(const torch::Tensor& x, const NoiseLevel& l, const torch::Tensor&) override {
        return x * (l.sigma / (l.alpha * l.alpha + l.sigma * l.sigma));
      }
    } den;
    auto y = 0.5 * torch::randn({512, 1, 2, 2});
    for (auto kind :
         {SamplerKind::Ancestral, SamplerKind::Ddim, SamplerKind::DpmSolverPP, SamplerKind::DpmSolverPPSde}) {
      SamplerSpec spec;
      spec.kind = kind;
      spec.steps = 50;
      spec.eta = 1.0;
      spec.consistency = 2;
      SampleOptions opt;
      opt.low_res = y;
      auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
      auto x = sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, {512, 1, 4, 4}, gen, opt);
      QVERIFY2((pool(x, 2) - y).abs().max().item<double>() < 1e-4, sampler_kind_name(kind).c_str());
      auto detail = x - y.repeat_interleave(2, 2).repeat_interleave(2, 3);
      const double spread = detail.pow(2).mean().item<double>();
      QVERIFY2(spread > 0.3 && spread < 1.2, qPrintable(QString("within-block spread %1").arg(spread)));
      // Without the input the sampler refuses rather than ignoring the setting.
      auto gen2 = at::make_generator<at::CPUGeneratorImpl>(7);
      QVERIFY_THROWS_EXCEPTION(std::exception,
                               sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, {512, 1, 4, 4}, gen2, {}));
    }
    // Both at once, as the super-resolution projects sample: dpm-solver++ from the noised input at t0 = 0.2
    // (SDEdit) with the consistency step: the output keeps the input's block means exactly.
    {
      SamplerSpec spec;
      spec.kind = SamplerKind::DpmSolverPP;
      spec.steps = 10;
      spec.sdedit_t0 = 0.2;
      spec.consistency = 2;
      SampleOptions opt;
      opt.low_res = y;
      auto start = y.repeat_interleave(2, 2).repeat_interleave(2, 3) + 0.1 * torch::randn({512, 1, 4, 4});
      opt.sdedit_source = start;
      auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
      auto x = sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, {512, 1, 4, 4}, gen, opt);
      QVERIFY((pool(x, 2) - y).abs().max().item<double>() < 1e-4);
      opt.sdedit_source = torch::Tensor();  // the SDEdit start needs its source
      auto gen2 = at::make_generator<at::CPUGeneratorImpl>(9);
      QVERIFY_THROWS_EXCEPTION(std::exception,
                               sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, {512, 1, 4, 4}, gen2, opt));
    }
    SamplerSpec heun;
    heun.kind = SamplerKind::Heun;
    heun.consistency = 2;
    SampleOptions opt;
    opt.low_res = y;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    QVERIFY_THROWS_EXCEPTION(std::exception,
                             sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), heun, {512, 1, 4, 4}, gen, opt));
  }
  void trajectoryRecorderKeepsFirstAndLast() {
    GaussianDenoiser den(target_mean(), target_cov());
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    TrajectoryRecorder rec({10}, 0);
    int streamed = 0;
    rec.on_frame = [&](const TrajectoryFrame&) { ++streamed; };
    SamplerSpec spec;
    spec.kind = SamplerKind::Ddim;
    spec.steps = 50;
    SampleOptions opt;
    opt.recorder = &rec;
    auto x = sample(den, *DdpmSchedule::linear(1000, 1e-4, 0.02), spec, {64, 2}, gen, opt);
    QCOMPARE(int(rec.frames().size()), 3);  // step 0, step 10 and the final state
    QCOMPARE(streamed, 3);
    QCOMPARE(rec.frames().front().step, int64_t(0));
    QCOMPARE(rec.frames().back().step, int64_t(50));
    QVERIFY(torch::equal(rec.frames().back().x, x));
    // x0 predictions approach the data early: at step 10 they are already far closer to it than x_t.
    const auto& f = rec.frames()[1];
    QVERIFY((f.x0.mean(0).to(torch::kFloat64) - target_mean()).norm().item<double>() < 0.2);
  }
};

QTEST_GUILESS_MAIN(TestDiffusionSamplers)
#include "test_diffusion_samplers.moc"
