import Foundation

/// Losses, output spike counts and every parameter gradient for one batch, in the
/// batch-major layout shared with the PyTorch peer (`bench/pytorch_reference.py`), so two
/// frameworks can be compared number by number (`spikefuse grad`).
///
/// Inputs (`X.safetensors`): `visual_input` `[B, T, P, S, S]`, `audio_input` `[B, T, 64]`
/// (0/1 floats), `labels` `[B]` (any numeric dtype). Weights: every parameter by name.
/// Output tensors: `loss.visual`, `loss.audio`, `loss.fusion`, `loss.total` (scalars, shape
/// `[]`), `spikes.visual`, `spikes.audio`, `spikes.fusion` (`[B, C]` output spike counts),
/// `attention` (`[B, T, 2]`, attention mode only) and `grad.<parameter name>`.
public enum GradientReport {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case input(String, String)
        public var description: String {
            switch self { case let .input(file, why): return "\(file): \(why)" }
        }
    }

    /// Computes the report. `configuration` must describe the weights (sizes and mode).
    public static func compute(configuration: ModelConfiguration, weights: [String: Tensor], weightsSource: String,
                               inputs: [String: Tensor], inputsSource: String) throws -> [(name: String, tensor: Tensor)] {
        let network = try MultimodalNetwork(configuration, seed: 0)
        try network.load(weights, source: weightsSource)
        guard let labelTensor = inputs["labels"] else { throw Failure.input(inputsSource, "no tensor 'labels' [B]") }
        guard labelTensor.count > 0 else { throw Failure.input(inputsSource, "'labels' is empty: a batch needs at least one sample") }
        if let bad = labelTensor.scalars.first(where: { !$0.isFinite || $0 != $0.rounded() || $0 < 0 || $0 >= Float(configuration.classes) }) {
            throw Failure.input(inputsSource, "labels must be integers in 0..<\(configuration.classes), found \(bad)")
        }
        let labels = labelTensor.scalars.map { Int($0) }
        let b = labels.count
        func input(_ name: String, _ perStep: [Int]) throws -> Tensor? {
            guard let t = inputs[name] else { throw Failure.input(inputsSource, "no tensor '\(name)'") }
            let want = [b, configuration.timesteps] + perStep
            guard t.shape == want else {
                throw Failure.input(inputsSource, "'\(name)' has shape \(t.shape), expected [B, T, …] = \(want)")
            }
            if let i = t.scalars.firstIndex(where: { !$0.isFinite }) {
                throw Failure.input(inputsSource, "'\(name)' holds \(t.scalars[i]) at element \(i) (inputs must be finite)")
            }
            return swapLeadingAxes(t)   // [B, T, …] → [T, B, …]
        }
        let mode = configuration.mode
        let visual = mode.usesVisual ? try input("visual_input", configuration.visualFrameShape) : nil
        let audio = mode.usesAudio ? try input("audio_input", [configuration.audioChannels]) : nil
        let (loss, out) = network.forwardBackward(visual: visual, audio: audio, labels: labels)

        var report: [(name: String, tensor: Tensor)] = []
        func scalar(_ v: Float) -> Tensor { Tensor(shape: [], scalars: [v]) }
        report.append(("loss.visual", scalar(loss.visual)))
        report.append(("loss.audio", scalar(loss.audio)))
        report.append(("loss.fusion", scalar(loss.fusion)))
        report.append(("loss.total", scalar(loss.total)))
        if let o = out.visual { report.append(("spikes.visual", SpikeRateLoss.spikeCounts(o))) }
        if let o = out.audio { report.append(("spikes.audio", SpikeRateLoss.spikeCounts(o))) }
        if let o = out.fusion { report.append(("spikes.fusion", SpikeRateLoss.spikeCounts(o))) }
        if let w = out.attention { report.append(("attention", swapLeadingAxes(w))) }
        for p in network.parameters { report.append(("grad." + p.name, p.grad)) }
        return report
    }
}
