#include "widgets/runsview.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>

namespace otcs {

namespace {

// Sorts by the number it holds when it holds one (metrics, durations), else by text.
class SortItem : public QTableWidgetItem {
 public:
  using QTableWidgetItem::QTableWidgetItem;
  bool operator<(const QTableWidgetItem& other) const override {
    const QVariant a = data(Qt::UserRole), b = other.data(Qt::UserRole);
    if (a.isValid() && b.isValid()) return a.toDouble() < b.toDouble();
    return text() < other.text();
  }
};

QString duration(double s) {
  if (s < 0) return "–";
  const qint64 t = qint64(s + 0.5);
  return t >= 3600 ? QString("%1 h %2 min").arg(t / 3600).arg((t % 3600) / 60)
         : t >= 60 ? QString("%1 min %2 s").arg(t / 60).arg(t % 60)
                   : QString("%1 s").arg(t);
}

QTableWidget* makeTable(QWidget* parent, const QString& name) {
  auto* t = new QTableWidget(parent);
  t->setObjectName(name);
  t->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t->verticalHeader()->hide();
  t->horizontalHeader()->setStretchLastSection(true);
  t->setAlternatingRowColors(true);
  t->setWordWrap(false);
  return t;
}

}  // namespace

RunsView::RunsView(QWidget* parent) : QWidget(parent) {
  table_ = makeTable(this, "runsTable");
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setSortingEnabled(true);
  auto button = [this](const QString& text, const QString& name, const QString& tip) {
    auto* b = new QPushButton(text, this);
    b->setObjectName(name);
    b->setToolTip(tip);
    return b;
  };
  open_ = button("Open", "openRun", "Show this run's results in every view (double-click does the same)");
  fork_ = button("New run from this one", "forkRun",
                 "A new run of the current project that takes this run's stages whose configuration is unchanged");
  continue_ = button("Continue from this run", "continueRun",
                     "A new run of the current project whose score model starts from this run's model (warm start)");
  rename_ = button("Rename…", "renameRun", "Rename the run's folder");
  delete_ = button("Delete…", "deleteRun", "Delete the selected runs (asks first)");
  auto* refresh = button("Refresh", "refreshRuns", "Read the runs folder again");
  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {open_, fork_, continue_, rename_, delete_}) buttons->addWidget(b);
  buttons->addStretch(1);
  buttons->addWidget(refresh);

  compare_title_ = new QLabel("Select two or more runs to compare them; their curves are overlaid in Losses.", this);
  compare_title_->setWordWrap(true);
  compare_title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  metric_table_ = makeTable(this, "runMetrics");
  diff_table_ = makeTable(this, "runSettingsDiff");
  images_ = new QWidget(this);
  images_layout_ = new QHBoxLayout(images_);
  images_layout_->setContentsMargins(0, 0, 0, 0);
  auto* images_scroll = new QScrollArea(this);
  images_scroll->setWidget(images_);
  images_scroll->setWidgetResizable(true);
  images_scroll->setMinimumHeight(120);

  auto* compare = new QWidget(this);
  auto* compare_layout = new QVBoxLayout(compare);
  compare_layout->setContentsMargins(0, 0, 0, 0);
  compare_layout->addWidget(compare_title_);
  auto* tables = new QSplitter(Qt::Horizontal, compare);
  tables->addWidget(metric_table_);
  tables->addWidget(diff_table_);
  compare_layout->addWidget(tables, 1);
  compare_layout->addWidget(images_scroll, 1);

  auto* top = new QWidget(this);
  auto* top_layout = new QVBoxLayout(top);
  top_layout->setContentsMargins(0, 0, 0, 0);
  top_layout->addLayout(buttons);
  top_layout->addWidget(table_, 1);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(top);
  split->addWidget(compare);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  auto current = [this] {
    const QStringList p = selectedPaths();
    return p.isEmpty() ? QString() : p.first();
  };
  connect(open_, &QPushButton::clicked, this, [this, current] { emit openRequested(current()); });
  connect(fork_, &QPushButton::clicked, this, [this, current] { emit forkRequested(current()); });
  connect(continue_, &QPushButton::clicked, this, [this, current] { emit continueRequested(current()); });
  connect(rename_, &QPushButton::clicked, this, [this, current] { emit renameRequested(current()); });
  connect(delete_, &QPushButton::clicked, this, [this] { emit deleteRequested(selectedPaths()); });
  connect(refresh, &QPushButton::clicked, this, &RunsView::refreshRequested);
  connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
    updateButtons();
    emit selectionChanged(selectedPaths());
  });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
    if (auto* item = table_->item(row, 0)) emit openRequested(item->data(Qt::UserRole + 1).toString());
  });
  updateButtons();
}

int RunsView::runCount() const { return table_->rowCount(); }

void RunsView::setRuns(const QVector<RunSummary>& runs) {
  const QStringList keep = selectedPaths();
  QStringList metric_names;
  for (const RunSummary& r : runs)
    for (const auto& [k, v] : r.metrics)
      if (!metric_names.contains(k)) metric_names << k;
  const QSignalBlocker block(table_);
  table_->setSortingEnabled(false);
  table_->clear();
  QStringList headers = {"run", "status", "started", "duration"};
  headers << metric_names;
  table_->setColumnCount(headers.size());
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(runs.size());
  for (int i = 0; i < runs.size(); ++i) {
    const RunSummary& r = runs[i];
    auto* name = new SortItem(r.name + (r.path == current_ ? "  (shown)" : ""));
    name->setData(Qt::UserRole + 1, r.path);
    name->setToolTip(r.path);
    table_->setItem(i, 0, name);
    table_->setItem(i, 1, new SortItem(r.status));
    auto* started = new SortItem(r.started.isValid() ? r.started.toString("yyyy-MM-dd HH:mm") : "–");
    if (r.started.isValid()) started->setData(Qt::UserRole, double(r.started.toSecsSinceEpoch()));
    table_->setItem(i, 2, started);
    auto* took = new SortItem(duration(r.seconds));
    if (r.seconds >= 0) took->setData(Qt::UserRole, r.seconds);
    table_->setItem(i, 3, took);
    for (const auto& [k, v] : r.metrics) {
      auto* cell = new SortItem(QString::number(v, 'g', 5));
      cell->setData(Qt::UserRole, v);
      table_->setItem(i, 4 + int(metric_names.indexOf(k)), cell);
    }
  }
  table_->setSortingEnabled(true);
  table_->resizeColumnsToContents();
  selectPaths(keep);
  updateButtons();
}

void RunsView::setCurrentRun(const QString& path) { current_ = path; }

QStringList RunsView::selectedPaths() const {
  QStringList out;
  for (const QModelIndex& index : table_->selectionModel()->selectedRows(0))
    out << table_->item(index.row(), 0)->data(Qt::UserRole + 1).toString();
  return out;
}

void RunsView::selectPaths(const QStringList& paths) {
  table_->clearSelection();
  const auto mode = table_->selectionMode();
  table_->setSelectionMode(QAbstractItemView::MultiSelection);
  for (int r = 0; r < table_->rowCount(); ++r)
    if (paths.contains(table_->item(r, 0)->data(Qt::UserRole + 1).toString())) table_->selectRow(r);
  table_->setSelectionMode(mode);
}

void RunsView::updateButtons() {
  const int n = int(selectedPaths().size());
  for (QPushButton* b : {open_, fork_, continue_, rename_}) b->setEnabled(n == 1);
  delete_->setEnabled(n >= 1);
}

void RunsView::setComparison(const RunComparison& c) {
  auto fill = [&c](QTableWidget* t, const QString& first, const QVector<QPair<QString, QVector<QString>>>& rows) {
    t->clear();
    t->setColumnCount(int(c.runs.size()) + 1);
    t->setHorizontalHeaderLabels(QStringList{first} + c.runs);
    t->setRowCount(rows.size());
    for (int r = 0; r < rows.size(); ++r) {
      t->setItem(r, 0, new QTableWidgetItem(rows[r].first));
      for (int k = 0; k < rows[r].second.size(); ++k) t->setItem(r, k + 1, new QTableWidgetItem(rows[r].second[k]));
    }
    t->resizeColumnsToContents();
  };
  fill(metric_table_, "metric", c.metrics);
  fill(diff_table_, "setting that differs", c.differences);
  while (QLayoutItem* item = images_layout_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  for (int k = 0; k < c.runs.size(); ++k) {
    auto* box = new QWidget(images_);
    auto* v = new QVBoxLayout(box);
    v->setContentsMargins(2, 2, 2, 2);
    v->addWidget(new QLabel(c.runs[k], box));
    auto* image = new QLabel(box);
    const QImage img = k < c.images.size() ? c.images[k] : QImage();
    if (img.isNull())
      image->setText("no preview");
    else
      image->setPixmap(QPixmap::fromImage(img.scaledToHeight(std::min(240, std::max(120, img.height())))));
    v->addWidget(image, 1);
    images_layout_->addWidget(box);
  }
  images_layout_->addStretch(1);
  compare_title_->setText(c.runs.size() >= 2
                              ? QString("Comparing %1 runs: their curves are overlaid in Losses.").arg(c.runs.size())
                              : "Select two or more runs to compare them; their curves are overlaid in Losses.");
}

}  // namespace otcs
