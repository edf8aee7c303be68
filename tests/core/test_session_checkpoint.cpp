// Checkpoints and the session's promises: exact resume after a stop, a corrupt checkpoint rejected with the
// previous one used, divergence stopping cleanly, skipping finished stages, pause at step boundaries.
#include <QtTest/QtTest>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/diffusion/trainer.h"
#include "core/io/archive.h"
#include "core/io/file.h"
#include "core/session/checkpoint.h"
#include "core/session/project.h"
#include "core/session/score_model.h"
#include "core/session/session.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;
using namespace otcs::session;
using nlohmann::json;

namespace {

json tiny_project() {
  return json::parse(R"({
    "schema_version": 1,
    "data": {
      "source": {"mixture": [{"mean": [-1, 1], "std": 0.2}, {"mean": [-1, -1], "std": 0.2}], "n": 40, "seed": 1},
      "target": {"mixture": [{"mean": [1, 1], "std": 0.2}, {"mean": [1, -1], "std": 0.2}], "n": 40, "seed": 2},
      "keypoints": [{"source": [-1, 1], "target": [1, -1]}, {"source": [-1, -1], "target": [1, 1]}]
    },
    "stages": {
      "ot": {"epsilon": 0.001, "tau": 0.5},
      "score": {"steps": 40, "batch": 16, "lr": 0.001, "checkpoint_every": 10, "log_every": 5, "keep_checkpoints": 5,
                "network": {"hidden": 32, "blocks": 1, "embed_dim": 16}},
      "sample": {"sources": 2, "per_source": 10, "sampler": {"kind": "ddim", "steps": 10}},
      "eval": {"enabled": false}
    }
  })");
}

Project write_project(const fs::path& dir, const json& j) {
  fs::create_directories(dir);
  const auto path = (dir / "project.json").string();
  otcs::io::write_file_atomic(path, j.dump(2));
  return load_project(path);
}

std::vector<torch::Tensor> model_parameters(const fs::path& model_pt) {
  auto m = load_score_model(model_pt.string());
  std::vector<torch::Tensor> out;
  for (const auto& p : m.network->parameters()) out.push_back(p.detach().clone());
  return out;
}

// Every live parameter and Adam moment stored in a checkpoint, flattened in archive order.
std::vector<torch::Tensor> checkpoint_state(const std::string& path) {
  torch::serialize::InputArchive ar;
  CheckpointStore::open(path, ar);
  std::vector<torch::Tensor> out;
  torch::serialize::InputArchive model;
  ar.read("model", model);
  for (const auto& k : model.keys()) {
    torch::Tensor t;
    model.read(k, t);
    out.push_back(t);
  }
  return out;
}

bool bit_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

SessionResult run_session(const Project& p, const fs::path& out, std::function<void(Session&, const Event&)> on = {},
                          std::optional<Stage> until = Stage::Score) {
  SessionOptions o;
  o.out_dir = out.string();
  o.until = until;
  Session s(p, o);
  if (on) s.set_event_callback([&](const Event& e) { on(s, e); });
  return s.run();
}

}  // namespace

class TestSessionCheckpoint : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path root() const { return fs::path(tmp_.path().toStdString()); }

 private Q_SLOTS:
  void initTestCase() {
    // Bit-identity on CPU needs a fixed reduction order.
    torch::set_num_threads(1);
  }

  void storeRotatesAndRejectsCorruptFiles() {
    const auto dir = root() / "store";
    CheckpointStore store(dir.string(), "ckpt", 2);
    for (int64_t step : {10, 20, 30})
      store.save(step, "h1",
                 [&](torch::serialize::OutputArchive& ar) { ar.write("x", torch::full({3}, double(step))); });
    auto files = store.list();
    QCOMPARE(int(files.size()), 2);
    QCOMPARE(files.front().step, int64_t(20));
    // Truncate the newest by hand: it is rejected with a clear reason and the previous one is used.
    {
      auto bytes = otcs::io::read_file(files.back().path);
      std::ofstream(files.back().path, std::ios::binary | std::ios::trunc).write(bytes.data(), long(bytes.size() / 2));
    }
    torch::Tensor x;
    std::vector<std::string> rejected;
    auto loaded = store.load_latest(
        "h1", [&](torch::serialize::InputArchive& ar) { ar.read("x", x); }, &rejected);
    QVERIFY(loaded.has_value());
    QCOMPARE(loaded->step, int64_t(20));
    QCOMPARE(x[0].item<double>(), 20.0);
    QCOMPARE(int(rejected.size()), 1);
    QVERIFY2(rejected[0].find("ckpt-000000030.pt") != std::string::npos &&
                 rejected[0].find("truncated or corrupt") != std::string::npos,
             rejected[0].c_str());
    // An empty file and a checkpoint of another configuration are rejected as well.
    otcs::io::write_file_atomic(files.front().path, "");
    loaded = store.load_latest(
        "h1", [&](torch::serialize::InputArchive&) {}, &rejected);
    QVERIFY(!loaded.has_value());
    QCOMPARE(int(rejected.size()), 2);
    QVERIFY(rejected[1].find("empty") != std::string::npos);
    store.save(40, "h2", [](torch::serialize::OutputArchive& ar) { ar.write("x", torch::zeros({1})); });
    loaded = store.load_latest(
        "h1", [&](torch::serialize::InputArchive&) {}, &rejected);
    QVERIFY(!loaded.has_value());
    QVERIFY(rejected[0].find("different configuration") != std::string::npos);

    // A changed configuration restarting below the old files' steps: saving step 5 for "h3" removes every later
    // (stale) file and keeps the one it wrote, so the next resume finds it.
    store.save(5, "h3", [](torch::serialize::OutputArchive& ar) { ar.write("x", torch::ones({1})); });
    files = store.list();
    QCOMPARE(int(files.size()), 1);
    QCOMPARE(files.front().step, int64_t(5));
    loaded = store.load_latest(
        "h3", [&](torch::serialize::InputArchive&) {}, &rejected);
    QVERIFY(loaded.has_value());
    QCOMPARE(loaded->step, int64_t(5));
  }

  void resumeIsBitExact() {
    auto p = write_project(root() / "proj", tiny_project());
    // Straight through.
    auto a = run_session(p, root() / "straight");
    QCOMPARE(int(a.status), int(SessionStatus::Completed));
    // Stopped at step 20 (at a step boundary, after a checkpoint), then resumed in a new session.
    bool stopped_once = false;
    auto b1 = run_session(p, root() / "resumed", [&](Session& s, const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e); l && l->stage == Stage::Score && l->step == 20 && !stopped_once) {
        stopped_once = true;
        s.request_stop();
      }
    });
    QCOMPARE(int(b1.status), int(SessionStatus::Stopped));
    QVERIFY(fs::exists(root() / "resumed/score/ckpt-000000020.pt"));
    QVERIFY(!fs::exists(root() / "resumed/score/model.pt"));
    int64_t resumed_from = -1;
    bool ot_skipped = false;
    auto b2 = run_session(p, root() / "resumed", [&](Session&, const Event& e) {
      if (auto* s = std::get_if<StageEvent>(&e)) {
        if (s->what == StageEvent::What::Resumed && s->stage == Stage::Score) resumed_from = 20;
        if (s->what == StageEvent::What::Skipped && s->stage == Stage::Ot) ot_skipped = true;
      }
    });
    QCOMPARE(int(b2.status), int(SessionStatus::Completed));
    QCOMPARE(resumed_from, int64_t(20));
    QVERIFY(ot_skipped);
    QVERIFY(bit_equal(model_parameters(root() / "straight/score/model.pt"),
                      model_parameters(root() / "resumed/score/model.pt")));
    QVERIFY(bit_equal(checkpoint_state((root() / "straight/score/ckpt-000000040.pt").string()),
                      checkpoint_state((root() / "resumed/score/ckpt-000000040.pt").string())));
    // The loss curve has every logged step once.
    auto csv = otcs::io::read_file((root() / "resumed/score/loss.csv").string());
    QCOMPARE(int(std::count(csv.begin(), csv.end(), '\n')), 1 + 40 / 5);

    // A truncated newest checkpoint: the stage warns, resumes from the previous one, and still ends identical.
    run_session(p, root() / "resumed2", [&](Session& s, const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e); l && l->stage == Stage::Score && l->step == 30) s.request_stop();
    });
    const auto newest = root() / "resumed2/score/ckpt-000000030.pt";
    QVERIFY(fs::exists(newest));
    fs::resize_file(newest, fs::file_size(newest) / 3);
    std::vector<std::string> warnings;
    auto c = run_session(p, root() / "resumed2", [&](Session&, const Event& e) {
      if (auto* l = std::get_if<LogEvent>(&e); l && l->level == LogEvent::Level::Warning)
        warnings.push_back(l->message);
    });
    QCOMPARE(int(c.status), int(SessionStatus::Completed));
    QVERIFY(!warnings.empty());
    QVERIFY2(warnings[0].find("ckpt-000000030.pt") != std::string::npos &&
                 warnings[0].find("truncated or corrupt") != std::string::npos,
             warnings[0].c_str());
    QVERIFY(bit_equal(model_parameters(root() / "straight/score/model.pt"),
                      model_parameters(root() / "resumed2/score/model.pt")));

    // Finished stages are skipped; --from forces them again.
    std::vector<Stage> skipped;
    run_session(p, root() / "straight", [&](Session&, const Event& e) {
      if (auto* s = std::get_if<StageEvent>(&e); s && s->what == StageEvent::What::Skipped) skipped.push_back(s->stage);
    });
    QCOMPARE(int(skipped.size()), 3);
  }

  // The OT stage's stochastic solvers checkpoint through the same store (RUN/ot/ckpt-<step>.pt): a stop mid-way
  // leaves one there, a new session resumes from it and ends with the potentials of an uninterrupted solve.
  void otStageResumesThroughTheStore() {
    auto j = tiny_project();
    j["stages"]["ot"] = json::parse(R"({"solver": "tabular", "epsilon": 0.05, "iterations": 200, "batch": 16,
                                        "checkpoint_every": 40})");
    auto p = write_project(root() / "ot-proj", j);
    QCOMPARE(int(run_session(p, root() / "ot-straight", {}, Stage::Ot).status), int(SessionStatus::Completed));
    auto stopped = run_session(
        p, root() / "ot-resumed",
        [](Session& s, const Event& e) {
          if (auto* l = std::get_if<LossEvent>(&e); l && l->stage == Stage::Ot && l->step >= 90) s.request_stop();
        },
        Stage::Ot);
    QCOMPARE(int(stopped.status), int(SessionStatus::Stopped));
    const CheckpointStore store((root() / "ot-resumed/ot").string(), "ckpt", 2);
    const auto files = store.list();
    QVERIFY(!files.empty());
    const int64_t stopped_at = files.back().step;
    QVERIFY(stopped_at > 0 && stopped_at < 200);
    QVERIFY(!fs::exists(root() / "ot-resumed/ot/checkpoint.pt"));
    QVERIFY(!fs::exists(root() / "ot-resumed/ot/u.npy"));
    std::string resumed;
    auto done = run_session(
        p, root() / "ot-resumed",
        [&](Session&, const Event& e) {
          if (auto* s = std::get_if<StageEvent>(&e); s && s->stage == Stage::Ot && s->what == StageEvent::What::Resumed)
            resumed = s->detail;
        },
        Stage::Ot);
    QCOMPARE(int(done.status), int(SessionStatus::Completed));
    QCOMPARE(resumed, "from step " + std::to_string(stopped_at));
    auto u_of = [&](const char* run) { return otcs::io::read_file((root() / run / "ot/u.npy").string()); };
    QVERIFY(u_of("ot-straight") == u_of("ot-resumed"));

    // An older run's checkpoint.pt that cannot be restored: the stage says so, starts over and removes it.
    auto stop_at_50 = [](Session& s, const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e); l && l->stage == Stage::Ot && l->step >= 50) s.request_stop();
    };
    QCOMPARE(int(run_session(p, root() / "ot-legacy", stop_at_50, Stage::Ot).status), int(SessionStatus::Stopped));
    const CheckpointStore legacy_store((root() / "ot-legacy/ot").string(), "ckpt", 2);
    std::string hash;
    {
      torch::serialize::InputArchive archive;
      CheckpointStore::open(legacy_store.list().back().path, archive, nullptr, &hash);
    }
    legacy_store.clear();
    otcs::io::write_file_atomic((root() / "ot-legacy/ot/checkpoint.pt").string(), "not an archive");
    otcs::io::write_file_atomic((root() / "ot-legacy/ot/checkpoint.hash").string(), hash);
    bool resumed_legacy = false;
    auto again = run_session(
        p, root() / "ot-legacy",
        [&](Session&, const Event& e) {
          if (auto* s = std::get_if<StageEvent>(&e); s && s->what == StageEvent::What::Resumed) resumed_legacy = true;
        },
        Stage::Ot);
    QCOMPARE(int(again.status), int(SessionStatus::Completed));
    QVERIFY(!resumed_legacy);
    QVERIFY(!fs::exists(root() / "ot-legacy/ot/checkpoint.pt"));
    QVERIFY(!fs::exists(root() / "ot-legacy/ot/checkpoint.hash"));
    QVERIFY(u_of("ot-straight") == u_of("ot-legacy"));
  }

  void divergenceStopsAndKeepsTheLastGoodCheckpoint() {
    auto j = tiny_project();
    j["stages"]["score"]["lr"] = 1e30;
    j["stages"]["score"]["grad_clip"] = 0;
    j["stages"]["score"]["checkpoint_every"] = 1;
    auto p = write_project(root() / "diverge", j);
    auto r = run_session(p, root() / "diverge-run");
    QCOMPARE(int(r.status), int(SessionStatus::Failed));
    QVERIFY2(r.message.find("diverged") != std::string::npos && r.message.find("is kept") != std::string::npos,
             r.message.c_str());
    QVERIFY(!r.user_error);
    CheckpointStore store((root() / "diverge-run/score").string(), "ckpt", 5);
    QVERIFY(!store.list().empty());
  }

  // LibTorch deflates the TorchScript sources (code/*.py) of the modules it saves and parses them without checking
  // their CRC; fuzzing found a bit-flipped one that crashed its parser. A flipped bit in any deflated member must be
  // rejected before LibTorch sees it, and every loader of ours goes through the same check.
  void deflatedMemberCorruptionIsRejected() {
    torch::nn::Sequential net(torch::nn::Linear(4, 8), torch::nn::SiLU(), torch::nn::Linear(8, 2));
    torch::serialize::OutputArchive sub, ar;
    net->save(sub);
    ar.write("model", sub);
    std::ostringstream out;
    ar.save_to(out);
    const std::string good = out.str();
    {
      torch::serialize::InputArchive in;
      otcs::io::load_archive_bytes(good, "good.pt", in);  // must not throw
    }
    // Find the deflated members through the central directory.
    auto le16 = [&](size_t at) { return size_t(uint8_t(good[at])) | size_t(uint8_t(good[at + 1])) << 8; };
    auto le32 = [&](size_t at) { return le16(at) | le16(at + 2) << 16; };
    const size_t eocd = good.rfind(std::string("PK\x05\x06", 4));
    QVERIFY(eocd != std::string::npos);
    size_t cd = le32(eocd + 16);
    std::vector<std::pair<size_t, size_t>> deflated;  // data offset, compressed size
    for (size_t e = 0, n = le16(eocd + 10); e < n; ++e) {
      const size_t method = le16(cd + 10), csize = le32(cd + 20), local = le32(cd + 42);
      if (method == 8) deflated.emplace_back(local + 30 + le16(local + 26) + le16(local + 28), csize);
      cd += 46 + le16(cd + 28) + le16(cd + 30) + le16(cd + 32);
    }
    QVERIFY2(!deflated.empty(), "LibTorch wrote no deflated member: the test lost its subject");
    int rejected = 0;
    for (auto [at, csize] : deflated) {
      for (size_t k : {size_t(0), csize / 2, csize - 1}) {
        std::string bad = good;
        bad[at + k] = char(bad[at + k] ^ 0x10);
        try {
          torch::serialize::InputArchive in;
          otcs::io::load_archive_bytes(bad, "bad.pt", in);
        } catch (const otcs::UserError& e) {
          QVERIFY2(std::string(e.what()).find("bad.pt: truncated or corrupt archive") == 0, e.what());
          ++rejected;
        }
      }
    }
    QCOMPARE(rejected, int(deflated.size()) * 3);
  }

  // Steps/s and the ETA count active time only: a pause does not make the stage look slower afterwards.
  void progressExcludesPausedTime() {
    Project p;
    std::atomic<bool> stop{false}, pause{false};
    std::vector<ProgressEvent> events;
    StageContext ctx(
        p, root() / "clock",
        [&](const Event& e) {
          if (auto* pe = std::get_if<ProgressEvent>(&e)) events.push_back(*pe);
        },
        stop, pause);
    ProgressClock clock(0, 1000);
    auto sleep = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
    sleep(50);
    clock.tick(ctx, Stage::Score, 10, true);
    clock.pause_begin();
    sleep(2000);
    clock.pause_end();
    sleep(50);
    clock.tick(ctx, Stage::Score, 20, true);
    QCOMPARE(int(events.size()), 2);
    // 20 steps in ~0.1 s of activity: ~200 steps/s (lower on a loaded machine); counting the 2 s pause would
    // give under 10 steps/s.
    QVERIFY2(events[1].steps_per_second > 20, qPrintable(QString::number(events[1].steps_per_second)));
    QVERIFY(events[1].eta_seconds > 0 && events[1].eta_seconds < 980 / 20.0);
  }

  void pauseHoldsAtAStepBoundary() {
    auto j = tiny_project();
    j["stages"]["score"]["steps"] = 400;
    j["stages"]["score"]["checkpoint_every"] = 400;
    auto p = write_project(root() / "pause", j);
    SessionOptions o;
    o.out_dir = (root() / "pause-run").string();
    o.until = Stage::Score;
    Session s(p, o);
    std::atomic<int64_t> last{0};
    s.set_event_callback([&](const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e); l && l->stage == Stage::Score) {
        last = l->step;
        if (l->step == 50) s.pause();
      }
    });
    SessionResult result;
    std::thread worker([&] { result = s.run(); });
    while (last.load() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int64_t held = last.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    QCOMPARE(last.load(), held);
    QVERIFY(held < 60);
    s.resume();
    worker.join();
    QCOMPARE(int(result.status), int(SessionStatus::Completed));
    QCOMPARE(last.load(), int64_t(400));
  }
};

QTEST_GUILESS_MAIN(TestSessionCheckpoint)
#include "test_session_checkpoint.moc"
