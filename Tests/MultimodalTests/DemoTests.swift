import XCTest
@testable import Multimodal

/// `spikefuse demo` end to end on a tiny default set: synthesis → joint dataset → training →
/// pictures → summary; a second run reuses the data and continues the run.
final class DemoTests: XCTestCase {
    func testTinyDemoRunsEndToEndAndResumes() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let env = ["XDG_CACHE_HOME": tmp.appendingPathComponent("cache").path]
        let out = tmp.appendingPathComponent("run").path
        let first = try runSpikefuse(["demo", "--pairs", "20", "--epochs", "1", "--out", out], environment: env)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("synthesising the embedded default dataset"), first.stdout)
        XCTAssertTrue(first.stdout.contains("fused (attention)"), first.stdout)
        for picture in ["visual-sample.png", "audio-sample.png", "accuracy.svg"] {
            let path = out + "/pictures/" + picture
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            XCTAssertGreaterThan(size, 100, "\(picture) missing or empty")
        }
        XCTAssertTrue(first.stdout.contains("report:        \(out)/report.html"), first.stdout)
        let report = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(report.contains("One test sample through the network") && !report.contains("Not drawn"), "the demo's report is whole")
        XCTAssertEqual(TensorBoardLog(RunDirectory(URL(fileURLWithPath: out))).eventFiles().count, 1)
        let metrics = try readMetricsLines(try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8), source: "m")
        XCTAssertEqual(metrics.map(\.epoch), [1])
        XCTAssertNotNil(metrics[0].testFusion)

        let second = try runSpikefuse(["demo", "--pairs", "20", "--epochs", "2", "--out", out], environment: env)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertFalse(second.stdout.contains("synthesising"), "the default set is cached")
        let after = try readMetricsLines(try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8), source: "m")
        XCTAssertEqual(after.map(\.epoch), [1, 2], "the second run continues the first")
        XCTAssertEqual(after[0], metrics[0])
    }
}
