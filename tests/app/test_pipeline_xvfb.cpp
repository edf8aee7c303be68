// The workbench walk-through, in-process under Xvfb: open projects/toy2d-keypoints.json (or a small project),
// add a keypoint pair with simulated clicks, run a short pipeline while measuring the GUI's event-loop latency,
// step the trajectory player, export one figure of each kind, and save a screenshot of each main view.
#include <QtTest/QtTest>

#include <QElapsedTimer>
#include <QPushButton>
#include <QSlider>
#include <QTabWidget>
#include <QXmlStreamReader>
#include <algorithm>

#include "app/gui/eventtext.h"
#include "app/gui/lossespage.h"
#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/runpanel.h"
#include "app/gui/sessioncontroller.h"
#include "app/gui/workbenchapp.h"
#include "widgets/datasetbrowser.h"
#include "widgets/heatmapview.h"
#include "widgets/lossplot.h"
#include "widgets/matrixinspector.h"
#include "widgets/paireditor.h"
#include "widgets/scatterpairview.h"
#include "widgets/trajectoryplayer.h"
#include "workbench_test_support.h"

using namespace otcs;
using namespace otcs::workbench;

// Measures how late a 10 ms timer fires: the GUI thread's responsiveness as a user would feel it.
class LatencyProbe : public QObject {
 public:
  LatencyProbe() {
    timer_.setInterval(10);
    timer_.setTimerType(Qt::PreciseTimer);
    connect(&timer_, &QTimer::timeout, this, [this] {
      const qint64 now = clock_.nsecsElapsed();
      if (last_ >= 0) late_ms_.push_back(std::max(0.0, (now - last_) / 1e6 - 10.0));
      last_ = now;
    });
  }
  void start() {
    clock_.start();
    last_ = -1;
    late_ms_.clear();
    timer_.start();
  }
  void stop() { timer_.stop(); }
  double percentile(double p) const {
    if (late_ms_.isEmpty()) return 0;
    QVector<double> v = late_ms_;
    std::sort(v.begin(), v.end());
    return v[std::min(int(v.size()) - 1, int(p * v.size()))];
  }
  int samples() const { return late_ms_.size(); }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ = -1;
  QVector<double> late_ms_;
};

class TestPipelineXvfb : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;
  QString shots_;

  void screenshot(const QString& name) {
    QApplication::processEvents();
    QVERIFY(window_->grab().save(QDir(shots_).filePath(name + ".png"), "PNG"));
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    initResources();
    shots_ = otcs_test::outputDir("workbench-views");
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->resize(1500, 950);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    // Keyboard shortcuts only reach an active window (Xvfb has no window manager to activate it).
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_.get()));
  }
  void cleanupTestCase() {
    window_->document()->undoStack()->setClean();
    window_.reset();
  }

  void walkThrough() {
    const QString shipped = QStringLiteral(OTCS_SOURCE_DIR "/projects/toy2d-keypoints.json");
    const bool have_shipped = QFile::exists(shipped);
    // The shipped project is copied so the test never edits the repository; its data paths stay valid only
    // when it generates its data (mixtures), which the toy project does.
    const QString project = have_shipped ? tmp_.filePath("toy2d-keypoints.json") : otcs_test::writeSmallProject(tmp_);
    if (have_shipped) QVERIFY(QFile::copy(shipped, project));
    QVERIFY(window_->openProject(project));
    QVERIFY2(window_->projectData().ok(), qPrintable(window_->projectData().error));
    screenshot("overview");

    // Datasets.
    window_->views()->setCurrentWidget(window_->datasetBrowser());
    screenshot("datasets");

    // Pairing by clicks: a source point and a target point no pair uses yet, then A.
    PairEditor* editor = window_->pairEditor();
    window_->views()->setCurrentWidget(editor);
    QApplication::processEvents();
    ScatterPairView* view = editor->view();
    view->replot();
    const KeypointPairs before = editor->pairs();
    auto used = [&](bool source, qint64 i) {
      return std::any_of(before.begin(), before.end(),
                         [&](const KeypointPair& p) { return (source ? p.source : p.target) == i; });
    };
    // Pick points whose pixel neighbourhood holds no other point, so the click is unambiguous.
    auto isolated = [&](Domain d) -> qint64 {
      const auto& pts = view->points(d);
      for (qint64 i = 0; i < pts.size(); ++i) {
        if (used(d == Domain::Source, i)) continue;
        Domain hit;
        qint64 index;
        if (view->pointAt(view->pixelOf(d, i), &hit, &index, 10.0) && hit == d && index == i) {
          bool alone = true;
          for (Domain e : {Domain::Source, Domain::Target})
            for (qint64 j = 0; j < view->points(e).size() && alone; ++j)
              if (!(e == d && j == i) && QLineF(view->pixelOf(e, j), view->pixelOf(d, i)).length() < 12) alone = false;
          if (alone) return i;
        }
      }
      return -1;
    };
    const qint64 s = isolated(Domain::Source), t = isolated(Domain::Target);
    QVERIFY2(s >= 0 && t >= 0, "no isolated points to click");
    QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, view->pixelOf(Domain::Source, s).toPoint());
    QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, view->pixelOf(Domain::Target, t).toPoint());
    QCOMPARE(editor->creator()->state(), PairCreator::State::BothPicked);
    QTest::keyClick(view, Qt::Key_A);
    QCOMPARE(editor->pairs().size(), before.size() + 1);
    QCOMPARE(editor->pairs().last(), (KeypointPair{s, t}));
    QVERIFY(window_->isWindowModified());
    screenshot("pairing");

    // A short pipeline, with the new pair, while the GUI's latency is measured.
    RunPanel* panel = window_->runPanel();
    panel->setRunDir(tmp_.filePath("run"));
    if (have_shipped) panel->setStepsScale(0.05);  // the shipped project is sized for a real run
    window_->views()->setCurrentWidget(window_->lossesPage());
    LatencyProbe probe;
    probe.start();
    QElapsedTimer clock;
    clock.start();
    QVERIFY(window_->startRun());
    QCOMPARE(window_->session()->state(), SessionController::State::Running);
    QSignalSpy finished(window_->session(), &SessionController::finished);
    // Pause and resume once mid-run: both must be honoured without stalling the GUI.
    QTRY_VERIFY_WITH_TIMEOUT(window_->lossesPage()->otPlot()->pointCount(0) > 0 ||
                                 window_->lossesPage()->scorePlot()->seriesCount() > 0 || !finished.isEmpty(),
                             120000);
    if (finished.isEmpty()) {
      window_->session()->pause();
      QCOMPARE(window_->session()->state(), SessionController::State::Paused);
      QTest::qWait(300);
      window_->session()->resume();
    }
    QVERIFY(finished.wait(300000) || !finished.isEmpty());
    probe.stop();
    const double p99 = probe.percentile(0.99), p50 = probe.percentile(0.5);
    qInfo("pipeline %.1f s; event-loop lateness over %d ticks: p50 %.1f ms, p99 %.1f ms", clock.elapsed() / 1000.0,
          probe.samples(), p50, p99);
    QCOMPARE(otcs::workbench::jobStatusText(finished.first().at(0).value<otcs::session::JobStatus>()),
             QString("completed"));
    QVERIFY2(p99 < 50.0, qPrintable(QString("p99 latency %1 ms").arg(p99)));
    QVERIFY(window_->lossesPage()->scorePlot()->pointCount(0) > 0);
    screenshot("losses");

    // H.
    window_->views()->setCurrentWidget(window_->hInspector());
    HeatmapView* heatmap = window_->hInspector()->heatmap();
    QVERIFY(heatmap->matrix());
    QTRY_VERIFY_WITH_TIMEOUT(!heatmap->isBusy() && heatmap->shownGrid().width > 0, 10000);
    heatmap->plot()->replot();
    qint64 i = -1;
    const QPoint cell = otcs_test::firstNonZeroCell(heatmap, &i, 3);
    QVERIFY(i >= 0);
    QTest::mouseClick(heatmap->plot(), Qt::LeftButton, Qt::NoModifier, cell);
    QCOMPARE(window_->hInspector()->inspectedRow(), i);
    screenshot("h");

    // Trajectories: step from the first to the last recorded frame.
    TrajectoryPlayer* player = window_->trajectoryPlayer();
    window_->views()->setCurrentWidget(player);
    QVERIFY(player->frameCount() >= 2);
    player->setFrame(0);
    const double first_t = player->currentFrameData()->t;
    for (int k = 0; k < player->frameCount() + 2; ++k) QTest::keyClick(player, Qt::Key_Right);
    QCOMPARE(player->currentFrame(), player->frameCount() - 1);
    QVERIFY(player->currentFrameData()->t < first_t);  // the reverse process runs from noise (t = T) to data
    QTest::keyClick(player, Qt::Key_Left);
    QCOMPARE(player->currentFrame(), player->frameCount() - 2);
    player->setFrame(player->frameCount() - 1);
    screenshot("trajectories");

    // One figure of each kind, from different views.
    const QString figures = otcs_test::outputDir("workbench-figures");
    const QString png = QDir(figures).filePath("losses.png"), pdf = QDir(figures).filePath("H.pdf"),
                  svg = QDir(figures).filePath("trajectory.svg"), csv = QDir(figures).filePath("pairs.csv");
    QVERIFY(window_->exportFigure(png, window_->lossesPage(), 2.0));
    QVERIFY(window_->exportFigure(pdf, window_->hInspector()));
    QVERIFY(window_->exportFigure(svg, player));
    QVERIFY(window_->exportFigure(csv, editor));
    QVERIFY(!QImage(png).isNull());
    QFile p(pdf);
    QVERIFY(p.open(QIODevice::ReadOnly) && p.read(5) == "%PDF-");
    QFile x(svg);
    QVERIFY(x.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&x);
    bool labels = false;
    while (!xml.atEnd()) {
      xml.readNext();
      if (xml.isCharacters() && xml.text().toString().contains("y₁")) labels = true;
    }
    QVERIFY(!xml.hasError());
    QVERIFY2(labels, "the SVG must carry the axis labels as text");
    QFile c(csv);
    QVERIFY(c.open(QIODevice::ReadOnly));
    QVERIFY(c.readAll().contains(QString("%1,%2").arg(s).arg(t).toUtf8()));

    // The trajectory strip PNG and the Motion-JPEG AVI, as File → Export trajectory strip / video write them.
    const QString strip = QDir(figures).filePath("trajectory_strip.png"),
                  avi = QDir(figures).filePath("trajectory.avi");
    QFile::remove(strip);
    QFile::remove(avi);
    QVERIFY(window_->writeTrajectoryStrip(strip));
    const QImage strip_image(strip);
    QVERIFY(!strip_image.isNull() && strip_image.width() > strip_image.height());
    QVERIFY(window_->writeTrajectoryVideo(avi));
    QFile a(avi);
    QVERIFY(a.open(QIODevice::ReadOnly));
    const QByteArray head = a.read(12);
    QVERIFY(head.startsWith("RIFF") && head.mid(8, 4) == "AVI ");
    QVERIFY(a.size() > 1000);
  }
};

QTEST_MAIN(TestPipelineXvfb)
#include "test_pipeline_xvfb.moc"
