// The run layer a user relies on: one writer per run directory (a second `otcs run` on it exits 2 naming the
// first's PID, the first finishes), RUN/run.json after a finished and after a stopped run, strict JSON in every
// file a run writes (a non-finite metric becomes null plus a flag), and commands other than `run` recording
// their --out directory too (a command refused for bad input leaves it as it found it).
#include <QtTest/QtTest>

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tests/otcs_process.h"

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/run/json_text.h"
#include "core/run/lock.h"
#include "core/run/run_meta.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const QString kOtcs = QStringLiteral(OTCS_BIN_DIR "/otcs");
const QString kProject = QStringLiteral(OTCS_SOURCE_DIR "/projects/toy2d-quick.json");

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

bool wait_for(const std::function<bool()>& ready, QProcess& p, int ms) {
  QElapsedTimer clock;
  clock.start();
  while (!ready() && clock.elapsed() < ms && p.state() == QProcess::Running) QTest::qWait(20);
  return ready();
}

// The PID in RUN/.lock (0 while it is not written yet).
long lock_pid(const fs::path& run) {
  std::error_code ec;
  if (!fs::exists(run / ".lock", ec)) return 0;
  return std::atol(otcs::io::read_file((run / ".lock").string()).c_str());
}

void check_common_fields(const json& m, const QString& what) {
  for (const char* key : {"otcs_version", "git_revision", "command_line", "host", "cpu_model", "threads", "blas",
                          "device", "pid", "started", "ended", "status", "exit_code"})
    QVERIFY2(m.contains(key), qPrintable(what + ": run.json has no " + key));
  QVERIFY(m["command_line"].is_array() && m["command_line"].size() >= 3);
  QVERIFY(m["threads"].is_number_integer() && m["threads"].get<int>() >= 1);
  QVERIFY(m["blas"].is_object() && !m["blas"].value("name", "").empty());
  const QRegularExpression iso(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)");
  QVERIFY2(iso.match(QString::fromStdString(m["started"].get<std::string>())).hasMatch(), qPrintable(what));
  QVERIFY2(m["ended"].is_string(), qPrintable(what + ": no end time"));
  QVERIFY(iso.match(QString::fromStdString(m["ended"].get<std::string>())).hasMatch());
  QVERIFY(m["started"].get<std::string>() <= m["ended"].get<std::string>());
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
    otcs::session::StageContext ctx(
        project, dir("writer"), [](const otcs::session::Event&) {}, stop, pause);
    ctx.hash = "0123456789abcdef";
    otcs::session::mark_done(ctx, otcs::session::Stage::Score,
                             {{"steps", 10}, {"final_loss", std::numeric_limits<double>::quiet_NaN()}});
    const json done = parse_strict(dir("writer") / "score" / "done.json");
    QCOMPARE(done["config_hash"].get<std::string>(), std::string("0123456789abcdef"));
    QCOMPARE(done["steps"].get<int>(), 10);
    QVERIFY(done["final_loss"].is_null());
    QCOMPARE(done["nonfinite"]["final_loss"].get<std::string>(), std::string("nan"));
  }

  void oneWriterLockPerDirectory() {
    const std::string d = dir("locked").string();
    std::optional<otcs::run::WriterLock> first;
    first.emplace(d);
    QVERIFY(first->created_dir());
    QCOMPARE(std::atol(otcs::io::read_file(d + "/.lock").c_str()), long(::getpid()));
    try {
      otcs::run::WriterLock second(d);
      QFAIL("a second writer got the lock");
    } catch (const otcs::UserError& e) {
      QVERIFY2(QString(e.what()).contains(QString("PID %1").arg(::getpid())), e.what());
    }
    QVERIFY(otcs::run::writer_active(d));
    first.reset();
    QVERIFY(!otcs::run::writer_active(d));  // a killed writer's run.json may still say "running": this tells
    otcs::run::WriterLock again(d);         // released with its holder
    QVERIFY(!again.created_dir());
    QVERIFY(!otcs::run::writer_active(dir("never-locked").string()));
  }

  // Two `otcs run` on one directory at once: the second exits 2 with one sentence naming the first's PID; the first
  // finishes, and run.json and every other .json the run wrote parse as strict JSON.
  void secondRunOnADirectoryIsRefusedAndTheFirstFinishes() {
    const fs::path run = dir("run");
    const QStringList args = {"run",       kProject, "--out",       QString::fromStdString(run.string()),
                              "--threads", "1",      "--no-figures"};
    QProcess first;
    first.start(kOtcs, args);
    QVERIFY(first.waitForStarted());
    const long pid = long(first.processId());
    QVERIFY2(wait_for([&] { return lock_pid(run) == pid && fs::exists(run / "run.json"); }, first, 120000),
             "the first run never took the lock");
    const json running = parse_strict(run / "run.json");
    QCOMPARE(running["status"].get<std::string>(), std::string("running"));
    QVERIFY(running["exit_code"].is_null() && running["ended"].is_null());
    QCOMPARE(running["pid"].get<long>(), pid);

    const auto second = otcs_test::run_otcs(args, 120000);
    QCOMPARE(second.code, 2);
    QCOMPARE(second.err.count('\n'), 1);
    QVERIFY2(second.err.contains(QString("PID %1").arg(pid)), qPrintable(second.err));
    QVERIFY2(first.state() == QProcess::Running, "the second run ended the first");

    QVERIFY(first.waitForFinished(600000));
    QCOMPARE(first.exitStatus(), QProcess::NormalExit);
    QVERIFY2(first.exitCode() == 0, qPrintable(QString::fromUtf8(first.readAllStandardError()).right(2000)));

    const json meta = parse_strict(run / "run.json");
    check_common_fields(meta, "finished run");
    QCOMPARE(meta["status"].get<std::string>(), std::string("finished"));
    QCOMPARE(meta["exit_code"].get<int>(), 0);
    QCOMPARE(meta["device"].get<std::string>(), std::string("cpu"));
    QCOMPARE(meta["command_line"][1].get<std::string>(), std::string("run"));
    QCOMPARE(meta["threads"].get<int>(), 1);

    int files = 0;
    for (const auto& e : fs::recursive_directory_iterator(run)) {
      if (e.path().extension() != ".json") continue;
      ++files;
      parse_strict(e.path());
      if (QTest::currentTestFailed()) return;
    }
    // run.json, project.json, metrics.json, eval/metrics.json and the five stages' done.json at least.
    QVERIFY2(files >= 9, qPrintable(QString("only %1 .json files").arg(files)));
  }

  void runJsonAfterAStoppedRun() {
    const fs::path run = dir("stopped");
    QProcess p;
    p.start(kOtcs, {"run", kProject, "--out", QString::fromStdString(run.string()), "--threads", "1", "--no-figures"});
    QVERIFY(p.waitForStarted());
    // project.json is the session's first write: the Ctrl-C handler is in place by then.
    QVERIFY2(wait_for([&] { return fs::exists(run / "project.json"); }, p, 120000), "the run never started");
    ::kill(pid_t(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(300000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    const json meta = parse_strict(run / "run.json");
    check_common_fields(meta, "stopped run");
    QCOMPARE(meta["status"].get<std::string>(), std::string("stopped"));
    QCOMPARE(meta["exit_code"].get<int>(), 130);
  }

  // Other commands with an --out directory record it as well; a failed one in a new directory leaves nothing.
  void otherCommandsRecordTheirOutputDirectory() {
    otcs::io::write_npy(dir("y.npy").string(), torch::rand({20, 2}, torch::kFloat64));
    const fs::path out = dir("sdot");
    auto r = otcs_test::run_otcs({"sdot", "--target", QString::fromStdString(dir("y.npy").string()), "--max-iter", "5",
                                  "--threads", "1", "--out", QString::fromStdString(out.string())});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const json meta = parse_strict(out / "run.json");
    QCOMPARE(meta["status"].get<std::string>(), std::string("finished"));
    QCOMPARE(meta["command_line"][1].get<std::string>(), std::string("sdot"));
    parse_strict(out / "report.json");

    const fs::path bad = dir("sdot-bad");
    const QString missing = QString::fromStdString(dir("missing.npy").string());
    r = otcs_test::run_otcs({"sdot", "--target", missing, "--out", QString::fromStdString(bad.string())});
    QCOMPARE(r.code, 2);
    QVERIFY2(!fs::exists(bad), "a failed command left its new --out directory behind");
    // Refused for bad input in a directory that exists: the directory stays as it was, its run.json included.
    const std::string before = otcs::io::read_file((out / "run.json").string());
    r = otcs_test::run_otcs({"sdot", "--target", missing, "--out", QString::fromStdString(out.string())});
    QCOMPARE(r.code, 2);
    QCOMPARE(otcs::io::read_file((out / "run.json").string()), before);
  }
};

QTEST_GUILESS_MAIN(TestRunMeta)
#include "test_run_meta.moc"
