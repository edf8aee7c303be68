// The settings editor and the project schema, in-process under Xvfb: the built-in schema is the published file,
// the lookup follows $ref, items and the branches a project takes, the project dock's tooltips carry the schema's
// descriptions, ranges and defaults, a value the schema refuses (out of range, wrong type, not among the allowed
// values) changes nothing, and an allowed one is one undoable edit, typed or picked from the list of values.
#include <QtTest/QtTest>

#include <QComboBox>
#include <QDockWidget>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QStatusBar>
#include <QTreeWidget>
#include <QUndoStack>

#include "app/gui/mainwindow.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/projectoverview.h"
#include "app/gui/projectschema.h"
#include "app/gui/workbenchapp.h"
#include "workbench_test_support.h"

using namespace otcs::workbench;

namespace {
const QString kSchemaFile = QStringLiteral(OTCS_SOURCE_DIR "/resources/project.schema.json");
const QString kProject = QStringLiteral(OTCS_SOURCE_DIR "/projects/toy2d-quick.json");
}  // namespace

class TestSettingsSchemaXvfb : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;
  QJsonObject schema_;  // read from the source tree, not through the code under test

  QJsonValue defs() const { return schema_.value("$defs"); }
  // The schema's own description of a key of one of its $defs.
  QString description(const QString& def, const QString& key) const {
    return defs()[def]["properties"][key]["description"].toString();
  }
  QTreeWidgetItem* item(const QStringList& path) const {
    for (QTreeWidgetItemIterator it(window_->projectTree()); *it; ++it)
      if (jsonTreePath(*it) == path) return *it;
    return nullptr;
  }
  QJsonValue value(const QStringList& path) const {
    QJsonValue v = window_->document()->json();
    for (const QString& key : path) v = v.toObject().value(key);
    return v;
  }
  QUndoStack* undo() const { return window_->document()->undoStack(); }
  QString status() const { return window_->statusBar()->currentMessage(); }
  // As a user: F2 on the value, select all, type, Enter.
  void type(const QStringList& path, const QString& text) {
    QTreeWidgetItem* it = item(path);
    QVERIFY(it);
    window_->projectTree()->scrollToItem(it);
    window_->projectTree()->editItem(it, 1);
    auto* editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
    QVERIFY2(editor, "no line editor opened on the value");
    editor->selectAll();
    QTest::keyClicks(editor, text);
    QTest::keyClick(editor, Qt::Key_Return);
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    initResources();
    QFile file(kSchemaFile);
    QVERIFY(file.open(QIODevice::ReadOnly));
    schema_ = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY(!schema_.isEmpty());
    const QString project = tmp_.filePath("toy2d-quick.json");  // a copy: nothing here may touch the shipped one
    QVERIFY(QFile::copy(kProject, project));
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    window_->activateWindow();  // the editors take the keyboard focus, as for a user
    QVERIFY(QTest::qWaitForWindowActive(window_.get()));
    QVERIFY(window_->openProject(project));
    window_->findChild<QDockWidget*>("projectDock")->raise();
    for (const QStringList& path : {QStringList{"stages", "score"}, QStringList{"stages", "sample"},
                                    QStringList{"stages", "sample", "sampler"}, QStringList{"stages", "ot"}})
      item(path)->setExpanded(true);
  }

  void cleanupTestCase() {
    if (window_) undo()->setClean();
    window_.reset();
  }

  // One source of truth: the schema built into the binary is byte for byte the published file.
  void theBuiltInSchemaIsThePublishedFile() {
    QFile built(":/otcs/project.schema.json"), published(kSchemaFile);
    QVERIFY(built.open(QIODevice::ReadOnly) && published.open(QIODevice::ReadOnly));
    QCOMPARE(built.readAll(), published.readAll());
    QVERIFY(ProjectSchema::bundled().isValid());
  }

  void lookupFollowsRefsItemsAndBranches() {
    const ProjectSchema& schema = ProjectSchema::bundled();
    const QJsonObject project = window_->document()->json();
    SchemaInfo steps = schema.lookup("/stages/score/steps", project);
    QVERIFY(steps.known);
    QCOMPARE(steps.description, description("score_stage", "steps"));
    QCOMPARE(steps.types, QStringList{"integer"});
    QCOMPARE(steps.minimum.value_or(-1), 1.0);
    QCOMPARE(steps.defaultValue.toInt(), 5000);
    QCOMPARE(steps.summary(), QString("integer ≥ 1, default 5000"));
    QCOMPARE(schema.lookup("/stages/ot/epsilon", project).summary(), QString("number > 0, default 0.001"));
    QCOMPARE(schema.lookup("/stages/ot/alpha", project).summary(), QString("number ≥ 0 and ≤ 1, default 1"));
    QCOMPARE(schema.lookup("/stages/sample/sampler/kind", project).summary(),
             QString("one of: ancestral, ddim, em, heun, dpm-solver++, dpm-solver++-sde, default ancestral"));
    // A $ref's own description comes before the definition's.
    QCOMPARE(schema.lookup("/data/source", project).description, description("translation_data", "source"));
    // Array elements through items, and a oneOf branch chosen by the value (a number, not a list of them).
    const SchemaInfo classes = schema.lookup("/data/source/images/classes/0");
    QVERIFY(classes.known);
    QCOMPARE(classes.types, QStringList{"integer"});
    const SchemaInfo stddev = schema.lookup("/data/source/mixture/0/std", project);
    QCOMPARE(stddev.types, QStringList{"number"});
    QCOMPARE(stddev.minimum.value_or(-1), 0.0);
    QCOMPARE(schema.lookup("/data/keypoints/1/target", project).description, description("keypoint", "target"));
    // Generation keys exist only for a generation project ("kind": "generation"); without a project, both.
    QVERIFY(!schema.lookup("/train/steps", project).known);
    const QJsonObject generation{{"schema_version", 1}, {"kind", "generation"}, {"data", QJsonObject()}};
    QCOMPARE(schema.lookup("/train/steps", generation).description, description("generation_train", "steps"));
    QCOMPARE(schema.lookup("/train/steps").defaultValue.toInt(), 3000);
    QVERIFY(!schema.lookup("/stages/score/no_such_key", project).known);
    QVERIFY(!schema.lookup("/stages/score/steps/0", project).known);
  }

  void tooltipsCarryTheSchemaDescriptions() {
    QTreeWidgetItem* steps = item({"stages", "score", "steps"});
    QVERIFY(steps);
    for (int column : {0, 1}) {
      QVERIFY2(steps->toolTip(column).contains(description("score_stage", "steps").toHtmlEscaped()),
               qPrintable(steps->toolTip(column)));
      QVERIFY(steps->toolTip(column).contains("integer ≥ 1, default 5000"));
    }
    QTreeWidgetItem* epsilon = item({"stages", "ot", "epsilon"});
    QVERIFY(epsilon->toolTip(0).contains(description("ot_stage", "epsilon").toHtmlEscaped()));
    QVERIFY(epsilon->toolTip(1).contains("number &gt; 0, default 0.001"));
    QTreeWidgetItem* kind = item({"stages", "sample", "sampler", "kind"});
    QVERIFY(kind->toolTip(1).contains(description("sampler", "kind").toHtmlEscaped()));
    QVERIFY(kind->toolTip(1).contains("one of: ancestral, ddim"));
    QCOMPARE(kind->data(1, kSchemaChoicesRole).toStringList(),
             QStringList({"ancestral", "ddim", "em", "heun", "dpm-solver++", "dpm-solver++-sde"}));
    QCOMPARE(item({"stages", "score", "antithetic"})->data(1, kSchemaChoicesRole).toStringList(),
             QStringList({"true", "false"}));
    // An object's tooltip is its definition's description.
    QVERIFY(item({"stages", "score"})
                ->toolTip(0)
                .contains(defs()["score_stage"]["description"].toString().toHtmlEscaped()));
    // A key the schema does not describe gets no invented text.
    QJsonObject stages = window_->document()->json()["stages"].toObject();
    QJsonObject score = stages["score"].toObject();
    score.insert("x_note", 1);
    stages.insert("score", score);
    window_->document()->setValue("stages", stages, "an unknown key");
    QTreeWidgetItem* note = item({"stages", "score", "x_note"});
    QVERIFY(note);
    QVERIFY(note->toolTip(0).isEmpty());
    QCOMPARE(note->toolTip(1), QString("Double-click to edit (Edit > Undo reverts)"));
    QVERIFY(note->data(1, kSchemaChoicesRole).isNull());
    undo()->undo();
    QVERIFY(!item({"stages", "score", "x_note"}));
  }

  void valuesTheSchemaRefusesChangeNothing() {
    const QJsonObject before = window_->document()->json();
    const int entries = undo()->count(), index = undo()->index();
    type({"stages", "score", "steps"}, "-5");
    QTRY_VERIFY2(status().startsWith("stages.score.steps"), qPrintable(status()));
    QCOMPARE(status(), QString("stages.score.steps must be an integer ≥ 1, not -5"));
    QCOMPARE(item({"stages", "score", "steps"})->text(1), QString("1500"));  // the cell went back
    QCOMPARE(window_->document()->json(), before);
    QCOMPARE(undo()->count(), entries);
    QCOMPARE(undo()->index(), index);
    // Not an integer, on an exclusive bound, above a maximum, not among the values, a constant, not a number.
    const QList<QPair<QStringList, QString>> refused = {{{"stages", "score", "steps"}, "2.5"},
                                                        {{"stages", "ot", "epsilon"}, "0"},
                                                        {{"stages", "ot", "alpha"}, "1.5"},
                                                        {{"stages", "sample", "sampler", "kind"}, "euler"},
                                                        {{"schema_version"}, "2"},
                                                        {{"stages", "score", "batch"}, "many"},
                                                        {{"data", "source", "mixture", "[0]", "std"}, "-1"}};
    for (const auto& [path, text] : refused) {
      QVERIFY2(!window_->editProjectValue(path, text), qPrintable(path.join('.') + " = " + text));
      QVERIFY2(status().startsWith(path.join('.') + " must be"), qPrintable(status()));
    }
    QCOMPARE(status(), QString("data.source.mixture.[0].std must be a number ≥ 0, not -1"));
    QVERIFY(!window_->editProjectValue({"stages", "sample", "sampler", "kind"}, "euler"));
    QCOMPARE(status(), QString("stages.sample.sampler.kind must be one of: ancestral, ddim, em, heun, dpm-solver++, "
                               "dpm-solver++-sde, not 'euler'"));
    QVERIFY(!window_->editProjectValue({"stages", "score", "batch"}, "many"));
    QCOMPARE(status(), QString("stages.score.batch must be an integer ≥ 1, not 'many'"));
    QCOMPARE(window_->document()->json(), before);
    QCOMPARE(undo()->count(), entries);
    QCOMPARE(undo()->index(), index);
    QVERIFY(!window_->document()->isModified());
  }

  void allowedValuesAreOneUndoableEdit() {
    const int index = undo()->index();
    type({"stages", "score", "steps"}, "2000");
    QTRY_COMPARE(value({"stages", "score", "steps"}).toInt(), 2000);
    QCOMPARE(undo()->index(), index + 1);
    QCOMPARE(undo()->undoText(), QString("Set stages.score.steps to 2000"));
    QCOMPARE(item({"stages", "score", "steps"})->text(1), QString("2000"));
    undo()->undo();
    QCOMPARE(value({"stages", "score", "steps"}).toInt(), 1500);
    QVERIFY(!window_->document()->isModified());
    // On a bound that includes its value, and a whole number written as a decimal.
    QVERIFY(window_->editProjectValue({"stages", "ot", "alpha"}, "1"));
    QVERIFY(window_->editProjectValue({"stages", "score", "batch"}, "64.0"));
    QCOMPARE(value({"stages", "score", "batch"}).toInt(), 64);
    undo()->undo();
    undo()->undo();
    QCOMPARE(value({"stages", "ot", "alpha"}).toDouble(), 0.97);

    // A key with a fixed set of values is edited with a list of them; a pick is the edit.
    QTreeWidgetItem* kind = item({"stages", "sample", "sampler", "kind"});
    window_->projectTree()->scrollToItem(kind);
    window_->projectTree()->editItem(kind, 1);
    auto* combo = qobject_cast<QComboBox*>(QApplication::focusWidget());
    QVERIFY2(combo, "no list of values opened on an enum key");
    QCOMPARE(combo->currentText(), QString("ancestral"));
    QCOMPARE(combo->count(), 6);
    const int ddim = combo->findText("ddim");
    combo->setCurrentIndex(ddim);
    emit combo->activated(ddim);
    QTRY_COMPARE(value({"stages", "sample", "sampler", "kind"}).toString(), QString("ddim"));
    QCOMPARE(undo()->undoText(), QString("Set stages.sample.sampler.kind to ddim"));
    undo()->undo();
    QCOMPARE(value({"stages", "sample", "sampler", "kind"}).toString(), QString("ancestral"));
    QVERIFY(!window_->document()->isModified());
  }
};

QTEST_MAIN(TestSettingsSchemaXvfb)
#include "test_settings_schema_xvfb.moc"
