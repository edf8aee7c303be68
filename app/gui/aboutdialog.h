#pragma once
// Help > About: the same version rows as `otcs version` (LibTorch, the BLAS actually loaded, threads, CUDA),
// plus the GUI's own libraries.
#include <QDialog>
#include <QString>
#include <QVector>
#include <utility>

namespace otcs::workbench {

// Rows shown in the dialog: runtime_info_rows() first, then Qt and QCustomPlot.
QVector<std::pair<QString, QString>> aboutRows();

class AboutDialog : public QDialog {
  Q_OBJECT
 public:
  explicit AboutDialog(QWidget* parent = nullptr);
};

}  // namespace otcs::workbench
