import XCTest
@testable import Multimodal

/// The `spikefuse` tool as a user meets it: errors are one clear line and a non-zero exit.
final class CommandLineTests: XCTestCase {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    func spikefuse(_ arguments: [String]) throws -> Result {
        let tool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("spikefuse")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            throw XCTSkip("spikefuse binary not found at \(tool.path)")
        }
        let p = Process()
        p.executableURL = tool
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    private func assertOneLineError(_ r: Result, mentions text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, "should fail", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line expected, got: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), "'\(text)' not in: \(r.stderr)", file: file, line: line)
    }

    func testUnknownModeIsOneClearLine() throws {
        assertOneLineError(try spikefuse(["train", "--mode", "trimodal", "--out", "/tmp/x"]), mentions: "unknown mode 'trimodal'")
    }

    func testMissingWeightsFileNamesTheFile() throws {
        let r = try spikefuse(["grad", "--weights", "/nonexistent/w.safetensors", "--inputs", "/nonexistent/x.safetensors",
                               "--out", "/tmp/g.safetensors"])
        assertOneLineError(r, mentions: "/nonexistent/w.safetensors")
    }

    func testUnknownOptionAndCommand() throws {
        assertOneLineError(try spikefuse(["train", "--out", "/tmp/x", "--epoch", "3"]), mentions: "unknown option '--epoch'")
        let r = try spikefuse(["fly"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("unknown command 'fly'"))
    }

    func testWrongInputShapeInGradIsReported() throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let x = FileManager.default.temporaryDirectory.appendingPathComponent("x-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: x) }
        try SafeTensors.write([("visual_input", Tensor(zeros: [3, 12, 2, 27, 27])),
                               ("audio_input", Tensor(zeros: [3, 12, 64])),
                               ("labels", Tensor(zeros: [3]))], to: x)
        let r = try spikefuse(["grad", "--weights", dir.appendingPathComponent("golden_weights.safetensors").path,
                               "--inputs", x.path, "--out", "/tmp/g-unused.safetensors"])
        assertOneLineError(r, mentions: "'visual_input' has shape [3, 12, 2, 27, 27]")
    }
}
