// Project files: defaults, strict parsing with JSON paths in every message, and the CLI's exit status 2.
#include <QtTest/QtTest>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/common/hash.h"
#include "core/io/file.h"
#include "core/session/gen_project.h"
#include "core/session/pairs_file.h"
#include "core/session/project.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;
using nlohmann::json;
using otcs::session::parse_project;
namespace session = otcs::session;

namespace {

json minimal() {
  return json::parse(R"({
    "schema_version": 1,
    "data": {
      "source": {"mixture": [{"mean": [0, 0], "std": 0.5}], "n": 50, "seed": 1},
      "target": {"mixture": [{"mean": [3, 0], "std": [0.5, 0.2]}], "n": 40, "seed": 2},
      "keypoints": [{"source": [0, 0], "target": [3, 0]}, {"source_index": 3, "target_index": 4}]
    },
    "stages": {"score": {"lr": 0.002, "network": {"hidden": 64}}, "sample": {"sources": [1, 2]}}
  })");
}

// The UserError message for a project text, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    parse_project(text, "p.json", "/base");
  } catch (const otcs::UserError& e) {
    return e.what();
  }
  return "";
}

std::string error_of(const json& j) { return error_of(j.dump()); }

// Redirects file descriptor 2 into a file for the duration of a CLI call.
class StderrCapture {
 public:
  explicit StderrCapture(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = dup(2);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    ::close(fd);
  }
  std::string release() {
    std::cerr.flush();
    std::fflush(stderr);
    dup2(saved_, 2);
    ::close(saved_);
    return otcs::io::read_file(path_);
  }

 private:
  std::string path_;
  int saved_ = -1;
};

}  // namespace

class TestSessionProject : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void minimalProjectTakesDefaults() {
    auto p = parse_project(minimal().dump(), "p.json", "/base");
    QCOMPARE(p.source.n, int64_t(50));
    QCOMPARE(int(p.target.mixture[0].std.size()), 2);
    QCOMPARE(int(p.keypoints.size()), 2);
    QCOMPARE(p.keypoints[1].target_index, int64_t(4));
    QCOMPARE(p.score.trainer.lr, 0.002);
    QCOMPARE(p.score.network.hidden, int64_t(64));
    QCOMPARE(p.score.schedule.steps, int64_t(1000));  // released T
    QCOMPARE(p.score.schedule.beta_end, 0.02);
    QVERIFY(p.ot.solver == otcs::ot::OtSolver::Exact);
    QCOMPARE(p.bridge.threshold, 0.1);
    QVERIFY(p.bridge.empty_rows == otcs::ot::EmptyRowPolicy::NextSource);
    QCOMPARE(int(p.sample.sources.size()), 2);
    QVERIFY(p.eval.enabled);
  }

  void errorsNameTheJsonPath() {
    auto j = minimal();
    j["stages"]["score"]["lr"] = "0.1";
    QCOMPARE(error_of(j), std::string("p.json: /stages/score/lr: expected a number, got string"));

    j = minimal();
    j["stages"]["score"]["lrr"] = 0.1;
    QCOMPARE(error_of(j), std::string("p.json: /stages/score/lrr: unknown key"));

    j = minimal();
    j["data"]["source"]["mixture"][0]["sd"] = 1;
    QCOMPARE(error_of(j), std::string("p.json: /data/source/mixture/0/sd: unknown key"));

    j = minimal();
    j["stages"]["score"]["steps"] = 10.5;
    QCOMPARE(error_of(j), std::string("p.json: /stages/score/steps: expected an integer, got 10.5"));

    j = minimal();
    j["stages"]["ot"]["epsilon"] = -1;
    QCOMPARE(error_of(j), std::string("p.json: /stages/ot/epsilon: must be > 0 (got -1)"));

    j = minimal();
    j["stages"]["sample"]["sampler"] = {{"kind", "rk4"}};
    QVERIFY(error_of(j).rfind("p.json: /stages/sample/sampler/kind: unknown sampler 'rk4'", 0) == 0);

    j = minimal();
    j["stages"]["sample"]["sampler"] = {{"kind", "heun"}, {"consistency", 4}};
    QCOMPARE(error_of(j), std::string("p.json: /stages/sample/sampler/consistency: data consistency works with the "
                                      "ancestral, ddim, dpm-solver++ and dpm-solver++-sde samplers"));
    j = minimal();
    j["stages"]["sample"]["sampler"] = {{"kind", "dpm-solver++"}, {"steps", 15}};
    QCOMPARE(error_of(j), std::string());

    j = minimal();
    j["data"]["keypoints"][0].erase("target");
    QCOMPARE(error_of(j), std::string("p.json: /data/keypoints/0/target: missing (a point, or use target_index)"));

    j = minimal();
    j["stages"]["bridge"]["apply_mask"] = 1;
    QCOMPARE(error_of(j), std::string("p.json: /stages/bridge/apply_mask: expected true or false, got number"));

    j = minimal();
    j["stages"] = json::array();
    QCOMPARE(error_of(j), std::string("p.json: /stages: expected an object, got array"));
  }

  void schemaVersionAndSyntax() {
    auto j = minimal();
    j.erase("schema_version");
    QCOMPARE(error_of(j), std::string("p.json: /schema_version: missing"));
    j["schema_version"] = 7;
    QVERIFY(error_of(j).find("/schema_version: version 7 is not supported") != std::string::npos);
    // An older file is told how to migrate; a newer one which otcs reads it.
    j["schema_version"] = 0;
    const std::string older = error_of(j);
    QVERIFY2(older.rfind("p.json: /schema_version: version 0 is not supported (this otcs reads version 1); to migrate, "
                         "set \"schema_version\": 1",
                         0) == 0,
             older.c_str());
    QVERIFY2(older.find("docs/PROJECT.md") != std::string::npos, older.c_str());
    // A generation project reads the same version, with the same message.
    try {
      otcs::session::parse_gen_project(R"({"schema_version": 2, "kind": "generation"})", "g.json", ".");
      QFAIL("a generation project of version 2 was accepted");
    } catch (const otcs::UserError& e) {
      QCOMPARE(std::string(e.what()),
               std::string("g.json: /schema_version: version 2 is not supported (this otcs reads version 1); the file "
                           "was written for a newer otcs, so run it with that one"));
    }
    auto msg = error_of(std::string("{\n  \"schema_version\": 1,\n  \"data\": {,}\n}"));
    QVERIFY2(msg.rfind("p.json: invalid JSON at line 3", 0) == 0, msg.c_str());
  }

  // "$schema" (an editor's pointer to resources/project.schema.json) is accepted at the top level and ignored.
  void schemaKeyIsAcceptedAndIgnored() {
    auto j = minimal();
    const auto plain = parse_project(j.dump(), "p.json", "/base");
    j["$schema"] = "../resources/project.schema.json";
    const auto with_schema = parse_project(j.dump(), "p.json", "/base");
    QVERIFY(plain.canonical == with_schema.canonical);
    j["$schema"] = 1;
    QCOMPARE(error_of(j), std::string("p.json: /$schema: expected a string, got number"));
    j = minimal();
    j["stages"]["ot"]["$schema"] = "x";
    QCOMPARE(error_of(j), std::string("p.json: /stages/ot/$schema: unknown key"));
    auto g = otcs::session::parse_gen_project(
        R"({"$schema": "../resources/project.schema.json", "schema_version": 1, "kind": "generation",
            "data": {"train": {"images": {"format": "idx", "images": "a.gz"}},
                     "test": {"images": {"format": "idx", "images": "b.gz"}}}})",
        "g.json", "/base");
    QCOMPARE(g.name, std::string("g"));
  }

  void dataPathsAreRelativeToTheProject() {
    auto j = minimal();
    j["data"]["target"] = {{"file", "data/t.npy"}};
    auto p = parse_project(j.dump(), "p.json", "/base/proj");
    QCOMPARE(p.target.file, std::string("/base/proj/data/t.npy"));
    j["data"]["target"] = {{"file", "/abs/t.npy"}};
    QVERIFY(error_of(j).find("/data/target/file: absolute paths are machine-specific") != std::string::npos);
  }

  // One content hash (FNV-1a, the published test vectors) for packs and pair files, and the stage hashes keep the
  // seed they always had: a run directory made before stays valid (its done.json hashes still match).
  void contentAndStageHashesAreStable() {
    QCOMPARE(otcs::hash_hex("a", 1), std::string("af63dc4c8601ec8c"));
    QCOMPARE(otcs::hash_hex("foobar", 6), std::string("85944171f73967e8"));
    const uint64_t first = otcs::fnv1a64("foo", 3);
    QCOMPARE(otcs::fnv1a64("bar", 3, first), otcs::fnv1a64("foobar", 6));
    QCOMPARE(otcs::session::stable_hash(""), std::string("14650fb0739d0383"));
    QCOMPARE(otcs::session::stable_hash("v1|{}"), std::string("0b114d39db3e1aa2"));
  }

  void numberSpellingsHashAlike() {
    // The workbench's JSON layer writes 1.0 as 1: the same settings must keep the same stage hashes.
    auto hashes = [](const char* clip, const char* log_every) {
      return session::stage_hashes(session::parse_project(
          std::string(R"({"schema_version": 1, "data": {"source": {"mixture": [{"mean": [0, 0]}], "n": 8},
            "target": {"mixture": [{"mean": [1.0, 0]}], "n": 8}},
            "stages": {"score": {"log_every": )") +
              log_every + R"(}, "sample": {"sampler": {"clip": )" + clip + "}}}}",
          "p.json", "/base"));
    };
    QCOMPARE(hashes("1.0", "10"), hashes("1", "10"));
    // Logging intervals stay out of the hashes; a real setting does not.
    QCOMPARE(hashes("1", "10"), hashes("1", "20"));
    QVERIFY(hashes("1", "10").at(session::Stage::Sample) != hashes("0.5", "10").at(session::Stage::Sample));
  }

  void stepsScaleChangesCountsAndHash() {
    auto p = parse_project(minimal().dump(), "p.json", "/base");
    auto before = p.canonical["score"];
    otcs::session::scale_steps(p, 0.1);
    QCOMPARE(p.score.steps, int64_t(500));
    QVERIFY(p.canonical["score"] != before);
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, otcs::session::scale_steps(p, 0));
  }

  void heldOutSetsOnlyChangeTheEvalHash() {
    auto project = [](const std::string& test_target_suites) {
      return session::parse_project(R"({"schema_version": 1, "data": {
        "source": {"images": {"format": "idx", "images": "a.gz"}},
        "target": {"images": {"format": "chinese_mnist", "root": "cm", "suites": [1, 80]}},
        "test_source": {"images": {"format": "idx", "images": "t.gz"}},
        "test_target": {"images": {"format": "chinese_mnist", "root": "cm", "suites": )" +
                                        test_target_suites + R"(}}}, "stages": {}})",
                                    "p.json", "/base");
    };
    auto a = session::stage_hashes(project("[81, 90]")), b = session::stage_hashes(project("[85, 90]"));
    for (auto stage : {session::Stage::Ot, session::Stage::Bridge, session::Stage::Score, session::Stage::Sample})
      QCOMPARE(a.at(stage), b.at(stage));
    QVERIFY(a.at(session::Stage::Eval) != b.at(session::Stage::Eval));
    // A change to the training data changes every stage.
    auto c = session::stage_hashes(session::parse_project(
        R"({"schema_version": 1, "data": {"source": {"images": {"format": "idx", "images": "b.gz"}},
            "target": {"images": {"format": "chinese_mnist", "root": "cm", "suites": [1, 80]}},
            "test_source": {"images": {"format": "idx", "images": "t.gz"}},
            "test_target": {"images": {"format": "chinese_mnist", "root": "cm", "suites": [81, 90]}}}, "stages": {}})",
        "p.json", "/base"));
    QVERIFY(a.at(session::Stage::Ot) != c.at(session::Stage::Ot));
  }

  void everyShippedProjectParses() {
    const fs::path dir = fs::path(OTCS_SOURCE_DIR) / "projects";
    int seen = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".json") continue;
      if (otcs::io::read_file(e.path().string()).find("\"generation\"") != std::string::npos) {
        // Generation projects have their own keys; the translation loader names the right commands.
        auto g = otcs::session::load_gen_project(e.path().string());
        QVERIFY(!g.name.empty());
        try {
          otcs::session::load_project(e.path().string());
          QFAIL("a generation project loaded as a translation project");
        } catch (const otcs::UserError& err) {
          QVERIFY(std::string(err.what()).find("gen-train") != std::string::npos);
        }
        ++seen;
        continue;
      }
      auto p = otcs::session::load_project(e.path().string());
      QVERIFY(!p.name.empty());
      ++seen;
    }
    QVERIFY(seen >= 2);
  }

  void cliExitsWithStatus2AndLeavesNothing() {
    QTemporaryDir tmp;
    const fs::path project = fs::path(tmp.path().toStdString()) / "bad.json";
    auto j = minimal();
    j["stages"]["score"]["lr"] = "fast";
    otcs::io::write_file_atomic(project.string(), j.dump());
    const fs::path out = fs::path(tmp.path().toStdString()) / "run";
    std::string a0 = "otcs", a1 = "run", a2 = project.string(), a3 = "--out", a4 = out.string();
    char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data()};
    StderrCapture capture((fs::path(tmp.path().toStdString()) / "stderr.txt").string());
    const int rc = otcs::cli::main_entry(5, argv);
    const std::string err = capture.release();
    QCOMPARE(rc, 2);
    QVERIFY2(err.find("bad.json: /stages/score/lr: expected a number, got string") != std::string::npos, err.c_str());
    QVERIFY(!fs::exists(out));
  }

  // Keypoint pairs files: accepted when hashes, indices and names agree; every mismatch is one UserError naming
  // the file and the JSON pointer (a float index was an unchecked cast before fuzzing found it).
  void keypointPairsFiles() {
    using otcs::session::parse_pairs_json;
    const std::vector<std::string> sn = {"a.png", "b.png", "c.png"}, tn = {"x", "y"};
    const otcs::session::PairsSide src{"hs", 3, &sn}, tgt{"ht", 2, &tn}, unnamed{"ht", 2, nullptr};
    auto pairs = [](const std::string& body) {
      return R"({"schema_version": 1, "source_hash": "hs", "target_hash": "ht", "pairs": [)" + body + "]}";
    };
    auto ok = parse_pairs_json(pairs(R"({"source": {"index": 2, "name": "c.png"}, "target": {"index": 0}})"), "k.json",
                               src, tgt);
    QCOMPARE(int(ok.size()), 1);
    QCOMPARE(ok[0], std::make_pair(int64_t(2), int64_t(0)));
    // names are only compared when the set has them
    QCOMPARE(int(parse_pairs_json(pairs(R"({"source": {"index": 0}, "target": {"index": 1, "name": "zz"}})"), "k.json",
                                  src, unnamed)
                     .size()),
             1);
    auto fails = [&](const std::string& text, const std::string& expected) {
      try {
        parse_pairs_json(text, "k.json", src, tgt);
      } catch (const otcs::UserError& e) {
        QVERIFY2(std::string(e.what()).find(expected) != std::string::npos, e.what());
        QVERIFY2(std::string(e.what()).rfind("k.json: ", 0) == 0, e.what());
        return;
      }
      QFAIL(("accepted: " + text).c_str());
    };
    fails("{not json", "not a keypoint pairs file");
    fails("[1, 2]", "expected a JSON object");
    fails(R"({"schema_version": 2, "source_hash": "hs", "target_hash": "ht", "pairs": []})",
          "schema_version must be 1");
    fails(R"({"schema_version": 1, "source_hash": "other", "target_hash": "ht", "pairs": []})",
          "source dataset changed");
    fails(pairs(R"({"source": {"index": 3}, "target": {"index": 0}})"),
          "/pairs/0/source/index: 3 is outside the 3 samples");
    fails(pairs(R"({"source": {"index": 0}, "target": {"index": 2111111111111111111111111111}})"),
          "/pairs/0/target/index: expected a whole number");
    fails(pairs(R"({"source": {"index": 1.5}, "target": {"index": 0}})"), "expected a whole number");
    fails(pairs(R"({"source": {"index": 0, "name": "b.png"}, "target": {"index": 0}})"),
          "sample 0 is 'a.png' here, 'b.png' in the file");
    fails(pairs(R"({"source": {"index": 0}})"), "malformed keypoint pairs file");
  }
};

QTEST_GUILESS_MAIN(TestSessionProject)
#include "test_session_project.moc"
