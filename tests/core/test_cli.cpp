// The `otcs` command line as a user meets it: help for every subcommand, strict parsing (exit 2 with one line),
// the version report, and a binary that links no Qt library.
#include <QtTest/QtTest>

#include "tests/otcs_process.h"

#include "app/cli/command.h"
#include "core/common/runtime.h"

namespace {

otcs_test::OtcsResult run_otcs(const QStringList& args) { return otcs_test::run_otcs(args, 120000); }

}  // namespace

class TestCli : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void helpListsEveryCommandAndEachHasHelp() {
    auto r = run_otcs({"--help"});
    QCOMPARE(r.code, 0);
    for (const char* name : {"ot", "run", "translate", "compare", "metrics", "assign", "sdot", "gen-train",
                             "aot-compare", "dpmot", "bench", "version"}) {
      QVERIFY2(r.out.contains(QStringLiteral("  %1 ").arg(name)), name);
      auto h = run_otcs({name, "--help"});
      QCOMPARE(h.code, 0);
      QVERIFY2(h.out.startsWith("usage: otcs " + QString(name)), qPrintable(h.out));
      QVERIFY(h.out.contains("--log-level"));
    }
  }

  void unknownCommandOrFlagIsOneLineAndExitTwo() {
    const QList<QStringList> cases = {{"frobnicate"},
                                      {"--frobnicate"},
                                      {"version", "--frobnicate"},
                                      {"ot", "--no-such-flag", "1"},
                                      {"version", "--threads"},
                                      {"version", "--threads", "zero"},
                                      {"version", "--log-level", "loud"}};
    for (const auto& args : cases) {
      auto r = run_otcs(args);
      QCOMPARE(r.code, 2);
      QCOMPARE(r.err.count('\n'), 1);
      QVERIFY2(r.err.startsWith("otcs: error: "), qPrintable(r.err));
      QVERIFY(r.out.isEmpty());
    }
    QCOMPARE(run_otcs({}).code, 2);  // no command: usage on stderr
  }

  void versionNamesTorchBlasThreadsAndCuda() {
    auto r = run_otcs({"version", "--threads", "1"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("LibTorch:"));
    QVERIFY(r.out.contains(QRegularExpression("BLAS: +\\S+")));
    QVERIFY(r.out.contains("Threads (intra-op / inter-op / BLAS):  1 /"));
    QVERIFY(r.out.contains("CUDA:"));
    auto j = run_otcs({"version", "--json"});
    QCOMPARE(j.code, 0);
    auto doc = QJsonDocument::fromJson(j.out.toUtf8());
    QVERIFY(doc.isObject());
    QVERIFY(doc.object().contains("cuda_available"));
    // Where Debian's OpenBLAS is installed (scripts/deps.txt), it must be what LibTorch actually calls.
    if (QFile::exists("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"))
      QCOMPARE(doc.object().value("blas").toString(), QStringLiteral("OpenBLAS"));
  }

  // Without --threads: OMP_NUM_THREADS when set, else the cores, shared among the ranks of a run on this machine.
  void threadsFollowOmpNumThreadsAndTheLocalRanks() {
    auto threads = [](const QMap<QString, QString>& vars, const QStringList& extra = {}) {
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.remove("OMP_NUM_THREADS");
      env.remove("LOCAL_WORLD_SIZE");
      for (auto it = vars.begin(); it != vars.end(); ++it) env.insert(it.key(), it.value());
      auto r = otcs_test::run_otcs(QStringList{"version", "--json"} + extra, 120000, env);
      if (r.code != 0) return -1;
      const auto j = QJsonDocument::fromJson(r.out.toUtf8()).object();
      return j["Threads (intra-op / inter-op / BLAS)"].toString().section(" / ", 0, 0).toInt();
    };
    const int cores = otcs::default_threads();
    QCOMPARE(threads({}), cores);
    QCOMPARE(threads({{"OMP_NUM_THREADS", "1"}}), 1);
    QCOMPARE(threads({{"OMP_NUM_THREADS", "1"}}, {"--threads", "2"}), 2);  // the flag wins
    QCOMPARE(threads({{"OMP_NUM_THREADS", "junk"}}), cores);
    QCOMPARE(threads({{"LOCAL_WORLD_SIZE", "2"}}), std::max(1, cores / 2));
  }

  // The CPU's bf16 path is reported, and bf16 on a CPU without it is one sentence and exit status 2, before any
  // work (OTCS_CPU_BF16 pretends what the CPU has).
  void bf16NeedsTheCpuForIt() {
    auto with_bf16 = [](const char* value) {
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("OTCS_CPU_BF16", value);
      return env;
    };
    auto v = otcs_test::run_otcs({"version"}, 120000, with_bf16("none"));
    QCOMPARE(v.code, 0);
    QVERIFY2(v.out.contains(QRegularExpression("\\nbf16: +none\\n")), qPrintable(v.out));
    v = otcs_test::run_otcs({"version"}, 120000, with_bf16("avx512_bf16"));
    QVERIFY2(v.out.contains(QRegularExpression("\\nbf16: +avx512_bf16\\n")), qPrintable(v.out));

    auto r = otcs_test::run_otcs({"bench", "score-step", "--precision", "bf16", "--threads", "1"}, 120000,
                                 with_bf16("none"));
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.contains("--precision bf16: this CPU has no bfloat16 instructions"), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
    // A project asking for bf16: the run stops before writing anything.
    QTemporaryDir dir;
    const QString project = dir.filePath("p.json"), out = dir.filePath("run");
    QFile f(project);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"schema_version": 1, "data": {"source": {"mixture": [{"mean": [0, 0]}], "n": 8},
      "target": {"mixture": [{"mean": [1, 0]}], "n": 8}}, "stages": {"score": {"precision": "bf16"}}})");
    f.close();
    auto run = otcs_test::run_otcs({"run", project, "--out", out}, 120000, with_bf16("none"));
    QCOMPARE(run.code, 2);
    QVERIFY2(run.err.contains("/stages/score/precision bf16: this CPU has no bfloat16 instructions"),
             qPrintable(run.err));
    QVERIFY(!QFileInfo::exists(out));
    auto bad = run_otcs({"bench", "score-step", "--precision", "fp16"});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains("fp32, bf16 or auto"), qPrintable(bad.err));
  }

  void binaryLinksNoQt() {
    // Our own link line carries no Qt, and `ldd` shows no Qt library at all: Debian's libtorch_cpu needs OpenCV's
    // highgui (which needs Qt 5), and the build gives `otcs` an empty stand-in for it (app/cli/highgui_stub.cpp).
    QProcess readelf;
    readelf.start("readelf", {"-d", QStringLiteral(OTCS_BIN_DIR "/otcs")});
    if (!readelf.waitForStarted()) QSKIP("readelf not available");
    readelf.waitForFinished();
    auto needed = QString::fromUtf8(readelf.readAllStandardOutput());
    QVERIFY(needed.contains("NEEDED"));
    QVERIFY2(!needed.contains("libQt", Qt::CaseInsensitive), qPrintable(needed));
    QProcess ldd;
    ldd.start("ldd", {QStringLiteral(OTCS_BIN_DIR "/otcs")});
    ldd.waitForFinished();
    auto all = QString::fromUtf8(ldd.readAllStandardOutput());
    QVERIFY2(!all.contains("Qt", Qt::CaseInsensitive), qPrintable(all));
    QVERIFY2(!all.contains("not found"), qPrintable(all));
  }

  void parserRejectsRepeatsAndMissingValuesInProcess() {
    otcs::cli::Command cmd;
    cmd.name = "x";
    cmd.usage = "otcs x --a A";
    cmd.options = {{"--a", "A", "a value", "", true}};
    QVERIFY_THROWS_EXCEPTION(std::exception, otcs::cli::parse_args(cmd, {}));       // missing required
    QVERIFY_THROWS_EXCEPTION(std::exception, otcs::cli::parse_args(cmd, {"--a"}));  // missing value
    QVERIFY_THROWS_EXCEPTION(std::exception, otcs::cli::parse_args(cmd, {"--a", "1", "--a", "2"}));
    auto args = otcs::cli::parse_args(cmd, {"--a=3"});
    QCOMPARE(args.get_double("--a", 0), 3.0);
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
