// bf16 mixed precision: the CPU feature report and its override, the autocast scope, a bf16 training of a small
// UNet with GroupNorm and attention (no dtype error, loss close to fp32's), bf16 sampling, and how a stage's
// precision enters its configuration hash (an fp32 stage hashes exactly as before the key existed).
#include <QtTest/QtTest>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/cpu_features.h"
#include "core/common/error.h"
#include "core/common/mixed_precision.h"
#include "core/common/precision.h"
#include "core/diffusion/networks.h"
#include "core/diffusion/sampler.h"
#include "core/diffusion/schedule.h"
#include "core/diffusion/trainer.h"
#include "core/session/project.h"
#include "core/session/stages.h"

using namespace otcs;
using namespace otcs::diffusion;

namespace {

// An 8x8 conditional UNet with GroupNorm in every block and attention at 4x4.
NetworkSpec small_unet() {
  NetworkSpec u;
  u.kind = NetworkKind::UNet;
  u.in_channels = 1;
  u.cond_channels = 1;
  u.resolution = 8;
  u.channels = 8;
  u.channel_mult = {1, 2};
  u.attention_resolutions = {4};
  u.groups = 4;
  return u;
}

// Losses of `steps` seeded training steps on a fixed smooth data set, in the given precision.
std::vector<double> train_losses(Precision precision, int steps) {
  auto schedule = make_schedule(ScheduleSpec{});
  TrainerSpec ts;
  ts.grad_clip = 1.0;
  ts.lr = 1e-3;
  ts.seed = 5;
  ts.precision = precision;
  ScoreTrainer trainer(small_unet(), schedule, ts);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  namespace F = torch::nn::functional;
  auto pool = F::interpolate(
      torch::rand({64, 1, 2, 2}, gen, torch::kFloat32) * 2 - 1,
      F::InterpolateFuncOptions().size(std::vector<int64_t>{8, 8}).mode(torch::kBilinear).align_corners(false));
  std::vector<double> losses;
  for (int i = 0; i < steps; ++i) {
    auto idx = torch::randint(64, {16}, gen, torch::kInt64);
    auto y0 = pool.index_select(0, idx);
    losses.push_back(trainer.step(y0, y0.flip({3})));
  }
  return losses;
}

double mean_tail(const std::vector<double>& v, size_t n) {
  double s = 0;
  for (size_t i = v.size() - n; i < v.size(); ++i) s += v[i];
  return s / double(n);
}

// A small point-cloud project (the exact OT solver, a few score steps); `patch` is merged into its stages.
std::string points_project(const std::string& patch) {
  auto stages = nlohmann::json::parse(R"({"score": {"steps": 3, "batch": 8, "checkpoint_every": 3, "log_every": 1},
      "sample": {"sources": 2, "per_source": 2, "sampler": {"kind": "ddim", "steps": 2}},
      "eval": {"sources": 2, "per_source": 2}})");
  stages.merge_patch(nlohmann::json::parse(patch));
  return std::string(R"({"schema_version": 1, "data": {"source": {"mixture": [{"mean": [0, 0]}], "n": 8},
      "target": {"mixture": [{"mean": [1.0, 0]}], "n": 8}}, "stages": )") +
         stages.dump() + "}";
}

std::map<session::Stage, std::string> hashes_of(const std::string& patch) {
  return session::stage_hashes(session::parse_project(points_project(patch), "p.json", "/base"));
}

struct EnvOverride {
  explicit EnvOverride(const char* value) { setenv("OTCS_CPU_BF16", value, 1); }
  ~EnvOverride() { unsetenv("OTCS_CPU_BF16"); }
};

}  // namespace

class TestMixedPrecision : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void precisionNames() {
    QVERIFY(parse_precision("fp32") == Precision::Fp32);
    QVERIFY(parse_precision("bf16") == Precision::Bf16);
    QCOMPARE(precision_name(Precision::Bf16), std::string("bf16"));
    QVERIFY_THROWS_EXCEPTION(UserError, parse_precision("fp16"));
  }

  void cpuFeatureOverride() {
    {
      EnvOverride env("none");
      QVERIFY(!cpu_bf16_support().any());
      QCOMPARE(bf16_support_name(cpu_bf16_support()), std::string("none"));
      QVERIFY(!bf16_available(torch::kCPU));
      QVERIFY_THROWS_EXCEPTION(UserError, require_precision(Precision::Bf16, torch::kCPU, "--precision bf16"));
      require_precision(Precision::Fp32, torch::kCPU, "--precision fp32");  // fp32 is always there
      QVERIFY(parse_precision("auto") == Precision::Fp32);                  // auto never asks for what the CPU lacks
    }
    {
      EnvOverride env("avx512_bf16,amx_bf16");
      QCOMPARE(bf16_support_name(cpu_bf16_support()), std::string("amx_bf16, avx512_bf16"));
      QVERIFY(bf16_available(torch::kCPU));
      QVERIFY(parse_precision("auto") == Precision::Bf16);
    }
    {
      EnvOverride env("avx512_bf16");
      QVERIFY(parse_precision("auto") == Precision::Bf16);
    }
    {
      EnvOverride env("avx512");
      QVERIFY_THROWS_EXCEPTION(UserError, cpu_bf16_support());
    }
    // Without the override: what cpuid says (AMX implies nothing about AVX512-BF16 and vice versa).
    const auto real = detect_cpu_bf16();
    QCOMPARE(bf16_support_name(cpu_bf16_support()), bf16_support_name(real));
  }

  void autocastScopeRestoresState() {
    QVERIFY(!autocast_active());
    {
      AutocastScope fp32(Precision::Fp32, torch::kCPU);
      QVERIFY(!autocast_active());
    }
    {
      AutocastScope scope(Precision::Bf16, torch::kCPU);
      QVERIFY(autocast_active());
      auto a = torch::randn({4, 4});
      QVERIFY(torch::mm(a, a).scalar_type() == torch::kBFloat16);
      {
        AutocastPause pause;
        QVERIFY(!autocast_active());
        QVERIFY(torch::mm(a, a).scalar_type() == torch::kFloat32);
      }
      QVERIFY(autocast_active());
    }
    QVERIFY(!autocast_active());
    QVERIFY(widen(torch::zeros({2}, torch::kBFloat16)).scalar_type() == torch::kFloat32);
    QVERIFY(widen(torch::zeros({2}, torch::kFloat64)).scalar_type() == torch::kFloat64);
  }

  // GroupNorm under CPU autocast fails in LibTorch 1.13 ("expected scalar type BFloat16 but found Float") unless
  // it computes in float32; the weights, their gradients and Adam's state stay float32.
  void bf16TrainingOfASmallUNetIsCloseToFp32() {
    const int steps = 40;
    const auto fp32 = train_losses(Precision::Fp32, steps);
    const auto bf16 = train_losses(Precision::Bf16, steps);
    for (double l : bf16) QVERIFY(std::isfinite(l));
    // The same draws: the first loss differs only by bf16 rounding of the forward pass.
    QVERIFY2(std::abs(bf16.front() - fp32.front()) < 0.02 * fp32.front(),
             qPrintable(QString("first loss fp32 %1, bf16 %2").arg(fp32.front()).arg(bf16.front())));
    const double a = mean_tail(fp32, 10), b = mean_tail(bf16, 10);
    QVERIFY2(std::abs(b - a) < 0.05 * a, qPrintable(QString("last-10 mean fp32 %1, bf16 %2").arg(a).arg(b)));
    QVERIFY(mean_tail(bf16, 10) < bf16.front());  // it learns
  }

  void bf16SamplingIsFloat32AndCloseToFp32() {
    torch::manual_seed(1);
    auto net = make_network(small_unet());
    net->eval();
    auto schedule = make_schedule(ScheduleSpec{});
    SamplerSpec sp;
    sp.kind = SamplerKind::Ddim;
    sp.steps = 5;
    auto cond = torch::rand({4, 1, 8, 8}) * 2 - 1;
    auto x_init = torch::randn({4, 1, 8, 8});
    auto run = [&](Precision p) {
      NetworkDenoiser denoiser(net, Prediction::Eps, 0, 1.0, p);
      auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
      SampleOptions so;
      so.cond = cond;
      so.x_init = x_init;
      return sample(denoiser, *schedule, sp, {4, 1, 8, 8}, gen, so);
    };
    auto a = run(Precision::Fp32), b = run(Precision::Bf16);
    QVERIFY(b.scalar_type() == torch::kFloat32);
    QVERIFY(torch::isfinite(b).all().item<bool>());
    const double diff = (a - b).abs().mean().item<double>(), scale = a.abs().mean().item<double>();
    QVERIFY2(diff < 0.05 * scale, qPrintable(QString("mean |fp32 - bf16| %1, mean |fp32| %2").arg(diff).arg(scale)));
    QVERIFY(!autocast_active());
  }

  // An fp32 stage hashes as before the key existed (so earlier runs are reused); bf16 enters the hash of its
  // stage and of every stage after it, set in the project or on the command line alike.
  void precisionEntersTheHashOnlyWhenNotFp32() {
    const auto plain = hashes_of("{}");
    // The hashes that `otcs run` wrote into done.json for this project before the precision key existed.
    QCOMPARE(plain.at(session::Stage::Ot), std::string("f124794457f0554e"));
    QCOMPARE(plain.at(session::Stage::Bridge), std::string("59581fd0e71c2d7d"));
    QCOMPARE(plain.at(session::Stage::Score), std::string("56de1b4da4238a4e"));
    QCOMPARE(plain.at(session::Stage::Sample), std::string("01c518b89e649119"));
    // The eval's own code version went from 2 to 3 when it began to write the confusion matrix (ea2b15d2adc1834d
    // before): only its hash moved.
    QCOMPARE(plain.at(session::Stage::Eval), std::string("11b188f176707a24"));
    const auto explicit_fp32 =
        hashes_of(R"({"ot": {"precision": "fp32"}, "score": {"precision": "fp32"}, "sample": {"precision": "fp32"}})");
    QVERIFY(explicit_fp32 == plain);

    const auto score_bf16 = hashes_of(R"({"score": {"precision": "bf16"}})");
    QCOMPARE(score_bf16.at(session::Stage::Ot), plain.at(session::Stage::Ot));
    QCOMPARE(score_bf16.at(session::Stage::Bridge), plain.at(session::Stage::Bridge));
    QVERIFY(score_bf16.at(session::Stage::Score) != plain.at(session::Stage::Score));
    QVERIFY(score_bf16.at(session::Stage::Sample) != plain.at(session::Stage::Sample));
    // The exact solver (this project's) ignores the OT precision, so its hash does too; a stochastic solver's
    // networks compute in it, so there it counts.
    const auto ot_bf16 = hashes_of(R"({"ot": {"precision": "bf16"}})");
    QVERIFY(ot_bf16 == plain);
    QVERIFY(hashes_of(R"({"ot": {"solver": "tabular", "precision": "bf16"}})").at(session::Stage::Ot) !=
            hashes_of(R"({"ot": {"solver": "tabular"}})").at(session::Stage::Ot));

    // The command line's override: bf16 hashes as the project's bf16, fp32 changes nothing.
    auto p = session::parse_project(points_project("{}"), "p.json", "/base");
    session::set_precision(p, Precision::Fp32);
    QVERIFY(session::stage_hashes(p) == plain);
    session::set_precision(p, Precision::Bf16);
    QVERIFY(p.score.trainer.precision == Precision::Bf16);
    QVERIFY(p.sample.sampler.precision == Precision::Bf16);
    QVERIFY(session::stage_hashes(p) == hashes_of(R"({"ot": {"precision": "bf16"}, "score": {"precision": "bf16"},
                           "sample": {"precision": "bf16"}})"));
    QCOMPARE(session::stage_hashes(p).at(session::Stage::Ot), plain.at(session::Stage::Ot));
    session::set_precision(p, Precision::Fp32);
    QVERIFY(session::stage_hashes(p) == plain);
  }

  void unknownPrecisionNamesTheJsonPath() {
    try {
      session::parse_project(points_project(R"({"score": {"precision": "fp16"}})"), "p.json", "/base");
      QFAIL("fp16 was accepted");
    } catch (const UserError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("/stages/score/precision") != std::string::npos, e.what());
      QVERIFY2(what.find("fp32, bf16 or auto") != std::string::npos, e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestMixedPrecision)
#include "test_mixed_precision.moc"
