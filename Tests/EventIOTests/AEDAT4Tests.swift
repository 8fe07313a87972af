import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// AEDAT 4.0 files written by iniVation's dv-processing (bench/make_aedat4_fixtures.py), with
/// the events dv-processing reads back from them.
final class AEDAT4Tests: XCTestCase {
    static let fixtures = TestPaths.fixtures.appendingPathComponent("aedat4")
    static let sensor = SensorSize(width: 346, height: 260)

    func testEveryCompressionGivesDVProcessingsEvents() throws {
        let expected = try readReferenceCSV(Self.fixtures.appendingPathComponent("none.csv"), sensor: Self.sensor)
        XCTAssertEqual(expected.count, 1500)
        for (name, compression) in [("none", 0), ("lz4", 1), ("zstd", 3)] {
            let url = Self.fixtures.appendingPathComponent(name + ".aedat4")
            let rec = try AEDAT4.readRecording(url)
            XCTAssertEqual(rec.compression, compression, name)
            XCTAssertEqual(rec.events.sensor, Self.sensor, name)
            XCTAssertEqual(rec.events, try readReferenceCSV(Self.fixtures.appendingPathComponent(name + ".csv"), sensor: Self.sensor), name)
            XCTAssertEqual(rec.events, expected, name)
            XCTAssertEqual(rec.streams[rec.eventStreamID], "EVTS")
            // The FTAB follows the packets.
            XCTAssertLessThan(rec.packetsEnd, try Data(contentsOf: url).count, name)
            XCTAssertEqual(try AEDATFlavour.read(url).flavour, .aedat4)
        }
        // dv-processing's FTAB lists every packet (offset, stream, size, elements) as read.
        for name in ["none", "lz4", "zstd"] {
            let rec = try AEDAT4.readRecording(Self.fixtures.appendingPathComponent(name + ".aedat4"))
            XCTAssertNil(rec.indexProblem, name)
            XCTAssertEqual(rec.index.count, rec.packets, name)
            let events = rec.index.filter { $0.streamID == rec.eventStreamID }
            XCTAssertEqual(events.map(\.elements).reduce(0, +), 1500, name)
            XCTAssertEqual(events.first?.timestampStart, rec.events.t.first, name)
            XCTAssertEqual(events.last?.timestampEnd, rec.events.t.last, name)
        }
        // An FTAB that disagrees is reported, the events still read.
        var b = try Array(Data(contentsOf: Self.fixtures.appendingPathComponent("none.aedat4")))
        let rec = try AEDAT4.decodeRecording(b, source: "f")
        b[rec.packetsEnd + 40] ^= 0x01            // inside the FTAB's entries
        let changed = try AEDAT4.decodeRecording(b, source: "f")
        XCTAssertEqual(changed.events, rec.events)
        XCTAssertNotNil(changed.indexProblem)
        // The LZ4 file carries a trigger stream too: its packets are skipped.
        let lz4 = try AEDAT4.readRecording(Self.fixtures.appendingPathComponent("lz4.aedat4"))
        XCTAssertEqual(lz4.streams.values.sorted(), ["EVTS", "TRIG"])
        XCTAssertGreaterThan(lz4.skippedPackets, 0)
    }

    func testTruncationAndByteFlipsGiveErrorsNamingTheFile() throws {
        for name in ["none", "zstd", "lz4"] {
            let bytes = try Array(Data(contentsOf: Self.fixtures.appendingPathComponent(name + ".aedat4")))
            let rec = try AEDAT4.decodeRecording(bytes, source: "full"), full = rec.events
            // A cut before the FTAB is an error (dataTablePosition lies beyond it); a cut inside
            // the FTAB (an index the reader does not need) still gives every event.
            for cut in stride(from: 0, to: bytes.count, by: name == "none" ? 7 : 3) {
                if cut >= rec.packetsEnd {
                    XCTAssertEqual(try AEDAT4.decode(Array(bytes[0..<cut]), source: "cut"), full)
                    continue
                }
                XCTAssertThrowsError(try AEDAT4.decode(Array(bytes[0..<cut]), source: "cut"), "\(name) cut at \(cut)") {
                    XCTAssertEqual(($0 as? EventIOError)?.file, "cut")
                }
            }
            var g = SeededGenerator(seed: 44)
            var errors = 0
            for _ in 0..<1500 {
                var b = bytes
                for _ in 0..<(1 + Int(g.next() % 3)) { b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next()) }
                do {
                    let e = try AEDAT4.decode(b, source: "flip")
                    XCTAssertLessThanOrEqual(e.count, full.count + 1_000_000)
                } catch let e as EventIOError { XCTAssertEqual(e.file, "flip"); errors += 1 }
            }
            XCTAssertGreaterThan(errors, 0, name)
        }
    }

    func testBadHeadersAndSizes() throws {
        let bytes = try Array(Data(contentsOf: Self.fixtures.appendingPathComponent("none.aedat4")))
        XCTAssertThrowsEventIOError(try AEDAT4.decode([], source: "f"), .emptyFile(file: "f"))
        XCTAssertThrowsEventIOError(try AEDAT4.decode(Array("#!AER-DAT3.1\r\n".utf8), source: "f"), file: "f") {
            if case .badHeader = $0 { return true } else { return false }
        }
        // An IOHeader length beyond the file.
        var b = bytes; b[14] = 0xFF; b[15] = 0xFF; b[16] = 0xFF; b[17] = 0x7F
        XCTAssertThrowsEventIOError(try AEDAT4.decode(b, source: "f"), file: "f") {
            if case .truncated(_, 14, _) = $0 { return true } else { return false }
        }
        // A wrong identifier in the IOHeader.
        b = bytes; b[22] = UInt8(ascii: "X")
        XCTAssertThrowsEventIOError(try AEDAT4.decode(b, source: "f"), file: "f") {
            if case .malformed(_, let d) = $0 { return d.contains("XOHE") && d.contains("byte offset 22") } else { return false }
        }
        // The first packet's size 2³¹ − 1: truncated at that packet.
        let header = 18 + Int(bytes[14]) | Int(bytes[15]) << 8
        b = bytes; b[header + 4] = 0xFF; b[header + 5] = 0xFF; b[header + 6] = 0xFF; b[header + 7] = 0x7F
        XCTAssertThrowsEventIOError(try AEDAT4.decode(b, source: "f"), file: "f") {
            if case .truncated(_, let o, _) = $0 { return o == header } else { return false }
        }
        // A sensor given explicitly that is too small: the far-corner pixel is out of range.
        XCTAssertThrowsEventIOError(try AEDAT4.decode(bytes, source: "f", options: .init(sensor: .dvs128)), file: "f") {
            if case .addressOutOfRange = $0 { return true } else { return false }
        }
        let skipped = try AEDAT4.decodeRecording(bytes, source: "f", options: .init(sensor: .dvs128, invalidAddresses: .skip))
        XCTAssertGreaterThan(skipped.skippedInvalidAddresses, 0)
        XCTAssertTrue(skipped.events.x.allSatisfy { $0 < 128 })
    }
}

/// A plain, uncompressed AEDAT 4.0 file of one event stream (test helper, for sizes the
/// committed fixtures do not cover): the IOHeader and event packets as hand-laid FlatBuffers.
func aedat4Encode(_ events: DVSEvents, eventsPerPacket: Int = 10_000) -> [UInt8] {
    func u16(_ v: Int) -> [UInt8] { le16(UInt16(v)) }
    func u32(_ v: Int) -> [UInt8] { le32(UInt32(v)) }
    let xml = Array(("<dv version=\"2.0\"><node name=\"outInfo\" path=\"/outInfo/\"><node name=\"0\" path=\"/outInfo/0/\">"
        + "<attr key=\"typeIdentifier\" type=\"string\">EVTS</attr><node name=\"info\" path=\"/outInfo/0/info/\">"
        + "<attr key=\"sizeX\" type=\"int\">\(events.sensor.width)</attr><attr key=\"sizeY\" type=\"int\">\(events.sensor.height)</attr>"
        + "</node></node></node></dv>").utf8)
    // root → table at 20; vtable at 8: 3 fields (compression @4, dataTablePosition @8, infoNode @16).
    var header = u32(20) + Array("IOHE".utf8) + u16(10) + u16(20) + u16(4) + u16(8) + u16(16) + [0, 0]
    header += u32(12) + u32(0) + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + u32(4) + u32(xml.count) + xml
    var out = Array("#!AER-DAT4.0\r\n".utf8) + u32(header.count) + header
    var start = 0
    while start < events.count {
        let end = min(events.count, start + eventsPerPacket)
        // root → table at 16; vtable at 8: 1 field (elements @4) → vector at 24.
        var fb = u32(16) + Array("EVTS".utf8) + u16(6) + u16(8) + u16(4) + [0, 0] + u32(8) + u32(4) + u32(end - start)
        for i in start..<end {
            withUnsafeBytes(of: events.t[i].littleEndian) { fb += $0 }
            fb += le16(events.x[i]) + le16(events.y[i]) + [events.polarity[i], 0, 0, 0]
        }
        let body = u32(fb.count) + fb
        out += u32(0) + u32(body.count) + body
        start = end
    }
    return out
}

final class AEDAT4EncoderCheckTests: XCTestCase {
    /// The test helper's files read back exactly (so the speed measurement reads real events).
    func testHandLaidFilesReadBack() throws {
        var g = SeededGenerator(seed: 4)
        let e = randomDVSEvents(&g, count: 2_345, sensor: SensorSize(width: 640, height: 480))
        XCTAssertEqual(try AEDAT4.decode(aedat4Encode(e, eventsPerPacket: 1000), source: "mem"), e)
    }
}
