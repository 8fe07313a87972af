import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// Events of a `t,x,y,p` CSV written by bench/aedat31_reference.py (the independent decoder).
func readReferenceCSV(_ url: URL, sensor: SensorSize) throws -> DVSEvents {
    let text = try String(contentsOf: url, encoding: .utf8)
    var e = DVSEvents(sensor: sensor)
    for line in text.split(separator: "\n").dropFirst() {
        let f = line.split(separator: ",").map { Int64($0)! }
        e.append(t: f[0], x: UInt16(f[1]), y: UInt16(f[2]), polarity: UInt8(f[3]))
    }
    return e
}

/// One AEDAT 3.1 packet header (28 bytes, little-endian).
func aedat31PacketHeader(type: Int16 = 1, source: Int16 = 1, size: Int32 = 8, tsOffset: Int32 = 4,
                         overflow: Int32 = 0, capacity: Int32, number: Int32? = nil, valid: Int32? = nil) -> [UInt8] {
    var out: [UInt8] = le16(UInt16(bitPattern: type)) + le16(UInt16(bitPattern: source))
    for v in [size, tsOffset, overflow, capacity, number ?? capacity, valid ?? number ?? capacity] {
        out += le32(UInt32(bitPattern: v))
    }
    return out
}

let aedat31DVS128Header = Array("#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n".utf8)

final class AEDAT31Tests: XCTestCase {
    static let fixtures = TestPaths.fixtures.appendingPathComponent("aedat31")

    // MARK: Against the independent decoder

    func testGestureLikeFixtureGivesTheReferenceDecodersEvents() throws {
        let url = Self.fixtures.appendingPathComponent("gesture-like.aedat")
        let rec = try AEDAT31.readRecording(url)
        let expected = try readReferenceCSV(Self.fixtures.appendingPathComponent("gesture-like.csv"), sensor: .dvs128)
        XCTAssertEqual(rec.events.sensor, .dvs128)
        XCTAssertEqual(rec.events.count, expected.count)
        XCTAssertEqual(rec.events, expected)
        XCTAssertEqual(rec.sources, [1: "DVS128"])
        XCTAssertEqual(rec.headerLines.first, "#!AER-DAT3.1")
        XCTAssertEqual(rec.headerLines.last, "#!END-HEADER")
        // special, IMU6 and frame packets skipped; 5 polarity packets (one empty).
        XCTAssertEqual(rec.packets, 8)
        XCTAssertEqual(rec.skippedPackets, 3)
        XCTAssertGreaterThan(rec.invalidEvents, 0)
        // The last packet has eventTSOverflow 1: its times are past 2³¹ µs, still in order.
        XCTAssertGreaterThan(rec.events.t.last!, Int64(1) << 31)
        XCTAssertTrue(zip(rec.events.t, rec.events.t.dropFirst()).allSatisfy { $0 <= $1 })
    }

    func testDAVIS346FixtureGetsItsSensorSizeFromTheSourceLine() throws {
        let url = Self.fixtures.appendingPathComponent("davis346.aedat")
        let sensor = SensorSize(width: 346, height: 260)
        let events = try AEDAT31.read(url)
        XCTAssertEqual(events.sensor, sensor)
        XCTAssertEqual(events, try readReferenceCSV(Self.fixtures.appendingPathComponent("davis346.csv"), sensor: sensor))
        // The last packet holds the far corner (345, 259), then (0, 0).
        XCTAssertEqual(events.x.suffix(2), [345, 0])
        XCTAssertEqual(events.y.suffix(2), [259, 0])
        // Read as a DVS128 the corner pixel is out of range, with its byte offset.
        XCTAssertThrowsEventIOError(try AEDAT31.read(url, options: .init(sensor: .dvs128)), file: url.path) {
            if case .addressOutOfRange = $0 { return true } else { return false }
        }
    }

    func testSensorNames() {
        XCTAssertEqual(AEDAT31.sensorSize(named: "DVS128"), .dvs128)
        XCTAssertEqual(AEDAT31.sensorSize(named: "DAVIS346B"), SensorSize(width: 346, height: 260))
        XCTAssertEqual(AEDAT31.sensorSize(named: "DAVIS240C"), SensorSize(width: 240, height: 180))
        XCTAssertEqual(AEDAT31.sensorSize(named: "DVXplorer Lite"), SensorSize(width: 320, height: 240))
        XCTAssertEqual(AEDAT31.sensorSize(named: "DVXplorer"), SensorSize(width: 640, height: 480))
        XCTAssertNil(AEDAT31.sensorSize(named: "File"))
    }

    // MARK: Writer

    func testWriteReadRoundTripAcrossTheOverflowBoundary() throws {
        var g = SeededGenerator(seed: 31)
        var e = randomDVSEvents(&g, count: 3000, sensor: SensorSize(width: 346, height: 260))
        for i in 0..<e.count { e.t[i] += (1 << 31) - 300_000 }     // crosses 2³¹ µs in the middle
        XCTAssertNil(AEDAT31.encodingProblem(e))
        let bytes = AEDAT31.encode(e, sourceName: "DAVIS346B", eventsPerPacket: 700)
        XCTAssertEqual(try AEDAT31.decode(bytes, source: "mem"), e)
        let url = try temporaryFolder(self).appendingPathComponent("r.aedat")
        try AEDAT31.write(e, to: url, sourceName: "DAVIS346B")
        XCTAssertEqual(try AEDAT31.read(url), e)
        var bad = e; bad.t[5] = -1
        XCTAssertThrowsEventIOError(try AEDAT31.write(bad, to: url), file: url.path) {
            if case .unencodable = $0 { return true } else { return false }
        }
    }

    // MARK: Corrupt files: a clear error naming the file and the offset, never a trap or hang

    func testTruncationAtEveryByteIsAnErrorOrAPrefix() throws {
        let bytes = try Array(Data(contentsOf: Self.fixtures.appendingPathComponent("gesture-like.aedat")))
        let full = try AEDAT31.decode(bytes, source: "full")
        for cut in 0..<bytes.count {
            do {
                let events = try AEDAT31.decode(Array(bytes[0..<cut]), source: "cut")
                // Only a cut at a packet boundary decodes: a prefix of the full events.
                XCTAssertEqual(events.t, Array(full.t.prefix(events.count)), "cut at \(cut)")
            } catch let e as EventIOError {
                XCTAssertEqual(e.file, "cut")
                if case .truncated(_, let offset, _) = e { XCTAssertLessThanOrEqual(offset, cut) }
            }
        }
    }

    func testBadHeaders() {
        XCTAssertThrowsEventIOError(try AEDAT31.decode([], source: "f"), .emptyFile(file: "f"))
        XCTAssertThrowsEventIOError(try AEDAT31.decode(Array("#!AER-DAT2.0\r\n".utf8), source: "f"), file: "f") {
            if case .badHeader(_, let d) = $0 { return d.contains("#!AER-DAT3.1") } else { return false }
        }
        XCTAssertThrowsEventIOError(try AEDAT31.decode(Array("#!AER-DAT3.1\r\n#Source 1: DVS128\r\n".utf8), source: "f"),
                                    .truncated(file: "f", offset: 33, detail: "the header ends without a '#!END-HEADER' line"))
        XCTAssertThrowsEventIOError(try AEDAT31.decode(Array("#!AER-DAT3.1\r\nxyz\r\n".utf8), source: "f"), file: "f") {
            if case .badHeader(_, let d) = $0 { return d.contains("byte offset 14") } else { return false }
        }
        // A source the header does not name, or a camera the reader does not know.
        let noSource = Array("#!AER-DAT3.1\r\n#!END-HEADER\r\n".utf8) + aedat31PacketHeader(capacity: 1) + le32(3) + le32(0)
        XCTAssertThrowsEventIOError(try AEDAT31.decode(noSource, source: "f"), file: "f") {
            if case .badHeader(_, let d) = $0 { return d.contains("byte offset 28") && d.contains("source 1") } else { return false }
        }
        XCTAssertEqual(try AEDAT31.decode(noSource, source: "f", options: .init(sensor: .dvs128)).count, 1)
        let unknown = Array("#!AER-DAT3.1\r\n#Source 1: Mystery9\r\n#!END-HEADER\r\n".utf8) + aedat31PacketHeader(capacity: 0)
        XCTAssertThrowsEventIOError(try AEDAT31.decode(unknown, source: "f"), file: "f") {
            if case .badHeader(_, let d) = $0 { return d.contains("Mystery9") } else { return false }
        }
    }

    func testHugeAndInconsistentPacketSizes() {
        let h = aedat31DVS128Header, at = h.count
        func check(_ bytes: [UInt8], _ line: UInt = #line, _ match: (EventIOError) -> Bool) {
            XCTAssertThrowsEventIOError(try AEDAT31.decode(bytes, source: "f"), file: "f", line: line, match)
        }
        // 2³¹ − 1 events of 8 bytes: truncated at the packet header, no allocation.
        check(h + aedat31PacketHeader(capacity: Int32.max)) {
            if case .truncated(_, let o, let d) = $0 { return o == at && d.contains("2147483647") } else { return false }
        }
        check(h + aedat31PacketHeader(type: 2, size: Int32.max, capacity: Int32.max)) {
            if case .truncated(_, let o, _) = $0 { return o == at } else { return false }
        }
        check(h + aedat31PacketHeader(size: -8, capacity: 1) + [UInt8](repeating: 0, count: 8)) {
            if case .malformed(_, let d) = $0 { return d.contains("byte offset \(at)") && d.contains("negative") } else { return false }
        }
        check(h + aedat31PacketHeader(capacity: 1, number: 2) + [UInt8](repeating: 0, count: 8)) {
            if case .malformed(_, let d) = $0 { return d.contains("eventNumber 2") } else { return false }
        }
        check(h + aedat31PacketHeader(size: 4, capacity: 1) + [UInt8](repeating: 0, count: 4)) {
            if case .malformed(_, let d) = $0 { return d.contains("eventSize 8") } else { return false }
        }
        check(h + aedat31PacketHeader(capacity: 0) + [1, 2, 3]) {
            if case .truncated(_, let o, let d) = $0 { return o == at + 28 && d.contains("only 3 remain") } else { return false }
        }
        // A negative timestamp and a backward step name the event's offset.
        check(h + aedat31PacketHeader(capacity: 1) + le32(1) + le32(0x8000_0000)) {
            if case .malformed(_, let d) = $0 { return d.contains("byte offset \(at + 28)") } else { return false }
        }
        let backwards = h + aedat31PacketHeader(capacity: 2) + le32(1) + le32(100) + le32(3) + le32(99)
        check(backwards) {
            if case .timestampJump(_, let o, _) = $0 { return o == at + 36 } else { return false }
        }
        let clamped = try? AEDAT31.decodeRecording(backwards, source: "f", options: .init(backwardTimestamps: .clamp))
        XCTAssertEqual(clamped?.events.t, [100, 100])
        XCTAssertEqual(clamped?.clampedTimestamps, 1)
        // y = 200 on a DVS128: an error by default, skipped and counted on request.
        let outside = h + aedat31PacketHeader(capacity: 2) + le32(200 << 2 | 1) + le32(5) + le32(1) + le32(6)
        check(outside) {
            if case .addressOutOfRange(_, let o, _) = $0 { return o == at + 28 } else { return false }
        }
        let skipped = try? AEDAT31.decodeRecording(outside, source: "f", options: .init(invalidAddresses: .skip))
        XCTAssertEqual(skipped?.events.t, [6])
        XCTAssertEqual(skipped?.skippedInvalidAddresses, 1)
    }

    func testRandomByteFlipsNeverTrap() throws {
        let bytes = try Array(Data(contentsOf: Self.fixtures.appendingPathComponent("gesture-like.aedat")))
        var g = SeededGenerator(seed: 7)
        var errors = 0
        for _ in 0..<3000 {
            var b = bytes
            for _ in 0..<(1 + Int(g.next() % 4)) {
                b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next())
            }
            do { _ = try AEDAT31.decode(b, source: "flip") } catch let e as EventIOError {
                XCTAssertEqual(e.file, "flip"); errors += 1
            }
        }
        XCTAssertGreaterThan(errors, 0)
    }
}
