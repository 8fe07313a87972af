import XCTest
@testable import SpikeNN
import SpikeTensor

final class NeuronActivityTests: XCTestCase {
    /// Membranes [T = 2, B = 2, N = 3] worked by hand, V_th = 0.5, a = 1 (window 0 < u < 1):
    ///   t0 b0: 0.6  0.0 −1.0     t0 b1: 0.2  0.0  2.0
    ///   t1 b0: 1.5  0.0 −1.0     t1 b1: 0.5  0.0 −3.0
    /// spikes (u ≥ 0.5): 0.6, 1.5, 0.5, 2.0 → 4 of 12 → rate 1/3; neuron 1 never fires → silent 1/3;
    /// in the window: 0.6, 0.2, 0.5 → 3 of 12; mean (0.6+0.2+1.5+0.5 −1+2−1−3)/12 = −0.2/12.
    func testStatisticsOfAHandMadeBatch() {
        let u = Tensor(shape: [2, 2, 3], scalars: [0.6, 0, -1, 0.2, 0, 2, 1.5, 0, -1, 0.5, 0, -3])
        let a = NeuronActivity(layer: "x", membrane: u, neuron: LIFParameters(tau: 0.1))
        XCTAssertEqual(a.firingRate, 4.0 / 12, accuracy: 1e-12)
        XCTAssertEqual(a.silentFraction, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(a.surrogateFraction, 3.0 / 12, accuracy: 1e-12)
        XCTAssertEqual(a.membraneMean, -0.2 / 12, accuracy: 1e-6)
        let values: [Double] = [0.6, 0, -1, 0.2, 0, 2, 1.5, 0, -1, 0.5, 0, -3]
        let variance = values.map { ($0 - a.membraneMean) * ($0 - a.membraneMean) }.reduce(0, +) / 12
        XCTAssertEqual(a.membraneStd, variance.squareRoot(), accuracy: 1e-6)
    }

    func testLayersAreFoundAndNamedAfterTheirParameters() {
        var rng = SeededGenerator(seed: 3)
        let p = LIFParameters(tau: 0.1)
        let net = Sequential([
            RecurrentSpikingLinear(name: "audio.rec1", inFeatures: 4, outFeatures: 5, neuron: p, rng: &rng),
            Sequential([SpikingLinear(name: "audio.out", inFeatures: 5, outFeatures: 2, neuron: p, rng: &rng)]),
        ])
        XCTAssertEqual(net.spikingLayers.map(\.layerName), ["audio.rec1", "audio.out"])
        _ = net.forward(randomSpikes([6, 2, 4], rate: 0.5, &rng))
        let activity = NeuronActivity.of(net)
        XCTAssertEqual(activity.map(\.layer), ["audio.rec1", "audio.out"])
        // The first layer's statistics are those of its membranes.
        let rec1 = net.spikingLayers[0]
        XCTAssertEqual(activity[0], NeuronActivity(layer: "audio.rec1", membrane: rec1.membrane, neuron: p))
        net.savesForBackward = false
        _ = net.forward(randomSpikes([6, 2, 4], rate: 0.5, &rng))
        XCTAssertEqual(NeuronActivity.of(net), [], "an inference forward keeps no membranes to measure")
    }

    /// For every neuron model (adaptive: θ = ϑ + b·a[t]; learnt per-neuron thresholds) the
    /// activity counts exactly the spikes the forward emitted, on the C and the reference steps,
    /// and the layers of a model other than the LIF are found (`SynapseThenNeurons`, a recurrent
    /// layer with a model neuron).
    func testActivityOfEveryNeuronModelCountsItsSpikes() {
        var rng = SeededGenerator(seed: 5)
        for model in NeuronSettings.Model.allCases {
            for reference in [false, true] {
                let settings = NeuronSettings(model: model, tau: 0.8, threshold: 0.6, reset: .subtract,
                                              surrogate: .fastSigmoid(slope: 5), synapseTau: 0.5, adaptationDecay: 0.9,
                                              adaptationStrength: 0.7, learnThreshold: .neuron)
                let neurons = SpikingNeurons(name: "n", settings: settings, shape: [6])
                neurons.threshold!.value.scalars = (0..<6).map { 0.3 + 0.1 * Float($0) }
                neurons.runsReferenceSteps = reference
                let current = Tensor(shape: [12, 3, 6], scalars: (0..<216).map { _ in rng.nextUniform(-0.2, 0.9) })
                let spikes = neurons.forward(current).scalars.reduce(0, +)
                let a = neurons.activity(layer: "n")!
                XCTAssertGreaterThan(spikes, 10, "\(model): the check needs spikes")
                XCTAssertEqual(a.firingRate * 216, Double(spikes), accuracy: 1e-9, "\(model) reference \(reference)")
            }
        }
        let adaptive = NeuronSettings(model: .adaptive, tau: 0.9, adaptationDecay: 0.9, adaptationStrength: 1)
        let net = Sequential([
            SynapseThenNeurons(synapse: Linear(name: "v.fc1", inFeatures: 4, outFeatures: 5, rng: &rng),
                               neurons: SpikingNeurons(name: "v.fc1", settings: adaptive, shape: [5])),
            RecurrentSpikingLinear(name: "v.rec", inFeatures: 5, outFeatures: 3, settings: adaptive, rng: &rng),
        ])
        XCTAssertEqual(net.spikingLayers.map(\.layerName), ["v.fc1", "v.rec"])
        let y = net.forward(randomSpikes([8, 2, 4], rate: 0.6, &rng))
        let activity = NeuronActivity.of(net)
        XCTAssertEqual(activity.map(\.layer), ["v.fc1", "v.rec"])
        XCTAssertEqual(activity[1].firingRate * Double(y.count), Double(y.scalars.reduce(0, +)), accuracy: 1e-9)
    }

    func testGradientNormsAreGroupedByLayer() {
        let a = Parameter(name: "audio.rec1.weight", value: Tensor(shape: [2], scalars: [0, 0]))
        let b = Parameter(name: "audio.rec1.bias", value: Tensor(shape: [1], scalars: [0]))
        let c = Parameter(name: "visual.fc1.weight", value: Tensor(shape: [1], scalars: [0]))
        a.grad = Tensor(shape: [2], scalars: [3, 0]); b.grad = Tensor(shape: [1], scalars: [4]); c.grad = Tensor(shape: [1], scalars: [-2])
        XCTAssertEqual([a, b, c].gradientNormsByLayer(), ["audio.rec1": 5, "visual.fc1": 2])
    }

    /// The cause behind `ModelConfiguration.audioSurrogateDampening`: in a recurrent layer
    /// whose R is strong (as `audio.rec1`'s becomes in training), the reverse scan multiplies
    /// δu by about γ·h·Rᵀ per step. With the paper's γ = 1 a gradient given at the last step
    /// grows by orders of magnitude on its way to t = 0; with γ = 0.3 it does not.
    func testDampenedSurrogateKeepsRecurrentBPTTFromExploding() {
        func growth(dampening: Float) -> Float {
            var rng = SeededGenerator(seed: 19)
            let (inF, outF, steps, batch) = (16, 64, 48, 4)
            let p = LIFParameters(tau: 0.1, threshold: 0.5, surrogateWidth: 1.0, surrogateDampening: dampening)
            let layer = RecurrentSpikingLinear(name: "r", inFeatures: inF, outFeatures: outF, neuron: p, rng: &rng)
            layer.recurrentWeight.value = randomTensor([outF, outF], &rng, -0.6, 0.6)
            _ = layer.forward(randomSpikes([steps, batch, inF], rate: 0.3, &rng))
            var g = [Float](repeating: 0, count: steps * batch * outF)
            for i in 0..<(batch * outF) { g[(steps - 1) * batch * outF + i] = Float(i % 7) - 3 }
            let dx = layer.backward(Tensor(shape: [steps, batch, outF], scalars: g)).scalars
            let norm = { (t: Int) -> Float in
                dx[(t * batch * inF)..<((t + 1) * batch * inF)].map { $0 * $0 }.reduce(0, +).squareRoot()
            }
            return norm(0) / norm(steps - 1)
        }
        let paper = growth(dampening: 1), dampened = growth(dampening: 0.3)
        XCTAssertGreaterThan(paper, 100, "with γ = 1 the gradient should grow over the steps")
        XCTAssertLessThan(dampened, 1, "with γ = 0.3 it should shrink")
    }
}
