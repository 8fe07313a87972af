import Foundation
import XCTest
@testable import Multimodal

/// The paper's networks come from the shipped description files, and a network described by a
/// user trains, checkpoints and reloads through the same code.
final class PaperNetworksTests: XCTestCase {
    /// With the default settings, the description is the shipped file unchanged (the file is
    /// the one place the structure is written; the settings only resize it).
    func testDefaultsAreTheShippedFiles() throws {
        for mode in TrainingMode.allCases {
            var c = ModelConfiguration()
            c.mode = mode
            let shipped = try PaperNetworks.shipped(mode)
            XCTAssertEqual(try PaperNetworks.description(c), shipped, "\(mode)")
            XCTAssertEqual(ModelConfiguration.mode(of: shipped), mode)
            XCTAssertEqual(try MultimodalNetwork(c, seed: 1).networkDescription, shipped)
        }
    }

    /// The paper's network built from its file has the checkpoint names and shapes of Table 1.
    func testPaperNetworkParameters() throws {
        let n = try MultimodalNetwork(ModelConfiguration(), seed: 1)
        let shapes = Dictionary(uniqueKeysWithValues: n.parameters.map { ($0.name, $0.value.shape) })
        XCTAssertEqual(n.parameters.count, 8 + 12 + 4)
        XCTAssertEqual(shapes["visual.conv1.weight"], [32, 2, 3, 3])
        XCTAssertEqual(shapes["visual.fc1.weight"], [128, 32 * 7 * 7])
        XCTAssertEqual(shapes["audio.rec1.weight"], [512, 64])
        XCTAssertEqual(shapes["audio.out.recurrent_weight"], [10, 10])
        XCTAssertEqual(shapes["fusion.hidden.weight"], [64, 20])
        XCTAssertEqual(shapes["fusion.attention.weight"], [2, 64])
    }

    /// Settings resize the file by role: channels, widths, input sizes and neurons.
    func testSettingsResizeTheFile() throws {
        var c = ModelConfiguration()
        c.visualChannels = [8, 16]
        c.visualHidden = 24
        c.audioHidden = 40
        c.imageSize = 16
        c.classes = 5
        c.tauAudio = 0.3
        let d = try PaperNetworks.description(c)
        let visual = try XCTUnwrap(d.branch(.dvs)), audio = try XCTUnwrap(d.branch(.cochlea))
        XCTAssertEqual(visual.input.shape, [2, 16, 16])
        XCTAssertEqual(try NetworkBuilder.shapes(of: visual, classes: 5), [[8, 16, 16], [8, 8, 8], [16, 8, 8], [16, 4, 4], [256], [24], [5]])
        XCTAssertEqual(try NetworkBuilder.shapes(of: audio, classes: 5), [[40], [40], [40], [5]])
        XCTAssertEqual(audio.neuron.tau, 0.3)
        c.visualChannels = [8, 16, 32]
        XCTAssertThrowsError(try PaperNetworks.description(c))
    }

    /// A described network of another geometry (5×5 stride-2 conv, max pooling, recurrent
    /// visual head) trains on the synthetic task, is saved with its description, and reloads
    /// from the checkpoint alone to the same outputs.
    func testDescribedNetworkTrainsAndReloads() throws {
        let d = NetworkDescription(name: "tiny", timesteps: 16, classes: 10, branches: [
            BranchDescription(name: "visual", input: InputDescription(modality: .dvs, shape: [2, 12, 12]),
                              neuron: NeuronDescription(tau: 0.2), layers: [
                .conv2d(name: "c1", channels: 16, kernel: 5, stride: 2, padding: 2), .lif(nil),
                .maxPool2d(kernel: 2), .flatten,
                .recurrent(name: "r", features: 64, neuron: nil),
                .linear(name: "out", features: 10), .lif(nil),
            ])])
        let model = try ModelConfiguration(network: d)
        XCTAssertEqual(model.mode, .visual)
        XCTAssertEqual(try ModelConfiguration.fromJSON(model.jsonString()), model)
        // A setting beside the network that contradicts it is refused, naming it.
        for extra in [#""mode": "audio""#, #""tau_visual": 0.5"#] {
            let text = "{" + extra + #", "network": "# + String(decoding: d.jsonData(), as: UTF8.self) + "}"
            XCTAssertThrowsError(try ModelConfiguration.fromJSON(text)) {
                XCTAssertTrue("\($0)".contains(String(extra.dropFirst().prefix { $0 != "\"" })), "\($0)")
            }
        }

        let (train, test, training) = syntheticTask(trainCount: 256, testCount: 128, epochs: 6, batchSize: 32, seed: 1,
                                                    learningRate: 3e-3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-described-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(model: model, training: training, trainSet: train, testSet: test, runDirectory: dir)
        let metrics = try trainer.run()
        let first = try XCTUnwrap(metrics.first?.trainLoss["total"]), last = try XCTUnwrap(metrics.last?.trainLoss["total"])
        XCTAssertLessThan(last, first, "the described network does not learn")
        XCTAssertGreaterThan(try XCTUnwrap(metrics.last?.testVisual), 30, "chance is 10 %")

        let checkpoint = try Checkpoint.read(dir.appendingPathComponent("weights.safetensors"))
        XCTAssertEqual(checkpoint.configuration.network, d)
        let reloaded = try MultimodalNetwork(checkpoint.configuration, seed: 0)
        try reloaded.load(checkpoint.tensors, source: "weights")
        reloaded.setTraining(false)
        trainer.network.setTraining(false)
        let batch = try makeBatch(test, indices: Array(0..<8)[...])
        XCTAssertEqual(reloaded.forward(visual: batch.visual, audio: nil).visual?.scalars,
                       trainer.network.forward(visual: batch.visual, audio: nil).visual?.scalars)
    }
}
