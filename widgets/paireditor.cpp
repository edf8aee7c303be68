#include "widgets/paireditor.h"

#include <algorithm>

#include <QAction>
#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QTextStream>
#include <QVBoxLayout>

#include "widgets/pairtablemodel.h"
#include "widgets/scatterpairview.h"
#include "widgets/styledplot.h"

namespace otcs {

PairEditor::PairEditor(QWidget* parent) : QWidget(parent) {
  creator_ = new PairCreator(this);
  model_ = new PairTableModel(this);
  view_ = new ScatterPairView(this);
  view_->setLabels("source", "target");

  table_ = new QTableView(this);
  table_->setObjectName("pairTable");
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setAlternatingRowColors(true);

  state_label_ = new QLabel(this);
  state_label_->setObjectName("pairState");
  state_label_->setWordWrap(true);
  add_button_ = new QPushButton("Add pair (A)", this);
  add_button_->setObjectName("addPair");
  suggest_button_ = new QPushButton("Suggest partner (S)", this);
  suggest_button_->setObjectName("suggestPartner");
  suggest_button_->setToolTip("Pick the target that the current coupling H weights most for the picked source.");
  delete_button_ = new QPushButton("Delete (Del)", this);
  delete_button_->setObjectName("deletePairs");
  auto* cancel_button = new QPushButton("Cancel (Esc)", this);
  auto_add_ = new QCheckBox("Add as soon as both are picked", this);
  auto_add_->setObjectName("autoAdd");

  // Two rows of two: the side panel stays narrow enough for the galleries beside it on a 1280-pixel screen.
  auto* buttons = new QGridLayout;
  buttons->addWidget(add_button_, 0, 0);
  buttons->addWidget(suggest_button_, 0, 1);
  buttons->addWidget(cancel_button, 1, 0);
  buttons->addWidget(delete_button_, 1, 1);
  auto* side = new QWidget(this);
  auto* side_layout = new QVBoxLayout(side);
  side_layout->setContentsMargins(6, 6, 6, 6);
  help_ = new QLabel(side);
  help_->setWordWrap(true);
  side_layout->addWidget(help_);
  side_layout->addWidget(state_label_);
  side_layout->addLayout(buttons);
  side_layout->addWidget(auto_add_);
  side_layout->addWidget(table_, 1);

  // Image data: the galleries side by side, in place of the scatter.
  auto* galleries = new QSplitter(Qt::Horizontal, this);
  galleries->setObjectName("pairGalleries");
  source_gallery_ = new DatasetPane("Source", galleries);
  source_gallery_->setObjectName("pairSourceGallery");
  target_gallery_ = new DatasetPane("Target", galleries);
  target_gallery_->setObjectName("pairTargetGallery");
  galleries->addWidget(source_gallery_);
  galleries->addWidget(target_gallery_);
  left_ = new QStackedWidget(this);
  left_->addWidget(view_);
  left_->addWidget(galleries);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(left_);
  splitter->addWidget(side);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  splitter->setSizes({600, 400});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);

  auto shortcut = [this](const QKeySequence& key, auto slot) {
    auto* action = new QAction(this);
    action->setShortcut(key);
    action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
  };
  shortcut(QKeySequence(Qt::Key_A), [this] { addPickedPair(); });
  shortcut(QKeySequence(Qt::Key_S), [this] { suggestPartner(); });
  shortcut(QKeySequence(Qt::Key_Escape), [this] { creator_->cancel(); });
  shortcut(QKeySequence::Delete, [this] { deleteSelectedPairs(); });
  shortcut(QKeySequence(Qt::Key_Backspace), [this] { deleteSelectedPairs(); });

  connect(view_, &ScatterPairView::pointClicked, creator_, &PairCreator::pick);
  connect(source_gallery_, &DatasetPane::sampleClicked, creator_, &PairCreator::pickSource);
  connect(target_gallery_, &DatasetPane::sampleClicked, creator_, &PairCreator::pickTarget);
  connect(view_, &QCustomPlot::mouseDoubleClick, view_, [this](QMouseEvent*) { view_->fitAll(); });
  connect(view_, &ScatterPairView::hovered, this, &PairEditor::statusMessage);
  connect(creator_, &PairCreator::stateChanged, this, &PairEditor::updateState);
  connect(creator_, &PairCreator::picksChanged, this, [this](qint64 s, qint64 t) {
    view_->setPicks(s, t);
    if (source_gallery_->selectedSample() != s) source_gallery_->selectSample(s);
    if (target_gallery_->selectedSample() != t) target_gallery_->selectSample(t);
    if (suggestions_ && s >= 0)
      view_->setSuggestions(suggestions_(s, 5));
    else
      view_->setSuggestions({});
    updateState();
  });
  connect(creator_, &PairCreator::pairRequested, this, [this](qint64 s, qint64 t) {
    if (s < 0 || t < 0) return;
    if (model_->rowOf({s, t}) >= 0) {
      emit statusMessage(QString("Source %1 and target %2 are already paired").arg(s).arg(t));
      return;
    }
    emit addPairRequested({s, t});
    emit statusMessage(QString("Paired source %1 with target %2").arg(s).arg(t));
  });
  connect(model_, &PairTableModel::pairsChanged, this, [this] {
    view_->setPairs(model_->pairs());
    updateState();
    emit pairsChanged();
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
    view_->setHighlightedPair(current.isValid() ? current.row() : -1);
    // In the galleries, a pair chosen in the table scrolls both sides to its samples.
    if (showsGalleries() && current.isValid() && current.row() < model_->pairs().size() &&
        creator_->state() == PairCreator::State::NothingPicked) {
      source_gallery_->selectSample(model_->pairs()[current.row()].source);
      target_gallery_->selectSample(model_->pairs()[current.row()].target);
    }
  });
  connect(add_button_, &QPushButton::clicked, this, &PairEditor::addPickedPair);
  connect(suggest_button_, &QPushButton::clicked, this, &PairEditor::suggestPartner);
  connect(delete_button_, &QPushButton::clicked, this, &PairEditor::deleteSelectedPairs);
  connect(cancel_button, &QPushButton::clicked, creator_, &PairCreator::cancel);
  connect(auto_add_, &QCheckBox::toggled, creator_, &PairCreator::setAutoConfirm);
  setImageSets(0, {}, {}, 0, {}, {});
  updateState();
}

void PairEditor::setPoints(const QVector<QPointF>& source, const QVector<QPointF>& target) {
  creator_->cancel();
  view_->setPoints(source, target);
  model_->setCoordinates(source, target);
}

void PairEditor::setImageSets(qint64 sourceCount, const QVector<int>& sourceLabels, ThumbnailModel::Provider source,
                              qint64 targetCount, const QVector<int>& targetLabels, ThumbnailModel::Provider target,
                              int dim) {
  creator_->cancel();
  source_thumbs_ = source;
  target_thumbs_ = target;
  const bool images = source && target;
  // Coordinates mean nothing for images (the thumbnails in the table say which samples are paired).
  table_->setColumnHidden(PairTableModel::SourcePositionColumn, images);
  table_->setColumnHidden(PairTableModel::TargetPositionColumn, images);
  if (images) {
    // DatasetPane counts samples by its point list; the galleries need no coordinates.
    source_gallery_->setData(QVector<QPointF>(int(sourceCount)), sourceLabels, std::move(source), dim);
    target_gallery_->setData(QVector<QPointF>(int(targetCount)), targetLabels, std::move(target), dim);
    left_->setCurrentIndex(1);
    help_->setText(
        "<b>Pairing.</b> Click a source image (left) and a target image (right) in either order; clicking again "
        "replaces a pick. Filter either side by label. A adds the pair; choosing a pair in the table shows both.");
  } else {
    source_gallery_->setData({}, {}, {}, 0);
    target_gallery_->setData({}, {}, {}, 0);
    left_->setCurrentIndex(0);
    help_->setText(
        "<b>Pairing.</b> Click a source point (blue) and a target point (orange) in either order; clicking again "
        "replaces a pick. Drag pans, the wheel zooms, double-click fits.");
  }
}

bool PairEditor::showsGalleries() const { return left_->currentIndex() == 1; }

void PairEditor::setPairs(const KeypointPairs& pairs) { model_->setPairs(pairs); }

KeypointPairs PairEditor::pairs() const { return model_->pairs(); }

void PairEditor::setSuggestionProvider(SuggestionProvider provider) {
  suggestions_ = std::move(provider);
  updateState();
}

bool PairEditor::addPickedPair() { return creator_->confirm(); }

bool PairEditor::deleteSelectedPairs() {
  if (creator_->state() != PairCreator::State::NothingPicked) {
    creator_->cancel();
    return true;
  }
  QList<int> rows;
  for (const QModelIndex& index : table_->selectionModel()->selectedRows())
    if (index.row() < model_->rowCount()) rows << index.row();
  if (rows.isEmpty()) return false;
  std::sort(rows.begin(), rows.end());
  emit removePairsRequested(rows);
  return true;
}

void PairEditor::clearPairs() {
  creator_->cancel();
  if (model_->rowCount() > 0) emit clearPairsRequested();
}

bool PairEditor::suggestPartner() {
  if (!suggestions_ || creator_->source() < 0) return false;
  const auto best = suggestions_(creator_->source(), 1);
  if (best.isEmpty()) {
    emit statusMessage(QString("H has no entry for source %1").arg(creator_->source()));
    return false;
  }
  creator_->pickTarget(best.first().first);
  return true;
}

void PairEditor::updateState() {
  const auto state = creator_->state();
  QString text = PairCreator::describe(state);
  if (creator_->source() >= 0) text += QString("  source #%1").arg(creator_->source());
  if (creator_->target() >= 0) text += QString("  target #%1").arg(creator_->target());
  state_label_->setText(text);
  add_button_->setEnabled(state == PairCreator::State::BothPicked);
  suggest_button_->setEnabled(suggestions_ && creator_->source() >= 0);
  delete_button_->setEnabled(model_->rowCount() > 0 || state != PairCreator::State::NothingPicked);
}

namespace {
constexpr int kFigurePairsPerColumn = 12, kFigureColumns = 3, kFigureCell = 96, kFigurePad = 10;
}

QSize PairEditor::figureSize() const {
  if (!showsGalleries()) return view_->figureSize();
  const int n = std::max<int>(1, std::min<int>(int(model_->pairs().size()), kFigurePairsPerColumn * kFigureColumns));
  const int columns = (n + kFigurePairsPerColumn - 1) / kFigurePairsPerColumn;
  const int rows = std::min(n, kFigurePairsPerColumn);
  return QSize(columns * (3 * kFigureCell + kFigurePad), 40 + rows * (kFigureCell + kFigurePad));
}

void PairEditor::renderFigure(QCPPainter& painter, const QSize& size) {
  if (!showsGalleries()) {
    view_->renderFigure(painter, size);
    return;
  }
  // Image pairs: "#k  [source] -> [target]", in columns of kFigurePairsPerColumn.
  painter.save();
  painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
  const QSize natural = figureSize();
  painter.scale(double(size.width()) / natural.width(), double(size.height()) / natural.height());
  QFont title = painter.font();
  title.setPointSizeF(11);
  title.setBold(true);
  painter.setFont(title);
  const KeypointPairs& p = model_->pairs();
  painter.setPen(Qt::black);
  painter.drawText(
      QRect(0, 0, natural.width(), 34), Qt::AlignCenter,
      p.isEmpty() ? QString("no keypoint pairs") : QString("%1 keypoint pair(s): source → target").arg(p.size()));
  QFont small = painter.font();
  small.setPointSizeF(8);
  small.setBold(false);
  painter.setFont(small);
  const int shown = std::min<int>(int(p.size()), kFigurePairsPerColumn * kFigureColumns);
  for (int k = 0; k < shown; ++k) {
    const int x0 = (k / kFigurePairsPerColumn) * (3 * kFigureCell + kFigurePad);
    const int y0 = 40 + (k % kFigurePairsPerColumn) * (kFigureCell + kFigurePad);
    const QRect label(x0, y0, kFigureCell / 2, kFigureCell);
    const QRect src(x0 + kFigureCell / 2, y0, kFigureCell, kFigureCell);
    const QRect arrow(x0 + 3 * kFigureCell / 2, y0, kFigureCell / 2, kFigureCell);
    const QRect tgt(x0 + 2 * kFigureCell, y0, kFigureCell, kFigureCell);
    painter.drawText(label, Qt::AlignCenter, QString("#%1").arg(k + 1));
    auto draw = [&](const ThumbnailModel::Provider& provider, qint64 i, const QRect& r) {
      const QImage image = provider ? provider(i) : QImage();
      if (!image.isNull()) painter.drawImage(r, image.scaled(r.size(), Qt::KeepAspectRatio, Qt::FastTransformation));
      painter.drawRect(r.adjusted(0, 0, -1, -1));
    };
    draw(source_thumbs_, p[k].source, src);
    draw(target_thumbs_, p[k].target, tgt);
    painter.drawText(arrow, Qt::AlignCenter, QString("→"));
  }
  if (shown < p.size())
    painter.drawText(QRect(0, natural.height() - 14, natural.width(), 14), Qt::AlignCenter,
                     QString("(first %1 of %2 pairs)").arg(shown).arg(p.size()));
  painter.restore();
}

void PairEditor::writeFigureCsv(QTextStream& out) const {
  out << "pair,source,target,source_x,source_y,target_x,target_y\n";
  const KeypointPairs& p = model_->pairs();
  for (int i = 0; i < p.size(); ++i) {
    const QPointF a = model_->position(Domain::Source, p[i].source), b = model_->position(Domain::Target, p[i].target);
    out << i << ',' << p[i].source << ',' << p[i].target << ',' << a.x() << ',' << a.y() << ',' << b.x() << ',' << b.y()
        << '\n';
  }
}

}  // namespace otcs
