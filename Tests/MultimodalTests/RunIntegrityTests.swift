import XCTest
@testable import Multimodal
@testable import AtomicFiles

/// Issue 40: runs that cannot be mixed. A second writer is refused; a resume keeps the run's
/// recorded settings and data; the final weights are verified and rewritten when stale;
/// 0 samples is an error, never a result.
final class RunIntegrityTests: XCTestCase {
    private func setup(epochs: Int = 3) -> (ModelConfiguration, TrainingConfiguration, SyntheticDataset, SyntheticDataset) {
        let (train, test, training) = syntheticTask(trainCount: 48, testCount: 16, epochs: epochs, batchSize: 16, seed: 7,
                                                   learningRate: 5e-3)
        return (train.modelConfiguration(mode: .audio), training, train, test)
    }

    private func tempDir() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sf-run-\(UUID())")
    }

    /// The tensors of a weights file, by name.
    private func weights(_ url: URL) throws -> [String: [Float]] {
        try SafeTensors.read(url).tensors.mapValues(\.scalars)
    }

    private func parameters(_ t: Trainer) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: t.network.namedTensors().map { ($0.name, $0.tensor.scalars) })
    }

    func testASecondWriterIsRefusedNamingTheDirectory() throws {
        let (model, training, train, test) = setup(epochs: 1)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var held: RunDirectoryLock? = try RunDirectory(dir).lock()
        XCTAssertNotNil(held)
        XCTAssertThrowsError(try RunDirectory(dir).lock()) { error in
            XCTAssertTrue("\(error)".contains(dir.path) && "\(error)".contains("another process"), "\(error)")
        }
        let t = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir)
        XCTAssertThrowsError(try t.run()) { error in
            XCTAssertTrue(error is RunDirectoryLocked, "\(error)")
            XCTAssertTrue("\(error)".contains(dir.path), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunDirectory(dir).configURL.path), "the refused run wrote nothing")
        held = nil
        _ = try t.run()          // released: the run proceeds
        XCTAssertNoThrow(try RunDirectory(dir).lock(), "the finished run released its lock")
    }

    /// A kill -9 right after the last checkpoint was renamed into place leaves the previous
    /// epoch's weights.safetensors (and weights.json). Resuming the complete run rewrites them.
    func testResumeRewritesStaleFinalWeightsAfterAKill() throws {
        let (model, training, train, test) = setup()
        let whole = tempDir(), killed = tempDir(), aside = tempDir()
        defer { for d in [whole, killed, aside] { try? FileManager.default.removeItem(at: d) } }
        let reference = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: whole)
        try reference.run()
        XCTAssertEqual(try weights(RunDirectory(whole).weightsURL), parameters(reference))

        let first = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: killed)
        let run = RunDirectory(killed)
        try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: true)
        first.onEpoch = { m in        // keep epoch 2's final files
            guard m.epoch == 2 else { return }
            for name in ["weights.safetensors", "weights.json"] where FileManager.default.fileExists(atPath: killed.appendingPathComponent(name).path) {
                try? FileManager.default.copyItem(at: killed.appendingPathComponent(name), to: aside.appendingPathComponent(name))
            }
        }
        try first.run()
        for name in try FileManager.default.contentsOfDirectory(atPath: aside.path) {   // as the kill left them
            try FileManager.default.removeItem(at: killed.appendingPathComponent(name))
            try FileManager.default.copyItem(at: aside.appendingPathComponent(name), to: killed.appendingPathComponent(name))
        }
        XCTAssertNotEqual(try weights(run.weightsURL), parameters(reference), "the stale file is epoch 2's")

        let resumed = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: killed)
        let metrics = try resumed.run(resume: true)
        XCTAssertEqual(metrics.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(try weights(run.weightsURL), parameters(reference), "resume rewrote the final weights")
        XCTAssertNil(run.weightsProblem(epoch: 3))
        XCTAssertEqual(try Checkpoint.read(run.weightsURL).epoch, 3)
    }

    /// A full disk while the last epoch's weights are written: the run fails naming the file;
    /// resume (which finds the run complete) writes them from the last checkpoint. A weights
    /// file damaged later is caught by its checksum the same way.
    func testResumeRewritesFinalWeightsAfterAFullDiskOrDamage() throws {
        let (model, training, train, test) = setup()
        let whole = tempDir(), full = tempDir()
        defer { for d in [whole, full] { try? FileManager.default.removeItem(at: d) } }
        let reference = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: whole)
        try reference.run()

        let first = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: full)
        var weightWrites = 0
        AtomicFile.injectedFailure = { url in
            guard url.lastPathComponent == "weights.safetensors" else { return nil }
            weightWrites += 1
            return weightWrites == 3 ? "No space left on device" : nil
        }
        defer { AtomicFile.injectedFailure = nil }
        XCTAssertThrowsError(try first.run()) { error in
            XCTAssertTrue("\(error)".contains("weights.safetensors") && "\(error)".contains("No space left"), "\(error)")
        }
        AtomicFile.injectedFailure = nil
        let run = RunDirectory(full)
        XCTAssertEqual(run.checkpointEpochs().last, 3, "the last checkpoint was written before the weights")
        XCTAssertNotEqual(try weights(run.weightsURL), parameters(reference))

        let resumed = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: full)
        try resumed.run(resume: true)
        XCTAssertEqual(try weights(run.weightsURL), parameters(reference), "resume wrote the final weights")

        var bytes = try Data(contentsOf: run.weightsURL)     // one flipped bit in a weight
        bytes[bytes.count - 3] ^= 0x04
        try bytes.write(to: run.weightsURL)
        XCTAssertNotNil(run.weightsProblem(epoch: 3))
        let again = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: full)
        try again.run(resume: true)
        XCTAssertEqual(try weights(run.weightsURL), parameters(reference), "resume rewrote the damaged weights")
    }

    /// Resuming with other training settings or another data source would mix two runs.
    func testResumeRefusesOtherTrainingSettingsOrData() throws {
        let (model, training, train, test) = setup(epochs: 1)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = DataSource.synthetic(SyntheticDatasetConfiguration()).jsonString()
        try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir,
                    dataDescription: ["source": source]).run()
        var other = training
        other.epochs = 2
        other.learningRate = 0.5
        let t1 = try Trainer(model: model, training: other, trainSet: train, testSet: test, runDirectory: dir,
                             dataDescription: ["source": source])
        XCTAssertThrowsError(try t1.run(resume: true)) { error in
            XCTAssertTrue("\(error)".contains("config.json: cannot resume") && "\(error)".contains("learningRate: 0.5 here"), "\(error)")
        }
        var data = SyntheticDatasetConfiguration()
        data.trainCount += 1
        var longer = training
        longer.epochs = 2
        let t2 = try Trainer(model: model, training: longer, trainSet: train, testSet: test, runDirectory: dir,
                             dataDescription: ["source": DataSource.synthetic(data).jsonString()])
        XCTAssertThrowsError(try t2.run(resume: true)) { error in
            XCTAssertTrue("\(error)".contains("data source differs"), "\(error)")
        }
        let t3 = try Trainer(model: model, training: longer, trainSet: train, testSet: test, runDirectory: dir,
                             dataDescription: ["source": source])
        XCTAssertEqual(try t3.run(resume: true).map(\.epoch), [1, 2], "more epochs are allowed")
    }

    func testZeroSamplesIsAnErrorNotARun() throws {
        let (model, training, _, test) = setup(epochs: 1)
        var none = SyntheticDatasetConfiguration()
        none.trainCount = 0
        none.testCount = 0
        let empty = SyntheticDataset(none, split: .train)
        XCTAssertEqual(empty.count, 0)
        XCTAssertThrowsError(try Trainer(model: model, training: training, trainSet: empty, testSet: test,
                                         runDirectory: tempDir())) { error in
            XCTAssertTrue("\(error)".contains("training set has 0 samples"), "\(error)")
        }
        let network = try MultimodalNetwork(model, seed: 1)
        XCTAssertThrowsError(try evaluate(network, on: SyntheticDataset(none, split: .test), batchSize: 8)) { error in
            XCTAssertTrue("\(error)".contains("0 samples"), "\(error)")
        }
    }
}
