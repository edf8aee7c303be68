// The large-block cache behind LibTorch's CPU allocator: a freed large tensor's memory comes back for the next
// tensor of that size (no new mapping, so no page faults), small tensors pass through, and the cache never holds
// more than its cap.
#include <QtTest>

#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include "core/common/large_block_cache.h"

using namespace otcs;

class TestLargeBlockCache : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(install_large_block_cache(size_t(32) << 20, size_t(100) << 20));
    QVERIFY(!install_large_block_cache());  // once per process
    QVERIFY(large_block_cache_installed());
  }

  void freedLargeBlocksAreReused() {
    large_block_cache_release();
    const auto before = large_block_cache_stats();
    const void* first = nullptr;
    {
      auto a = torch::ones({40 << 20}, torch::kUInt8);  // 40 MiB
      first = a.data_ptr();
      QCOMPARE(int(a.data_ptr<uint8_t>()[(40 << 20) - 1]), 1);
    }
    QCOMPARE(large_block_cache_stats().cached_bytes, size_t(40) << 20);
    auto b = torch::zeros({(40 << 20) - 4096}, torch::kUInt8);  // rounds up to the same 2 MiB multiple
    QCOMPARE(static_cast<const void*>(b.data_ptr()), first);
    // zeros() still zeroes a reused block (checked without a reduction, which would allocate a large buffer)
    const uint8_t* p = b.data_ptr<uint8_t>();
    QVERIFY(p[0] == 0 && p[(20 << 20)] == 0 && p[(40 << 20) - 4097] == 0);
    const auto after = large_block_cache_stats();
    QCOMPARE(after.hits - before.hits, int64_t(1));
    QCOMPARE(after.misses - before.misses, int64_t(1));
    QCOMPARE(after.cached_bytes, size_t(0));
  }

  void smallTensorsPassThrough() {
    large_block_cache_release();
    const auto before = large_block_cache_stats();
    { auto s = torch::ones({1 << 20}, torch::kFloat32); }  // 4 MiB
    const auto after = large_block_cache_stats();
    QCOMPARE(after.hits + after.misses, before.hits + before.misses);
    QCOMPARE(after.cached_bytes, size_t(0));
  }

  void rawAllocationsWork() {
    // LibTorch's raw_allocate / raw_deallocate (oneDNN scratch buffers, among others) need data == context and
    // a raw deleter, for small and large blocks alike.
    auto* alloc = c10::GetCPUAllocator();
    QVERIFY(alloc->raw_deleter() != nullptr);
    for (size_t n : {size_t(4096), size_t(40) << 20}) {
      void* p = alloc->raw_allocate(n);
      QVERIFY(p != nullptr);
      static_cast<char*>(p)[n - 1] = 1;
      alloc->raw_deallocate(p);
    }
    QCOMPARE(large_block_cache_stats().cached_bytes, size_t(40) << 20);
    large_block_cache_release();
  }

  void theCacheStaysUnderItsCap() {
    large_block_cache_release();
    {
      auto a = torch::empty({40 << 20}, torch::kUInt8);
      auto b = torch::empty({50 << 20}, torch::kUInt8);
      auto c = torch::empty({60 << 20}, torch::kUInt8);
    }  // 150 MiB freed into a 100 MiB cache: the oldest go back to the system
    QVERIFY(large_block_cache_stats().cached_bytes <= size_t(100) << 20);
    QVERIFY(large_block_cache_stats().cached_bytes > 0);
    large_block_cache_release();
    QCOMPARE(large_block_cache_stats().cached_bytes, size_t(0));
  }
};

QTEST_APPLESS_MAIN(TestLargeBlockCache)
#include "test_large_block_cache.moc"
