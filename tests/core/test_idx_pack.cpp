// MNIST idx files (plain and gzip) and dataset packs: parsing, every malformed case named, pack round trips.
#include <QtTest/QtTest>

#include <zlib.h>

#include <filesystem>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/data/idx.h"
#include "core/data/pack.h"
#include "core/io/file.h"

namespace {

std::string be32(uint32_t v) { return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)}; }

std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, size_t payload) {
  std::string s = be32(magic);
  for (auto d : dims) s += be32(d);
  for (size_t i = 0; i < payload; ++i) s.push_back(char(i * 7 % 251));
  return s;
}

std::string gzip(const std::string& raw) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, uLong(raw.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = uInt(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

class TestIdxPack : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string path(const std::string& name) { return tmp_.path().toStdString() + "/" + name; }

  void expectError(const std::string& file, const char* fragment) {
    try {
      otcs::data::read_idx(path(file));
      QFAIL(qPrintable(QString::fromStdString(file) + " was accepted"));
    } catch (const otcs::UserError& e) {
      QVERIFY2(std::string(e.what()).find(file) != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
  }

 private Q_SLOTS:
  void plainAndGzipParseTheSame() {
    auto raw = idx_bytes(0x803, {3, 4, 5}, 60);
    otcs::io::write_file_atomic(path("a-idx3-ubyte"), raw);
    otcs::io::write_file_atomic(path("a-idx3-ubyte.gz"), gzip(raw));
    auto a = otcs::data::read_idx(path("a-idx3-ubyte"));
    auto b = otcs::data::read_idx(path("a-idx3-ubyte.gz"));
    QCOMPARE(a.sizes().vec(), (std::vector<int64_t>{3, 4, 5}));
    QVERIFY(torch::equal(a, b));
    QCOMPARE(a[1][0][0].item<int>(), int(20 * 7 % 251));
  }

  void malformedFilesAreNamed() {
    otcs::io::write_file_atomic(path("magic.idx"), idx_bytes(0x1234, {3}, 3));
    expectError("magic.idx", "magic");
    otcs::io::write_file_atomic(path("short.idx"), idx_bytes(0x803, {3, 4, 5}, 59));
    expectError("short.idx", "truncated");
    otcs::io::write_file_atomic(path("long.idx"), idx_bytes(0x801, {3}, 4));
    expectError("long.idx", "unexpected bytes");
    auto gz = gzip(idx_bytes(0x801, {100}, 100));
    otcs::io::write_file_atomic(path("cut.gz"), gz.substr(0, gz.size() / 2));
    expectError("cut.gz", "gzip");
    otcs::io::write_file_atomic(path("empty.idx"), "");
    expectError("empty.idx", "too short");
  }

  void labelCountMismatchNamesBothFiles() {
    otcs::io::write_file_atomic(path("img"), idx_bytes(0x803, {3, 2, 2}, 12));
    otcs::io::write_file_atomic(path("lab"), idx_bytes(0x801, {4}, 4));
    try {
      otcs::data::read_idx_pair(path("img"), path("lab"));
      QFAIL("mismatch accepted");
    } catch (const otcs::UserError& e) {
      QVERIFY(std::string(e.what()).find("3 images") != std::string::npos);
      QVERIFY(std::string(e.what()).find("4 labels") != std::string::npos);
    }
  }

  void packRoundTripAndCorruptionDetected() {
    otcs::io::write_file_atomic(path("img"), idx_bytes(0x803, {3, 2, 2}, 12));
    otcs::io::write_file_atomic(path("lab"), idx_bytes(0x801, {3}, 3));
    auto pack = otcs::data::import_idx(path("img"), path("lab"));
    QCOMPARE(pack.size(), 3);
    otcs::data::save_pack(path("p.npz"), pack);
    auto back = otcs::data::load_pack(path("p.npz"));
    QCOMPARE(back.content_hash, pack.content_hash);
    QVERIFY(torch::equal(back.images, pack.images));
    QCOMPARE(back.names, pack.names);
    auto sub = pack.subset(torch::tensor({2, 0}));
    QCOMPARE(sub.names[0], std::string("index:2"));
    QVERIFY(sub.content_hash != pack.content_hash);
    // Flip one pixel byte inside the stored archive: the CRC or the hash must catch it.
    auto bytes = otcs::io::read_file(path("p.npz"));
    auto at = bytes.find("index:1");
    bytes[at + 6] = '7';
    otcs::io::write_file_atomic(path("bad.npz"), bytes);
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, otcs::data::load_pack(path("bad.npz")));
  }

  void realMnistWhenAvailable() {
    std::string dir = OTCS_SHARED_DATA "/mnist";
    if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz"))
      QSKIP("../shared/data/mnist is absent: skipping the real-MNIST check");
    auto pack = otcs::data::import_idx(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
    QCOMPARE(pack.images.sizes().vec(), (std::vector<int64_t>{10000, 1, 28, 28}));
    QCOMPARE(pack.labels.min().item<int64_t>(), 0);
    QCOMPARE(pack.labels.max().item<int64_t>(), 9);
    QCOMPARE(pack.labels[0].item<int64_t>(), 7);  // the first MNIST test digit is a 7
  }
};

QTEST_GUILESS_MAIN(TestIdxPack)
#include "test_idx_pack.moc"
