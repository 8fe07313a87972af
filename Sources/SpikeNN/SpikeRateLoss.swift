import Foundation
import SpikeTensor

/// Spike-rate mean-squared-error loss (paper eq. 7) and spike-count prediction.
///
///     L = (1/B) · Σ_b Σ_c (Y[b, c] − r[b, c])²,   r[b, c] = (1/T) · Σ_t o[t, b, c]
///
/// with Y one-hot of the label. `dL/do[t, b, c] = (2/(B·T)) · (r[b, c] − Y[b, c])` for every t.
/// `meanOver` (default B) replaces B in both: a shard of a larger batch of `meanOver` samples
/// then gives its exact share of that batch's loss and gradient (the trainer's gradient shards).
/// Prediction: the class with the most output spikes; ties go to the LOWEST class index
/// (a sample with no output spike at all is predicted as class 0).
public enum SpikeRateLoss {
    /// spikes [T, B, C], labels [B] → (loss = (1/meanOver)·Σ_b Σ_c (Y − rate)², gradient dL/d(spikes) [T, B, C])
    public static func mseLoss(spikes: Tensor, labels: [Int], meanOver: Int? = nil) -> (loss: Float, gradient: Tensor) {
        precondition(spikes.rank == 3, "mseLoss: spikes must be [T, B, C], got \(spikes.shape)")
        let steps = spikes.shape[0], batch = spikes.shape[1], classes = spikes.shape[2]
        precondition(labels.count == batch, "mseLoss: \(labels.count) labels for batch \(batch)")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "mseLoss: label outside 0..<\(classes)")
        let mean = meanOver ?? batch
        precondition(mean >= batch, "mseLoss: mean over \(mean) samples, fewer than the batch's \(batch)")
        let counts = spikeCounts(spikes)
        var loss = 0.0
        var perStepGrad = [Float](repeating: 0, count: batch * classes)
        let scale = batch == 0 || steps == 0 ? 0 : 2 / (Double(mean) * Double(steps))
        for b in 0..<batch {
            for c in 0..<classes {
                let rate = steps == 0 ? 0 : Double(counts.scalars[b * classes + c]) / Double(steps)
                let diff = rate - (labels[b] == c ? 1 : 0)
                loss += diff * diff
                perStepGrad[b * classes + c] = Float(scale * diff)
            }
        }
        return (batch == 0 ? 0 : Float(loss / Double(mean)), repeatedOverSteps(perStepGrad, shape: spikes.shape))
    }

    /// Cross-entropy on the spike counts, used as logits (an option for the fusion loss Lm):
    ///
    ///     L = (1/B) · Σ_b −log p[b, y_b],   p[b, ·] = softmax(n[b, ·]),   n[b, c] = Σ_t o[t, b, c]
    ///
    /// `dL/do[t, b, c] = (p[b, c] − Y[b, c]) / B` for every t. Unlike the rate MSE it asks only
    /// that the right class out-fire the others, not that every rate match a one-hot target:
    /// once the right class leads by a few spikes the gradient vanishes.
    /// spikes [T, B, C], labels [B] → (loss, gradient dL/d(spikes) [T, B, C]); `meanOver` as in `mseLoss`.
    public static func countCrossEntropyLoss(spikes: Tensor, labels: [Int], meanOver: Int? = nil) -> (loss: Float, gradient: Tensor) {
        precondition(spikes.rank == 3, "countCrossEntropyLoss: spikes must be [T, B, C], got \(spikes.shape)")
        let batch = spikes.shape[1], classes = spikes.shape[2]
        precondition(labels.count == batch, "countCrossEntropyLoss: \(labels.count) labels for batch \(batch)")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "countCrossEntropyLoss: label outside 0..<\(classes)")
        let mean = meanOver ?? batch
        precondition(mean >= batch, "countCrossEntropyLoss: mean over \(mean) samples, fewer than the batch's \(batch)")
        let counts = spikeCounts(spikes)
        var loss = 0.0
        var perStepGrad = [Float](repeating: 0, count: batch * classes)
        for b in 0..<batch {
            let row = (0..<classes).map { Double(counts.scalars[b * classes + $0]) }
            let top = row.max() ?? 0
            let exps = row.map { exp($0 - top) }
            let total = exps.reduce(0, +)
            loss -= log(exps[labels[b]] / total)
            for c in 0..<classes {
                perStepGrad[b * classes + c] = Float((exps[c] / total - (labels[b] == c ? 1 : 0)) / Double(mean))
            }
        }
        return (batch == 0 ? 0 : Float(loss / Double(mean)), repeatedOverSteps(perStepGrad, shape: spikes.shape))
    }

    /// `[B·C]` → `[T, B, C]`: the same per-sample gradient at every timestep (both losses depend
    /// on the spikes only through their counts).
    private static func repeatedOverSteps(_ perStep: [Float], shape: [Int]) -> Tensor {
        let steps = shape[0], n = perStep.count
        return Tensor(shape: shape) { g, _ in
            perStep.withUnsafeBufferPointer { src in
                guard let base = src.baseAddress else { return }
                for t in 0..<steps { (g + t * n).update(from: base, count: n) }
            }
        }
    }

    /// [T, B, C] → [B, C]: number of spikes of each output neuron over all T steps.
    public static func spikeCounts(_ spikes: Tensor) -> Tensor {
        precondition(spikes.rank == 3, "spikeCounts: spikes must be [T, B, C], got \(spikes.shape)")
        let steps = spikes.shape[0], n = spikes.shape[1] * spikes.shape[2]
        var counts = [Float](repeating: 0, count: n)
        spikes.withPointer { o in
            for t in 0..<steps { for i in 0..<n { counts[i] += o[t * n + i] } }
        }
        return Tensor(shape: [spikes.shape[1], spikes.shape[2]], scalars: counts)
    }

    /// Argmax of the spike counts per sample, ties → the lowest class index.
    public static func predictions(_ spikes: Tensor) -> [Int] {
        predictions(counts: spikeCounts(spikes))
    }

    /// The same from spike counts `[B, C]` already summed over T (`spikeCounts`).
    public static func predictions(counts: Tensor) -> [Int] {
        let batch = counts.shape[0], classes = counts.shape[1]
        return (0..<batch).map { b in
            var best = 0
            for c in 1..<max(classes, 1) where counts.scalars[b * classes + c] > counts.scalars[b * classes + best] { best = c }
            return best
        }
    }
}
