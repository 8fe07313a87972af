import XCTest
@testable import Multimodal

/// The `spikefuse` tool as a user meets it: errors are one clear line and a non-zero exit.
final class CommandLineTests: XCTestCase {
    private func assertOneLineError(_ r: ToolResult, mentions text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, "should fail", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line expected, got: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), "'\(text)' not in: \(r.stderr)", file: file, line: line)
    }

    func testUnknownModeIsOneClearLine() throws {
        assertOneLineError(try runSpikefuse(["train", "--mode", "trimodal", "--out", "/tmp/x"]), mentions: "unknown mode 'trimodal'")
    }

    func testMissingWeightsFileNamesTheFile() throws {
        let r = try runSpikefuse(["grad", "--weights", "/nonexistent/w.safetensors", "--inputs", "/nonexistent/x.safetensors",
                               "--out", "/tmp/g.safetensors"])
        assertOneLineError(r, mentions: "/nonexistent/w.safetensors")
    }

    func testUnknownOptionAndCommand() throws {
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--epoch", "3"]), mentions: "unknown option '--epoch'")
        let r = try runSpikefuse(["fly"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("unknown command 'fly'"))
    }

    /// Sample limits and learning rates that would crash or poison training are usage errors.
    func testBadLimitsAndLearningRatesAreOneClearLine() throws {
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--test-limit", "-1"]), mentions: "--test-limit must be at least 1")
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--train-limit", "0"]), mentions: "--train-limit must be at least 1")
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--lr", "0"]), mentions: "--lr must be positive")
        assertOneLineError(try runSpikefuse(["experiment", "--out", "/tmp/x", "--fault-limit", "-5"]), mentions: "--fault-limit must be at least 1")
        assertOneLineError(try runSpikefuse(["evaluate", "/tmp", "--limit", "0"]), mentions: "--limit must be at least 1")
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--readout", "dense"]),
                           mentions: "--readout must be neuron or integrator")
        assertOneLineError(try runSpikefuse(["experiment", "--out", "/tmp/x", "--config", "{\"attention_scale\": 2}"]),
                           mentions: "unknown setting attention_scale")
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--config", "/nonexistent/model.json"]),
                           mentions: "--config /nonexistent/model.json")
        // Options removed with the experiment knobs (issue 16) are unknown, not ignored.
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--fusion-loss", "ce"]),
                           mentions: "unknown option '--fusion-loss'")
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--lr-audio", "1e-4"]),
                           mentions: "unknown option '--lr-audio'")
        assertOneLineError(try runSpikefuse(["train", "--out", "/tmp/x", "--lr-schedule", "step"]),
                           mentions: "--lr-schedule must be cosine or constant")
    }

    /// `train --help` stays short: at most 26 options (25, and `--augment`; `--data DIR` finds
    /// SHD, SSC and the event-camera folders by their layout, and `--shd DIR` still works
    /// unlisted), none of the removed experiment knobs.
    func testTrainHelpListsAtMost25Options() throws {
        let r = try runSpikefuse(["train", "--help"])
        XCTAssertEqual(r.status, 0)
        let regex = try NSRegularExpression(pattern: "--[a-z][a-z-]*")
        let options = Set(regex.matches(in: r.stdout, range: NSRange(r.stdout.startIndex..., in: r.stdout))
            .map { String(r.stdout[Range($0.range, in: r.stdout)!]) })
        XCTAssertLessThanOrEqual(options.count, 26, options.sorted().joined(separator: " "))
        XCTAssertTrue(options.contains("--readout") && options.contains("--config"))
        XCTAssertFalse(options.contains("--attention-scale"))
    }

    func testWrongInputShapeInGradIsReported() throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let x = FileManager.default.temporaryDirectory.appendingPathComponent("x-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: x) }
        try SafeTensors.write([("visual_input", Tensor(zeros: [3, 12, 2, 27, 27])),
                               ("audio_input", Tensor(zeros: [3, 12, 64])),
                               ("labels", Tensor(zeros: [3]))], to: x)
        let r = try runSpikefuse(["grad", "--weights", dir.appendingPathComponent("golden_weights.safetensors").path,
                               "--inputs", x.path, "--out", "/tmp/g-unused.safetensors"])
        assertOneLineError(r, mentions: "'visual_input' has shape [3, 12, 2, 27, 27]")
    }
}

/// `spikefuse synth` writes a folder that `spikefuse inspect` (and the loaders behind it) read
/// as a joint MNIST-DVS + N-TIDIGITS dataset.
final class SynthInspectTests: XCTestCase {
    func testSynthesisedFolderInspectsAsAJointDataset() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let synth = try runSpikefuse(["synth", "--out", dir.path, "--pairs", "30", "--seed", "3"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let r = try runSpikefuse(["inspect", dir.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        // 30 pairs = 3 per digit: ⌈3/2⌉ = 2 per class train, 1 test.
        XCTAssertEqual(object["train"] as? Int, 20, r.stdout)
        XCTAssertEqual(object["test"] as? Int, 10, r.stdout)
        XCTAssertNotNil(object["classes"], r.stdout)
        let file = try runSpikefuse(["inspect", dir.appendingPathComponent("grabbed_data7/scale4/mnist_7_scale04_0001.aedat").path, "--json"])
        let fileObject = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(file.stdout.utf8)) as? [String: Any], file.stdout)
        XCTAssertEqual(fileObject["format"] as? String, "AEDAT 2.0 (DVS128)")
        XCTAssertGreaterThan(fileObject["events"] as? Int ?? 0, 1000)
        XCTAssertEqual(fileObject["label"] as? String, "7")
    }
}
