#include "widgets/datasetbrowser.h"

#include <QComboBox>
#include <QItemSelectionModel>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextStream>
#include <QVBoxLayout>
#include <set>

#include "widgets/styledplot.h"

namespace otcs {

ThumbnailModel::ThumbnailModel(QObject* parent) : QAbstractListModel(parent) { cache_.setMaxCost(4000); }

void ThumbnailModel::setSamples(qint64 count, QVector<int> labels, Provider provider, int size) {
  beginResetModel();
  count_ = count;
  labels_ = std::move(labels);
  provider_ = std::move(provider);
  size_ = size;
  cache_.clear();
  decoded_ = 0;
  endResetModel();
}

int ThumbnailModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(count_); }

QVariant ThumbnailModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= count_) return {};
  const qint64 i = index.row();
  switch (role) {
    case Qt::DecorationRole: {
      if (!provider_) return {};
      if (QImage* cached = cache_.object(i)) return *cached;
      auto* image = new QImage(provider_(i).scaled(size_, size_, Qt::KeepAspectRatio, Qt::FastTransformation));
      ++decoded_;
      const QImage copy = *image;
      cache_.insert(i, image);
      return copy;
    }
    case Qt::DisplayRole:
      return QString("#%1").arg(i);
    case Qt::ToolTipRole:
      return i < labels_.size() && labels_[int(i)] >= 0 ? QString("sample %1, label %2").arg(i).arg(labels_[int(i)])
                                                        : QString("sample %1").arg(i);
    case LabelRole:
      return i < labels_.size() ? labels_[int(i)] : -1;
    case IndexRole:
      return i;
  }
  return {};
}

DatasetPane::DatasetPane(const QString& title, QWidget* parent) : QWidget(parent), title_(title) {
  header_ = new QLabel(this);
  filter_ = new QComboBox(this);
  filter_->setObjectName(title + "LabelFilter");
  plot_ = new StyledPlot(this);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  model_ = new ThumbnailModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setFilterRole(ThumbnailModel::LabelRole);
  list_ = new QListView(this);
  list_->setObjectName(title + "Thumbnails");
  list_->setModel(proxy_);
  list_->setViewMode(QListView::IconMode);
  list_->setResizeMode(QListView::Adjust);
  list_->setUniformItemSizes(true);  // lets the view lay out thousands of items without asking each for its size
  list_->setLayoutMode(QListView::Batched);
  list_->setBatchSize(200);
  list_->setIconSize(QSize(56, 56));
  list_->setGridSize(QSize(70, 84));
  list_->setMovement(QListView::Static);
  stack_ = new QStackedWidget(this);
  stack_->addWidget(plot_);
  stack_->addWidget(list_);
  // A long header wraps rather than widening the window.
  header_->setWordWrap(true);
  header_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  auto* top = new QHBoxLayout;
  top->addWidget(header_, 1);
  top->addWidget(new QLabel("Label:", this));
  top->addWidget(filter_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(top);
  layout->addWidget(stack_, 1);
  connect(plot_, &QCustomPlot::mouseDoubleClick, this,
          [this](QMouseEvent*) { plot_->fitTo(StyledPlot::boundsOf(xy_), 0.06, true); });
  connect(filter_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int i) { setLabelFilter(filter_->itemData(i).toInt()); });
  connect(list_, &QListView::clicked, this, [this](const QModelIndex& index) {
    if (index.isValid()) emit sampleClicked(index.data(ThumbnailModel::IndexRole).toLongLong());
  });
}

void DatasetPane::selectSample(qint64 i) {
  if (i < 0 || i >= model_->rowCount()) {
    list_->selectionModel()->clearSelection();
    list_->setCurrentIndex(QModelIndex());
    return;
  }
  QModelIndex index = proxy_->mapFromSource(model_->index(int(i)));
  if (!index.isValid()) {  // hidden by the label filter
    filter_->setCurrentIndex(0);
    index = proxy_->mapFromSource(model_->index(int(i)));
  }
  list_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
  list_->scrollTo(index);
}

qint64 DatasetPane::selectedSample() const {
  const QModelIndex index = list_->currentIndex();
  return index.isValid() && list_->selectionModel()->isSelected(index)
             ? index.data(ThumbnailModel::IndexRole).toLongLong()
             : -1;
}

bool DatasetPane::showsImages() const { return stack_->currentWidget() == list_; }

void DatasetPane::setData(const QVector<QPointF>& xy, const QVector<int>& labels, ThumbnailModel::Provider thumbnail,
                          int dim) {
  xy_ = xy;
  labels_ = labels;
  label_filter_ = -1;
  std::set<int> distinct(labels.begin(), labels.end());
  {
    const QSignalBlocker block(filter_);
    filter_->clear();
    filter_->addItem("all", -1);
    for (int l : distinct)
      if (l >= 0) filter_->addItem(QString::number(l), l);
  }
  filter_->setEnabled(filter_->count() > 1);
  header_->setText(QString("<b>%1</b>: %2 samples, %3 dimension(s)%4")
                       .arg(title_)
                       .arg(xy.size())
                       .arg(dim)
                       .arg(dim > 2 && !thumbnail ? " (first two shown)" : ""));
  if (thumbnail) {
    model_->setSamples(xy.size(), labels, std::move(thumbnail));
    proxy_->setFilterFixedString(QString());
    stack_->setCurrentWidget(list_);
  } else {
    model_->setSamples(0, {}, {});
    stack_->setCurrentWidget(plot_);
    rebuildScatter();
    plot_->fitTo(StyledPlot::boundsOf(xy_), 0.06, true);
  }
}

void DatasetPane::rebuildScatter() {
  plot_->clearGraphs();
  QMap<int, QVector<QCPGraphData>> by_label;
  for (int i = 0; i < xy_.size(); ++i) {
    const int l = i < labels_.size() ? labels_[i] : -1;
    if (label_filter_ >= 0 && l != label_filter_) continue;
    by_label[l].push_back({xy_[i].x(), xy_[i].y()});
  }
  for (auto it = by_label.begin(); it != by_label.end(); ++it) {
    QCPGraph* g = plot_->addGraph();
    g->setLineStyle(QCPGraph::lsNone);
    g->setAdaptiveSampling(false);
    QColor c = it.key() < 0 ? QColor(90, 90, 90) : seriesColor(it.key());
    c.setAlpha(160);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 4));
    g->setName(it.key() < 0 ? QString("unlabelled / keypoint") : QString("label %1").arg(it.key()));
    g->data()->set(it.value(), false);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void DatasetPane::setLabelFilter(int label) {
  label_filter_ = label;
  if (filter_->currentData().toInt() != label) {
    const QSignalBlocker block(filter_);
    filter_->setCurrentIndex(std::max(0, filter_->findData(label)));
  }
  if (showsImages()) {
    proxy_->setFilterRegularExpression(label < 0 ? QString() : QString("^%1$").arg(label));
  } else {
    rebuildScatter();
  }
}

int DatasetPane::visibleCount() const {
  if (showsImages()) return proxy_->rowCount();
  int n = 0;
  for (int i = 0; i < plot_->graphCount(); ++i) n += plot_->graph(i)->data()->size();
  return n;
}

DatasetBrowser::DatasetBrowser(QWidget* parent) : QWidget(parent) {
  source_ = new DatasetPane("source", this);
  target_ = new DatasetPane("target", this);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(source_);
  splitter->addWidget(target_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);
}

void DatasetBrowser::setCsvData(const QVector<QPointF>& source, const QVector<int>& sl, const QVector<QPointF>& target,
                                const QVector<int>& tl) {
  csv_source_ = source;
  csv_target_ = target;
  csv_source_labels_ = sl;
  csv_target_labels_ = tl;
}

QSize DatasetBrowser::figureSize() const { return size().isEmpty() || !isVisible() ? QSize(1200, 560) : size(); }

void DatasetBrowser::renderFigure(QCPPainter& painter, const QSize& size) {
  const QSize half(size.width() / 2, size.height());
  int x = 0;
  for (DatasetPane* pane : {source_, target_}) {
    painter.save();
    painter.translate(x, 0);
    if (pane->showsImages())
      renderWidget(pane->list(), painter, half);
    else
      renderPlot(pane->plot(), painter, half);
    painter.restore();
    x += half.width();
  }
}

void DatasetBrowser::writeFigureCsv(QTextStream& out) const {
  out << "set,index,x,y,label\n";
  auto write = [&](const char* set, const QVector<QPointF>& pts, const QVector<int>& labels) {
    for (int i = 0; i < pts.size(); ++i)
      out << set << ',' << i << ',' << pts[i].x() << ',' << pts[i].y() << ',' << (i < labels.size() ? labels[i] : -1)
          << '\n';
  };
  write("source", csv_source_, csv_source_labels_);
  write("target", csv_target_, csv_target_labels_);
}

}  // namespace otcs
