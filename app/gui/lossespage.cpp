#include "app/gui/lossespage.h"

#include <utility>

#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "core/run/curve.h"
#include "widgets/lossplot.h"

namespace otcs::workbench {

LossesPage::LossesPage(QWidget* parent) : QWidget(parent) {
  ot_ = new LossPlot(this);
  ot_->setObjectName("otLossPlot");
  ot_->setTitle("Stage I: OT dual objective (maximised)");
  ot_->setAxisLabels("OT iteration", "dual objective");
  ot_->setFigureName("ot_dual");
  ot_diag_ = new LossPlot(this);
  ot_diag_->setObjectName("otDiagnosticsPlot");
  ot_diag_->setTitle("Stage I: plan diagnostics (batch plan)");
  ot_diag_->setAxisLabels("OT iteration", "value");
  ot_diag_->setFigureName("ot_diagnostics");
  ot_diag_->setLogY(true);
  score_ = new LossPlot(this);
  score_->setObjectName("scoreLossPlot");
  score_->setTitle("Stage II: score-matching loss");
  score_->setAxisLabels("training step", "loss");
  score_->setFigureName("score_loss");
  fd_ = new LossPlot(this);
  fd_->setObjectName("fdCurvePlot");
  fd_->setTitle("Generation: Fréchet distance of the EMA model (classifier features)");
  fd_->setAxisLabels("training step", "Fréchet distance");
  fd_->setFigureName("fd_curve");
  fd_->hide();
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(ot_);
  splitter->addWidget(ot_diag_);
  splitter->addWidget(score_);
  splitter->addWidget(fd_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);
}

void LossesPage::addPoints(session::Stage stage, const QString& series, const QVector<double>& steps,
                           const QVector<double>& values) {
  // The dual objective has its own plot; a compared run's series is named "<run>: dual".
  const bool dual = series == "dual" || series.endsWith(": dual");
  const bool fd = stage == session::Stage::Score && series.endsWith(" fd");
  LossPlot* plot = stage == session::Stage::Ot ? (dual ? ot_ : ot_diag_) : fd ? fd_ : score_;
  if (fd) fd_->show();
  plot->appendPoints(plot->addSeries(series), steps, values);
}

void LossesPage::clearOt() {
  ot_->clearData();
  ot_diag_->clearData();
}

bool LossesPage::loadOtDiagnostics(const QString& path) {
  run::Curve curve;
  try {
    curve = run::read_curve(path.toStdString());  // its value columns: the wall time is no diagnostic
  } catch (const std::exception&) {
    return false;
  }
  if (curve.rows() == 0) return false;
  ot_diag_->clearData();
  const QVector<double> steps(curve.steps.begin(), curve.steps.end());
  for (size_t k = 0; k < curve.columns.size(); ++k)
    addPoints(session::Stage::Ot, QString::fromStdString(curve.columns[k]), steps,
              QVector<double>(curve.values[k].begin(), curve.values[k].end()));
  return true;
}

void LossesPage::removeAllSeries() {
  ot_->removeSeries();
  ot_diag_->removeSeries();
  score_->removeSeries();
  fd_->removeSeries();
  fd_->hide();
}

void LossesPage::clear() {
  ot_->clearData();
  ot_diag_->clearData();
  score_->clearData();
  fd_->clearData();
}

QSize LossesPage::figureSize() const { return size().isEmpty() || !isVisible() ? QSize(900, 800) : size(); }

void LossesPage::renderFigure(QCPPainter& painter, const QSize& size) {
  const bool with_fd = !fd_->isHidden();
  const QSize part(size.width(), size.height() / (with_fd ? 4 : 3));
  ot_->renderFigure(painter, part);
  painter.save();
  painter.translate(0, part.height());
  ot_diag_->renderFigure(painter, part);
  painter.translate(0, part.height());
  score_->renderFigure(painter, part);
  if (with_fd) {
    painter.translate(0, part.height());
    fd_->renderFigure(painter, part);
  }
  painter.restore();
}

void LossesPage::writeFigureCsv(QTextStream& out) const {
  // One table: a stage column in front of each plot's rows (the header line written once, from the first plot).
  const std::pair<const char*, LossPlot*> parts[] = {{"ot", ot_}, {"ot", ot_diag_}, {"score", score_}, {"fd", fd_}};
  bool header = false;
  for (const auto& [stage, plot] : parts) {
    if (plot == fd_ && fd_->isHidden()) continue;
    QString text;
    QTextStream s(&text);
    plot->writeFigureCsv(s);
    s.flush();
    const QStringList lines = text.split('\n', Qt::SkipEmptyParts);
    if (!header && !lines.isEmpty()) {
      out << "stage," << lines.front() << '\n';
      header = true;
    }
    for (int i = 1; i < lines.size(); ++i) out << stage << ',' << lines[i] << '\n';
  }
}

}  // namespace otcs::workbench
