// .npy/.npz round trips, malformed files, atomic writes and the output directory that cleans up after itself.
#include <QtTest/QtTest>

#include <clocale>
#include <csignal>
#include <filesystem>

#include <sys/resource.h>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/io/points.h"

namespace fs = std::filesystem;

class TestIo : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string path(const char* name) { return (fs::path(tmp_.path().toStdString()) / name).string(); }

 private Q_SLOTS:
  void npyRoundTripEveryDtype() {
    for (auto type : {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kInt32, torch::kUInt8}) {
      auto t = (torch::rand({3, 5}, torch::kFloat64) * 100).to(type);
      otcs::io::write_npy(path("a.npy"), t);
      auto back = otcs::io::read_npy(path("a.npy"));
      QCOMPARE(back.scalar_type(), type);
      QVERIFY(torch::equal(back, t));
    }
    auto v = torch::arange(7, torch::kFloat64);
    otcs::io::write_npy(path("v.npy"), v);
    QVERIFY(torch::equal(otcs::io::read_npy(path("v.npy")), v));
    // A header numpy wrote is 64-byte aligned.
    auto bytes = otcs::io::read_file(path("v.npy"));
    QCOMPARE(int((bytes.size() - 7 * 8) % 64), 0);
  }

  void npzRoundTripAndScipyFormatMember() {
    std::map<std::string, std::string> members{{"data", otcs::io::npy_bytes(torch::ones({4}))},
                                               {"format", otcs::io::npy_bytes_string("csr")}};
    otcs::io::write_npz_members(path("h.npz"), members);
    auto back = otcs::io::read_npz(path("h.npz"));
    QCOMPARE(int(back.size()), 2);
    QVERIFY(torch::equal(back["data"], torch::ones({4})));
    QCOMPARE(std::string(reinterpret_cast<char*>(back["format"].data_ptr()), 3), std::string("csr"));
  }

  void malformedNpyIsAUserError() {
    auto good = otcs::io::npy_bytes(torch::ones({10, 10}));
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"empty", ""},
        {"bad magic", "hello world, not numpy"},
        {"truncated data", good.substr(0, good.size() - 8)},
        {"truncated header", good.substr(0, 20)},
    };
    for (const auto& [what, bytes] : cases) {
      otcs::io::write_file_atomic(path("bad.npy"), bytes);
      bool threw = false;
      try {
        otcs::io::read_npy(path("bad.npy"));
      } catch (const otcs::UserError& e) {
        threw = std::string(e.what()).find("bad.npy") != std::string::npos;
      }
      QVERIFY2(threw, what.c_str());
    }
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, otcs::io::read_npy(path("missing.npy")));
  }

  void outputDirRemovesEverythingOnFailure() {
    auto dir = path("out");
    {
      otcs::io::OutputDir out(dir);
      out.write("a.txt", "x");
      QVERIFY(fs::exists(dir + "/a.txt"));
    }
    QVERIFY(!fs::exists(dir));
    {
      otcs::io::OutputDir out(dir);
      out.write("a.txt", "x");
      out.commit();
    }
    QVERIFY(fs::exists(dir + "/a.txt"));
  }

  // A full disk while saving: the write fails with one sentence and the previous file is intact, with no
  // temporary left behind. The disk is "filled" with RLIMIT_FSIZE (write() then fails with EFBIG, as it fails
  // with ENOSPC on a full disk), which needs no privileges; the OT checkpoint and potential writers and the
  // session's CheckpointStore all go through write_file_atomic.
  void fullDiskKeepsThePreviousFile() {
    const std::string target = path("model.bin");
    otcs::io::write_file_atomic(target, std::string(1000, 'a'));
    struct rlimit old {};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
    auto* previous_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 4096;
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
    QString message;
    try {
      otcs::io::write_file_atomic(target, std::string(100000, 'b'));
    } catch (const otcs::UserError& e) {
      message = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, previous_handler);
    QVERIFY2(message.contains("model.bin: write failed") && message.contains("the previous file is unchanged"),
             qPrintable(message));
    QCOMPARE(otcs::io::read_file(target), std::string(1000, 'a'));
    int leftovers = 0;
    for (const auto& e : fs::directory_iterator(tmp_.path().toStdString()))
      leftovers += e.path().filename().string().find(".tmp-") != std::string::npos;
    QCOMPARE(leftovers, 0);
  }

  // Files and data sets larger than the memory available are refused with a sentence (OTCS_MEMORY_LIMIT_MB
  // stands in for a small machine here).
  void largerThanMemoryIsRefused() {
    const std::string file = path("big.bin");
    otcs::io::write_file_atomic(file, std::string(3 << 20, 'x'));
    qputenv("OTCS_MEMORY_LIMIT_MB", "2");
    QCOMPARE(otcs::io::available_memory_bytes(), 2ull << 20);
    QString message;
    try {
      otcs::io::read_file(file);
    } catch (const otcs::UserError& e) {
      message = e.what();
    }
    qunsetenv("OTCS_MEMORY_LIMIT_MB");
    QVERIFY2(message.startsWith(QString::fromStdString(file)) &&
                 message.contains("needs 3.1 MB of memory but only 2.1 MB") && message.contains("OTCS_MEMORY_LIMIT_MB"),
             qPrintable(message));
    QCOMPARE(otcs::io::read_file(file).size(), size_t(3 << 20));  // without the budget it reads
    QVERIFY(otcs::io::available_memory_bytes() > 0);              // MemAvailable
  }

  // Without zip64 a .npz addresses 4 GiB: a larger archive is refused with a sentence, not written with truncated
  // offsets. The limit is lowered here instead of writing 4 GiB.
  void npzOverTheZipLimitIsRefused() {
    const std::map<std::string, std::string> members{{"a", otcs::io::npy_bytes(torch::ones({100}))},
                                                     {"b", otcs::io::npy_bytes(torch::zeros({50}))}};
    const std::string bytes = otcs::io::npz_archive(members, "x.npz");
    QVERIFY(torch::equal(otcs::io::parse_npz(bytes, "x.npz").at("a"), torch::ones({100})));
    QString message;
    try {
      otcs::io::npz_archive(members, "big.npz", bytes.size() - 1);
    } catch (const otcs::UserError& e) {
      message = e.what();
    }
    QVERIFY2(message.startsWith("big.npz: ") && message.contains("zip64") && message.contains(".npy"),
             qPrintable(message));
    QCOMPARE(otcs::io::npz_archive(members, "x.npz", bytes.size()), bytes);  // exactly at the limit it is written
  }

  // Points files read the same under a locale with a decimal comma (the GUI runs in the desktop's locale).
  void pointsCsvIgnoresTheLocale() {
    const std::string before = std::setlocale(LC_ALL, nullptr);
    if (!std::setlocale(LC_ALL, "de_DE.UTF-8")) QSKIP("de_DE.UTF-8 is not installed (Debian package locales-all)");
    torch::Tensor t;
    QString error;
    try {
      t = otcs::io::parse_points_csv("0.5,1.25\n-2.75,+3.5e-1\n", "p.csv");
    } catch (const std::exception& e) {
      error = e.what();
    }
    QString bad;
    try {
      otcs::io::parse_points_csv("0,5;1\n", "comma.csv");
    } catch (const otcs::UserError& e) {
      bad = e.what();
    }
    std::setlocale(LC_ALL, before.c_str());
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(torch::equal(t, torch::tensor({0.5, 1.25, -2.75, 0.35}, torch::kFloat64).reshape({2, 2})));
    QVERIFY2(bad.contains("is not a number"), qPrintable(bad));
  }
};

QTEST_GUILESS_MAIN(TestIo)
#include "test_io.moc"
