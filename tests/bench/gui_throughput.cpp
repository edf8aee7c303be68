// bench_gui_throughput: score-stage training throughput with the workbench attached versus headless, same
// project, measured side by side in one process (docs/PERFORMANCE.md; the workbench must keep >= 95 %).
//
//   bench_gui_throughput [PROJECT] [--rounds N] [--steps S] [--threads T] [--work DIR]
//
// The OT and bridge stages run once, untimed, into WORK/prep. Each round then trains the score stage twice from a
// copy of that directory (`from = until = score`, so OT and bridge are skipped):
//   headless  a core Session run on this thread with an event callback, as `otcs run` drives it;
//   gui       a shown MainWindow with the Losses view in front, started through its Run dock (startRun():
//             SessionController, worker thread, batched events, live loss plot, progress and log dock).
// The sides alternate which goes first, so load from other processes on a shared machine hits both alike. The
// figure compared is the stage's own steps/s (ProgressClock: steps since the stage started over the time taken,
// the same code on both sides); the wall time between the stage's start and end events is printed too.
// Not a test: nothing is asserted. The platform defaults to offscreen when no display is set.
#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <vector>

#include "app/gui/lossespage.h"
#include "app/gui/eventtext.h"
#include "app/gui/mainwindow.h"
#include "app/gui/runpanel.h"
#include "app/gui/sessioncontroller.h"
#include "app/gui/workbenchapp.h"
#include "core/common/log.h"
#include "core/common/runtime.h"
#include "core/session/project.h"
#include "core/session/session.h"

namespace fs = std::filesystem;
using namespace otcs;

namespace {

struct Sample {
  double steps_per_second = 0;  // the stage's own figure at its last step
  double wall_seconds = 0;      // start event to end event, as the front end saw them
  int64_t steps = 0;
  int gui_batches = 0;  // loss batches + progress updates the GUI thread received (gui side)
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void copyRunDir(const QString& from, const QString& to) {
  fs::remove_all(to.toStdString());
  fs::copy(from.toStdString(), to.toStdString(), fs::copy_options::recursive);
}

Sample runHeadless(const QString& project_path, const QString& run_dir) {
  session::SessionOptions options;
  options.out_dir = run_dir.toStdString();
  options.from = session::Stage::Score;
  options.until = session::Stage::Score;
  session::Session run(session::load_project(project_path.toStdString()), options);
  Sample s;
  QElapsedTimer clock;
  run.set_event_callback([&](const session::Event& e) {
    if (const auto* p = std::get_if<session::ProgressEvent>(&e)) {
      if (p->stage == session::Stage::Score) {
        s.steps_per_second = p->steps_per_second;
        s.steps = p->step;
      }
    } else if (const auto* st = std::get_if<session::StageEvent>(&e)) {
      if (st->stage != session::Stage::Score) return;
      if (st->what == session::StageEvent::What::Started) {
        clock.start();
        spdlog::info("score: started");
      } else if (st->what == session::StageEvent::What::Finished) {
        s.wall_seconds = clock.nsecsElapsed() * 1e-9;
        spdlog::info("score: done ({})", st->detail);
      }
    }
  });
  const auto result = run.run();
  if (result.status != session::SessionStatus::Completed)
    throw std::runtime_error("headless run failed: " + result.message);
  return s;
}

Sample runGui(const QString& project_path, const QString& run_dir) {
  workbench::MainWindow window;
  window.setInteractive(false);
  if (!window.openProject(project_path)) throw std::runtime_error("the workbench cannot open the project");
  window.show();
  if (!QTest::qWaitForWindowExposed(&window)) throw std::runtime_error("the main window was not exposed");
  window.views()->setCurrentWidget(window.lossesPage());  // the live plot is on screen while training
  window.runPanel()->setRunDir(run_dir);
  for (const char* name : {"fromStage", "untilStage"}) {
    auto* combo = window.runPanel()->findChild<QComboBox*>(name);
    combo->setCurrentIndex(combo->findData("score"));
  }
  Sample s;
  QElapsedTimer clock;
  bool done = false;
  session::JobStatus status = session::JobStatus::Failed;
  QString message;
  auto* session = window.session();
  QObject::connect(session, &workbench::SessionController::progress, &window, [&](const workbench::StageProgress& p) {
    ++s.gui_batches;
    if (p.stage != session::Stage::Score) return;
    s.steps_per_second = p.stepsPerSecond;
    s.steps = p.step;
  });
  QObject::connect(session, &workbench::SessionController::lossPoints, &window, [&] { ++s.gui_batches; });
  QObject::connect(session, &workbench::SessionController::stageEvent, &window,
                   [&](session::Stage stage, session::StageEvent::What what, const QString&) {
                     if (stage != session::Stage::Score) return;
                     if (what == session::StageEvent::What::Started) clock.start();
                     if (what == session::StageEvent::What::Finished) s.wall_seconds = clock.nsecsElapsed() * 1e-9;
                   });
  QObject::connect(session, &workbench::SessionController::finished, &window,
                   [&](session::JobStatus st, const QString& msg, bool) {
                     done = true;
                     status = st;
                     message = msg;
                   });
  if (!window.startRun()) throw std::runtime_error("the workbench did not start the run");
  while (!done) QApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
  if (status != session::JobStatus::Completed)
    throw std::runtime_error(("gui run " + workbench::jobStatusText(status) + ": " + message).toStdString());
  QApplication::processEvents();  // the completed run's artifacts are reloaded into the views
  window.close();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY"))
    qputenv("QT_QPA_PLATFORM", "offscreen");
  otcs::tune_allocator();
  QApplication app(argc, argv);
  QApplication::setOrganizationName("OTCS");
  QApplication::setApplicationName("WorkbenchBench");
  QStandardPaths::setTestModeEnabled(true);  // window state and recent files go to a test location
  workbench::initResources();

  QCommandLineParser parser;
  parser.setApplicationDescription("Score-stage steps/s with the workbench attached versus headless.");
  parser.addHelpOption();
  parser.addPositionalArgument("project", "Project file (default projects/toy2d-keypoints.json).", "[project]");
  QCommandLineOption rounds("rounds", "Alternations of the two sides (default 3).", "N", "3");
  QCommandLineOption steps("steps", "Score steps per run (default: the project's).", "S");
  QCommandLineOption threads("threads",
                             "LibTorch threads on both sides (default 1, as otcs run and the "
                             "workbench use for point clouds on 2 cores).",
                             "T", "1");
  QCommandLineOption work("work", "Scratch directory (default a temporary one, removed).", "DIR");
  parser.addOptions({rounds, steps, threads, work});
  parser.process(app);

  otcs::init_logging(spdlog::level::info, false);
  otcs::set_threads(parser.value(threads).toInt());
  const int n_rounds = std::max(1, parser.value(rounds).toInt());
  const QString source =
      parser.positionalArguments().value(0, QStringLiteral(OTCS_SOURCE_DIR "/projects/toy2d-keypoints.json"));

  const QString work_dir =
      parser.isSet(work) ? parser.value(work)
                         : QDir::temp().filePath(QString("otcs-gui-bench-%1").arg(QApplication::applicationPid()));
  QDir().mkpath(work_dir);
  const QDir dir(work_dir);
  try {
    // The project copy both sides read: the same file, with the score steps overridden when asked.
    QFile in(source);
    if (!in.open(QIODevice::ReadOnly)) throw std::runtime_error(source.toStdString() + ": cannot read");
    QJsonObject json = QJsonDocument::fromJson(in.readAll()).object();
    if (parser.isSet(steps)) {
      QJsonObject stages = json["stages"].toObject(), score = stages["score"].toObject();
      score["steps"] = parser.value(steps).toInt();
      stages["score"] = score;
      json["stages"] = stages;
    }
    const QString project = dir.filePath("project.json");
    QFile out(project);
    if (!out.open(QIODevice::WriteOnly)) throw std::runtime_error(project.toStdString() + ": cannot write");
    out.write(QJsonDocument(json).toJson());
    out.close();
    // Project data are resolved relative to the project file: point-cloud projects carry none, others need it.
    // (QJsonObject::operator[] on a copy would insert the key it looks up: read with value()/contains().)
    const QJsonObject data = json.value("data").toObject();
    if (data.value("source").toObject().contains("file") || data.value("target").toObject().contains("file") ||
        data.value("source").toObject().contains("images") || data.value("target").toObject().contains("images"))
      throw std::runtime_error("projects with data files are not supported by this bench (copy them beside it)");

    std::printf("bench_gui_throughput: %s, %d round(s), %d thread(s), platform %s\n", qPrintable(source), n_rounds,
                parser.value(threads).toInt(), qPrintable(QApplication::platformName()));
    {
      session::SessionOptions options;
      options.out_dir = dir.filePath("prep").toStdString();
      options.until = session::Stage::Bridge;
      session::Session prep(session::load_project(project.toStdString()), options);
      if (prep.run().status != session::SessionStatus::Completed) throw std::runtime_error("ot/bridge failed");
    }
    std::vector<double> headless_rate, gui_rate, pair_ratio;
    std::printf("%-6s %-9s %8s %12s %10s %12s\n", "round", "side", "steps", "steps/s", "wall s", "gui batches");
    for (int r = 0; r < n_rounds; ++r) {
      Sample h, g;
      for (int k = 0; k < 2; ++k) {
        const bool gui_side = (k == 0) == (r % 2 == 1);  // round 0: headless first; round 1: gui first; ...
        const QString run_dir = dir.filePath(QString("run-%1-%2").arg(r).arg(gui_side ? "gui" : "headless"));
        copyRunDir(dir.filePath("prep"), run_dir);
        Sample s = gui_side ? runGui(project, run_dir) : runHeadless(project, run_dir);
        std::printf("%-6d %-9s %8lld %12.1f %10.2f %12d\n", r, gui_side ? "gui" : "headless", (long long)s.steps,
                    s.steps_per_second, s.wall_seconds, s.gui_batches);
        std::fflush(stdout);
        (gui_side ? g : h) = s;
        fs::remove_all(run_dir.toStdString());
      }
      headless_rate.push_back(h.steps_per_second);
      gui_rate.push_back(g.steps_per_second);
      pair_ratio.push_back(g.steps_per_second / h.steps_per_second);
    }
    const double mh = median(headless_rate), mg = median(gui_rate);
    std::printf("median steps/s: headless %.1f, gui %.1f; gui/headless %.3f (median of per-round ratios %.3f)\n", mh,
                mg, mg / mh, median(pair_ratio));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gui_throughput: error: %s\n", e.what());
    if (!parser.isSet(work)) QDir(work_dir).removeRecursively();
    return 1;
  }
  if (!parser.isSet(work)) QDir(work_dir).removeRecursively();
  return 0;
}
