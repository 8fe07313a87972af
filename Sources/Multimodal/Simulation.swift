import Foundation

/// A network run on given input, with every spiking layer's spikes recorded
/// (`spikefuse simulate`): the layers of each branch one after another in inference mode, the
/// unfused reference composition (the fused passes give the same spikes: ConvLIFPoolTests).
public enum Simulation {
    /// Input or output tensors that do not fit the network.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `network` on `inputs` (time-major `[T, B, …]`: `visual` and/or `audio`, or `input`
    /// for a one-branch network). Returns `output` `[T, B, C]` (the deciding head: the fusion
    /// where there is one; 0/1 spikes, or the integrator readout's scores) and, with `record`,
    /// `spikes.<branch>.<layer>` `[T, B, …]` for every spiking layer and `spikes.fusion`.
    public static func run(_ network: MultimodalNetwork, inputs: [String: Tensor], source: String,
                           record: Bool) throws -> [(name: String, tensor: Tensor)] {
        let d = network.networkDescription
        let wasTraining = network.isTraining
        network.setTraining(false)
        defer { network.setTraining(wasTraining) }
        var out: [(name: String, tensor: Tensor)] = []
        var heads: [InputModality: Tensor] = [:]
        var steps: Int?
        for (branch, layers) in [(d.branch(.dvs), network.visual), (d.branch(.cochlea), network.audio)] {
            guard let branch, let layers else { continue }
            let key = branch.input.modality == .dvs ? "visual" : "audio"
            let name = inputs[key] == nil && d.branches.count == 1 ? "input" : key
            guard let x = inputs[name] else {
                throw Failure(description: "\(source): no tensor '\(key)'\(d.branches.count == 1 ? " or 'input'" : "") "
                              + "for branch '\(branch.name)' (time-major [T, B] + \(branch.input.shape))")
            }
            guard x.rank == 2 + branch.input.shape.count, Array(x.shape.dropFirst(2)) == branch.input.shape,
                  x.shape[0] > 0, x.shape[1] > 0 else {
                throw Failure(description: "\(source): '\(name)' is \(x.shape), branch '\(branch.name)' needs [T, B] + "
                              + "\(branch.input.shape) with T, B ≥ 1")
            }
            if let i = x.scalars.firstIndex(where: { !$0.isFinite }) {
                throw Failure(description: "\(source): '\(name)' holds \(x.scalars[i]) at element \(i) (inputs must be finite)")
            }
            guard steps == nil || steps == x.shape[0] else {
                throw Failure(description: "\(source): the inputs have different numbers of time steps")
            }
            steps = x.shape[0]
            var y = x
            let planned = try NetworkBuilder.plannedLayers(of: branch, classes: d.classes)
            for (layer, plan) in zip(layers.layers, planned) {
                y = layer.forward(y)
                if record && branch.layers[plan.items.upperBound - 1].emitsSpikes {
                    let name = branch.layers[plan.items.lowerBound].parameterName ?? "layer\(plan.items.lowerBound + 1)"
                    out.append(("spikes.\(branch.name).\(name)", y))
                }
            }
            heads[branch.input.modality] = y
        }
        if let fusion = network.fusion, let v = heads[.dvs], let a = heads[.cochlea] {
            let fused = fusion.forward(visual: v, audio: a)
            if record {
                out.append(("spikes.fusion", fused))
                if let w = fusion.attentionWeights { out.append(("attention", w)) }
            }
            out.insert(("output", fused), at: 0)
        } else {
            out.insert(("output", (heads[.dvs] ?? heads[.cochlea])!), at: 0)
        }
        return out
    }
}
