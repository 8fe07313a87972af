import XCTest
@testable import Multimodal
import SpikeNN
import SpikeTensor

/// The shipped starting points beside the paper's networks: they build, train (the loss of a
/// fixed batch falls within a few Adam steps, the learnt neuron constants move) and stream.
final class ExampleNetworksTests: XCTestCase {
    func testExamplesTrainAndStream() throws {
        for name in PaperNetworks.examples {
            let d = try XCTUnwrap(PaperNetworks.example(name), name)
            XCTAssertEqual(d.name, name)
            let model = try ModelConfiguration(network: d)
            let net = try MultimodalNetwork(model, seed: 1)
            let branch = d.branches[0], dvs = branch.input.modality == .dvs
            var rng = SeededGenerator(seed: 2)
            let (steps, batch) = (12, 4)
            let shape = [steps, batch] + branch.input.shape
            let x = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextDouble() < 0.15 ? 1 : 0 })
            let labels = [0, 1, 2, 3]
            let optimiser = Adam(parameters: net.parameters, learningRate: 1e-3)
            let learnt = net.parameters.filter { $0.name.hasSuffix(".tau_logit") || $0.name.hasSuffix(".threshold") }
            XCTAssertEqual(learnt.isEmpty, !name.hasSuffix("plif"), "\(name): learnt neuron constants \(learnt.map(\.name))")
            let before = learnt.map(\.value.scalars)
            var losses: [Float] = []
            for _ in 0..<8 {
                optimiser.zeroGradients()
                let (loss, _) = net.forwardBackward(visual: dvs ? x : nil, audio: dvs ? nil : x, labels: labels)
                losses.append(loss.total)
                optimiser.step()
            }
            XCTAssertLessThan(losses.last!, losses.first!, "\(name): losses \(losses)")
            if !learnt.isEmpty { XCTAssertNotEqual(learnt.map(\.value.scalars), before, "\(name): the learnt constants did not move") }
            // Streaming: one step at a time gives [B, classes] per step.
            let sequential = try XCTUnwrap(dvs ? net.visual : net.audio)
            let step = sequential.makeStep(batch: batch, inputShape: branch.input.shape)
            XCTAssertEqual(step.outputShape, [d.classes])
            x.withPointer { p in _ = step.step(p) }
        }
    }
}
