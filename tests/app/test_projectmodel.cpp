// The project model on its own: every pair edit (add, re-pair, delete, clear, replace) is one undo step that
// writes data.keypoints at once, pair and setting edits interleave on one stack, invalid edits push nothing, and
// saving writes exactly the model's JSON and pairs.
#include <QtTest/QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUndoStack>

#include "app/gui/model/projectmodel.h"

using otcs::KeypointPair;
using otcs::KeypointPairs;
using otcs::workbench::ProjectData;
using otcs::workbench::ProjectModel;

namespace {

// Ten points on each side, the first `fileCount` from the data file and the rest appended keypoint points.
ProjectData tenPoints(qint64 fileCount = 10) {
  ProjectData data;
  data.dim = 2;
  data.sourceFileCount = data.targetFileCount = fileCount;
  auto values = std::make_shared<std::vector<float>>();
  for (int i = 0; i < 10; ++i) {
    data.source << QPointF(i, 0);
    data.target << QPointF(i, 1);
    values->push_back(float(i));
    values->push_back(0.5f);
  }
  data.sourceValues = data.targetValues = values;
  return data;
}

KeypointPairs keypointsOf(const QJsonObject& json) {
  KeypointPairs out;
  for (const QJsonValue& v : json["data"].toObject()["keypoints"].toArray())
    out << KeypointPair{v["source_index"].toInteger(-1), v["target_index"].toInteger(-1)};
  return out;
}

}  // namespace

class TestProjectModel : public QObject {
  Q_OBJECT

 private slots:
  void everyPairEditIsOneUndoStep() {
    ProjectModel model;
    model.setData(tenPoints());
    QSignalSpy changed(&model, &ProjectModel::pairsChanged);
    QUndoStack* undo = model.undoStack();

    QVERIFY(model.addPair({1, 1}));
    QVERIFY(model.addPair({2, 5}));
    QCOMPARE(model.pairs(), KeypointPairs({{1, 1}, {2, 5}}));
    QCOMPARE(keypointsOf(model.json()), model.pairs());  // the JSON follows each edit
    QVERIFY(model.isModified());
    QCOMPARE(changed.size(), 2);

    // Re-pairing source 1 with target 5 replaces both conflicting pairs in one step.
    QVERIFY(model.addPair({1, 5}));
    QCOMPARE(model.pairs(), KeypointPairs({{1, 5}}));
    QCOMPARE(undo->undoText(), QString("Re-pair 1 → 5"));
    undo->undo();
    QCOMPARE(model.pairs(), KeypointPairs({{1, 1}, {2, 5}}));
    QCOMPARE(keypointsOf(model.json()), model.pairs());
    undo->redo();
    QCOMPARE(model.pairs(), KeypointPairs({{1, 5}}));
    undo->undo();

    QVERIFY(model.removePairs({0}));
    QCOMPARE(model.pairs(), KeypointPairs({{2, 5}}));
    undo->undo();
    QVERIFY(model.clearPairs());
    QVERIFY(model.pairs().isEmpty());
    QVERIFY(!model.json()["data"].toObject().contains("keypoints"));
    undo->undo();
    QVERIFY(model.replacePairs({{3, 3}, {4, 4}}, "Import pairs"));
    QCOMPARE(model.pairs(), KeypointPairs({{3, 3}, {4, 4}}));
    undo->undo();
    QCOMPARE(model.pairs(), KeypointPairs({{1, 1}, {2, 5}}));

    // Back to the start: the project is clean again.
    undo->undo();
    undo->undo();
    QVERIFY(model.pairs().isEmpty());
    QVERIFY(!model.isModified());
    QCOMPARE(model.json(), ProjectModel::templateProject());
  }

  void invalidEditsPushNothing() {
    ProjectModel model;
    model.setData(tenPoints());
    QVERIFY(model.addPair({0, 0}));
    QVERIFY(!model.addPair({0, 0}));
    QVERIFY(!model.addPair({-1, 3}));
    QVERIFY(!model.removePairs({5, -2}));
    QVERIFY(!model.replacePairs({{0, 0}}, "same"));
    QVERIFY(!model.replacePairs({{0, -1}}, "invalid"));
    QCOMPARE(model.undoStack()->count(), 1);
    model.undoStack()->undo();
    QVERIFY(!model.clearPairs());
    QCOMPARE(model.undoStack()->count(), 1);
  }

  void pairAndSettingEditsShareTheStack() {
    ProjectModel model;
    model.setData(tenPoints());
    QVERIFY(model.addPair({1, 2}));
    QJsonObject stages = model.json()["stages"].toObject();
    QJsonObject ot = stages["ot"].toObject();
    ot["epsilon"] = 0.02;
    stages["ot"] = ot;
    model.setValue("stages", stages, "OT epsilon");
    QCOMPARE(model.undoStack()->count(), 2);
    model.undoStack()->undo();  // the setting
    QCOMPARE(model.pairs(), KeypointPairs({{1, 2}}));
    QCOMPARE(model.json()["stages"]["ot"]["epsilon"].toDouble(), 0.01);
    model.undoStack()->undo();  // the pair
    QVERIFY(model.pairs().isEmpty());
  }

  // Pairs that index appended keypoint points are written in point form, as they were read.
  void appendedPointsAreWrittenAsPoints() {
    ProjectModel model;
    model.setData(tenPoints(8));
    QVERIFY(model.addPair({1, 2}));
    QVERIFY(model.addPair({8, 9}));
    const QJsonArray kps = model.json()["data"]["keypoints"].toArray();
    QCOMPARE(kps.size(), 2);
    QCOMPARE(kps[0]["source_index"].toInt(), 1);
    QCOMPARE(kps[1]["source"].toArray(), QJsonArray({8.0, 0.5}));
    QCOMPARE(kps[1]["target"].toArray(), QJsonArray({9.0, 0.5}));
  }

  void savingWritesTheModelsPairs() {
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    ProjectModel model;
    model.setData(tenPoints());
    QVERIFY(model.addPair({3, 7}));
    QVERIFY(model.addPair({4, 6}));
    QVERIFY(model.removePairs({0}));
    QString error;
    const QString path = tmp.filePath("saved.json");
    QVERIFY2(model.save(path, &error), qPrintable(error));
    QVERIFY(!model.isModified());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject saved = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(saved, model.json());
    QCOMPARE(keypointsOf(saved), KeypointPairs({{4, 6}}));
    // Undo after the save: modified again, and a second save writes the undone state.
    model.undoStack()->undo();
    QVERIFY(model.isModified());
    QVERIFY(model.save(path, &error));
    file.close();
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(keypointsOf(QJsonDocument::fromJson(file.readAll()).object()), KeypointPairs({{3, 7}, {4, 6}}));
  }
};

QTEST_MAIN(TestProjectModel)
#include "test_projectmodel.moc"
