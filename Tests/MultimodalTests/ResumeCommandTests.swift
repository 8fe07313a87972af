import XCTest
import Foundation
@testable import Multimodal

/// Issue 40 at the command line: `train --resume` keeps the run's recorded data and settings,
/// refuses options that differ, and a second `train` on one `--out` is refused.
final class ResumeCommandTests: XCTestCase {
    private let quick = ["--synthetic", "--mode", "audio", "--train-limit", "32", "--test-limit", "16",
                         "--batch-size", "16", "--cache", "none"]

    private func tempDir() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sf-resume-\(UUID())")
    }

    /// Before: `train --out RUN --resume` without data options trained on the default dataset
    /// and rewrote config.json. Now it continues on the recorded (synthetic) data and seed.
    func testResumeWithoutDataOptionsContinuesOnTheRecordedData() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try runSpikefuse(["train", "--out", dir.path, "--epochs", "1", "--seed", "5"] + quick.filter { $0 != "--cache" && $0 != "none" })
        XCTAssertEqual(first.status, 0, first.stderr)
        let recorded = try RunDirectory(dir).readConfiguration()
        let resumed = try runSpikefuse(["train", "--out", dir.path, "--resume", "--epochs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("training audio"), resumed.stdout)
        let after = try RunDirectory(dir).readConfiguration()
        XCTAssertEqual(after.data, recorded.data, "the recorded data source is kept")
        XCTAssertEqual(after.model, recorded.model)
        XCTAssertEqual(after.training.seed, 5)
        XCTAssertEqual(after.training.epochs, 2)
        XCTAssertEqual(try RunDirectory(dir).readMetrics().map(\.epoch), [1, 2])
    }

    func testResumeRefusesConflictingOptionsWithTheReason() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try runSpikefuse(["train", "--out", dir.path, "--epochs", "1"] + quick).status, 0)
        let before = try Data(contentsOf: RunDirectory(dir).configURL)
        for (options, reason) in [(["--lr", "0.5"], "learningRate: 0.5 here, 0.001 recorded"),
                                  (["--mode", "visual"], "mode: \"visual\" here, \"audio\" in config.json"),
                                  (["--seed", "9"], "seed: 9 here, 1 recorded")] {
            let r = try runSpikefuse(["train", "--out", dir.path, "--resume"] + options)
            XCTAssertNotEqual(r.status, 0, "\(options)")
            XCTAssertTrue(r.stderr.contains(dir.path) && r.stderr.contains(reason), "\(options): \(r.stderr)")
        }
        XCTAssertEqual(try Data(contentsOf: RunDirectory(dir).configURL), before, "config.json untouched")
    }

    /// Two processes: this one holds the run directory's lock, a `train` on it is refused.
    func testASecondTrainOnOneOutIsRefused() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let held = try RunDirectory(dir).lock()
        let r = try runSpikefuse(["train", "--out", dir.path, "--epochs", "1"] + quick)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(dir.path) && r.stderr.contains("another process is writing"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunDirectory(dir).configURL.path))
        withExtendedLifetime(held) {}
    }
}

/// Issue 40: `evaluate` of weights whose membranes overflow printed an accuracy (spike
/// counts stay finite). It now reports the non-finite membranes and no accuracy.
final class EvaluateNonFiniteTests: XCTestCase {
    func testOverflowingMembranesAreReportedNotAnAccuracy() throws {
        let model = SyntheticDataset(SyntheticDatasetConfiguration(), split: .test).modelConfiguration(mode: .audio)
        let network = try MultimodalNetwork(model, seed: 1)
        let huge = network.namedTensors().map { (name: $0.name, tensor: Tensor(repeating: 3e38, shape: $0.tensor.shape)) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sf-huge-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(huge, metadata: ["config": model.jsonString(), "epoch": "1"], to: url)
        let r = try runSpikefuse(["evaluate", url.path, "--synthetic", "--limit", "16"])
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stderr.contains("non-finite membrane") && r.stderr.contains(url.path), r.stderr)
        XCTAssertFalse(r.stdout.contains("% correct"), r.stdout)
    }
}

/// Issue 40 at the command line: nothing empty or unmatched passes as a result.
final class EmptyAndMismatchedInputCommandTests: XCTestCase {
    private func tempDir() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sf-empty-\(UUID())")
    }

    /// A folder where every recording is unreadable trained on 0 samples and exited 0.
    func testAFolderOfUnreadableRecordingsIsAnError() throws {
        let data = tempDir(), run = tempDir()
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: run) }
        XCTAssertEqual(try runSpikefuse(["synth", "--out", data.path, "--pairs", "20"]).status, 0)
        let files = FileManager.default.enumerator(atPath: data.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".aedat") }
        XCTAssertEqual(files.count, 20)
        for f in files { try Data("garbage".utf8).write(to: data.appendingPathComponent(f)) }
        let r = try runSpikefuse(["train", "--data", data.path, "--out", run.path, "--epochs", "1", "--cache", "none"])
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stderr.contains("training set has 0 samples") && r.stderr.contains(data.path), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunDirectory(run).weightsURL.path))
    }

    /// `import visual.nir --check IO` with a 28×28 input for a 32×32 network trapped.
    func testImportCheckWithAnotherInputShapeNamesBothShapes() throws {
        let dir = tempDir()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = ModelConfiguration()
        model.mode = .visual; model.timesteps = 4; model.visualChannels = [2, 2]; model.visualHidden = 8; model.imageSize = 32
        let network = try MultimodalNetwork(model, seed: 1)
        let weights = dir.appendingPathComponent("w.safetensors"), nir = dir.appendingPathComponent("visual.nir")
        try SafeTensors.write(network.namedTensors(), metadata: ["config": model.jsonString(), "epoch": "1"], to: weights)
        let export = try runSpikefuse(["export", weights.path, "--nir", nir.path])
        XCTAssertEqual(export.status, 0, export.stderr)
        let io = dir.appendingPathComponent("io.safetensors")
        try SafeTensors.write([("input", Tensor(zeros: [4, 2, 2, 28, 28])), ("spikes", Tensor(zeros: [4, 2, 10]))],
                              metadata: [:], to: io)
        let r = try runSpikefuse(["import", nir.path, "--check", io.path])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("[4, 2, 2, 28, 28]") && r.stderr.contains("[2, 32, 32]") && r.stderr.contains(io.path), r.stderr)
    }
}
