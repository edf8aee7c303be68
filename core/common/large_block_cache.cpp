#include "core/common/large_block_cache.h"

#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

namespace otcs {
namespace {

constexpr size_t kRound = size_t(2) << 20;  // 2 MiB: one huge page, and few distinct sizes
constexpr size_t kAlign = 64;               // as LibTorch's own CPU allocator (gAlignment)

// Every DataPtr it returns has data == context (LibTorch's raw_allocate / raw_deallocate rely on that), so one
// deleter serves both kinds: a pointer it handed out as a large block goes back to the cache, anything else to
// the previous allocator's deleter.
class LargeBlockCache final : public c10::Allocator {
 public:
  LargeBlockCache(c10::Allocator* fallback, size_t min_bytes, size_t cap_bytes)
      : fallback_(fallback),
        fallback_deleter_(fallback->raw_deleter() ? fallback->raw_deleter() : &c10::free_cpu),
        min_bytes_(min_bytes),
        cap_bytes_(cap_bytes) {}

  c10::DataPtr allocate(size_t n) const override {
    if (n < min_bytes_) return fallback_->allocate(n);
    return const_cast<LargeBlockCache*>(this)->allocate_large(n);
  }
  c10::DeleterFnPtr raw_deleter() const override { return &LargeBlockCache::release; }

  static void release(void* ptr);

  LargeBlockCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {hits_, misses_, cached_};
  }

  void release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [size, ptr] : order_) std::free(ptr);
    order_.clear();
    free_.clear();
    cached_ = 0;
  }

 private:
  using Order = std::list<std::pair<size_t, void*>>;  // freed blocks, oldest first

  c10::DataPtr allocate_large(size_t n) {
    const size_t size = (n + kRound - 1) / kRound * kRound;
    void* ptr = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end()) {
        ++hits_;
        ptr = it->second->second;
        order_.erase(it->second);
        free_.erase(it);
        cached_ -= size;
      } else {
        ++misses_;
      }
    }
    if (!ptr && (posix_memalign(&ptr, kAlign, size) != 0 || !ptr)) throw std::bad_alloc();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      live_[ptr] = size;
    }
    return {ptr, ptr, &LargeBlockCache::release, c10::Device(c10::DeviceType::CPU)};
  }

  // True when ptr was a large block of this cache (now cached or returned to the system).
  bool put(void* ptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto live = live_.find(ptr);
    if (live == live_.end()) return false;
    const size_t size = live->second;
    live_.erase(live);
    order_.emplace_back(size, ptr);
    free_.emplace(size, std::prev(order_.end()));
    cached_ += size;
    while (cached_ > cap_bytes_ && !order_.empty()) {  // the oldest freed blocks go back to the system
      const auto [old_size, old_ptr] = order_.front();
      for (auto f = free_.lower_bound(old_size); f != free_.end() && f->first == old_size; ++f)
        if (f->second == order_.begin()) {
          free_.erase(f);
          break;
        }
      order_.pop_front();
      cached_ -= old_size;
      std::free(old_ptr);
    }
    return true;
  }

  c10::Allocator* fallback_;
  c10::DeleterFnPtr fallback_deleter_;
  size_t min_bytes_, cap_bytes_;
  std::mutex mutex_;
  Order order_;
  std::multimap<size_t, Order::iterator> free_;  // by size
  std::unordered_map<void*, size_t> live_;       // large blocks in use
  size_t cached_ = 0;
  int64_t hits_ = 0, misses_ = 0;
};

LargeBlockCache* g_cache = nullptr;
std::mutex g_install_mutex;

void LargeBlockCache::release(void* ptr) {
  // Only the installed cache hands out this deleter, so g_cache is set whenever it runs.
  if (ptr && !g_cache->put(ptr)) g_cache->fallback_deleter_(ptr);
}

}  // namespace

bool install_large_block_cache(size_t min_bytes, size_t cap_bytes) {
  std::lock_guard<std::mutex> lock(g_install_mutex);
  if (g_cache) return false;
  // Never destroyed: tensors freed during static destruction still return their blocks here.
  g_cache = new LargeBlockCache(c10::GetCPUAllocator(), min_bytes, cap_bytes);
  c10::SetCPUAllocator(g_cache, /*priority=*/1);
  return true;
}

bool large_block_cache_installed() { return g_cache != nullptr; }

LargeBlockCacheStats large_block_cache_stats() { return g_cache ? g_cache->stats() : LargeBlockCacheStats{}; }

void large_block_cache_release() {
  if (g_cache) g_cache->release_all();
}

}  // namespace otcs
