import Foundation

/// Collects the output spikes of every head, sample by sample, for analysis outside SpikeFuse
/// (`spikefuse evaluate --save-outputs FILE`): what each head fired at every timestep, the
/// attention weights, the labels and the dataset indices, as one safetensors file that
/// PyTorch, NumPy or SpikeFuse read back.
///
/// Tensors written (N samples, T timesteps, C classes; heads the mode lacks are omitted):
///
///     visual, audio, fusion   [N, T, C]   output spikes (0/1; the integrator readout's fusion: its real-valued current)
///     attention               [N, T, 2]   (w_v, w_a) actually applied (attention mode only)
///     label, index            [N]         true class and dataset index, as floats
public struct OutputRecorder {
    private var heads: [String: [Tensor]] = [:]
    private var labels: [Float] = [], indices: [Float] = []

    public init() {}

    /// Samples recorded so far.
    public var count: Int { labels.count }

    /// Adds one batch: `indices` its dataset indices, `outputs` each `[T, B, …]` (time-major).
    public mutating func add(indices batchIndices: [Int], batch: Batch, outputs: HeadOutputs) {
        for (name, tensor) in [("visual", outputs.visual), ("audio", outputs.audio),
                               ("fusion", outputs.fusion), ("attention", outputs.attention)] {
            if let tensor { heads[name, default: []].append(swapLeadingAxes(tensor)) }   // [B, T, …]
        }
        labels += batch.labels.map(Float.init)
        indices += batchIndices.map(Float.init)
    }

    /// The recorded tensors in a fixed order (`visual`, `audio`, `fusion`, `attention`, `label`, `index`).
    public func tensors() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for name in ["visual", "audio", "fusion", "attention"] {
            guard let parts = heads[name], let first = parts.first else { continue }
            let perSample = Array(first.shape.dropFirst())                // [T, …]
            var scalars: [Float] = []
            scalars.reserveCapacity(count * perSample.reduce(1, *))
            for part in parts { scalars += part.scalars }
            out.append((name, Tensor(shape: [count] + perSample, scalars: scalars)))
        }
        out.append(("label", Tensor(shape: [count], scalars: labels)))
        out.append(("index", Tensor(shape: [count], scalars: indices)))
        return out
    }

    /// Writes `tensors()` to `url` atomically, with `metadata` (e.g. the weights file and split).
    public func write(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(tensors(), metadata: metadata, to: url)
    }
}
