// jemalloc's start-up options for the programs linked against it (Debian's libjemalloc2; see app/CMakeLists.txt).
// Freed pages are never handed back to the kernel: a training or OT loop that allocates and frees the same large
// tensors every step reuses them instead of taking a page fault per 4 KiB on every step (glibc returns any
// block over 32 MiB to the kernel at once, and jemalloc's default and 10-second decays still faulted as often on
// the dense OT solve; docs/PERFORMANCE.md, "Memory allocator"). The cost: a process keeps the peak of what it
// has used until it exits. MALLOC_CONF in the environment still overrides these.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's documented interface.
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
}
