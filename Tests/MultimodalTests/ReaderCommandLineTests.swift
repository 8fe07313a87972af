import XCTest
import Foundation
@testable import Multimodal

/// `render` and `inspect` on hostile N-MNIST and SHD files (issue 40): each was a trap
/// (exit 132), a negative duration, a silent 1 for a label of 1.5, or a one-minute wait for
/// "corrupt". Now each is one error naming the file, exit 1, at once.
final class ReaderCommandLineTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EventIOTests/Fixtures")

    private func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("readers-cli-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testNMNISTWithBackwardsTimestampsIsAnErrorForRenderAndInspect() throws {
        let dir = try folder()
        let back = dir.appendingPathComponent("back.bin")
        try Data([1, 1, 0x80, 0x00, 200,   2, 2, 0x00, 0x00, 100,   3, 3, 0x80, 0x01, 0x00]).write(to: back)
        for picture in ["out.png", "out.svg"] {
            let r = try runSpikefuse(["render", back.path, "--out", dir.appendingPathComponent(picture).path, "--slices", "3"])
            XCTAssertEqual(r.status, 1, "\(picture): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(back.path) && r.stderr.contains("byte offset 5"), r.stderr)
        }
        let inspect = try runSpikefuse(["inspect", back.path, "--json"])
        XCTAssertEqual(inspect.status, 1, inspect.stdout)
        XCTAssertFalse(inspect.stdout.contains("\"duration_us\":-"), inspect.stdout)
        XCTAssertTrue(inspect.stderr.contains("backwards"), inspect.stderr)

        // Random bytes with in-range coordinates: an error or a picture, never a trap.
        var rng = SeededGenerator(seed: 7)
        for k in 0..<5 {
            var bytes: [UInt8] = []
            for _ in 0..<300 {
                bytes += [UInt8(rng.nextInt(below: 34)), UInt8(rng.nextInt(below: 34))] + (0..<3).map { _ in UInt8(rng.nextInt(below: 256)) }
            }
            let url = dir.appendingPathComponent("random\(k).bin")
            try Data(bytes).write(to: url)
            let r = try runSpikefuse(["render", url.path, "--out", dir.appendingPathComponent("r\(k).svg").path])
            XCTAssertTrue(r.status == 0 || r.status == 1, "exit \(r.status): \(r.stderr)")
            if r.status == 1 { XCTAssertTrue(r.stderr.contains(url.path), r.stderr) }
        }
    }

    func testSHDSampleWithUnsortedTimesIsAnErrorForRenderAndInspect() throws {
        let dir = try folder()
        let url = fixtures.appendingPathComponent("shd-unsorted-times.h5")
        let bad = try runSpikefuse(["render", url.path, "--key", "1", "--out", dir.appendingPathComponent("s.png").path])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains(url.path) && bad.stderr.contains("sample 1"), bad.stderr)
        let good = try runSpikefuse(["render", url.path, "--key", "0", "--out", dir.appendingPathComponent("s.svg").path])
        XCTAssertEqual(good.status, 0, good.stderr)
        let inspect = try runSpikefuse(["inspect", url.path, "--key", "1"])
        XCTAssertEqual(inspect.status, 1, inspect.stdout)
        XCTAssertFalse(inspect.stdout.contains("duration  -"), inspect.stdout)
    }

    func testSHDFloatLabelAndDamagedHeapAreErrorsAtOnce() throws {
        let label = fixtures.appendingPathComponent("shd-float-label.h5")
        let r = try runSpikefuse(["inspect", label.path])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains(label.path) && r.stderr.contains("sample 1") && r.stderr.contains("1.5"), r.stderr)

        let heap = fixtures.appendingPathComponent("shd-heap-zeroed-objects.h5")
        let start = Date()
        let h = try runSpikefuse(["inspect", heap.path], environment: ["SPIKEFUSE_HDF5_CHECK_SECONDS": "60"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "not the child check's 60 s limit")
        XCTAssertEqual(h.status, 1, h.stdout)
        XCTAssertTrue(h.stderr.contains(heap.path) && h.stderr.contains("sample 0") && h.stderr.contains("corrupt"), h.stderr)
    }

    func testInspectShowsSSCClassNamesAndNCaltech101Folders() throws {
        let ssc = try runSpikefuse(["inspect", fixtures.appendingPathComponent("ssc-h5py.h5").path])
        XCTAssertEqual(ssc.status, 0, ssc.stderr)
        XCTAssertTrue(ssc.stdout.contains("SSC") && ssc.stdout.contains("35 classes") && ssc.stdout.contains("34 zero:1"), ssc.stdout)

        let dir = try folder()
        for name in ["cup", "Faces_easy"] {
            let classFolder = dir.appendingPathComponent("Caltech101/\(name)")
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            try Data([200, 170, 0x80, 0, 1]).write(to: classFolder.appendingPathComponent("image_0001.bin"))
        }
        let f = try runSpikefuse(["inspect", dir.path, "--json"])
        XCTAssertEqual(f.status, 0, f.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(f.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["class_names"] as? [String], ["Faces_easy", "cup"])
        XCTAssertEqual(object["per_class"] as? [Int], [1, 1])
        let file = dir.appendingPathComponent("Caltech101/cup/image_0001.bin")
        let one = try runSpikefuse(["inspect", file.path])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("N-Caltech101") && one.stdout.contains("240x180") && one.stdout.contains("cup"), one.stdout)
        let png = dir.appendingPathComponent("cup.png")
        XCTAssertEqual(try runSpikefuse(["render", file.path, "--out", png.path]).status, 0)
    }
}
