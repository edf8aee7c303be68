#include "app/gui/importdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

namespace otcs::workbench {

namespace {
// format id, label, path key, path label, whether the path is a directory, labels key ("" = none)
struct FormatInfo {
  const char* id;
  const char* title;
  const char* path_key;
  const char* path_label;
  bool directory;
  const char* labels_key;
  const char* filter;
};
const FormatInfo kFormats[] = {
    {"idx", "MNIST idx files (images + labels, .gz or plain)", "images", "Images file", false, "labels",
     "idx files (*-ubyte *-ubyte.gz *.idx *.gz);;All files (*)"},
    {"folder", "Folder of JPEG/PNG images (optional labels CSV)", "dir", "Folder", true, "labels",
     "CSV files (*.csv);;All files (*)"},
    {"chinese_mnist", "Chinese-MNIST (root with data/ and chinese_mnist.csv)", "root", "Root folder", true, "", ""},
    {"pack", "Dataset pack (.npz: a decoded dataset as cached under ~/.cache/otcs/packs)", "file", "Pack file", false,
     "", "Packs (*.npz);;All files (*)"},
    {"points", "Point cloud (.npy float matrix or .csv)", "file", "Points file", false, "",
     "Point files (*.npy *.csv);;All files (*)"},
};
const FormatInfo& formatInfo(const QString& id) {
  for (const auto& f : kFormats)
    if (id == f.id) return f;
  return kFormats[0];
}

// Keys of an "images" object the form edits (anything else is kept untouched in extra_).
const QStringList kFormKeys = {"format", "images",     "labels",   "dir",   "root",        "file",
                               "suites", "size",       "channels", "crop",  "fit_content", "normalise_contrast",
                               "invert", "downsample", "upsample", "limit", "limit_seed",  "classes",
                               "range"};

QSpinBox* spin(QWidget* parent, int lo, int hi, int value, const QString& special = QString()) {
  auto* s = new QSpinBox(parent);
  s->setRange(lo, hi);
  s->setValue(value);
  if (!special.isEmpty()) s->setSpecialValueText(special);
  return s;
}
}  // namespace

ImportDialog::ImportDialog(const QString& baseDir, const QJsonObject& project, QWidget* parent)
    : QDialog(parent), base_dir_(baseDir.isEmpty() ? QDir::currentPath() : baseDir), project_(project) {
  setWindowTitle("Import dataset");
  setObjectName("importDialog");
  side_ = new QComboBox(this);
  side_->setObjectName("importSide");
  side_->addItem("Source domain", "source");
  side_->addItem("Target domain", "target");
  side_->addItem("Held-out test source", "test_source");
  side_->addItem("Held-out test target", "test_target");
  format_ = new QComboBox(this);
  format_->setObjectName("importFormat");
  for (const auto& f : kFormats) format_->addItem(f.title, f.id);

  path_ = new QLineEdit(this);
  path_->setObjectName("importPath");
  labels_ = new QLineEdit(this);
  labels_->setObjectName("importLabels");
  labels_->setPlaceholderText("optional");
  auto* path_browse = new QToolButton(this);
  path_browse->setText("…");
  auto* labels_browse = new QToolButton(this);
  labels_browse->setText("…");
  auto row = [this](QLineEdit* edit, QToolButton* button) {
    auto* w = new QWidget(this);
    auto* l = new QHBoxLayout(w);
    l->setContentsMargins(0, 0, 0, 0);
    l->addWidget(edit, 1);
    l->addWidget(button);
    return w;
  };
  suite_from_ = spin(this, 1, 100, 1);
  suite_to_ = spin(this, 1, 100, 90);
  auto* suites = new QWidget(this);
  {
    auto* l = new QHBoxLayout(suites);
    l->setContentsMargins(0, 0, 0, 0);
    l->addWidget(suite_from_);
    l->addWidget(new QLabel("to", suites));
    l->addWidget(suite_to_);
    l->addStretch(1);
  }

  size_ = spin(this, 0, 4096, 0, "keep");
  size_->setSuffix(" px");
  channels_ = new QComboBox(this);
  channels_->addItem("keep", 0);
  channels_->addItem("1 (grey)", 1);
  channels_->addItem("3 (RGB)", 3);
  crop_ = new QCheckBox("centre crop to the largest square", this);
  fit_ = new QCheckBox("fit strokes into 20/28 of the frame (as MNIST)", this);
  contrast_ = new QCheckBox("stretch each image's contrast (min..max)", this);
  invert_ = new QCheckBox("invert", this);
  downsample_ = spin(this, 1, 64, 1, "none");
  downsample_->setPrefix("÷");
  upsample_ = spin(this, 0, 4096, 0, "none");
  upsample_->setSuffix(" px");
  limit_ = spin(this, 0, 100000000, 0, "all");
  seed_ = spin(this, 0, 1000000, 0);
  classes_ = new QLineEdit(this);
  classes_->setPlaceholderText("all (or e.g. 0, 1, 7)");
  range_from_ = spin(this, 0, 100000000, 0, "—");
  range_to_ = spin(this, 0, 100000000, 0, "—");
  auto* range = new QWidget(this);
  {
    auto* l = new QHBoxLayout(range);
    l->setContentsMargins(0, 0, 0, 0);
    l->addWidget(range_from_);
    l->addWidget(new QLabel("to", range));
    l->addWidget(range_to_);
    l->addStretch(1);
  }

  auto* source_box = new QGroupBox("Dataset", this);
  auto* form = new QFormLayout(source_box);
  form->addRow("Project side", side_);
  form->addRow("Format", format_);
  path_label_ = new QLabel("Images file", this);
  form->addRow(path_label_, row(path_, path_browse));
  labels_label_ = new QLabel("Labels", this);
  form->addRow(labels_label_, row(labels_, labels_browse));
  auto* suites_label = new QLabel("Suites", this);
  form->addRow(suites_label, suites);
  auto* pre_box = new QGroupBox("Preprocessing", this);
  auto* pre = new QFormLayout(pre_box);
  pre->addRow("Resize to", size_);
  pre->addRow("Channels", channels_);
  pre->addRow("", crop_);
  pre->addRow("", fit_);
  pre->addRow("", contrast_);
  pre->addRow("", invert_);
  pre->addRow("Downsample", downsample_);
  pre->addRow("Then upsample to", upsample_);
  auto* subset_box = new QGroupBox("Subset", this);
  auto* sub = new QFormLayout(subset_box);
  sub->addRow("Classes", classes_);
  sub->addRow("Samples first..last", range);
  sub->addRow("Random subset of", limit_);
  sub->addRow("Subset seed", seed_);
  image_only_ = {pre_box, subset_box};

  summary_ = new QLabel(this);
  summary_->setObjectName("importSummary");
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summary_->setMinimumWidth(380);
  thumbs_ = new QListWidget(this);
  thumbs_->setObjectName("importThumbnails");
  thumbs_->setViewMode(QListView::IconMode);
  thumbs_->setIconSize(QSize(48, 48));
  thumbs_->setGridSize(QSize(56, 56));
  thumbs_->setResizeMode(QListView::Adjust);
  thumbs_->setMovement(QListView::Static);
  thumbs_->setSelectionMode(QAbstractItemView::NoSelection);
  auto* preview_button = new QPushButton("Preview now", this);
  auto* preview_box = new QGroupBox("Preview (as a run will see it)", this);
  auto* pv = new QVBoxLayout(preview_box);
  pv->addWidget(summary_);
  pv->addWidget(thumbs_, 1);
  pv->addWidget(preview_button, 0, Qt::AlignRight);

  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->button(QDialogButtonBox::Ok)->setText("Use for this side");
  auto* left = new QVBoxLayout;
  left->addWidget(source_box);
  left->addWidget(pre_box);
  left->addWidget(subset_box);
  left->addStretch(1);
  auto* columns = new QHBoxLayout;
  columns->addLayout(left);
  columns->addWidget(preview_box, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(columns, 1);
  auto* note = new QLabel(QString("Paths are stored relative to %1.").arg(QDir::toNativeSeparators(base_dir_)), this);
  note->setWordWrap(true);
  layout->addWidget(note);
  layout->addWidget(buttons_);
  resize(960, 640);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(400);
  connect(debounce_, &QTimer::timeout, this, &ImportDialog::refreshPreview);
  watcher_ = new QFutureWatcher<DatasetPreview>(this);
  connect(watcher_, &QFutureWatcher<DatasetPreview>::finished, this, [this] {
    preview_ = watcher_->result();
    running_ = false;
    thumbs_->clear();
    if (!preview_.error.isEmpty()) {
      summary_->setText("<span style='color:#b00020'>" + preview_.error.toHtmlEscaped() + "</span>");
    } else {
      QString text = QString("<b>%1 samples</b>, %2")
                         .arg(preview_.count)
                         .arg(preview_.shape.isEmpty() ? QString("%1 coordinates").arg(preview_.dim)
                                                       : QString("images %1").arg(preview_.shape));
      if (!preview_.labels.isEmpty()) text += "<br>" + preview_.labels.toHtmlEscaped();
      summary_->setText(text);
      for (int i = 0; i < preview_.thumbnails.size(); ++i) {
        auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(preview_.thumbnails[i].scaled(
                                             48, 48, Qt::KeepAspectRatio, Qt::FastTransformation))),
                                         QString());
        item->setToolTip(QString("sample %1").arg(i));
        thumbs_->addItem(item);
      }
    }
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(preview_.error.isEmpty());
    emit previewFinished();
    if (pending_) {
      pending_ = false;
      refreshPreview();
    }
  });

  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(preview_button, &QPushButton::clicked, this, &ImportDialog::refreshPreview);
  connect(path_browse, &QToolButton::clicked, this, [this] {
    const FormatInfo& f = formatInfo(format_->currentData().toString());
    browse(path_, f.directory, f.filter);
  });
  connect(labels_browse, &QToolButton::clicked, this, [this] {
    browse(labels_, false,
           format_->currentData().toString() == "idx" ? "idx files (*-ubyte *-ubyte.gz *.gz);;All files (*)"
                                                      : "CSV files (*.csv);;All files (*)");
  });
  connect(side_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    fillFromProjectSide();
    scheduleRefresh();
  });
  connect(format_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this, suites_label, suites] {
    updateFields();
    const bool chinese = format_->currentData().toString() == "chinese_mnist";
    suites_label->setVisible(chinese);
    suites->setVisible(chinese);
    scheduleRefresh();
  });
  for (QLineEdit* e : {path_, labels_, classes_})
    connect(e, &QLineEdit::textChanged, this, &ImportDialog::scheduleRefresh);
  for (QSpinBox* s : {suite_from_, suite_to_, size_, downsample_, upsample_, limit_, seed_, range_from_, range_to_})
    connect(s, qOverload<int>(&QSpinBox::valueChanged), this, &ImportDialog::scheduleRefresh);
  connect(channels_, qOverload<int>(&QComboBox::currentIndexChanged), this, &ImportDialog::scheduleRefresh);
  for (QCheckBox* c : {crop_, fit_, contrast_, invert_})
    connect(c, &QCheckBox::toggled, this, &ImportDialog::scheduleRefresh);

  suites_label->setVisible(false);
  suites->setVisible(false);
  updateFields();
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(false);
  summary_->setText("Choose a file or folder; the preview follows.");
  fillFromProjectSide();  // the source side's current dataset, when it is one the form can show
}

void ImportDialog::fillFromProjectSide() {
  const QJsonObject current = project_.value("data").toObject().value(side()).toObject();
  if (current.contains("images") || current.contains("file")) setDataset(current);
}

ImportDialog::~ImportDialog() {
  if (watcher_->isRunning()) watcher_->waitForFinished();  // the task holds no pointer to us, but finish cleanly
}

QString ImportDialog::side() const { return side_->currentData().toString(); }

void ImportDialog::setSide(const QString& side) { side_->setCurrentIndex(std::max(0, side_->findData(side))); }

void ImportDialog::updateFields() {
  const FormatInfo& f = formatInfo(format_->currentData().toString());
  path_label_->setText(f.path_label);
  const bool has_labels = QString(f.labels_key).size() > 0;
  labels_label_->setVisible(has_labels);
  labels_->setVisible(has_labels);
  labels_->parentWidget()->setVisible(has_labels);
  labels_label_->setText(QString(f.id) == "folder" ? "Labels CSV" : "Labels file");
  for (QWidget* w : image_only_) w->setEnabled(QString(f.id) != "points");
}

void ImportDialog::scheduleRefresh() { debounce_->start(); }

bool ImportDialog::previewRunning() const { return running_ || debounce_->isActive(); }

void ImportDialog::refreshPreview() {
  debounce_->stop();
  if (running_) {
    pending_ = true;
    return;
  }
  if (path_->text().trimmed().isEmpty()) {
    preview_ = DatasetPreview{};
    preview_.error = QString("%1: not given").arg(path_label_->text());
    thumbs_->clear();
    summary_->setText(preview_.error);
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(false);
    emit previewFinished();
    return;
  }
  summary_->setText("Loading…");
  running_ = true;
  watcher_->setFuture(
      QtConcurrent::run([dataset = dataset(), base = base_dir_] { return previewDataset(dataset, base); }));
}

QString ImportDialog::relative(const QString& path) const {
  const QString p = path.trimmed();
  if (p.isEmpty() || QDir::isRelativePath(p)) return p;
  return QDir(base_dir_).relativeFilePath(p);
}

void ImportDialog::browse(QLineEdit* edit, bool directory, const QString& filter) {
  const QString start = edit->text().isEmpty() ? base_dir_ : QDir(base_dir_).absoluteFilePath(edit->text());
  const QString chosen = directory ? QFileDialog::getExistingDirectory(this, "Choose a folder", start)
                                   : QFileDialog::getOpenFileName(this, "Choose a file", start, filter);
  if (!chosen.isEmpty()) edit->setText(relative(chosen));
}

QJsonObject ImportDialog::dataset() const {
  const QString id = format_->currentData().toString();
  if (id == "points") return QJsonObject{{"file", relative(path_->text())}};
  const FormatInfo& f = formatInfo(id);
  QJsonObject images = extra_;
  images.insert("format", id);
  images.insert(f.path_key, relative(path_->text()));
  if (QString(f.labels_key).size() && !labels_->text().trimmed().isEmpty())
    images.insert(f.labels_key, relative(labels_->text()));
  if (id == "chinese_mnist") images.insert("suites", QJsonArray{suite_from_->value(), suite_to_->value()});
  auto put = [&images](const char* key, int value, int none) {
    if (value != none) images.insert(key, value);
  };
  put("size", size_->value(), 0);
  put("channels", channels_->currentData().toInt(), 0);
  if (crop_->isChecked()) images.insert("crop", -1);
  if (fit_->isChecked()) images.insert("fit_content", true);
  if (contrast_->isChecked()) images.insert("normalise_contrast", true);
  if (invert_->isChecked()) images.insert("invert", true);
  put("downsample", downsample_->value(), 1);
  put("upsample", upsample_->value(), 0);
  if (limit_->value() > 0) {
    images.insert("limit", limit_->value());
    images.insert("limit_seed", seed_->value());
  }
  QJsonArray classes;
  for (const QString& part : classes_->text().split(QRegularExpression("[,;\\s]+"), Qt::SkipEmptyParts)) {
    bool ok = false;
    const int c = part.toInt(&ok);
    if (ok) classes.append(c);
  }
  if (!classes.isEmpty()) images.insert("classes", classes);
  if (range_from_->value() > 0 && range_to_->value() >= range_from_->value())
    images.insert("range", QJsonArray{range_from_->value(), range_to_->value()});
  return QJsonObject{{"images", images}};
}

void ImportDialog::setDataset(const QJsonObject& dataset) {
  extra_ = {};
  if (dataset.contains("file")) {
    format_->setCurrentIndex(format_->findData("points"));
    path_->setText(dataset.value("file").toString());
    return;
  }
  const QJsonObject images = dataset.value("images").toObject();
  const QString id = images.value("format").toString("idx");
  format_->setCurrentIndex(std::max(0, format_->findData(id)));
  const FormatInfo& f = formatInfo(id);
  path_->setText(images.value(f.path_key).toString());
  labels_->setText(QString(f.labels_key).size() ? images.value(f.labels_key).toString() : QString());
  const QJsonArray suites = images.value("suites").toArray();
  suite_from_->setValue(suites.size() == 2 ? suites[0].toInt() : 1);
  suite_to_->setValue(suites.size() == 2 ? suites[1].toInt() : 90);
  size_->setValue(images.value("size").toInt(0));
  channels_->setCurrentIndex(std::max(0, channels_->findData(images.value("channels").toInt(0))));
  crop_->setChecked(images.value("crop").toInt(0) == -1);
  fit_->setChecked(images.value("fit_content").toBool(false));
  contrast_->setChecked(images.value("normalise_contrast").toBool(false));
  invert_->setChecked(images.value("invert").toBool(false));
  downsample_->setValue(images.value("downsample").toInt(1));
  upsample_->setValue(images.value("upsample").toInt(0));
  limit_->setValue(images.value("limit").toInt(0));
  seed_->setValue(images.value("limit_seed").toInt(0));
  QStringList classes;
  for (const auto& c : images.value("classes").toArray()) classes << QString::number(c.toInt());
  classes_->setText(classes.join(", "));
  const QJsonArray range = images.value("range").toArray();
  range_from_->setValue(range.size() == 2 ? range[0].toInt() : 0);
  range_to_->setValue(range.size() == 2 ? range[1].toInt() : 0);
  // What the form cannot show (e.g. a crop size other than the largest square) stays as it was.
  for (auto it = images.begin(); it != images.end(); ++it)
    if (!kFormKeys.contains(it.key()) || (it.key() == "crop" && it.value().toInt(0) > 0))
      extra_.insert(it.key(), it.value());
}

QJsonObject ImportDialog::applyTo(const QJsonObject& project) const {
  QJsonObject out = project;
  QJsonObject data = out.value("data").toObject();
  data.insert(side(), dataset());
  out.insert("data", data);
  return out;
}

}  // namespace otcs::workbench
