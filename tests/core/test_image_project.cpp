// Image projects: parsing (images datasets, keypoint rule, held-out sets), the label-propagation relations, the
// dense OT solver against the exact one, the class_medoid rule, core preprocessing, and translation shapes.
#include <QtTest/QtTest>

#include <filesystem>

#include <QTemporaryDir>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/data/pack.h"
#include "core/diffusion/networks.h"
#include "core/diffusion/schedule.h"
#include "core/ot/dense.h"
#include "core/ot/exact.h"
#include "core/ot/keypoints.h"
#include "core/session/image_data.h"
#include "core/session/project.h"
#include "core/session/project_points.h"
#include "core/session/score_model.h"
#include "core/session/translate.h"

using namespace otcs;

class TestImageProject : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void parsesAnImageProject() {
    const std::string text = R"({
      "schema_version": 1,
      "data": {
        "source": {"images": {"format": "idx", "images": "a-images.gz", "labels": "a-labels.gz", "limit": 100}},
        "target": {"images": {"format": "chinese_mnist", "root": "cm", "suites": [1, 80], "size": 28,
                              "fit_content": true, "normalise_contrast": true}},
        "test_source": {"images": {"format": "idx", "images": "t-images.gz", "labels": "t-labels.gz"}},
        "test_target": {"images": {"format": "chinese_mnist", "root": "cm", "suites": [81, 90], "size": 28}},
        "keypoints": {"rule": "class_medoid", "class_pairs": [[0, 5], [1, 7]]}
      },
      "stages": {"ot": {"solver": "dense", "relation": "propagation", "neighbors": 7, "adam_steps": 10},
                 "score": {"network": {"kind": "unet"}}}
    })";
    auto p = session::parse_project(text, "img.json", "/base");
    QVERIFY(p.images());
    QCOMPARE(p.source.images.format, std::string("idx"));
    QCOMPARE(p.source.images.images, std::string("/base/a-images.gz"));
    QCOMPARE(p.source.images.limit, int64_t(100));
    QCOMPARE(p.target.images.suite_to, 80);
    QVERIFY(p.target.images.fit_content);
    QCOMPARE(p.keypoint_rule.rule, std::string("class_medoid"));
    QCOMPARE(p.keypoint_rule.class_pairs.size(), size_t(2));
    QCOMPARE(p.keypoint_rule.class_pairs[1].second, int64_t(7));
    QVERIFY(p.ot.relation == ot::Relation::Propagation);
    QCOMPARE(p.ot.neighbors, int64_t(7));
    QCOMPARE(p.ot.adam_steps, int64_t(10));
    QVERIFY(p.image_eval.test_target.is_images());
  }

  void rejectsBadImageSpecs() {
    auto bad = [](const std::string& data, const std::string& expect) {
      const std::string text = R"({"schema_version": 1, "data": )" + data + R"(, "stages": {}})";
      try {
        session::parse_project(text, "bad.json", "/base");
        QFAIL(("accepted: " + data).c_str());
      } catch (const UserError& e) {
        const std::string what = e.what();
        if (what.find(expect) == std::string::npos) QFAIL((what + " lacks " + expect).c_str());
      }
    };
    bad(R"({"source": {"images": {"format": "tiff", "images": "x"}}, "target": {"images": {"format": "idx", "images": "y"}}})",
        "/data/source/images/format: expected idx, chinese_mnist, folder or pack");
    bad(R"({"source": {"images": {"format": "idx"}}, "target": {"images": {"format": "idx", "images": "y"}}})",
        "/data/source/images/images: missing");
    bad(R"({"source": {"images": {"format": "idx", "images": "/abs"}}, "target": {"images": {"format": "idx", "images": "y"}}})",
        "absolute paths are machine-specific");
    bad(R"({"source": {"images": {"format": "idx", "images": "x"}}, "target": {"mixture": [{"mean": [0, 0]}], "n": 4}})",
        "both be image datasets");
    bad(R"({"source": {"images": {"format": "chinese_mnist", "root": "r", "suites": [5, 2]}}, "target": {"images": {"format": "idx", "images": "y"}}})",
        "/data/source/images/suites");
    bad(R"({"source": {"images": {"format": "idx", "images": "x"}}, "target": {"images": {"format": "idx", "images": "y"}},
           "keypoints": {"rule": "nearest"}})",
        "/data/keypoints/rule: expected class_medoid");
  }

  // Sides of different shapes are refused when the data load, with the keys to change (not an error from the
  // OT cost's inner loop).
  void refusesSidesOfDifferentShapes() {
    QTemporaryDir dir;
    auto pack = [&](const char* name, int64_t size) {
      data::Pack p;
      p.images = torch::randint(0, 256, {4, 1, size, size}, torch::kUInt8);
      p.labels = torch::full({4}, int64_t(-1), torch::kInt64);
      for (int i = 0; i < 4; ++i) p.names.push_back("index:" + std::to_string(i));
      p.content_hash = data::pack_hash(p);
      data::save_pack((dir.path() + "/" + name).toStdString(), p);
    };
    pack("a.npz", 28);
    pack("b.npz", 32);
    const std::string text = R"({"schema_version": 1, "data": {
        "source": {"images": {"format": "pack", "file": "a.npz"}},
        "target": {"images": {"format": "pack", "file": "b.npz"}}}, "stages": {}})";
    auto p = session::parse_project(text, "sizes.json", dir.path().toStdString());
    try {
      session::load_project_points(p);
      QFAIL("sides of different shapes were accepted");
    } catch (const UserError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("1x28x28") != std::string::npos && what.find("1x32x32") != std::string::npos &&
                   what.find("/data/target/images") != std::string::npos,
               what.c_str());
    }
  }

  // Two well-separated noisy rings per class in 16-D: one labelled sample each; propagation labels every sample.
  void propagationFollowsTheClusters() {
    torch::manual_seed(0);
    const int64_t per = 150;
    auto a = torch::randn({per, 16}) * 0.3 + torch::ones({16});
    auto b = torch::randn({per, 16}) * 0.3 - torch::ones({16});
    auto x = torch::cat({a, b});
    auto R = ot::propagation_relations(x, torch::tensor({int64_t(3), per + 5}), 8, 0.99, 200);
    QCOMPARE(R.sizes(), (torch::IntArrayRef{2 * per, 2}));
    QVERIFY(torch::allclose(R.sum(1), torch::ones({2 * per}, torch::kFloat64), 1e-9, 1e-9));
    auto pred = R.argmax(1);
    auto truth = torch::cat({torch::zeros({per}, torch::kInt64), torch::ones({per}, torch::kInt64)});
    QCOMPARE(pred.eq(truth).sum().item<int64_t>(), 2 * per);
  }

  // The dense block-coordinate solver reaches the exact solver's plan on a small random problem.
  void denseSolverMatchesTheExactPlan() {
    torch::manual_seed(1);
    auto G = torch::rand({40, 30}, torch::kFloat64);
    const double eps = 0.05;
    auto exact = ot::solve_exact(G, eps);
    ot::DenseDualOptions o;
    o.epsilon = eps;
    o.max_sweeps = 500;
    o.tolerance = 1e-5;
    auto dense = ot::solve_dense_dual(G.to(torch::kFloat32), o);
    QVERIFY2(dense.converged, qPrintable(QString("row error %1").arg(dense.marginal_error_rows)));
    QVERIFY(dense.marginal_error_cols < 1e-4);
    auto plan = (dense.u.unsqueeze(1) + dense.v.unsqueeze(0) - G).clamp_min(0) / (2 * eps * 40 * 30);
    const double rel = (plan - exact.plan).abs().sum().item<double>() / exact.plan.abs().sum().item<double>();
    QVERIFY2(rel < 1e-3, qPrintable(QString("relative L1 plan distance %1").arg(rel)));
    // Adam first, then sweeps: the same optimum.
    o.adam_steps = 200;
    auto warm = ot::solve_dense_dual(G.to(torch::kFloat32), o);
    QVERIFY(warm.converged);
    auto plan2 = (warm.u.unsqueeze(1) + warm.v.unsqueeze(0) - G).clamp_min(0) / (2 * eps * 40 * 30);
    QVERIFY((plan2 - exact.plan).abs().sum().item<double>() / exact.plan.abs().sum().item<double>() < 1e-3);
  }

  void denseSolverHonoursInfiniteEntries() {
    torch::manual_seed(2);
    auto G = torch::rand({20, 20}, torch::kFloat32);
    G[0].fill_(std::numeric_limits<float>::infinity());
    G[0][3] = 0.5f;  // row 0 may only send to column 3
    ot::DenseDualOptions o;
    o.epsilon = 0.05;
    o.max_sweeps = 500;
    auto r = ot::solve_dense_dual(G, o);
    auto P = (r.u.unsqueeze(1) + r.v.unsqueeze(0) - G.to(torch::kFloat64)).clamp_min(0);
    QCOMPARE(P[0].gt(0).sum().item<int64_t>(), int64_t(1));
    QVERIFY(P[0][3].item<double>() > 0);
  }

  void classMedoidPicksTheSampleNearestTheClassMean() {
    auto x = torch::tensor({0.0, 1.0, 2.0, 10.0, 11.0, 30.0}).unsqueeze(1);
    auto labels = torch::tensor({0, 0, 0, 1, 1, 1}, torch::kInt64);
    session::KeypointRule rule;
    rule.rule = "class_medoid";
    rule.class_pairs = {{0, 1}, {1, 0}};
    auto pairs = session::class_medoid_pairs(x, labels, x, labels, rule);
    QCOMPARE(pairs.size(), size_t(2));
    QCOMPARE(pairs[0].first, int64_t(1));   // class 0: mean 1 -> index 1
    QCOMPARE(pairs[0].second, int64_t(4));  // class 1: mean 17 -> 11 is nearest
    QCOMPARE(pairs[1].first, int64_t(4));
    QCOMPARE(pairs[1].second, int64_t(1));
    rule.class_pairs = {{0, 7}};
    QVERIFY_THROWS_EXCEPTION(UserError, session::class_medoid_pairs(x, labels, x, labels, rule));
  }

  void corePreprocessingResizesAndDegrades() {
    auto img = torch::randint(0, 256, {3, 1, 32, 32}, torch::kInt64).to(torch::kUInt8);
    session::ImageSetSpec s;
    s.size = 16;
    QCOMPARE(session::preprocess_uint8(img, s).sizes(), (torch::IntArrayRef{3, 1, 16, 16}));
    s.size = 0;
    s.downsample = 4;
    s.upsample = 32;
    auto low = session::preprocess_uint8(img, s);
    QCOMPARE(low.sizes(), (torch::IntArrayRef{3, 1, 32, 32}));
    s.channels = 3;
    s.downsample = 1;
    s.upsample = 0;
    QCOMPARE(session::preprocess_uint8(img, s).size(1), int64_t(3));
  }

  void translationKeepsShapesRangeAndSeeds() {
    torch::manual_seed(3);
    diffusion::NetworkSpec ns;
    ns.kind = diffusion::NetworkKind::UNet;
    ns.in_channels = 1;
    ns.resolution = 8;
    ns.channels = 8;
    ns.channel_mult = {1, 2};
    ns.attention_resolutions = {};
    ns.cond_dim = 64;
    ns.groups = 4;
    session::ScoreModel model;
    model.network = diffusion::make_network(ns);
    model.network->eval();
    model.network_spec = ns;
    diffusion::ScheduleSpec sc;
    sc.steps = 100;
    model.schedule = diffusion::make_schedule(sc);
    session::TranslateOptions to;
    to.sampler.kind = diffusion::SamplerKind::Ddim;
    to.sampler.steps = 5;
    to.seed = 9;
    to.batch = 4;
    auto src = torch::rand({6, 64}) * 2 - 1;
    auto a = session::translate_images(model, src, {1, 8, 8}, to);
    QCOMPARE(a.sizes(), (torch::IntArrayRef{6, 1, 8, 8}));
    QVERIFY(a.min().item<double>() >= -1 && a.max().item<double>() <= 1);
    int64_t nfe = 0;
    to.nfe = &nfe;
    auto b = session::translate_images(model, src, {1, 8, 8}, to);
    QVERIFY(torch::equal(a, b));
    QCOMPARE(nfe, int64_t(5));  // per input, over two batches
    to.sampler.kind = diffusion::SamplerKind::DpmSolverPP;
    to.sampler.guidance = 2.0;  // the conditional and the null evaluation
    QCOMPARE(session::translate_images(model, src, {1, 8, 8}, to).sizes(), (torch::IntArrayRef{6, 1, 8, 8}));
    QCOMPARE(nfe, int64_t(10));
    to.sampler.guidance = 1.0;
    QVERIFY_THROWS_EXCEPTION(UserError, session::translate_images(model, torch::rand({2, 10}), {1, 8, 8}, to));
  }
  void superResolutionPieces() {
    // A paired super-resolution project: folder ranges, the channel condition, paired eval with averaging.
    const std::string text = R"({
      "schema_version": 1,
      "data": {
        "source": {"images": {"format": "folder", "dir": "faces", "range": [1, 40], "size": 32, "downsample": 4, "upsample": 32}},
        "target": {"images": {"format": "folder", "dir": "faces", "range": [41, 80], "size": 32}},
        "test_source": {"images": {"format": "folder", "dir": "faces", "range": [81, 90], "size": 32, "downsample": 4, "upsample": 32}},
        "test_target": {"images": {"format": "folder", "dir": "faces", "range": [81, 90], "size": 32}}
      },
      "stages": {"score": {"network": {"kind": "unet", "cond_encoder": "channels"}},
                 "sample": {"sampler": {"kind": "ancestral", "sdedit_t0": 0.2, "guidance": 1.5}},
                 "eval": {"paired": true, "average": 4}}
    })";
    auto p = session::parse_project(text, "sr.json", "/base");
    QCOMPARE(p.source.images.range_from, int64_t(1));
    QCOMPARE(p.target.images.range_to, int64_t(80));
    QCOMPARE(p.score.network.cond_encoder, std::string("channels"));
    QVERIFY(p.image_eval.paired);
    QCOMPARE(p.image_eval.average, int64_t(4));
    QCOMPARE(p.sample.sampler.guidance, 1.5);
    auto bad = [](const std::string& range) {
      const std::string t =
          R"({"schema_version": 1, "data": {"source": {"images": {"format": "folder", "dir": "f", "range": )" + range +
          R"(}}, "target": {"images": {"format": "folder", "dir": "f"}}}, "stages": {}})";
      QVERIFY_THROWS_EXCEPTION(UserError, session::parse_project(t, "bad.json", "/base"));
    };
    bad("[0, 4]");
    bad("[5, 4]");
    bad("[1]");

    // The range keeps samples first..last of a pack in order; beyond the pack's size is an error naming it.
    const auto dir = std::filesystem::temp_directory_path() / "otcs_sr_range";
    std::filesystem::create_directories(dir);
    data::Pack pack;
    pack.images = torch::arange(10, torch::kUInt8).view({10, 1, 1, 1}).expand({10, 1, 2, 2}).contiguous();
    pack.labels = torch::full({10}, -1, torch::kInt64);
    for (int i = 0; i < 10; ++i) pack.names.push_back("f" + std::to_string(i));
    pack.content_hash = data::pack_hash(pack);
    data::save_pack((dir / "p.npz").string(), pack);
    session::ImageSetSpec spec;
    spec.format = "pack";
    spec.images = (dir / "p.npz").string();
    spec.range_from = 3;
    spec.range_to = 5;
    auto sub = session::load_image_set(spec, "test");
    QCOMPARE(sub.size(), int64_t(3));
    QCOMPARE(sub.names.front(), std::string("f2"));
    QCOMPARE(sub.images[2][0][0][0].item<int>(), 4);
    spec.range_to = 11;
    QVERIFY_THROWS_EXCEPTION(UserError, session::load_image_set(spec, "test"));
    std::filesystem::remove_all(dir);

    // The channel condition: a UNet given the flattened source image of the target's shape; SDEdit starts there.
    torch::manual_seed(5);
    diffusion::NetworkSpec ns;
    ns.kind = diffusion::NetworkKind::UNet;
    ns.in_channels = 3;
    ns.cond_channels = 3;
    ns.resolution = 8;
    ns.channels = 8;
    ns.channel_mult = {1, 2};
    ns.attention_resolutions = {};
    ns.groups = 4;
    session::ScoreModel model;
    model.network = diffusion::make_network(ns);
    model.network->eval();
    model.network_spec = ns;
    diffusion::ScheduleSpec sc;
    sc.steps = 100;
    model.schedule = diffusion::make_schedule(sc);
    session::TranslateOptions to;
    to.sampler.kind = diffusion::SamplerKind::Ancestral;
    to.sampler.steps = 10;
    to.sampler.sdedit_t0 = 0.05;
    to.batch = 3;
    auto src = torch::rand({4, 3 * 64}) * 2 - 1;
    auto y = session::translate_images(model, src, {3, 8, 8}, to);
    QCOMPARE(y.sizes(), (torch::IntArrayRef{4, 3, 8, 8}));
    // Starting from the slightly noised source, an untrained network stays near it (t0 = 0.05).
    const double dist = (y.flatten(1) - src).abs().mean().item<double>();
    QVERIFY2(dist < 0.6, qPrintable(QString("mean |y - source| = %1").arg(dist)));
    QVERIFY_THROWS_EXCEPTION(UserError, session::translate_images(model, torch::rand({2, 10}), {3, 8, 8}, to));

    // Data consistency (sampler.consistency = 4): every translation's 4x4 block means are the low-resolution
    // input's, given explicitly or, without it, taken from the (upsampled) sources themselves.
    namespace F = torch::nn::functional;
    auto pool = [](const torch::Tensor& x) { return F::avg_pool2d(x, F::AvgPool2dFuncOptions(4).stride(4)); };
    {  // a network that predicts eps = 0 keeps the samples in range, so the output clamp rarely interferes
      torch::NoGradGuard no_grad;
      for (auto& w : model.network->parameters()) w.zero_();
    }
    to.sampler.consistency = 4;
    auto low = torch::rand({4, 3, 2, 2}) * 0.6 - 0.3;
    auto small = src * 0.3;
    to.low_res = low;
    auto yc = session::translate_images(model, small, {3, 8, 8}, to);
    // (exact where no pixel of the block was clamped to [-1, 1] by the output range)
    auto check = [&](const torch::Tensor& y, const torch::Tensor& want) {
      auto free = pool(y.abs().lt(0.999).to(torch::kFloat32)).eq(1);
      QVERIFY(free.to(torch::kFloat32).mean().item<double>() > 0.9);
      QVERIFY(((pool(y) - want).abs() * free).max().item<double>() < 1e-4);
    };
    check(yc, low);
    to.sampler.kind = diffusion::SamplerKind::DpmSolverPP;  // the same projection in the few-step sampler
    check(session::translate_images(model, small, {3, 8, 8}, to), low);
    to.sampler.kind = diffusion::SamplerKind::Ancestral;
    to.low_res = torch::Tensor();
    auto yf = session::translate_images(model, small, {3, 8, 8}, to);
    auto own = pool(small.view({4, 3, 8, 8}));
    check(yf, own);
    to.low_res = torch::rand({4, 3, 4, 4});  // the wrong size is refused, not ignored
    QVERIFY_THROWS_EXCEPTION(UserError, session::translate_images(model, src, {3, 8, 8}, to));
  }
};

QTEST_GUILESS_MAIN(TestImageProject)
#include "test_image_project.moc"
