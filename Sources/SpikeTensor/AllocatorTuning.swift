/// Process-wide allocator tuning for large activation tensors: a program applies it once at
/// start-up (`AllocatorTuning.apply()`; the `spikefuse` tool and the benchmarks do).
///
/// glibc serves every allocation above `M_MMAP_THRESHOLD` (at most 32 MiB by default) with a
/// fresh `mmap`, and unmaps it on free; a `[T, B, 32, 28, 28]` activation (≈205 MB at B = 32)
/// would then be page-faulted in again on every forward, which measured as a large part of a
/// training step. Raising the mmap and trim thresholds to 1 GiB keeps freed activation memory
/// in the heap for the next step. Only performance changes, never results.
public enum AllocatorTuning {
    /// Applies the tuning (idempotent); returns whether the allocator accepted it.
    @discardableResult
    public static func apply() -> Bool { applied }

    /// Evaluating this applies the tuning (thread-safe: Swift globals initialise once).
    static let applied: Bool = {
        #if os(Linux)
        // <malloc.h>: M_TRIM_THRESHOLD = −1, M_MMAP_THRESHOLD = −3 (not exported by Glibc's module).
        let trim = _glibcMallopt(-1, 1 << 30)
        let mmap = _glibcMallopt(-3, 1 << 30)
        return trim == 1 && mmap == 1
        #else
        return false
        #endif
    }()
}

#if os(Linux)
@_silgen_name("mallopt")
private func _glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
