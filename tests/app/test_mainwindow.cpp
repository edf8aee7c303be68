// The main window in-process (offscreen): docks and toolbars restorable, About shows the runtime versions, a
// project opens into every view, pair edits are requests to the project model (undoable from Edit > Undo, saved
// into data.keypoints), a broken project is reported without losing the open one, and every view exports PNG,
// PDF, SVG and CSV.
#include <QtTest/QtTest>

#include <QAction>
#include <QDockWidget>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QComboBox>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QTreeWidget>
#include <QUndoStack>

#include "app/gui/aboutdialog.h"
#include "app/gui/importdialog.h"
#include "app/gui/mainwindow.h"
#include "app/gui/methodsrunner.h"
#include "app/gui/model/projectmodel.h"
#include "app/gui/projectoverview.h"
#include "app/gui/runpanel.h"
#include "app/gui/workbenchapp.h"
#include "core/common/runtime.h"
#include <spdlog/spdlog.h>
#include "widgets/datasetbrowser.h"
#include "widgets/logview.h"
#include "widgets/methodsview.h"
#include "widgets/paireditor.h"
#include "workbench_test_support.h"

using otcs::workbench::MainWindow;

class TestMainWindow : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<MainWindow> window_;

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    otcs_test::isolateSettings(tmp_);
    QCoreApplication::setOrganizationName("OTCS-test");
    QCoreApplication::setApplicationName("Workbench-test");
    otcs::workbench::initResources();
  }

  void init() {
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->resize(1400, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }
  void cleanup() {
    window_->document()->undoStack()->setClean();
    window_.reset();
  }

  void docksAndToolbarsHaveUniqueObjectNames() {
    QSet<QString> names;
    for (QWidget* w : window_->findChildren<QDockWidget*>()) {
      QVERIFY2(!w->objectName().isEmpty(), "a dock without objectName cannot be restored");
      QVERIFY2(!names.contains(w->objectName()), qPrintable(w->objectName()));
      names.insert(w->objectName());
    }
    for (QWidget* w : window_->findChildren<QToolBar*>()) QVERIFY(!w->objectName().isEmpty());
    QVERIFY(names.contains("logDock") && names.contains("projectDock") && names.contains("runDock"));
    QVERIFY(!window_->saveState().isEmpty());
  }

  void aboutShowsTheSameVersionsAsOtcsVersion() {
    const auto rows = otcs::workbench::aboutRows();
    const auto core = otcs::runtime_info_rows(otcs::runtime_info());
    QVERIFY(rows.size() >= int(core.size()));
    for (size_t i = 0; i < core.size(); ++i) {
      // The thread row reflects the GUI's own thread setting; every version row must match exactly.
      if (core[i].first.find("Threads") != std::string::npos) continue;
      QCOMPARE(rows[int(i)].first, QString::fromStdString(core[i].first));
      QCOMPARE(rows[int(i)].second, QString::fromStdString(core[i].second));
    }
    QCOMPARE(rows.last().first, QString("QCustomPlot"));
  }

  void spdlogLinesReachTheLogDock() {
    spdlog::info("a line for the log dock {}", 42);
    QTRY_VERIFY(window_->logView()->visibleText().contains("a line for the log dock 42"));
  }

  void openEditUndoSaveReopen() {
    const QString path = otcs_test::writeSmallProject(tmp_);
    QVERIFY(window_->openProject(path));
    QVERIFY(window_->projectData().ok());
    QCOMPARE(window_->projectData().source.size(), 120);
    QCOMPARE(window_->pairEditor()->pairs().size(), 2);
    QCOMPARE(window_->datasetBrowser()->pane(otcs::Domain::Source)->visibleCount(), 120);
    QVERIFY(!window_->isWindowModified());

    // Pair 5 -> 7 through the state machine; the project becomes modified, undo makes it clean again.
    auto* creator = window_->pairEditor()->creator();
    creator->pickSource(5);
    creator->pickTarget(7);
    QVERIFY(window_->pairEditor()->addPickedPair());
    QCOMPARE(window_->pairEditor()->pairs().size(), 3);
    QVERIFY(window_->document()->isModified());
    QVERIFY(window_->isWindowModified());
    window_->document()->undoStack()->undo();
    QVERIFY(!window_->document()->isModified());
    window_->document()->undoStack()->redo();

    const QString saved = tmp_.filePath("saved.json");
    QVERIFY(window_->saveProject(saved));
    QVERIFY(!window_->document()->isModified());
    QFile file(saved);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonArray kps = QJsonDocument::fromJson(file.readAll()).object()["data"].toObject()["keypoints"].toArray();
    QCOMPARE(kps.size(), 3);
    QCOMPARE(kps[2].toObject()["source_index"].toInt(), 5);
    QCOMPARE(kps[2].toObject()["target_index"].toInt(), 7);
    QVERIFY(window_->openProject(saved));
    QCOMPARE(window_->pairEditor()->pairs().size(), 3);
    QVERIFY(window_->recentProjects().first().endsWith("saved.json"));
  }

  // The pair editor requests its edits from the project model: Edit > Undo reverts a pair edit like a setting
  // edit, and the saved file holds exactly the model's pairs.
  void pairEditsGoThroughTheModel() {
    QVERIFY(window_->openProject(otcs_test::writeSmallProject(tmp_, "model.json")));
    auto* model = window_->document();
    auto* editor = window_->pairEditor();
    QCOMPARE(model->pairs().size(), 2);
    editor->table()->selectRow(0);
    QVERIFY(editor->deleteSelectedPairs());
    QCOMPARE(model->pairs(), otcs::KeypointPairs({{60, 0}}));
    QCOMPARE(editor->pairs(), model->pairs());
    QCOMPARE(model->json()["data"].toObject()["keypoints"].toArray().size(), 1);
    auto* undo = window_->findChild<QAction*>("actionUndo");
    QVERIFY(undo && undo->isEnabled());
    QCOMPARE(model->undoStack()->undoText(), QString("Delete pair 0 → 60"));
    undo->trigger();
    QCOMPARE(model->pairs(), otcs::KeypointPairs({{0, 60}, {60, 0}}));
    QCOMPARE(editor->pairs(), model->pairs());
    QVERIFY(!model->isModified());
    window_->findChild<QAction*>("actionRedo")->trigger();
    editor->creator()->pickSource(5);
    editor->creator()->pickTarget(7);
    QVERIFY(editor->addPickedPair());
    QCOMPARE(model->pairs(), otcs::KeypointPairs({{60, 0}, {5, 7}}));

    const QString saved = tmp_.filePath("model-saved.json");
    QVERIFY(window_->saveProject(saved));
    QFile file(saved);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(json, model->json());
    otcs::KeypointPairs written;
    for (const QJsonValue& v : json["data"].toObject()["keypoints"].toArray())
      written << otcs::KeypointPair{v["source_index"].toInteger(), v["target_index"].toInteger()};
    QCOMPARE(written, model->pairs());
  }

  void aBrokenProjectKeepsTheOpenOne() {
    const QString good = otcs_test::writeSmallProject(tmp_);
    QVERIFY(window_->openProject(good));
    const QString bad = tmp_.filePath("bad.json");
    QFile file(bad);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\"schema_version\": 1, \"data\": [");
    file.close();
    QVERIFY(!window_->openProject(bad));
    QCOMPARE(window_->document()->path(), QFileInfo(good).absoluteFilePath());
    QVERIFY(window_->logView()->visibleText().contains("bad.json"));

    // Valid JSON that the core rejects: the error names the JSON path, the project stays open and editable.
    const QString wrong = tmp_.filePath("wrong.json");
    QFile w(wrong);
    QVERIFY(w.open(QIODevice::WriteOnly));
    QByteArray text = otcs_test::smallProjectJson();
    text.replace("\"epsilon\": 0.01", "\"epsilon\": \"small\"");
    w.write(text);
    w.close();
    QVERIFY(window_->openProject(wrong));
    QVERIFY(!window_->projectData().ok());
    QVERIFY2(window_->projectData().error.contains("/stages/ot/epsilon"), qPrintable(window_->projectData().error));
    QVERIFY(!window_->startRun());
  }

  void settingsEditKeepsUnsavedPairs() {
    QVERIFY(window_->openProject(otcs_test::writeSmallProject(tmp_, "keep.json")));
    auto* creator = window_->pairEditor()->creator();
    creator->pickSource(5);
    creator->pickTarget(7);
    QVERIFY(window_->pairEditor()->addPickedPair());
    QCOMPARE(window_->pairEditor()->pairs().size(), 3);
    QJsonObject stages = window_->document()->json()["stages"].toObject();
    QJsonObject ot = stages["ot"].toObject();
    ot["epsilon"] = 0.02;
    stages["ot"] = ot;
    window_->document()->setValue("stages", stages, "OT epsilon");
    QCOMPARE(window_->pairEditor()->pairs().size(), 3);  // the unsaved pair survives the reload
    window_->document()->undoStack()->undo();
    QCOMPARE(window_->pairEditor()->pairs().size(), 3);
    window_->document()->undoStack()->undo();  // the pair itself
    QCOMPARE(window_->pairEditor()->pairs().size(), 2);
  }

  // The settings editor: a value edited in the project dock's tree (double-click/F2, type, Enter) is one undoable
  // edit of the project, typed as the old value; a text that does not fit changes nothing and is reported.
  void settingsEditorInTheProjectTree() {
    QVERIFY(window_->openProject(otcs_test::writeSmallProject(tmp_, "edit.json")));
    QTreeWidget* tree = window_->projectTree();
    auto find = [tree](const QStringList& path) -> QTreeWidgetItem* {
      for (QTreeWidgetItemIterator it(tree); *it; ++it)
        if (otcs::workbench::jsonTreePath(*it) == path) return *it;
      return nullptr;
    };
    auto steps = [this] {
      return window_->document()->json()["stages"].toObject()["score"].toObject()["steps"].toInt();
    };
    find({"stages", "score"})->setExpanded(true);
    QTreeWidgetItem* item = find({"stages", "score", "steps"});
    QVERIFY(item && (item->flags() & Qt::ItemIsEditable));
    QVERIFY(!(find({"stages", "score"})->flags() & Qt::ItemIsEditable));  // objects are not edited as text
    // As a user: open the editor, type, press Enter.
    window_->findChild<QDockWidget*>("projectDock")->raise();
    tree->scrollToItem(item);
    tree->editItem(item, 1);
    auto* editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
    QVERIFY2(editor, "no line editor opened on the value");
    editor->selectAll();
    QTest::keyClicks(editor, "1500");
    QTest::keyClick(editor, Qt::Key_Return);
    QTRY_COMPARE(steps(), 1500);
    QVERIFY(window_->document()->isModified());
    QCOMPARE(window_->document()->undoStack()->undoText(), QString("Set stages.score.steps to 1500"));
    QCOMPARE(window_->pairEditor()->pairs().size(), 2);
    QVERIFY(find({"stages", "score"})->isExpanded());  // the refill keeps what was open
    QCOMPARE(find({"stages", "score", "steps"})->text(1), QString("1500"));
    window_->document()->undoStack()->undo();
    QCOMPARE(steps(), 3000);
    QCOMPARE(find({"stages", "score", "steps"})->text(1), QString("3000"));
    QVERIFY(!window_->document()->isModified());
    // Typed as the old value: a number stays a number, a boolean takes only true/false, a string anything.
    const QJsonObject before = window_->document()->json();
    QVERIFY(!window_->editProjectValue({"stages", "ot", "epsilon"}, "a lot"));
    QVERIFY(!window_->editProjectValue({"stages", "ot", "epsilon"}, "inf"));
    QVERIFY(!window_->editProjectValue({"stages", "eval", "enabled"}, "yes"));
    QVERIFY(!window_->editProjectValue({"stages", "nothing", "here"}, "1"));
    QCOMPARE(window_->document()->json(), before);
    QCOMPARE(find({"stages", "ot", "epsilon"})->text(1), QString("0.01"));
    QVERIFY(window_->editProjectValue({"stages", "eval", "enabled"}, "true"));
    QCOMPARE(window_->document()->json()["stages"].toObject()["eval"].toObject()["enabled"], QJsonValue(true));
    QVERIFY(window_->editProjectValue({"name"}, "renamed"));
    QCOMPARE(window_->document()->json()["name"].toString(), QString("renamed"));
    QVERIFY(window_->editProjectValue({"data", "keypoints", "[0]", "target_index"}, "61"));
    QCOMPARE(
        window_->document()->json()["data"].toObject()["keypoints"].toArray()[0].toObject()["target_index"].toInt(),
        61);
    QCOMPARE(window_->document()->undoStack()->count(), 3);  // the undone edit left the stack with the first new one
  }

  // File > Import dataset: the dialog previews a set as a run will load it (count, shape, classes, thumbnails),
  // refuses a missing file with its name, stores paths relative to the project, and each import is one undoable
  // edit; importing images on both sides turns the project into an image project (pairing in the galleries).
  void importDatasetDialogPreviewsAndApplies() {
    // 80 MNIST-style 8x8 images in idx format (plain, not gzipped), labels 0..3.
    const int n = 80, side = 8;
    auto be32 = [](QByteArray& b, quint32 v) {
      for (int shift : {24, 16, 8, 0}) b.append(char((v >> shift) & 0xff));
    };
    QByteArray images, labels;
    be32(images, 0x803);
    be32(images, n);
    be32(images, side);
    be32(images, side);
    be32(labels, 0x801);
    be32(labels, n);
    for (int i = 0; i < n; ++i) {
      for (int p = 0; p < side * side; ++p) images.append(char((p % side) == (i % side) ? 255 : 0));
      labels.append(char(i % 4));
    }
    const QString data_dir = tmp_.filePath("importdata");
    QVERIFY(QDir().mkpath(data_dir));
    auto write = [](const QString& path, const QByteArray& bytes) {
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(bytes);
    };
    write(data_dir + "/imgs-idx3-ubyte", images);
    write(data_dir + "/labels-idx1-ubyte", labels);

    QVERIFY(window_->openProject(otcs_test::writeSmallProject(tmp_, "import.json")));
    const QJsonObject before = window_->document()->json();
    for (const QString which : {"source", "target"}) {
      bool checked = false;
      const bool applied = window_->importDatasetDialog([&](otcs::workbench::ImportDialog& d) {
        // exec() follows: accept when every check passed, else reject (a failed QVERIFY returns early)
        auto close = qScopeGuard([&] {
          if (checked)
            QTimer::singleShot(0, &d, &QDialog::accept);
          else
            QTimer::singleShot(0, &d, &QDialog::reject);
        });
        d.setSide(which);
        d.formatBox()->setCurrentIndex(d.formatBox()->findData("idx"));
        // A missing file is refused with its name, and OK stays disabled.
        d.pathEdit()->setText(data_dir + "/missing-idx3-ubyte");
        d.refreshPreview();
        QTRY_VERIFY(!d.previewRunning());
        QVERIFY2(d.lastPreview().error.contains("missing-idx3-ubyte"), qPrintable(d.lastPreview().error));
        // The real files (absolute paths from a file chooser are stored relative to the project).
        d.pathEdit()->setText(data_dir + "/imgs-idx3-ubyte");
        d.labelsEdit()->setText(data_dir + "/labels-idx1-ubyte");
        d.refreshPreview();
        QTRY_VERIFY(!d.previewRunning());
        const auto& p = d.lastPreview();
        QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
        QCOMPARE(p.count, qint64(n));
        QCOMPARE(p.shape, QString("8x8"));
        QVERIFY2(p.labels.startsWith("4 classes"), qPrintable(p.labels));
        QCOMPARE(d.thumbnails()->count(), 48);
        const QJsonObject spec = d.dataset()["images"].toObject();
        QCOMPARE(spec["images"].toString(), QString("importdata/imgs-idx3-ubyte"));
        QCOMPARE(spec["labels"].toString(), QString("importdata/labels-idx1-ubyte"));
        checked = true;
      });
      QVERIFY(checked);
      QVERIFY(applied);
    }
    const QJsonObject data = window_->document()->json()["data"].toObject();
    QCOMPARE(data["target"].toObject()["images"].toObject()["format"].toString(), QString("idx"));
    QVERIFY(window_->document()->isModified());
    QCOMPARE(window_->document()->undoStack()->count(), 2);
    QVERIFY2(window_->projectData().ok() || window_->isLoadingData(), qPrintable(window_->projectData().error));
    QTRY_VERIFY(!window_->isLoadingData());
    QVERIFY2(window_->projectData().ok(), qPrintable(window_->projectData().error));
    QCOMPARE(window_->projectData().dim, side * side);
    QVERIFY(window_->pairEditor()->showsGalleries());
    QCOMPARE(window_->pairEditor()->pairs().size(), 2);  // the project's index pairs still apply
    window_->document()->undoStack()->undo();
    window_->document()->undoStack()->undo();
    QCOMPARE(window_->document()->json(), before);
  }

  void reopenedRunShowsDoneStages() {
    const QString path = otcs_test::writeSmallProject(tmp_, "done.json");
    QVERIFY(window_->openProject(path));
    const QDir run(window_->defaultRunDir());
    QVERIFY(run.mkpath("ot") && run.mkpath("bridge"));
    // ot finished with this project's configuration; bridge with another one (stale: it runs again).
    const auto hashes = otcs::workbench::stageHashes(window_->currentProjectJson(), path);
    QVERIFY(hashes.contains("ot"));
    const QVector<QPair<QString, QString>> written = {{"ot", hashes["ot"]}, {"bridge", "x"}};
    for (const auto& [stage, hash] : written) {
      QFile f(run.filePath(stage + "/done.json"));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QString(R"({"config_hash": "%1"})").arg(hash).toUtf8());
    }
    QVERIFY(window_->openProject(path));
    auto* stages = window_->findChild<QTreeWidget*>("stageList");
    QVERIFY(stages);
    QMap<QString, QString> status;
    for (int i = 0; i < stages->topLevelItemCount(); ++i)
      status[stages->topLevelItem(i)->text(0)] = stages->topLevelItem(i)->text(1);
    QCOMPARE(status["ot"], QString("done"));
    QCOMPARE(status["bridge"], QString("stale"));
    QCOMPARE(status["score"], QString("–"));
    QDir(run).removeRecursively();
  }

  void methodsFilesOpenAndBadOnesAreReported() {
    const QString bad = tmp_.filePath("cell_measures.npy");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("garbage");
    f.close();
    QVERIFY(!window_->openMethodsFile(bad));  // reported (non-interactive: log and status bar), no crash
    const QString csv = tmp_.filePath("aot_chunks.csv");
    QFile c(csv);
    QVERIFY(c.open(QIODevice::WriteOnly));
    c.write("chunk,assigned_cost,random_cost,seconds\n0,1,2,0.1\n");
    c.close();
    QVERIFY(window_->openMethodsFile(csv));
    QCOMPARE(window_->methodsView()->aotChunks().chunk.size(), 1);
  }

  void methodsRunnerChoosesAndRunsTheMethods() {
    using otcs::workbench::MethodsRunner;
    // A generation project in DIR/projects, so its run directory is DIR/runs/gen.
    const QString root = tmp_.filePath("genproj");
    QVERIFY(QDir().mkpath(root + "/projects"));
    const QString path = root + "/projects/gen.json";
    QFile pf(path);
    QVERIFY(pf.open(QIODevice::WriteOnly));
    pf.write(R"({"schema_version": 1, "kind": "generation", "name": "gen",
      "data": {"train": {"images": {"format": "idx", "images": "train.gz"}},
               "test": {"images": {"format": "idx", "images": "test.gz"}}},
      "model": {"network": {"kind": "unet", "channels": 8}},
      "train": {"method": "edm", "aot": 256, "steps": 40, "batch": 16},
      "dpmot": {"M": 3, "source": "uniform"}})");
    pf.close();
    QVERIFY(window_->openProject(path));
    MethodsRunner* runner = window_->methodsRunner();
    auto* method = runner->findChild<QComboBox*>("genMethod");
    auto* train = runner->findChild<QPushButton*>("genTrain");
    auto* sample = runner->findChild<QPushButton*>("genSample");
    QVERIFY(method && train && sample);
    QVERIFY(train->isEnabled());
    // The Run dock's OTCS pipeline does not apply: disabled, and its stage list points to the Methods tab.
    QVERIFY(!window_->runPanel()->startButton()->isEnabled());
    QVERIFY(window_->runPanel()->startButton()->toolTip().contains("Methods tab"));
    QVERIFY(!window_->startRun());
    QVERIFY(!sample->isEnabled());  // no model yet
    const QString run = QDir(root).filePath("runs/gen");
    QCOMPARE(QDir::cleanPath(runner->modelDir()), QDir::cleanPath(run + "/edm"));

    // Choosing AOT is an undoable project edit and changes the job's options.
    method->setCurrentIndex(1);
    QCOMPARE(window_->document()->json().value("train").toObject().value("method").toString(), QString("aot"));
    auto train_options = runner->trainOptions();
    QCOMPARE(QString::fromStdString(train_options.project), path);
    QCOMPARE(QString::fromStdString(train_options.out_dir), QDir(run).filePath("aot"));
    QCOMPARE(train_options.aot.value_or(-1), int64_t(256));
    window_->document()->undoStack()->undo();
    QCOMPARE(window_->document()->json().value("train").toObject().value("method").toString(), QString("edm"));
    QCOMPARE(method->currentIndex(), 0);  // the controls follow the undo
    QCOMPARE(runner->trainOptions().aot.value_or(-1), int64_t(0));
    method->setCurrentIndex(1);
    const auto sample_options = runner->sampleOptions();
    QCOMPARE(QString::fromStdString(sample_options.run_dir), QDir(run).filePath("aot"));
    QCOMPARE(sample_options.m.value_or(-1), int64_t(3));
    QCOMPARE(QString::fromStdString(sample_options.source.value_or("")), QString("uniform"));
    QCOMPARE(QString::fromStdString(sample_options.out_dir), QDir(run).filePath("dpmot-m3"));
    QCOMPARE(QString::fromStdString(runner->compareOptions().project), path);
    QCOMPARE(QString::fromStdString(runner->compareOptions().out_dir), run);

    // Sampling needs a model; training refuses a directory that holds one (gen-train would refuse too).
    QString error;
    QVERIFY(!runner->start(MethodsRunner::Action::Sample, &error));
    QVERIFY(error.contains("train first"));
    QVERIFY(QDir().mkpath(runner->modelDir()));
    QFile model(QDir(runner->modelDir()).filePath("model.pt"));
    QVERIFY(model.open(QIODevice::WriteOnly));
    model.close();
    QFile chunks(QDir(runner->modelDir()).filePath("aot_chunks.csv"));
    QVERIFY(chunks.open(QIODevice::WriteOnly));
    chunks.write("chunk,assigned_cost,random_cost,seconds\n0,1,2,0.1\n1,1.5,2,0.1\n");
    chunks.close();
    runner->setProject(path, window_->document()->json(), run);
    QVERIFY(sample->isEnabled());  // a model exists now
    QVERIFY(!train->isEnabled());  // and training again would overwrite it
    QVERIFY(train->toolTip().contains("already holds a model"));
    method->setCurrentIndex(0);  // EDM has no model yet: trainable, nothing to sample
    QVERIFY(train->isEnabled());
    QVERIFY(!sample->isEnabled());
    method->setCurrentIndex(1);
    QVERIFY(!runner->start(MethodsRunner::Action::Train, &error));
    QVERIFY(error.contains("already holds a model"));

    // A job that fails (the project's data files do not exist) is reported as such, and saved the project first.
    QVERIFY(window_->document()->isModified());
    QSignalSpy done(runner, &MethodsRunner::finished);
    QVERIFY2(runner->start(MethodsRunner::Action::Compare, &error), qPrintable(error));
    QVERIFY(!window_->document()->isModified());  // saved first: the job reads the file
    QVERIFY(!train->isEnabled());                 // one job at a time
    QVERIFY(!runner->start(MethodsRunner::Action::Compare, &error));
    QVERIFY(done.wait(30000));
    QCOMPARE(done.first().at(0).toBool(), false);

    // Back to an OTCS project: the pipeline is available again.
    QVERIFY(window_->openProject(otcs_test::writeSmallProject(tmp_)));
    QVERIFY(window_->runPanel()->startButton()->isEnabled());
    QVERIFY(!train->isEnabled());  // and the Methods runner does not
  }

  void everyViewExportsEveryFormat() {
    QVERIFY(window_->openProject(otcs_test::writeSmallProject(tmp_)));
    const QString dir = otcs_test::outputDir("mainwindow-exports");
    QTabWidget* views = window_->views();
    int exported = 0;
    for (int i = 0; i < views->count(); ++i) {
      views->setCurrentIndex(i);
      QWidget* view = views->widget(i);
      if (!window_->currentFigureSource()) continue;  // the overview is text
      for (const char* ext : {"png", "pdf", "svg", "csv"}) {
        const QString path = QDir(dir).filePath(view->objectName() + "." + ext);
        QFile::remove(path);
        QVERIFY2(window_->exportFigure(path, view, 1.5), qPrintable(path));
        QVERIFY(QFileInfo(path).size() > 0);
        ++exported;
      }
    }
    // losses, pairing, datasets, H, trajectories, previews, evaluation, methods (Runs is a table)
    QCOMPARE(exported, 8 * 4);
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_mainwindow.moc"
