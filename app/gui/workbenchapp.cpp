#include "app/gui/workbenchapp.h"
#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/importers.h"
#endif

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QTabWidget>
#include <QTimer>
#include <QWindow>
#include <algorithm>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "app/gui/mainwindow.h"
#include "app/gui/runpaths.h"
#include "widgets/heatmapview.h"
#include "core/common/error.h"
#include "core/common/log.h"
#include "core/common/runtime.h"

static void initOtcsResources() { Q_INIT_RESOURCE(otcs); }

namespace otcs::workbench {
namespace {

// Waits until the window is exposed and the queued replots of the first frames have run, then calls `then`.
void whenSettled(QWidget* window, int settle_ms, std::function<void()> then) {
  auto* poll = new QTimer(window);
  poll->setInterval(50);
  QObject::connect(poll, &QTimer::timeout, window, [=] {
    if (!window->windowHandle() || !window->windowHandle()->isExposed()) return;
    poll->stop();
    poll->deleteLater();
    QTimer::singleShot(settle_ms, window, then);
  });
  poll->start();
}

QString viewFileName(QTabWidget* views, int index) {
  QString name = views->widget(index)->objectName();
  if (name.endsWith("View")) name.chop(4);
  return name.isEmpty() ? QString("view%1").arg(index) : name;
}

}  // namespace

void initResources() { initOtcsResources(); }

int runWorkbench(int argc, char** argv) {
  otcs::tune_allocator();
#ifdef OTCS_HAVE_IMAGING
  otcs::imaging::register_session_importer();
#endif
  QApplication app(argc, argv);
  QApplication::setOrganizationName("OTCS");
  QApplication::setApplicationName("Workbench");
  QApplication::setApplicationVersion(OTCS_VERSION);
  initResources();

  QCommandLineParser parser;
  parser.setApplicationDescription("OTCS Workbench: optimal-transport-guided diffusion, interactively.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("project",
                               "Project file to open (projects/*.json), or a run directory (otcs run --out "
                               "RUN) to open with its results.",
                               "[project|run]");
  QCommandLineOption screenshot("screenshot",
                                "Grab the main window once it is shown and settled, save it as PNG "
                                "to FILE and exit.",
                                "FILE");
  QCommandLineOption screenshot_views("screenshot-views", "Save a PNG of every main view into DIR and exit.", "DIR");
  QCommandLineOption quit_after("quit-after", "Quit after MS milliseconds.", "MS");
  QCommandLineOption log_level("log-level", "trace, debug, info, warn, error, critical or off.", "LEVEL", "info");
  QCommandLineOption threads("threads", "LibTorch threads (default: all cores but one, for the GUI).", "N");
  parser.addOptions({screenshot, screenshot_views, quit_after, log_level, threads});
  parser.process(app);

  try {
    otcs::init_logging(otcs::parse_log_level(parser.value(log_level).toStdString()));
  } catch (const otcs::UserError& e) {
    std::fprintf(stderr, "otcs-workbench: error: %s\n", e.what());
    return 2;
  }
  const int n_threads = parser.isSet(threads) ? parser.value(threads).toInt() : qMax(1, otcs::default_threads() - 1);
  if (n_threads <= 0) {
    std::fprintf(stderr, "otcs-workbench: error: --threads needs a positive integer\n");
    return 2;
  }
  otcs::set_threads(n_threads);

  const bool automated = parser.isSet(screenshot) || parser.isSet(screenshot_views) || parser.isSet(quit_after);
  MainWindow window;
  window.setInteractive(!automated);
  const QStringList positional = parser.positionalArguments();
  if (positional.size() > 1) {
    std::fprintf(stderr, "otcs-workbench: error: give at most one project file\n");
    return 2;
  }
  QString to_open = positional.isEmpty() ? QString() : positional.first();
  // A run directory opens as the run: its own copy of the project, with the run's artifacts.
  if (!to_open.isEmpty() && QFileInfo(to_open).isDir() && QFileInfo::exists(runPath(to_open, &run::RunLayout::project)))
    to_open = runPath(to_open, &run::RunLayout::project);
  if (!to_open.isEmpty() && !window.openProject(to_open) && automated) return 2;
  window.show();

  int exit_code = 0;
  if (parser.isSet(screenshot)) {
    const QString path = parser.value(screenshot);
    whenSettled(&window, 300, [&window, path, &exit_code] {
      if (!window.grab().save(path, "PNG")) {
        spdlog::error("{}: cannot save the screenshot", path.toStdString());
        exit_code = 1;
      }
      window.close();
    });
  }
  if (parser.isSet(screenshot_views)) {
    const QString dir = parser.value(screenshot_views);
    whenSettled(&window, 300, [&window, dir, &exit_code] {
      QDir().mkpath(dir);
      // An image project's data loads off the GUI thread: wait for it (at most 2 min) before grabbing the views.
      QElapsedTimer loading;
      loading.start();
      while (window.isLoadingData() && loading.elapsed() < 120000)
        QApplication::processEvents(QEventLoop::AllEvents, 50);
      QTabWidget* views = window.views();
      const auto heatmaps = window.findChildren<HeatmapView*>();
      for (int i = 0; i < views->count(); ++i) {
        views->setCurrentIndex(i);
        // Let the view lay out and finish its background work (the H map is pooled off the GUI thread at the
        // size the widget has once shown), for at most 5 s.
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 250 ||
               (clock.elapsed() < 5000 &&
                std::any_of(heatmaps.begin(), heatmaps.end(), [](const HeatmapView* h) { return h->isBusy(); })))
          QApplication::processEvents(QEventLoop::AllEvents, 20);
        const QString path = QDir(dir).filePath(viewFileName(views, i) + ".png");
        if (!window.grab().save(path, "PNG")) exit_code = 1;
      }
      window.close();
    });
  }
  if (parser.isSet(quit_after)) {
    bool ok = false;
    const int ms = parser.value(quit_after).toInt(&ok);
    if (!ok || ms < 0) {
      std::fprintf(stderr, "otcs-workbench: error: --quit-after needs milliseconds\n");
      return 2;
    }
    QTimer::singleShot(ms, &window, &QWidget::close);
  }
  const int code = app.exec();
  return exit_code != 0 ? exit_code : code;
}

}  // namespace otcs::workbench
