#include "widgets/trajectoryplayer.h"

#include <algorithm>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSlider>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTextStream>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

#include "widgets/styledplot.h"

namespace otcs {
namespace {

constexpr int kMaxPaths = 64;     // more paths than this is a smear, not information
constexpr int kMaxImageRows = 8;  // image rows in the samples x steps grid

QCPColorGradient densityGradient() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(255, 255, 255));
  g.setColorStopAt(0.35, QColor(222, 235, 247));
  g.setColorStopAt(0.7, QColor(158, 202, 225));
  g.setColorStopAt(1.0, QColor(66, 146, 198));
  return g;
}

}  // namespace

TrajectoryPlayer::TrajectoryPlayer(QWidget* parent) : QWidget(parent) {
  source_box_ = new QComboBox(this);
  source_box_->setObjectName("trajectorySource");
  what_box_ = new QComboBox(this);
  what_box_->setObjectName("trajectoryQuantity");
  what_box_->addItem("x_t (noisy state)");
  what_box_->addItem("x̂0 (predicted clean sample)");
  what_box_->setToolTip("x̂0 is the model's current estimate of the final sample; it sharpens long before x_t.");
  auto tool = [this](const QString& text, const QString& name, const QString& tip) {
    auto* b = new QToolButton(this);
    b->setText(text);
    b->setObjectName(name);
    b->setToolTip(tip);
    return b;
  };
  back_button_ = tool("◀ 1", "stepBack", "Previous recorded frame (Left)");
  play_button_ = tool("▶ Play", "playPause", "Play / pause (Space)");
  forward_button_ = tool("1 ▶", "stepForward", "Next recorded frame (Right)");
  scrubber_ = new QSlider(Qt::Horizontal, this);
  scrubber_->setObjectName("scrubber");
  scrubber_->setPageStep(1);
  frame_box_ = new QSpinBox(this);
  frame_box_->setObjectName("frameBox");
  frame_box_->setPrefix("frame ");
  fps_box_ = new QSpinBox(this);
  fps_box_->setObjectName("fps");
  fps_box_->setRange(1, 60);
  fps_box_->setValue(4);
  fps_box_->setSuffix(" fps");
  loop_box_ = new QCheckBox("loop", this);
  info_ = new QLabel(this);
  info_->setObjectName("trajectoryInfo");
  info_->setMinimumWidth(220);

  plot_ = new StyledPlot(this);
  plot_->setObjectName("trajectoryCanvas");
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->xAxis->setLabel("y₁");
  plot_->yAxis->setLabel("y₂");
  density_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
  density_->setGradient(densityGradient());
  density_->setInterpolate(true);
  density_->setName("target density");
  density_->removeFromLegend();  // a colour map has no legend icon; the caption names it
  heads_ = plot_->addGraph();
  heads_->setLineStyle(QCPGraph::lsNone);
  heads_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(214, 39, 40), QColor(214, 39, 40), 6));
  heads_->setName("current samples");
  source_marker_ = plot_->addGraph();
  source_marker_->setLineStyle(QCPGraph::lsNone);
  source_marker_->setScatterStyle(
      QCPScatterStyle(QCPScatterStyle::ssStar, QPen(QColor(31, 119, 180), 2.2), Qt::NoBrush, 16));
  source_marker_->setName("conditioning source");
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  grid_ = new SampleGrid(this);
  grid_->setObjectName("trajectoryGrid");
  empty_ = new QLabel(this);
  empty_->setObjectName("trajectoryEmpty");
  empty_->setAlignment(Qt::AlignCenter);
  empty_->setWordWrap(true);
  empty_->setMargin(24);
  setEmptyText(
      "No trajectories yet: the sample stage records them (2-D projects: every sample source; image "
      "projects: stages.sample.trajectory_sources sources), and otcs translate --trajectories K for new "
      "inputs.");
  stack_ = new QStackedWidget(this);
  stack_->addWidget(plot_);
  stack_->addWidget(grid_);
  stack_->addWidget(empty_);

  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 2, 4, 2);
  bar->addWidget(source_box_);
  bar->addWidget(what_box_);
  bar->addSpacing(8);
  bar->addWidget(back_button_);
  bar->addWidget(play_button_);
  bar->addWidget(forward_button_);
  bar->addWidget(scrubber_, 1);
  bar->addWidget(frame_box_);
  bar->addWidget(fps_box_);
  bar->addWidget(loop_box_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(bar);
  layout->addWidget(info_);
  layout->addWidget(stack_, 1);

  timer_ = new QTimer(this);
  connect(timer_, &QTimer::timeout, this, [this] {
    if (frame_ + 1 < frameCount())
      setFrame(frame_ + 1);
    else if (loop_box_->isChecked() && frameCount() > 0)
      setFrame(0);
    else
      pause();  // stop on the final sample
  });
  connect(scrubber_, &QSlider::valueChanged, this, &TrajectoryPlayer::setFrame);
  connect(frame_box_, qOverload<int>(&QSpinBox::valueChanged), this, &TrajectoryPlayer::setFrame);
  connect(fps_box_, qOverload<int>(&QSpinBox::valueChanged), this, &TrajectoryPlayer::setFps);
  connect(back_button_, &QToolButton::clicked, this, &TrajectoryPlayer::stepBack);
  connect(forward_button_, &QToolButton::clicked, this, &TrajectoryPlayer::stepForward);
  connect(play_button_, &QToolButton::clicked, this, &TrajectoryPlayer::togglePlay);
  connect(what_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int i) { setShowPrediction(i == 1); });
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { fitView(); });
  connect(source_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, &TrajectoryPlayer::setCurrentTrajectory);

  auto key = [this](const QKeySequence& seq, auto slot) {
    auto* a = new QAction(this);
    a->setShortcut(seq);
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(a, &QAction::triggered, this, slot);
    addAction(a);
  };
  key(QKeySequence(Qt::Key_Space), [this] { togglePlay(); });
  key(QKeySequence(Qt::Key_Right), [this] { stepForward(); });
  key(QKeySequence(Qt::Key_Left), [this] { stepBack(); });
  key(QKeySequence(Qt::Key_Home), [this] { setFrame(0); });
  key(QKeySequence(Qt::Key_End), [this] { setFrame(frameCount() - 1); });
  setFps(fps_box_->value());
  rebuildControls();
}

void TrajectoryPlayer::setTrajectories(const QVector<Trajectory>& trajectories) {
  pause();
  trajectories_ = trajectories;
  current_ = 0;
  frame_ = 0;
  rebuildControls();
  redraw();
  fitView();
}

void TrajectoryPlayer::appendFrame(qint64 source, int count, int dim, const TrajectoryFrame& frame,
                                   QPointF sourcePoint) {
  int index = -1;
  for (int i = 0; i < trajectories_.size(); ++i)
    if (trajectories_[i].source == source) index = i;
  if (index < 0) {
    Trajectory t;
    t.source = source;
    t.count = count;
    t.dim = dim;
    t.sourcePoint = sourcePoint;
    trajectories_.push_back(t);
    index = trajectories_.size() - 1;
  }
  trajectories_[index].frames.push_back(frame);
  if (index == current_ && trajectories_[index].frames.size() == 1) fitView();  // x_T spans the widest range
  const bool follow = index == current_ && frame_ == frameCount() - 2;
  rebuildControls();
  if (follow || (index == current_ && frameCount() == 1)) setFrame(frameCount() - 1);
}

void TrajectoryPlayer::clear() { setTrajectories({}); }

void TrajectoryPlayer::setTargetDensity(const QVector<QPointF>& pts) {
  target_bounds_ = StyledPlot::boundsOf(pts);
  if (pts.size() < 2) {
    density_->data()->clear();
    return;
  }
  // A Gaussian kernel density estimate with Scott's bandwidth (n^(-1/6) per axis in 2-D), evaluated by binning
  // onto a grid and blurring with a separable Gaussian: cost O(grid) whatever the number of points.
  double mx = 0, my = 0;
  for (const QPointF& p : pts) mx += p.x(), my += p.y();
  mx /= pts.size();
  my /= pts.size();
  double vx = 0, vy = 0;
  for (const QPointF& p : pts) vx += (p.x() - mx) * (p.x() - mx), vy += (p.y() - my) * (p.y() - my);
  const double factor = std::pow(double(pts.size()), -1.0 / 6.0);
  const double hx = std::max(1e-6, std::sqrt(vx / (pts.size() - 1)) * factor);
  const double hy = std::max(1e-6, std::sqrt(vy / (pts.size() - 1)) * factor);
  const QRectF b = target_bounds_;
  const double x0 = b.left() - 4 * hx, x1 = b.right() + 4 * hx, y0 = b.top() - 4 * hy, y1 = b.bottom() + 4 * hy;
  const int n = 128;
  QVector<double> grid(n * n, 0.0);
  for (const QPointF& p : pts) {
    const int ix = std::clamp(int((p.x() - x0) / (x1 - x0) * n), 0, n - 1);
    const int iy = std::clamp(int((p.y() - y0) / (y1 - y0) * n), 0, n - 1);
    grid[iy * n + ix] += 1;
  }
  auto blur = [&](bool along_x, double sigma_cells) {
    const int radius = std::clamp(int(std::ceil(3 * sigma_cells)), 1, n);
    QVector<double> kernel(2 * radius + 1);
    for (int k = -radius; k <= radius; ++k) kernel[k + radius] = std::exp(-0.5 * k * k / (sigma_cells * sigma_cells));
    QVector<double> out(n * n, 0.0);
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        double s = 0;
        for (int k = -radius; k <= radius; ++k) {
          const int xx = along_x ? x + k : x, yy = along_x ? y : y + k;
          if (xx >= 0 && yy >= 0 && xx < n && yy < n) s += kernel[k + radius] * grid[yy * n + xx];
        }
        out[y * n + x] = s;
      }
    grid.swap(out);
  };
  blur(true, std::max(0.5, hx / ((x1 - x0) / n)));
  blur(false, std::max(0.5, hy / ((y1 - y0) / n)));
  const double dx = (x1 - x0) / n, dy = (y1 - y0) / n;
  density_->data()->setSize(n, n);
  density_->data()->setRange(QCPRange(x0 + dx / 2, x1 - dx / 2), QCPRange(y0 + dy / 2, y1 - dy / 2));
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) density_->data()->setCell(x, y, grid[y * n + x]);
  double top = 0;
  for (double v : grid) top = std::max(top, v);
  // Zero maps to white, so the grid's edge (where the estimate is ~0) does not show as a rectangle.
  density_->setDataRange(QCPRange(0.0, top > 0 ? top : 1.0));
  fitView();
}

void TrajectoryPlayer::fitView() {
  // The target set and the recorded points of the current trajectory in the shown mode (x_t or x̂0), so the view
  // does not jump while playing. Predictions x̂0 at the noisiest steps (and a diverging sampler) can lie
  // hundreds of units out: the box is the 1st..99th percentile per axis, widened by the target and the source.
  QVector<double> xs, ys;
  if (current_ < trajectories_.size()) {
    const Trajectory& t = trajectories_[current_];
    for (const TrajectoryFrame& f : t.frames)
      for (int s = 0; s < t.count; ++s) {
        const QPointF p = pointOf(f, s, show_x0_);
        if (std::isfinite(p.x()) && std::isfinite(p.y())) {
          xs << p.x();
          ys << p.y();
        }
      }
  }
  QVector<QPointF> all;
  if (!xs.isEmpty()) {
    auto quantile = [](QVector<double> v, double q) {
      const qsizetype k = std::clamp<qsizetype>(qsizetype(q * double(v.size() - 1) + 0.5), 0, v.size() - 1);
      std::nth_element(v.begin(), v.begin() + k, v.end());
      return v[k];
    };
    all << QPointF(quantile(xs, 0.01), quantile(ys, 0.01)) << QPointF(quantile(xs, 0.99), quantile(ys, 0.99));
  }
  if (std::isfinite(target_bounds_.x())) all << target_bounds_.topLeft() << target_bounds_.bottomRight();
  if (current_ < trajectories_.size() && std::isfinite(trajectories_[current_].sourcePoint.x()))
    all << trajectories_[current_].sourcePoint;
  plot_->fitTo(StyledPlot::boundsOf(all), 0.04, true);
}

void TrajectoryPlayer::setImageShape(const ImageShape& shape) {
  shape_ = shape;
  redraw();
}

void TrajectoryPlayer::setCurrentTrajectory(int index) {
  if (index < 0 || index >= trajectories_.size()) return;
  current_ = index;
  frame_ = std::min(frame_, std::max(0, frameCount() - 1));
  rebuildControls();
  redraw();
  fitView();
}

int TrajectoryPlayer::frameCount() const {
  return current_ < trajectories_.size() ? int(trajectories_[current_].frames.size()) : 0;
}

const TrajectoryFrame* TrajectoryPlayer::currentFrameData() const {
  if (current_ >= trajectories_.size() || frame_ >= frameCount()) return nullptr;
  return &trajectories_[current_].frames[frame_];
}

void TrajectoryPlayer::setShowPrediction(bool x0) {
  show_x0_ = x0;
  if (what_box_->currentIndex() != int(x0)) {
    const QSignalBlocker block(what_box_);
    what_box_->setCurrentIndex(int(x0));
  }
  fitView();
  redraw();
}

bool TrajectoryPlayer::isPlaying() const { return timer_->isActive(); }
int TrajectoryPlayer::fps() const { return fps_box_->value(); }

void TrajectoryPlayer::setFps(int fps) {
  fps = std::clamp(fps, 1, 60);
  if (fps_box_->value() != fps) {
    const QSignalBlocker block(fps_box_);
    fps_box_->setValue(fps);
  }
  timer_->setInterval(1000 / fps);
}

void TrajectoryPlayer::setFrame(int frame) {
  const int n = frameCount();
  frame = n == 0 ? 0 : std::clamp(frame, 0, n - 1);
  const bool changed = frame != frame_;
  frame_ = frame;
  {
    const QSignalBlocker b1(scrubber_), b2(frame_box_);
    scrubber_->setValue(frame_);
    frame_box_->setValue(frame_);
  }
  redraw();
  if (changed) emit frameChanged(frame_);
}

void TrajectoryPlayer::stepForward() { setFrame(frame_ + 1); }
void TrajectoryPlayer::stepBack() { setFrame(frame_ - 1); }

void TrajectoryPlayer::play() {
  if (frameCount() < 2) return;
  if (frame_ >= frameCount() - 1 && !loop_box_->isChecked()) setFrame(0);  // replay from the start
  timer_->start();
  play_button_->setText("❚❚ Pause");
}

void TrajectoryPlayer::pause() {
  timer_->stop();
  play_button_->setText("▶ Play");
}

void TrajectoryPlayer::togglePlay() { isPlaying() ? pause() : play(); }

void TrajectoryPlayer::rebuildControls() {
  {
    const QSignalBlocker block(source_box_);
    source_box_->clear();
    for (const Trajectory& t : trajectories_) source_box_->addItem(QString("source %1").arg(t.source));
    source_box_->setCurrentIndex(current_);
  }
  const int n = frameCount();
  const QSignalBlocker b1(scrubber_), b2(frame_box_);
  scrubber_->setRange(0, std::max(0, n - 1));
  frame_box_->setRange(0, std::max(0, n - 1));
  frame_box_->setSuffix(QString(" / %1").arg(std::max(0, n - 1)));
  scrubber_->setValue(frame_);
  frame_box_->setValue(frame_);
  for (QWidget* w : std::initializer_list<QWidget*>{scrubber_, frame_box_, play_button_, back_button_, forward_button_})
    w->setEnabled(n > 0);
}

QPointF TrajectoryPlayer::pointOf(const TrajectoryFrame& f, int sample, bool x0) const {
  const QVector<float>& v = x0 ? f.x0 : f.x;
  const int dim = trajectories_[current_].dim;
  if (v.size() < (sample + 1) * dim || dim < 2) return {qQNaN(), qQNaN()};
  return {double(v[sample * dim]), double(v[sample * dim + 1])};
}

QVector<QPointF> TrajectoryPlayer::shownPoints() const {
  QVector<QPointF> out;
  const TrajectoryFrame* f = currentFrameData();
  if (!f) return out;
  for (int s = 0; s < trajectories_[current_].count; ++s) out.push_back(pointOf(*f, s, show_x0_));
  return out;
}

void TrajectoryPlayer::redraw() {
  const TrajectoryFrame* f = currentFrameData();
  if (f) {
    info_->setText(
        QString("  frame %1 of %2 · sampler step %3 · t = %4 · showing %5")
            .arg(frame_)
            .arg(frameCount() - 1)
            .arg(f->step)
            .arg(f->t, 0, 'g', 4)
            .arg(show_x0_ ? "x̂0" : "x_t") +
        (density_->data()->isEmpty() || showingImages() ? QString() : QString(" · shading: target density")));
  } else {
    info_->clear();
  }
  if (trajectories_.isEmpty()) {
    stack_->setCurrentWidget(empty_);
    grid_->setImages({}, {});
    grid_rows_ = grid_columns_ = 0;
    return;
  }
  if (!showingImages()) {
    stack_->setCurrentWidget(plot_);
    redraw2d();
    return;
  }
  stack_->setCurrentWidget(grid_);
  // Samples x steps: all recorded frames when they fit, else 8 evenly spaced ones plus the current frame. Image
  // runs record one path per source, so the rows are the sources; with several paths per source the rows are
  // the current source's samples.
  const Trajectory& t = trajectories_[current_];
  QVector<int> columns =
      frameCount() <= 12 ? evenlySpacedIndices(frameCount(), frameCount()) : evenlySpacedIndices(frameCount(), 8);
  if (!columns.contains(frame_)) {
    columns.push_back(frame_);
    std::sort(columns.begin(), columns.end());
  }
  QStringList titles;
  for (int c : columns) titles << QString("step %1").arg(t.frames[c].step);
  struct RowRef {
    const Trajectory* trajectory;
    int sample;
    QString title;
  };
  QVector<RowRef> refs;
  const bool one_path_each =
      std::all_of(trajectories_.begin(), trajectories_.end(), [](const Trajectory& tr) { return tr.count == 1; });
  if (one_path_each) {
    for (const Trajectory& tr : trajectories_)
      if (refs.size() < kMaxImageRows && tr.frames.size() == t.frames.size())
        refs.push_back({&tr, 0, QString("source %1").arg(tr.source)});
  } else {
    for (int s = 0; s < std::min(t.count, int(kMaxImageRows)); ++s)
      refs.push_back({&t, s, QString("sample %1").arg(s)});
  }
  QVector<QVector<QImage>> rows;
  QStringList row_titles;
  for (const RowRef& ref : refs) {
    QVector<QImage> row;
    for (int c : columns) {
      const TrajectoryFrame& f = ref.trajectory->frames[c];
      const QVector<float>& v = show_x0_ ? f.x0 : f.x;
      const int d = ref.trajectory->dim;
      row.push_back(v.size() >= (ref.sample + 1) * d ? sampleToImage(v.constData() + ref.sample * d, shape_)
                                                     : QImage());
    }
    rows.push_back(row);
    row_titles << ref.title;
  }
  grid_rows_ = int(rows.size());
  grid_columns_ = int(columns.size());
  grid_->setImages(rows, titles, row_titles, int(columns.indexOf(frame_)));
}

bool TrajectoryPlayer::showingImages() const {
  return current_ < trajectories_.size() && trajectories_[current_].dim > 2 && shape_.valid() &&
         trajectories_[current_].dim == shape_.size();
}

bool TrajectoryPlayer::showingEmptyState() const { return stack_->currentWidget() == empty_; }

void TrajectoryPlayer::setEmptyText(const QString& text) { empty_->setText(text); }

void TrajectoryPlayer::redraw2d() {
  const int wanted = current_ < trajectories_.size() ? std::min(trajectories_[current_].count, kMaxPaths) : 0;
  while (paths_.size() > wanted) plot_->removePlottable(paths_.takeLast());
  while (paths_.size() < wanted) {
    auto* c = new QCPCurve(plot_->xAxis, plot_->yAxis);
    QColor color = seriesColor(paths_.size());
    color.setAlpha(170);
    c->setPen(QPen(color, 1.2));
    if (paths_.isEmpty())
      c->setName("paths so far");
    else
      c->removeFromLegend();
    paths_.push_back(c);
  }
  heads_->data()->clear();
  source_marker_->data()->clear();
  if (current_ < trajectories_.size()) {
    const Trajectory& t = trajectories_[current_];
    for (int s = 0; s < paths_.size(); ++s) {
      QVector<QCPCurveData> data;
      for (int k = 0; k <= frame_ && k < t.frames.size(); ++k) {
        const QPointF p = pointOf(t.frames[k], s, show_x0_);
        data.push_back({double(k), p.x(), p.y()});
      }
      paths_[s]->data()->set(data, true);
    }
    for (const QPointF& p : shownPoints()) heads_->addData(p.x(), p.y());
    if (!std::isnan(t.sourcePoint.x())) source_marker_->addData(t.sourcePoint.x(), t.sourcePoint.y());
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace otcs
