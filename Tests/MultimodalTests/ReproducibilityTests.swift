import XCTest
@testable import Multimodal
@testable import AtomicFiles

/// Same seed → the same run bit for bit; a run killed mid-epoch and resumed → the same
/// metrics and weights as the uninterrupted run.
final class ReproducibilityTests: XCTestCase {
    private func setup(mode: TrainingMode = .multimodal) -> (ModelConfiguration, TrainingConfiguration, SyntheticDataset, SyntheticDataset) {
        let (train, test, training) = syntheticTask(trainCount: 96, testCount: 40, epochs: 3, batchSize: 16, seed: 11,
                                                   learningRate: 5e-3)
        return (train.modelConfiguration(mode: mode), training, train, test)
    }

    private func tempDir() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sf-\(UUID())")
    }

    func testSameSeedReproducesBitForBit() throws {
        let (model, training, train, test) = setup()
        let a = tempDir(), b = tempDir()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let t1 = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: a)
        let t2 = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: b)
        let m1 = try t1.run(), m2 = try t2.run()
        XCTAssertEqual(timeless(m1), timeless(m2))
        for (p, q) in zip(t1.network.parameters, t2.network.parameters) {
            XCTAssertEqual(p.value.scalars, q.value.scalars, "parameter \(p.name) differs between identical runs")
        }
        // Training changed the weights (the comparison above is not between two untouched inits).
        let fresh = try MultimodalNetwork(model, seed: training.seed)
        XCTAssertNotEqual(fresh.parameters[0].value.scalars, t1.network.parameters[0].value.scalars)
    }

    func testResumeAfterKillMidEpochMatchesUninterruptedRun() throws {
        let (model, training, train, test) = setup()
        let whole = tempDir(), killed = tempDir()
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: killed) }
        let reference = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: whole)
        let expected = try reference.run()

        // Kill in epoch 2 after 3 batches: epoch 1's checkpoint is the newest.
        let first = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: killed)
        var batches = 0
        first.shouldStop = { batches += 1; return batches == 6 + 3 }
        XCTAssertThrowsError(try first.run()) { XCTAssertTrue($0 is TrainingInterrupted, "\($0)") }
        XCTAssertEqual(try first.run.readMetrics().count, 1)

        let resumed = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: killed)
        let got = try resumed.run(resume: true)
        XCTAssertEqual(timeless(got), timeless(expected))
        for (p, q) in zip(reference.network.parameters, resumed.network.parameters) {
            XCTAssertEqual(p.value.scalars, q.value.scalars, "parameter \(p.name) differs after resume")
        }
        // The metrics file holds each epoch exactly once.
        XCTAssertEqual(try resumed.run.readMetrics().map(\.epoch), [1, 2, 3])
    }

    /// A disk that fills while epoch 2's checkpoint is written: the run stops with an error
    /// naming that file, epoch 1's checkpoint is intact, no temporary file is left, and
    /// `--resume` then gives the uninterrupted run's result. A temporary file left by a kill
    /// is removed by the resume.
    func testFullDiskLosesNoCheckpointAndResumeRecovers() throws {
        let (model, training, train, test) = setup()
        let whole = tempDir(), full = tempDir()
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: full) }
        let reference = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: whole)
        _ = try reference.run()

        let first = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: full)
        AtomicFile.injectedFailure = { $0.lastPathComponent == "epoch-0002.safetensors" ? "No space left on device" : nil }
        defer { AtomicFile.injectedFailure = nil }
        XCTAssertThrowsError(try first.run()) { error in
            XCTAssertTrue("\(error)".contains("epoch-0002.safetensors"), "\(error)")
            XCTAssertTrue("\(error)".contains("No space left"), "\(error)")
        }
        AtomicFile.injectedFailure = nil
        let run = RunDirectory(full)
        XCTAssertEqual(run.checkpointEpochs(), [1])
        XCTAssertEqual(try Checkpoint.read(run.checkpointURL(epoch: 1)).epoch, 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: run.checkpointFolder.path)
        XCTAssertFalse(names.contains { $0.contains(".tmp-") }, "\(names)")

        let stale = AtomicFile.temporaryURL(for: run.checkpointURL(epoch: 2))   // as a kill mid-write leaves
        try Data([1, 2, 3]).write(to: stale)
        let resumed = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: full)
        _ = try resumed.run(resume: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), "resume removes stale temporary files")
        for (p, q) in zip(reference.network.parameters, resumed.network.parameters) {
            XCTAssertEqual(p.value.scalars, q.value.scalars, "parameter \(p.name) differs after the full disk and resume")
        }
    }

    func testResumeWithoutCheckpointIsAClearError() throws {
        let (model, training, train, test) = setup()
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir)
        XCTAssertThrowsError(try t.run(resume: true)) { error in
            XCTAssertTrue("\(error)".contains("no checkpoint"), "\(error)")
        }
    }

    /// Resuming with other model settings (e.g. a forgotten data option) names each setting
    /// that differs, with both values.
    func testResumeWithOtherSettingsNamesWhatDiffers() throws {
        let (model, training, train, test) = setup(mode: .visual)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var short = training
        short.epochs = 1
        try Trainer(model: model, training: short, trainSet: train, testSet: test, runDirectory: dir).run()
        var other = model
        other.visualHidden = model.visualHidden + 3
        other.tauVisual = 0.25
        XCTAssertEqual(model.differences(from: model), [])
        let t = try Trainer(model: other, training: training, trainSet: train, testSet: test, runDirectory: dir)
        XCTAssertThrowsError(try t.run(resume: true)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("epoch-0001.safetensors: cannot resume"), text)
            XCTAssertTrue(text.contains("tau_visual: 0.25 here, 0.2 in the checkpoint; "
                                        + "visual_hidden: \(model.visualHidden + 3) here, \(model.visualHidden) in the checkpoint"), text)
        }
    }

    func testCheckpointRoundTripRestoresEverything() throws {
        let (model, training, train, test) = setup(mode: .multimodalNoAttention)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var short = training
        short.epochs = 1
        let t = try Trainer(model: model, training: short, trainSet: train, testSet: test, runDirectory: dir)
        try t.run()
        let c = try Checkpoint.read(t.checkpointURL(epoch: 1))
        XCTAssertEqual(c.configuration, model)
        XCTAssertEqual(c.epoch, 1)
        XCTAssertEqual(c.adamStep, 96 / 16)
        for p in t.network.parameters {
            XCTAssertEqual(c.tensors[p.name]?.scalars, p.value.scalars, p.name)
            XCTAssertNotNil(c.tensors["adam.m." + p.name], "no Adam state for \(p.name)")
        }
    }
}
