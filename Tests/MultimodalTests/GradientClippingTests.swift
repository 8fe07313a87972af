import XCTest
@testable import Multimodal

final class GradientClippingTests: XCTestCase {
    /// Hand-worked: gradients (3) and (4, 0) have global norm √(9 + 16) = 5. Clipping to 1
    /// scales every entry by 1/(5 + 1e-6) (PyTorch's epsilon): 3 → 0.6, 4 → 0.8; clipping to
    /// 10 leaves them untouched.
    func testClipsToTheGlobalNormAcrossParameters() {
        let a = Parameter(name: "a", value: Tensor(zeros: [1])), b = Parameter(name: "b", value: Tensor(zeros: [2]))
        a.grad = Tensor(shape: [1], scalars: [3]); b.grad = Tensor(shape: [2], scalars: [4, 0])
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 10), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad.scalars, [3]); XCTAssertEqual(b.grad.scalars, [4, 0])
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad.scalars[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(b.grad.scalars[0], 0.8, accuracy: 1e-6)
        XCTAssertEqual(b.grad.scalars[1], 0)
    }

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
