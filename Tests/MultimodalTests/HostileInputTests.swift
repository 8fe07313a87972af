import XCTest
@testable import Multimodal

/// Inputs that once passed as data (issue 18): non-finite weights, float labels, an empty
/// batch, a checkpoint with a bad config. Each is one error naming the file and the thing.
final class HostileInputTests: XCTestCase {
    /// Data with more classes than the network has outputs is refused before training or
    /// evaluation (a label past the output width would index outside the one-hot target).
    func testMoreClassesThanOutputsIsRefused() throws {
        var data = SyntheticDatasetConfiguration()
        data.trainCount = 8; data.testCount = 8; data.classes = 12
        let train = SyntheticDataset(data, split: .train), test = SyntheticDataset(data, split: .test)
        var model = train.modelConfiguration(mode: .visual)
        model.classes = 10
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-classes-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try Trainer(model: model, training: TrainingConfiguration(), trainSet: train, testSet: test,
                                         runDirectory: dir)) {
            XCTAssertTrue("\($0)".contains("training set has 12 classes, the model 10 outputs"), "\($0)")
        }
        XCTAssertThrowsError(try evaluate(try MultimodalNetwork(model, seed: 1), on: test, batchSize: 4)) {
            XCTAssertTrue("\($0)".contains("12 classes, the network 10 outputs"), "\($0)")
        }
    }

    private func smallConfiguration() -> ModelConfiguration {
        var c = ModelConfiguration()
        c.timesteps = 4; c.imageSize = 8; c.visualChannels = [2, 2]; c.visualHidden = 8
        c.audioChannels = 6; c.audioHidden = 8; c.fusionHidden = 4
        return c
    }

    func testNonFiniteWeightsAreRefusedNamingTheTensorAndNothingLoads() throws {
        let network = try MultimodalNetwork(smallConfiguration(), seed: 1)
        var tensors = Dictionary(uniqueKeysWithValues: network.namedTensors().map { ($0.name, $0.tensor) })
        let before = network.parameters.map(\.value)
        for bad in [Float.nan, .infinity] {
            var t = try XCTUnwrap(tensors["audio.rec2.weight"])
            t.scalars[5] = bad
            tensors["audio.rec2.weight"] = t
            XCTAssertThrowsError(try network.load(tensors, source: "w.safetensors")) { error in
                guard case let .nonFinite(source, name, index, value)? = error as? WeightsError else { return XCTFail("\(error)") }
                XCTAssertEqual([source, name], ["w.safetensors", "audio.rec2.weight"])
                XCTAssertEqual(index, 5)
                XCTAssertEqual(value.isNaN, bad.isNaN)
                XCTAssertTrue("\(error)".contains("w.safetensors") && "\(error)".contains("audio.rec2.weight"))
            }
        }
        XCTAssertEqual(network.parameters.map(\.value), before, "a refused file loads nothing")
    }

    func testGradRefusesFloatLabelsEmptyBatchesAndNonFiniteInputs() throws {
        let c = smallConfiguration()
        let network = try MultimodalNetwork(c, seed: 1)
        let weights = Dictionary(uniqueKeysWithValues: network.namedTensors().map { ($0.name, $0.tensor) })
        func inputs(labels: [Float], visualValue: Float = 0) -> [String: Tensor] {
            let b = labels.count
            return ["labels": Tensor(shape: [b], scalars: labels),
                    "visual_input": Tensor(repeating: visualValue, shape: [b, c.timesteps] + c.visualFrameShape),
                    "audio_input": Tensor(zeros: [b, c.timesteps, c.audioChannels])]
        }
        func failure(_ x: [String: Tensor]) -> String {
            do {
                _ = try GradientReport.compute(configuration: c, weights: weights, weightsSource: "w", inputs: x, inputsSource: "x.safetensors")
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertEqual(failure(inputs(labels: [1, 2])), "", "a valid batch computes")
        XCTAssertTrue(failure(inputs(labels: [1.5])).contains("labels must be integers"), failure(inputs(labels: [1.5])))
        XCTAssertTrue(failure(inputs(labels: [])).contains("empty"), failure(inputs(labels: [])))
        XCTAssertTrue(failure(inputs(labels: [10])).contains("labels must be integers"))
        let nan = failure(inputs(labels: [1], visualValue: .nan))
        XCTAssertTrue(nan.contains("x.safetensors") && nan.contains("visual_input"), nan)
    }

    func testCheckpointWithABadConfigNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-config-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write([("x", Tensor(zeros: [1]))], metadata: ["config": "{\"audio_hidden\": \"wide\"}"], to: url)
        XCTAssertThrowsError(try Checkpoint.read(url)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("config"), "\(error)")
        }
    }
}
