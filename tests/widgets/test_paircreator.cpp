// The pair-creation state machine: every transition, data-driven.
#include <QtTest/QtTest>

#include "widgets/paircreator.h"

using otcs::PairCreator;
using State = PairCreator::State;

Q_DECLARE_METATYPE(PairCreator::State)

class TestPairCreator : public QObject {
  Q_OBJECT

  // Drives a fresh machine into `state` with source 1 / target 2 where picked.
  static void enter(PairCreator& c, State state) {
    if (state == State::SourcePicked || state == State::BothPicked) c.pickSource(1);
    if (state == State::TargetPicked || state == State::BothPicked) c.pickTarget(2);
    QCOMPARE(c.state(), state);
  }

 private slots:
  void transitions_data() {
    QTest::addColumn<State>("from");
    QTest::addColumn<QString>("event");
    QTest::addColumn<State>("to");
    QTest::addColumn<qint64>("source");
    QTest::addColumn<qint64>("target");
    QTest::addColumn<bool>("requested");
    // event: "S7" pick source 7, "T9" pick target 9, "C" confirm, "X" cancel, "S-1" invalid pick.
    QTest::newRow("nothing +source") << State::NothingPicked << "S7" << State::SourcePicked << 7LL << -1LL << false;
    QTest::newRow("nothing +target") << State::NothingPicked << "T9" << State::TargetPicked << -1LL << 9LL << false;
    QTest::newRow("nothing confirm") << State::NothingPicked << "C" << State::NothingPicked << -1LL << -1LL << false;
    QTest::newRow("nothing cancel") << State::NothingPicked << "X" << State::NothingPicked << -1LL << -1LL << false;
    QTest::newRow("nothing invalid") << State::NothingPicked << "S-1" << State::NothingPicked << -1LL << -1LL << false;
    QTest::newRow("source +source replaces")
        << State::SourcePicked << "S7" << State::SourcePicked << 7LL << -1LL << false;
    QTest::newRow("source +target") << State::SourcePicked << "T9" << State::BothPicked << 1LL << 9LL << false;
    QTest::newRow("source confirm") << State::SourcePicked << "C" << State::SourcePicked << 1LL << -1LL << false;
    QTest::newRow("source cancel") << State::SourcePicked << "X" << State::NothingPicked << -1LL << -1LL << false;
    QTest::newRow("target +target replaces")
        << State::TargetPicked << "T9" << State::TargetPicked << -1LL << 9LL << false;
    QTest::newRow("target +source") << State::TargetPicked << "S7" << State::BothPicked << 7LL << 2LL << false;
    QTest::newRow("target confirm") << State::TargetPicked << "C" << State::TargetPicked << -1LL << 2LL << false;
    QTest::newRow("target cancel") << State::TargetPicked << "X" << State::NothingPicked << -1LL << -1LL << false;
    QTest::newRow("both +source replaces") << State::BothPicked << "S7" << State::BothPicked << 7LL << 2LL << false;
    QTest::newRow("both +target replaces") << State::BothPicked << "T9" << State::BothPicked << 1LL << 9LL << false;
    QTest::newRow("both confirm") << State::BothPicked << "C" << State::NothingPicked << -1LL << -1LL << true;
    QTest::newRow("both cancel") << State::BothPicked << "X" << State::NothingPicked << -1LL << -1LL << false;
  }

  void transitions() {
    QFETCH(State, from);
    QFETCH(QString, event);
    QFETCH(State, to);
    QFETCH(qint64, source);
    QFETCH(qint64, target);
    QFETCH(bool, requested);
    PairCreator c;
    enter(c, from);
    QSignalSpy pairs(&c, &PairCreator::pairRequested);
    QSignalSpy states(&c, &PairCreator::stateChanged);
    if (event.startsWith('S'))
      c.pickSource(event.mid(1).toLongLong());
    else if (event.startsWith('T'))
      c.pickTarget(event.mid(1).toLongLong());
    else if (event == "C")
      QCOMPARE(c.confirm(), requested);
    else if (event == "X")
      c.cancel();
    QCOMPARE(c.state(), to);
    QCOMPARE(c.source(), source);
    QCOMPARE(c.target(), target);
    QCOMPARE(pairs.count(), requested ? 1 : 0);
    if (requested) {
      QCOMPARE(pairs.first().at(0).toLongLong(), 1LL);
      QCOMPARE(pairs.first().at(1).toLongLong(), 2LL);
    }
    QCOMPARE(states.count(), from == to ? 0 : 1);
  }

  void autoConfirmPairsOnTheSecondPick() {
    PairCreator c;
    c.setAutoConfirm(true);
    QSignalSpy pairs(&c, &PairCreator::pairRequested);
    c.pickTarget(4);
    QCOMPARE(c.state(), State::TargetPicked);
    c.pickSource(3);
    QCOMPARE(pairs.count(), 1);
    QCOMPARE(pairs.first().at(0).toLongLong(), 3LL);
    QCOMPARE(pairs.first().at(1).toLongLong(), 4LL);
    QCOMPARE(c.state(), State::NothingPicked);
  }
};

QTEST_GUILESS_MAIN(TestPairCreator)
#include "test_paircreator.moc"
