// The run layer a user relies on: strict JSON in every file a run writes (a non-finite metric becomes null plus
// a flag), through the helper and through a real writer.
#include <QtTest/QtTest>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/file.h"
#include "core/run/json_text.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// nlohmann's parser is strict (RFC 8259: no NaN, no Infinity, no comments); any exception fails the test.
json parse_strict(const fs::path& file) {
  const std::string text = otcs::io::read_file(file.string());
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    QTest::qFail(qPrintable(QString("%1 is not strict JSON: %2").arg(QString::fromStdString(file.string()), e.what())),
                 __FILE__, __LINE__);
    return json();
  }
}

}  // namespace

class TestRunMeta : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path dir(const char* name) const { return fs::path(tmp_.path().toStdString()) / name; }

private Q_SLOTS:
  void nonFiniteNumbersBecomeNullWithAFlag() {
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    json j = {{"loss", nan},
              {"ratio", 0.25},
              {"fd", inf},
              {"nested", {{"psnr", -inf}, {"ok", 1}}},
              {"per_class", {1.0, nan, 3.0}},
              {"rows", json::array({json{{"w2", inf}}})}};
    const std::string text = otcs::run::json_text(j);
    json back;
    try {
      back = json::parse(text);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    QVERIFY(back["loss"].is_null());
    QCOMPARE(back["ratio"].get<double>(), 0.25);
    QCOMPARE(back["nonfinite"]["loss"].get<std::string>(), std::string("nan"));
    QCOMPARE(back["nonfinite"]["fd"].get<std::string>(), std::string("inf"));
    QCOMPARE(back["nested"]["nonfinite"]["psnr"].get<std::string>(), std::string("-inf"));
    QVERIFY(!back["nested"].contains("ok") || back["nested"]["ok"] == 1);
    QVERIFY(back["per_class"][1].is_null());
    QCOMPARE(back["nonfinite"]["per_class/1"].get<std::string>(), std::string("nan"));
    QCOMPARE(back["rows"][0]["nonfinite"]["w2"].get<std::string>(), std::string("inf"));
    QVERIFY(!back.contains("nonfinite") || !back["nonfinite"].contains("ratio"));
    // Finite output is unchanged, and a file without non-finite numbers carries no flag.
    QCOMPARE(json::parse(otcs::run::json_text({{"a", 1.5}})), (json{{"a", 1.5}}));
  }

  // A stage's done.json (session::mark_done, every stage's last act) with a diverged loss.
  void aRealWriterStaysStrictWithADivergedMetric() {
    otcs::session::Project project;
    std::atomic<bool> stop{false}, pause{false};
    otcs::session::StageContext ctx(project, dir("writer"), [](const otcs::session::Event&) {}, stop, pause);
    ctx.hash = "0123456789abcdef";
    otcs::session::mark_done(ctx, otcs::session::Stage::Score,
                             {{"steps", 10}, {"final_loss", std::numeric_limits<double>::quiet_NaN()}});
    const json done = parse_strict(dir("writer") / "score" / "done.json");
    QCOMPARE(done["config_hash"].get<std::string>(), std::string("0123456789abcdef"));
    QCOMPARE(done["steps"].get<int>(), 10);
    QVERIFY(done["final_loss"].is_null());
    QCOMPARE(done["nonfinite"]["final_loss"].get<std::string>(), std::string("nan"));
  }

};

QTEST_GUILESS_MAIN(TestRunMeta)
#include "test_run_meta.moc"
