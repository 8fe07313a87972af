import Dispatch

/// Splits `0..<count` into contiguous chunks and runs `body` on them on all cores
/// (`DispatchQueue.concurrentPerform`). Used only for work whose chunks write disjoint memory
/// and do no cross-chunk reduction, so results are bit-identical to a serial run whatever the
/// thread count or scheduling.
public enum Parallel {
    /// Number of worker chunks: the active core count, or `SPIKEFUSE_THREADS` when set to a
    /// positive integer (cached at first use). Results do not depend on it (disjoint chunks).
    public static let workers: Int = {
        if let text = getenv("SPIKEFUSE_THREADS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
        return max(1, sysconfActiveProcessors())
    }()

    /// Runs `body(range)` over chunks of at least `minimumChunk` elements; serial when small
    /// or inside `serially`.
    @inlinable
    public static func forEachChunk(_ count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(isSerialOnThisThread ? 1 : workers, count / max(1, minimumChunk))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = _UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
                shared.value(start..<end)
            }
        }
    }
}

extension Parallel {
    /// Splits `0..<count` into exactly `min(chunks, count)` contiguous chunks and runs
    /// `body(chunkIndex, range)` on them concurrently (chunk i covers `count·i/chunks ..< count·(i+1)/chunks`).
    @inlinable
    public static func forEachChunk(_ count: Int, chunks requested: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = isSerialOnThisThread ? 1 : max(1, min(requested, count))
        if count <= 0 { return }
        if chunks == 1 { body(0, 0..<count); return }
        withoutActuallyEscaping(body) { body in
            let shared = _UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                shared.value(chunk, (count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            }
        }
    }
}

extension Parallel {
    /// Runs `body` with every `forEachChunk` on this thread serial: for a thread that is
    /// itself one of several workers sharing the cores (a network replica of
    /// `NetworkReplicas`), so kernels do not spread over cores that are already busy.
    /// Results are the same either way (chunks are disjoint); only the scheduling changes.
    public static func serially<T>(_ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(serialKey)
        pthread_setspecific(serialKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(serialKey, previous) }
        return try body()
    }

    /// Whether this thread is inside `serially`.
    @usableFromInline
    static var isSerialOnThisThread: Bool { pthread_getspecific(serialKey) != nil }

    /// The thread-specific slot behind `serially` (created once).
    private static let serialKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "Parallel: no thread-specific key left")
        return key
    }()
}

/// Carries the chunk body into `concurrentPerform`'s `@Sendable` closure. Safe because
/// `forEachChunk`'s contract is that chunks touch disjoint memory, and `concurrentPerform`
/// returns only after every chunk finished, so nothing outlives the call.
@usableFromInline
struct _UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}

#if canImport(Glibc)
import Glibc
private func sysconfActiveProcessors() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#else
import Foundation
private func sysconfActiveProcessors() -> Int { ProcessInfo.processInfo.activeProcessorCount }
#endif
