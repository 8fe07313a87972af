import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

final class CIFAR10DVSTests: XCTestCase {
    /// One record: big-endian address (bits 1–7 raw x, 8–14 raw y, bit 0 = 1 for OFF), time.
    func record(rawX: UInt32, rawY: UInt32, off: Bool, t: UInt32) -> [UInt8] {
        be32(rawY << 8 | rawX << 1 | (off ? 1 : 0)) + be32(t)
    }

    func testAxisConventionOfThePublicLoaders() throws {
        // raw (x 3, y 100, ON) → x = 127 − 100 = 27, y = 127 − 3 = 124, polarity 1.
        let bytes = Array("#!AER-DAT2.0\r\n# cifar10\r\n".utf8)
            + record(rawX: 3, rawY: 100, off: false, t: 10) + record(rawX: 127, rawY: 0, off: true, t: 20)
            + be32(0x8000) + be32(25)                                    // external event: skipped
        let e = try CIFAR10DVS.decode(bytes, source: "c")
        XCTAssertEqual(e.sensor, .dvs128)
        XCTAssertEqual(e.t, [10, 20])
        XCTAssertEqual(e.x, [27, 127])
        XCTAssertEqual(e.y, [124, 0])
        XCTAssertEqual(e.polarity, [1, 0])
        // The same bytes as MNIST-DVS AEDAT give other axes (x = 127 − raw x, y = raw y).
        XCTAssertEqual(try AEDAT.decode(bytes, source: "c").x, [124, 0])
        // Errors still name the file and offset (a record cut short).
        XCTAssertThrowsEventIOError(try CIFAR10DVS.decode(bytes.dropLast(3), source: "c"), file: "c") {
            if case .truncated = $0 { return true } else { return false }
        }
    }

    func testFolderSplitPerClassAndFlavourDetection() throws {
        let folder = try temporaryFolder(self)
        let fm = FileManager.default
        for (label, name) in CIFAR10DVS.classNames.enumerated() {
            let sub = folder.appendingPathComponent(name)
            try fm.createDirectory(at: sub, withIntermediateDirectories: true)
            for n in 0..<(label + 3) {          // 3 … 12 files per class
                let bytes = Array("#!AER-DAT2.0\r\n".utf8) + record(rawX: UInt32(n), rawY: UInt32(label), off: false, t: 5)
                try Data(bytes).write(to: sub.appendingPathComponent("cifar10_\(name)_\(n).aedat"))
            }
            try Data("x".utf8).write(to: sub.appendingPathComponent("notes.txt"))
        }
        let c = try CIFAR10DVSFolder(folder)
        let counts = (3...12).map { $0 }
        XCTAssertEqual(c.countsPerClass(.train), counts.map { ($0 * 9 + 9) / 10 })
        XCTAssertEqual(zip(c.countsPerClass(.train), c.countsPerClass(.test)).map(+), counts)
        // Numeric order: cifar10_truck_10 and _11 come after _9, so they are the test files.
        XCTAssertEqual(c.samples(.test).filter { $0.label == 9 }.map { $0.url.lastPathComponent },
                       ["cifar10_truck_11.aedat"])
        XCTAssertEqual(c.files[9].prefix(3).map(\.lastPathComponent),
                       ["cifar10_truck_0.aedat", "cifar10_truck_1.aedat", "cifar10_truck_2.aedat"])
        let s = try XCTUnwrap(try DatasetInspector.eventDatasetFolder(folder))
        XCTAssertEqual(s.format, "CIFAR10-DVS")
        XCTAssertEqual(s.train + s.test, counts.reduce(0, +))

        let file = folder.appendingPathComponent("cat/cifar10_cat_2.aedat")
        let (events, flavour) = try AEDATFlavour.read(file)
        XCTAssertEqual(flavour, .cifar10DVS)
        XCTAssertEqual(events.x, [127 - 3]); XCTAssertEqual(events.y, [127 - 2])
        let summary = try DatasetInspector.eventFile(file)
        XCTAssertEqual(summary.label, "cat")
        XCTAssertEqual(summary.format, AEDATFlavour.cifar10DVS.rawValue)

        try fm.removeItem(at: folder.appendingPathComponent("dog"))
        XCTAssertThrowsError(try CIFAR10DVSFolder(folder)) { XCTAssertTrue("\($0)".contains("dog")) }
    }

    func testAnUnreadAEDATVersionIsNamed() throws {
        let url = try temporaryFolder(self).appendingPathComponent("old.aedat")
        try Data("#!AER-DAT3.0\r\n#!END-HEADER\r\n".utf8).write(to: url)
        XCTAssertThrowsEventIOError(try AEDATFlavour.read(url), file: url.path) {
            if case .unsupportedEncoding(_, let d) = $0 { return d.contains("'3.0'") } else { return false }
        }
    }

    func testAEDAT31IsDetectedByItsVersionLine() throws {
        let url = TestPaths.fixtures.appendingPathComponent("aedat31/gesture-like.aedat")
        let (events, flavour) = try AEDATFlavour.read(url)
        XCTAssertEqual(flavour, .aedat31)
        XCTAssertEqual(events, try AEDAT31.read(url))
        XCTAssertEqual(try DatasetInspector.eventFile(url).events, events.count)
    }
}
