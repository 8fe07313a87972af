import XCTest
@testable import SpikeNN
import SpikeTensor

/// Finite-difference checks of the differentiable (affine/synaptic/pooling) parts and the
/// loss. Loss L = Σ r ⊙ layer(x) is accumulated in Double; these maps are linear in each
/// argument, so central differences with ε = 0.01 are exact up to Float rounding (≈1e-4),
/// far below a wrong sign or a missing term.
final class LayerGradientTests: XCTestCase {
    /// Checks dL/dθ for every parameter (every `stride`-th element) and dL/dx.
    private func checkLayer(_ layer: Layer, input: Tensor, stride: Int = 1, accuracy: Float = 2e-3,
                            file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: 99)
        let output = layer.forward(input)
        let r = randomTensor(output.shape, &rng)
        for p in layer.parameters { p.grad.zero() }
        let dx = layer.backward(r)
        XCTAssertEqual(dx.shape, input.shape, file: file, line: line)
        for p in layer.parameters {
            let original = p.value
            for i in Swift.stride(from: 0, to: original.count, by: stride) {
                let fd = finiteDifference(original, i) { v in
                    p.value = v
                    return projected(layer.forward(input), r)
                }
                XCTAssertEqual(p.grad.scalars[i], fd, accuracy: accuracy, "\(p.name)[\(i)]", file: file, line: line)
            }
            p.value = original
        }
        for i in Swift.stride(from: 0, to: input.count, by: stride) {
            let fd = finiteDifference(input, i) { projected(layer.forward($0), r) }
            XCTAssertEqual(dx.scalars[i], fd, accuracy: accuracy, "input[\(i)]", file: file, line: line)
        }
    }

    func testLinearGradients() {
        for kernel in [SynapticKernel.dense, .sparse] {
            var rng = SeededGenerator(seed: 31)
            let layer = Linear(name: "fc", inFeatures: 5, outFeatures: 4, rng: &rng)
            layer.kernel = kernel
            // Half the inputs zero, so the event-driven path skips some and weights others.
            var x = randomTensor([3, 2, 5], &rng)
            for i in Swift.stride(from: 0, to: x.count, by: 2) { x.scalars[i] = 0 }
            checkLayer(layer, input: x)
        }
    }

    func testConv2dGradients() {
        for kernel in [SynapticKernel.dense, .sparse] {
            var rng = SeededGenerator(seed: 32)
            let layer = Conv2d(name: "conv", inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, rng: &rng)
            layer.kernel = kernel
            var x = randomTensor([2, 2, 2, 5, 4], &rng)
            for i in Swift.stride(from: 0, to: x.count, by: 3) { x.scalars[i] = 0 }
            checkLayer(layer, input: x, stride: 3)
        }
    }

    func testStridedConv2dGradients() {
        var rng = SeededGenerator(seed: 33)
        let layer = Conv2d(name: "conv", inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2, padding: 0, rng: &rng)
        layer.kernel = .sparse
        checkLayer(layer, input: randomTensor([2, 1, 2, 7, 6], &rng), stride: 2)
    }

    func testAvgPool2dGradients() {
        var rng = SeededGenerator(seed: 34)
        checkLayer(AvgPool2d(kernelSize: 2), input: randomTensor([2, 2, 3, 4, 6], &rng))
    }

    func testFlattenIsAReshapeBothWays() {
        var rng = SeededGenerator(seed: 35)
        let x = randomTensor([2, 3, 4, 5, 6], &rng)
        let flatten = Flatten()
        let y = flatten.forward(x)
        XCTAssertEqual(y.shape, [2, 3, 120])
        XCTAssertEqual(y.scalars, x.scalars)
        XCTAssertEqual(flatten.backward(y).shape, x.shape)
    }

    /// The recurrent layer's synaptic part I[t] = W·x[t] + b + R·o[t−1] (spikes held fixed):
    /// `accumulateSynapticGradients` (used by its backward) vs finite differences of
    /// `synapticCurrent` for W, b, R and x.
    func testRecurrentSynapticGradients() {
      for kernel in [SynapticKernel.dense, .sparse] {
        var rng = SeededGenerator(seed: 36)
        let layer = RecurrentSpikingLinear(name: "rnn", inFeatures: 4, outFeatures: 3,
                                           neuron: LIFParameters(tau: 0.1), rng: &rng)
        layer.kernel = kernel
        let x = randomTensor([5, 2, 4], &rng)
        let spikes = randomSpikes([5, 2, 3], rate: 0.5, &rng)
        let r = randomTensor([5, 2, 3], &rng)
        let dx = layer.accumulateSynapticGradients(gradCurrent: r, input: x, spikes: spikes)
        for p in layer.parameters {
            XCTAssertTrue(p.grad.scalars.contains { $0 != 0 }, p.name)
            let original = p.value
            for i in 0..<original.count {
                let fd = finiteDifference(original, i) { v in
                    p.value = v
                    return projected(layer.synapticCurrent(input: x, spikes: spikes), r)
                }
                XCTAssertEqual(p.grad.scalars[i], fd, accuracy: 2e-3, "\(p.name)[\(i)]")
            }
            p.value = original
        }
        for i in 0..<x.count {
            let fd = finiteDifference(x, i) { projected(layer.synapticCurrent(input: $0, spikes: spikes), r) }
            XCTAssertEqual(dx.scalars[i], fd, accuracy: 2e-3, "x[\(i)] \(kernel)")
        }
      }
    }

    /// The spike-rate loss as a function of (continuous) spike values vs its gradient.
    func testSpikeRateLossGradient() {
        var rng = SeededGenerator(seed: 37)
        let spikes = randomTensor([4, 3, 5], &rng, 0, 1)
        let labels = [2, 0, 4]
        let (_, gradient) = SpikeRateLoss.mseLoss(spikes: spikes, labels: labels)
        for i in 0..<spikes.count {
            let fd = finiteDifference(spikes, i, eps: 1e-3) { Double(SpikeRateLoss.mseLoss(spikes: $0, labels: labels).loss) }
            XCTAssertEqual(gradient.scalars[i], fd, accuracy: 1e-3, "dL/do[\(i)]")
        }
    }
}
