import XCTest
@testable import Multimodal

/// Dead output neurons (docs/results.md, item 8): evaluation names the classes whose output
/// neuron fired no spike on the whole set, and training records and warns about them.
final class SilentOutputTests: XCTestCase {
    /// Spike trains `[T=3, B=2, C=4]` where class 2 never fires: it is the only silent output,
    /// and the confusion matrix is still tallied from the spike counts.
    func testTallyNamesTheClassesThatNeverFired() {
        // t, b → spikes of classes 0…3
        let rows: [[Float]] = [[1, 0, 0, 0], [0, 1, 0, 0],
                               [1, 0, 0, 1], [0, 0, 0, 0],
                               [0, 0, 0, 0], [0, 1, 0, 0]]
        var tally = HeadTally(classes: 4)
        tally.add(spikes: Tensor(shape: [3, 2, 4], scalars: rows.flatMap { $0 }), labels: [0, 3])
        let result = tally.result
        XCTAssertEqual(result.silentOutputs, [2])
        XCTAssertEqual(result.confusion[0][0], 1)   // sample 0: counts (2, 0, 0, 1) → class 0
        XCTAssertEqual(result.confusion[3][1], 1)   // sample 1: counts (0, 2, 0, 0) → class 1
        XCTAssertEqual(result.accuracy, 50)
        XCTAssertEqual(HeadTally(classes: 4).result.silentOutputs, [], "an empty set names no class")
    }

    /// A concatenation network whose `fusion.fc2` bias for class 3 is pushed far below the
    /// threshold cannot fire for class 3: evaluation and the epoch metrics name it, and
    /// metrics.jsonl keeps it across a reload.
    func testTrainingRecordsADeadFusedOutputNeuron() throws {
        var data = SyntheticDatasetConfiguration()
        data.trainCount = 32; data.testCount = 20
        let train = SyntheticDataset(data, split: .train), test = SyntheticDataset(data, split: .test)
        var training = TrainingConfiguration()
        training.epochs = 1; training.batchSize = 16; training.seed = 2
        training.learningRate = 1e-6     // the bias stays where it was put
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: train.modelConfiguration(mode: .multimodalNoAttention), training: training,
                                  trainSet: train, testSet: test, runDirectory: dir)
        let bias = try XCTUnwrap(trainer.network.parameters.first { $0.name == "fusion.fc2.bias" })
        bias.value[flat: 3] = -1000
        let before = try evaluate(trainer.network, on: test, batchSize: 10)
        XCTAssertTrue(try XCTUnwrap(before.fusion).silentOutputs.contains(3))
        let metrics = try trainer.run()
        XCTAssertTrue(try XCTUnwrap(metrics.last?.silentOutputs).contains(3))
        XCTAssertEqual(try trainer.run.readMetrics().last?.silentOutputs, metrics.last?.silentOutputs)

        bias.value[flat: 3] = 1000       // now it fires at every step
        let after = try evaluate(trainer.network, on: test, batchSize: 10)
        XCTAssertFalse(try XCTUnwrap(after.fusion).silentOutputs.contains(3))
    }
}
