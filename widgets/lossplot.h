#pragma once
// Live training curves: each series drawn raw (faint) under a smoothed line, a smoothing control (off, EMA with
// debiasing, windowed mean), log-y, zoom/pan with reset, hover values. Appending is cheap and replots are
// queued, so a worker may feed points at any rate; adaptive sampling keeps a million points fluid.
#include <QPointer>
#include <QtNumeric>
#include <QVector>
#include <QWidget>

#include "widgets/figureexport.h"
#include "widgets/smoothing.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QCPGraph;
class QCPItemTracer;
class QCPItemText;

namespace otcs {

class StyledPlot;

class LossPlot : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit LossPlot(QWidget* parent = nullptr);

  void setTitle(const QString& title);
  void setAxisLabels(const QString& x, const QString& y);
  // Returns the series id; an existing name returns its id.
  int addSeries(const QString& name, const QColor& color = QColor());
  int seriesId(const QString& name) const;
  int seriesCount() const { return int(series_.size()); }
  QString seriesName(int id) const;
  void appendPoint(int id, double step, double value);
  void appendPoints(int id, const QVector<double>& steps, const QVector<double>& values);
  void clearData();     // keeps the series
  void removeSeries();  // removes all series
  int pointCount(int id) const;

  void setSmoothing(SmoothingMode mode, double emaWeight, int window);
  SmoothingMode smoothingMode() const { return mode_; }
  double emaWeight() const { return ema_weight_; }
  int window() const { return window_; }
  QVector<double> smoothedValues(int id) const;
  QVector<double> rawValues(int id) const;

  void setLogY(bool on);
  bool logY() const { return log_y_; }
  // Fits all data and follows new points again (until the user zooms or pans).
  void resetView();
  bool followsData() const { return follow_; }

  StyledPlot* plot() const { return plot_; }
  // The text shown for the point under the mouse, empty when none (for tests and the status bar).
  QString hoverText() const { return hover_text_; }
  void hoverAt(const QPointF& pixel);

  // FigureSource
  QString figureName() const override { return figure_name_; }
  void setFigureName(const QString& name) { figure_name_ = name; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 signals:
  void hoverTextChanged(const QString& text);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  struct Series {
    QString name;
    QColor color;
    QCPGraph* raw = nullptr;
    QCPGraph* smooth = nullptr;
    Smoother smoother;
    qint64 nonPositive = 0;
    // Value extents kept while appending: rescaling must not scan a million points per new point.
    double vmin = qInf(), vmax = -qInf(), posmin = qInf();
  };
  void restyleSeries(Series& s);
  void recomputeSmoothing(Series& s);
  void scheduleReplot();
  void updateBadge();
  void syncControls();
  void adaptPens();
  void adaptTickPrecision();

  StyledPlot* plot_ = nullptr;
  QComboBox* mode_box_ = nullptr;
  QSlider* strength_ = nullptr;
  QLabel* strength_label_ = nullptr;
  QCheckBox* log_box_ = nullptr;
  QLabel* badge_ = nullptr;
  QCPItemTracer* tracer_ = nullptr;
  QCPItemText* tracer_label_ = nullptr;
  QVector<Series> series_;
  SmoothingMode mode_ = SmoothingMode::Ema;
  double ema_weight_ = 0.6;
  int window_ = 25;
  bool log_y_ = false;
  bool follow_ = true;
  QString hover_text_;
  QString figure_name_ = "losses";
};

}  // namespace otcs
