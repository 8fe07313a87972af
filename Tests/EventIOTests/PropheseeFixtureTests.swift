import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// The Prophesee readers against the committed fixtures: each `.raw`/`.dat` file decodes to
/// exactly the events of its `.csv` (t,x,y,p in file order), which an independent decoder
/// gave for it (expelliarmus, faery or evlib; bench/make_prophesee_fixtures.py says which,
/// and docs/event-formats.md where they disagree with the specification).
final class PropheseeFixtureTests: XCTestCase {
    static let folder = TestPaths.fixtures.appendingPathComponent("prophesee")

    /// The events of `name.csv`.
    static func expected(_ name: String) throws -> (t: [Int64], x: [UInt16], y: [UInt16], p: [UInt8]) {
        let text = try String(contentsOf: folder.appendingPathComponent(name + ".csv"), encoding: .utf8)
        var lines = text.split(separator: "\n")
        XCTAssertEqual(lines.removeFirst(), "t,x,y,p")
        var out: (t: [Int64], x: [UInt16], y: [UInt16], p: [UInt8]) = ([], [], [], [])
        for line in lines {
            let f = line.split(separator: ",")
            guard f.count == 4, let t = Int64(f[0]), let x = UInt16(f[1]), let y = UInt16(f[2]), let p = UInt8(f[3]) else {
                throw XCTSkip("bad CSV line '\(line)' in \(name).csv")
            }
            out.t.append(t); out.x.append(x); out.y.append(y); out.p.append(p)
        }
        return out
    }

    /// Fixture → (expected format name through the registry, sensor; nil: the header names
    /// none, so the sensor is the events' extent).
    static let fixtures: [(name: String, format: String, sensor: SensorSize?)] = [
        ("evt2.raw", "Prophesee EVT 2.0 RAW", SensorSize(width: 1280, height: 720)),
        ("evt2_legacy_header.raw", "Prophesee EVT 2.0 RAW", SensorSize(width: 640, height: 480)),
        ("evt21.raw", "Prophesee EVT 2.1 RAW", SensorSize(width: 1280, height: 720)),
        ("evt21_legacy.raw", "Prophesee EVT 2.1 RAW (legacy endianness)", SensorSize(width: 1280, height: 720)),
        ("evt3_wrap.raw", "Prophesee EVT 3.0 RAW", SensorSize(width: 1280, height: 720)),
        ("evt3.raw", "Prophesee EVT 3.0 RAW", SensorSize(width: 640, height: 480)),
        ("faery_evt2.raw", "Prophesee EVT 2.0 RAW", SensorSize(width: 1280, height: 720)),
        ("faery_evt3.raw", "Prophesee EVT 3.0 RAW", SensorSize(width: 1280, height: 720)),
        ("expelliarmus_evt2.raw", "Prophesee EVT 2.0 RAW", nil),   // `% evt 2.0`, no geometry
        ("cd.dat", "Prophesee DAT (CD events)", SensorSize(width: 304, height: 240)),
        ("faery_cd.dat", "Prophesee DAT (CD events)", SensorSize(width: 1280, height: 720)),
    ]

    func testEveryFixtureGivesTheIndependentDecodersEvents() throws {
        for fixture in Self.fixtures {
            let url = Self.folder.appendingPathComponent(fixture.name)
            let file = try EventFileFormat.read(url)
            let expected = try Self.expected(fixture.name)
            XCTAssertEqual(file.format, fixture.format, fixture.name)
            let extent = SensorSize(width: Int(expected.x.max() ?? 0) + 1, height: Int(expected.y.max() ?? 0) + 1)
            XCTAssertEqual(file.events.sensor, fixture.sensor ?? extent, fixture.name)
            XCTAssertGreaterThan(expected.t.count, 250, fixture.name)
            XCTAssertEqual(file.events.count, expected.t.count, fixture.name)
            XCTAssertEqual(file.events.t, expected.t, fixture.name)
            XCTAssertEqual(file.events.x, expected.x, fixture.name)
            XCTAssertEqual(file.events.y, expected.y, fixture.name)
            XCTAssertEqual(file.events.polarity, expected.p, fixture.name)
        }
    }

    func testWhatTheReadersMetInTheFixtures() throws {
        let evt2 = try PropheseeRAW.readRecording(Self.folder.appendingPathComponent("evt2.raw"))
        XCTAssertEqual(evt2.encoding, .evt2)
        XCTAssertEqual(evt2.wordsBeforeFirstTimeHigh, 2)          // the two CD words the script put first
        XCTAssertEqual(evt2.header.fields["camera_integrator_name"], "Prophesee")
        XCTAssertTrue(evt2.sensorFromHeader)

        let wrap = try PropheseeRAW.readRecording(Self.folder.appendingPathComponent("evt3_wrap.raw"))
        XCTAssertEqual(wrap.encoding, .evt3)
        XCTAssertEqual(wrap.wordsBeforeFirstTimeHigh, 3)           // ADDR_Y, ADDR_X, TIME_LOW
        XCTAssertEqual(wrap.timestampWraps, 1)
        XCTAssertLessThan(wrap.events.t.first!, 1 << 24)
        XCTAssertGreaterThan(wrap.events.t.last!, 1 << 24)
        XCTAssertEqual(wrap.header.fields["geometry"], "1280x720")

        let legacy = try PropheseeRAW.readRecording(Self.folder.appendingPathComponent("evt21_legacy.raw"))
        let standard = try PropheseeRAW.readRecording(Self.folder.appendingPathComponent("evt21.raw"))
        XCTAssertTrue(legacy.legacyEndianness)
        XCTAssertFalse(standard.legacyEndianness)
        XCTAssertEqual(legacy.events, standard.events)

        // The 2³³ µs crossing is no wrap; the times are the file's own (not rebased).
        let high = try PropheseeRAW.read(Self.folder.appendingPathComponent("evt2_legacy_header.raw"))
        XCTAssertLessThan(high.t.first!, 1 << 33)
        XCTAssertGreaterThan(high.t.last!, 1 << 33)
        let dat = try PropheseeDAT.readRecording(Self.folder.appendingPathComponent("cd.dat"))
        XCTAssertEqual(dat.header.fields["Version"], "2")
        XCTAssertLessThan(dat.events.t.first!, 1 << 31)
        XCTAssertGreaterThan(dat.events.t.last!, 1 << 31)
        XCTAssertEqual(dat.timestampWraps, 0)
    }

    /// Detection is by content: a RAW file named .dat, and a DAT file named .bin, still read.
    func testDetectionByContentBeatsTheExtension() throws {
        let dir = try temporaryFolder(self)
        let raw = dir.appendingPathComponent("renamed.dat"), dat = dir.appendingPathComponent("renamed.bin")
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("evt3.raw"), to: raw)
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("cd.dat"), to: dat)
        XCTAssertEqual(try EventFileFormat.detect(raw).name, "Prophesee RAW (EVT 2.0, 2.1, 3.0)")
        XCTAssertEqual(try EventFileFormat.read(raw).events.count, try Self.expected("evt3.raw").t.count)
        XCTAssertEqual(try EventFileFormat.detect(dat).name, "Prophesee DAT")
        let unknown = dir.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: unknown)
        XCTAssertThrowsEventIOError(try EventFileFormat.read(unknown), file: unknown.path) {
            if case .unsupportedEncoding(_, let d) = $0 { return d.contains("Prophesee DAT (.dat)") && d.contains("N-MNIST, N-Caltech101 (.bin)") && d.contains("(.aedat, .aedat4)") }
            return false
        }
    }
}
