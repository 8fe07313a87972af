import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

final class InspectionAndRenderingTests: XCTestCase {
    private func same(_ a: RasterCanvas.Color, _ b: RasterCanvas.Color) -> Bool {
        a.r == b.r && a.g == b.g && a.b == b.b
    }

    /// JSON fields of the real recording; ON/OFF counted independently from the raw bytes
    /// (8-byte big-endian records after the `#` header lines, polarity bit 0: 0 = ON).
    func testInspectJSONOnRealAEDAT() throws {
        let url = try sharedData("mnist-dvs").appendingPathComponent("mnist_0_scale04_0001.aedat")
        let json = try DatasetInspector.json(DatasetInspector.aedat(url))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["format"] as? String, "AEDAT 2.0 (DVS128)")
        XCTAssertEqual(object["sensor"] as? String, "128x128")
        XCTAssertEqual(object["label"] as? String, "0")
        XCTAssertEqual(object["events"] as? Int, 15_744)   // shared/data/README.md

        let bytes = [UInt8](try Data(contentsOf: url))
        var offset = 0
        while offset < bytes.count, bytes[offset] == UInt8(ascii: "#") {
            while bytes[offset] != 0x0A { offset += 1 }
            offset += 1
        }
        var on = 0, off = 0
        var first: Int64 = -1, last: Int64 = 0
        for r in stride(from: offset, to: bytes.count, by: 8) {
            if bytes[r + 3] & 1 == 0 { on += 1 } else { off += 1 }
            let t = bytes[(r + 4)..<(r + 8)].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            if first < 0 { first = t }
            last = t
        }
        XCTAssertEqual(on + off, 15_744)
        XCTAssertEqual(object["on_events"] as? Int, on)
        XCTAssertEqual(object["off_events"] as? Int, off)
        XCTAssertEqual(object["duration_us"] as? Int, Int(last - first))
    }

    func testFolderSummary() throws {
        let root = try temporaryFolder(self)
        for d in 0...9 {
            let folder = root.appendingPathComponent("grabbed_data\(d)/scale4")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 1...(d == 3 ? 5 : 4) {
                try Data().write(to: folder.appendingPathComponent(MNISTDVSFileName(digit: d, scale: 4, index: i).fileName))
            }
        }
        let visualOnly = try DatasetInspector.folder(root)
        XCTAssertEqual(visualOnly.classes.map(\.visual), (0...9).map { $0 == 3 ? 5 : 4 })
        XCTAssertNil(visualOnly.classes[0].audio)
        // ⌈4/2⌉ = 2 train per class, ⌈5/2⌉ = 3 for digit 3 → 21 train, 20 test.
        XCTAssertEqual(visualOnly.train, 21)
        XCTAssertEqual(visualOnly.test, 20)

        let digits: [Character] = ["z", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
        var samples: [(key: String, split: Split, events: CochleaEvents)] = digits.map { ("man-aa-a-\($0)", .train, CochleaEvents(t: [1], channel: [2])) }
        samples += digits.map { ("woman-cc-b-\($0)", .test, CochleaEvents(t: [1], channel: [2])) }
        samples.append(("man-aa-a-o", .train, CochleaEvents()))
        samples.append(("man-bb-b-z", .test, CochleaEvents()))
        try NTidigitsFile.write(samples, to: root.appendingPathComponent("n-tidigits.hdf5"))
        let joint = try DatasetInspector.folder(root)
        XCTAssertEqual(joint.classes.map(\.audio), [3, 2, 2, 2, 2, 2, 2, 2, 2, 2])
        XCTAssertEqual(joint.train, 21, "one pair per training visual sample")
        XCTAssertEqual(joint.test, 20)
        let json = try DatasetInspector.json(joint)
        for field in ["\"classes\"", "\"train\":21", "\"test\":20"] { XCTAssertTrue(json.contains(field), json) }

        XCTAssertNil(joint.problem)
        let file = try NTidigitsFile.open(root.appendingPathComponent("n-tidigits.hdf5"))
        let summary = DatasetInspector.ntidigits(file)
        XCTAssertEqual(summary.train.samples, 11)
        XCTAssertEqual(summary.train.perClass["o"], 1)
        XCTAssertEqual(summary.test.perClass["z"], 2)
    }

    /// An ON event at (2, 0) and an OFF event at (0, 3) on a 4×4 sensor, pixelScale 5: the
    /// panel starts at (8, 8) (gap), so the ON block covers x 18…22, y 8…12 (top row: upright),
    /// the OFF block x 8…12, y 23…27.
    func testDVSPictureColoursAndOrientation() {
        let events = DVSEvents(sensor: SensorSize(width: 4, height: 4), t: [0, 10], x: [2, 0], y: [0, 3], polarity: [1, 0])
        let c = EventRenderer.dvs(events, slices: 1, pixelScale: 5, saturation: 1)
        let on = c.pixel(20, 10), off = c.pixel(10, 25), empty = c.pixel(26, 26)
        XCTAssertGreaterThan(on.r, on.b, "ON is warm")
        XCTAssertGreaterThan(off.b, off.r, "OFF is blue")
        XCTAssertTrue(same(empty, EventRenderer.background))
        XCTAssertEqual(c.width, 4 * 5 + 2 * 8)
    }

    /// Channel 0 is drawn at the bottom of the plot, channel 63 at the top.
    func testCochleaRasterOrientation() {
        let events = CochleaEvents(t: [0, 1000], channel: [0, 63])
        let c = EventRenderer.cochlea(events, plotWidth: 100, rowHeight: 4)
        // Plot: left 56, top 14, 64·4 = 256 px tall, 100 px wide, 1 ms long.
        // Channel 0 at t = 0 → x = 56, rows 14 + 63·4 = 266…268 (bottom);
        // channel 63 at t = 1 ms → x = 56 + 1·98 = 154, rows 14…16 (top).
        let dot: RasterCanvas.Color = (255, 190, 60)
        XCTAssertTrue(same(c.pixel(56, 267), dot))
        XCTAssertTrue(same(c.pixel(154, 15), dot))
        XCTAssertFalse(same(c.pixel(154, 267), dot))
        XCTAssertFalse(same(c.pixel(56, 15), dot))
    }
}
