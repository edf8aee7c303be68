// The run layout and its artifact readers and writers: one spelling per artifact, curves with a wall-time column
// that still read the older two-column files, a resumed stage cutting its curves back to its checkpoint (no
// duplicate rows), done markers, metrics, the previews index, AOT chunks and the potentials' older names.
#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/run/artifacts.h"
#include "core/run/curve.h"
#include "core/run/layout.h"
#include "core/run/trajectories.h"
#include "core/session/project.h"
#include "core/session/session.h"

namespace fs = std::filesystem;
using nlohmann::json;
namespace run = otcs::run;

namespace {

std::string text_of(const fs::path& p) { return otcs::io::read_file(p.string()); }

// A 2-D project whose OT stage is the tabular neural dual with checkpoints every 50 steps.
otcs::session::Project ot_project(const fs::path& dir) {
  const json j = json::parse(R"({
    "schema_version": 1,
    "data": {
      "source": {"mixture": [{"mean": [-1, 0], "std": 0.3}], "n": 32, "seed": 1},
      "target": {"mixture": [{"mean": [1, 0], "std": 0.3}], "n": 32, "seed": 2}
    },
    "stages": {
      "ot": {"solver": "tabular", "epsilon": 0.05, "iterations": 300, "batch": 16, "checkpoint_every": 50},
      "eval": {"enabled": false}
    }
  })");
  fs::create_directories(dir);
  otcs::io::write_file_atomic((dir / "project.json").string(), j.dump(2));
  return otcs::session::load_project((dir / "project.json").string());
}

otcs::session::SessionResult run_ot(const otcs::session::Project& p, const fs::path& out, int64_t stop_at = -1) {
  otcs::session::SessionOptions o;
  o.out_dir = out.string();
  o.until = otcs::session::Stage::Ot;
  otcs::session::Session s(p, o);
  s.set_event_callback([&](const otcs::session::Event& e) {
    if (auto* l = std::get_if<otcs::session::LossEvent>(&e); l && stop_at >= 0 && l->step >= stop_at) s.request_stop();
  });
  return s.run();
}

}  // namespace

class TestRunLayout : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path root() const { return fs::path(tmp_.path().toStdString()); }

 private Q_SLOTS:
  void pathsAreSpelledOnce() {
    const run::RunLayout rel;
    QCOMPARE(rel.loss_curve().string(), std::string("score/loss.csv"));
    QCOMPARE(rel.dual_curve().string(), std::string("ot/dual.csv"));
    QCOMPARE(rel.h().string(), std::string("bridge/H.npz"));
    QCOMPARE(rel.score_model().string(), std::string("score/model.pt"));
    QCOMPARE(rel.done_marker("sample").string(), std::string("sample/done.json"));
    QCOMPARE(rel.preview(12, "png").string(), std::string("score/previews/step_0000012.png"));
    QCOMPARE(rel.previews_index().string(), std::string("score/previews/previews.json"));
    QCOMPARE(run::RunLayout("/r").u_potential().string(), std::string("/r/ot/u_potential.pt"));
    QCOMPARE(run::OtOutputLayout("/o").u_potential().filename(), run::RunLayout().u_potential().filename());
    QCOMPARE(run::AotCompareLayout("/c").aot_run().loss_curve().string(), std::string("/c/aot/loss.csv"));
    QCOMPARE(run::AotCompareLayout().samples("edm").string(), std::string("samples_edm.npy"));
    QCOMPARE(run::AotCompareLayout("/c").dpmot_run(3).string(), std::string("/c/dpmot-m3"));
  }

  void potentialsKeepTheirOlderName() {
    const fs::path dir = root() / "potentials";
    fs::create_directories(dir);
    QVERIFY(run::find_potential(dir, 'u').empty());
    otcs::io::write_file_atomic((dir / "u.pt").string(), "old");
    QCOMPARE(run::find_potential(dir, 'u'), dir / "u.pt");
    otcs::io::write_file_atomic((dir / "u_potential.pt").string(), "new");
    QCOMPARE(run::find_potential(dir, 'u'), dir / "u_potential.pt");
    QVERIFY(run::find_potential(dir, 'v').empty());
  }

  void curvesReadBothFormats() {
    const auto old = run::parse_curve("step,loss\n5,0.5\n10,0.25\n", "old.csv");
    QCOMPARE(old.columns, std::vector<std::string>{"loss"});
    QCOMPARE(old.rows(), size_t(2));
    QVERIFY(std::isnan(old.wall_time[1]));
    const auto now =
        run::parse_curve("step,transport_cost,marginal_error_rows,wall_time\n1,2,3,1700000000.5\n2,4", "now.csv");
    QCOMPARE(now.columns, (std::vector<std::string>{"transport_cost", "marginal_error_rows"}));
    QCOMPARE(now.rows(), size_t(1));  // the torn last line is dropped
    QCOMPARE(now.wall_time[0], 1700000000.5);
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, run::parse_curve("iteration,loss\n1,2\n", "bad.csv"));
  }

  void resumedCurveKeepsRowsUpToTheCheckpoint() {
    const fs::path path = root() / "loss.csv";
    // A curve written before the wall-time column, with rows past the checkpoint's step 10.
    otcs::io::write_file_atomic(path.string(), "step,loss\n5,0.5\n10,0.25\n15,0.125\n");
    {
      run::CurveWriter w(path.string(), {"loss"}, 10);
      QCOMPARE(w.kept().rows(), size_t(2));
      w.append(15, {0.2});
    }
    auto c = run::read_curve(path.string());
    QCOMPARE(c.steps, (std::vector<int64_t>{5, 10, 15}));
    QCOMPARE(c.values[0][2], 0.2);
    QVERIFY(std::isnan(c.wall_time[0]));
    QVERIFY(std::abs(c.wall_time[2] - run::wall_time_now()) < 60);
    QVERIFY(text_of(path).rfind("step,loss,wall_time\n", 0) == 0);
    // Resumed again from 10: the row of step 15 goes, once.
    { run::CurveWriter w(path.string(), {"loss"}, 10); }
    QCOMPARE(run::read_curve(path.string()).rows(), size_t(2));
    // A fresh stage (step 0) starts the file over.
    { run::CurveWriter w(path.string(), {"loss"}); }
    QCOMPARE(text_of(path), std::string("step,loss,wall_time\n"));
  }

  void resumedOtStageHasNoDuplicateRows() {
    const fs::path dir = root() / "ot-run";
    const auto p = ot_project(dir);
    const auto first = run_ot(p, dir / "run", 120);
    QCOMPARE(int(first.status), int(otcs::session::SessionStatus::Stopped));
    const run::RunLayout layout(dir / "run");
    bool checkpointed = false;  // the OT stage's checkpoints: ckpt-<step>.pt, as the score stage's
    for (const auto& entry : fs::directory_iterator(layout.ot_dir()))
      checkpointed |= entry.path().filename().string().rfind(std::string(run::file::kCheckpointPrefix) + "-", 0) == 0;
    QVERIFY(checkpointed);
    QVERIFY(!fs::exists(layout.legacy_ot_checkpoint()));
    // The directory as an earlier version wrote it: curves without the wall-time column.
    for (const fs::path& f : {layout.dual_curve(), layout.ot_diagnostics()}) {
      const auto c = run::read_curve(f.string());
      std::string old = "step";
      for (const auto& col : c.columns) old += "," + col;
      old += "\n";
      for (size_t r = 0; r < c.rows(); ++r) {
        old += std::to_string(c.steps[r]);
        for (const auto& v : c.values) old += "," + std::to_string(v[r]);
        old += "\n";
      }
      otcs::io::write_file_atomic(f.string(), old);
    }
    const auto second = run_ot(p, dir / "run");
    QCOMPARE(int(second.status), int(otcs::session::SessionStatus::Completed));
    for (const fs::path& f : {layout.dual_curve(), layout.ot_diagnostics()}) {
      const auto c = run::read_curve(f.string());
      QVERIFY(c.rows() > 0);
      QCOMPARE(c.steps.back(), int64_t(300));
      for (size_t r = 1; r < c.rows(); ++r)
        QVERIFY2(c.steps[r] > c.steps[r - 1], qPrintable(QString::fromStdString(f.string())));
      QVERIFY(std::isnan(c.wall_time.front()));  // kept from the older file
      QVERIFY(std::isfinite(c.wall_time.back()));
    }
    QVERIFY(fs::exists(layout.u_potential()));
    QVERIFY(run::read_done_hash(layout.done_marker("ot")).has_value());
  }

  void doneMarkersAndMetrics() {
    const run::RunLayout layout(root() / "markers");
    run::write_done_marker(layout.done_marker("eval"), "abc123", {{"seconds", 1.5}});
    QCOMPARE(run::read_done_hash(layout.done_marker("eval")).value_or(""), std::string("abc123"));
    QVERIFY(!run::read_done_hash(layout.done_marker("ot")));
    fs::create_directories(layout.score_dir());
    otcs::io::write_file_atomic(layout.done_marker("score").string(), "{not json");
    QVERIFY(!run::read_done_hash(layout.done_marker("score")));

    QVERIFY(run::read_metrics(layout).is_null());
    run::write_metrics(layout, {{"ratio", std::numeric_limits<double>::infinity()}, {"w2", 0.5}});
    QCOMPARE(text_of(layout.metrics()), text_of(layout.eval_metrics()));
    const json m = run::read_metrics(layout);
    QVERIFY(m["ratio"].is_null());
    QCOMPARE(m["nonfinite"]["ratio"].get<std::string>(), std::string("inf"));
  }

  void previewsAndAotChunks() {
    const run::RunLayout layout(root() / "previews");
    QVERIFY(run::read_previews(layout).empty());
    fs::create_directories(layout.previews_dir());
    otcs::io::write_file_atomic(layout.previews_index().string(),
                                R"({"previews": [{"step": 10, "data": "step_0000010.npz", "weights": "online"},
                         {"step": 20, "data": "step_0000020.npz", "file": "step_0000020.png"}]})");
    const auto p = run::read_previews(layout);
    QCOMPARE(p.size(), size_t(2));
    QVERIFY(p[0].image.empty());
    QCOMPARE(p[1].image, layout.preview(20, "png"));
    QCOMPARE(p[0].data, layout.preview(10, "npz"));

    const fs::path chunks = root() / "aot_chunks.csv";
    otcs::io::write_file_atomic(chunks.string(), run::aot_chunks_csv({{0, 1.5, 2.5, 0.01}, {1, 1.25, 2.0, 0.02}}));
    const auto back = run::read_aot_chunks(chunks);
    QCOMPARE(back.size(), size_t(2));
    QCOMPARE(back[1].chunk, int64_t(1));
    QCOMPARE(back[1].random_cost, 2.0);
  }

  void trajectoriesRoundTrip() {
    const fs::path path = root() / "trajectories.npz";
    run::TrajectoryArrays a{torch::randn({3, 2, 4, 2}), torch::randn({3, 2, 4, 2}), torch::arange(3),
                            torch::linspace(1, 0, 3, torch::kFloat64), torch::tensor({5, 7})};
    run::write_trajectories(path.string(), a);
    const auto b = run::read_trajectories(path.string());
    QVERIFY(torch::equal(a.x, b.x));
    QCOMPARE(b.sources[1].item<int64_t>(), int64_t(7));
    a.t = torch::zeros({2}, torch::kFloat64);
    run::write_trajectories(path.string(), a);
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, run::read_trajectories(path.string()));
  }
};

QTEST_GUILESS_MAIN(TestRunLayout)
#include "test_run_layout.moc"
