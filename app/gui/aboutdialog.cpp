#include "app/gui/aboutdialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "core/common/runtime.h"

namespace otcs::workbench {

QVector<std::pair<QString, QString>> aboutRows() {
  QVector<std::pair<QString, QString>> rows;
  for (const auto& [key, value] : otcs::runtime_info_rows(otcs::runtime_info()))
    rows.push_back({QString::fromStdString(key), QString::fromStdString(value)});
  rows.push_back({"Qt", QString("%1 (built against %2)").arg(qVersion(), QT_VERSION_STR)});
  rows.push_back({"QCustomPlot", QCUSTOMPLOT_VERSION_STR});
  return rows;
}

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
  setObjectName("aboutDialog");
  setWindowTitle("About OTCS Workbench");
  auto* title = new QLabel(
      "<h3>OTCS Workbench</h3><p>Optimal-transport-guided conditional score-based diffusion: build a coupling "
      "between unpaired (or keypoint-paired) sets, train the score model on it, inspect and export.</p>",
      this);
  title->setWordWrap(true);
  const auto rows = aboutRows();
  auto* table = new QTableWidget(rows.size(), 2, this);
  table->setObjectName("versionTable");
  table->setHorizontalHeaderLabels({"Component", "Version"});
  table->verticalHeader()->hide();
  table->horizontalHeader()->setStretchLastSection(true);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  QString plain;
  for (int i = 0; i < rows.size(); ++i) {
    table->setItem(i, 0, new QTableWidgetItem(rows[i].first));
    table->setItem(i, 1, new QTableWidgetItem(rows[i].second));
    plain += rows[i].first + ": " + rows[i].second + "\n";
  }
  table->resizeColumnToContents(0);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  auto* copy = buttons->addButton("Copy", QDialogButtonBox::ActionRole);
  connect(copy, &QPushButton::clicked, this, [plain] { QApplication::clipboard()->setText(plain); });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title);
  layout->addWidget(table, 1);
  layout->addWidget(buttons);
  resize(620, 420);
}

}  // namespace otcs::workbench
