// The trajectory player: the scrubber reaches the first and the last recorded frame, stepping and playing stop at
// the ends, x_t versus x̂0 switches what is drawn, live frames extend the range, images show as a grid.
#include <QtTest/QtTest>

#include <QSlider>
#include <QStackedWidget>

#include "widgets/trajectoryplayer.h"

using namespace otcs;

namespace {

// `frames` frames of 3 samples in 2-D: x_t = (k, s), x̂0 = (-k, -s); sampler steps 1000, 900, ..., recorded.
Trajectory makeTrajectory(qint64 source, int frames, int dim = 2) {
  Trajectory t;
  t.source = source;
  t.count = 3;
  t.dim = dim;
  t.sourcePoint = QPointF(0.5, 0.5);
  for (int k = 0; k < frames; ++k) {
    TrajectoryFrame f;
    f.step = 1000 - 100 * k;
    f.t = 1.0 - double(k) / (frames - 1);
    for (int s = 0; s < t.count; ++s)
      for (int d = 0; d < dim; ++d) {
        f.x.push_back(d == 0 ? k : d == 1 ? s : 0.1f * d);
        f.x0.push_back(d == 0 ? -k : d == 1 ? -s : -0.1f * d);
      }
    t.frames.push_back(f);
  }
  return t;
}

}  // namespace

class TestTrajectoryPlayer : public QObject {
  Q_OBJECT
  std::unique_ptr<TrajectoryPlayer> player_;

 private slots:
  void init() {
    player_ = std::make_unique<TrajectoryPlayer>();
    player_->resize(900, 600);
    player_->setTrajectories({makeTrajectory(7, 11), makeTrajectory(9, 5)});
    player_->show();
    QVERIFY(QTest::qWaitForWindowExposed(player_.get()));
  }
  void cleanup() { player_.reset(); }

  void scrubberReachesFirstAndLastRecordedFrame() {
    auto* scrubber = player_->findChild<QSlider*>("scrubber");
    QVERIFY(scrubber);
    QCOMPARE(scrubber->minimum(), 0);
    QCOMPARE(scrubber->maximum(), 10);
    scrubber->setValue(scrubber->maximum());
    QCOMPARE(player_->currentFrame(), 10);
    QCOMPARE(player_->currentFrameData()->step, 0);  // the final sample
    QTest::keyClick(scrubber, Qt::Key_Home);
    QCOMPARE(player_->currentFrame(), 0);
    QCOMPARE(player_->currentFrameData()->step, 1000);  // pure noise
    QTest::keyClick(scrubber, Qt::Key_End);
    QCOMPARE(player_->currentFrame(), 10);
  }

  void stepsStopAtTheEnds() {
    player_->setFrame(0);
    player_->stepBack();
    QCOMPARE(player_->currentFrame(), 0);
    for (int i = 0; i < 20; ++i) player_->stepForward();
    QCOMPARE(player_->currentFrame(), 10);
    player_->stepBack();
    QCOMPARE(player_->currentFrame(), 9);
  }

  void playRunsToTheLastFrameAndStops() {
    player_->setFps(60);
    player_->setFrame(0);
    QSignalSpy frames(player_.get(), &TrajectoryPlayer::frameChanged);
    player_->play();
    QVERIFY(player_->isPlaying());
    QTRY_VERIFY_WITH_TIMEOUT(!player_->isPlaying(), 5000);
    QCOMPARE(player_->currentFrame(), 10);
    QCOMPARE(frames.count(), 10);  // every recorded frame was shown once
    // Play at the end starts over.
    player_->play();
    QCOMPARE(player_->currentFrame(), 0);
    player_->pause();
    QVERIFY(!player_->isPlaying());
  }

  void predictionSwitchChangesWhatIsDrawn() {
    player_->setFrame(4);
    QCOMPARE(player_->shownPoints().at(2), QPointF(4, 2));
    player_->setShowPrediction(true);
    QCOMPARE(player_->shownPoints().at(2), QPointF(-4, -2));
  }

  void sourcesAreSelectable() {
    player_->setCurrentTrajectory(1);
    QCOMPARE(player_->frameCount(), 5);
    QCOMPARE(player_->findChild<QSlider*>("scrubber")->maximum(), 4);
  }

  void liveFramesExtendTheRangeAndAreFollowed() {
    TrajectoryPlayer live;
    Trajectory t = makeTrajectory(3, 4);
    for (const TrajectoryFrame& f : t.frames) live.appendFrame(3, 3, 2, f);
    QCOMPARE(live.frameCount(), 4);
    QCOMPARE(live.currentFrame(), 3);  // stayed on the newest frame
    live.setFrame(1);
    live.appendFrame(3, 3, 2, t.frames.last());
    QCOMPARE(live.currentFrame(), 1);  // the user looking at an older frame is not yanked away
  }

  void imagesShowAsAGrid() {
    TrajectoryPlayer images;
    images.setImageShape({1, 4, 4});
    images.setTrajectories({makeTrajectory(0, 6, 16)});
    auto* stack = images.findChild<QStackedWidget*>();
    QVERIFY(stack);
    QVERIFY(qobject_cast<SampleGrid*>(stack->currentWidget()));
    const float data[16] = {-1, 1, 0, 0, -1, 1, 0, 0, -1, 1, 0, 0, -1, 1, 0, 0};
    const QImage img = sampleToImage(data, {1, 4, 4});
    QCOMPARE(qGray(img.pixel(0, 0)), 0);
    QCOMPARE(qGray(img.pixel(1, 0)), 255);
  }

  void stripHasOneCellPerChosenFrame() {
    const QImage strip = player_->renderStrip(5, 120);
    QCOMPARE(strip.width(), 600);
    QCOMPARE(player_->currentFrame(), 0);  // rendering the strip does not move the player
  }
};

QTEST_MAIN(TestTrajectoryPlayer)
#include "test_trajectoryplayer.moc"
