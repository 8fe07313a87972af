import Foundation
import XCTest
@testable import EventIO

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
}
