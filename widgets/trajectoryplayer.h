#pragma once
// Steps through recorded sampling trajectories: a scrubber over every recorded frame (first and last included),
// play/pause at a chosen fps, step ±1, and a switch between the noisy state x_t and the predicted clean sample
// x̂0. On 2-D data the paths so far are drawn over the target density; on images a grid shows samples × frames.
#include <QImage>
#include <QVector>
#include <QWidget>

#include "widgets/figureexport.h"
#include "widgets/samplegrid.h"
#include "widgets/trajectorydata.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QSpinBox;
class QStackedWidget;
class QTimer;
class QToolButton;
class QCPColorMap;
class QCPCurve;
class QCPGraph;

namespace otcs {

class StyledPlot;

class TrajectoryPlayer : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit TrajectoryPlayer(QWidget* parent = nullptr);

  void setTrajectories(const QVector<Trajectory>& trajectories);
  // Appends a frame as it arrives from a running sampler (creates the trajectory for a new source).
  void appendFrame(qint64 source, int count, int dim, const TrajectoryFrame& frame,
                   QPointF sourcePoint = {qQNaN(), qQNaN()});
  void clear();
  void setTargetDensity(const QVector<QPointF>& targetPoints);  // 2-D: drawn as a density under the paths
  void setImageShape(const ImageShape& shape);                  // images: how to turn a sample into a picture

  int trajectoryCount() const { return trajectories_.size(); }
  int currentTrajectory() const { return current_; }
  void setCurrentTrajectory(int index);
  int frameCount() const;
  int currentFrame() const { return frame_; }
  const TrajectoryFrame* currentFrameData() const;
  bool showingPrediction() const { return show_x0_; }
  void setShowPrediction(bool x0);
  bool isPlaying() const;
  int fps() const;
  void setFps(int fps);
  // Positions drawn for the current frame (2-D), for tests and hover.
  QVector<QPointF> shownPoints() const;
  // Images: the samples x steps grid on show (rows, step columns); 0 x 0 when none is.
  bool showingImages() const;
  int gridRows() const { return grid_rows_; }
  int gridColumns() const { return grid_columns_; }
  // No trajectories: a sentence saying where they come from instead of an empty plot.
  bool showingEmptyState() const;
  void setEmptyText(const QString& text);

 public slots:
  void setFrame(int frame);
  void stepForward();
  void stepBack();
  void play();
  void pause();
  void togglePlay();

 signals:
  void frameChanged(int frame);

 public:
  // FigureSource: the current view; CSV of every frame of the current trajectory.
  QString figureName() const override { return "trajectory"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;
  // A strip of `frames` evenly spaced frames (first and last included) side by side, as one image.
  QImage renderStrip(int frames, int cellSize = 200);
  // Every recorded frame of the current trajectory at `size` (for a video).
  QVector<QImage> renderFrames(const QSize& size);

 private:
  void rebuildControls();
  void redraw();
  void redraw2d();
  void fitView();
  QPointF pointOf(const TrajectoryFrame& f, int sample, bool x0) const;

  QVector<Trajectory> trajectories_;
  int current_ = 0;
  int frame_ = 0;
  bool show_x0_ = false;
  ImageShape shape_;
  QRectF target_bounds_{qQNaN(), qQNaN(), 0, 0};

  QComboBox* source_box_ = nullptr;
  QComboBox* what_box_ = nullptr;
  QToolButton* play_button_ = nullptr;
  QToolButton* back_button_ = nullptr;
  QToolButton* forward_button_ = nullptr;
  QSlider* scrubber_ = nullptr;
  QSpinBox* frame_box_ = nullptr;
  QSpinBox* fps_box_ = nullptr;
  QCheckBox* loop_box_ = nullptr;
  QLabel* info_ = nullptr;
  QLabel* empty_ = nullptr;
  int grid_rows_ = 0, grid_columns_ = 0;
  QTimer* timer_ = nullptr;
  QStackedWidget* stack_ = nullptr;
  StyledPlot* plot_ = nullptr;
  SampleGrid* grid_ = nullptr;
  QCPColorMap* density_ = nullptr;
  QVector<QCPCurve*> paths_;
  QCPGraph* heads_ = nullptr;
  QCPGraph* source_marker_ = nullptr;
};

}  // namespace otcs
