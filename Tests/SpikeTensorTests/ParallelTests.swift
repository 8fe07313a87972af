import XCTest
import Foundation
@testable import SpikeTensor

final class ParallelTests: XCTestCase {
    /// Records which chunks ran, and on which threads.
    private final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var ranges: [Range<Int>] = []
        private(set) var threads: Set<UInt> = []
        func record(_ range: Range<Int>) {
            lock.lock(); ranges.append(range); threads.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))); lock.unlock()
        }
    }

    func testChunksCoverTheRangeOnce() {
        let recorder = Recorder()
        Parallel.forEachChunk(1000, chunks: 3) { _, range in recorder.record(range) }
        XCTAssertEqual(recorder.ranges.sorted { $0.lowerBound < $1.lowerBound }, [0..<333, 333..<666, 666..<1000])
    }

    /// Inside `serially` every call runs as one chunk on the calling thread; afterwards the
    /// chunking is back (and nesting restores the outer state).
    func testSeriallyRunsOneChunkOnTheCallingThread() {
        let me = UInt(bitPattern: Int(bitPattern: pthread_self()))
        let inside = Recorder(), insideMinimum = Recorder()
        Parallel.serially {
            XCTAssertTrue(Parallel.isSerialOnThisThread)
            Parallel.serially { XCTAssertTrue(Parallel.isSerialOnThisThread) }
            XCTAssertTrue(Parallel.isSerialOnThisThread, "a nested call must not end the outer one")
            Parallel.forEachChunk(1000, chunks: 4) { _, range in inside.record(range) }
            Parallel.forEachChunk(1000, minimumChunk: 1) { range in insideMinimum.record(range) }
        }
        XCTAssertEqual(inside.ranges, [0..<1000]); XCTAssertEqual(inside.threads, [me])
        XCTAssertEqual(insideMinimum.ranges, [0..<1000]); XCTAssertEqual(insideMinimum.threads, [me])
        XCTAssertFalse(Parallel.isSerialOnThisThread)
        let after = Recorder()
        Parallel.forEachChunk(1000, chunks: 4) { _, range in after.record(range) }
        XCTAssertEqual(after.ranges.count, 4)
    }

    /// The serial state belongs to one thread: another thread keeps chunking meanwhile.
    func testSeriallyIsPerThread() {
        let other = Recorder()
        Parallel.serially {
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                Parallel.forEachChunk(1000, chunks: 4) { _, range in other.record(range) }
                done.signal()
            }
            done.wait()
        }
        XCTAssertEqual(other.ranges.count, 4)
    }
}
