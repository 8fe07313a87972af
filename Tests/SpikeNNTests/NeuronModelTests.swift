import XCTest
@testable import SpikeNN
import SpikeTensor

/// The neuron models (`NeuronModel`, `SpikingNeurons`) against hand-worked trajectories and
/// the float64 reference (`ReferenceNeuron`), whose backward is itself checked against finite
/// differences of its relaxed forward.
final class NeuronModelTests: XCTestCase {
    /// Every model with every reset rule and surrogate (the combinations the kernels specialise).
    static let all: [NeuronSettings] = {
        var out: [NeuronSettings] = []
        let models: [NeuronSettings.Model] = [.lif, .integrateAndFire, .currentBased, .adaptive]
        let resets: [NeuronSettings.Reset] = [.zero, .value(-0.125), .subtract]
        let surrogates: [NeuronSettings.Surrogate] = [.rectangle(width: 1), .fastSigmoid(slope: 5), .arctan(slope: 2),
                                                      .triangle(width: 0.5)]
        for m in models {
            for r in resets {
                for s in surrogates {
                    var n = NeuronSettings(model: m, tau: 0.75, threshold: 0.5, reset: r, surrogate: s, dampening: 0.5)
                    if m == .currentBased { n.synapseTau = 0.5 }
                    if m == .adaptive { n.adaptationDecay = 0.9; n.adaptationStrength = 0.3 }
                    out.append(n)
                }
            }
        }
        return out
    }()

    /// The layer's spikes and membranes for currents [T, 1, N].
    private func run(_ s: NeuronSettings, _ currents: [Float]) -> (o: [Float], u: [Float]) {
        let layer = SpikingNeurons(name: "n", settings: s, shape: [currents.count / 4])
        let o = layer.forward(Tensor(shape: [4, 1, currents.count / 4], scalars: currents))
        return (o.scalars, layer.membrane.scalars)
    }

    // Hand-worked with dyadic constants (every value exact in Float32); one neuron, T = 4.
    func testHandWorkedTrajectories() {
        // LIF, reset by subtraction, β 0.5, ϑ 1: u = 0.75, 0.375 + 0.75 = 1.125 (spike),
        // 0.5·(1.125 − 1) + 0.75 = 0.8125, 0.40625.
        var r = run(NeuronSettings(tau: 0.5, threshold: 1, reset: .subtract), [0.75, 0.75, 0.75, 0])
        XCTAssertEqual(r.u, [0.75, 1.125, 0.8125, 0.40625]); XCTAssertEqual(r.o, [0, 1, 0, 0])
        // LIF, reset to V_r = 0.25: u = 1 (spike), 0.5·0.25 + 0.5 = 0.625, 0.3125 + 0.5 = 0.8125, 0.40625 + 0.75 = 1.15625.
        r = run(NeuronSettings(tau: 0.5, threshold: 1, reset: .value(0.25)), [1, 0.5, 0.5, 0.75])
        XCTAssertEqual(r.u, [1, 0.625, 0.8125, 1.15625]); XCTAssertEqual(r.o, [1, 0, 0, 1])
        // IF (β = 1), reset to 0: u = 0.5, 1 (spike), 0.5, 1 (spike).
        r = run(NeuronSettings(model: .integrateAndFire, tau: 0.3, threshold: 1), [0.5, 0.5, 0.5, 0.5])
        XCTAssertEqual(r.u, [0.5, 1, 0.5, 1]); XCTAssertEqual(r.o, [0, 1, 0, 1])
        // Current-based, α 0.5, β 0.5, ϑ 1: s = 1, 0.5, 0.25, 0.125;
        // u = 1 (spike), 0.5·0 + 0.5 = 0.5, 0.25 + 0.25 = 0.5, 0.25 + 0.125 = 0.375.
        r = run(NeuronSettings(model: .currentBased, tau: 0.5, threshold: 1, synapseTau: 0.5), [1, 0, 0, 0])
        XCTAssertEqual(r.u, [1, 0.5, 0.5, 0.375]); XCTAssertEqual(r.o, [1, 0, 0, 0])
        // Adaptive, ρ 0.5, b 1, ϑ 0.5, β 0.5: a = 0, 1, 0.5, 1.25; θ = 0.5, 1.5, 1, 1.75;
        // u = 1 (spike), 0 + 1 = 1 (< 1.5), 0.5 + 1 = 1.5 (spike), 0 + 1 = 1 (< 1.75).
        r = run(NeuronSettings(model: .adaptive, tau: 0.5, threshold: 0.5, adaptationDecay: 0.5, adaptationStrength: 1),
                [1, 1, 1, 1])
        XCTAssertEqual(r.u, [1, 1, 1.5, 1]); XCTAssertEqual(r.o, [1, 0, 1, 0])
    }

    /// The relaxed float64 reference's backward equals finite differences of its forward, for
    /// dL/dI, dL/dϑ and dL/dβ, for every model, reset and surrogate.
    func testReferenceBackwardMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 42)
        let (steps, neurons) = (7, 3)
        for s in Self.all {
            var ref = ReferenceNeuron(s, neurons: neurons)
            ref.beta = (0..<neurons).map { _ in Double(rng.nextUniform(0.5, 0.9)) }
            ref.theta = (0..<neurons).map { _ in Double(rng.nextUniform(0.3, 0.7)) }
            if s.model == .integrateAndFire { ref.beta = [Double](repeating: 1, count: neurons) }
            let current = (0..<steps * neurons).map { _ in Double(rng.nextUniform(-0.2, 0.9)) }
            let weights = (0..<steps * neurons).map { _ in Double(rng.nextUniform(-1, 1)) }
            func loss(_ r: ReferenceNeuron, _ i: [Double]) -> Double {
                let tr = r.forward(i, steps: steps, neurons: neurons, relaxed: true)
                return zip(tr.o, weights).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let tr = ref.forward(current, steps: steps, neurons: neurons, relaxed: true)
            let g = ref.backward(weights, tr, steps: steps, neurons: neurons)
            let eps = 1e-6
            func check(_ analytic: Double, _ plus: Double, _ minus: Double, _ what: String) {
                let numeric = (plus - minus) / (2 * eps)
                XCTAssertEqual(analytic, numeric, accuracy: 1e-5 * max(1, abs(numeric)), "\(s.summary): \(what)")
            }
            for k in 0..<steps * neurons {
                var p = current, m = current
                p[k] += eps; m[k] -= eps
                check(g.current[k], loss(ref, p), loss(ref, m), "dL/dI[\(k)]")
            }
            for n in 0..<neurons {
                var p = ref, m = ref
                p.theta[n] += eps; m.theta[n] -= eps
                check(g.threshold[n], loss(p, current), loss(m, current), "dL/dϑ[\(n)]")
                p = ref; m = ref
                p.beta[n] += eps; m.beta[n] -= eps
                check(g.decay[n], loss(p, current), loss(m, current), "dL/dβ[\(n)]")
            }
        }
    }

    /// The Float32 scans (`SpikingNeurons`) against the float64 reference with hard spikes:
    /// the same spikes, membranes and dL/dI, dL/dϑ, dL/dβ within the LIF's tolerances; the
    /// learnt parameters' grads are the per-neuron ones reduced (β(1 − β) for the logit).
    func testScansMatchTheFloat64Reference() {
        var rng = SeededGenerator(seed: 7)
        let (steps, batch, channels) = (16, 3, 5)
        for var s in Self.all {
            if s.model != .integrateAndFire { s.learnTau = .channel }
            s.learnThreshold = .neuron
            let layer = SpikingNeurons(name: "x.l", settings: s, shape: [channels])
            // Distinct learnt constants per channel and neuron.
            if let w = layer.tauLogit { w.value = Tensor(shape: [channels], scalars: (0..<channels).map { _ in rng.nextUniform(0, 2) }) }
            layer.threshold!.value = Tensor(shape: [channels], scalars: (0..<channels).map { _ in rng.nextUniform(0.3, 0.7) })
            let (beta, theta) = layer.perNeuronConstants()
            let current = randomArray(steps * batch * channels, &rng, -0.3, 1.0)
            let gradOut = randomArray(current.count, &rng)
            let spikes = layer.forward(Tensor(shape: [steps, batch, channels], scalars: current))
            let dI = layer.backward(Tensor(shape: [steps, batch, channels], scalars: gradOut))

            var ref = ReferenceNeuron(s, neurons: batch * channels)
            ref.beta = (0..<batch * channels).map { Double(beta[$0 % channels]) }
            ref.theta = (0..<batch * channels).map { Double(theta[$0 % channels]) }
            let tr = ref.forward(current.map(Double.init), steps: steps, neurons: batch * channels)
            let g = ref.backward(gradOut.map(Double.init), tr, steps: steps, neurons: batch * channels)
            XCTAssertEqual(spikes.scalars, tr.o.map(Float.init), "\(s.summary): spikes")
            XCTAssertTrue(spikes.scalars.contains(1), "\(s.summary): silent")
            assertClose(layer.membrane.scalars, tr.u.map(Float.init), tolerance: 1e-5, "\(s.summary): membrane")
            assertClose(dI.scalars, g.current.map(Float.init), tolerance: 1e-4, "\(s.summary): dL/dI")
            let dTheta = (0..<channels).map { c in (0..<batch).reduce(0.0) { $0 + g.threshold[$1 * channels + c] } }
            assertClose(layer.threshold!.grad.scalars, dTheta.map(Float.init), tolerance: 1e-4, "\(s.summary): dL/dϑ")
            if let w = layer.tauLogit {
                let dW = (0..<channels).map { c -> Double in
                    let b = Double(beta[c])
                    return (0..<batch).reduce(0.0) { $0 + g.decay[$1 * channels + c] } * b * (1 - b)
                }
                assertClose(w.grad.scalars, dW.map(Float.init), tolerance: 1e-4, "\(s.summary): dL/dw")
            }
        }
    }

    /// The paper's LIF is the protocol's `LeakyNeuron` with `ResetToZero` and the rectangle:
    /// the generic scan gives the LIF kernels' spikes, and their gradients to rounding.
    func testPlainLIFThroughTheModelScanIsTheLIFKernel() {
        var rng = SeededGenerator(seed: 3)
        let p = LIFParameters(tau: 0.2, threshold: 0.5, surrogateWidth: 1, surrogateDampening: 0.3)
        let x = randomTensor([20, 4, 33], &rng, -0.5, 1.2)
        let g = randomTensor(x.shape, &rng)
        let lif = LIF(p), model = SpikingNeurons(name: "", settings: NeuronSettings(p), shape: [33])
        XCTAssertEqual(model.forward(x).scalars, lif.forward(x).scalars)
        XCTAssertEqual(model.membrane.scalars, lif.membrane.scalars)
        assertClose(model.backward(g).scalars, lif.backward(g).scalars, tolerance: 1e-6, "dL/dI")
    }

    /// A step of more than 2·16,384 neurons runs in chunks of neurons on all cores: the same
    /// spikes, dL/dI and learnt-constant gradients, bit for bit, as one serial chunk.
    func testParallelScanIsTheSerialScan() {
        var rng = SeededGenerator(seed: 5)
        var s = NeuronSettings(model: .adaptive, tau: 0.8, reset: .subtract, surrogate: .arctan(slope: 2),
                               adaptationDecay: 0.9, adaptationStrength: 0.3, learnThreshold: .neuron)
        s.learnTau = .channel
        let x = randomTensor([3, 4, 16, 32, 32], &rng, -0.3, 1.0), g = randomTensor(x.shape, &rng)
        func run() -> [[Float]] {
            let layer = SpikingNeurons(name: "p", settings: s, shape: [16, 32, 32])
            let o = layer.forward(x), dI = layer.backward(g)
            return [o.scalars, dI.scalars, layer.tauLogit!.grad.scalars, layer.threshold!.grad.scalars]
        }
        let parallel = run(), serial = Parallel.serially { run() }
        XCTAssertEqual(parallel, serial)
        XCTAssertTrue(parallel[0].contains(1))
    }

    /// Learnt decay stays in (0, 1) whatever the logit, and an IF neuron never leaks.
    func testLearntDecayStaysInTheUnitInterval() {
        let layer = SpikingNeurons(name: "a.b", settings: NeuronSettings(tau: 0.9, learnTau: .layer), shape: [4])
        XCTAssertEqual(layer.parameters.map(\.name), ["a.b.tau_logit"])
        XCTAssertEqual(layer.perNeuronConstants().decay[0], 0.9, accuracy: 1e-6)
        for w: Float in [-80, -3, 0, 3, 80] {
            layer.tauLogit!.value = Tensor(shape: [1], scalars: [w])
            let beta = layer.perNeuronConstants().decay[0]
            XCTAssertTrue(beta >= 0 && beta <= 1 && beta.isFinite, "w \(w) → β \(beta)")
        }
        let perNeuron = SpikingNeurons(name: "a.c", settings: NeuronSettings(tau: 0.5, learnThreshold: .neuron), shape: [2, 3, 3])
        XCTAssertEqual(perNeuron.parameters.map(\.name), ["a.c.threshold"])
        XCTAssertEqual(perNeuron.threshold!.value.shape, [18])
        let perChannel = SpikingNeurons(name: "a.d", settings: NeuronSettings(tau: 0.5, learnTau: .channel), shape: [2, 3, 3])
        XCTAssertEqual(perChannel.tauLogit!.value.shape, [2])
    }

    /// The recurrent layer with every model (learnt thresholds per neuron): spikes and dL/dx,
    /// dL/dW, dL/dR, dL/dϑ against the float64 reference recurrence.
    func testRecurrentLayerMatchesTheFloat64Reference() {
        var rng = SeededGenerator(seed: 9)
        let (steps, batch, inputs, outputs) = (10, 2, 12, 6)
        for var s in Self.all where s.surrogate == .fastSigmoid(slope: 5) {
            s.learnThreshold = .neuron
            let layer = RecurrentSpikingLinear(name: "r", inFeatures: inputs, outFeatures: outputs, settings: s, rng: &rng)
            layer.bias.value = Tensor(repeating: 0.3, shape: [outputs])
            let x = randomSpikes([steps, batch, inputs], rate: 0.5, &rng)
            let g = randomTensor([steps, batch, outputs], &rng)
            let spikes = layer.forward(x)
            let dx = layer.backward(g)
            let ref = ReferenceNeuron(s, neurons: outputs).recurrent(
                x: x.scalars.map(Double.init), w: layer.weight.value.scalars.map(Double.init),
                b: layer.bias.value.scalars.map(Double.init), r: layer.recurrentWeight.value.scalars.map(Double.init),
                gradSpikes: g.scalars.map(Double.init), steps: steps, batch: batch, inputs: inputs, outputs: outputs)
            XCTAssertEqual(spikes.scalars, ref.spikes.map(Float.init), "\(s.summary): spikes")
            XCTAssertTrue(spikes.scalars.contains(1), "\(s.summary): silent")
            assertClose(dx.scalars, ref.dx.map(Float.init), tolerance: 1e-4, "\(s.summary): dL/dx")
            assertClose(layer.weight.grad.scalars, ref.dW.map(Float.init), tolerance: 1e-4, "\(s.summary): dL/dW")
            assertClose(layer.recurrentWeight.grad.scalars, ref.dR.map(Float.init), tolerance: 1e-4, "\(s.summary): dL/dR")
            assertClose(layer.neurons!.threshold!.grad.scalars, ref.dTheta.map(Float.init), tolerance: 1e-4, "\(s.summary): dL/dϑ")
        }
    }
}
