import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// Corrupt Prophesee files: each gives a clear `EventIOError` naming the file (and the byte
/// offset where there is one), never a crash or a hang.
final class PropheseeCorruptFileTests: XCTestCase {
    typealias D = PropheseeDecodingTests

    /// Writes `bytes` to a file and reads it through the registry; checks the error.
    private func assertRefused(_ bytes: [UInt8], named name: String, line: UInt = #line,
                               _ check: (EventIOError) -> Bool) throws {
        let url = try temporaryFolder(self).appendingPathComponent(name)
        try Data(bytes).write(to: url)
        XCTAssertThrowsEventIOError(try EventFileFormat.read(url), file: url.path, line: line, check)
    }

    private func offset(_ e: EventIOError) -> Int? {
        switch e {
        case .truncated(_, let o, _), .addressOutOfRange(_, let o, _), .timestampJump(_, let o, _): return o
        default: return nil
        }
    }

    func testTruncatedFiles() throws {
        let evt3 = D.evt3([0x8000, 0x0001, 0x2002])
        try assertRefused(Array(evt3.dropLast()), named: "t.raw") { self.offset($0) == evt3.count - 2 }
        let evt21 = D.evt21([8 << 60, 1 << 60 | 1])
        try assertRefused(Array(evt21.dropLast(3)), named: "t21.raw") { self.offset($0) == evt21.count - 8 }
        let evt2 = D.evt2([D.high2(1)])
        try assertRefused(evt2 + [1], named: "t2.raw") { self.offset($0) == evt2.count }
        let dat = D.dat([(1, 2), (3, 4)])
        try assertRefused(Array(dat.dropLast(5)), named: "t.dat") { self.offset($0) == dat.count - 8 }
        let header = D.header(["Version 2", "Width 304", "Height 240"])
        try assertRefused(header + [12], named: "nosize.dat") { self.offset($0) == header.count }
        try assertRefused(Array(D.header(["format EVT3;height=720;width=1280"]).prefix(9)), named: "cut.raw") {
            if case .unsupportedEncoding(_, let d) = $0 { return d.contains("format ''") }
            return false
        }
        try assertRefused(Array(D.header(["format EVT3;height=720;width=1280"]).prefix(5)), named: "cut2.raw") {
            if case .badHeader(_, let d) = $0 { return d.contains("names no encoding") }
            return false
        }
    }

    func testBadHeaders() throws {
        try assertRefused([], named: "empty.raw") { $0 == .emptyFile(file: $0.file) }
        try assertRefused(D.header(["format EVT4;height=720;width=1280", "end"]) + [0, 0, 0, 0], named: "evt4.raw") {
            if case .unsupportedEncoding(_, let d) = $0 { return d.contains("EVT4") }
            return false
        }
        try assertRefused(D.header(["evt 9.9"]), named: "evt9.raw") {
            if case .unsupportedEncoding(_, let d) = $0 { return d.contains("9.9") }
            return false
        }
        try assertRefused(D.header(["format EVT3;height=720;width=1280", "geometry 640x480"]), named: "mismatch.raw") {
            if case .badHeader(_, let d) = $0 { return d.contains("disagrees") }
            return false
        }
        try assertRefused(D.header(["format EVT3;height=720;width=1280", "geometry 640by480"]), named: "geom.raw") {
            if case .badHeader(_, let d) = $0 { return d.contains("WIDTHxHEIGHT") }
            return false
        }
        try assertRefused(D.header(["format EVT2;endianness=legacy"]), named: "legacy2.raw") {
            if case .badHeader(_, let d) = $0 { return d.contains("EVT 2.1 only") }
            return false
        }
        try assertRefused(D.dat([], lines: ["Version 3"]), named: "v3.dat") {
            if case .unsupportedEncoding(_, let d) = $0 { return d.contains("Version 3") }
            return false
        }
        try assertRefused([12, 8, 0, 0, 0, 0, 0, 0, 0, 0], named: "noheader.dat") {
            if case .badHeader(_, let d) = $0 { return d.contains("header lines") }
            return false
        }
    }

    func testHugeSizesAreRefused() throws {
        try assertRefused(D.header(["format EVT3;height=720;width=99999999999999999999", "end"]), named: "wide.raw") {
            if case .badHeader(_, let d) = $0 { return d.contains("1…2048") }
            return false
        }
        try assertRefused(D.header(["evt 3.0", "geometry 4096x4096"]), named: "geometry.raw") {
            if case .badHeader(_, let d) = $0 { return d.contains("4096") }
            return false
        }
        try assertRefused(D.dat([], lines: ["Width 1000000", "Height 10"]), named: "wide.dat") {
            if case .badHeader(_, let d) = $0 { return d.contains("1…16384") }
            return false
        }
        try assertRefused(D.dat([], size: 255), named: "size.dat") {
            if case .malformed(_, let d) = $0 { return d.contains("event size 255") }
            return false
        }
        try assertRefused(D.dat([], type: 14), named: "trigger.dat") {
            if case .unsupportedEncoding(_, let d) = $0 { return d.contains("external triggers") }
            return false
        }
    }

    func testBadWordTypesAndAddresses() throws {
        let body2 = D.header(["format EVT2;height=720;width=1280", "end"]).count
        try assertRefused(D.evt2([D.high2(1), 3 << 28]), named: "type3.raw") {
            if case .malformed(_, let d) = $0 { return d.contains("byte offset \(body2 + 4)") && d.contains("type 0x3") }
            return false
        }
        try assertRefused(D.evt3([0x8000, 0x9000]), named: "type9.raw") {
            if case .malformed(_, let d) = $0 { return d.contains("type 0x9") && d.contains("EVT 3.0") }
            return false
        }
        try assertRefused(D.evt21([8 << 60, 5 << 60]), named: "type5.raw") {
            if case .malformed(_, let d) = $0 { return d.contains("type 0x5") }
            return false
        }
        // x 1280 on a 1280-wide sensor; a vector running past the width; y past a DAT height.
        try assertRefused(D.evt2([D.high2(1), D.cd2(1, ts: 0, x: 1280, y: 0)]), named: "x.raw") {
            self.offset($0) == body2 + 4 && $0.description.contains("1280×720 sensor")
        }
        let body3 = D.header(["evt 3.0", "geometry 1280x720"]).count
        try assertRefused(D.evt3([0x8000, 0x0000, 0x3000 | 1270, 0x4000 | 0x800]), named: "v.raw") {
            self.offset($0) == body3 + 6 && $0.description.contains("x 1281")
        }
        try assertRefused(D.dat([(1, 3 | 240 << 14)]), named: "y.dat") { self.offset($0) != nil }
        // The skip options read them instead.
        let skipped = try PropheseeRAW.decodeRecording(D.evt2([D.high2(1), 3 << 28, D.cd2(1, ts: 0, x: 1280, y: 0)]), source: "s",
                                                       options: .init(invalidAddresses: .skip, undefinedWords: .skip))
        XCTAssertEqual(skipped.skippedUndefinedWords, 1)
        XCTAssertEqual(skipped.skippedInvalidAddresses, 1)
        XCTAssertEqual(skipped.events.count, 0)
    }

    /// Random bytes after each kind of header: events or an EventIOError, never a trap, and
    /// fast (no input makes the decoders loop).
    func testRandomBodiesNeverTrapOrHang() throws {
        var g = SeededGenerator(seed: 41)
        let headers: [[UInt8]] = [
            D.header(["format EVT2;height=720;width=1280", "end"]), D.header(["evt 2.1"]),
            D.header(["format EVT21;endianness=legacy"]), D.header(["format EVT3;height=480;width=640"]),
            D.header(["evt 3.0"]), D.header(["Version 2", "Width 304", "Height 240"]) + [12, 8],
            D.header(["Version 1"]) + [0, 8],
        ]
        let start = Date()
        var decoded = 0, refused = 0
        for round in 0..<3_000 {
            let header = headers[round % headers.count]
            let body = (0..<Int(g.next() % 600)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            let lenient = PropheseeReadOptions(invalidAddresses: .skip, backwardTimestamps: .clamp, undefinedWords: .skip)
            for options in [PropheseeReadOptions(), lenient] {
                do {
                    let e = header.last == 8 ? try PropheseeDAT.decode(header + body, source: "r", options: options)
                                             : try PropheseeRAW.decode(header + body, source: "r", options: options)
                    XCTAssertEqual(e.t, e.t.sorted())          // times never go back in the result
                    decoded += 1
                } catch let error as EventIOError {
                    XCTAssertEqual(error.file, "r")
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(decoded, 100)
        XCTAssertGreaterThan(refused, 100)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }
}
