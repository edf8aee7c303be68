#include "app/gui/lossespage.h"

#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "widgets/lossplot.h"

namespace otcs::workbench {

LossesPage::LossesPage(QWidget* parent) : QWidget(parent) {
  ot_ = new LossPlot(this);
  ot_->setObjectName("otLossPlot");
  ot_->setTitle("Stage I: OT dual objective (maximised)");
  ot_->setAxisLabels("OT iteration", "dual objective");
  ot_->setFigureName("ot_dual");
  score_ = new LossPlot(this);
  score_->setObjectName("scoreLossPlot");
  score_->setTitle("Stage II: score-matching loss");
  score_->setAxisLabels("training step", "loss");
  score_->setFigureName("score_loss");
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(ot_);
  splitter->addWidget(score_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);
}

void LossesPage::addPoints(const QString& stage, const QString& series, const QVector<double>& steps,
                           const QVector<double>& values) {
  LossPlot* plot = stage == "ot" ? ot_ : score_;
  plot->appendPoints(plot->addSeries(series), steps, values);
}

void LossesPage::clear() {
  ot_->clearData();
  score_->clearData();
}

QSize LossesPage::figureSize() const { return size().isEmpty() || !isVisible() ? QSize(900, 800) : size(); }

void LossesPage::renderFigure(QCPPainter& painter, const QSize& size) {
  const QSize half(size.width(), size.height() / 2);
  ot_->renderFigure(painter, half);
  painter.save();
  painter.translate(0, half.height());
  score_->renderFigure(painter, half);
  painter.restore();
}

void LossesPage::writeFigureCsv(QTextStream& out) const {
  QString ot, score;
  QTextStream a(&ot), b(&score);
  ot_->writeFigureCsv(a);
  score_->writeFigureCsv(b);
  a.flush();
  b.flush();
  // One table: a stage column in front of each plot's rows (its header line dropped for the second plot).
  const QStringList ot_lines = ot.split('\n', Qt::SkipEmptyParts), score_lines = score.split('\n', Qt::SkipEmptyParts);
  out << "stage," << ot_lines.value(0) << '\n';
  for (int i = 1; i < ot_lines.size(); ++i) out << "ot," << ot_lines[i] << '\n';
  for (int i = 1; i < score_lines.size(); ++i) out << "score," << score_lines[i] << '\n';
}

}  // namespace otcs::workbench
