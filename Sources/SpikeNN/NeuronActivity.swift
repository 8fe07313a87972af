import SpikeTensor

/// A layer of spiking neurons whose membranes of the last forward can be read, for the
/// activity statistics of `NeuronActivity` (training diagnostics).
public protocol SpikingNeuronLayer: Layer {
    /// The layer's name, the prefix of its parameters (e.g. `"audio.rec1"`).
    var layerName: String { get }
    /// The neurons' τ, V_th and surrogate width (the resting ones where the model is not the LIF).
    var neuronParameters: LIFParameters { get }
    /// Membrane potentials `[T, B, …]` of the last forward; empty when `savesForBackward` is false.
    var membrane: Tensor { get }
    /// The neurons' activity in the last forward, nil where it kept no membranes.
    var activity: NeuronActivity? { get }
}

extension SpikingNeuronLayer {
    /// The parameters' common prefix: `"audio.rec1.weight"` → `"audio.rec1"`.
    public var layerName: String {
        let name = parameters.first?.name ?? "\(Self.self)"
        return name.split(separator: ".").dropLast().joined(separator: ".")
    }

    /// The plain LIF's: spikes where u ≥ V_th.
    public var activity: NeuronActivity? {
        let u = membrane
        return u.rank >= 3 ? NeuronActivity(layer: layerName, membrane: u, neuron: neuronParameters) : nil
    }
}

extension SynapseThenLIF {
    public var neuronParameters: LIFParameters { lif.neuron }
}

extension SpikingLinear: SpikingNeuronLayer {}
extension SpikingConv2d: SpikingNeuronLayer {}
extension RecurrentSpikingLinear: SpikingNeuronLayer {
    public var neuronParameters: LIFParameters { neuron }
    /// Its neuron model's activity where it is not the plain LIF (`SpikingNeurons.activity`).
    public var activity: NeuronActivity? {
        if let neurons { return neurons.activity(layer: layerName) }
        let u = membrane
        return u.rank >= 3 ? NeuronActivity(layer: layerName, membrane: u, neuron: neuron) : nil
    }
}
extension SynapseThenNeurons: SpikingNeuronLayer {
    public var neuronParameters: LIFParameters { LIFParameters(tau: neurons.settings.tau, threshold: neurons.settings.threshold) }
    public var membrane: Tensor { neurons.membrane }
    public var activity: NeuronActivity? { neurons.activity(layer: layerName) }
}

extension Sequential {
    /// The spiking layers, in order (nested `Sequential`s included).
    public var spikingLayers: [SpikingNeuronLayer] {
        layers.flatMap { layer -> [SpikingNeuronLayer] in
            if let nested = layer as? Sequential { return nested.spikingLayers }
            return (layer as? SpikingNeuronLayer).map { [$0] } ?? []
        }
    }
}

/// What a layer's neurons did on one batch: how often they fire, how many never fire,
/// where their membranes sit, and how much of the time the surrogate passes gradient.
///
/// From the membranes `u [T, B, N…]` of one forward (spikes are `o = u ≥ θ`, θ = V_th for the
/// LIF; for other models the threshold the step compared with, `SpikingNeurons.activity`):
/// - `firingRate`: mean of o over all T·B·N entries (spikes per neuron per time step);
/// - `silentFraction`: fraction of the N neurons (per sample position) with o = 0 at every
///   t and b — dead for this batch: with the rectangular surrogate a neuron whose u stays
///   outside (V_th − a/2, V_th + a/2) also gets no gradient;
/// - `membraneMean`, `membraneStd`: of u over all entries;
/// - `surrogateFraction`: fraction of entries with |u − θ| < a/2, where h(u) ≠ 0 (eq. 9; for
///   the other surrogates `NeuronSettings.Surrogate.activeHalfWidth`).
public struct NeuronActivity: Codable, Sendable, Equatable {
    public var layer: String
    public var firingRate: Double
    public var silentFraction: Double
    public var membraneMean: Double
    public var membraneStd: Double
    public var surrogateFraction: Double

    enum CodingKeys: String, CodingKey {
        case layer
        case firingRate = "firing_rate", silentFraction = "silent_fraction"
        case membraneMean = "membrane_mean", membraneStd = "membrane_std"
        case surrogateFraction = "surrogate_fraction"
    }

    /// Statistics of membranes `[T, B, …]` (rank ≥ 3) of neurons with `neuron`'s constants.
    public init(layer: String, membrane: Tensor, neuron: LIFParameters) {
        let threshold = neuron.threshold
        self.init(layer: layer, membrane: membrane, halfWidth: 0.5 * neuron.surrogateWidth) { _ in threshold }
    }

    /// Statistics of membranes `[T, B, …]` (rank ≥ 3) against the threshold θ of each entry
    /// (`threshold(i)`, i the entry's index in the membranes), the surrogate active where
    /// |u − θ| < `halfWidth`.
    public init(layer: String, membrane: Tensor, halfWidth: Float, threshold thresholdOf: (Int) -> Float) {
        precondition(membrane.rank >= 3, "NeuronActivity: membrane must be [T, B, …], got \(membrane.shape)")
        self.layer = layer
        let steps = membrane.shape[0], batch = membrane.shape[1]
        let neurons = membrane.count / max(1, steps * batch)
        var fired = [Bool](repeating: false, count: neurons)
        var spikes = 0, inWindow = 0
        var sum = 0.0, squares = 0.0
        membrane.withPointer { u in
            for row in 0..<(steps * batch) {
                let base = row * neurons
                for n in 0..<neurons {
                    let v = u[base + n], threshold = thresholdOf(base + n)
                    if v >= threshold { spikes += 1; fired[n] = true }
                    if abs(v - threshold) < halfWidth { inWindow += 1 }
                    sum += Double(v); squares += Double(v) * Double(v)
                }
            }
        }
        let count = Double(max(1, membrane.count))
        firingRate = Double(spikes) / count
        silentFraction = Double(fired.lazy.filter { !$0 }.count) / Double(max(1, neurons))
        membraneMean = sum / count
        membraneStd = (max(0, squares / count - membraneMean * membraneMean)).squareRoot()
        surrogateFraction = Double(inWindow) / count
    }

    /// The activity of each spiking layer of `network` after its last forward (which must
    /// have kept its membranes: `savesForBackward` true).
    public static func of(_ network: Sequential) -> [NeuronActivity] {
        network.spikingLayers.compactMap { layer in
            layer.activity
        }
    }
}

extension Array where Element == Parameter {
    /// The L2 norm of the gradients of each layer (parameters grouped by their name's prefix,
    /// `"audio.rec1.weight"` → `"audio.rec1"`).
    public func gradientNormsByLayer() -> [String: Double] {
        var squares: [String: Double] = [:]
        for p in self {
            let layer = p.name.split(separator: ".").dropLast().joined(separator: ".")
            var s = 0.0
            p.grad.withPointer { g in for i in 0..<p.grad.count { s += Double(g[i]) * Double(g[i]) } }
            squares[layer, default: 0] += s
        }
        return squares.mapValues { $0.squareRoot() }
    }
}
