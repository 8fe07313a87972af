import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// `EventCSV` (what `spikefuse convert` writes) and the format registry on every format.
final class EventCSVTests: XCTestCase {
    func testDecimalDigitsAtTheEdges() {
        for value: Int64 in [0, 7, 10, -1, -10, 1 << 34, Int64.max, Int64.min, 16_777_216, -9_000_000_000] {
            var out: [UInt8] = []
            EventCSV.appendDecimal(value, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(value))
        }
    }

    /// The CSV of each Prophesee fixture is byte for byte its committed independent CSV.
    func testCSVOfEachFixtureIsTheIndependentDecodersCSV() throws {
        for fixture in PropheseeFixtureTests.fixtures {
            let url = PropheseeFixtureTests.folder.appendingPathComponent(fixture.name)
            let expected = try [UInt8](Data(contentsOf: PropheseeFixtureTests.folder.appendingPathComponent(fixture.name + ".csv")))
            XCTAssertEqual(EventCSV.encode(try EventFileFormat.read(url).events), expected, fixture.name)
            let out = try temporaryFolder(self).appendingPathComponent("out.csv")
            try EventCSV.write(try EventFileFormat.read(url).events, to: out)
            XCTAssertEqual(try [UInt8](Data(contentsOf: out)), expected, fixture.name)
        }
    }

    /// AEDAT 2.0 and N-MNIST through the registry: the events of their own readers, by
    /// content where there is a magic number; the CSV lines match a plain re-formatting.
    func testRegistryReadsAEDATAndNMNIST() throws {
        let dir = try temporaryFolder(self)
        var g = SeededGenerator(seed: 3)
        let aedat = randomDVSEvents(&g, count: 500)
        let aedatURL = dir.appendingPathComponent("mnist_3_scale04_0007.aedat")
        try AEDAT.write(aedat, to: aedatURL)
        let a = try EventFileFormat.read(aedatURL)
        XCTAssertEqual(a.events, aedat)
        XCTAssertEqual(a.format, "AEDAT 2.0 (DVS128)")
        XCTAssertEqual(a.label, "3")
        let nmnist = randomDVSEvents(&g, count: 300, sensor: NMNIST.sensor)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("7"), withIntermediateDirectories: true)
        let binURL = dir.appendingPathComponent("7/00001.bin")
        try NMNIST.write(nmnist, to: binURL)
        let n = try EventFileFormat.read(binURL)
        XCTAssertEqual(n.events, nmnist)
        XCTAssertEqual(n.label, "7")
        let lines = String(decoding: EventCSV.encode(n.events), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 301)
        XCTAssertEqual(lines[1], "\(nmnist.t[0]),\(nmnist.x[0]),\(nmnist.y[0]),\(nmnist.polarity[0])")
        // An AEDAT 2.0 file named .dat (old jAER) is still AEDAT: content beats extension.
        let renamed = dir.appendingPathComponent("old.dat")
        try FileManager.default.copyItem(at: aedatURL, to: renamed)
        XCTAssertEqual(try EventFileFormat.read(renamed).events, aedat)
    }

    /// `inspect --json`'s fields for every format of the registry.
    func testSummaryFieldsForEveryFormat() throws {
        let dir = try temporaryFolder(self)
        var g = SeededGenerator(seed: 4)
        let aedatURL = dir.appendingPathComponent("a.aedat")
        try AEDAT.write(randomDVSEvents(&g, count: 50), to: aedatURL)
        let binURL = dir.appendingPathComponent("b.bin")
        try NMNIST.write(randomDVSEvents(&g, count: 50, sensor: NMNIST.sensor), to: binURL)
        let urls = [aedatURL, binURL] + ["evt2.raw", "evt21.raw", "evt3.raw", "cd.dat"].map { PropheseeFixtureTests.folder.appendingPathComponent($0) }
        var formats = Set<String>()
        for url in urls {
            let events = try EventFileFormat.read(url).events
            let json = try DatasetInspector.json(DatasetInspector.eventFile(url))
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            XCTAssertEqual(o["events"] as? Int, events.count)
            XCTAssertEqual(o["width"] as? Int, events.sensor.width)
            XCTAssertEqual(o["height"] as? Int, events.sensor.height)
            XCTAssertEqual((o["t_first_us"] as? NSNumber)?.int64Value, events.t.first)
            XCTAssertEqual((o["t_last_us"] as? NSNumber)?.int64Value, events.t.last)
            XCTAssertEqual(o["on"] as? Int, events.polarity.filter { $0 == 1 }.count)
            XCTAssertEqual(o["off"] as? Int, events.polarity.filter { $0 == 0 }.count)
            formats.insert(try XCTUnwrap(o["format"] as? String))
        }
        XCTAssertEqual(formats.count, 6)
    }
}
