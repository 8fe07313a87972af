import XCTest
@testable import SpikeNN
import SpikeTensor

/// Whole small networks: every gradient reaches every parameter, and runs are bit-reproducible.
final class NetworkTests: XCTestCase {
    /// conv → pool → flatten → recurrent → linear, the paper's layer kinds in one net.
    static func makeNetwork(seed: UInt64) -> Sequential {
        var rng = SeededGenerator(seed: seed)
        let net = Sequential([
            SpikingConv2d(name: "net.conv1", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1,
                          neuron: LIFParameters(tau: 0.2), rng: &rng),
            AvgPool2d(kernelSize: 2),
            SpikingConv2d(name: "net.conv2", inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1,
                          neuron: LIFParameters(tau: 0.2), rng: &rng),
            AvgPool2d(kernelSize: 2),
            Flatten(),
            RecurrentSpikingLinear(name: "net.rnn", inFeatures: 16, outFeatures: 12, neuron: LIFParameters(tau: 0.5), rng: &rng),
            SpikingLinear(name: "net.fc", inFeatures: 12, outFeatures: 3, neuron: LIFParameters(tau: 0.5), rng: &rng),
        ])
        net.needsInputGradient = false
        // A tiny net at PyTorch's init barely fires in its deeper layers; scale the weights
        // so that every layer spikes and every gradient path is exercised.
        for p in net.parameters where p.name.hasSuffix(".weight") {
            p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { $0 * 3 })
        }
        return net
    }

    static func input(seed: UInt64) -> (x: Tensor, labels: [Int]) {
        var rng = SeededGenerator(seed: seed)
        return (randomSpikes([12, 3, 2, 8, 8], rate: 0.4, &rng), [0, 1, 2])
    }

    /// Fails if any parameter gradient is silently zero (a broken backward path).
    func testEveryParameterReceivesANonzeroGradient() {
        let net = Self.makeNetwork(seed: 5)
        let (x, labels) = Self.input(seed: 6)
        let spikes = net.forward(x)
        XCTAssertEqual(spikes.shape, [12, 3, 3])
        let (loss, gradient) = SpikeRateLoss.mseLoss(spikes: spikes, labels: labels)
        XCTAssertGreaterThan(loss, 0)
        let dx = net.backward(gradient)
        XCTAssertEqual(dx.count, 0, "first layer skips dL/dx")
        XCTAssertEqual(net.parameters.count, 9)
        for p in net.parameters {
            XCTAssertEqual(p.grad.shape, p.value.shape, p.name)
            XCTAssertTrue(p.grad.scalars.contains { $0 != 0 }, "\(p.name) has an all-zero gradient")
        }
    }

    /// Same seed → bit-identical weights, loss and gradients (and updated weights after Adam);
    /// a different seed → different weights.
    func testSameSeedIsBitIdentical() {
        func run(_ seed: UInt64) -> (weights: [[Float]], loss: Float, grads: [[Float]], updated: [[Float]]) {
            let net = Self.makeNetwork(seed: seed)
            let weights = net.parameters.map(\.value.scalars)
            let (x, labels) = Self.input(seed: 8)
            let (loss, gradient) = SpikeRateLoss.mseLoss(spikes: net.forward(x), labels: labels)
            _ = net.backward(gradient)
            let grads = net.parameters.map(\.grad.scalars)
            let adam = Adam(parameters: net.parameters)
            adam.step()
            return (weights, loss, grads, net.parameters.map(\.value.scalars))
        }
        let a = run(7), b = run(7)
        XCTAssertEqual(a.weights, b.weights)
        XCTAssertEqual(a.loss.bitPattern, b.loss.bitPattern)
        XCTAssertEqual(a.grads.map { $0.map(\.bitPattern) }, b.grads.map { $0.map(\.bitPattern) })
        XCTAssertEqual(a.updated.map { $0.map(\.bitPattern) }, b.updated.map { $0.map(\.bitPattern) })
        XCTAssertNotEqual(run(9).weights, a.weights)
    }

    /// Names follow PyTorch's convention and the draw order weight → bias per layer.
    func testParameterNamesAndInitBounds() {
        let net = Self.makeNetwork(seed: 1)
        XCTAssertEqual(net.parameters.map(\.name), [
            "net.conv1.weight", "net.conv1.bias", "net.conv2.weight", "net.conv2.bias",
            "net.rnn.weight", "net.rnn.bias", "net.rnn.recurrent_weight", "net.fc.weight", "net.fc.bias",
        ])
        XCTAssertEqual(net.parameters[0].value.shape, [4, 2, 3, 3])
        let fanIns = [18, 18, 36, 36, 16, 16, 12, 12, 12]
        for (p, fanIn) in zip(net.parameters, fanIns) {
            let bound = (p.name.hasSuffix(".weight") ? 3 : 1) / Float(fanIn).squareRoot()   // see makeNetwork
            XCTAssertTrue(p.value.scalars.allSatisfy { abs($0) <= bound }, p.name)
            XCTAssertGreaterThan(p.value.scalars.map(abs).max()!, bound * 0.5, p.name)
        }
    }

    /// SpikingLinear = Linear then LIF: its backward equals the reference LIF gradient pushed
    /// through the affine map (dW = δuᵀ·x).
    func testSpikingLinearComposesAffineAndNeuron() {
        var rng = SeededGenerator(seed: 12)
        let layer = SpikingLinear(name: "fc", inFeatures: 5, outFeatures: 4, neuron: LIFParameters(tau: 0.3), rng: &rng)
        let x = randomSpikes([7, 2, 5], rate: 0.6, &rng)
        let g = randomTensor([7, 2, 4], &rng)
        let spikes = layer.forward(x)
        _ = layer.backward(g)
        let w = layer.linear.weight.value.scalars, b = layer.linear.bias.value.scalars
        var current = [Float](repeating: 0, count: 7 * 2 * 4)
        for row in 0..<14 { for i in 0..<4 {
            var s = Double(b[i])
            for j in 0..<5 { s += Double(w[i * 5 + j]) * Double(x.scalars[row * 5 + j]) }
            current[row * 4 + i] = Float(s)
        } }
        let ref = ReferenceLIF.forward(currents: current, steps: 7, neurons: 8, layer.lif.neuron)
        XCTAssertEqual(spikes.scalars, ref.o)
        let du = ReferenceLIF.backward(gradSpikes: g.scalars, u: ref.u, o: ref.o, steps: 7, neurons: 8, layer.lif.neuron)
        var dW = [Float](repeating: 0, count: 20)
        for row in 0..<14 { for i in 0..<4 { for j in 0..<5 { dW[i * 5 + j] += du[row * 4 + i] * x.scalars[row * 5 + j] } } }
        assertClose(layer.linear.weight.grad.scalars, dW, tolerance: 1e-5, "dW")
    }
}
