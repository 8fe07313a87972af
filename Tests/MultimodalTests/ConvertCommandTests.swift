import Foundation
import XCTest

/// `spikefuse convert`, `inspect --json` and `render` on event files of the registry's formats.
final class ConvertCommandTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EventIOTests/Fixtures/prophesee")

    func testConvertWritesTheIndependentDecodersCSV() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["evt2.raw", "evt21_legacy.raw", "evt3_wrap.raw", "cd.dat"] {
            let out = dir.appendingPathComponent(name + ".csv")
            let r = try runSpikefuse(["convert", Self.fixtures.appendingPathComponent(name).path, out.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try Data(contentsOf: out), try Data(contentsOf: Self.fixtures.appendingPathComponent(name + ".csv")), name)
        }
        let bad = try runSpikefuse(["convert", Self.fixtures.appendingPathComponent("evt3.raw").path])
        XCTAssertEqual(bad.status, 2)
        let truncated = dir.appendingPathComponent("cut.raw")
        let bytes = try Data(contentsOf: Self.fixtures.appendingPathComponent("evt3.raw"))
        try bytes.dropLast().write(to: truncated)
        let cut = try runSpikefuse(["convert", truncated.path, dir.appendingPathComponent("x.csv").path])
        XCTAssertEqual(cut.status, 1)
        XCTAssertTrue(cut.stderr.contains("\(truncated.path): truncated at byte offset \(bytes.count - 2)"), cut.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.csv").path))
    }

    func testInspectJSONAndRenderOfARAWFile() throws {
        let url = Self.fixtures.appendingPathComponent("evt3_wrap.raw")
        let r = try runSpikefuse(["inspect", url.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(o["format"] as? String, "Prophesee EVT 3.0 RAW")
        XCTAssertEqual(o["events"] as? Int, 600)
        XCTAssertEqual(o["width"] as? Int, 1280)
        XCTAssertEqual(o["height"] as? Int, 720)
        XCTAssertEqual(o["t_first_us"] as? Int, 16_776_652)   // the file's own clock, past the 2^24 wrap below
        XCTAssertEqual(o["t_last_us"] as? Int, 16_777_733)
        XCTAssertEqual((o["on"] as? Int ?? 0) + (o["off"] as? Int ?? 0), 600)
        let png = FileManager.default.temporaryDirectory.appendingPathComponent("render-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: png) }
        let drawn = try runSpikefuse(["render", Self.fixtures.appendingPathComponent("cd.dat").path, "--out", png.path])
        XCTAssertEqual(drawn.status, 0, drawn.stderr)
        XCTAssertEqual(Array(try Data(contentsOf: png).prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }
}
