// The paired (super-resolution) image eval: the parity selector of image sets, the further samplers of
// stages.eval.also, and a resumable eval: stopped after a batch and run again, it loads the finished batches and
// ends with the same numbers as an eval that was never stopped. A tiny project on 12x12 packs, in seconds.
#include <QtTest/QtTest>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/data/pack.h"
#include "core/io/file.h"
#include "core/session/events.h"
#include "core/session/image_data.h"
#include "core/session/project.h"
#include "core/session/score_model.h"
#include "core/session/session.h"
#include "core/session/translate.h"
#include "core/diffusion/networks.h"
#include "core/diffusion/schedule.h"

using namespace otcs;
namespace fs = std::filesystem;

namespace {

// Smooth random colour images (upsampled 2x2 noise plus a little detail), named 000001.png ... in order.
void write_pack(const fs::path& path, int64_t first, int64_t n, int64_t seed) {
  torch::manual_seed(seed);
  namespace F = torch::nn::functional;
  auto coarse = torch::rand({n, 3, 2, 2});
  auto x = F::interpolate(
      coarse,
      F::InterpolateFuncOptions().size(std::vector<int64_t>{12, 12}).mode(torch::kBilinear).align_corners(false));
  x = (x * 200 + torch::rand({n, 3, 12, 12}) * 40).round().clamp(0, 255);
  data::Pack pack;
  pack.images = x.to(torch::kUInt8).contiguous();
  pack.labels = torch::full({n}, int64_t(-1), torch::kInt64);
  for (int64_t i = 0; i < n; ++i) pack.names.push_back(fmt::format("{:06d}.png", first + i));
  pack.content_hash = data::pack_hash(pack);
  data::save_pack(path.string(), pack);
}

const char* kProject = R"({
  "schema_version": 1,
  "data": {
    "source": {"images": {"format": "pack", "file": "train.npz", "parity": "even", "size": 12, "downsample": 2, "upsample": 12}},
    "target": {"images": {"format": "pack", "file": "train.npz", "parity": "odd", "size": 12}},
    "test_source": {"images": {"format": "pack", "file": "test.npz", "size": 12, "downsample": 2, "upsample": 12}},
    "test_target": {"images": {"format": "pack", "file": "test.npz", "size": 12}}
  },
  "stages": {
    "ot": {"solver": "exact", "cost": "l2", "epsilon": 0.01, "alpha": 0.0},
    "score": {"mode": "otcs", "schedule": {"kind": "ddpm", "steps": 100},
              "network": {"kind": "unet", "channels": 8, "channel_mult": [1, 2], "res_blocks": 1,
                          "attention_resolutions": [], "groups": 4, "cond_encoder": "channels"},
              "steps": 10, "batch": 4, "seed": 1, "checkpoint_every": 10, "log_every": 5},
    "sample": {"sampler": {"kind": "dpm-solver++", "steps": 3, "clip": 1.0, "sdedit_t0": 0.2, "consistency": 2},
               "trajectory_sources": 0, "seed": 2},
    "eval": {"paired": true, "average": 2, "grid": 1, "seed": 3, "batch": 3, "bootstrap": 200,
             "also": [{"name": "released", "sampler": {"kind": "ancestral", "steps": 5, "clip": 1.0, "sdedit_t0": 0.2,
                                                       "sdedit_refined": true, "refined_steps": 50},
                       "subset": 4}]}
  }
})";

session::SessionResult run_session(const session::Project& p, const fs::path& out, const std::string& reuse = {},
                                   int stop_after_batches = 0, std::string* log = nullptr) {
  session::SessionOptions o;
  o.out_dir = out.string();
  o.reuse_from = reuse;
  if (!reuse.empty()) o.from = session::Stage::Eval;  // the base run's eval is done: run it here
  session::Session s(p, o);
  int batches = 0;
  s.set_event_callback([&](const session::Event& e) {
    if (const auto* l = std::get_if<session::LogEvent>(&e)) {
      if (log) *log += l->message + "\n";
      if (l->message.rfind("eval: main batch", 0) == 0 && ++batches == stop_after_batches) s.request_stop();
    }
  });
  return s.run();
}

nlohmann::json without_seconds(nlohmann::json m) {
  m.erase("seconds");
  if (m.contains("also"))
    for (auto& [name, a] : m["also"].items()) a.erase("seconds");
  return m;
}

}  // namespace

class TestPairedEval : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void paritySelectsByFileNumber() {
    QCOMPARE(session::file_number("000042.jpg"), int64_t(42));
    QCOMPARE(session::file_number("face_7_v2.png"), int64_t(2));
    QCOMPARE(session::file_number("index:13"), int64_t(13));
    QCOMPARE(session::file_number("face.png"), int64_t(-1));
    const auto dir = fs::temp_directory_path() / "otcs_parity";
    fs::create_directories(dir);
    write_pack(dir / "p.npz", 1, 10, 0);
    session::ImageSetSpec spec;
    spec.format = "pack";
    spec.images = (dir / "p.npz").string();
    spec.range_from = 2;
    spec.range_to = 9;  // 000002 .. 000009, then the parity
    spec.parity = 2;
    auto even = session::load_image_set(spec, "p.json: /data/source");
    QCOMPARE(even.size(), int64_t(4));
    QCOMPARE(even.names.front(), std::string("000002.png"));
    QCOMPARE(even.names.back(), std::string("000008.png"));
    spec.parity = 1;
    auto odd = session::load_image_set(spec, "p.json: /data/source");
    QCOMPARE(odd.size(), int64_t(4));
    QCOMPARE(odd.names.front(), std::string("000003.png"));
    // A name without a number is an error naming the JSON path.
    data::Pack pack = data::load_pack((dir / "p.npz").string());
    pack.names[4] = "face.png";
    pack.content_hash = data::pack_hash(pack);
    data::save_pack((dir / "p.npz").string(), pack);
    try {
      session::load_image_set(spec, "p.json: /data/source");
      QFAIL("a file name without a number was accepted");
    } catch (const UserError& e) {
      QVERIFY2(std::string(e.what()).find("/data/source/images/parity") != std::string::npos, e.what());
    }
    fs::remove_all(dir);

    // Parsing: even/odd, anything else an error naming the key.
    auto p = session::parse_project(kProject, "sr.json", "/base");
    QCOMPARE(p.source.images.parity, 2);
    QCOMPARE(p.target.images.parity, 1);
    QCOMPARE(p.image_eval.test_source.images.parity, 0);
    std::string bad = kProject;
    bad.replace(bad.find("\"parity\": \"even\""), 16, "\"parity\": \"all\" ");
    try {
      session::parse_project(bad, "sr.json", "/base");
      QFAIL("parity 'all' was accepted");
    } catch (const UserError& e) {
      QVERIFY2(std::string(e.what()).find("/data/source/images/parity") != std::string::npos, e.what());
    }
  }

  void parsesFurtherEvalSamplers() {
    auto p = session::parse_project(kProject, "sr.json", "/base");
    QCOMPARE(p.eval.batch, int64_t(3));
    QCOMPARE(p.eval.bootstrap, int64_t(200));
    QCOMPARE(p.eval.also.size(), size_t(1));
    QCOMPARE(p.eval.also[0].name, std::string("released"));
    QCOMPARE(p.eval.also[0].subset, int64_t(4));
    QVERIFY(p.eval.also[0].sampler.sdedit_refined);
    auto reject = [](const std::string& from, const std::string& to, const std::string& path) {
      std::string text = kProject;
      text.replace(text.find(from), from.size(), to);
      try {
        session::parse_project(text, "sr.json", "/base");
        QFAIL(qPrintable(QString::fromStdString("accepted: " + to)));
      } catch (const UserError& e) {
        QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
      }
    };
    reject("\"name\": \"released\"", "\"name\": \"Released!\"", "/stages/eval/also/0/name");
    reject("\"subset\": 4", "\"subset\": -1", "/stages/eval/also/0/subset");
    reject("\"subset\": 4", "\"subset\": 4, \"speed\": 2", "/stages/eval/also/0");
    reject("\"batch\": 3,", "\"batch\": 0,", "/stages/eval/batch");
  }

  void translatingInPiecesMatchesOneCall() {
    // One call with batch b equals calls on the pieces [k b, (k + 1) b) with first_index = k b: why a resumed
    // eval, and the batched eval with the default batch of 250, give what one translate_images call gave before.
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
    to.sampler.steps = 5;
    to.sampler.sdedit_t0 = 0.2;
    to.sampler.consistency = 2;
    to.seed = 11;
    to.batch = 3;
    auto src = torch::rand({7, 3 * 64}) * 2 - 1;
    auto whole = session::translate_images(model, src, {3, 8, 8}, to);
    std::vector<torch::Tensor> parts;
    for (int64_t lo = 0; lo < 7; lo += 3) {
      auto piece = to;
      piece.first_index = lo;
      parts.push_back(
          session::translate_images(model, src.narrow(0, lo, std::min<int64_t>(3, 7 - lo)), {3, 8, 8}, piece));
    }
    QVERIFY(torch::equal(whole, torch::cat(parts)));
  }

  void stoppedEvalResumesWithTheSameNumbers() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    write_pack(dir / "train.npz", 1, 24, 1);
    write_pack(dir / "test.npz", 25, 10, 2);
    io::write_file_atomic((dir / "sr.json").string(), kProject);
    auto p = session::load_project((dir / "sr.json").string());

    // A: uninterrupted.
    std::string log;
    auto a = run_session(p, dir / "a", {}, 0, &log);
    QVERIFY2(a.status == session::SessionStatus::Completed, a.message.c_str());
    auto ma = nlohmann::json::parse(io::read_file((dir / "a/eval/metrics.json").string()));
    for (const char* key : {"input_bicubic", "input_bicubic_consistent", "one_sample", "mean_of_samples"}) {
      QVERIFY2(ma.contains(key), key);
      QCOMPARE(ma[key]["psnr_ci95"].size(), size_t(2));
      QVERIFY(ma[key]["psnr_ci95"][0].get<double>() <= ma[key]["psnr"].get<double>());
      QVERIFY(ma[key]["ssim_ci95"][1].get<double>() >= ma[key]["ssim"].get<double>());
    }
    QCOMPARE(ma["also"]["released"]["test_inputs"].get<int64_t>(), int64_t(4));
    QVERIFY(ma["also"]["released"].contains("main_one_sample"));
    QVERIFY(!fs::exists(dir / "a/eval/batches"));  // done: the batches are in the results
    const std::string csv = io::read_file((dir / "a/eval/per_face.csv").string());
    QVERIFY2(csv.rfind("face,name,bicubic_psnr,bicubic_ssim,consistent_psnr,consistent_ssim,one_psnr,one_ssim,"
                       "mean2_psnr,mean2_ssim,released_one_psnr,released_one_ssim\n25,000025.png,",
                       0) == 0,
             csv.substr(0, 300).c_str());
    QCOMPARE(int(std::count(csv.begin(), csv.end(), '\n')), 11);
    QVERIFY(log.find("eval: main batch 4/4") != std::string::npos);

    // B: the same project, the stages before eval reused from A; stopped after the first main batch ...
    auto b = run_session(p, dir / "b", (dir / "a").string(), 1);
    QVERIFY2(b.status == session::SessionStatus::Stopped, b.message.c_str());
    QVERIFY(!fs::exists(dir / "b/eval/metrics.json"));
    int kept = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir / "b/eval/batches")) kept += e.is_regular_file();
    QCOMPARE(kept, 1);
    // ... and run again: it goes on from the second batch and ends with A's numbers.
    log.clear();
    auto b2 = run_session(p, dir / "b", {}, 0, &log);
    QVERIFY2(b2.status == session::SessionStatus::Completed, b2.message.c_str());
    QVERIFY2(log.find("eval: main: 1 of 4 batches loaded") != std::string::npos, log.c_str());
    QVERIFY(log.find("eval: main batch 1/4") == std::string::npos);
    auto mb = nlohmann::json::parse(io::read_file((dir / "b/eval/metrics.json").string()));
    QCOMPARE(without_seconds(mb).dump(), without_seconds(ma).dump());
    QCOMPARE(io::read_file((dir / "b/eval/per_face.csv").string()), csv);
  }
};

QTEST_GUILESS_MAIN(TestPairedEval)
#include "test_paired_eval.moc"
