import XCTest
@testable import Multimodal
import TensorBoardEvents

/// RUN_DIR/tb (issue 44): every epoch's metrics as TensorBoard scalars, each exactly once,
/// also after a run killed mid-epoch and resumed, or resumed from an older checkpoint.
final class TensorBoardLogTests: XCTestCase {
    private func setup() -> (ModelConfiguration, TrainingConfiguration, SyntheticDataset, SyntheticDataset) {
        let (train, test, training) = syntheticTask(trainCount: 96, testCount: 40, epochs: 3, batchSize: 16, seed: 11,
                                                   learningRate: 5e-3)
        return (train.modelConfiguration(mode: .multimodal), training, train, test)
    }

    private func tempDir() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("sf-tb-\(UUID())") }

    /// (step, tag, value) of every scalar but the timing one, in file order: what TensorBoard plots.
    private func points(_ events: [TensorBoardEvent]) -> [String] {
        events.flatMap { e in e.scalars.filter { $0.tag != "samples_per_second" }.map { "\(e.step) \($0.tag) \($0.value)" } }
    }

    func testRunLogsEveryMetricOnceInOneFile() throws {
        let (model, training, train, test) = setup()
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir)
        trainer.lossLogInterval = 4
        let metrics = try trainer.run()
        let log = TensorBoardLog(trainer.run)
        XCTAssertEqual(log.eventFiles().count, 1)
        let events = try log.read()
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
        // What was appended during the run is exactly what metrics.jsonl derives, wall times included.
        XCTAssertEqual(Array(events.dropFirst()), try trainer.run.readMetrics().flatMap(TensorBoardLog.events(of:)))
        // 6 batches an epoch, logged after batches 4 and 6: steps 4, 6, 10, 12, 16, 18.
        let batchSteps = events.filter { $0.scalars.first?.tag == "batch/loss/audio" }.map(\.step)
        XCTAssertEqual(batchSteps, [4, 6, 10, 12, 16, 18])
        let last = try XCTUnwrap(metrics.last)
        let epoch3 = try XCTUnwrap(events.last { $0.step == 3 && $0.scalars.contains { $0.tag == "learning_rate" } })
        var tags: [String: Float] = [:]
        for s in epoch3.scalars { tags[s.tag] = s.value }
        XCTAssertEqual(tags["accuracy/test/fusion"], Float(try XCTUnwrap(last.testFusion)))
        XCTAssertEqual(tags["loss/train/total"], Float(try XCTUnwrap(last.trainLoss["total"])))
        XCTAssertEqual(tags["attention/w_a"], Float(try XCTUnwrap(last.attention?[1])))
        XCTAssertEqual(tags["learning_rate"], Float(training.learningRate * training.learningRateSchedule.factor(epoch: 3, of: 3)))
        for a in try XCTUnwrap(last.activity) {
            XCTAssertEqual(tags["firing_rate/" + a.layer], Float(a.firingRate), a.layer)
            XCTAssertEqual(tags["never_firing/" + a.layer], Float(a.silentFraction), a.layer)
        }
        for (layer, norm) in try XCTUnwrap(last.gradientNorms) { XCTAssertEqual(tags["gradient_norm/" + layer], Float(norm)) }
        XCTAssertNotNil(last.confusion?["fusion"], "the epoch records the confusion the report draws")
    }

    /// Killed in epoch 2 after its first batch losses were logged, then resumed; then resumed
    /// again from epoch 2's checkpoint after epoch 3 finished: each time the log equals the
    /// uninterrupted run's, with no event of an epoch after the checkpoint left twice.
    func testResumedRunLogsWhatAnUninterruptedRunLogs() throws {
        let (model, training, train, test) = setup()
        let whole = tempDir(), killed = tempDir()
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: killed) }
        let reference = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: whole)
        reference.lossLogInterval = 2
        try reference.run()
        let expected = points(try TensorBoardLog(reference.run).read())

        let first = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: killed)
        first.lossLogInterval = 2
        var batches = 0
        first.shouldStop = { batches += 1; return batches == 6 + 5 }
        XCTAssertThrowsError(try first.run()) { XCTAssertTrue($0 is TrainingInterrupted, "\($0)") }
        let orphaned = try TensorBoardLog(first.run).read().filter { $0.step == 8 && $0.scalars.first?.tag.hasPrefix("batch/") == true }
        XCTAssertEqual(orphaned.count, 1, "the killed epoch's batch losses were logged live")

        func resume() throws -> [String] {
            let t = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: killed)
            t.lossLogInterval = 2
            try t.run(resume: true)
            XCTAssertEqual(TensorBoardLog(t.run).eventFiles().count, 1)
            return points(try TensorBoardLog(t.run).read())
        }
        XCTAssertEqual(try resume(), expected)
        try FileManager.default.removeItem(at: RunDirectory(killed).checkpointURL(epoch: 3))
        XCTAssertEqual(try resume(), expected)
    }
}
