/// Process-wide allocator tuning for large activation tensors: a program applies it once at
/// start-up (`AllocatorTuning.apply()`; the `spikefuse` tool and the benchmarks do).
///
/// glibc serves every allocation above `M_MMAP_THRESHOLD` (at most 32 MiB by default) with a
/// fresh `mmap`, and unmaps it on free; a `[T, B, 32, 28, 28]` activation (≈205 MB at B = 32)
/// would then be page-faulted in again on every forward, which measured as a large part of a
/// training step. Raising the mmap and trim thresholds to 1 GiB keeps freed activation memory
/// in the heap for the next step. Threads other than the main one allocate from their own
/// arenas, whose heaps glibc caps at 64 MiB, so those large tensors would be mmapped afresh
/// whatever the threshold; one arena for all threads (`M_ARENA_MAX = 1`) keeps them too. The
/// measured cost of sharing it is nil here (few, large allocations): training on two network
/// copies (`NetworkReplicas`) ran at 29–36 samples/s with per-thread arenas and 43 with one
/// (`spikefuse train --epochs 1 --train-limit 320` on the default set, 2 cores). Only
/// performance changes, never results.
public enum AllocatorTuning {
    /// Applies the tuning (idempotent); returns whether the allocator accepted it.
    @discardableResult
    public static func apply() -> Bool { applied }

    /// Evaluating this applies the tuning (thread-safe: Swift globals initialise once).
    static let applied: Bool = {
        #if os(Linux)
        // <malloc.h>: M_TRIM_THRESHOLD = −1, M_MMAP_THRESHOLD = −3, M_ARENA_MAX = −8
        // (not exported by Glibc's module).
        let trim = _glibcMallopt(-1, 1 << 30)
        let mmap = _glibcMallopt(-3, 1 << 30)
        let arenas = _glibcMallopt(-8, 1)
        return trim == 1 && mmap == 1 && arenas == 1
        #else
        return false
        #endif
    }()
}

#if os(Linux)
@_silgen_name("mallopt")
private func _glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
