import XCTest
@testable import Multimodal

final class AudioLearningRateTests: XCTestCase {
    /// `audioLearningRate` applies to the `audio.*` parameters only: at 0 they keep their
    /// initial values through training while the visual and fusion parameters move.
    func testAudioLearningRateAppliesToTheAuditorySubnetworkOnly() throws {
        var data = SyntheticDatasetConfiguration()
        data.trainCount = 32; data.testCount = 16
        let train = SyntheticDataset(data, split: .train), test = SyntheticDataset(data, split: .test)
        var training = TrainingConfiguration()
        training.epochs = 1; training.batchSize = 16; training.seed = 5
        training.audioLearningRate = 0
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: train.modelConfiguration(mode: .multimodal), training: training,
                                  trainSet: train, testSet: test, runDirectory: dir)
        let before = Dictionary(uniqueKeysWithValues: trainer.network.parameters.map { ($0.name, $0.value.scalars) })
        try trainer.run()
        var movedOutsideAudio = 0
        for p in trainer.network.parameters {
            if p.name.hasPrefix("audio.") {
                XCTAssertEqual(p.value.scalars, before[p.name], "\(p.name) moved at lr 0")
            } else if p.value.scalars != before[p.name] {
                movedOutsideAudio += 1
            }
        }
        XCTAssertGreaterThan(movedOutsideAudio, 0)
        XCTAssertTrue(trainer.network.parameters.contains { $0.name.hasPrefix("audio.") })
    }
}

final class LearningRateScheduleTests: XCTestCase {
    /// Cosine over E = 4 epochs: ½(1 + cos(π·k/4)) for k = 0…3 = 1, 0.853553, 0.5, 0.146447
    /// (cos(π/4) = 0.707107, cos(3π/4) = −0.707107); constant is 1 throughout.
    func testCosineFactors() {
        let expected: [Float] = [1, 0.853553, 0.5, 0.146447]
        for (e, f) in expected.enumerated() {
            XCTAssertEqual(LearningRateSchedule.cosine.factor(epoch: e + 1, of: 4), f, accuracy: 1e-5)
            XCTAssertEqual(LearningRateSchedule.constant.factor(epoch: e + 1, of: 4), 1)
        }
    }
}
