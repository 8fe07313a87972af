import SpikeTensor

/// Dropout with one mask per sample, fixed over all time steps (the SNN practice: a neuron
/// dropped for a sample stays dropped for its whole spike train, so dropout does not turn into
/// input noise along time). Input and output `[T, B, …]`:
///
///     y[t, b, i] = x[t, b, i] · m[b, i],   m[b, i] = 0 with probability `rate`, else 1/(1 − rate)
///
/// in training (`savesForBackward`, the default); the identity in inference and streaming.
/// dL/dx = dL/dy · m. Sample b's mask comes from its seed `sampleSeeds[b]` (the trainer derives
/// one per run, epoch and dataset sample, so a mask does not depend on the batch, shard, worker
/// or rank a sample lands in) mixed with the layer's `salt`; without seeds, row b uses seed b.
public final class Dropout: Layer {
    /// The probability of dropping an element, in [0, 1).
    public let rate: Float
    /// Distinguishes this layer's masks from other dropout layers' for the same sample.
    let salt: UInt64
    public var needsInputGradient = true
    public var parameters: [Parameter] { [] }
    /// Training (true): masks are drawn and kept for backward; false: the identity.
    public var savesForBackward = true
    /// One seed per sample of the next training forward's batch, used by that forward only
    /// (then cleared: a later forward of another batch, e.g. the trainer's activity
    /// measurement, must not meet the seeds of the last training batch); empty: 0, 1, … by
    /// batch row.
    public var sampleSeeds: [UInt64] = []
    /// The last training forward's mask `[B, n]` (0 or 1/(1 − rate)); empty after an identity forward.
    private var mask: [Float] = []

    public init(rate: Float, salt: UInt64 = 0) {
        precondition(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        self.salt = salt
    }

    /// A salt for item `item` of branch `branch` (FNV-1a of the name, then the index).
    static func salt(branch: String, item: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in branch.utf8 { h = (h ^ UInt64(byte)) &* 0x0100_0000_01B3 }
        return (h ^ UInt64(item)) &* 0x0100_0000_01B3
    }

    /// The masks of `batch` samples of `n` elements: row b from `SeededGenerator(seed: seeds[b] ^ salt)`,
    /// one uniform draw per element in order, dropped where it is below `rate`.
    // → mask [B, n]
    static func masks(rate: Float, salt: UInt64, seeds: [UInt64], batch: Int, elements n: Int) -> [Float] {
        let keep = 1 / (1 - rate)
        var out = [Float](repeating: 0, count: batch * n)
        for b in 0..<batch {
            var rng = SeededGenerator(seed: (seeds.isEmpty ? UInt64(b) : seeds[b]) ^ salt)
            for i in 0..<n where rng.nextDouble() >= Double(rate) { out[b * n + i] = keep }
        }
        return out
    }

    /// Inference step: the identity.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep { IdentityStep(inputShape) }

    // x [T, B, …] → y [T, B, …]
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2, "Dropout: input must be [T, B, …], got \(input.shape)")
        guard savesForBackward, rate > 0 else { mask = []; return input }
        let batch = input.shape[1], n = input.elementsPerStep / max(batch, 1)
        precondition(sampleSeeds.isEmpty || sampleSeeds.count == batch,
                     "Dropout: \(sampleSeeds.count) sample seeds for a batch of \(batch)")
        mask = Self.masks(rate: rate, salt: salt, seeds: sampleSeeds, batch: batch, elements: n)
        sampleSeeds = []
        return Self.applyMask(mask, to: input)
    }

    // dL/dy [T, B, …] → dL/dx [T, B, …]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard needsInputGradient else { return emptyGradient }
        return mask.isEmpty ? gradOutput : Self.applyMask(mask, to: gradOutput)
    }

    /// x[t, b·n + i] · mask[b·n + i] for every t.
    // x [T, B·n], mask [B·n] → [T, B·n]
    static func applyMask(_ mask: [Float], to x: Tensor) -> Tensor {
        let steps = x.shape[0], perStep = mask.count
        precondition(x.elementsPerStep == perStep, "Dropout: \(x.shape) against a mask of \(perStep) per step")
        return Tensor(shape: x.shape) { out, _ in
            x.withPointer { src in
                mask.withUnsafeBufferPointer { m in
                    for t in 0..<steps {
                        let s = src + t * perStep, o = out + t * perStep
                        for i in 0..<perStep { o[i] = s[i] * m[i] }
                    }
                }
            }
        }
    }
}

/// A step that passes its input through unchanged (same shape).
final class IdentityStep: LayerStep {
    let outputShape: [Int]
    init(_ shape: [Int]) { outputShape = shape }
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> { input }
    func reset() {}
}
