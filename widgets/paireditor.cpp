#include "widgets/paireditor.h"

#include <QAction>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTextStream>
#include <QUndoStack>
#include <QVBoxLayout>

#include "widgets/pairtablemodel.h"
#include "widgets/scatterpairview.h"

namespace otcs {

PairEditor::PairEditor(QWidget* parent) : QWidget(parent) {
  stack_ = new QUndoStack(this);
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

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add_button_);
  buttons->addWidget(suggest_button_);
  buttons->addWidget(cancel_button);
  buttons->addStretch(1);
  buttons->addWidget(delete_button_);
  auto* side = new QWidget(this);
  auto* side_layout = new QVBoxLayout(side);
  side_layout->setContentsMargins(6, 6, 6, 6);
  auto* help = new QLabel(
      "<b>Pairing.</b> Click a source point (blue) and a target point (orange) in either order; clicking again "
      "replaces a pick. Drag pans, the wheel zooms, double-click fits.",
      side);
  help->setWordWrap(true);
  side_layout->addWidget(help);
  side_layout->addWidget(state_label_);
  side_layout->addLayout(buttons);
  side_layout->addWidget(auto_add_);
  side_layout->addWidget(table_, 1);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(view_);
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
  connect(view_, &QCustomPlot::mouseDoubleClick, view_, [this](QMouseEvent*) { view_->fitAll(); });
  connect(view_, &ScatterPairView::hovered, this, &PairEditor::statusMessage);
  connect(creator_, &PairCreator::stateChanged, this, &PairEditor::updateState);
  connect(creator_, &PairCreator::picksChanged, this, [this](qint64 s, qint64 t) {
    view_->setPicks(s, t);
    if (suggestions_ && s >= 0) view_->setSuggestions(suggestions_(s, 5));
    else view_->setSuggestions({});
    updateState();
  });
  connect(creator_, &PairCreator::pairRequested, this, [this](qint64 s, qint64 t) {
    if (requestAddPair(stack_, model_, {s, t})) emit statusMessage(QString("Paired source %1 with target %2").arg(s).arg(t));
    else emit statusMessage(QString("Source %1 and target %2 are already paired").arg(s).arg(t));
  });
  connect(model_, &PairTableModel::pairsChanged, this, [this] {
    view_->setPairs(model_->pairs());
    updateState();
    emit pairsChanged();
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) { view_->setHighlightedPair(current.isValid() ? current.row() : -1); });
  connect(add_button_, &QPushButton::clicked, this, &PairEditor::addPickedPair);
  connect(suggest_button_, &QPushButton::clicked, this, &PairEditor::suggestPartner);
  connect(delete_button_, &QPushButton::clicked, this, &PairEditor::deleteSelectedPairs);
  connect(cancel_button, &QPushButton::clicked, creator_, &PairCreator::cancel);
  connect(auto_add_, &QCheckBox::toggled, creator_, &PairCreator::setAutoConfirm);
  updateState();
}

void PairEditor::setUndoStack(QUndoStack* stack) {
  if (stack_ && stack_->parent() == this) delete stack_;
  stack_ = stack;
}

void PairEditor::setPoints(const QVector<QPointF>& source, const QVector<QPointF>& target) {
  creator_->cancel();
  view_->setPoints(source, target);
  model_->setCoordinates(source, target);
}

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
  for (const QModelIndex& index : table_->selectionModel()->selectedRows()) rows << index.row();
  return requestRemovePairs(stack_, model_, rows);
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

QSize PairEditor::figureSize() const { return view_->figureSize(); }

void PairEditor::renderFigure(QCPPainter& painter, const QSize& size) { view_->renderFigure(painter, size); }

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
