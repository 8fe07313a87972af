import XCTest
@testable import SpikeNN
import SpikeTensor

/// The event-driven backward products (over the nonzero δ) and the inference mode, each
/// against its dense / training-mode oracle.
final class SparseBackwardTests: XCTestCase {
    /// δ with most entries zero (as outside the surrogate window): the event-driven
    /// `dL/dx = δ·W` equals the dense GEMM (same sums, different order → tight tolerance).
    func testLinearSparseInputGradientMatchesDense() {
        var rng = SeededGenerator(seed: 51)
        let x = randomSpikes([6, 4, 40], rate: 0.2, &rng)
        var g = randomTensor([6, 4, 24], &rng)
        for i in 0..<g.count where rng.nextDouble() < 0.9 { g.scalars[i] = 0 }
        var results: [Tensor] = []
        for kernel in [SynapticKernel.dense, .sparse] {
            var r = SeededGenerator(seed: 52)
            let layer = Linear(name: "fc", inFeatures: 40, outFeatures: 24, rng: &r)
            layer.kernel = kernel
            _ = layer.forward(x)
            results.append(layer.backward(g))
            results.append(layer.weight.grad)
        }
        XCTAssertTrue(results[0].scalars.contains { $0 != 0 })
        assertClose(results[2].scalars, results[0].scalars, tolerance: 1e-5, "dx")
        assertClose(results[3].scalars, results[1].scalars, tolerance: 1e-5, "dW")
    }

    /// A recurrent layer whose neurons mostly sit outside the surrogate window (strongly
    /// negative bias): δu is sparse, so `.sparse` takes the event-driven `δu[t+1]·R` and `δu·W`
    /// paths; spikes identical and gradients equal to the dense run.
    func testRecurrentSparseBackwardMatchesDense() {
        var rng = SeededGenerator(seed: 53)
        let x = randomSpikes([12, 3, 16], rate: 0.3, &rng)
        let g = randomTensor([12, 3, 20], &rng)
        var outputs: [(Tensor, Tensor, [Tensor])] = []
        for kernel in [SynapticKernel.dense, .sparse] {
            var r = SeededGenerator(seed: 54)
            let layer = RecurrentSpikingLinear(name: "rec", inFeatures: 16, outFeatures: 20, neuron: LIFParameters(tau: 0.5), rng: &r)
            layer.kernel = kernel
            layer.bias.value = Tensor(shape: [20], scalars: (0..<20).map { $0 % 3 == 0 ? 0.3 : -2 })
            layer.recurrentWeight.value = randomTensor([20, 20], &r, -0.8, 0.8)
            let spikes = layer.forward(x)
            let dx = layer.backward(g)
            outputs.append((spikes, dx, layer.parameters.map(\.grad)))
        }
        XCTAssertEqual(outputs[0].0, outputs[1].0, "spikes")
        XCTAssertGreaterThan(outputs[0].0.scalars.reduce(0, +), 3, "some neurons must fire")
        let zeroFraction = Double(outputs[0].1.scalars.filter { $0 == 0 }.count) / Double(outputs[0].1.count)
        XCTAssertLessThan(zeroFraction, 1, "dx must not be all zero")
        assertClose(outputs[1].1.scalars, outputs[0].1.scalars, tolerance: 1e-5, "dx")
        for (a, b) in zip(outputs[1].2, outputs[0].2) {
            assertClose(a.scalars, b.scalars, tolerance: 1e-5, "parameter gradient")
        }
    }

    /// Inference mode: the same spikes as training mode, nothing kept for backward.
    func testInferenceModeGivesTheSameSpikesAndKeepsNothing() {
        var rng = SeededGenerator(seed: 55)
        let lif = LIFParameters(tau: 0.2)
        let net = Sequential([
            SpikingConv2d(name: "c", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, neuron: lif, rng: &rng),
            AvgPool2d(kernelSize: 2), Flatten(),
            SpikingLinear(name: "f", inFeatures: 4 * 4 * 4, outFeatures: 6, neuron: lif, rng: &rng),
            RecurrentSpikingLinear(name: "r", inFeatures: 6, outFeatures: 5, neuron: lif, rng: &rng),
        ])
        let x = randomSpikes([5, 2, 2, 8, 8], rate: 0.4, &rng)
        let training = net.forward(x)
        XCTAssertEqual(net.savesForBackward, true)
        net.savesForBackward = false
        // Pooling and flattening keep no activations: they use the protocol's default (always true).
        XCTAssertFalse(net.layers.contains { !($0 is AvgPool2d || $0 is Flatten) && $0.savesForBackward },
                       "every layer with saved state must switch")
        let inference = net.forward(x)
        XCTAssertEqual(inference, training)
        XCTAssertEqual((net.layers[0] as! SpikingConv2d).membrane.count, 0, "no membrane kept")
        XCTAssertEqual((net.layers[4] as! RecurrentSpikingLinear).membrane.count, 0, "no membrane kept")
        net.savesForBackward = true
        XCTAssertEqual(net.forward(x), training)
        XCTAssertEqual((net.layers[0] as! SpikingConv2d).membrane.count, 5 * 2 * 4 * 8 * 8)
    }

    /// `LIF.forward(consuming:)` (membrane written over the current) equals `forward`.
    func testConsumingForwardEqualsForward() {
        var rng = SeededGenerator(seed: 56)
        let current = randomTensor([7, 3, 11], &rng, -0.5, 1.5)
        let a = LIF(LIFParameters(tau: 0.3)), b = LIF(LIFParameters(tau: 0.3))
        let spikes = a.forward(current)
        var consumed = current
        XCTAssertEqual(b.forward(consuming: &consumed), spikes)
        XCTAssertEqual(b.membrane, a.membrane)
        XCTAssertEqual(consumed.count, 0)
        // Inference: spikes written over the currents, no membrane kept; same spikes.
        let c = LIF(LIFParameters(tau: 0.3))
        c.savesForBackward = false
        var again = current
        XCTAssertEqual(c.forward(consuming: &again), spikes)
        XCTAssertEqual(c.membrane.count, 0)
        XCTAssertTrue(spikes.scalars.contains(1) && spikes.scalars.contains(0), "the case must have both")
    }

    /// `backward(consuming:)` (δu over the incoming gradient's storage) gives the same
    /// gradients as `backward`, and a gradient the caller still holds is not modified.
    func testConsumingBackwardEqualsBackwardAndLeavesCallerTensorsAlone() {
        func makeNet() -> Sequential {
            var rng = SeededGenerator(seed: 57)
            let lif = LIFParameters(tau: 0.2)
            return Sequential([
                SpikingConv2d(name: "c", inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, neuron: lif, rng: &rng),
                AvgPool2d(kernelSize: 2), Flatten(),
                SpikingLinear(name: "f", inFeatures: 3 * 3 * 3, outFeatures: 4, neuron: lif, rng: &rng),
            ])
        }
        var rng = SeededGenerator(seed: 58)
        let x = randomSpikes([6, 2, 2, 6, 6], rate: 0.5, &rng)
        let g = randomTensor([6, 2, 4], &rng)
        let gCopy = g
        // Reference: every layer's plain backward, in reverse.
        let reference = makeNet()
        _ = reference.forward(x)
        var r = g
        for layer in reference.layers.reversed() { r = layer.backward(r) }
        let net = makeNet()
        _ = net.forward(x)
        let dx = net.backward(g)
        XCTAssertEqual(g, gCopy, "the caller's gradient must stay unchanged")
        XCTAssertEqual(dx, r)
        for (a, b) in zip(net.parameters, reference.parameters) { XCTAssertEqual(a.grad, b.grad, a.name) }
        XCTAssertTrue(net.parameters[0].grad.scalars.contains { $0 != 0 }, "gradient must reach the first layer")
    }
}
