import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

final class FrameStoreTests: XCTestCase {
    /// Random tensors of shape [3, 5] (15 values: not a multiple of 8, so the last bit byte is partial).
    private func tensors(count: Int, seed: UInt64, _ value: (inout SeededGenerator) -> Float) -> [Tensor] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Tensor(shape: [3, 5], scalars: (0..<15).map { _ in value(&g) }) }
    }

    private func load(_ frames: [Tensor], preferred: FrameEncoding, cache: FrameStore.CacheSpec? = nil,
                      failing: Set<Int> = []) throws -> (FrameStore, [String]) {
        try FrameStore.load(count: frames.count, shape: [3, 5], preferred: preferred, cache: cache,
                            label: "test", progress: false, policy: .skip) { i in
            if failing.contains(i) { throw DatasetError.io(file: "f\(i)", reason: "broken") }
            return frames[i]
        }
    }

    /// `decode` into a time-major batch row gives, in every encoding, what `tensor` gives
    /// placed in that row (frames of 5 values: bit records cross byte and 64-bit word borders
    /// mid-frame), and writes nothing outside its row.
    func testDecodeIntoABatchRowIsTheTensorInPlace() throws {
        let binary = tensors(count: 9, seed: 4) { $0.nextDouble() < 0.4 ? 1 : 0 }
        let counts = tensors(count: 9, seed: 5) { Float($0.next() % 256) }
        let reals = tensors(count: 9, seed: 6) { Float($0.nextDouble()) - 0.5 }
        for (frames, encoding) in [(binary, FrameEncoding.bits), (counts, .uint8), (reals, .float32)] {
            let (store, _) = try load(frames, preferred: encoding)
            XCTAssertEqual(store.encoding, encoding)
            let batch = 4
            for i in 0..<9 {
                let row = i % batch
                var out = [Float](repeating: -7, count: 3 * batch * 5)
                for t in 0..<3 { for f in 0..<5 { out[(t * batch + row) * 5 + f] = 0 } }   // the row zeroed, the rest a marker
                out.withUnsafeMutableBufferPointer { store.decode(i, row: row, of: batch, into: $0.baseAddress!) }
                var expected = [Float](repeating: -7, count: out.count)
                for t in 0..<3 { for f in 0..<5 { expected[(t * batch + row) * 5 + f] = frames[i].scalars[t * 5 + f] } }
                XCTAssertEqual(out.map(\.bitPattern), expected.map(\.bitPattern), "\(encoding) sample \(i)")
            }
        }
    }

    func testRoundTripsEveryEncodingAndWidensWhenNeeded() throws {
        let binary = tensors(count: 70, seed: 1) { Float($0.next() % 2) }
        let (bits, _) = try load(binary, preferred: .bits)
        XCTAssertEqual(bits.encoding, .bits)
        XCTAssertEqual(bits.origin, .memory)
        for i in 0..<70 { XCTAssertEqual(bits.tensor(i), binary[i]) }

        let counts = tensors(count: 70, seed: 2) { Float($0.next() % 256) }
        let (bytes, _) = try load(counts, preferred: .bits)   // not 0/1 → widened to uint8
        XCTAssertEqual(bytes.encoding, .uint8)
        for i in 0..<70 { XCTAssertEqual(bytes.tensor(i), counts[i]) }

        var big = counts
        big[65].scalars[3] = 300   // > 255 in the second block → float32
        let (floats, _) = try load(big, preferred: .uint8)
        XCTAssertEqual(floats.encoding, .float32)
        for i in 0..<70 { XCTAssertEqual(floats.tensor(i), big[i]) }
    }

    /// Bit packing against a plain reference: bit i of a record is byte i/8, bit i mod 8.
    func testBitLayoutMatchesReference() {
        let values: [Float] = [1, 0, 0, 1, 0, 0, 0, 0, 1, 1]
        var record = [UInt8](repeating: 0, count: 2)
        record.withUnsafeMutableBytes { FrameStore.encode(values, as: .bits, into: $0.baseAddress!) }
        // Byte 0: bits 0 and 3 → 0b0000_1001 = 9; byte 1: bits 8, 9 → 0b11 = 3.
        XCTAssertEqual(record, [9, 3])
    }

    func testFailuresAreSkippedAndCacheSurvivesCorruption() throws {
        let binary = tensors(count: 10, seed: 3) { Float($0.next() % 2) }
        let folder = try temporaryFolder(self)
        let spec = FrameStore.CacheSpec(directory: folder, name: "t", key: "k1")
        let (built, failures) = try load(binary, preferred: .bits, cache: spec, failing: [4])
        XCTAssertEqual(built.origin, .cacheBuilt)
        XCTAssertEqual(failures.count, 1)
        XCTAssertEqual(built.valid.filter { !$0 }.count, 1)
        XCTAssertFalse(built.valid[4])
        let (hit, _) = try load(binary, preferred: .bits, cache: spec)
        XCTAssertEqual(hit.origin, .cacheHit)
        XCTAssertFalse(hit.valid[4], "validity is stored in the cache")
        for i in 0..<10 where i != 4 { XCTAssertEqual(hit.tensor(i), binary[i]) }
        // Truncate the file: the next load rebuilds instead of failing.
        let file = try XCTUnwrap(hit.file)
        let data = try Data(contentsOf: file)
        try data.prefix(data.count - 5).write(to: file)
        let (rebuilt, _) = try load(binary, preferred: .bits, cache: spec)
        XCTAssertEqual(rebuilt.origin, .cacheBuilt)
        XCTAssertTrue(rebuilt.valid.allSatisfy { $0 })
        // A sample count of 2⁶⁴ − 1 in the header (found by FrameCacheFuzz: it trapped converting
        // to Int) is a corrupt cache: rebuilt, not a crash.
        var header = try Data(contentsOf: file)
        let countOffset = 8 + 4 + 4 + "k1".utf8.count + 4 + 4 + 4 * 2
        header.replaceSubrange(countOffset..<(countOffset + 8), with: [UInt8](repeating: 0xFF, count: 8))
        try header.write(to: file)
        let (afterBadCount, _) = try load(binary, preferred: .bits, cache: spec)
        XCTAssertEqual(afterBadCount.origin, .cacheBuilt)
        // A different key is a different file: a miss.
        let (other, _) = try load(binary, preferred: .bits, cache: .init(directory: folder, name: "t", key: "k2"))
        XCTAssertEqual(other.origin, .cacheBuilt)
    }

    /// A cache built from 10 binary [3, 5] records (2 bytes each), and its file.
    private func builtCache(_ frames: [Tensor], folder: URL) throws -> (FrameStore.CacheSpec, URL) {
        let spec = FrameStore.CacheSpec(directory: folder, name: "t", key: "k1")
        let (built, _) = try load(frames, preferred: .bits, cache: spec)
        XCTAssertEqual(built.encoding, .bits)
        let (hit, _) = try load(frames, preferred: .bits, cache: spec)
        XCTAssertEqual(hit.origin, .cacheHit, "an intact cache is used")
        return (spec, try XCTUnwrap(built.file))
    }

    /// Issue 40: zeroed, swapped or bit-flipped records and an all-zero validity table were
    /// used as frames. Each now fails a checksum: the file is rebuilt (with a warning naming it)
    /// and the frames are the true ones.
    func testCorruptRecordsFailTheirChecksumAndTheCacheIsRebuilt() throws {
        let frames = tensors(count: 10, seed: 5) { Float($0.next() % 2) }
        XCTAssertNotEqual(frames[1], frames[2])
        XCTAssertTrue(frames[1].scalars.contains(1))
        let folder = try temporaryFolder(self)
        let (spec, file) = try builtCache(frames, folder: folder)
        let recordsOffset = 8 + 4 + 4 + "k1".utf8.count + 4 + 4 + 4 * 2 + 8
        let damages: [(String, (inout Data) -> Void)] = [
            ("zeroed record", { d in d.replaceSubrange((recordsOffset + 2)..<(recordsOffset + 4), with: [0, 0]) }),
            ("swapped records", { d in
                let a = d[(recordsOffset + 2)..<(recordsOffset + 4)], b = d[(recordsOffset + 4)..<(recordsOffset + 6)]
                d.replaceSubrange((recordsOffset + 2)..<(recordsOffset + 6), with: Array(b) + Array(a)) }),
            ("flipped bit", { d in d[recordsOffset + 3] ^= 0x10 }),
            ("zero validity table", { d in
                d.replaceSubrange((recordsOffset + 20)..<(recordsOffset + 30), with: [UInt8](repeating: 0, count: 10)) }),
        ]
        for (what, damage) in damages {
            var data = try Data(contentsOf: file)
            damage(&data)
            try data.write(to: file)
            let (store, _) = try load(frames, preferred: .bits, cache: spec)
            XCTAssertEqual(store.origin, .cacheBuilt, what)
            let reason = store.rebuildReason ?? ""
            XCTAssertTrue(reason.contains(file.path) && reason.contains("checksum"), "\(what): \(reason)")
            XCTAssertTrue(store.valid.allSatisfy { $0 }, what)
            for i in 0..<10 { XCTAssertEqual(store.tensor(i), frames[i], "\(what): sample \(i)") }
            let (again, _) = try load(frames, preferred: .bits, cache: spec)
            XCTAssertEqual(again.origin, .cacheHit, "\(what): the rebuilt file is used")
            XCTAssertNil(again.rebuildReason)
        }
    }

    /// Issue 40: a write error while building the cache (a full disk) named no file. It now
    /// names the cache file and leaves no temporary file behind.
    func testCacheWriteFailureNamesTheCacheFile() throws {
        let frames = tensors(count: 70, seed: 6) { Float($0.next() % 2) }
        let folder = try temporaryFolder(self)
        let spec = FrameStore.CacheSpec(directory: folder, name: "t", key: "k1")
        let file = FrameStore.cacheFile(directory: folder, name: "t", key: "k1")
        for failAt in [1, 2, 4] {     // the header, the first block of records, the validity and checksum tables
            let calls = Counter()
            XCTAssertThrowsError(try FrameStore.load(
                count: frames.count, shape: [3, 5], preferred: .bits, cache: spec, label: "test", progress: false,
                policy: .skip, writeFailure: { _ in calls.next() == failAt ? "No space left on device" : nil },
                frame: { frames[$0] })) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(file.path) && text.contains("No space left on device"), text)
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "no file left")
        }
    }

    /// Issue 40: the cache key covers every change to a source file: a file rewritten with its
    /// size and mtime put back, or replaced by another of the same size and mtime.
    func testSourceLineChangesWhenAFileChangesWithSizeAndMtimeKept() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("a.aedat")
        try Data([1, 2, 3, 4]).write(to: url)
        let mtime = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date)
        let before = JointDataset.sourceLine(url)
        XCTAssertEqual(JointDataset.sourceLine(url), before, "an unchanged file keeps its key")
        Thread.sleep(forTimeInterval: 0.05)
        let handle = try FileHandle(forWritingTo: url)     // rewritten in place, same size
        try handle.write(contentsOf: Data([9, 9, 9, 9]))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: url.path)
        let rewritten = JointDataset.sourceLine(url)
        XCTAssertNotEqual(rewritten, before, "rewritten in place with size and mtime kept")
        let other = folder.appendingPathComponent("b.aedat")   // replaced by rename, size and mtime kept
        try Data([7, 7, 7, 7]).write(to: other)
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: other.path)
        XCTAssertEqual(rename(other.path, url.path), 0)
        XCTAssertNotEqual(JointDataset.sourceLine(url), rewritten, "replaced by another file")
    }
}

/// A thread-safe call counter (1, 2, 3, …).
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
