// `otcs compare`: two toy runs that differ only in the sample seed, compared as a user would; the flattening,
// settings diff, metrics table and curve reader on hand-written input; the refusals (exit 2, one line).
#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tests/otcs_process.h"

#include "core/common/error.h"
#include "core/io/csv.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/session/run_compare.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

class TestCompare : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void flattenKeepsOrDropsArraysAndNamesPathsWithDots() {
    const json v = json::parse(R"({"a": {"b": 1, "c": [1, 2], "d": {}}, "e": "x", "f": null, "g": true})");
    const auto whole = otcs::session::flatten_json(v, otcs::session::ArrayPolicy::Whole);
    QCOMPARE(whole.size(), size_t(6));
    QCOMPARE(whole.at("a.b"), json(1));
    QCOMPARE(whole.at("a.c"), json::parse("[1, 2]"));
    QCOMPARE(whole.at("a.d"), json::object());
    QCOMPARE(whole.at("e"), json("x"));
    const auto dropped = otcs::session::flatten_json(v, otcs::session::ArrayPolicy::Drop);
    QCOMPARE(dropped.count("a.c"), size_t(0));
    QCOMPARE(dropped.size(), size_t(5));
  }

  void settingsDiffListsExactlyTheDifferingPaths() {
    const json a = json::parse(R"({"name": "n", "s": {"seed": 0, "mean": [1, 2], "same": 1.5, "only_a": 3}})");
    const json b = json::parse(R"({"name": "n", "s": {"seed": 7, "mean": [1, 3], "same": 1.5, "only_b": null}})");
    const auto d = otcs::session::settings_diff({"A", "B"}, {a, b});
    QCOMPARE(d["runs"].dump(), std::string(R"(["A","B"])"));
    std::set<std::string> keys;
    for (const auto& [k, v] : d["differences"].items()) keys.insert(k);
    // s.only_b is null in B and absent (= null) in A: the same.
    QCOMPARE(keys, (std::set<std::string>{"s.mean", "s.only_a", "s.seed"}));
    QCOMPARE(d["differences"]["s.seed"].dump(), std::string(R"({"A":0,"B":7})"));
    QCOMPARE(d["differences"]["s.only_a"].dump(), std::string(R"({"A":3,"B":null})"));
    QCOMPARE(d["differences"]["s.mean"]["B"].dump(), std::string("[1,3]"));
  }

  void metricsCsvHasSortedColumnsEmptyGapsAndQuotedCells() {
    json a = json::parse(R"({"w2": 0.5, "nested": {"x": 1}, "list": [1, 2], "ok": true})");
    a["note"] =
        "a, \"b\"";  // kept out of the raw string: moc lexes raw strings as ordinary ones, and a \" in one derails it
    const json b = json::parse(R"({"w2": 0.25, "extra": "plain"})");
    const auto rows = lines_of(otcs::session::metrics_csv({"A", "B,2"}, {a, b}));
    QCOMPARE(rows.size(), size_t(3));
    QCOMPARE(rows[0], std::string("run,extra,nested.x,note,ok,w2"));
    QCOMPARE(rows[1], std::string(R"(A,,1,"a, ""b""",true,0.5)"));
    QCOMPARE(rows[2], std::string(R"("B,2",plain,,,,0.25)"));
  }

  void curveReaderTakesExtraColumnsAndDropsATornLastLine() {
    const auto t = otcs::io::parse_numeric_csv("step,dual_objective,wall_time\n0,1.5,0.1\n1,nan,0.2\n2,2.", "c.csv");
    QCOMPARE(t.columns.size(), size_t(3));
    QCOMPARE(t.rows(), size_t(2));
    QVERIFY(std::isnan(t.values[1][1]));
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, otcs::io::parse_numeric_csv("step,loss\n0,x\n1,2\n", "c.csv"));
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, otcs::io::parse_numeric_csv("step,loss\n0\n1,2\n", "c.csv"));
  }

  void runNamesTellDuplicateBaseNamesApart() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    for (const char* d : {"x/run", "y/run", "z"}) fs::create_directories(root / d);
    const auto names =
        otcs::session::run_names({(root / "x/run").string(), (root / "y/run/").string(), (root / "z").string()});
    QCOMPARE(names, (std::vector<std::string>{"x/run", "y/run", "z"}));
    QVERIFY_THROWS_EXCEPTION(otcs::UserError,
                             otcs::session::run_names({(root / "z").string(), (root / "x/../z").string()}));
    fs::create_directory_symlink(root / "z", root / "link");  // named as given, and still the same directory as z
    QCOMPARE(otcs::session::run_names({(root / "link").string(), (root / "x/run").string()}),
             (std::vector<std::string>{"link", "run"}));
    QVERIFY_THROWS_EXCEPTION(otcs::UserError,
                             otcs::session::run_names({(root / "z").string(), (root / "link").string()}));
  }

  void imageRunsGetTheirTranslationsSideBySide() {
    // Hand-made image runs (a project.json and eval/translations.npz each): the figure, and the log line when the
    // sources differ.
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    auto sources = torch::randint(0, 256, {12, 1, 8, 8}, torch::kUInt8);
    for (const char* run : {"P", "Q", "R"}) {
      fs::create_directories(root / run / "eval");
      otcs::io::write_file_atomic((root / run / "project.json").string(), json{{"name", run}}.dump());
      auto own = std::string(run) == "R" ? torch::randint(0, 256, {12, 1, 8, 8}, torch::kUInt8) : sources;
      otcs::io::write_npz((root / run / "eval/translations.npz").string(),
                          {{"sources", own}, {"translations", torch::randint(0, 256, {12, 1, 8, 8}, torch::kUInt8)}});
    }
    auto same =
        otcs_test::run_otcs({"compare", q(root / "P"), q(root / "Q"), "--out", q(root / "PQ"), "--sources", "4"});
    QVERIFY2(same.code == 0, qPrintable(same.err));
    QVERIFY(fs::is_regular_file(root / "PQ/translations.png"));
    QVERIFY(!same.err.contains("sources differ"));
    QVERIFY(!fs::exists(root / "PQ/losses.png"));  // no curves in these runs
    QCOMPARE(json::parse(otcs::io::read_file((root / "PQ/settings_diff.json").string()))["differences"].size(),
             size_t(1));  // the names
    auto differ = otcs_test::run_otcs({"compare", q(root / "P"), q(root / "R"), "--out", q(root / "PR")});
    QVERIFY2(differ.code == 0, qPrintable(differ.err));
    QVERIFY2(differ.err.contains("sources differ"), qPrintable(differ.err));
    QVERIFY(fs::is_regular_file(root / "PR/translations.png"));
  }

  void twoToyRunsDifferingInTheSampleSeed() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    // toy2d-quick generates its data (Gaussian mixtures): a copy elsewhere reads no file relative to it.
    auto project = json::parse(otcs::io::read_file(OTCS_SOURCE_DIR "/projects/toy2d-quick.json"));
    project["stages"]["sample"]["seed"] = 7;
    fs::create_directories(root / "b");
    otcs::io::write_file_atomic((root / "b/toy2d-quick.json").string(), project.dump(2));

    QElapsedTimer timer;
    timer.start();
    auto a = otcs_test::run_otcs(
        {"run", OTCS_SOURCE_DIR "/projects/toy2d-quick.json", "--out", q(root / "A"), "--no-figures"}, 300000);
    QVERIFY2(a.code == 0, qPrintable(a.err));
    qInfo("otcs run toy2d-quick: %.1f s", timer.elapsed() / 1000.0);
    auto b =
        otcs_test::run_otcs({"run", q(root / "b/toy2d-quick.json"), "--out", q(root / "B"), "--no-figures"}, 300000);
    QVERIFY2(b.code == 0, qPrintable(b.err));

    const fs::path out = root / "C";
    auto c = otcs_test::run_otcs({"compare", q(root / "A"), q(root / "B"), "--out", q(out)}, 120000);
    QVERIFY2(c.code == 0, qPrintable(c.err));
    QVERIFY2(c.out.contains("conditional_w2_ratio"), qPrintable(c.out));

    QVERIFY(fs::is_regular_file(out / "losses.png"));
    QCOMPARE(otcs::io::read_file((out / "losses.png").string()).substr(1, 3), std::string("PNG"));
    QVERIFY(!fs::exists(out / "translations.png"));  // 2-D runs

    const auto rows = lines_of(otcs::io::read_file((out / "metrics.csv").string()));
    QCOMPARE(rows.size(), size_t(3));
    QVERIFY(rows[0].rfind("run,", 0) == 0);
    QVERIFY(rows[0].find("conditional_w2_ratio") != std::string::npos);
    QVERIFY(rows[1].rfind("A,", 0) == 0);
    QVERIFY(rows[2].rfind("B,", 0) == 0);

    const auto diff = json::parse(otcs::io::read_file((out / "settings_diff.json").string()));
    QCOMPARE(diff["runs"], json::parse(R"(["A", "B"])"));
    std::set<std::string> keys;
    for (const auto& [k, v] : diff["differences"].items()) keys.insert(k);
    QCOMPARE(keys, std::set<std::string>{"stages.sample.seed"});
    QCOMPARE(diff["differences"]["stages.sample.seed"], json::parse(R"({"A": 4, "B": 7})"));

    // Refusals: one line, exit 2, nothing written.
    const fs::path none = root / "none";
    const QList<QStringList> bad = {{"compare", q(root / "A"), "--out", q(none)},
                                    {"compare", q(root / "A"), q(root / "b"), "--out", q(none)},
                                    {"compare", q(root / "A"), q(root / "A"), "--out", q(none)}};
    for (const auto& args : bad) {
      auto r = otcs_test::run_otcs(args, 60000);
      QCOMPARE(r.code, 2);
      QCOMPARE(r.err.count('\n'), 1);
      QVERIFY2(r.err.startsWith("otcs: error: "), qPrintable(r.err));
      QVERIFY(!fs::exists(none));
    }
  }
};

QTEST_GUILESS_MAIN(TestCompare)
#include "test_compare.moc"
