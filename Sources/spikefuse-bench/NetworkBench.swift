import Foundation
import Multimodal
import SpikeNN

/// The side-by-side benchmark of any described network (docs/speed.md, "Described networks"):
/// `prepare` writes one file with the network's seed-1 weights (checkpoint names, which the
/// PyTorch peer's `DescribedNetwork` loads) and random input spikes, and `sideBySide` measures
/// it as model `network:FILE`, as bench/peer_bench.py does with `--model network:FILE`.
enum NetworkBench {
    /// The description path of a `network:FILE` model name, else nil.
    static func descriptionPath(_ model: String) -> String? {
        model.hasPrefix("network:") ? String(model.dropFirst("network:".count)) : nil
    }

    /// Writes `out`: the weights of `network` built with seed 1, each spiking layer's synapse
    /// scaled so that it fires at about `firing` on the inputs (`calibrate`: an untrained
    /// network barely fires, which would flatter an event-driven engine), `input.<visual|audio>`
    /// `[T, batch, …input shape]` of 0/1 spikes at `density` (each element on with that
    /// probability, seeded), and `input.labels` `[batch]`.
    static func prepare(network url: URL, out: URL, batch: Int, density: Double, firing: Double) throws {
        let d = try NetworkDescription.load(url)
        let net = try MultimodalNetwork(try ModelConfiguration(network: d), seed: 1)
        var rng = SeededGenerator(seed: 7)
        var inputs: [(String, Tensor)] = []
        for branch in d.branches {
            let shape = [d.timesteps, batch] + branch.input.shape
            let name = branch.input.modality == .dvs ? "input.visual" : "input.audio"
            inputs.append((name, Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextDouble() < density ? 1 : 0 })))
        }
        let small = Dictionary(uniqueKeysWithValues: inputs.map {
            ($0.0 == "input.visual" ? "visual" : "audio", timeMajorSamples($0.1, 0..<min(4, batch)))
        })
        try calibrate(net, d, inputs: small, target: firing)
        var tensors = net.namedTensors()
        tensors += inputs
        tensors.append(("input.labels", Tensor(shape: [batch], scalars: (0..<batch).map { _ in Float(rng.nextInt(below: d.classes)) })))
        try FileManager.default.createDirectory(at: out.deletingLastPathComponent(), withIntermediateDirectories: true)
        // "activity" names the file, as the peer (which reads no metadata) names it by its stem.
        try SafeTensors.write(tensors, metadata: ["activity": out.deletingPathExtension().lastPathComponent,
                                                  "source": "seed-1 weights scaled to fire at \(firing), random input spikes at density \(density)",
                                                  "network": url.path], to: out)
    }

    /// Scales the weight and bias of each spiking layer (in order; a synapse followed by `lif`,
    /// or `recurrent`) by the factor, found by bisection on its logarithm, that brings the
    /// layer's firing rate on `inputs` nearest `target`.
    static func calibrate(_ net: MultimodalNetwork, _ d: NetworkDescription, inputs: [String: Tensor], target: Double) throws {
        let parameters = Dictionary(uniqueKeysWithValues: net.parameters.map { ($0.name, $0) })
        for branch in d.branches {
            for (i, item) in branch.layers.enumerated() {
                guard let name = item.parameterName,
                      item.emitsSpikes || (i + 1 < branch.layers.count && branch.layers[i + 1].emitsSpikes) else { continue }
                let scaled = ["weight", "bias", "recurrent_weight"].compactMap { parameters["\(branch.name).\(name).\($0)"] }
                let original = scaled.map(\.value)
                func rate(_ factor: Float) throws -> Double {
                    for (p, v) in zip(scaled, original) { p.value = Tensor(shape: v.shape, scalars: v.scalars.map { $0 * factor }) }
                    let recorded = try Simulation.run(net, inputs: inputs, source: "calibration", record: true)
                    guard let spikes = recorded.first(where: { $0.name == "spikes.\(branch.name).\(name)" })?.tensor else { return 0 }
                    return Double(spikes.scalars.reduce(0, +)) / Double(max(spikes.count, 1))
                }
                var low: Float = log(0.01), high: Float = log(1000)
                for _ in 0..<14 {
                    let mid = (low + high) / 2
                    if try rate(exp(mid)) < target { low = mid } else { high = mid }
                }
                _ = try rate(exp((low + high) / 2))
            }
        }
    }

    /// Spikes fired and neuron-steps over every spiking layer of `net` on one inference forward.
    static func spikeCounts(_ net: MultimodalNetwork, visual: Tensor?, audio: Tensor?) throws -> (Double, Double) {
        var inputs: [String: Tensor] = [:]
        if let visual { inputs["visual"] = visual }
        if let audio { inputs["audio"] = audio }
        let recorded = try Simulation.run(net, inputs: inputs, source: "bench inputs", record: true)
        var fired = 0.0, count = 0.0
        for (name, t) in recorded where name.hasPrefix("spikes.") {
            fired += Double(t.scalars.reduce(0, +)); count += Double(t.count)
        }
        return (fired, count)
    }
}
