#pragma once
// The open project: its JSON, its keypoint pairs, its file, and the undo stack that every edit of it goes through
// (the window's "modified" marker is the stack's clean state). The model is the entry point for every
// modification: views request an edit (a setting, a dataset, a pair) and observe the signals; each request is one
// QUndoCommand that either fully applies or changes nothing. The pairs are plain data, indices into the loaded
// source and target sets; a pair edit writes them into data.keypoints at once, so json() is always the project
// as it will be saved. Saving goes through QSaveFile, so a failed save never leaves a torn project behind.
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QUndoStack>

#include "app/gui/coreadapter.h"
#include "widgets/keypointpair.h"

namespace otcs::workbench {

class ProjectModel : public QObject {
  Q_OBJECT
 public:
  explicit ProjectModel(QObject* parent = nullptr);

  QUndoStack* undoStack() { return &undo_; }
  const QJsonObject& json() const { return json_; }
  QString path() const { return path_; }
  QString directory() const;  // relative paths in the project resolve against this
  QString displayName() const;
  bool isModified() const { return !undo_.isClean(); }

  void newProject();
  static QJsonObject templateProject();
  // Returns false with *error set to one sentence naming the file; the current project is left untouched.
  bool load(const QString& path, QString* error);
  // Writes json() exactly.
  bool save(const QString& path, QString* error);

  // Undoable edit of one top-level key (`text` names the edit in Edit > Undo).
  void setValue(const QString& key, const QJsonValue& value, const QString& text);
  // Applies without an undo entry; for commands that are themselves on the undo stack.
  void applyValue(const QString& key, const QJsonValue& value);

  // The project's data as loaded for its current JSON (point sets, labels, the pairs its data.keypoints imply).
  const ProjectData& data() const { return data_; }
  // Called when a load of the project's data finishes: the pairs become the ones the data implies (no undo step:
  // they are what the JSON already says).
  void setData(ProjectData data);

  const KeypointPairs& pairs() const { return pairs_; }
  // Pair edits, each one undo step. A source or target belongs to one pair only (the OT stage rejects anything
  // else), so adding a pair replaces the pairs that share either index within the same step. Each returns false
  // and pushes nothing when it would change nothing (an invalid or existing pair, no valid row, no pairs).
  bool addPair(const KeypointPair& pair);
  bool removePairs(QList<int> rows);
  bool clearPairs();
  bool replacePairs(const KeypointPairs& pairs, const QString& text);  // e.g. an imported list
  // Applies without an undo entry; for the pair commands.
  void applyPairs(const KeypointPairs& pairs, const QJsonValue& keypoints);

  // json() with the pairs as an explicit data.keypoints list (a rule such as class_medoid resolved to the pairs it
  // chose): the project a run copies and hashes, so a run records exactly the pairs it trained with.
  QJsonObject resolvedJson() const;
  // The data.keypoints value for `pairs`: index pairs, in point form where a pair refers to a keypoint point
  // appended to the sets (index >= the file's count), as they were read; undefined when there are none.
  static QJsonValue keypointsJson(const KeypointPairs& pairs, const ProjectData& data);

 signals:
  void loaded();  // a new or opened project replaced the previous one
  void valueChanged(const QString& key);
  void pairsChanged();  // an edit, an undo or a data load changed pairs()
  void pathChanged(const QString& path);
  void modifiedChanged(bool modified);

 private:
  bool pushPairs(const KeypointPairs& after, const QString& text);

  QJsonObject json_;
  QString path_;
  ProjectData data_;
  KeypointPairs pairs_;
  QUndoStack undo_;
};

}  // namespace otcs::workbench
