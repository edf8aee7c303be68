// Runs built from runs, through the otcs binary as a user would: a fork with --reuse takes the base run's stages
// of the same configuration (hard links) and leaves the base byte for byte what it was, also when the fork then
// re-runs a reused stage; settings that cannot change a result (logging, previews) keep every stage; live
// previews during score training; a warm start from another run's model, and the clear refusal of a warm start
// whose architecture differs, before any stage runs.
#include <QtTest/QtTest>

#include <QCryptographicHash>
#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "otcs_process.h"

using otcs_test::run_otcs;

namespace {

QJsonObject readJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

void writeJson(const QString& path, const QJsonObject& o) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(QJsonDocument(o).toJson());
}

// Every file under `dir` with its content hash.
QMap<QString, QByteArray> snapshot(const QString& dir) {
  QMap<QString, QByteArray> out;
  QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString path = it.next();
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) continue;
    out[QDir(dir).relativeFilePath(path)] = QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha1);
  }
  return out;
}

QJsonObject setKey(QJsonObject o, const QStringList& path, const QJsonValue& value) {
  if (path.size() == 1) {
    o[path[0]] = value;
    return o;
  }
  o[path[0]] = setKey(o[path[0]].toObject(), path.mid(1), value);
  return o;
}

const char* kFashion = "/usr/share/datasets/fashion-mnist";

// A tiny image project on Debian's Fashion-MNIST: 200 garments per side, a UNet of `width` channels.
QJsonObject tinyImageProject(int width) {
  const QString dir = kFashion;
  auto set = [&](int classes0, int classes1, int seed) {
    return QJsonObject{{"images", QJsonObject{{"format", "idx"},
                                              {"images", dir + "/train-images-idx3-ubyte.gz"},
                                              {"labels", dir + "/train-labels-idx1-ubyte.gz"},
                                              {"classes", QJsonArray{classes0, classes1}},
                                              {"limit", 200},
                                              {"limit_seed", seed}}}};
  };
  return QJsonObject{
      {"schema_version", 1},
      {"name", "tiny garments"},
      {"data",
       QJsonObject{{"source", set(0, 1, 1)},
                   {"target", set(5, 7, 2)},
                   {"keypoints", QJsonObject{{"rule", "class_medoid"},
                                             {"class_pairs", QJsonArray{QJsonArray{0, 5}, QJsonArray{1, 7}}}}}}},
      {"stages",
       QJsonObject{
           {"ot", QJsonObject{{"solver", "dense"}, {"epsilon", 0.0002}, {"adam_steps", 20}, {"iterations", 2}}},
           {"score", QJsonObject{{"schedule", QJsonObject{{"kind", "ddpm"}, {"steps", 100}}},
                                 {"network", QJsonObject{{"kind", "unet"},
                                                         {"channels", width},
                                                         {"channel_mult", QJsonArray{1, 2}},
                                                         {"attention_resolutions", QJsonArray{}},
                                                         {"groups", 4},
                                                         {"cond_encoder", "conv"}}},
                                 {"steps", 12},
                                 {"batch", 8},
                                 {"log_every", 4},
                                 {"preview_every", 4},
                                 {"preview_sources", 4},
                                 {"preview_steps", 5}}},
           {"sample", QJsonObject{{"sampler", QJsonObject{{"kind", "ddim"}, {"steps", 5}}}, {"trajectory_sources", 4}}},
           {"eval", QJsonObject{{"enabled", false}}}}}};
}

}  // namespace

class TestRunFork : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString a_, b_, p1_, p2_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    const QString shipped = QStringLiteral(OTCS_SOURCE_DIR "/projects/toy2d-quick.json");
    QJsonObject p = readJson(shipped);
    QVERIFY(!p.isEmpty());
    p = setKey(p, {"stages", "score", "preview_every"}, 300);
    p1_ = tmp_.filePath("P1.json");
    writeJson(p1_, p);
    QJsonObject q = setKey(p, {"stages", "sample", "seed"}, 7);
    p2_ = tmp_.filePath("P2.json");
    writeJson(p2_, q);
    a_ = tmp_.filePath("A");
    b_ = tmp_.filePath("B");
    const auto r = run_otcs({"run", p1_, "--out", a_, "--no-figures"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
  }

  void previewsDuringTraining() {
    // 1500 steps, a preview every 300: five PNGs, their data, and the index in step order.
    const QJsonObject index = readJson(QDir(a_).filePath("score/previews/previews.json"));
    const QJsonArray previews = index["previews"].toArray();
    QVERIFY2(previews.size() >= 3, qPrintable(QString::number(previews.size())));
    qint64 last = 0;
    for (const auto& v : previews) {
      const QJsonObject e = v.toObject();
      QVERIFY(e["step"].toInteger() > last);
      last = e["step"].toInteger();
      QVERIFY(QFile::exists(QDir(a_).filePath("score/previews/" + e["file"].toString())));
      QVERIFY(QFile::exists(QDir(a_).filePath("score/previews/" + e["data"].toString())));
    }
    QCOMPARE(index["sources"].toArray().size(), 8);
  }

  void forkReusesEqualStagesAndLeavesTheBaseAlone() {
    const auto before = snapshot(a_);
    const auto r = run_otcs({"run", p2_, "--out", b_, "--reuse", a_, "--no-figures"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    for (const char* stage : {"ot", "bridge", "score"})
      QVERIFY2(r.err.contains(QString("%1: reused from").arg(stage)), qPrintable(r.err));
    for (const char* stage : {"sample", "eval"}) {
      QVERIFY2(r.err.contains(QString("%1: started").arg(stage)), qPrintable(r.err));
      QVERIFY2(!r.err.contains(QString("%1: reused").arg(stage)), qPrintable(r.err));
    }
    QVERIFY(!r.err.contains("ot: started"));
    QVERIFY(QFile::exists(QDir(b_).filePath("metrics.json")));
    QCOMPARE(snapshot(a_), before);

    // Re-running a reused stage in the fork copies its files first: the base keeps every byte.
    const auto again = run_otcs({"run", p2_, "--out", b_, "--from", "score", "--no-figures"});
    QVERIFY2(again.code == 0, qPrintable(again.err));
    QVERIFY2(again.err.contains("shared with another run were copied"), qPrintable(again.err));
    QCOMPARE(snapshot(a_), before);
  }

  void loggingAndPreviewSettingsKeepEveryStage() {
    QJsonObject p = readJson(p1_);
    p = setKey(p, {"stages", "score", "log_every"}, 50);
    p = setKey(p, {"stages", "score", "preview_every"}, 0);
    p = setKey(p, {"stages", "score", "checkpoint_every"}, 700);
    const QString path = tmp_.filePath("P3.json");
    writeJson(path, p);
    const auto r = run_otcs({"run", path, "--out", a_, "--no-figures"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(!r.err.contains(": started"), qPrintable(r.err));
  }

  void warmStartAndArchitectureMismatch() {
    if (!QFile::exists(QString(kFashion) + "/train-images-idx3-ubyte.gz"))
      QSKIP("Debian's dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)");
    const QString base_project = tmp_.filePath("tiny8.json"), base = tmp_.filePath("tiny8");
    writeJson(base_project, tinyImageProject(8));
    auto r = run_otcs({"run", base_project, "--out", base, "--until", "sample", "--no-figures"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    // Image previews: grids of the same held-out sources at every step.
    const QJsonObject index = readJson(QDir(base).filePath("score/previews/previews.json"));
    QCOMPARE(index["previews"].toArray().size(), 3);
    QVERIFY(QFile::exists(QDir(base).filePath("sample/trajectories.npz")));

    // The same architecture: a warm start, logged with where it started from.
    QJsonObject warm = setKey(tinyImageProject(8), {"stages", "score", "init_from"}, base);
    warm = setKey(warm, {"data", "keypoints", "class_pairs"}, QJsonArray{QJsonArray{0, 7}, QJsonArray{1, 5}});
    const QString warm_project = tmp_.filePath("warm.json");
    writeJson(warm_project, warm);
    r = run_otcs({"run", warm_project, "--out", tmp_.filePath("warm"), "--until", "score", "--no-figures"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("score: warm start from " + QDir(base).filePath("score/model.pt")), qPrintable(r.err));
    const QJsonObject done = readJson(tmp_.filePath("warm/score/done.json"));
    QVERIFY(!done["init_model_hash"].toString().isEmpty());

    // A different width: exit 2, one sentence naming both networks, and no stage started.
    const QString wide_project = tmp_.filePath("wide.json");
    writeJson(wide_project, setKey(tinyImageProject(16), {"stages", "score", "init_from"}, base));
    r = run_otcs({"run", wide_project, "--out", tmp_.filePath("wide"), "--no-figures"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("UNet of 8 channels") && r.err.contains("UNet of 16 channels"), qPrintable(r.err));
    QVERIFY2(!r.err.contains("ot: started"), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestRunFork)
#include "test_run_fork.moc"
