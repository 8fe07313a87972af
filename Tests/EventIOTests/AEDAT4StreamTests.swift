import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// The AEDAT 4.0 network stream, as dv-processing's `NetworkWriter` sent it to a client on
/// loopback (bench/dv_live_check.py capture), and multi-stream files.
final class AEDAT4StreamTests: XCTestCase {
    static let fixtures = TestPaths.fixtures.appendingPathComponent("aedat4")
    static let sensor = SensorSize(width: 64, height: 48)

    func capture(_ name: String) throws -> [UInt8] {
        try Array(Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
    }

    /// Events of a whole stream fed in pieces of `piece` bytes.
    func decode(_ bytes: [UInt8], piece: Int, source: String = "s") throws -> (DVSEvents, AEDAT4StreamDecoder) {
        var decoder = AEDAT4StreamDecoder(source: source)
        var events = DVSEvents(sensor: Self.sensor)
        var start = 0
        while start < bytes.count {
            let e = try decoder.feed(bytes[start..<min(start + piece, bytes.count)])
            events.t += e.t; events.x += e.x; events.y += e.y; events.polarity += e.polarity
            start += piece
        }
        try decoder.finish()
        return (events, decoder)
    }

    /// Packet boundaries of a stream, walked by hand: after the u32-prefixed header, then
    /// after each {i32 stream, i32 size, size bytes}.
    func boundaries(_ b: [UInt8]) -> [Int] {
        func u32(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
        var out = [4 + u32(0)]
        while out.last! < b.count { out.append(out.last! + 8 + u32(out.last! + 4)) }
        return out
    }

    func testCapturedStreamsGiveTheEventsDVProcessingSent() throws {
        let sent = try readReferenceCSV(Self.fixtures.appendingPathComponent("dv-network-stream.csv"), sensor: Self.sensor)
        XCTAssertEqual(sent.count, 2400)
        for (name, compression) in [("dv-network-stream.bin", 0), ("dv-network-stream-lz4.bin", 1)] {
            let bytes = try capture(name)
            XCTAssertEqual(boundaries(bytes).last, bytes.count, "\(name): the hand walk ends at the end")
            // Any split of the bytes gives the same events: one byte at a time, odd pieces, all.
            for piece in [1, 7, 1000, 4096, bytes.count] {
                let (events, decoder) = try decode(bytes, piece: piece)
                XCTAssertEqual(events, sent, "\(name) in pieces of \(piece)")
                XCTAssertEqual(decoder.compression, compression, name)
                XCTAssertEqual(decoder.streams, [0: "EVTS"], name)
                XCTAssertEqual(decoder.sensor, Self.sensor, name)
                XCTAssertEqual(decoder.packets, boundaries(bytes).count - 1, name)
                XCTAssertEqual(decoder.offset, bytes.count, name)
            }
        }
        // The same events as the file reader gives for the stream behind a version line.
        let bytes = try capture("dv-network-stream.bin")
        XCTAssertEqual(try AEDAT4.decode(Array("#!AER-DAT4.0\r\n".utf8) + bytes, source: "f"), sent)
    }

    /// A stream cut anywhere: complete packets give their events; the end inside the header or a
    /// packet is a truncation error naming the source and the offset where that piece starts.
    func testCutStreamsEndWithAnErrorNamingTheOffset() throws {
        let bytes = try capture("dv-network-stream-lz4.bin")
        let sent = try readReferenceCSV(Self.fixtures.appendingPathComponent("dv-network-stream.csv"), sensor: Self.sensor)
        let ends = boundaries(bytes)
        for cut in stride(from: 0, through: bytes.count, by: 37) + ends {
            var decoder = AEDAT4StreamDecoder(source: "tcp 127.0.0.1:7777")
            let events = try decoder.feed(bytes[0..<cut])
            XCTAssertEqual(events.t, Array(sent.t.prefix(events.count)), "cut at \(cut)")
            if ends.contains(cut) {
                XCTAssertNoThrow(try decoder.finish(), "cut at \(cut)")
                continue
            }
            let start = ends.last { $0 <= cut } ?? 0
            XCTAssertThrowsEventIOError(try decoder.finish(), file: "tcp 127.0.0.1:7777") {
                if case .truncated(_, let offset, _) = $0 { return offset == start } else { return false }
            }
        }
    }

    func testGarbledStreamsGiveTypedErrorsOrEvents() throws {
        let clean = try capture("dv-network-stream.bin")
        // A file is not a stream: its version line reads as a huge header length.
        XCTAssertThrowsEventIOError(try decode(try Array(Data(contentsOf: Self.fixtures.appendingPathComponent("none.aedat4"))),
                                               piece: 100), file: "s") {
            if case .badHeader(_, let d) = $0 { return d.contains("byte offset 0") && d.contains("#!AER-DAT4.0") } else { return false }
        }
        // A packet claiming 2 GiB is refused at once, not buffered.
        var b = clean
        let second = boundaries(clean)[1]
        b[second + 4] = 0xFF; b[second + 5] = 0xFF; b[second + 6] = 0xFF; b[second + 7] = 0x7F
        XCTAssertThrowsEventIOError(try decode(b, piece: 4096), file: "s") {
            if case .malformed(_, let d) = $0 { return d.contains("byte offset \(second)") } else { return false }
        }
        var g = SeededGenerator(seed: 41)
        var errors = 0, decoded = 0
        for _ in 0..<600 {
            var b = clean
            for _ in 0..<(1 + Int(g.next() % 3)) { b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next()) }
            do {
                let (e, _) = try decode(b, piece: 1 + Int(g.next() % 5000), source: "flip")
                XCTAssertLessThanOrEqual(e.count, 2400 + 1_000_000)
                decoded += 1
            } catch let e as EventIOError { XCTAssertEqual(e.file, "flip"); errors += 1 }
        }
        XCTAssertGreaterThan(errors, 0)
        XCTAssertGreaterThan(decoded, 0)
    }

    /// A DV file of three streams: the events are found by their type identifier EVTS, the
    /// frame and IMU packets skipped by size, and `inspect --json` lists all three.
    func testMultiStreamFileReadsTheEventStreamAndListsTheOthers() throws {
        let url = Self.fixtures.appendingPathComponent("multistream.aedat4")
        let sensor = SensorSize(width: 32, height: 24)
        let rec = try AEDAT4.readRecording(url)
        XCTAssertEqual(rec.streams, [0: "EVTS", 1: "FRME", 2: "IMUS"])
        XCTAssertEqual(rec.events, try readReferenceCSV(Self.fixtures.appendingPathComponent("multistream.csv"), sensor: sensor))
        XCTAssertEqual(rec.events.count, 600)
        XCTAssertEqual(rec.skippedPackets, rec.packets - (rec.packetsPerStream[0] ?? 0))
        XCTAssertGreaterThan(rec.packetsPerStream[1] ?? 0, 0)
        XCTAssertGreaterThan(rec.packetsPerStream[2] ?? 0, 0)
        XCTAssertNil(rec.indexProblem)
        let summary = try DatasetInspector.eventFile(url)
        XCTAssertEqual(summary.streams, [EventFileStream(id: 0, type: "EVTS", packets: rec.packetsPerStream[0]!, read: true),
                                         EventFileStream(id: 1, type: "FRME", packets: rec.packetsPerStream[1]!, read: false),
                                         EventFileStream(id: 2, type: "IMUS", packets: rec.packetsPerStream[2]!, read: false)])
        let json = try DatasetInspector.json(summary)
        XCTAssertTrue(json.contains(#""streams":[{"id":0,"packets":"#), json)
        XCTAssertTrue(json.contains(#""type":"FRME""#) && json.contains(#""type":"IMUS""#), json)
        // Only AEDAT 4.0 summaries carry streams.
        XCTAssertFalse(try DatasetInspector.json(DatasetInspector.eventFile(TestPaths.fixtures.appendingPathComponent("prophesee")
            .appendingPathComponent(try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: TestPaths.fixtures
                .appendingPathComponent("prophesee").path).first { $0.hasSuffix(".dat") })))).contains("streams"))
    }

    /// The event stream is the one typed EVTS, whatever its id: with the type identifiers of
    /// streams 0 and 1 swapped in the infoNode (same lengths), stream 1's packets (frames) are
    /// decoded as events, and fail as a FlatBuffer "FRME", while stream 0's are skipped.
    func testTheEventStreamIsChosenByTypeNotId() throws {
        var bytes = try Array(Data(contentsOf: Self.fixtures.appendingPathComponent("multistream.aedat4")))
        func firstIndex(of pattern: String) -> Int {
            let p = Array(pattern.utf8)
            return (0...(bytes.count - p.count)).first { bytes[$0..<($0 + p.count)].elementsEqual(p) }!
        }
        let events = firstIndex(of: ">EVTS</attr>"), frames = firstIndex(of: ">FRME</attr>")
        bytes.replaceSubrange(events..<(events + 5), with: Array(">FRME".utf8))
        bytes.replaceSubrange(frames..<(frames + 5), with: Array(">EVTS".utf8))
        XCTAssertThrowsEventIOError(try AEDAT4.decodeRecording(bytes, source: "f"), file: "f") {
            if case .malformed(_, let d) = $0 { return d.contains("'FRME', expected 'EVTS'") } else { return false }
        }
    }
}
