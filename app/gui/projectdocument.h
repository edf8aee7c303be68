#pragma once
// The open project: its JSON, its file, and the undo stack that every edit of it goes through (the window's
// "modified" marker is the stack's clean state). Saving goes through QSaveFile, so a failed save never leaves a
// torn project behind.
#include <functional>

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QUndoStack>

namespace otcs::workbench {

class ProjectDocument : public QObject {
  Q_OBJECT
 public:
  explicit ProjectDocument(QObject* parent = nullptr);

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
  bool save(const QString& path, QString* error);

  // Undoable edit of one top-level key (`text` names the edit in Edit > Undo).
  void setValue(const QString& key, const QJsonValue& value, const QString& text);
  // Applies without an undo entry; for commands that are themselves on the undo stack.
  void applyValue(const QString& key, const QJsonValue& value);

  // Lets the views that hold part of the project (e.g. the pair model) write it back before a save.
  using Collector = std::function<void(QJsonObject&)>;
  void setCollector(Collector collector) { collector_ = std::move(collector); }

 signals:
  void loaded();                    // a new or opened project replaced the previous one
  void valueChanged(const QString& key);
  void pathChanged(const QString& path);
  void modifiedChanged(bool modified);

 private:
  QJsonObject json_;
  QString path_;
  QUndoStack undo_;
  Collector collector_;
};

}  // namespace otcs::workbench
