#pragma once
// File > Export figure: where, which format (from the suffix or the list), the PNG scale factor and the figure
// size, with the current choices remembered between exports.
#include <QDialog>

#include "widgets/figureexport.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace otcs {

class FigureExportDialog : public QDialog {
  Q_OBJECT
 public:
  FigureExportDialog(const QString& suggestedPath, const QSize& viewSize, QWidget* parent = nullptr);
  QString path() const;
  FigureFormat format() const;
  ExportOptions options() const;
  void setScale(double scale);

 private:
  void syncSuffix();
  QLineEdit* path_ = nullptr;
  QComboBox* format_ = nullptr;
  QDoubleSpinBox* scale_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* height_ = nullptr;
};

}  // namespace otcs
