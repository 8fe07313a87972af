import XCTest
@testable import SpikeNN
import SpikeTensor

/// Each layer's single step (`Layer.makeStep`) scanned over T against its fast multi-step
/// `forward`. Weights sit on a 2⁻¹² grid and inputs are binary spikes, so every synaptic
/// sum is exact in Float32 whatever the order, and the outputs must agree bit for bit.
final class LayerStepTests: XCTestCase {
    /// Runs `layer`'s step over `input` `[T, B, …]` from reset and stacks the outputs `[T, B, …out]`.
    private func scan(_ layer: Layer, _ input: Tensor) -> Tensor {
        let steps = input.shape[0], batch = input.shape[1]
        let step = layer.makeStep(batch: batch, inputShape: Array(input.shape.dropFirst(2)))
        let perStep = input.count / steps
        var out: [Float] = []
        input.withPointer { x in
            for t in 0..<steps {
                let y = step.step(x + t * perStep)
                out += UnsafeBufferPointer(start: y, count: batch * step.outputShape.reduce(1, *))
            }
        }
        return Tensor(shape: [steps, batch] + step.outputShape, scalars: out)
    }

    /// Puts every parameter of `layer` on the 2⁻¹² grid (exact sums of up to 2¹² terms).
    private func onGrid(_ layer: Layer) {
        for p in layer.parameters {
            p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { ($0 * 4096).rounded() / 4096 })
        }
    }

    private func assertStepsMatchForward(_ layer: Layer, _ input: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        onGrid(layer)
        let batched = layer.forward(input)
        let stepped = scan(layer, input)
        XCTAssertEqual(stepped.shape, batched.shape, file: file, line: line)
        XCTAssertEqual(stepped.scalars, batched.scalars, "\(type(of: layer)): step scan differs from forward", file: file, line: line)
        XCTAssertTrue(batched.scalars.contains { $0 != 0 }, "a silent output cannot test the step", file: file, line: line)
    }

    func testLIFStepIsTheReferenceDynamics() {
        var rng = SeededGenerator(seed: 25)
        let (steps, neurons) = (10, 7)
        let p = LIFParameters(tau: 0.9)
        let currents = randomArray(steps * neurons, &rng, -0.3, 0.8)
        let ref = ReferenceLIF.forward(currents: currents, steps: steps, neurons: neurons, p)
        let stepped = scan(LIF(p), Tensor(shape: [steps, 1, neurons], scalars: currents))
        XCTAssertEqual(stepped.scalars, ref.o)
        XCTAssertEqual(LIF(p).forward(Tensor(shape: [steps, 1, neurons], scalars: currents)).scalars, ref.o)
    }

    func testLinearAndSpikingLinearSteps() {
        var rng = SeededGenerator(seed: 3)
        let x = randomSpikes([6, 3, 40], rate: 0.3, &rng)
        assertStepsMatchForward(Linear(name: "l", inFeatures: 40, outFeatures: 9, rng: &rng), x)
        assertStepsMatchForward(SpikingLinear(name: "s", inFeatures: 40, outFeatures: 9, neuron: LIFParameters(tau: 0.2), rng: &rng), x)
    }

    func testConvolutionPoolingAndFlattenSteps() {
        var rng = SeededGenerator(seed: 4)
        let x = randomSpikes([5, 2, 2, 8, 8], rate: 0.25, &rng)
        assertStepsMatchForward(Conv2d(name: "c", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, rng: &rng), x)
        assertStepsMatchForward(SpikingConv2d(name: "s", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1,
                                              neuron: LIFParameters(tau: 0.2), rng: &rng), x)
        assertStepsMatchForward(AvgPool2d(kernelSize: 2), x)
        assertStepsMatchForward(Flatten(), x)
    }

    func testRecurrentStepCarriesItsOwnSpikes() {
        var rng = SeededGenerator(seed: 5)
        let x = randomSpikes([12, 3, 16], rate: 0.3, &rng)
        let layer = RecurrentSpikingLinear(name: "r", inFeatures: 16, outFeatures: 12, neuron: LIFParameters(tau: 0.1), rng: &rng)
        assertStepsMatchForward(layer, x)
        // R matters: with R = 0 the spikes change (the step does read o[t−1]).
        let withR = layer.forward(x)
        layer.recurrentWeight.value = Tensor(zeros: layer.recurrentWeight.value.shape)
        XCTAssertNotEqual(scan(layer, x).scalars, withR.scalars)
    }

    /// Every neuron model streams: its step (alone, after a synapse, inside the recurrent
    /// layer) gives the spikes of its multi-step scan, learnt constants included.
    func testNeuronModelStepsMatchTheirScans() {
        var rng = SeededGenerator(seed: 11)
        let x = randomSpikes([10, 2, 24], rate: 0.5, &rng)
        for var s in NeuronModelTests.all where s.surrogate == .arctan(slope: 2) {
            s.threshold = 0.25
            if s.model != .integrateAndFire { s.learnTau = .channel }
            s.learnThreshold = .neuron
            let linear = Linear(name: "l", inFeatures: 24, outFeatures: 9, rng: &rng)
            assertStepsMatchForward(SynapseThenNeurons(synapse: linear, neurons: SpikingNeurons(name: "l", settings: s, shape: [9])), x)
            let recurrent = RecurrentSpikingLinear(name: "r", inFeatures: 24, outFeatures: 9, settings: s, rng: &rng)
            assertStepsMatchForward(recurrent, x)
            let conv = Conv2d(name: "c", inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, rng: &rng)
            assertStepsMatchForward(SynapseThenNeurons(synapse: conv, neurons: SpikingNeurons(name: "c", settings: s, shape: [3, 4, 3])),
                                    Tensor(shape: [10, 2, 2, 4, 3], scalars: x.scalars))
        }
    }

    func testSequentialStepAndReset() {
        var rng = SeededGenerator(seed: 6)
        let network = Sequential([
            SpikingConv2d(name: "c1", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, neuron: LIFParameters(tau: 0.2), rng: &rng),
            AvgPool2d(kernelSize: 2),
            Flatten(),
            SpikingLinear(name: "f", inFeatures: 4 * 4 * 4, outFeatures: 10, neuron: LIFParameters(tau: 0.2), rng: &rng),
        ])
        // Biases of 0.375 (on the grid) keep every layer firing, so the output tests the chain.
        for p in network.parameters where p.name.hasSuffix(".bias") { p.value = Tensor(repeating: 0.375, shape: p.value.shape) }
        let x = randomSpikes([8, 2, 2, 8, 8], rate: 0.4, &rng)
        assertStepsMatchForward(network, x)
        // reset() returns every membrane to 0: a second pass over the same input repeats the first.
        let step = network.makeStep(batch: 2, inputShape: [2, 8, 8])
        func pass() -> [Float] {
            step.reset()
            return x.withPointer { p in (0..<8).flatMap { t in Array(UnsafeBufferPointer(start: step.step(p + t * 256), count: 20)) } }
        }
        let first = pass()
        XCTAssertEqual(pass(), first)
    }

    /// A neuron step built before a learnt constant changed uses the new value.
    func testNeuronStepFollowsChangedLearntConstants() {
        let layer = SpikingNeurons(name: "n", settings: NeuronSettings(tau: 0.5, threshold: 1, learnThreshold: .neuron), shape: [2])
        let step = layer.makeStep(batch: 1, inputShape: [2])
        let current: [Float] = [0.75, 0.75]
        func spikes() -> [Float] {
            step.reset()
            return current.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: step.step($0.baseAddress!), count: 2)) }
        }
        XCTAssertEqual(spikes(), [0, 0])
        layer.threshold!.value.withMutablePointer { $0[1] = 0.5 }   // in place, as Adam does
        XCTAssertEqual(spikes(), [0, 1])
    }

    /// A step built before the weights changed uses the new weights (no stale Wᵀ).
    func testStepFollowsChangedWeights() {
        var rng = SeededGenerator(seed: 7)
        let layer = Linear(name: "l", inFeatures: 8, outFeatures: 3, rng: &rng)
        let step = layer.makeStep(batch: 1, inputShape: [8])
        let x: [Float] = [1, 0, 1, 1, 0, 0, 1, 0]
        let before = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: step.step($0.baseAddress!), count: 3)) }
        layer.weight.value.withMutablePointer { $0[0] += 1 }   // in-place update, as Adam does
        let after = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: step.step($0.baseAddress!), count: 3)) }
        XCTAssertEqual(after[0], before[0] + 1, accuracy: 1e-6)
        XCTAssertEqual(Array(after[1...]), Array(before[1...]))
    }
}
