import XCTest
@testable import SpikeNN
import SpikeTensor

/// The C model steps (`NeuronStepKernels`, NeuronSteps.c) against their reference, the Swift
/// steps of `NeuronKernels` (`SpikingNeurons.runsReferenceSteps`): every model × reset ×
/// surrogate × learnt option, each instruction-set variant the machine has, on odd sizes
/// (P not a multiple of 8, B = 3, T = 7). The C steps do the Swift steps' float operations in
/// the same order, so everything is compared bit for bit (tolerance 0): spikes, membranes,
/// dL/dI and the learnt constants' grads.
final class NeuronCKernelTests: XCTestCase {
    /// The learnt options: none, one per layer, per channel (decay) and per neuron (threshold).
    static let learning: [(tau: NeuronSettings.Learning, threshold: NeuronSettings.Learning)] =
        [(.fixed, .fixed), (.layer, .layer), (.channel, .neuron)]

    private func bits(_ x: [Float]) -> [UInt32] { x.map(\.bitPattern) }

    /// One layer's forward and backward results: spikes, membranes, dL/dI, learnt grads.
    private func run(_ layer: SpikingNeurons, _ x: Tensor, _ g: Tensor) -> [[UInt32]] {
        let o = layer.forward(x), u = layer.membrane, dI = layer.backward(g)
        return [bits(o.scalars), bits(u.scalars), bits(dI.scalars)] + layer.parameters.map { bits($0.grad.scalars) }
    }

    /// Distinct learnt constants per channel and neuron, the same in `layers`.
    private func setLearnt(_ layers: [SpikingNeurons], _ rng: inout SeededGenerator) {
        if let w = layers[0].tauLogit {
            let v = (0..<w.value.count).map { _ in rng.nextUniform(-1, 2) }
            for l in layers { l.tauLogit!.value = Tensor(shape: w.value.shape, scalars: v) }
        }
        if let t = layers[0].threshold {
            let v = (0..<t.value.count).map { _ in rng.nextUniform(0.3, 0.7) }
            for l in layers { l.threshold!.value = Tensor(shape: t.value.shape, scalars: v) }
        }
    }

    func testScansAreTheSwiftStepsBitForBit() {
        var rng = SeededGenerator(seed: 42)
        let (steps, batch) = (7, 3), shape = [3, 7]          // P = 21: two full lane groups and 5
        var checked = 0
        for base in NeuronModelTests.all {
            for learn in Self.learning {
                var s = base
                if s.model != .integrateAndFire { s.learnTau = learn.tau }
                s.learnThreshold = learn.threshold
                let x = randomTensor([steps, batch] + shape, &rng, -0.4, 1.2)
                let g = randomTensor(x.shape, &rng)
                let reference = SpikingNeurons(name: "n", settings: s, shape: shape)
                reference.runsReferenceSteps = true
                let kernels = VectorKernels.available.map { v -> SpikingNeurons in
                    let layer = SpikingNeurons(name: "n", settings: s, shape: shape)
                    layer.variant = v
                    return layer
                }
                setLearnt([reference] + kernels, &rng)
                let expected = run(reference, x, g)
                XCTAssertTrue(expected[0].contains(Float(1).bitPattern), "\(s.summary): silent")
                XCTAssertTrue(expected[2].contains { $0 != 0 }, "\(s.summary): no gradient")
                for (layer, v) in zip(kernels, VectorKernels.available) {
                    let got = run(layer, x, g)
                    let names = ["spikes", "membrane", "dL/dI"] + layer.parameters.map(\.name)
                    for (i, name) in names.enumerated() {
                        XCTAssertEqual(got[i], expected[i], "\(s.summary), \(v): \(name)")
                    }
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, NeuronModelTests.all.count * Self.learning.count * VectorKernels.available.count)
    }

    /// The recurrent layer (dL/do[t] via R as the extra gradient of the reverse step): spikes,
    /// dL/dx, dL/dW, dL/dR, dL/db and the learnt grads bit for bit.
    func testRecurrentLayerIsTheSwiftStepsBitForBit() {
        var rng = SeededGenerator(seed: 43)
        let (steps, batch, inputs, outputs) = (7, 3, 10, 13)
        for var s in NeuronModelTests.all where s.reset != .zero || s.surrogate == .triangle(width: 0.5) {
            if s.model != .integrateAndFire { s.learnTau = .layer }
            s.learnThreshold = .neuron
            let x = randomSpikes([steps, batch, inputs], rate: 0.5, &rng)
            let g = randomTensor([steps, batch, outputs], &rng)
            func run(reference: Bool) -> [[UInt32]] {
                var initRNG = SeededGenerator(seed: 44)
                let layer = RecurrentSpikingLinear(name: "r", inFeatures: inputs, outFeatures: outputs, settings: s, rng: &initRNG)
                layer.bias.value = Tensor(repeating: 0.3, shape: [outputs])
                layer.neurons!.runsReferenceSteps = reference
                let o = layer.forward(x), dx = layer.backward(g)
                return [bits(o.scalars), bits(layer.membrane.scalars), bits(dx.scalars)] + layer.parameters.map { bits($0.grad.scalars) }
            }
            let expected = run(reference: true), got = run(reference: false)
            XCTAssertTrue(expected[0].contains(Float(1).bitPattern), "\(s.summary): silent")
            XCTAssertEqual(got.count, expected.count)
            for i in 0..<min(got.count, expected.count) { XCTAssertEqual(got[i], expected[i], "\(s.summary): result \(i)") }
        }
    }

    /// The streaming step on the C kernels gives the Swift reference step's spikes, step by
    /// step, and starts again from rest after `reset`.
    func testStreamingStepIsTheSwiftStep() {
        var rng = SeededGenerator(seed: 45)
        let (steps, batch) = (7, 3), shape = [11]
        for var s in NeuronModelTests.all where s.surrogate == .rectangle(width: 1) {
            s.learnThreshold = .neuron
            let reference = SpikingNeurons(name: "n", settings: s, shape: shape), kernel = SpikingNeurons(name: "n", settings: s, shape: shape)
            reference.runsReferenceSteps = true
            setLearnt([reference, kernel], &rng)
            let a = reference.makeStep(batch: batch, inputShape: shape), b = kernel.makeStep(batch: batch, inputShape: shape)
            let x = randomArray(steps * batch * 11, &rng, -0.4, 1.2)
            for round in 0..<2 {
                for t in 0..<steps {
                    x.withUnsafeBufferPointer { p in
                        let current = p.baseAddress! + t * batch * 11
                        let expected = Array(UnsafeBufferPointer(start: a.step(current), count: batch * 11))
                        let got = Array(UnsafeBufferPointer(start: b.step(current), count: batch * 11))
                        XCTAssertEqual(bits(got), bits(expected), "\(s.summary): round \(round), step \(t)")
                    }
                }
                a.reset(); b.reset()
            }
        }
    }
}
