#pragma once
// File > Import dataset…: choose a dataset for one side of the project (source, target, or a held-out test set)
// through the core importers, with its preprocessing options and a live preview (sample count, dimension, labels,
// the first thumbnails) decoded off the GUI thread. OK yields the project's dataset JSON ({"images": {...}} or
// {"file": ...}), with paths relative to the project's directory as the project format requires; the window
// applies it as one undoable edit of `data`.
#include <QDialog>
#include <QFutureWatcher>
#include <QImage>
#include <QJsonObject>
#include <QStringList>
#include <QVector>

#include "app/gui/coreadapter.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QSpinBox;
class QTimer;

namespace otcs::workbench {

class ImportDialog : public QDialog {
  Q_OBJECT
 public:
  // `baseDir`: the project's directory (paths are stored relative to it); `project`: the current project JSON
  // (the chosen side's current dataset fills the form when it is an image set or a file).
  ImportDialog(const QString& baseDir, const QJsonObject& project, QWidget* parent = nullptr);
  ~ImportDialog() override;

  // "source", "target", "test_source" or "test_target".
  QString side() const;
  void setSide(const QString& side);
  // The dataset JSON the form describes ({"images": {...}} or {"file": "..."}).
  QJsonObject dataset() const;
  // Fills the form from a dataset JSON (unknown keys are kept in dataset()).
  void setDataset(const QJsonObject& dataset);
  // The project with data.<side> replaced by dataset().
  QJsonObject applyTo(const QJsonObject& project) const;

  // Form fields, for tests and scripting.
  QComboBox* formatBox() const { return format_; }
  QLineEdit* pathEdit() const { return path_; }
  QLineEdit* labelsEdit() const { return labels_; }
  QSpinBox* sizeBox() const { return size_; }
  QComboBox* channelsBox() const { return channels_; }
  QSpinBox* limitBox() const { return limit_; }
  QLineEdit* classesEdit() const { return classes_; }
  QCheckBox* invertBox() const { return invert_; }
  QListWidget* thumbnails() const { return thumbs_; }
  QLabel* summary() const { return summary_; }

  // Starts a preview now (it also starts 400 ms after the last change); previewFinished() follows.
  void refreshPreview();
  bool previewRunning() const;
  const DatasetPreview& lastPreview() const { return preview_; }

 signals:
  void previewFinished();

 private:
  void updateFields();
  void fillFromProjectSide();  // the form from the project's dataset on the chosen side, when the form can show it
  void scheduleRefresh();
  QString relative(const QString& path) const;
  void browse(QLineEdit* edit, bool directory, const QString& filter);

  QString base_dir_;
  QJsonObject project_;
  QJsonObject extra_;  // keys of a loaded dataset the form does not show, kept as they were
  QComboBox* side_ = nullptr;
  QComboBox* format_ = nullptr;
  QLabel* path_label_ = nullptr;
  QLineEdit* path_ = nullptr;
  QLabel* labels_label_ = nullptr;
  QLineEdit* labels_ = nullptr;
  QSpinBox* suite_from_ = nullptr;
  QSpinBox* suite_to_ = nullptr;
  QSpinBox* size_ = nullptr;
  QComboBox* channels_ = nullptr;
  QCheckBox* crop_ = nullptr;
  QCheckBox* fit_ = nullptr;
  QCheckBox* contrast_ = nullptr;
  QCheckBox* invert_ = nullptr;
  QSpinBox* downsample_ = nullptr;
  QSpinBox* upsample_ = nullptr;
  QSpinBox* limit_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QLineEdit* classes_ = nullptr;
  QSpinBox* range_from_ = nullptr;
  QSpinBox* range_to_ = nullptr;
  QLabel* summary_ = nullptr;
  QListWidget* thumbs_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
  QTimer* debounce_ = nullptr;
  QFutureWatcher<DatasetPreview>* watcher_ = nullptr;
  bool pending_ = false;  // a change arrived while a preview ran
  bool running_ = false;  // from setFuture until its result is shown
  DatasetPreview preview_;
  QList<QWidget*> image_only_;  // preprocessing widgets that do not apply to point files
};

}  // namespace otcs::workbench
