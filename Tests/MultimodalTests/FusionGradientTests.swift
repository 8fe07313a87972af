import XCTest
@testable import Multimodal

/// `--fusion-gradient fusion-only`: Lm trains the fusion and stops at its input. Oracles: the
/// unimodal networks of the same seed (same initial weights) give the subnetworks' gradients
/// (Lv or La alone), and the end-to-end network gives the fusion's own gradients, which the
/// stop does not change.
final class FusionGradientTests: XCTestCase {
    /// Gradients of one batch. Every subnetwork bias is first raised by 0.3 (the same in every
    /// network), so that the untrained heads spike and Lm has something to send back.
    private func gradients(_ network: MultimodalNetwork, _ batch: Batch) -> [String: [Float]] {
        for p in network.parameters {
            if !p.name.hasPrefix("fusion."), p.name.hasSuffix(".bias") {
                p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { $0 + 0.3 })
            }
            p.grad = Tensor(zeros: p.value.shape)
        }
        _ = network.forwardBackward(visual: network.configuration.mode.usesVisual ? batch.visual : nil,
                                    audio: network.configuration.mode.usesAudio ? batch.audio : nil,
                                    labels: batch.labels)
        return Dictionary(uniqueKeysWithValues: network.parameters.map { ($0.name, $0.grad.scalars) })
    }

    func testFusionOnlyStopsLmAtTheFusionInput() throws {
        var data = SyntheticDatasetConfiguration()
        data.trainCount = 16; data.testCount = 8
        let train = SyntheticDataset(data, split: .train)
        let batch = try makeBatch(train, indices: Array(0..<8)[...])
        for normalisation in [AttentionNormalisation.none, .softmax] {
            var model = train.modelConfiguration(mode: .multimodal)
            model.attentionNormalisation = normalisation
            model.fusionLoss = .countCrossEntropy
            let endToEnd = gradients(try MultimodalNetwork(model, seed: 4), batch)
            model.fusionGradient = .fusionOnly
            let fusionOnly = gradients(try MultimodalNetwork(model, seed: 4), batch)
            var alone = model
            alone.mode = .visual
            let visualAlone = gradients(try MultimodalNetwork(alone, seed: 4), batch)
            alone.mode = .audio
            let audioAlone = gradients(try MultimodalNetwork(alone, seed: 4), batch)

            var headsDiffer = false
            for (name, g) in fusionOnly {
                if name.hasPrefix("fusion.") {
                    XCTAssertEqual(g, endToEnd[name], "\(name): the fusion's own gradient does not depend on the stop")
                    continue
                }
                let oracle = try XCTUnwrap(name.hasPrefix("visual.") ? visualAlone[name] : audioAlone[name], name)
                XCTAssertEqual(g, oracle, "\(name): Lv or La alone, as in the unimodal network")
                if g != endToEnd[name] { headsDiffer = true }
            }
            XCTAssertTrue(headsDiffer, "\(normalisation): end-to-end, Lm must reach the subnetworks")
            XCTAssertTrue(fusionOnly["fusion.attention.bias"]!.contains { $0 != 0 }, "the attention still trains")
        }
    }

    func testConfigurationDefaultsToEndToEndAndRoundTrips() throws {
        XCTAssertEqual(try ModelConfiguration.fromJSON("{}").fusionGradient, .endToEnd)
        var c = ModelConfiguration()
        c.fusionGradient = .fusionOnly
        XCTAssertTrue(c.jsonString().contains("\"fusion_gradient\":\"fusion-only\""))
        XCTAssertEqual(try ModelConfiguration.fromJSON(c.jsonString()), c)
    }
}
