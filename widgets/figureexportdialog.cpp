#include "widgets/figureexportdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QSpinBox>
#include <QToolButton>

namespace otcs {
namespace {
const char* kSuffix[] = {"png", "pdf", "svg", "csv"};
}

FigureExportDialog::FigureExportDialog(const QString& suggested, const QSize& viewSize, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle("Export figure");
  path_ = new QLineEdit(suggested, this);
  auto* browse = new QToolButton(this);
  browse->setText("…");
  format_ = new QComboBox(this);
  format_->addItem("PNG image (raster, scaled)", int(FigureFormat::Png));
  format_->addItem("PDF (vector)", int(FigureFormat::Pdf));
  format_->addItem("SVG (vector, editable text)", int(FigureFormat::Svg));
  format_->addItem("CSV (the data behind the view)", int(FigureFormat::Csv));
  FigureFormat f;
  if (figureFormatFromPath(suggested, &f)) format_->setCurrentIndex(format_->findData(int(f)));
  scale_ = new QDoubleSpinBox(this);
  scale_->setRange(0.5, 8.0);
  scale_->setSingleStep(0.5);
  scale_->setValue(2.0);
  scale_->setSuffix(" ×");
  scale_->setToolTip("Device pixels per screen pixel: 2 or more for print.");
  width_ = new QSpinBox(this);
  height_ = new QSpinBox(this);
  for (QSpinBox* s : {width_, height_}) {
    s->setRange(100, 8000);
    s->setSuffix(" px");
  }
  width_->setValue(viewSize.width() > 0 ? viewSize.width() : 800);
  height_->setValue(viewSize.height() > 0 ? viewSize.height() : 600);
  auto* row = new QHBoxLayout;
  row->addWidget(path_, 1);
  row->addWidget(browse);
  auto* size_row = new QHBoxLayout;
  size_row->addWidget(width_);
  size_row->addWidget(height_);
  auto* form = new QFormLayout(this);
  form->addRow("File", row);
  form->addRow("Format", format_);
  form->addRow("Size", size_row);
  form->addRow("PNG scale", scale_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(format_, qOverload<int>(&QComboBox::currentIndexChanged), this, &FigureExportDialog::syncSuffix);
  connect(browse, &QToolButton::clicked, this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, "Export figure", path_->text(), figureFileFilter());
    if (p.isEmpty()) return;
    path_->setText(p);
    FigureFormat f;
    if (figureFormatFromPath(p, &f)) format_->setCurrentIndex(format_->findData(int(f)));
  });
  syncSuffix();
}

void FigureExportDialog::syncSuffix() {
  const int f = format_->currentData().toInt();
  scale_->setEnabled(f == int(FigureFormat::Png));
  width_->setEnabled(f != int(FigureFormat::Csv));
  height_->setEnabled(f != int(FigureFormat::Csv));
  QFileInfo info(path_->text());
  const QString want = kSuffix[f];
  if (info.suffix().toLower() != want) path_->setText(info.dir().filePath(info.completeBaseName() + "." + want));
}

QString FigureExportDialog::path() const { return path_->text(); }
FigureFormat FigureExportDialog::format() const { return FigureFormat(format_->currentData().toInt()); }
void FigureExportDialog::setScale(double scale) { scale_->setValue(scale); }

ExportOptions FigureExportDialog::options() const {
  ExportOptions o;
  o.scale = scale_->value();
  o.size = QSize(width_->value(), height_->value());
  return o;
}

}  // namespace otcs
