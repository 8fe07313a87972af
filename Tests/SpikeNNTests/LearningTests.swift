import XCTest
@testable import SpikeNN
import SpikeTensor

/// End to end: the layers, STBP, loss and Adam together learn a trivially separable task.
final class LearningTests: XCTestCase {
    /// Class 0 = random spikes in the left half of a 6×6 image, class 1 = in the right half.
    /// A conv → pool → flatten → linear spiking net must drive the loss well down and classify
    /// every training sample correctly within 60 Adam steps (lr 0.01).
    func testSmallNetworkLearnsLeftVersusRight() {
        var rng = SeededGenerator(seed: 77)
        let (steps, batch) = (8, 8)
        var x = Tensor(zeros: [steps, batch, 1, 6, 6])
        let labels = (0..<batch).map { $0 % 2 }
        for t in 0..<steps {
            for b in 0..<batch {
                for row in 0..<6 {
                    for col in 0..<3 where rng.nextDouble() < 0.5 {
                        x[t, b, 0, row, labels[b] == 0 ? col : col + 3] = 1
                    }
                }
            }
        }
        let lif = LIFParameters(tau: 0.5)
        let net = Sequential([
            SpikingConv2d(name: "c", inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, neuron: lif, rng: &rng),
            AvgPool2d(kernelSize: 2),
            Flatten(),
            SpikingLinear(name: "fc", inFeatures: 36, outFeatures: 2, neuron: lif, rng: &rng),
        ])
        net.needsInputGradient = false
        let adam = Adam(parameters: net.parameters, learningRate: 0.01)
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<60 {
            let spikes = net.forward(x)
            let (loss, gradient) = SpikeRateLoss.mseLoss(spikes: spikes, labels: labels)
            if step == 0 { firstLoss = loss }
            lastLoss = loss
            _ = net.backward(gradient)
            adam.step()
            adam.zeroGradients()
        }
        XCTAssertLessThan(lastLoss, 0.5 * firstLoss, "loss \(firstLoss) → \(lastLoss)")
        XCTAssertEqual(SpikeRateLoss.predictions(net.forward(x)), labels)
    }
}
