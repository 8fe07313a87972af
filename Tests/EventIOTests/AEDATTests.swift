import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// A plain reference AEDAT decoder (byte shifts, no options): header lines are skipped while
/// a line starts with '#'; DVS128 address → (x = 127 − rawX, y, polarity = 1 − bit 0).
private func referenceDecode(_ bytes: [UInt8]) -> (t: [Int64], x: [UInt16], y: [UInt16], p: [UInt8]) {
    var i = 0
    while i < bytes.count && bytes[i] == 35 {   // '#'
        while bytes[i] != 10 { i += 1 }
        i += 1
    }
    var out: (t: [Int64], x: [UInt16], y: [UInt16], p: [UInt8]) = ([], [], [], [])
    while i + 8 <= bytes.count {
        var a: UInt32 = 0, t: UInt32 = 0
        for k in 0..<4 { a = a << 8 | UInt32(bytes[i + k]); t = t << 8 | UInt32(bytes[i + 4 + k]) }
        i += 8
        if a & 0x8000 != 0 { continue }
        out.t.append(Int64(t))
        out.x.append(UInt16(127 - ((a >> 1) & 0x7F)))
        out.y.append(UInt16((a >> 8) & 0x7F))
        out.p.append(a & 1 == 0 ? 1 : 0)
    }
    return out
}

final class AEDATTests: XCTestCase {
    // MARK: Real MNIST-DVS files

    func testFullRecordingHasDocumentedCountAndDuration() throws {
        let url = try sharedData("mnist-dvs").appendingPathComponent("mnist_0_scale04_0001.aedat")
        let rec = try AEDAT.readRecording(url)
        let e = rec.events
        // README: 126,168 bytes, 15,744 events, 0 to about 2.21 s → header = 126168 − 8·15744 = 216 bytes.
        XCTAssertEqual(e.count, 15_744)
        XCTAssertEqual(rec.bodyOffset, 216)
        XCTAssertEqual(rec.headerLines.first, "#!AER-DAT2.0")
        XCTAssertEqual(rec.skippedExternalEvents, 0)
        XCTAssertEqual(rec.timestampWraps, 0)
        XCTAssertEqual(e.t.first, 0)
        XCTAssertEqual(Double(e.durationMicroseconds) / 1e6, 2.21, accuracy: 0.01)
        XCTAssertEqual(e.sensor, .dvs128)

        let onFraction = Double(e.onCount) / Double(e.count)
        let meanX = Double(e.x.reduce(0) { $0 + Int($1) }) / Double(e.count)
        let meanY = Double(e.y.reduce(0) { $0 + Int($1) }) / Double(e.count)
        print("mnist_0_scale04_0001: \(e.count) events, \(Double(e.durationMicroseconds) / 1e6) s, ON fraction \(onFraction), x \(e.x.min()!)…\(e.x.max()!), y \(e.y.min()!)…\(e.y.max()!), centroid (\(meanX), \(meanY))")
        // A moving digit produces ON and OFF edges in roughly equal numbers.
        XCTAssertTrue(onFraction > 0.3 && onFraction < 0.7)
        // The digit is roughly centred on the 128×128 sensor.
        XCTAssertEqual(meanX, 64, accuracy: 12)
        XCTAssertEqual(meanY, 64, accuracy: 12)
        XCTAssertTrue(e.x.allSatisfy { $0 < 128 } && e.y.allSatisfy { $0 < 128 })
        XCTAssertTrue(zip(e.t, e.t.dropFirst()).allSatisfy { $0 <= $1 })
    }

    func testQuarterSecondCutsAndFlashedDigitDecode() throws {
        let folder = try sharedData("mnist-dvs")
        // README counts for the three _qt1 cuts (~0.197 s each).
        for (name, expected) in [("mnist_0_scale04_0001_qt1", 1_782), ("mnist_0_scale08_0001_qt1", 5_078),
                                 ("mnist_0_scale16_0001_qt1", 11_209)] {
            let e = try AEDAT.read(folder.appendingPathComponent(name + ".aedat"))
            XCTAssertEqual(e.count, expected, name)
            XCTAssertEqual(Double(e.durationMicroseconds) / 1e6, 0.197, accuracy: 0.005, name)
        }
        // Bigger scale, bigger digit: the x extent grows from scale 4 to scale 16.
        let small = try AEDAT.read(folder.appendingPathComponent("mnist_0_scale04_0001_qt1.aedat"))
        XCTAssertLessThan(Int(small.x.max()! - small.x.min()!), 60)
        let flashed = try AEDAT.read(folder.appendingPathComponent("flashed_5_dvs128.aedat"))
        XCTAssertGreaterThan(flashed.count, 0)
        XCTAssertEqual(flashed.count, (47_656 - 216) / 8)   // file size − 216-byte header, 8 bytes per event
    }

    func testDigitZeroIsARing() throws {
        // A "0" is a ring: its centre pixels are quieter than the ring around them (checks
        // that x and y are decoded from the right bits; orientation: the flashed-5 test).
        let e = try AEDAT.read(try sharedData("mnist-dvs").appendingPathComponent("mnist_0_scale16_0001_qt1.aedat"))
        var grid = [Int](repeating: 0, count: 128 * 128)
        for i in 0..<e.count { grid[Int(e.y[i]) * 128 + Int(e.x[i])] += 1 }
        let cx = e.x.reduce(0) { $0 + Int($1) } / e.count, cy = e.y.reduce(0) { $0 + Int($1) } / e.count
        var centre = 0, ring = 0
        for y in 0..<128 { for x in 0..<128 {
            let r = ((x - cx) * (x - cx) + (y - cy) * (y - cy))
            if r < 8 * 8 { centre += grid[y * 128 + x] } else if r < 40 * 40 { ring += grid[y * 128 + x] }
        }}
        // Area ratio ring : centre = (40² − 8²) / 8² = 24; per-pixel density of the hole is lower.
        XCTAssertLessThan(Double(centre) / 64, Double(ring) / (1600 - 64))
    }

    func testFlashedFiveIsUprightAndUnmirrored() throws {
        // A "5": its top bar reaches right of the stem, its bottom curve swings left. So the
        // mean x of the top quarter of the digit (between the 10th and 90th percentile rows)
        // must exceed that of the bottom quarter; a mirrored (no x flip) or upside-down
        // reading reverses this. (Measured: 61.2 vs 52.5.)
        let e = try AEDAT.read(try sharedData("mnist-dvs").appendingPathComponent("flashed_5_dvs128.aedat"))
        let rows = e.y.sorted()
        let low = Double(rows[e.count / 10]), high = Double(rows[9 * e.count / 10])
        let quarter = (high - low) / 4
        var top: [Double] = [], bottom: [Double] = []
        for i in 0..<e.count {
            let y = Double(e.y[i])
            if y >= low && y < low + quarter { top.append(Double(e.x[i])) }
            if y > high - quarter && y <= high { bottom.append(Double(e.x[i])) }
        }
        let meanTop = top.reduce(0, +) / Double(top.count), meanBottom = bottom.reduce(0, +) / Double(bottom.count)
        print("flashed_5: mean x of top quarter \(meanTop), bottom quarter \(meanBottom)")
        XCTAssertGreaterThan(meanTop, meanBottom + 4)
    }

    func testMatchesPlainReferenceDecoderOnRealFiles() throws {
        let folder = try sharedData("mnist-dvs")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".aedat") {
            let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
            let ref = referenceDecode([UInt8](bytes))
            let e = try AEDAT.decode([UInt8](bytes), source: name)
            XCTAssertEqual(e.t, ref.t, name); XCTAssertEqual(e.x, ref.x, name)
            XCTAssertEqual(e.y, ref.y, name); XCTAssertEqual(e.polarity, ref.p, name)
        }
    }

    // MARK: Hand-worked bytes

    func testHandWorkedRecords() throws {
        // 0x00000A05: y = 0x0A = 10, rawX = (0x05 >> 1) & 0x7F = 2 → x = 127 − 2 = 125,
        //             bit 0 = 1 → OFF → polarity 0; t = 100 µs.
        // 0x00007F00: y = 127, rawX = 0 → x = 127, bit 0 = 0 → ON → polarity 1; t = 250 µs.
        let bytes = Array("#!AER-DAT2.0\r\n# a comment\r\n".utf8) + be32(0x0A05) + be32(100) + be32(0x7F00) + be32(250)
        let e = try AEDAT.decode(bytes, source: "hand")
        XCTAssertEqual(e, DVSEvents(sensor: .dvs128, t: [100, 250], x: [125, 127], y: [10, 127], polarity: [0, 1]))
        let raw = try AEDAT.decode(bytes, source: "hand", options: AEDATReadOptions(flipX: false))
        XCTAssertEqual(raw.x, [2, 0])
        // The encoder gives back the same bytes for the same header.
        XCTAssertEqual(AEDAT.encode(e, headerLines: ["# a comment"]), bytes)
    }

    func testHeaderOnlyFileHasNoEvents() throws {
        let e = try AEDAT.decode(Array("#!AER-DAT2.0\r\n".utf8), source: "h")
        XCTAssertTrue(e.isEmpty)
    }

    // MARK: Round trip

    func testWriteThenReadIsIdentical() throws {
        var g = SeededGenerator(seed: 7)
        let dir = try temporaryFolder(self)
        for n in [0, 1, 1000] {
            let events = randomDVSEvents(&g, count: n)
            let url = dir.appendingPathComponent("r\(n).aedat")
            try AEDAT.write(events, to: url, headerLines: ["# test \(n)"])
            let rec = try AEDAT.readRecording(url)
            XCTAssertEqual(rec.events, events)
            XCTAssertEqual(rec.headerLines, ["#!AER-DAT2.0", "# test \(n)"])
        }
        // No temporary files left behind by the atomic write.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["r0.aedat", "r1.aedat", "r1000.aedat"])
    }

    func testTimestampsBeyond32BitsRoundTripThroughWrap() throws {
        // 2³² − 10 µs then 2³² + 5 µs: written as 4294967286 and 5; 5 < 4294967286 by more than
        // 2³¹ → a wrap → 5 + 2³² again.
        let events = DVSEvents(sensor: .dvs128, t: [4_294_967_286, 4_294_967_301], x: [1, 2], y: [3, 4], polarity: [1, 0])
        let rec = try AEDAT.decodeRecording(AEDAT.encode(events), source: "wrap")
        XCTAssertEqual(rec.events, events)
        XCTAssertEqual(rec.timestampWraps, 1)
        // A forward gap of 3·10⁹ µs (> 2³¹) without crossing 2³² reads back as it is …
        let longGap = DVSEvents(sensor: .dvs128, t: [0, 3_000_000_000], x: [0, 0], y: [0, 0], polarity: [1, 1])
        XCTAssertNil(AEDAT.encodingProblem(longGap))
        XCTAssertEqual(try AEDAT.decode(AEDAT.encode(longGap), source: "gap"), longGap)
        // … but a gap of 2³¹ µs across 2³² would be read as a backwards jump: refused.
        let ambiguous = DVSEvents(sensor: .dvs128, t: [4_294_967_000, 4_294_967_000 + (1 << 31)], x: [0, 0], y: [0, 0], polarity: [1, 1])
        XCTAssertNotNil(AEDAT.encodingProblem(ambiguous))
    }

    func testWriterRejectsUnencodableEvents() throws {
        let dir = try temporaryFolder(self)
        let url = dir.appendingPathComponent("bad.aedat")
        let wide = DVSEvents(sensor: SensorSize(width: 200, height: 200), t: [0], x: [150], y: [0], polarity: [1])
        XCTAssertThrowsEventIOError(try AEDAT.write(wide, to: url), file: url.path) {
            if case .unencodable = $0 { return true } else { return false }
        }
        let backwards = DVSEvents(sensor: .dvs128, t: [10, 5], x: [0, 0], y: [0, 0], polarity: [1, 1])
        XCTAssertNotNil(AEDAT.encodingProblem(backwards))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    // MARK: Bad input

    private let header = Array("#!AER-DAT2.0\r\n".utf8)   // 14 bytes

    func testEmptyFile() throws {
        let url = try temporaryFolder(self).appendingPathComponent("empty.aedat")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data()))
        XCTAssertThrowsEventIOError(try AEDAT.read(url), .emptyFile(file: url.path))
    }

    func testMissingFile() throws {
        let url = try temporaryFolder(self).appendingPathComponent("absent.aedat")
        XCTAssertThrowsEventIOError(try AEDAT.read(url), file: url.path) {
            if case .unreadable = $0 { return true } else { return false }
        }
    }

    func testDirectoryAndUnwritablePaths() throws {
        let dir = try temporaryFolder(self)
        XCTAssertThrowsEventIOError(try AEDAT.read(dir), file: dir.path) {
            if case .unreadable(_, "not a regular file") = $0 { return true } else { return false }
        }
        let nowhere = dir.appendingPathComponent("no/such/folder/x.aedat")
        XCTAssertThrowsEventIOError(try AEDAT.write(DVSEvents(sensor: .dvs128), to: nowhere), file: nowhere.path) {
            if case .unwritable = $0 { return true } else { return false }
        }
    }

    func testMissingOrWrongHeader() {
        XCTAssertThrowsEventIOError(try AEDAT.decode(be32(0x0A05) + be32(1), source: "nohdr"), file: "nohdr") {
            if case .badHeader = $0 { return true } else { return false }
        }
        XCTAssertThrowsEventIOError(try AEDAT.decode(Array("#!AER-DAT3.1\r\n".utf8), source: "v3"), file: "v3") {
            if case .badHeader = $0 { return true } else { return false }
        }
        // A header line without its line end.
        XCTAssertThrowsEventIOError(try AEDAT.decode(Array("#!AER-DAT2.0\r\n# cut".utf8), source: "cut"),
                                    .truncated(file: "cut", offset: 14, detail: "header line starting here has no line end"))
    }

    func testTruncatedRecordGivesOffsetOfLastRecord() throws {
        // 14-byte header, one full record (bytes 14…21), then 5 bytes of a second → offset 22.
        let bytes = header + be32(0x0A05) + be32(1) + [0, 0, 0x0A, 0x05, 0]
        let url = try temporaryFolder(self).appendingPathComponent("trunc.aedat")
        try Data(bytes).write(to: url)
        XCTAssertThrowsEventIOError(try AEDAT.read(url), file: url.path) {
            if case .truncated(_, 22, _) = $0 { return true } else { return false }
        }
    }

    func testAddressesOutsideTheSensor() {
        // Bits above 15 set: not a DVS128 address → error at the record's offset (14 + 8 = 22).
        let high = header + be32(0x0A05) + be32(1) + be32(0x0001_0A05) + be32(2)
        XCTAssertThrowsEventIOError(try AEDAT.decode(high, source: "high"), file: "high") {
            if case .addressOutOfRange(_, 22, _) = $0 { return true } else { return false }
        }
        let skipped = try? AEDAT.decodeRecording(high, source: "high", options: AEDATReadOptions(invalidAddresses: .skip))
        XCTAssertEqual(skipped?.events.count, 1)
        XCTAssertEqual(skipped?.skippedInvalidAddresses, 1)
        // A pixel outside a smaller declared sensor: x = 127 − 2 = 125 ≥ 64.
        XCTAssertThrowsEventIOError(try AEDAT.decode(header + be32(0x0A05) + be32(1), source: "small",
                                                     options: AEDATReadOptions(sensor: SensorSize(width: 64, height: 64))),
                                    file: "small") {
            if case .addressOutOfRange(_, 14, _) = $0 { return true } else { return false }
        }
    }

    func testExternalEventsAreSkippedAndCountedOrRejected() throws {
        let bytes = header + be32(0x8000) + be32(1) + be32(0x0A05) + be32(2)
        let rec = try AEDAT.decodeRecording(bytes, source: "ext")
        XCTAssertEqual(rec.events.count, 1)
        XCTAssertEqual(rec.skippedExternalEvents, 1)
        XCTAssertThrowsEventIOError(try AEDAT.decode(bytes, source: "ext", options: AEDATReadOptions(externalEvents: .error)),
                                    file: "ext") {
            if case .addressOutOfRange(_, 14, _) = $0 { return true } else { return false }
        }
    }

    func testBackwardsTimestampIsErrorOrClamped() throws {
        // 1000 µs then 400 µs: back by 600 µs (≤ 2³¹, so not a wrap) at record 2, offset 22.
        let bytes = header + be32(0x0A05) + be32(1000) + be32(0x0A05) + be32(400) + be32(0x0A05) + be32(1200)
        XCTAssertThrowsEventIOError(try AEDAT.decode(bytes, source: "back"), file: "back") {
            if case .timestampJump(_, 22, _) = $0 { return true } else { return false }
        }
        let rec = try AEDAT.decodeRecording(bytes, source: "back", options: AEDATReadOptions(backwardTimestamps: .clamp))
        XCTAssertEqual(rec.events.t, [1000, 1000, 1200])
        XCTAssertEqual(rec.clampedTimestamps, 1)
    }

    func testErrorDescriptionsNameFileAndOffset() {
        let e = EventIOError.truncated(file: "/a/b.aedat", offset: 22, detail: "x")
        XCTAssertEqual(e.description, "/a/b.aedat: truncated at byte offset 22: x")
    }
}
