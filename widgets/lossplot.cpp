#include "widgets/lossplot.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QSlider>
#include <QTextStream>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>
#include <limits>

#include "widgets/styledplot.h"

namespace otcs {
namespace {

constexpr int kSliderMax = 999;

int windowFromSlider(int v) { return qMax(1, int(std::lround(std::exp(v / double(kSliderMax) * std::log(1000.0))))); }
int sliderFromWindow(int w) { return int(std::lround(std::log(double(qMax(1, w))) / std::log(1000.0) * kSliderMax)); }

const char* kFormulaTip =
    "Off: raw values only.\n"
    "EMA: s_t = w·s_(t-1) + (1-w)·x_t, divided by (1 - w^t) so the start is not pulled towards zero\n"
    "      (TensorBoard's debiased EMA; a constant series stays constant).\n"
    "Windowed mean: mean of the last N points (finite memory).\n"
    "The raw series is always drawn faintly underneath.";

struct Extent {
  double kmin = std::numeric_limits<double>::infinity(), kmax = -std::numeric_limits<double>::infinity();
  double vmin = std::numeric_limits<double>::infinity(), vmax = -std::numeric_limits<double>::infinity();
  double posmin = std::numeric_limits<double>::infinity();
  bool any() const { return kmin <= kmax; }
};

}  // namespace

LossPlot::LossPlot(QWidget* parent) : QWidget(parent) {
  plot_ = new StyledPlot(this);
  plot_->setObjectName("lossPlotCanvas");
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->legend->setVisible(false);  // until there is a series to name
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  plot_->xAxis->setLabel("step");
  plot_->yAxis->setLabel("loss");
  plot_->installEventFilter(this);
  plot_->setMouseTracking(true);
  plot_->setMinimumSize(200, 110);  // three stacked plots fit a 800-pixel-high screen beside the docks

  // QCustomPlot's own top layer; buffered, so hovering replots only the tracer, not a million points.
  plot_->layer("overlay")->setMode(QCPLayer::lmBuffered);
  tracer_ = new QCPItemTracer(plot_);
  tracer_->setLayer("overlay");
  tracer_->setStyle(QCPItemTracer::tsCircle);
  tracer_->setSize(7);
  tracer_->setVisible(false);
  tracer_label_ = new QCPItemText(plot_);
  tracer_label_->setLayer("overlay");
  tracer_label_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  tracer_label_->position->setType(QCPItemPosition::ptAbsolute);
  tracer_label_->setPadding(QMargins(4, 2, 4, 2));
  tracer_label_->setBrush(QColor(255, 255, 255, 230));
  tracer_label_->setPen(QPen(QColor(160, 160, 160)));
  tracer_label_->setVisible(false);

  mode_box_ = new QComboBox(this);
  mode_box_->setObjectName("smoothingMode");
  mode_box_->addItem("No smoothing", int(SmoothingMode::Off));
  mode_box_->addItem("EMA (debiased)", int(SmoothingMode::Ema));
  mode_box_->addItem("Windowed mean", int(SmoothingMode::WindowedMean));
  mode_box_->setToolTip(kFormulaTip);
  strength_ = new QSlider(Qt::Horizontal, this);
  strength_->setObjectName("smoothingStrength");
  strength_->setRange(0, kSliderMax);
  strength_->setToolTip(kFormulaTip);
  strength_->setMaximumWidth(220);
  strength_label_ = new QLabel(this);
  strength_label_->setMinimumWidth(90);
  log_box_ = new QCheckBox("log y", this);
  log_box_->setObjectName("logY");
  log_box_->setToolTip("Logarithmic y axis (key Y on the plot). Values <= 0 cannot be shown and are counted.");
  auto* reset = new QToolButton(this);
  reset->setObjectName("resetView");
  reset->setText("Reset view");
  reset->setToolTip("Fit all data and follow new points (key R or double-click). Drag pans, wheel zooms.");
  badge_ = new QLabel(this);
  badge_->setObjectName("hiddenBadge");
  badge_->setStyleSheet("QLabel { color: #a05000; }");

  auto* controls = new QHBoxLayout;
  controls->setContentsMargins(4, 2, 4, 2);
  controls->addWidget(new QLabel("Smoothing:", this));
  controls->addWidget(mode_box_);
  controls->addWidget(strength_);
  controls->addWidget(strength_label_);
  controls->addSpacing(12);
  controls->addWidget(log_box_);
  controls->addWidget(reset);
  controls->addWidget(badge_);
  controls->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(controls);
  layout->addWidget(plot_, 1);

  connect(mode_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int) {
    const auto mode = SmoothingMode(mode_box_->currentData().toInt());
    setSmoothing(mode, ema_weight_, window_);
  });
  connect(strength_, &QSlider::valueChanged, this, [this](int v) {
    if (mode_ == SmoothingMode::Ema)
      setSmoothing(mode_, v / 1000.0, window_);
    else if (mode_ == SmoothingMode::WindowedMean)
      setSmoothing(mode_, ema_weight_, windowFromSlider(v));
  });
  connect(plot_, &QCustomPlot::beforeReplot, this, &LossPlot::adaptPens);
  connect(plot_, &QCustomPlot::beforeReplot, this, &LossPlot::adaptTickPrecision);
  connect(log_box_, &QCheckBox::toggled, this, &LossPlot::setLogY);
  connect(reset, &QToolButton::clicked, this, &LossPlot::resetView);
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { resetView(); });
  connect(plot_, &QCustomPlot::mouseWheel, this, [this](QWheelEvent*) { follow_ = false; });
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
    if (e->buttons() != Qt::NoButton) follow_ = false;
  });
  syncControls();
}

void LossPlot::setTitle(const QString& title) {
  if (plot_->plotLayout()->rowCount() == 1) {
    plot_->plotLayout()->insertRow(0);
    auto* text = new QCPTextElement(plot_, title, QFont(font().family(), qRound(font().pointSizeF() + 1), QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, text);
  } else if (auto* text = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0))) {
    text->setText(title);
  }
  scheduleReplot();
}

void LossPlot::setAxisLabels(const QString& x, const QString& y) {
  plot_->xAxis->setLabel(x);
  plot_->yAxis->setLabel(y);
  scheduleReplot();
}

int LossPlot::addSeries(const QString& name, const QColor& color) {
  const int existing = seriesId(name);
  if (existing >= 0) return existing;
  Series s;
  s.name = name;
  s.color = color.isValid() ? color : seriesColor(series_.size());
  s.raw = plot_->addGraph();
  s.raw->removeFromLegend();
  s.smooth = plot_->addGraph();
  s.smooth->setName(name);
  s.smoother = Smoother(mode_, ema_weight_, window_);
  restyleSeries(s);
  series_.push_back(s);
  plot_->legend->setVisible(true);
  scheduleReplot();
  return series_.size() - 1;
}

int LossPlot::seriesId(const QString& name) const {
  for (int i = 0; i < series_.size(); ++i)
    if (series_[i].name == name) return i;
  return -1;
}

QString LossPlot::seriesName(int id) const { return id >= 0 && id < series_.size() ? series_[id].name : QString(); }

void LossPlot::restyleSeries(Series& s) {
  const bool smoothing = mode_ != SmoothingMode::Off;
  s.raw->setScatterStyle(QCPScatterStyle());
  s.smooth->setScatterStyle(QCPScatterStyle());
  QColor faint = s.color;
  faint.setAlpha(smoothing ? 70 : 255);
  s.raw->setPen(QPen(faint, smoothing ? 1.0 : 1.4));
  s.raw->setAntialiased(!smoothing);
  s.raw->setAdaptiveSampling(true);
  s.smooth->setPen(QPen(s.color, 1.8));
  s.smooth->setAdaptiveSampling(true);
  adaptPens();
  s.smooth->setVisible(smoothing);
  // The legend must name the line that is actually drawn.
  if (smoothing) {
    s.raw->removeFromLegend();
    s.smooth->addToLegend();
  } else {
    s.smooth->removeFromLegend();
    s.raw->setName(s.name);
    s.raw->addToLegend();
  }
}

void LossPlot::appendPoint(int id, double step, double value) { appendPoints(id, {step}, {value}); }

void LossPlot::appendPoints(int id, const QVector<double>& steps, const QVector<double>& values) {
  if (id < 0 || id >= series_.size() || steps.size() != values.size() || steps.isEmpty()) return;
  Series& s = series_[id];
  QVector<double> smoothed;
  smoothed.reserve(values.size());
  for (double v : values) {
    smoothed.push_back(s.smoother.push(v));
    if (!std::isfinite(v)) continue;
    if (!(v > 0))
      ++s.nonPositive;
    else
      s.posmin = qMin(s.posmin, v);
    s.vmin = qMin(s.vmin, v);
    s.vmax = qMax(s.vmax, v);
  }
  const bool sorted = s.raw->data()->isEmpty() || steps.first() >= (s.raw->data()->constEnd() - 1)->key;
  s.raw->addData(steps, values, sorted);
  s.smooth->addData(steps, smoothed, sorted);
  if (!sorted) recomputeSmoothing(s);  // out-of-order steps (a resumed run): smooth in step order
  updateBadge();
  if (follow_)
    resetView();
  else
    scheduleReplot();
}

void LossPlot::clearData() {
  for (Series& s : series_) {
    s.raw->data()->clear();
    s.smooth->data()->clear();
    s.smoother.reset();
    s.nonPositive = 0;
    s.vmin = s.posmin = qInf();
    s.vmax = -qInf();
  }
  updateBadge();
  follow_ = true;
  scheduleReplot();
}

void LossPlot::removeSeries() {
  for (Series& s : series_) {
    plot_->removeGraph(s.raw);
    plot_->removeGraph(s.smooth);
  }
  series_.clear();
  plot_->legend->setVisible(false);
  updateBadge();
  scheduleReplot();
}

int LossPlot::pointCount(int id) const { return id >= 0 && id < series_.size() ? series_[id].raw->data()->size() : 0; }

QVector<double> LossPlot::smoothedValues(int id) const {
  QVector<double> out;
  if (id < 0 || id >= series_.size()) return out;
  const auto& g = series_[id].smooth;
  out.reserve(g->data()->size());
  for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) out.push_back(it->value);
  return out;
}

QVector<double> LossPlot::rawValues(int id) const {
  QVector<double> out;
  if (id < 0 || id >= series_.size()) return out;
  const auto& g = series_[id].raw;
  out.reserve(g->data()->size());
  for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) out.push_back(it->value);
  return out;
}

void LossPlot::recomputeSmoothing(Series& s) {
  s.smoother = Smoother(mode_, ema_weight_, window_);
  auto raw = s.raw->data();
  QVector<QCPGraphData> smooth;
  smooth.reserve(raw->size());
  for (auto it = raw->constBegin(); it != raw->constEnd(); ++it)
    smooth.push_back({it->key, s.smoother.push(it->value)});
  s.smooth->data()->set(smooth, true);
}

void LossPlot::setSmoothing(SmoothingMode mode, double emaWeight, int window) {
  mode_ = mode;
  ema_weight_ = qBound(0.0, emaWeight, 0.999);
  window_ = qBound(1, window, 1000);
  for (Series& s : series_) {
    recomputeSmoothing(s);
    restyleSeries(s);
  }
  syncControls();
  scheduleReplot();
}

void LossPlot::syncControls() {
  const QSignalBlocker b1(mode_box_), b2(strength_);
  mode_box_->setCurrentIndex(mode_box_->findData(int(mode_)));
  strength_->setEnabled(mode_ != SmoothingMode::Off);
  if (mode_ == SmoothingMode::Ema) {
    strength_->setValue(qRound(ema_weight_ * 1000));
    strength_label_->setText(QString("w = %1").arg(ema_weight_, 0, 'f', 3));
  } else if (mode_ == SmoothingMode::WindowedMean) {
    strength_->setValue(sliderFromWindow(window_));
    strength_label_->setText(QString("N = %1").arg(window_));
  } else {
    strength_label_->clear();
  }
}

void LossPlot::setLogY(bool on) {
  log_y_ = on;
  {
    const QSignalBlocker block(log_box_);
    log_box_->setChecked(on);
  }
  if (on) {
    plot_->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    plot_->yAxis->setNumberFormat("eb");
    plot_->yAxis->setNumberPrecision(0);
  } else {
    plot_->yAxis->setScaleType(QCPAxis::stLinear);
    plot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    plot_->yAxis->setNumberFormat("gb");
    plot_->yAxis->setNumberPrecision(6);
  }
  updateBadge();
  resetView();
}

void LossPlot::updateBadge() {
  qint64 hidden = 0;
  for (const Series& s : series_) hidden += s.nonPositive;
  // Never hide data silently (users of TensorBoard's "ignore outliers" thought they had lost data).
  if (log_y_ && hidden > 0)
    badge_->setText(QString("%1 value(s) <= 0 not shown in log scale").arg(hidden));
  else
    badge_->clear();
}

void LossPlot::resetView() {
  follow_ = true;
  Extent e;
  for (const Series& s : series_) {
    auto data = s.raw->data();
    if (data->isEmpty()) continue;
    e.kmin = qMin(e.kmin, data->constBegin()->key);
    e.kmax = qMax(e.kmax, (data->constEnd() - 1)->key);
    e.vmin = qMin(e.vmin, s.vmin);
    e.vmax = qMax(e.vmax, s.vmax);
    e.posmin = qMin(e.posmin, s.posmin);
  }
  if (e.any()) {
    const double kpad = e.kmax > e.kmin ? 0.0 : 1.0;
    plot_->xAxis->setRange(e.kmin - kpad, e.kmax + kpad);
    if (log_y_) {
      if (std::isfinite(e.posmin) && e.vmax > 0) plot_->yAxis->setRange(e.posmin / 1.3, e.vmax * 1.3);
    } else if (e.vmin <= e.vmax) {
      const double span = e.vmax - e.vmin;
      const double pad = span > 0 ? 0.05 * span : qMax(1e-3, std::abs(e.vmax) * 0.05);
      plot_->yAxis->setRange(e.vmin - pad, e.vmax + pad);
    }
  }
  scheduleReplot();
}

void LossPlot::adaptTickPrecision() {
  // Enough significant digits that neighbouring tick labels differ: a curve that moves in its 7th digit (an
  // exact OT solve's dual) otherwise shows the same label at every tick.
  for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) {
    if (axis->scaleType() != QCPAxis::stLinear) continue;
    const QCPRange r = axis->range();
    const double step = r.size() / std::max(1, axis->ticker()->tickCount());
    const double magnitude = std::max(std::abs(r.lower), std::abs(r.upper));
    int digits = 6;
    if (step > 0 && magnitude > 0 && std::isfinite(step) && std::isfinite(magnitude))
      digits = std::clamp(int(std::ceil(std::log10(magnitude / step))) + 2, 6, 15);
    if (axis->numberPrecision() != digits) axis->setNumberPrecision(digits);
  }
}

void LossPlot::adaptPens() {
  // Stroking a wide pen costs ~20x a hairline over the thousands of segments adaptive sampling still emits for
  // a dense, noisy view (measured: 1M points, 250 ms vs 11 ms per replot); draw wide lines only when few points
  // are visible.
  const QCPRange range = plot_->xAxis->range();
  for (Series& s : series_) {
    auto data = s.smooth->data();
    const auto visible = data->findEnd(range.upper) - data->findBegin(range.lower);
    QPen pen = s.smooth->pen();
    const double width = visible > 3000 ? 1.0 : 1.8;
    if (pen.widthF() != width) {
      pen.setWidthF(width);
      s.smooth->setPen(pen);
    }
    // A handful of points (an exact solver reports one objective) would be invisible as a bare line.
    QCPGraph* shown = s.smooth->visible() ? s.smooth : s.raw;
    const bool markers = visible < 30;
    if (markers != (shown->scatterStyle().shape() != QCPScatterStyle::ssNone)) {
      shown->setScatterStyle(markers ? QCPScatterStyle(QCPScatterStyle::ssDisc, s.color, s.color, 6)
                                     : QCPScatterStyle());
    }
  }
}

void LossPlot::scheduleReplot() { plot_->replot(QCustomPlot::rpQueuedReplot); }

void LossPlot::hoverAt(const QPointF& pixel) {
  double best = 24.0;  // pixels: farther than this is not "over" a curve
  QString text;
  QPointF where;
  for (const Series& s : series_) {
    QCPGraph* shown = s.smooth->visible() ? s.smooth : s.raw;
    auto data = shown->data();
    if (data->isEmpty()) continue;
    const double key = plot_->xAxis->pixelToCoord(pixel.x());
    auto it = data->findBegin(key, false);
    for (auto cand : {it, it == data->constBegin() ? it : it - 1, it + 1 < data->constEnd() ? it + 1 : it}) {
      if (cand == data->constEnd()) continue;
      const QPointF p = plot_->dataToPixel(cand->key, cand->value);
      const double d = std::hypot(p.x() - pixel.x(), p.y() - pixel.y());
      if (d < best && std::isfinite(d)) {
        best = d;
        const int index = int(cand - data->constBegin());
        const double raw = (s.raw->data()->constBegin() + index)->value;
        text = s.smooth->visible() ? QString("%1  step %2  value %3  smoothed %4")
                                         .arg(s.name)
                                         .arg(cand->key)
                                         .arg(raw, 0, 'g', 6)
                                         .arg(cand->value, 0, 'g', 6)
                                   : QString("%1  step %2  value %3").arg(s.name).arg(cand->key).arg(raw, 0, 'g', 6);
        where = QPointF(cand->key, cand->value);
        tracer_->setPen(QPen(s.color, 1.5));
        tracer_->setBrush(QColor(255, 255, 255));
      }
    }
  }
  tracer_->setVisible(!text.isEmpty());
  tracer_label_->setVisible(!text.isEmpty());
  if (!text.isEmpty()) {
    tracer_->position->setCoords(where);
    tracer_label_->setText(text);
    QPointF at = plot_->dataToPixel(where.x(), where.y()) + QPointF(8, -6);
    // Keep the label inside the plot when hovering near the right edge.
    const double width = QFontMetricsF(tracer_label_->font()).horizontalAdvance(text) + 12;
    if (at.x() + width > plot_->axisRect()->right()) at.setX(at.x() - width - 16);
    tracer_label_->position->setCoords(at);
  }
  plot_->layer("overlay")->replot();
  if (text != hover_text_) {
    hover_text_ = text;
    emit hoverTextChanged(text);
  }
}

bool LossPlot::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_) {
    switch (event->type()) {
      case QEvent::MouseMove:
        hoverAt(static_cast<QMouseEvent*>(event)->position());
        break;
      case QEvent::Leave:
        tracer_->setVisible(false);
        tracer_label_->setVisible(false);
        plot_->layer("overlay")->replot();
        break;
      case QEvent::KeyPress: {
        const int key = static_cast<QKeyEvent*>(event)->key();
        if (key == Qt::Key_Y) {
          setLogY(!log_y_);
          return true;
        }
        if (key == Qt::Key_R) {
          resetView();
          return true;
        }
        break;
      }
      default:
        break;
    }
  }
  return QWidget::eventFilter(watched, event);
}

QSize LossPlot::figureSize() const {
  return plot_->size().isEmpty() || !plot_->isVisible() ? QSize(800, 500) : plot_->size();
}

void LossPlot::renderFigure(QCPPainter& painter, const QSize& size) {
  const bool tracer = tracer_->visible();
  tracer_->setVisible(false);
  tracer_label_->setVisible(false);
  renderPlot(plot_, painter, size);
  tracer_->setVisible(tracer);
  tracer_label_->setVisible(tracer);
}

void LossPlot::writeFigureCsv(QTextStream& out) const {
  out << "series,step,value,smoothed\n";
  for (const Series& s : series_) {
    auto raw = s.raw->data();
    auto smooth = s.smooth->data();
    auto jt = smooth->constBegin();
    for (auto it = raw->constBegin(); it != raw->constEnd(); ++it, ++jt)
      out << csvField(s.name) << ',' << QString::number(it->key, 'g', 12) << ',' << QString::number(it->value, 'g', 9)
          << ',' << QString::number(jt->value, 'g', 9) << '\n';
  }
}

}  // namespace otcs
