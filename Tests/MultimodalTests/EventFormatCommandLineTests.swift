import EventIO
import Foundation
import XCTest

/// `spikefuse inspect` and `render` on AEDAT 3.1 / 4.0 files and a DVS128 Gesture folder.
final class EventFormatCommandLineTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("EventIOTests/Fixtures")

    func json(_ arguments: [String]) throws -> [String: Any] {
        let r = try runSpikefuse(arguments)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    func testInspectAndRenderAEDAT4AndAEDAT31Files() throws {
        let zstd = try json(["inspect", Self.fixtures.appendingPathComponent("aedat4/zstd.aedat4").path, "--json"])
        XCTAssertEqual(zstd["format"] as? String, "AEDAT 4.0")
        XCTAssertEqual(zstd["sensor"] as? String, "346x260")
        XCTAssertEqual(zstd["events"] as? Int, 1500)
        let v31 = try json(["inspect", Self.fixtures.appendingPathComponent("aedat31/davis346.aedat").path, "--json"])
        XCTAssertEqual(v31["format"] as? String, "AEDAT 3.1")
        XCTAssertEqual(v31["sensor"] as? String, "346x260")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("render-\(UUID()).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try runSpikefuse(["render", Self.fixtures.appendingPathComponent("aedat4/lz4.aedat4").path, "--out", out.path, "--scale", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.path))
        // A cut file: an error naming it and the offset, no crash.
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(UUID()).aedat4")
        defer { try? FileManager.default.removeItem(at: cut) }
        try Data(try Data(contentsOf: Self.fixtures.appendingPathComponent("aedat4/none.aedat4")).prefix(2000)).write(to: cut)
        let bad = try runSpikefuse(["inspect", cut.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains(cut.path) && bad.stderr.contains("byte offset"), bad.stderr)
    }

    func testInspectGestureFolderGivesTheSplitPerClass() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gesture-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = ["user01_led": "1,0,10\r\n1,5,20\r\n11,30,40\r\n", "user02_lab": "3,0,10\r\n7,0,10\r\n"]
        for (trial, csv) in rows {
            try Data(("class,startTime_usec,endTime_usec\r\n" + csv).utf8).write(to: dir.appendingPathComponent(trial + "_labels.csv"))
        }
        try Data("user01_led.aedat\n".utf8).write(to: dir.appendingPathComponent("trials_to_train.txt"))
        try Data("user02_lab.aedat\n".utf8).write(to: dir.appendingPathComponent("trials_to_test.txt"))
        let s = try json(["inspect", dir.path, "--json"])
        XCTAssertEqual(s["format"] as? String, "DVS128 Gesture")
        XCTAssertEqual(s["train_per_class"] as? [Int], [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(s["test_per_class"] as? [Int], [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        XCTAssertEqual(s["train"] as? Int, 3)
        XCTAssertEqual(s["test"] as? Int, 2)
    }
}
