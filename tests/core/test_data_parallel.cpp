// Data-parallel training with c10d (ProcessGroupGloo over loopback): two ranks of this executable train the OT
// dual trainer and the score trainer for K steps on the same global batches; both ranks must end with identical
// parameters, equal (max abs diff < 1e-5) to one process trained on those batches. Then `otcs run --nproc 2`
// on a tiny project: exit 0, and only rank 0 wrote the run directory.
#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/distributed.h"
#include "core/common/runtime.h"
#include "core/diffusion/schedule.h"
#include "core/diffusion/trainer.h"
#include "core/io/file.h"
#include "core/ot/trainer.h"

namespace fs = std::filesystem;

namespace {

constexpr int kSteps = 8;
const char* kWorkerEnv = "OTCS_DP_TEST_WORKER";

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Both trainers, K steps each, on fixed data and global batches; the parameters at the end (u, v, score network,
// its EMA). In a data-parallel process the trainers take their shards of the same batches themselves.
std::vector<torch::Tensor> train_both() {
  otcs::set_threads(1);
  auto g = at::make_generator<at::CPUGeneratorImpl>(11);
  auto source = torch::randn({48, 2}, g, torch::kFloat64);
  auto target = torch::randn({48, 2}, g, torch::kFloat64) + 2.0;
  otcs::ot::TrainerOptions o;
  o.batch_size = 15;  // odd: shards of 7 and 8 rows, so the shard weights matter
  o.iterations = kSteps;
  o.lr = 1e-2;
  o.epsilon = 0.1;
  o.seed = 5;
  for (auto* spec : {&o.u_spec, &o.v_spec}) {
    spec->width = 16;
    spec->depth = 1;
    spec->dtype = torch::kFloat64;
  }
  otcs::ot::DualTrainer ot(source, target, o);
  ot.run();

  otcs::diffusion::NetworkSpec ns;
  ns.data_dim = 2;
  ns.cond_dim = 2;
  ns.hidden = 32;
  ns.blocks = 1;
  ns.embed_dim = 16;
  otcs::diffusion::ScheduleSpec sch;
  sch.steps = 100;
  ns.time_scale = 1.0 / 100.0;
  otcs::diffusion::TrainerSpec ts;
  ts.lr = 1e-3;
  ts.grad_clip = 1.0;
  ts.ema_decay = 0.9;
  ts.seed = 3;
  otcs::diffusion::ScoreTrainer score(ns, otcs::diffusion::make_schedule(sch), ts);
  auto bg = at::make_generator<at::CPUGeneratorImpl>(21);
  for (int k = 0; k < kSteps; ++k) {
    auto y0 = torch::randn({13, 2}, bg, torch::kFloat32);
    auto cond = torch::randn({13, 2}, bg, torch::kFloat32);
    score.step(y0, cond);
  }
  std::vector<torch::Tensor> out;
  for (auto& p : ot.u()->parameters()) out.push_back(p.detach().clone());
  for (auto& p : ot.v()->parameters()) out.push_back(p.detach().clone());
  for (auto& p : score.network()->parameters()) out.push_back(p.detach().to(torch::kFloat64).clone());
  for (auto& p : score.ema_network()->parameters()) out.push_back(p.detach().to(torch::kFloat64).clone());
  return out;
}

int worker_main(const std::string& dir) {
  try {
    auto& dp = otcs::dist::ProcessGroup::init_from_env();
    auto params = train_both();
    torch::save(params, dir + "/rank" + std::to_string(dp.rank()) + ".pt");
    dp.barrier();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker: %s\n", e.what());
    return 1;
  }
}

double max_abs_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}

}  // namespace

class TestDataParallel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void singleProcessIsANoOp() {
    auto& dp = otcs::dist::current();
    QVERIFY(!dp.active());
    QCOMPARE(dp.world_size(), 1);
    auto t = torch::ones({3});
    dp.all_reduce_mean({t});
    dp.barrier();
    QCOMPARE(t.sum().item<double>(), 3.0);
    QCOMPARE(dp.shard(10), std::make_pair(int64_t(0), int64_t(10)));
  }

  void twoGlooRanksEqualOneProcess() {
    QTemporaryDir tmp;
    const QString port = QString::number(free_port());
    std::vector<std::unique_ptr<QProcess>> procs;
    for (int rank = 0; rank < 2; ++rank) {
      auto env = QProcessEnvironment::systemEnvironment();
      env.insert(kWorkerEnv, tmp.path());
      env.insert("MASTER_ADDR", "127.0.0.1");
      env.insert("MASTER_PORT", port);
      env.insert("WORLD_SIZE", "2");
      env.insert("RANK", QString::number(rank));
      env.insert("OTCS_DIST_TIMEOUT", "50");
      auto p = std::make_unique<QProcess>();
      p->setProcessEnvironment(env);
      p->setProcessChannelMode(QProcess::ForwardedChannels);
      p->start(QCoreApplication::applicationFilePath(), {});
      QVERIFY(p->waitForStarted());
      procs.push_back(std::move(p));
    }
    // The reference meanwhile, in this process (no process group: WORLD_SIZE is not set here).
    const auto reference = train_both();
    for (auto& p : procs) {
      QVERIFY(p->waitForFinished(55000));
      QCOMPARE(p->exitStatus(), QProcess::NormalExit);
      QCOMPARE(p->exitCode(), 0);
    }
    std::vector<torch::Tensor> r0, r1;
    torch::load(r0, (tmp.path() + "/rank0.pt").toStdString());
    torch::load(r1, (tmp.path() + "/rank1.pt").toStdString());
    QCOMPARE(r0.size(), reference.size());
    QCOMPARE(r1.size(), reference.size());
    const double ranks = max_abs_diff(r0, r1), vs_single = max_abs_diff(r0, reference);
    qInfo("max |rank0 - rank1| = %.3g, max |rank0 - single process| = %.3g", ranks, vs_single);
    QVERIFY2(ranks == 0.0, "the ranks' parameters differ");
    QVERIFY2(vs_single < 1e-5, qPrintable(QString("data-parallel vs single process: %1").arg(vs_single)));
  }

  void otcsRunNproc2WritesOnlyFromRank0() {
    QTemporaryDir tmp;
    auto project = nlohmann::json::parse(otcs::io::read_file(OTCS_SOURCE_DIR "/projects/toy2d-quick.json"));
    project["data"]["source"]["n"] = 60;
    project["data"]["target"]["n"] = 60;
    auto& st = project["stages"];
    st["ot"] = {{"solver", "mlp"}, {"cost", "l2"},  {"epsilon", 0.01},
                {"tau", 0.5},      {"alpha", 0.97}, {"iterations", 30},
                {"batch", 16},     {"lr", 1e-3},    {"potential", {{"width", 16}, {"depth", 1}}}};
    st["score"]["network"] = {
        {"kind", "mlp"}, {"hidden", 32}, {"blocks", 1}, {"embed_dim", 16}, {"time_embedding", "fourier"}};
    st["score"]["steps"] = 30;
    st["score"]["batch"] = 32;
    st["score"]["checkpoint_every"] = 10;
    st["score"]["log_every"] = 10;
    st["sample"] = {{"sampler", {{"kind", "ancestral"}, {"steps", 20}}},
                    {"sources", 2},
                    {"per_source", 10},
                    {"trajectory_frames", 3},
                    {"trajectory_paths", 2},
                    {"seed", 4}};
    st["eval"] = {{"sources", 3},
                  {"per_source", 20},
                  {"fine_size", 100},
                  {"fine_seed", 7},
                  {"sampler", {{"kind", "ancestral"}, {"steps", 20}}},
                  {"seed", 5}};
    const std::string project_path = tmp.path().toStdString() + "/tiny.json";
    otcs::io::write_file_atomic(project_path, project.dump(2));
    const fs::path run = fs::path(tmp.path().toStdString()) / "run";
    const fs::path scratch_root = fs::path(tmp.path().toStdString()) / "tmp";
    fs::create_directories(scratch_root);

    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("TMPDIR", QString::fromStdString(scratch_root.string()));  // where rank 1 keeps its scratch run
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(OTCS_BIN_DIR "/otcs"),
            {"run", QString::fromStdString(project_path), "--out", QString::fromStdString(run.string()), "--nproc", "2",
             "--threads", "1", "--no-figures"});
    QVERIFY(p.waitForFinished(55000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QVERIFY2(p.exitCode() == 0, qPrintable(err));
    for (const char* f : {"ot/u.npy", "bridge/H.npz", "score/model.pt", "score/loss.csv", "metrics.json", "otcs.log"})
      QVERIFY2(fs::exists(run / f), f);
    // Rank 0 alone wrote: one run log line, one loss row per log step, and rank 1's scratch run is gone.
    const std::string log = otcs::io::read_file((run / "otcs.log").string());
    QVERIFY(log.find("data-parallel, 2 processes") != std::string::npos);
    const std::string loss = otcs::io::read_file((run / "score/loss.csv").string());
    QCOMPARE(std::count(loss.begin(), loss.end(), '\n'), 4L);  // header + steps 10, 20, 30
    QVERIFY(fs::is_empty(scratch_root));                       // the launcher removed its children's scratch runs
    QVERIFY2(!err.contains("rank 1"), qPrintable(err));

    // A second data-parallel run into the same directory would have to resume: refused, one line, exit 2.
    QProcess again;
    again.start(QStringLiteral(OTCS_BIN_DIR "/otcs"),
                {"run", QString::fromStdString(project_path), "--out", QString::fromStdString(run.string()), "--nproc",
                 "2", "--threads", "1", "--no-figures"});
    QVERIFY(again.waitForFinished(55000));
    QCOMPARE(again.exitCode(), 2);
    QVERIFY(QString::fromUtf8(again.readAllStandardError()).contains("--nproc 1"));
  }

  void deviceCudaOnThisBuildIsAUserError() {
    if (at::hasCUDA()) QSKIP("this LibTorch has CUDA");
    QProcess p;
    p.start(QStringLiteral(OTCS_BIN_DIR "/otcs"), {"run", "nonexistent.json", "--out", "x", "--device", "cuda"});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 2);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(err.count('\n'), 1);
    QVERIFY2(err.contains("this build has no CUDA"), qPrintable(err));
    QProcess bench;
    bench.start(QStringLiteral(OTCS_BIN_DIR "/otcs"), {"bench", "score-step", "--device", "cuda:1"});
    QVERIFY(bench.waitForFinished(30000));
    QCOMPARE(bench.exitCode(), 2);
    QVERIFY(QString::fromUtf8(bench.readAllStandardError()).contains("this build has no CUDA"));
    QProcess bad;
    bad.start(QStringLiteral(OTCS_BIN_DIR "/otcs"), {"run", "x.json", "--out", "x", "--device", "tpu"});
    QVERIFY(bad.waitForFinished(30000));
    QCOMPARE(bad.exitCode(), 2);
  }
};

int main(int argc, char** argv) {
  if (const char* dir = std::getenv(kWorkerEnv); dir && *dir) return worker_main(dir);
  QCoreApplication app(argc, argv);
  TestDataParallel test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_data_parallel.moc"
