import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// `../shared/data/<sub>` beside the repository root (found from this source file), or skip.
/// A worktree at `/work/wt/<name>` has the data two levels up, so every ancestor of the
/// repository root is tried, nearest first.
func sharedData(_ sub: String, file: StaticString = #filePath) throws -> URL {
    var root = URL(fileURLWithPath: "\(file)")
    for _ in 0..<3 { root.deleteLastPathComponent() }   // …/Tests/EventIOTests/X.swift → repo root
    var tried: [String] = []
    var folder = root
    while folder.path != "/" {
        folder.deleteLastPathComponent()
        let candidate = folder.appendingPathComponent("shared/data").appendingPathComponent(sub)
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        tried.append(candidate.path)
    }
    throw XCTSkip("…/shared/data not found: tried \(tried.joined(separator: ", "))")
}

/// A fresh temporary folder, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("eventio-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsEventIOError<T>(_ body: @autoclosure () throws -> T, _ expected: EventIOError,
                                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? EventIOError, expected, file: file, line: line)
    }
}

/// Asserts that `body` throws an EventIOError naming `path` and matching `check`.
func XCTAssertThrowsEventIOError<T>(_ body: @autoclosure () throws -> T, file path: String,
                                    file: StaticString = #filePath, line: UInt = #line,
                                    _ check: (EventIOError) -> Bool) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let e = error as? EventIOError else { return XCTFail("not an EventIOError: \(error)", file: file, line: line) }
        XCTAssertEqual(e.file, path, file: file, line: line)
        XCTAssertTrue(e.description.contains(path), file: file, line: line)
        XCTAssertTrue(check(e), "unexpected error: \(e)", file: file, line: line)
    }
}

/// Random DVS events, non-decreasing in time, from a seeded generator.
func randomDVSEvents(_ g: inout SeededGenerator, count: Int, sensor: SensorSize = .dvs128,
                     maxGap: Int64 = 500) -> DVSEvents {
    var e = DVSEvents(sensor: sensor)
    var t = Int64(g.next() % 1000)
    for _ in 0..<count {
        t += Int64(g.next() % UInt64(maxGap + 1))
        e.append(t: t, x: UInt16(g.next() % UInt64(sensor.width)), y: UInt16(g.next() % UInt64(sensor.height)),
                 polarity: UInt8(g.next() % 2))
    }
    return e
}

/// Big-endian bytes of a uint32.
func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
