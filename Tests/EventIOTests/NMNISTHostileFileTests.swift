import XCTest
@testable import EventIO
import SpikeTensor

/// N-MNIST-format files that once trapped `render` or gave a negative duration (issue 40):
/// timestamps that go backwards and random bytes with in-range coordinates. The reader
/// refuses a backwards step naming the file and byte offset; the renderer no longer relies
/// on time order either. And N-Caltech101, the same format on a 240 × 180 box (issue 41).
final class NMNISTHostileFileTests: XCTestCase {
    /// Event 1 (byte offset 5) at 100 µs after event 0 at 200 µs.
    func testBackwardsTimestampIsAnErrorNamingFileAndOffset() throws {
        let bytes: [UInt8] = [1, 1, 0x80, 0x00, 200,   2, 2, 0x00, 0x00, 100,   3, 3, 0x80, 0x01, 0x00]
        XCTAssertThrowsError(try NMNIST.decode(bytes, source: "back.bin")) { error in
            guard case let .timestampJump(file, offset, detail)? = error as? EventIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "back.bin"); XCTAssertEqual(offset, 5)
            XCTAssertTrue(detail.contains("100 µs") && detail.contains("200 µs"), detail)
        }
        // Equal timestamps are in order.
        let equal: [UInt8] = [1, 1, 0x80, 0x00, 200,   2, 2, 0x00, 0x00, 200]
        XCTAssertEqual(try NMNIST.decode(equal, source: "equal.bin").t, [200, 200])
        // The writer refuses what the reader would refuse.
        let e = DVSEvents(sensor: NMNIST.sensor, t: [5, 4], x: [0, 0], y: [0, 0], polarity: [1, 1])
        XCTAssertThrowsError(try NMNIST.encode(e)) { XCTAssertTrue("\($0)".contains("earlier"), "\($0)") }
    }

    /// Random bytes with in-range coordinates: an error (or, if in order by chance, events
    /// whose duration is ≥ 0); never a trap. 200 seeds.
    func testRandomInRangeBytesAreErrorsOrOrderedEvents() throws {
        var rng = SeededGenerator(seed: 40)
        var refused = 0
        for _ in 0..<200 {
            let n = 1 + rng.nextInt(below: 50)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                bytes += [UInt8(rng.nextInt(below: 34)), UInt8(rng.nextInt(below: 34))]
                bytes += (0..<3).map { _ in UInt8(rng.nextInt(below: 256)) }
            }
            do {
                let events = try NMNIST.decode(bytes, source: "random.bin")
                XCTAssertGreaterThanOrEqual(events.durationMicroseconds, 0)
                XCTAssertEqual(events.t, events.t.sorted())
            } catch let error as EventIOError {
                refused += 1
                XCTAssertTrue(error.description.contains("random.bin"), error.description)
            }
        }
        XCTAssertGreaterThan(refused, 100, "most random files go backwards somewhere")
    }

    /// Events out of time order (as a caller may build them) draw without a trap, every
    /// event in a slice: the slices span the earliest to the latest event.
    func testRendererDoesNotRelyOnTimeOrder() {
        let e = DVSEvents(sensor: NMNIST.sensor, t: [500, 100, 900, 0], x: [1, 2, 3, 4], y: [1, 2, 3, 4], polarity: [1, 0, 1, 0])
        let canvas = EventRenderer.dvs(e, slices: 4, pixelScale: 1)
        XCTAssertGreaterThan(canvas.width, 0)
        XCTAssertTrue(EventRenderer.dvsSVG(e).contains("<rect"))
        let c = CochleaEvents(channelCount: 700, t: [300_000, 100_000, 0], channel: [1, 2, 3])
        XCTAssertGreaterThan(EventRenderer.cochlea(c).width, 0)
        XCTAssertTrue(EventRenderer.cochleaSVG(c).contains("<path"))
        // A box wholly outside the canvas draws nothing (it used to make an invalid range).
        var raster = RasterCanvas(width: 10, height: 10, background: (0, 0, 0))
        raster.fill(x: -50, y: 20, w: 3, h: 3, (255, 255, 255))
        raster.fill(x: 20, y: -50, w: 3, h: 3, (255, 255, 255))
        XCTAssertEqual(raster.pixel(0, 0).r, 0)
    }

    /// Class folders sorted by name give the labels; coordinates up to 239 × 179 read,
    /// x = 240 is an error naming the file and offset.
    func testNCaltech101FolderAndBox() throws {
        let root = try temporaryFolder(self)
        let classes = root.appendingPathComponent("Caltech101")
        var written: [String: DVSEvents] = [:]
        for (k, name) in ["airplanes", "BACKGROUND_Google", "ant"].enumerated() {
            let folder = classes.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 1...(k + 1) {
                let e = DVSEvents(sensor: NCaltech101.sensor, t: [0, 10, Int64(1000 * i)], x: [0, 239, UInt16(k)],
                                  y: [179, 0, UInt16(i)], polarity: [1, 0, 1])
                let url = folder.appendingPathComponent(String(format: "image_%04d.bin", i))
                try NCaltech101.write(e, to: url)
                written[url.path] = e
            }
        }
        try Data([1, 2, 3]).write(to: classes.appendingPathComponent("ant/notes.txt"))
        XCTAssertTrue(NCaltech101Layout.looksLikeNCaltech101(root))
        let layout = NCaltech101Layout(root: root)
        XCTAssertEqual(try layout.classNames(), ["BACKGROUND_Google", "airplanes", "ant"])
        let recordings = try layout.recordings()
        XCTAssertEqual(recordings.map(\.label), [0, 0, 1, 2, 2, 2])
        XCTAssertEqual(recordings.map(\.url.lastPathComponent).suffix(3), ["image_0001.bin", "image_0002.bin", "image_0003.bin"])
        for r in recordings {
            XCTAssertTrue(NCaltech101Layout.holds(r.url))
            XCTAssertEqual(try NCaltech101.read(r.url), written[r.url.path])
        }
        let counts = try DatasetInspector.ncaltech101Folder(root)
        XCTAssertEqual(counts.perClass, [2, 1, 3])
        XCTAssertEqual(try DatasetInspector.ncaltech101(recordings[0].url).label, "BACKGROUND_Google")

        let outside = classes.appendingPathComponent("ant/image_0009.bin")
        try Data([100, 10, 0x80, 0, 0,   240, 5, 0x80, 0, 1]).write(to: outside)
        XCTAssertThrowsError(try NCaltech101.read(outside)) { error in
            XCTAssertEqual((error as? EventIOError)?.file, outside.path)
            XCTAssertTrue("\(error)".contains("offset 5") && "\(error)".contains("240×180"), "\(error)")
        }
        // The same bytes are outside N-MNIST's 34 × 34 already at event 0 (x 100).
        XCTAssertThrowsError(try NMNIST.read(outside)) { XCTAssertTrue("\($0)".contains("offset 0"), "\($0)") }
        XCTAssertThrowsError(try NCaltech101Layout(root: try temporaryFolder(self)).recordings())
    }
}
