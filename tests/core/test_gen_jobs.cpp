// The generation jobs as a front end drives them (core/session/gen_jobs.h): a training reports its progress and
// window-mean loss points on the score stage and announces its files; a training stopped half-way saves a
// checkpoint, and the next training with the same settings resumes from it to exactly the model and loss curve of
// an uninterrupted one; the user's mistakes fail as user errors with nothing written. Synthetic 16x16 images.
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/io/file.h"
#include "core/run/curve.h"
#include "core/session/gen_jobs.h"

namespace fs = std::filesystem;
using namespace otcs::session;

namespace {

void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xff));
}

// An uncompressed idx pair of n images (a bright square placed by the class) and their labels 0..9.
void write_idx(const fs::path& images, const fs::path& labels, int n, int side, uint32_t seed) {
  std::string img, lab;
  put_be32(img, 0x00000803);
  put_be32(img, uint32_t(n));
  put_be32(img, uint32_t(side));
  put_be32(img, uint32_t(side));
  put_be32(lab, 0x00000801);
  put_be32(lab, uint32_t(n));
  uint32_t state = seed * 2654435761u + 1;
  for (int i = 0; i < n; ++i) {
    const int cls = i % 10;
    lab.push_back(char(cls));
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        state = state * 1664525u + 1013904223u;
        const bool inside = x / 4 == cls % 4 && y / 4 == cls / 4 % 4;
        img.push_back(char(inside ? 200 + int(state >> 28) : int(state >> 27)));
      }
  }
  otcs::io::write_file_atomic(images.string(), img);
  otcs::io::write_file_atomic(labels.string(), lab);
}

std::string read(const fs::path& p) { return otcs::io::read_file(p.string()); }

}  // namespace

class TestGenJobs : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path dir_, project_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    dir_ = tmp_.path().toStdString();
    write_idx(dir_ / "train-images", dir_ / "train-labels", 160, 16, 1);
    write_idx(dir_ / "test-images", dir_ / "test-labels", 40, 16, 2);
    project_ = dir_ / "gen.json";
    otcs::io::write_file_atomic(project_.string(), R"({"schema_version": 1, "kind": "generation", "name": "gen",
      "data": {"train": {"images": {"format": "idx", "images": "train-images", "labels": "train-labels"}},
               "test": {"images": {"format": "idx", "images": "test-images", "labels": "test-labels"}}},
      "model": {"network": {"kind": "unet", "channels": 8, "channel_mult": [1, 2], "attention_resolutions": [],
                            "groups": 4}},
      "train": {"method": "aot", "aot": 16, "steps": 12, "batch": 8, "lr_rampup": 2, "log_every": 2}})");
  }

  void trainingReportsAndResumesExactly() {
    GenTrainOptions whole;
    whole.project = project_.string();
    whole.out_dir = (dir_ / "whole").string();
    GenTrainJob a(whole);
    std::vector<LossEvent> losses;
    std::vector<ProgressEvent> progress;
    std::vector<std::string> artifacts;
    a.set_event_callback([&](const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e)) losses.push_back(*l);
      if (auto* p = std::get_if<ProgressEvent>(&e)) progress.push_back(*p);
      if (auto* f = std::get_if<ArtifactEvent>(&e)) artifacts.push_back(artifact_kind_name(f->kind));
    });
    auto r = a.run();
    QVERIFY2(r.status == JobStatus::Completed, r.message.c_str());
    QCOMPARE(int(losses.size()), 6);
    QCOMPARE(losses.back().step, int64_t(12));
    QCOMPARE(losses.back().series, std::string("aot"));
    QVERIFY(losses.back().stage == Stage::Score);
    QVERIFY(!progress.empty());
    QCOMPARE(progress.back().step, int64_t(12));
    QCOMPARE(progress.back().total, int64_t(12));
    QCOMPARE(artifacts, (std::vector<std::string>{"model", "loss", "aot_chunks", "report"}));
    QCOMPARE(a.report()["method"].get<std::string>(), std::string("aot"));

    // Stopped after step 5: a checkpoint and no model; the next run resumes and ends where the whole one did.
    GenTrainOptions split = whole;
    split.out_dir = (dir_ / "split").string();
    GenTrainJob b(split);
    b.set_event_callback([&](const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e); l && l->step == 4) b.request_stop();
    });
    r = b.run();
    QCOMPARE(int(r.status), int(JobStatus::Stopped));
    QVERIFY(fs::exists(dir_ / "split" / GenRunFiles::checkpoint));
    QVERIFY(!fs::exists(dir_ / "split" / GenRunFiles::model));
    GenTrainJob c(split);
    std::vector<int64_t> steps;
    c.set_event_callback([&](const Event& e) {
      if (auto* p = std::get_if<ProgressEvent>(&e)) steps.push_back(p->step);
    });
    r = c.run();
    QVERIFY2(r.status == JobStatus::Completed, r.message.c_str());
    QCOMPARE(steps.front(), int64_t(5));  // resumed after the 4 steps done
    QVERIFY(!fs::exists(dir_ / "split" / GenRunFiles::checkpoint));
    // The loss curves agree step for step (their wall_time column records when each row was written).
    const auto split_curve = otcs::run::read_curve((dir_ / "split" / GenRunFiles::loss).string());
    const auto whole_curve = otcs::run::read_curve((dir_ / "whole" / GenRunFiles::loss).string());
    QCOMPARE(split_curve.steps, whole_curve.steps);
    QCOMPARE(split_curve.values, whole_curve.values);
    auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
    QCOMPARE(lines(read(dir_ / "split" / GenRunFiles::aot_chunks)),
             lines(read(dir_ / "whole" / GenRunFiles::aot_chunks)));
    QVERIFY(read(dir_ / "split" / GenRunFiles::model) == read(dir_ / "whole" / GenRunFiles::model));
  }

  // The FD curve: probes every 4 steps and at the last; they leave the model as an uninterrupted training without
  // them makes it, and a stopped training keeps its earlier probes in the checkpoint.
  void fdCurveLeavesTheModelAlone() {
    std::string text = read(project_);
    const std::string key = R"("log_every": 2)";
    text.replace(text.find(key), key.size(), R"("log_every": 2, "fd_every": 4, "fd_samples": 40, "fd_nfe": 5)");
    const fs::path project = dir_ / "gen-fd.json";
    otcs::io::write_file_atomic(project.string(), text);
    GenTrainOptions o;
    o.project = project.string();
    o.out_dir = (dir_ / "fd").string();
    GenTrainJob a(o);
    std::vector<LossEvent> fd_points;
    a.set_event_callback([&](const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e); l && l->series == "aot fd") fd_points.push_back(*l);
    });
    auto r = a.run();
    QVERIFY2(r.status == JobStatus::Completed, r.message.c_str());
    const auto curve = otcs::run::read_curve((dir_ / "fd" / GenRunFiles::fd_curve).string());
    QCOMPARE(curve.steps, (std::vector<int64_t>{4, 8, 12}));
    QCOMPARE(int(fd_points.size()), 3);
    for (double v : curve.values.at(0)) QVERIFY(std::isfinite(v) && v > 0);
    QCOMPARE(a.report()["fd_curve"]["points"].get<int>(), 3);
    QCOMPARE(a.report()["fd_curve"]["final"].get<double>(), curve.values.at(0).back());
    QVERIFY(read(dir_ / "fd" / GenRunFiles::model) == read(dir_ / "whole" / GenRunFiles::model));

    // --fd-every 0 turns the curve off; a stop after step 6 keeps the probe of step 4 for the resumed training.
    o.out_dir = (dir_ / "fd-split").string();
    GenTrainJob b(o);
    b.set_event_callback([&](const Event& e) {
      if (auto* l = std::get_if<LossEvent>(&e); l && l->step == 6 && l->series == "aot") b.request_stop();
    });
    r = b.run();
    QCOMPARE(int(r.status), int(JobStatus::Stopped));
    GenTrainJob c(o);
    r = c.run();
    QVERIFY2(r.status == JobStatus::Completed, r.message.c_str());
    const auto resumed = otcs::run::read_curve((dir_ / "fd-split" / GenRunFiles::fd_curve).string());
    QCOMPARE(resumed.steps, curve.steps);
    QCOMPARE(resumed.values, curve.values);
    o.out_dir = (dir_ / "fd-off").string();
    o.fd_every = 0;
    GenTrainJob d(o);
    r = d.run();
    QVERIFY2(r.status == JobStatus::Completed, r.message.c_str());
    QVERIFY(!fs::exists(dir_ / "fd-off" / GenRunFiles::fd_curve));
    QVERIFY(!d.report().contains("fd_curve"));
  }

  void mistakesAreUserErrorsAndWriteNothing() {
    GenTrainOptions o;
    o.project = project_.string();
    o.out_dir = (dir_ / "bad").string();
    o.batch = 7;  // the chunk of 16 is no multiple of it
    GenTrainJob job(o);
    auto r = job.run();
    QCOMPARE(int(r.status), int(JobStatus::Failed));
    QVERIFY(r.user_error);
    QVERIFY2(r.message.find("multiple of the batch") != std::string::npos, r.message.c_str());
    QVERIFY(!fs::exists(dir_ / "bad"));
    o.batch.reset();
    o.out_dir = (dir_ / "whole").string();  // holds a model
    GenTrainJob again(o);
    r = again.run();
    QVERIFY(r.user_error);
    QVERIFY2(r.message.find("already holds") != std::string::npos, r.message.c_str());
  }
};

QTEST_GUILESS_MAIN(TestGenJobs)
#include "test_gen_jobs.moc"
